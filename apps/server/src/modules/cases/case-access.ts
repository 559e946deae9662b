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

/** Who the actor is to a case: the input of the pure rules (`itemPermissions`). */
export interface CaseStanding {
  /** The node's operator (a system actor with the admin role): every act. */
  operator: boolean;
  /** A worker of the case's own party. */
  owner: boolean;
  /** Works on the case: its party, the parties it is shared with, its named people and assignees. */
  contributor: boolean;
  party: string | null;
}

/** An item of a case with a label of its own (an observable, a note, evidence). */
export interface LabelledItem {
  originParty: string;
  /** A read-only copy from another party's node (federation): changed there, never here. */
  mirrored: boolean;
}

export interface ItemPermissions {
  /** Change its comment, detection flag, first/last seen and tags. */
  edit: boolean;
  /** Narrow its label (the case's own party, or the party the item came from). */
  relabel: boolean;
  /** Relax its label (only the party the item came from). */
  relax: boolean;
  /** Remove it (as for narrowing: the case's own party, or the party the item came from). */
  delete: boolean;
}

/**
 * The rule for a case's items, as a pure function so that enforcement and the API's `can` never
 * disagree (`CaseAccess.requireMayRelabel`, `requireMayDelete`). Those who work on the case edit
 * what it holds; the case's own party and the item's own party narrow and remove it (a party the
 * case is shared with only its own contributions); only the item's own party relaxes it. A copy
 * from another node is read-only here.
 */
export function itemPermissions(standing: CaseStanding, item: LabelledItem): ItemPermissions {
  const works = standing.contributor && !item.mirrored;
  const own = standing.operator || standing.party === item.originParty;
  return {
    edit: works,
    relabel: works && (own || standing.owner),
    relax: works && own,
    delete: works && (own || standing.owner),
  };
}

export interface CasePermissions {
  /** Change its words, severity, PAP and assignees (its own party). */
  edit: boolean;
  /** Move its status (its own party, and its assignees). */
  changeStatus: boolean;
  /** Narrow or relax its label and audiences (its own party). */
  relabel: boolean;
  addNote: boolean;
  addTask: boolean;
  addObservable: boolean;
  addEvidence: boolean;
  addTimelineEntry: boolean;
  /** Download it as a STIX bundle or a MISP event: not RED, AMBER+STRICT only by its own party. */
  exportStix: boolean;
  exportMisp: boolean;
}

/**
 * What the actor may do with a case, as a pure function of their standing (the same rule
 * `CasesService` and the item services enforce through `CaseAccess`).
 */
export function casePermissions(
  standing: CaseStanding,
  facts: { assignee: boolean; passableOnward: boolean },
): CasePermissions {
  const adds = standing.contributor;
  return {
    edit: standing.owner,
    changeStatus: standing.owner || facts.assignee,
    relabel: standing.owner,
    addNote: adds,
    addTask: adds,
    addObservable: adds,
    addEvidence: adds,
    addTimelineEntry: adds,
    exportStix: facts.passableOnward,
    exportMisp: facts.passableOnward,
  };
}

/** What the actor may do with a task: its contributors change it; its assignee moves its status. */
export function taskPermissions(
  standing: CaseStanding,
  task: { assigneeId: string | null },
  actorId: string | null,
): { edit: boolean; changeStatus: boolean } {
  const assignee = actorId !== null && task.assigneeId === actorId;
  return { edit: standing.contributor, changeStatus: standing.contributor || assignee };
}

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

  /** The actor's standing on the case, for the pure rules below (`itemPermissions`). */
  get standing(): CaseStanding {
    return {
      operator: isOperator(this.ctx),
      owner: this.isOwner,
      contributor: this.isContributor,
      party: this.ctx.actor.party,
    };
  }

  /** What the actor may do with an item of the case (`can` of an observable or a note). */
  itemPermissions(item: LabelledItem): ItemPermissions {
    return itemPermissions(this.standing, item);
  }

  /** Refuses unless the actor may remove the item (`can.delete`). */
  requireMayDelete(item: LabelledItem, what: string) {
    this.requireContributor(`remove ${what}`);
    if (!itemPermissions(this.standing, item).delete) {
      throw forbidden(
        `only the case's own party or ${item.originParty}, which added ${what}, may remove it; a party the case is shared with removes only what it added itself`,
      );
    }
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
