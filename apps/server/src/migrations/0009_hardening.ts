import type { Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/** Reserved slot (filled by the change that needs it; empty until then). */
export async function up(_db: Kysely<unknown>): Promise<void> {}

export async function down(_db: Kysely<unknown>): Promise<void> {}
