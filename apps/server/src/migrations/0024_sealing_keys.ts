import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * Which key seals the node's stored secrets (TOTP seeds), by fingerprint only: the key itself
 * stays in the data directory. A process of the node started with another key, or none, is
 * refused before it seals a seed that the other processes could not open.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table sealing_keys (
      purpose text primary key,
      fingerprint text not null,
      created_at timestamptz not null
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists sealing_keys`.execute(db);
}
