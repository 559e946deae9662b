import type { Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/** A relabelled item's past events are found by their case. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('notifications_case').on('notifications').column('case_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('notifications_case').execute();
}
