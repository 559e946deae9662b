import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('parties')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('state', 'eu_institution', 'csdp_mission')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('party_statuses')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('party_code', 'text', (c) => c.notNull().references('parties.code'))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('member', 'observer', 'eu_institution', 'partner', 'external')`),
    )
    .addColumn('effective_from', 'date', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addUniqueConstraint('party_statuses_party_day', ['party_code', 'effective_from'])
    .execute();

  await db.schema
    .createTable('frameworks')
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('effective_from', 'timestamptz', (c) => c.notNull())
    .addColumn('rules', 'jsonb', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('party_code', 'text', (c) => c.notNull().references('parties.code'))
    .addColumn('roles', sql`text[]`, (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('disabled_at', 'timestamptz')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('label', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('api_tokens_user').on('api_tokens').column('user_id').execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .execute();

  // An event is its canonical JSON envelope, stored as the exact text that was hashed; nothing is
  // stored beside it that could be edited on its own. Filters go through expression indexes.
  await db.schema
    .createTable('audit_events')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('envelope', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await sql`create index audit_events_action on audit_events ((envelope::jsonb ->> 'action'), seq)`.execute(
    db,
  );
  await sql`create index audit_events_actor on audit_events ((envelope::jsonb -> 'actor' ->> 'name'), seq)`.execute(
    db,
  );
  await sql`create index audit_events_object on audit_events ((envelope::jsonb -> 'object' ->> 'type'), (envelope::jsonb -> 'object' ->> 'id'), seq)`.execute(
    db,
  );

  // The chain's head in one row: updating it is how appenders take turns, across processes.
  // prev_hash only carries the old hash out of the single-event append's UPDATE … RETURNING.
  await db.schema
    .createTable('audit_head')
    .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  const genesis = '0'.repeat(64);
  await sql`insert into audit_head (id, seq, prev_hash, hash) values (1, 0, ${genesis}, ${genesis})`.execute(
    db,
  );

  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('head', 'text', (c) => c.notNull())
    .addColumn('signed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'audit_checkpoints',
    'audit_head',
    'audit_events',
    'sessions',
    'api_tokens',
    'users',
    'frameworks',
    'party_statuses',
    'parties',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
