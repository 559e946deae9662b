import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * Reports (issue 15): the post-action report of a request and the entity's NIS2 reports, one row
 * per request and kind, created at the first save. `field_values` holds only what authors wrote; what
 * the record drafts is computed when read, until submission freezes the whole document (`document`,
 * its SHA-256 and the node's signature) for good.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table reports (
      id uuid primary key,
      request_id uuid not null references requests (id) on delete cascade,
      kind text not null check (kind in ('post_action', 'nis2_early_warning', 'nis2_notification',
        'nis2_intermediate', 'nis2_final_report', 'nis2_progress')),
      status text not null default 'draft' check (status in ('draft', 'submitted')),
      version integer not null,
      tlp text not null check (tlp in ('clear', 'green', 'amber', 'amber+strict', 'red')),
      field_values jsonb not null default '{}',
      source_case_ids uuid[] not null default '{}',
      document jsonb,
      sha256 text,
      signature text,
      key_id text,
      submitted_at timestamptz,
      submitted_by text,
      submitted_to text,
      filed_at timestamptz,
      created_at timestamptz not null,
      created_by text not null,
      updated_at timestamptz not null,
      updated_by text not null,
      unique (request_id, kind),
      check ((status = 'submitted') = (document is not null and sha256 is not null))
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists reports`.execute(db);
}
