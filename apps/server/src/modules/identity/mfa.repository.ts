import type { ExpressionBuilder } from 'kysely';
import type { Database } from '../../platform/db/schema.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';
import { announceCredentialChange, lockUserById } from './identity.repository.ts';

interface StoredSeeds {
  id: string;
  mfa_secret: string | null;
  mfa_pending_secret: string | null;
}

/** Users with a seed stored before seeds were sealed (a sealed one starts with its format's mark). */
export async function plainSeeds(db: Executor): Promise<StoredSeeds[]> {
  return db
    .selectFrom('users')
    .select(['id', 'mfa_secret', 'mfa_pending_secret'])
    .where((eb) =>
      eb.or([eb('mfa_secret', 'not like', 'sealed-v%'), eb('mfa_pending_secret', 'not like', 'sealed-v%')]),
    )
    .execute();
}

/** Replaces a user's seeds if they are still the ones read; 1 if it did. */
export async function replaceSeeds(
  db: Executor,
  read: StoredSeeds,
  seeds: Omit<StoredSeeds, 'id'>,
): Promise<number> {
  const result = await db
    .updateTable('users')
    .set(seeds)
    .where('id', '=', read.id)
    .where((eb) =>
      eb.and([
        read.mfa_secret === null ? eb('mfa_secret', 'is', null) : eb('mfa_secret', '=', read.mfa_secret),
        read.mfa_pending_secret === null
          ? eb('mfa_pending_secret', 'is', null)
          : eb('mfa_pending_secret', '=', read.mfa_pending_secret),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** A user row without a second factor or an enrolment under way. */
const withoutSecondFactor = (eb: ExpressionBuilder<Database, 'users'>) => ({
  mfa_secret: null,
  mfa_pending_secret: null,
  mfa_last_step: null,
  mfa_enabled_at: null,
  version: eb('version', '+', 1),
});

/**
 * Every user's second factor and enrolment, with their recovery codes, for a node whose sealing key
 * is lost (none of the seeds opens); the names of the users who had one.
 */
export async function removeAllSecondFactors(db: Executor): Promise<string[]> {
  await announceCredentialChange(db);
  const rows = await db
    .updateTable('users')
    .set(withoutSecondFactor)
    .where((eb) => eb.or([eb('mfa_secret', 'is not', null), eb('mfa_pending_secret', 'is not', null)]))
    .returning('name')
    .execute();
  await db.deleteFrom('user_recovery_codes').execute();
  return rows.map((row) => row.name).sort();
}

export async function setPendingSecret(db: Executor, userId: string, secret: string) {
  await db.updateTable('users').set({ mfa_pending_secret: secret }).where('id', '=', userId).execute();
}

/** The pending secret becomes the user's second factor, with its first code's step as used. */
export async function enableMfa(db: Executor, userId: string, secret: string, step: number, now: Date) {
  // Whether an account's tokens work depends on its second factor (VYTIS_REQUIRE_MFA=admins).
  await announceCredentialChange(db);
  await db
    .updateTable('users')
    .set((eb) => ({
      mfa_secret: secret,
      mfa_pending_secret: null,
      mfa_last_step: step,
      mfa_enabled_at: now,
      version: eb('version', '+', 1),
    }))
    .where('id', '=', userId)
    .execute();
}

export async function disableMfa(db: Executor, userId: string) {
  await announceCredentialChange(db);
  await db.updateTable('users').set(withoutSecondFactor).where('id', '=', userId).execute();
  await db.deleteFrom('user_recovery_codes').where('user_id', '=', userId).execute();
}

/**
 * Claims a TOTP time step: true only for the first caller with a step later than the last one,
 * so two requests racing with the same code cannot both pass.
 */
export async function claimStep(db: Executor, userId: string, step: number): Promise<boolean> {
  const row = await db
    .updateTable('users')
    .set({ mfa_last_step: step })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('mfa_last_step', 'is', null), eb('mfa_last_step', '<', step)]))
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function replaceRecoveryCodes(db: Executor, userId: string, hashes: string[], now: Date) {
  await db.deleteFrom('user_recovery_codes').where('user_id', '=', userId).execute();
  await db
    .insertInto('user_recovery_codes')
    .values(hashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: now })))
    .execute();
}

/** Uses a recovery code up: true only the first time. */
export async function useRecoveryCode(db: Executor, userId: string, hash: string, now: Date) {
  const row = await db
    .updateTable('user_recovery_codes')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('code_hash', '=', hash)
    .where('used_at', 'is', null)
    .returning('code_hash')
    .executeTakeFirst();
  return row !== undefined;
}

export async function countRecoveryCodesLeft(db: Executor, userId: string) {
  const row = await db
    .selectFrom('user_recovery_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertChallenge(
  db: Executor,
  row: { id: string; user_id: string; token_hash: string; created_at: Date; expires_at: Date },
) {
  await db.insertInto('login_challenges').values(row).execute();
}

/**
 * The challenge and its user, locked, so its attempts are counted one at a time: the user first,
 * then the challenge, the order of an admin's change of the user that ends their challenges (each
 * way round, a login and that change could wait on each other).
 */
export async function lockChallenge(trx: Tx, tokenHash: string) {
  const challenge = await trx
    .selectFrom('login_challenges')
    .select('user_id')
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!challenge) return undefined;
  await lockUserById(trx, challenge.user_id);
  return trx
    .selectFrom('login_challenges')
    .innerJoin('users', 'users.id', 'login_challenges.user_id')
    .select([
      'login_challenges.id as challenge_id',
      'login_challenges.expires_at',
      'login_challenges.failures',
      'login_challenges.used_at',
    ])
    .selectAll('users')
    .where('login_challenges.token_hash', '=', tokenHash)
    .forUpdate(['login_challenges'])
    .executeTakeFirst();
}

export async function countChallengeFailure(db: Executor, challengeId: string) {
  await db
    .updateTable('login_challenges')
    .set((eb) => ({ failures: eb('failures', '+', 1) }))
    .where('id', '=', challengeId)
    .execute();
}

export async function useChallenge(db: Executor, challengeId: string, now: Date) {
  await db.updateTable('login_challenges').set({ used_at: now }).where('id', '=', challengeId).execute();
}

/** A contained account's half-finished logins end with its sessions. */
export async function endChallenges(db: Executor, userId: string, now: Date) {
  await db
    .updateTable('login_challenges')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .execute();
}
