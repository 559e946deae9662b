import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * Limits that hold for a node, not for each of its processes (issue 16): the live event streams
 * a user holds open (a claim each, kept fresh by the process that serves the stream, so a crashed
 * process's claims lapse), the failed logins per client address (and those under way), and the
 * attempts counted by the other rate limits (a window per route and source).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table event_stream_claims (
      id uuid primary key,
      holder text not null,
      claimed_at timestamptz not null,
      seen_at timestamptz not null
    )`.execute(db);
  await sql`create index event_stream_claims_holder on event_stream_claims (holder)`.execute(db);
  await sql`
    create table login_attempts (
      id uuid primary key,
      address text not null,
      at timestamptz not null
    )`.execute(db);
  await sql`create index login_attempts_address_at on login_attempts (address, at)`.execute(db);
  await sql`
    create table rate_limit_windows (
      key text primary key,
      started_at timestamptz not null,
      ends_at timestamptz not null,
      hits integer not null
    )`.execute(db);
  await sql`create index rate_limit_windows_ends_at on rate_limit_windows (ends_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists rate_limit_windows`.execute(db);
  await sql`drop table if exists login_attempts`.execute(db);
  await sql`drop table if exists event_stream_claims`.execute(db);
}
