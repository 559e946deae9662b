import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * Observables' tags for analysts (issue 18): a sorted set of short words on each row, found by a
 * GIN index (`tags @> array[…]`). Tags are this node's own working notes: the federation's feed
 * lists its columns and does not carry them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table observables add column tags text[] not null default '{}'`.execute(db);
  await sql`create index observables_tags on observables using gin (tags)`.execute(db);
  // The list sorts by first and last seen within a case.
  await sql`create index observables_case_first_seen on observables (case_id, first_seen)`.execute(db);
  await sql`create index observables_case_last_seen on observables (case_id, last_seen)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists observables_case_last_seen`.execute(db);
  await sql`drop index if exists observables_case_first_seen`.execute(db);
  await sql`drop index if exists observables_tags`.execute(db);
  await sql`alter table observables drop column if exists tags`.execute(db);
}
