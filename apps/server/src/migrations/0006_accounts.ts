import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * Accounts that can be contained: a TOTP second factor per user (the confirmed secret, one being
 * enrolled, the last time step used so a code is never accepted twice), single-use recovery codes
 * stored as hashes, and the short-lived challenges between a login's password and its code.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('mfa_secret', 'text')
    .addColumn('mfa_pending_secret', 'text')
    .addColumn('mfa_last_step', 'bigint')
    .addColumn('mfa_enabled_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('user_recovery_codes')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addPrimaryKeyConstraint('user_recovery_codes_pk', ['user_id', 'code_hash'])
    .execute();

  await db.schema
    .createTable('login_challenges')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('login_challenges_user').on('login_challenges').column('user_id').execute();

  // Ending all of a user's sessions finds them by user.
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
  // The last active admin is counted on every change that could remove one.
  await sql`create index users_active_admins on users (id) where disabled_at is null and 'admin' = any(roles)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('users_active_admins').execute();
  await db.schema.dropIndex('sessions_user').execute();
  await db.schema.dropTable('login_challenges').execute();
  await db.schema.dropTable('user_recovery_codes').execute();
  await db.schema
    .alterTable('users')
    .dropColumn('mfa_secret')
    .dropColumn('mfa_pending_secret')
    .dropColumn('mfa_last_step')
    .dropColumn('mfa_enabled_at')
    .execute();
}
