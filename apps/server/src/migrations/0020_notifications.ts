import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * Each person's notifications (issue 18): the events addressed to them, materialised per user by a
 * dispatcher that follows the event sequence from its cursor; what each person chooses to get, per
 * kind; their e-mail address; and the outbox of e-mails, sent with retries like webhook deliveries.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // One row: the last event the dispatcher has handled. Starts at the events already there, so a
  // node that upgrades does not notify everyone of its whole history.
  await sql`create table inbox_cursor (
    id integer primary key check (id = 1),
    seq bigint not null
  )`.execute(db);
  await sql`insert into inbox_cursor (id, seq) select 1, coalesce(max(seq), 0) from notifications`.execute(
    db,
  );

  await sql`create table inbox_items (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references users (id) on delete cascade,
    seq bigint not null,
    kind text not null,
    at timestamptz not null,
    title text not null,
    href text not null,
    request_id uuid,
    case_id uuid,
    exercise boolean not null default false,
    read_at timestamptz,
    created_at timestamptz not null,
    unique (user_id, seq)
  )`.execute(db);
  await sql`create index inbox_items_by_user on inbox_items (user_id, seq desc)`.execute(db);
  await sql`create index inbox_items_unread on inbox_items (user_id) where read_at is null`.execute(db);

  await sql`create table notification_settings (
    user_id uuid not null references users (id) on delete cascade,
    kind text not null,
    in_app boolean not null,
    email boolean not null,
    updated_at timestamptz not null,
    primary key (user_id, kind)
  )`.execute(db);

  await sql`create table user_contact (
    user_id uuid primary key references users (id) on delete cascade,
    email text,
    updated_at timestamptz not null
  )`.execute(db);

  await sql`create table mail_outbox (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references users (id) on delete cascade,
    seq bigint not null,
    kind text not null,
    to_address text not null,
    subject text not null,
    text_body text not null,
    html_body text not null,
    state text not null default 'pending' check (state in ('pending', 'sent', 'failed')),
    attempts integer not null default 0,
    next_attempt_at timestamptz,
    lease_until timestamptz,
    last_error text,
    sent_at timestamptz,
    created_at timestamptz not null,
    unique (user_id, seq)
  )`.execute(db);
  await sql`create index mail_outbox_due on mail_outbox (next_attempt_at) where state = 'pending'`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'mail_outbox',
    'user_contact',
    'notification_settings',
    'inbox_items',
    'inbox_cursor',
  ]) {
    await sql`drop table if exists ${sql.table(table)}`.execute(db);
  }
}
