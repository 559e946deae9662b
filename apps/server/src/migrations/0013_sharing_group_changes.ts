import type { Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * Sharing groups can be edited (name, members) and retired (issue 17): a version for If-Match, and
 * when and by whom a group was retired (no longer offered for new shares).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('sharing_groups')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('retired_at', 'timestamptz')
    .addColumn('retired_by', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('sharing_groups')
    .dropColumn('version')
    .dropColumn('retired_at')
    .dropColumn('retired_by')
    .execute();
}
