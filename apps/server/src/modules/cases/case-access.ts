import type { Role, Tlp } from '@vytis/contracts';
import { type Ctx, hasRole } from '../../context.ts';
import { forbidden } from '../../errors.ts';
import type { Executor } from '../../platform/db/transaction.ts';
import * as repo from './cases.repository.ts';

/** The roles that work cases: add to them, and (for the owner party) run them. */
export const CASE_WORKERS: readonly Role[] = ['analyst', 'responder', 'coordinator', 'poc'];

/** How strict each TLP label is: narrowing goes up, relaxing goes down. */
export const TLP_STRICTNESS: Record<Tlp, number> = {
  clear: 0,
  green: 1,
  amber: 2,
  'amber+strict': 3,
  red: 4,
};
export const isRelaxing = (from: Tlp, to: Tlp) => TLP_STRICTNESS[to] < TLP_STRICTNESS[from];

const isOperator = (ctx: Ctx) => ctx.actor.type === 'system' && hasRole(ctx.actor, 'admin');

/**
 * What the actor may do with a case they can see. Everyone who sees it reads it; those who work on
 * it — workers of the owner party or of a party it is shared with, its named people and its
 * assignees — add tasks, notes, observables and evidence. Only workers of the owner party (the
 * originating party) change the case itself and its sharing, narrowing or relaxing it. An item's
 * label is narrowed by workers of the owner party or of the party the item came from (a party it
 * is shared with narrows only its own contributions), and relaxed only by the party it came from.
 * A narrowing never takes an object from its own party: the policy lets that party's PoCs and
 * coordinators read it whatever its label, so they can always relax it again.
 */
export class CaseAccess {
  private constructor(
    private readonly ctx: Ctx,
    readonly isOwner: boolean,
    readonly isContributor: boolean,
  ) {}

  static async of(db: Executor, ctx: Ctx, row: repo.CaseRow): Promise<CaseAccess> {
    if (isOperator(ctx)) return new CaseAccess(ctx, true, true);
    const { actor } = ctx;
    const worker = hasRole(actor, ...CASE_WORKERS);
    const owner = worker && actor.party === row.owner_party;
    if (owner) return new CaseAccess(ctx, true, true);
    if (!worker || !actor.id) return new CaseAccess(ctx, false, false);
    const contributor =
      row.created_by_id === actor.id ||
      (actor.party !== null && (await repo.partyShared(db, row.id, actor.party))) ||
      (await repo.isPerson(db, 'case_recipients', row.id, actor.id)) ||
      (await repo.isPerson(db, 'case_assignees', row.id, actor.id));
    return new CaseAccess(ctx, false, contributor);
  }

  requireContributor(what: string) {
    if (!this.isContributor) {
      throw forbidden(
        `you may read this case but not ${what}: that is for those who work on it (its party, the parties it is shared with, its named people and assignees)`,
      );
    }
  }

  requireOwner(what: string) {
    if (!this.isOwner) throw forbidden(`only the case's own party may ${what}`);
  }

  /**
   * An item's label: narrowed by the case's own party or by the party the item came from, relaxed
   * only by the party it came from.
   */
  requireMayRelabel(from: Tlp, to: Tlp, originParty: string, what: string) {
    this.requireContributor(`change the label of ${what}`);
    if (from === to || isOperator(this.ctx)) return;
    const ownContribution = this.ctx.actor.party === originParty;
    if (isRelaxing(from, to)) {
      if (!ownContribution) {
        throw forbidden(
          `only ${originParty}, which labelled ${what}, may relax it from ${from.toUpperCase()} to ${to.toUpperCase()}`,
        );
      }
      return;
    }
    if (!this.isOwner && !ownContribution) {
      throw forbidden(
        `only the case's own party or ${originParty}, which added ${what}, may narrow it; a party the case is shared with narrows only what it added itself`,
      );
    }
  }
}
