import type { Insertable, Updateable } from 'kysely';
import { deploymentsVisibleTo } from '../../access/policy.ts';
import type { Actor } from '../../context.ts';
import type {
  DeploymentMembersTable,
  DeploymentsTable,
  TeamProposalsTable,
} from '../../platform/db/schema.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';

const BUSY = ['pending', 'released'];
const OVER = ['stood_down', 'cancelled'];

/**
 * Every responder with what stands in their way for a window: leave or unavailability overlapping
 * it, another live deployment overlapping it, and their deployments in the last year (fairness).
 */
export async function rosterForWindow(
  db: Executor,
  from: Date,
  to: Date,
  yearAgo: Date,
  /** A deployment being re-solved: its own members are not busy elsewhere. */
  ownDeploymentId: string | null = null,
) {
  return db
    .selectFrom('responders as r')
    .selectAll('r')
    .select((eb) => [
      eb
        .exists(
          eb
            .selectFrom('responder_unavailability as u')
            .select('u.id')
            .whereRef('u.responder_id', '=', 'r.id')
            .where('u.starts_at', '<', to)
            .where('u.ends_at', '>', from),
        )
        .as('unavailable'),
      eb
        .exists(
          eb
            .selectFrom('deployment_members as m')
            .innerJoin('deployments as d', 'd.id', 'm.deployment_id')
            .select('m.responder_id')
            .whereRef('m.responder_id', '=', 'r.id')
            .where('m.status', 'in', BUSY)
            .where('d.status', 'not in', OVER)
            .where('d.window_from', '<', to)
            .where('d.window_to', '>', from)
            .$if(ownDeploymentId !== null, (q) => q.where('d.id', '<>', ownDeploymentId!)),
        )
        .as('busy'),
      eb
        .selectFrom('deployment_members as m')
        .innerJoin('deployments as d', 'd.id', 'm.deployment_id')
        .select((e) => e.fn.countAll<number>().as('n'))
        .whereRef('m.responder_id', '=', 'r.id')
        .where('m.status', '=', 'released')
        .where('d.created_at', '>', yearAgo)
        .as('recent'),
    ])
    .orderBy('r.id')
    .execute();
}

export async function insertProposal(trx: Tx, row: Insertable<TeamProposalsTable>) {
  return trx.insertInto('team_proposals').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findProposal(db: Executor, requestId: string, id: string) {
  return db
    .selectFrom('team_proposals')
    .selectAll()
    .where('id', '=', id)
    .where('request_id', '=', requestId)
    .executeTakeFirst();
}

export async function listProposals(db: Executor, requestId: string) {
  return db
    .selectFrom('team_proposals')
    .selectAll()
    .where('request_id', '=', requestId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
}

export async function supersedeProposals(trx: Tx, requestId: string) {
  await trx
    .updateTable('team_proposals')
    .set({ status: 'superseded' })
    .where('request_id', '=', requestId)
    .where('status', '=', 'proposed')
    .execute();
}

export async function setProposalStatus(trx: Tx, id: string, status: string) {
  await trx.updateTable('team_proposals').set({ status }).where('id', '=', id).execute();
}

export async function insertDeployment(trx: Tx, row: Insertable<DeploymentsTable>) {
  return trx.insertInto('deployments').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function insertMembers(trx: Tx, rows: Insertable<DeploymentMembersTable>[]) {
  if (rows.length > 0) await trx.insertInto('deployment_members').values(rows).execute();
}

export async function liveDeploymentOf(db: Executor, requestId: string) {
  return db
    .selectFrom('deployments')
    .selectAll()
    .where('request_id', '=', requestId)
    .where('status', 'not in', OVER)
    .executeTakeFirst();
}

export async function lockVisibleDeployment(trx: Tx, viewer: Actor, id: string) {
  return trx
    .selectFrom('deployments')
    .selectAll()
    .where('id', '=', id)
    .where(deploymentsVisibleTo(viewer))
    .forUpdate()
    .executeTakeFirst();
}

export async function findVisibleDeployment(db: Executor, viewer: Actor, id: string) {
  return db
    .selectFrom('deployments')
    .selectAll()
    .where('id', '=', id)
    .where(deploymentsVisibleTo(viewer))
    .executeTakeFirst();
}

export async function updateDeployment(trx: Tx, id: string, changes: Updateable<DeploymentsTable>) {
  return trx
    .updateTable('deployments')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function members(db: Executor, deploymentId: string) {
  return db
    .selectFrom('deployment_members as m')
    .innerJoin('responders as r', 'r.id', 'm.responder_id')
    .selectAll('m')
    .select(['r.name', 'r.skills'])
    .where('m.deployment_id', '=', deploymentId)
    .orderBy('m.party_code')
    .orderBy('r.name')
    .execute();
}

export async function updateMember(
  trx: Tx,
  deploymentId: string,
  responderId: string,
  changes: Updateable<DeploymentMembersTable>,
) {
  return trx
    .updateTable('deployment_members')
    .set(changes)
    .where('deployment_id', '=', deploymentId)
    .where('responder_id', '=', responderId)
    .returningAll()
    .executeTakeFirst();
}

/** Gives a member their pass id once; returns the id and time that stand (another request's, if it was first). */
export async function fixPass(trx: Tx, deploymentId: string, responderId: string, passId: string, at: Date) {
  const set = await trx
    .updateTable('deployment_members')
    .set({ pass_id: passId, pass_issued_at: at })
    .where('deployment_id', '=', deploymentId)
    .where('responder_id', '=', responderId)
    .where('pass_id', 'is', null)
    .returning(['pass_id', 'pass_issued_at'])
    .executeTakeFirst();
  const row =
    set ??
    (await trx
      .selectFrom('deployment_members')
      .select(['pass_id', 'pass_issued_at'])
      .where('deployment_id', '=', deploymentId)
      .where('responder_id', '=', responderId)
      .executeTakeFirstOrThrow());
  return { passId: row.pass_id!, issuedAt: row.pass_issued_at!, created: set !== undefined };
}

export async function declinedFor(db: Executor, requestId: string) {
  const rows = await db
    .selectFrom('deployment_members as m')
    .innerJoin('deployments as d', 'd.id', 'm.deployment_id')
    .select('m.responder_id')
    .where('d.request_id', '=', requestId)
    .where('m.status', '=', 'declined')
    .execute();
  return rows.map((r) => r.responder_id);
}

export async function insertRevocation(
  trx: Tx,
  row: {
    pass_id: string;
    deployment_id: string;
    responder_id: string;
    revoked_at: Date;
    revoked_by: string;
    reason: string | null;
  },
) {
  return trx
    .insertInto('pass_revocations')
    .values(row)
    .onConflict((oc) => oc.column('pass_id').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function revocations(db: Executor) {
  return db.selectFrom('pass_revocations').select(['pass_id', 'revoked_at']).orderBy('revoked_at').execute();
}

/** Deployments the viewer may see, newest first; of one request, or those a user is on. */
export async function listVisibleDeployments(
  db: Executor,
  viewer: Actor,
  filter: { requestId?: string | undefined; memberUserId?: string | undefined },
) {
  let query = db.selectFrom('deployments').selectAll('deployments').where(deploymentsVisibleTo(viewer));
  if (filter.requestId) query = query.where('deployments.request_id', '=', filter.requestId);
  if (filter.memberUserId) {
    const userId = filter.memberUserId;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('deployment_members as dm')
          .innerJoin('responders as r', 'r.id', 'dm.responder_id')
          .select('dm.responder_id')
          .whereRef('dm.deployment_id', '=', 'deployments.id')
          .where('r.user_id', '=', userId),
      ),
    );
  }
  return query.orderBy('deployments.created_at', 'desc').orderBy('deployments.id').limit(100).execute();
}

/** The user who is this responder, if one is linked. */
export async function userOfResponder(db: Executor, responderId: string) {
  const row = await db
    .selectFrom('responders')
    .select('user_id')
    .where('id', '=', responderId)
    .executeTakeFirst();
  return row?.user_id ?? null;
}
