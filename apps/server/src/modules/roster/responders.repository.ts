import type { Insertable, Updateable } from 'kysely';
import { respondersVisibleTo } from '../../access/policy.ts';
import type { Actor } from '../../context.ts';
import type { RespondersTable, ResponderUnavailabilityTable } from '../../platform/db/schema.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';

export async function insertResponder(trx: Tx, row: Insertable<RespondersTable>) {
  return trx.insertInto('responders').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findVisible(db: Executor, viewer: Actor, id: string) {
  return db
    .selectFrom('responders')
    .selectAll()
    .where('id', '=', id)
    .where(respondersVisibleTo(viewer))
    .executeTakeFirst();
}

export async function lockVisible(trx: Tx, viewer: Actor, id: string) {
  return trx
    .selectFrom('responders')
    .selectAll()
    .where('id', '=', id)
    .where(respondersVisibleTo(viewer))
    .forUpdate()
    .executeTakeFirst();
}

export async function updateResponder(trx: Tx, id: string, changes: Updateable<RespondersTable>) {
  return trx
    .updateTable('responders')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface ResponderFilter {
  party?: string | undefined;
  skill?: string | undefined;
}

function filtered(db: Executor, viewer: Actor, filter: ResponderFilter) {
  let query = db.selectFrom('responders').where(respondersVisibleTo(viewer));
  if (filter.party) query = query.where('responders.party_code', '=', filter.party);
  if (filter.skill) {
    query = query.where((eb) =>
      eb('responders.skills', '@>', JSON.stringify([{ skill: filter.skill }]) as never),
    );
  }
  return query;
}

export async function listVisible(
  db: Executor,
  viewer: Actor,
  filter: ResponderFilter,
  after: { name: string; id: string } | null,
  limit: number,
) {
  let query = filtered(db, viewer, filter).selectAll('responders');
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('responders.name', '>', after.name),
        eb.and([eb('responders.name', '=', after.name), eb('responders.id', '>', after.id)]),
      ]),
    );
  }
  return query.orderBy('responders.name').orderBy('responders.id').limit(limit).execute();
}

export async function countVisible(db: Executor, viewer: Actor, filter: ResponderFilter) {
  const row = await filtered(db, viewer, filter)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function unavailability(db: Executor, responderIds: readonly string[]) {
  if (responderIds.length === 0) return [];
  return db
    .selectFrom('responder_unavailability')
    .selectAll()
    .where('responder_id', 'in', [...responderIds])
    .orderBy('starts_at')
    .execute();
}

export async function replaceUnavailability(
  trx: Tx,
  responderId: string,
  rows: Insertable<ResponderUnavailabilityTable>[],
) {
  await trx.deleteFrom('responder_unavailability').where('responder_id', '=', responderId).execute();
  if (rows.length > 0) await trx.insertInto('responder_unavailability').values(rows).execute();
}

export async function userParty(db: Executor, userId: string) {
  return db.selectFrom('users').select(['id', 'party_code']).where('id', '=', userId).executeTakeFirst();
}

/** The responder a user is (other than `except`), if any. */
export async function responderOfUser(db: Executor, userId: string, except: string | null) {
  return db
    .selectFrom('responders')
    .select('id')
    .where('user_id', '=', userId)
    .$if(except !== null, (q) => q.where('id', '<>', except!))
    .executeTakeFirst();
}

// --- the federated roster (loop/responder.doc.ts) -------------------------------------------------

/** This node's own responders of `party` among `ids`, with their leave. */
export async function ownResponders(db: Executor, ids: readonly string[], party: string) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('responders')
    .selectAll()
    .where('id', 'in', [...ids])
    .where('mirrored_from', 'is', null)
    .where('party_code', '=', party)
    .execute();
}

/**
 * Which of these responders are proposed (a pending or released member) on a deployment held on
 * this node, its own or a copy; only those whose host is `hostParty` when it is given.
 */
export async function proposedOnHeldDeployments(
  db: Executor,
  ids: readonly string[],
  hostParty: string | null,
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom('deployment_members as m')
    .innerJoin('deployments as d', 'd.id', 'm.deployment_id')
    .select('m.responder_id')
    .distinct()
    .where('m.responder_id', 'in', [...ids])
    .where('m.status', 'in', ['pending', 'released'])
    .$if(hostParty !== null, (q) => q.where('d.host_party', '=', hostParty!))
    .execute();
  return new Set(rows.map((r) => r.responder_id));
}

/** Who holds each of these responder ids here: null for this node's own, else the copy's origin. */
export async function responderOwners(db: Executor, ids: readonly string[]) {
  if (ids.length === 0) return new Map<string, string | null>();
  const rows = await db
    .selectFrom('responders')
    .select(['id', 'mirrored_from'])
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, r.mirrored_from]));
}

/**
 * Inserts `party`'s copy of a responder, or updates the copy this node holds from `party` if `row`
 * is newer. Returns whether it was written (false: stale, or the id is not `party`'s).
 */
export async function upsertResponderCopy(trx: Tx, row: Insertable<RespondersTable>, party: string) {
  const { id: _id, created_at: _at, created_by: _by, version: _version, ...changes } = row;
  const written = await trx
    .insertInto('responders')
    .values({ ...row, mirrored_from: party })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet((eb) => ({
          ...changes,
          mirrored_from: party,
          version: eb('responders.version', '+', 1),
        }))
        .where('responders.mirrored_from', '=', party)
        .where((eb) =>
          eb.or([
            eb('responders.mirror_version', 'is', null),
            eb('responders.mirror_version', '<', row.mirror_version ?? 0),
          ]),
        ),
    )
    .returning('id')
    .executeTakeFirst();
  return written !== undefined;
}

/** Stand-ins for responders a copied deployment names and this node does not hold (kept if held). */
export async function insertResponderPlaceholders(trx: Tx, rows: Insertable<RespondersTable>[]) {
  if (rows.length === 0) return;
  await trx
    .insertInto('responders')
    .values(rows)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/**
 * Removes `party`'s copy of a responder; one a deployment member still refers to is kept, renamed
 * `pseudonym`. Returns whether the copy went or changed.
 */
export async function retractResponderCopy(trx: Tx, id: string, party: string, pseudonym: string) {
  const referenced = await trx
    .selectFrom('deployment_members')
    .select('responder_id')
    .where('responder_id', '=', id)
    .limit(1)
    .executeTakeFirst();
  if (referenced) {
    const renamed = await trx
      .updateTable('responders')
      .set((eb) => ({ name: pseudonym, version: eb('version', '+', 1) }))
      .where('id', '=', id)
      .where('mirrored_from', '=', party)
      .where('name', '<>', pseudonym)
      .executeTakeFirst();
    return Number(renamed.numUpdatedRows) > 0;
  }
  const copy = await trx
    .selectFrom('responders')
    .select('id')
    .where('id', '=', id)
    .where('mirrored_from', '=', party)
    .executeTakeFirst();
  if (!copy) return false;
  await trx.deleteFrom('responder_unavailability').where('responder_id', '=', id).execute();
  await trx.deleteFrom('responders').where('id', '=', id).execute();
  return true;
}
