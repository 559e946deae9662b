import { sql } from 'kysely';
import { tokensVisibleTo, usersVisibleTo } from '../../access/policy.ts';
import type { Actor } from '../../context.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';

/** Processes that cache authenticated tokens hear here that a token or user changed (at commit). */
export const CREDENTIALS_CHANNEL = 'vytis_credentials';

export async function announceCredentialChange(db: Executor) {
  await sql`select pg_notify(${CREDENTIALS_CHANNEL}, '')`.execute(db);
}

export async function findUserById(db: Executor, id: string) {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findUserByName(db: Executor, name: string) {
  return db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function findVisibleUser(db: Executor, viewer: Actor, id: string) {
  return db
    .selectFrom('users')
    .selectAll()
    .where('id', '=', id)
    .where(usersVisibleTo(viewer))
    .executeTakeFirst();
}

export async function listVisibleUsers(
  db: Executor,
  viewer: Actor,
  opts: { party?: string | undefined; afterName?: string | undefined; limit: number },
) {
  let query = db.selectFrom('users').selectAll().where(usersVisibleTo(viewer));
  if (opts.party) query = query.where('party_code', '=', opts.party);
  if (opts.afterName) query = query.where('name', '>', opts.afterName);
  return query.orderBy('name').limit(opts.limit).execute();
}

export async function insertUser(
  db: Executor,
  row: {
    id: string;
    name: string;
    party_code: string;
    roles: string[];
    password_hash: string | null;
    created_at: Date;
  },
) {
  return db
    .insertInto('users')
    .values({ ...row, version: 1 })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertToken(
  db: Executor,
  row: {
    id: string;
    user_id: string;
    token_hash: string;
    label: string | null;
    created_at: Date;
    expires_at: Date;
  },
) {
  return db.insertInto('api_tokens').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findActiveTokenUser(db: Executor, tokenHash: string, now: Date) {
  return db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .select([
      'api_tokens.id as token_id',
      'api_tokens.last_used_at',
      'api_tokens.expires_at',
      'users.id',
      'users.name',
      'users.party_code',
      'users.roles',
      sql<boolean>`users.mfa_secret is not null`.as('has_mfa'),
    ])
    .where('api_tokens.token_hash', '=', tokenHash)
    .where('api_tokens.revoked_at', 'is', null)
    .where('api_tokens.expires_at', '>', now)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
}

/** Records use at most once a minute per token, so reads do not each cost a write. */
export async function touchToken(db: Executor, tokenId: string, now: Date) {
  await db
    .updateTable('api_tokens')
    .set({ last_used_at: now })
    .where('id', '=', tokenId)
    .where((eb) =>
      eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(now.getTime() - 60_000))]),
    )
    .execute();
}

export async function listTokens(db: Executor, userId: string) {
  return db
    .selectFrom('api_tokens')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .execute();
}

export async function findVisibleToken(db: Executor, viewer: Actor, id: string) {
  return db
    .selectFrom('api_tokens')
    .selectAll()
    .where('id', '=', id)
    .where(tokensVisibleTo(viewer))
    .executeTakeFirst();
}

export async function revokeToken(db: Executor, id: string, now: Date) {
  await announceCredentialChange(db);
  return db
    .updateTable('api_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

export async function insertSession(
  db: Executor,
  row: {
    id: string;
    user_id: string;
    token_hash: string;
    csrf_token: string;
    created_at: Date;
    expires_at: Date;
  },
) {
  return db.insertInto('sessions').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findActiveSessionUser(db: Executor, tokenHash: string, now: Date) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id as session_id',
      'sessions.csrf_token',
      'sessions.expires_at',
      'users.id',
      'users.name',
      'users.party_code',
      'users.roles',
      sql<boolean>`users.mfa_secret is not null`.as('has_mfa'),
    ])
    .where('sessions.token_hash', '=', tokenHash)
    .where('sessions.revoked_at', 'is', null)
    .where('sessions.expires_at', '>', now)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
}

export async function revokeSession(db: Executor, id: string, now: Date) {
  await db.updateTable('sessions').set({ revoked_at: now }).where('id', '=', id).execute();
}

/** The user row, locked for the rest of the transaction, if the viewer may see it. */
export async function lockVisibleUser(db: Executor, viewer: Actor, id: string) {
  return db
    .selectFrom('users')
    .selectAll()
    .where('id', '=', id)
    .where(usersVisibleTo(viewer))
    .forNoKeyUpdate()
    .executeTakeFirst();
}

/**
 * The user's row as it is now, locked shared until the transaction ends: a change to the account
 * (a reset, a disable), which locks it for a change, waits for what this transaction issues, and
 * one that came first is seen here.
 */
export async function shareLockUser(trx: Tx, id: string) {
  return trx.selectFrom('users').selectAll().where('id', '=', id).forShare().executeTakeFirst();
}

export async function lockUserById(db: Executor, id: string) {
  return db.selectFrom('users').selectAll().where('id', '=', id).forNoKeyUpdate().executeTakeFirst();
}

export async function updateUser(
  db: Executor,
  id: string,
  changes: { disabled_at?: Date | null; roles?: string[]; password_hash?: string },
) {
  await announceCredentialChange(db);
  return db
    .updateTable('users')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Any number identifies this lock; it only has to differ from the other advisory locks' keys. */
const ACTIVE_ADMINS_LOCK = 72_750_601;

/**
 * How many enabled admins there are besides `exceptId`. Changes that could remove an admin take
 * turns on one advisory lock, so two admins demoting each other at once cannot leave none.
 */
export async function otherActiveAdmins(trx: Tx, exceptId: string): Promise<number> {
  await sql`select pg_advisory_xact_lock(${ACTIVE_ADMINS_LOCK})`.execute(trx);
  const row = await trx
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('disabled_at', 'is', null)
    .where(sql<boolean>`'admin' = any(roles)`)
    .where('id', '<>', exceptId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function revokeUserSessions(db: Executor, userId: string, now: Date, keepSessionId?: string) {
  let query = db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now);
  if (keepSessionId) query = query.where('id', '<>', keepSessionId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function revokeUserTokens(db: Executor, userId: string, now: Date) {
  await announceCredentialChange(db);
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
