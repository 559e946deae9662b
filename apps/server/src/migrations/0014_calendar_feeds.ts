import type { Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * Duty calendar subscriptions (issue 17): a secret URL per feed that a calendar app polls without
 * any other credential. Only the SHA-256 of the secret is kept; a feed speaks for its user as they
 * are when it is fetched (a disabled user's feeds answer 404), and revoking one ends it for good.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('calendar_feeds')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    // 'responder': one responder's shifts (target: the responder id); 'party': a party's roster.
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('label', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('calendar_feeds_user').on('calendar_feeds').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('calendar_feeds').execute();
}
