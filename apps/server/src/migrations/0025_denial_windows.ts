import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * The denials of a source within a window (issue 16): how many were written to the audit log one by
 * one (in all, and per route) and how many were only counted, until the window ends and the count
 * is written as one event. Kept here, not in a process: a node's processes share each source's
 * window, and a crash loses no count.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table denial_windows (
      key text primary key,
      started_at timestamptz not null,
      ends_at timestamptz not null,
      written integer not null,
      written_by_route jsonb not null,
      counted integer not null,
      statuses jsonb not null,
      routes jsonb not null,
      actor jsonb not null,
      last_written boolean not null
    )`.execute(db);
  await sql`create index denial_windows_ends_at on denial_windows (ends_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists denial_windows`.execute(db);
}
