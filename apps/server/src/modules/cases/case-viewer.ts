import { type CaseViewer, COMMUNITY_STATUSES } from '../../access/policy.ts';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import { utcDay } from '../../platform/days.ts';
import type { Executor } from '../../platform/db/transaction.ts';
import * as parties from '../parties/parties.repository.ts';

/** The viewer of cases and indicators: whether their party is in the community is read today. */
export async function caseViewerOf(db: Executor, clock: Clock, ctx: Ctx): Promise<CaseViewer> {
  const { actor } = ctx;
  if (!actor.party) return { actor, community: false };
  const [status] = await parties.statusesOn(db, utcDay(clock.now()), actor.party);
  const community = status !== undefined && (COMMUNITY_STATUSES as readonly string[]).includes(status.status);
  return { actor, community };
}
