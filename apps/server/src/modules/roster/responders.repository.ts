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
