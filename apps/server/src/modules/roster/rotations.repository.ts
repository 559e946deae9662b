import type { Insertable } from 'kysely';
import { partyRosterVisibleTo, respondersVisibleTo, rotationsVisibleTo } from '../../access/policy.ts';
import type { Actor } from '../../context.ts';
import type { CalendarFeedsTable, DutyRotationsTable } from '../../platform/db/schema.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';

/** The party, if it exists and the viewer may see its roster. */
export async function findVisibleParty(db: Executor, viewer: Actor, code: string) {
  return db
    .selectFrom('parties')
    .select('code')
    .where('code', '=', code)
    .where(partyRosterVisibleTo(viewer))
    .executeTakeFirst();
}

/** Serialises rotation changes of one party (the overlap check reads the party's other rotations). */
export async function lockParty(trx: Tx, code: string) {
  // NO KEY UPDATE: rotation changes still take turns, while rows referring to the party (whose
  // foreign-key checks take KEY SHARE) are not held up.
  return trx
    .selectFrom('parties')
    .select('code')
    .where('code', '=', code)
    .forNoKeyUpdate()
    .executeTakeFirst();
}

export async function insertRotation(trx: Tx, row: Insertable<DutyRotationsTable>) {
  return trx.insertInto('duty_rotations').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findVisible(db: Executor, viewer: Actor, id: string) {
  return db
    .selectFrom('duty_rotations')
    .selectAll()
    .where('id', '=', id)
    .where(rotationsVisibleTo(viewer))
    .executeTakeFirst();
}

export async function lockVisible(trx: Tx, viewer: Actor, id: string) {
  return trx
    .selectFrom('duty_rotations')
    .selectAll()
    .where('id', '=', id)
    .where(rotationsVisibleTo(viewer))
    .forUpdate()
    .executeTakeFirst();
}

export async function deleteRotation(trx: Tx, id: string) {
  await trx.deleteFrom('duty_rotations').where('id', '=', id).execute();
}

export async function listVisible(db: Executor, viewer: Actor, party?: string) {
  let query = db.selectFrom('duty_rotations').selectAll().where(rotationsVisibleTo(viewer));
  if (party) query = query.where('party_code', '=', party);
  return query.orderBy('party_code').orderBy('name').orderBy('id').limit(1000).execute();
}

/** Every rotation of a party, for internal use (duty lookups by other services, overlap checks). */
export async function listOfParty(db: Executor, party: string) {
  return db
    .selectFrom('duty_rotations')
    .selectAll()
    .where('party_code', '=', party)
    .orderBy('name')
    .orderBy('id')
    .execute();
}

/** The responders among `ids` the viewer may see, with their party. */
export async function visibleResponders(db: Executor, viewer: Actor, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('responders')
    .select(['id', 'party_code', 'name'])
    .where('id', 'in', [...new Set(ids)])
    .where(respondersVisibleTo(viewer))
    .execute();
}

/** Names of responders by id, for presenting shifts of rotations the caller may already see. */
export async function responderNames(db: Executor, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('responders')
    .select(['id', 'name'])
    .where('id', 'in', [...new Set(ids)])
    .execute();
}

export async function findVisibleResponder(db: Executor, viewer: Actor, id: string) {
  return db
    .selectFrom('responders')
    .select(['id', 'party_code', 'name'])
    .where('id', '=', id)
    .where(respondersVisibleTo(viewer))
    .executeTakeFirst();
}

/** Leave and unavailability of these responders that overlaps [from, to). */
export async function unavailabilityBetween(db: Executor, ids: readonly string[], from: Date, to: Date) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('responder_unavailability')
    .selectAll()
    .where('responder_id', 'in', [...new Set(ids)])
    .where('starts_at', '<', to)
    .where('ends_at', '>', from)
    .orderBy('starts_at')
    .execute();
}

export async function insertFeed(trx: Tx, row: Insertable<CalendarFeedsTable>) {
  return trx.insertInto('calendar_feeds').values(row).returningAll().executeTakeFirstOrThrow();
}

/** A user's calendar feeds, newest first, revoked ones too (so they see what they revoked). */
export async function feedsOf(db: Executor, userId: string) {
  return db
    .selectFrom('calendar_feeds')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(500)
    .execute();
}

/** A feed of this user (admins: anyone's), locked for revocation. */
export async function lockFeed(trx: Tx, viewer: Actor, id: string) {
  let query = trx.selectFrom('calendar_feeds').selectAll().where('id', '=', id);
  if (!viewer.roles.includes('admin')) query = query.where('user_id', '=', viewer.id ?? '');
  return query.forUpdate().executeTakeFirst();
}

export async function revokeFeed(trx: Tx, id: string, at: Date) {
  return trx
    .updateTable('calendar_feeds')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** A live feed by its secret's hash, with its user as they are now; none if revoked or disabled. */
export async function liveFeedByHash(db: Executor, hash: string) {
  return db
    .selectFrom('calendar_feeds as f')
    .innerJoin('users as u', 'u.id', 'f.user_id')
    .select([
      'f.id',
      'f.kind',
      'f.target',
      'f.last_used_at',
      'u.id as user_id',
      'u.name as user_name',
      'u.party_code as user_party',
      'u.roles as user_roles',
    ])
    .where('f.token_hash', '=', hash)
    .where('f.revoked_at', 'is', null)
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
}

export async function touchFeed(db: Executor, id: string, at: Date) {
  await db.updateTable('calendar_feeds').set({ last_used_at: at }).where('id', '=', id).execute();
}
