import type { CaseViewer } from '../../access/policy.ts';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import { utcDay } from '../../platform/days.ts';

/** The viewer of cases and indicators: their party's place in the community is read on this UTC day. */
export function caseViewerOf(clock: Clock, ctx: Ctx): CaseViewer {
  return { actor: ctx.actor, day: utcDay(clock.now()) };
}
