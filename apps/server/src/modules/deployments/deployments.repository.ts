import type { Insertable, Updateable } from 'kysely';
import { deploymentsVisibleTo } from '../../access/policy.ts';
import type { Actor } from '../../context.ts';
import type { DeploymentMembersTable, DeploymentsTable } from '../../platform/db/schema.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';

/** A member who still counts: awaiting their home state, or released by it. */
export const BOOKED_MEMBER = ['pending', 'released'];
/** A deployment that no longer books anyone. */
export const OVER = ['stood_down', 'cancelled'];

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
    .forNoKeyUpdate()
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

/** Whether the deployment's request is an exercise: marked wherever the deployment shows. */
export async function isExercise(db: Executor, requestId: string) {
  const row = await db
    .selectFrom('requests')
    .select('exercise')
    .where('id', '=', requestId)
    .executeTakeFirst();
  return row?.exercise ?? false;
}

/**
 * The members of a deployment with their name and skills, the user linked to each (to tell the
 * viewer's own place) and whether their pass is revoked here: one query for the whole team.
 */
export async function members(db: Executor, deploymentId: string) {
  return db
    .selectFrom('deployment_members as m')
    .innerJoin('responders as r', 'r.id', 'm.responder_id')
    .selectAll('m')
    .select(['r.name', 'r.skills', 'r.user_id'])
    .select((eb) =>
      eb
        .exists(
          eb.selectFrom('pass_revocations as v').select('v.pass_id').whereRef('v.pass_id', '=', 'm.pass_id'),
        )
        .$castTo<boolean>()
        .as('pass_revoked'),
    )
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
/** The deployment's status, held against a concurrent move (a stand-down) until commit. */
export async function shareLockDeployment(trx: Tx, id: string) {
  return trx.selectFrom('deployments').select('status').where('id', '=', id).forShare().executeTakeFirst();
}

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

/** The request's deployment under way (not stood down nor cancelled), locked. */
export async function lockLiveDeploymentOf(trx: Tx, requestId: string) {
  return trx
    .selectFrom('deployments')
    .selectAll()
    .where('request_id', '=', requestId)
    .where('status', 'not in', OVER)
    .forNoKeyUpdate()
    .executeTakeFirst();
}

/**
 * Locks these responders' rows, in one order, for the rest of the transaction: two adoptions that
 * share a person run one after the other, so the second sees the first's booking.
 */
export async function lockResponders(trx: Tx, ids: readonly string[]) {
  if (ids.length === 0) return;
  await trx
    .selectFrom('responders')
    .select('id')
    .where('id', 'in', [...ids])
    .orderBy('id')
    .forUpdate()
    .execute();
}

/** Other deployments that book any of these responders over the window, with their request. */
export async function bookingsOverlapping(
  db: Executor,
  responderIds: readonly string[],
  from: Date,
  to: Date,
  exceptRequestId: string,
) {
  if (responderIds.length === 0) return [];
  return db
    .selectFrom('deployment_members as m')
    .innerJoin('deployments as d', 'd.id', 'm.deployment_id')
    .select([
      'm.responder_id',
      'd.id as deployment_id',
      'd.request_id',
      'd.status',
      'd.window_from',
      'd.window_to',
    ])
    .where('m.responder_id', 'in', [...responderIds])
    .where('m.status', 'in', BOOKED_MEMBER)
    .where('d.status', 'not in', OVER)
    .where('d.window_from', '<', to)
    .where('d.window_to', '>', from)
    .where('d.request_id', '<>', exceptRequestId)
    .orderBy('d.window_from')
    .execute();
}

/** Leave and other unavailability of these responders overlapping the window. */
export async function unavailabilityOverlapping(
  db: Executor,
  responderIds: readonly string[],
  from: Date,
  to: Date,
) {
  if (responderIds.length === 0) return [];
  return db
    .selectFrom('responder_unavailability')
    .select(['responder_id', 'kind', 'starts_at', 'ends_at'])
    .where('responder_id', 'in', [...responderIds])
    .where('starts_at', '<', to)
    .where('ends_at', '>', from)
    .orderBy('starts_at')
    .execute();
}

/** Members of a deployment whose pass was issued and is not yet on the revocation list. */
export async function unrevokedPasses(db: Executor, deploymentId: string) {
  return db
    .selectFrom('deployment_members as m')
    .select(['m.responder_id', 'm.party_code', 'm.pass_id'])
    .where('m.deployment_id', '=', deploymentId)
    .where('m.pass_id', 'is not', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb.selectFrom('pass_revocations as v').select('v.pass_id').whereRef('v.pass_id', '=', 'm.pass_id'),
        ),
      ),
    )
    .orderBy('m.responder_id')
    .execute();
}

// --- the federated loop (loop/deployment.doc.ts, passes/mirrored-pass.ts) ----------------------

/** This node's own deployments among `ids` that the viewer may see. */
export async function ownDeploymentsVisibleTo(db: Executor, viewer: Actor, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('deployments')
    .selectAll()
    .where('id', 'in', [...ids])
    .where('mirrored_from', 'is', null)
    .where(deploymentsVisibleTo(viewer))
    .execute();
}

/** The deployment rows with these ids held here (own or copies). */
export async function deploymentsByIds(db: Executor, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('deployments')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

/**
 * Inserts `party`'s copy of a deployment, or updates the copy held from `party` if `row` is newer.
 * Returns whether it was written.
 */
export async function upsertDeploymentCopy(trx: Tx, row: Insertable<DeploymentsTable>, party: string) {
  const { id: _id, created_by: _by, ...changes } = row;
  const written = await trx
    .insertInto('deployments')
    .values({ ...row, mirrored_from: party })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({ ...changes, mirrored_from: party })
        .where('deployments.mirrored_from', '=', party)
        .where('deployments.mirror_version', '<', row.mirror_version ?? 0),
    )
    .returning('id')
    .executeTakeFirst();
  return written !== undefined;
}

/** The members of a deployment as stored (no join): their status, for what changed. */
export async function memberRows(db: Executor, deploymentId: string) {
  return db.selectFrom('deployment_members').selectAll().where('deployment_id', '=', deploymentId).execute();
}

/** A copied deployment's members, replaced by its origin's. */
export async function replaceCopyMembers(
  trx: Tx,
  deploymentId: string,
  rows: Insertable<DeploymentMembersTable>[],
) {
  await trx.deleteFrom('deployment_members').where('deployment_id', '=', deploymentId).execute();
  await insertMembers(trx, rows);
}

/**
 * Removes `party`'s copy of a deployment and its members. A copy a case of this node refers to is
 * kept (the case keeps its link), its members gone. Returns whether anything went.
 */
export async function deleteDeploymentCopy(trx: Tx, id: string, party: string) {
  const copy = await trx
    .selectFrom('deployments')
    .select('id')
    .where('id', '=', id)
    .where('mirrored_from', '=', party)
    .executeTakeFirst();
  if (!copy) return false;
  await trx.deleteFrom('deployment_members').where('deployment_id', '=', id).execute();
  const referenced = await trx
    .selectFrom('cases')
    .select('id')
    .where('deployment_id', '=', id)
    .limit(1)
    .executeTakeFirst();
  if (!referenced) await trx.deleteFrom('deployments').where('id', '=', id).execute();
  return true;
}

/** A copied member's pass as its origin signed it, with the deployment's origin and window. */
export async function copiedPass(db: Executor, deploymentId: string, responderId: string) {
  return db
    .selectFrom('deployment_members as m')
    .innerJoin('deployments as d', 'd.id', 'm.deployment_id')
    .select(['m.pass_token', 'm.status', 'd.mirrored_from', 'd.window_to'])
    .where('m.deployment_id', '=', deploymentId)
    .where('m.responder_id', '=', responderId)
    .executeTakeFirst();
}

/** The request a deployment serves, when this node holds it (its own or a copy). */
export async function heldRequest(db: Executor, requestId: string) {
  return db.selectFrom('requests').selectAll().where('id', '=', requestId).executeTakeFirst();
}
