import { type Insertable, sql, type Updateable } from 'kysely';
import {
  calendarFeedsServableFor,
  calendarFeedsVisibleTo,
  partyRosterVisibleTo,
  respondersVisibleTo,
  rotationsVisibleTo,
} from '../../access/policy.ts';
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

/**
 * A page of a user's calendar feeds, revoked ones too (so they see what they revoked): live ones
 * first, then newest first. `after` is the last row of the previous page.
 */
export async function feedsOf(
  db: Executor,
  userId: string,
  limit: number,
  after?: { revoked: number; createdAt: Date; id: string },
) {
  const revoked = sql<number>`(case when calendar_feeds.revoked_at is null then 0 else 1 end)`;
  let query = db
    .selectFrom('calendar_feeds')
    .selectAll()
    .select(revoked.as('revoked_rank'))
    .where('user_id', '=', userId);
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb(revoked, '>', after.revoked),
        eb.and([
          eb(revoked, '=', after.revoked),
          eb.or([
            eb('created_at', '<', after.createdAt),
            eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)]),
          ]),
        ]),
      ]),
    );
  }
  return query.orderBy(revoked).orderBy('created_at', 'desc').orderBy('id').limit(limit).execute();
}

/** Serialises feed creation per user (the cap counts their live feeds). */
export async function lockFeedOwner(trx: Tx, userId: string) {
  // NO KEY UPDATE: feeds take turns, while rows referring to the user (KEY SHARE) are not held up.
  return trx.selectFrom('users').select('id').where('id', '=', userId).forNoKeyUpdate().executeTakeFirst();
}

export async function liveFeedCount(db: Executor, userId: string) {
  const row = await db
    .selectFrom('calendar_feeds')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** A feed of this user (admins: anyone's), locked for revocation. */
export async function lockFeed(trx: Tx, viewer: Actor, id: string) {
  return trx
    .selectFrom('calendar_feeds')
    .selectAll()
    .where('id', '=', id)
    .where(calendarFeedsVisibleTo(viewer))
    .forUpdate()
    .executeTakeFirst();
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

/** A feed by its secret's hash, whatever its state, with its owner as they are now. */
export async function feedByHash(db: Executor, hash: string) {
  return db
    .selectFrom('calendar_feeds as f')
    .innerJoin('users as u', 'u.id', 'f.user_id')
    .select([
      'f.id',
      'f.kind',
      'f.target',
      'f.revoked_at',
      'f.last_used_at',
      'u.id as user_id',
      'u.name as user_name',
      'u.party_code as user_party',
      'u.roles as user_roles',
      'u.disabled_at as user_disabled_at',
    ])
    .where('f.token_hash', '=', hash)
    .executeTakeFirst();
}

/** Whether the feed may serve its owner's calendar now (the access policy's rule). */
export async function isServable(db: Executor, owner: Actor, id: string) {
  const row = await db
    .selectFrom('calendar_feeds')
    .select('id')
    .where('id', '=', id)
    .where(calendarFeedsServableFor(owner))
    .executeTakeFirst();
  return row !== undefined;
}

export async function touchFeed(db: Executor, id: string, at: Date) {
  await db.updateTable('calendar_feeds').set({ last_used_at: at }).where('id', '=', id).execute();
}

export async function updateRotation(trx: Tx, id: string, changes: Updateable<DutyRotationsTable>) {
  return trx
    .updateTable('duty_rotations')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

// --- the duty board: every party the viewer may see, in a fixed number of queries ------------------

/**
 * The parties whose roster the viewer may see that keep responders or rotations, and the viewer's
 * own party; with how many rotations each keeps.
 */
export async function boardParties(db: Executor, viewer: Actor) {
  return db
    .selectFrom('parties')
    .select(['parties.code', 'parties.name'])
    .select((eb) =>
      eb
        .selectFrom('duty_rotations')
        .select((sub) => sub.fn.countAll<number>().as('n'))
        .whereRef('duty_rotations.party_code', '=', 'parties.code')
        .as('rotations'),
    )
    .where(partyRosterVisibleTo(viewer))
    .where((eb) =>
      eb.or([
        eb.exists(
          eb
            .selectFrom('duty_rotations')
            .select('id')
            .whereRef('duty_rotations.party_code', '=', 'parties.code'),
        ),
        eb.exists(
          eb.selectFrom('responders').select('id').whereRef('responders.party_code', '=', 'parties.code'),
        ),
        ...(viewer.party ? [eb('parties.code', '=', viewer.party)] : []),
      ]),
    )
    .orderBy('parties.code')
    .execute();
}

/** Every rotation of these parties. */
export async function rotationsOfParties(db: Executor, parties: readonly string[]) {
  if (parties.length === 0) return [];
  return db
    .selectFrom('duty_rotations')
    .selectAll()
    .where('party_code', 'in', [...parties])
    .orderBy('party_code')
    .orderBy('name')
    .orderBy('id')
    .execute();
}

/** How to reach responders: their base and the user who is them. */
export async function responderContacts(db: Executor, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('responders')
    .leftJoin('users', 'users.id', 'responders.user_id')
    .select(['responders.id', 'responders.base', 'users.name as user_name'])
    .where('responders.id', 'in', [...new Set(ids)])
    .execute();
}

/** The enabled points of contact of these parties, to escalate to. */
export async function pocsOf(db: Executor, parties: readonly string[]) {
  if (parties.length === 0) return [];
  return db
    .selectFrom('users')
    .select(['id', 'name', 'party_code'])
    .where('party_code', 'in', [...parties])
    .where(sql<boolean>`'poc' = any(roles)`)
    .where('disabled_at', 'is', null)
    .orderBy('name')
    .execute();
}

/** Codes of every party (what an admin keeps). */
export async function partyCodes(db: Executor) {
  return (await db.selectFrom('parties').select('code').orderBy('code').execute()).map((p) => p.code);
}
