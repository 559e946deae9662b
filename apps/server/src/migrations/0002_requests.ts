import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

const REQUEST_STATUSES = `'draft', 'submitted', 'voting', 'activated', 'partially_activated', 'declined',
  'assembling', 'deployed', 'stood_down', 'reported', 'closed', 'withdrawn', 'ineligible'`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('requests')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('party_code', 'text', (c) => c.notNull().references('parties.code'))
    .addColumn('status', 'text', (c) => c.notNull().check(sql.raw(`status in (${REQUEST_STATUSES})`)))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('exercise', 'boolean', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('tlp', 'text', (c) =>
      c.notNull().check(sql`tlp in ('clear', 'green', 'amber', 'amber+strict', 'red')`),
    )
    .addColumn('incident_class', 'text', (c) => c.notNull())
    .addColumn('fields', 'jsonb', (c) => c.notNull())
    .addColumn('priority_score', 'integer', (c) => c.notNull())
    .addColumn('priority', 'jsonb', (c) => c.notNull())
    .addColumn('eligibility', 'jsonb')
    .addColumn('council', 'jsonb')
    .addColumn('decision', 'jsonb')
    .addColumn('report', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('submitted_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();
  // The board's order: priority first, then the oldest.
  await sql`create index requests_board on requests (priority_score desc, created_at, id)`.execute(db);
  await db.schema.createIndex('requests_party').on('requests').columns(['party_code', 'status']).execute();

  await db.schema
    .createTable('request_timeline')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('request_id', 'uuid', (c) => c.notNull().references('requests.id'))
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('party', 'text')
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text')
    // Entries written before submission stay with the requesting party (and admins).
    .addColumn('party_only', 'boolean', (c) => c.notNull())
    .addColumn('detail', 'jsonb', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('request_timeline_request')
    .on('request_timeline')
    .columns(['request_id', 'id'])
    .execute();

  await db.schema
    .createTable('council_votes')
    .addColumn('request_id', 'uuid', (c) => c.notNull().references('requests.id'))
    .addColumn('party_code', 'text', (c) => c.notNull().references('parties.code'))
    .addColumn('vote', 'text', (c) =>
      c.notNull().check(sql`vote in ('activate', 'partial', 'decline', 'abstain')`),
    )
    .addColumn('comment', 'text')
    .addColumn('cast_by', 'text', (c) => c.notNull())
    .addColumn('cast_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('council_votes_pk', ['request_id', 'party_code'])
    .execute();

  await db.schema
    .createTable('deadlines')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('request_id', 'uuid', (c) => c.notNull().references('requests.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('due_at', 'timestamptz', (c) => c.notNull())
    .addColumn('warn_at', 'timestamptz', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sql`state in ('running', 'warned', 'overdue', 'met', 'cancelled')`),
    )
    .addColumn('warned_at', 'timestamptz')
    .addColumn('escalated_at', 'timestamptz')
    .addColumn('met_at', 'timestamptz')
    .addUniqueConstraint('deadlines_request_kind', ['request_id', 'kind'])
    .execute();
  // The scheduler's two questions: what needs a warning, what is overdue.
  await sql`create index deadlines_to_warn on deadlines (warn_at) where state = 'running'`.execute(db);
  await sql`create index deadlines_to_escalate on deadlines (due_at) where state in ('running', 'warned')`.execute(
    db,
  );

  await db.schema
    .createTable('notifications')
    .addColumn('seq', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('request_id', 'uuid', (c) => c.references('requests.id'))
    // What happened to a draft stays with its party, even once the request is visible to more.
    .addColumn('party_only', 'boolean', (c) => c.notNull())
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('party_code', 'text', (c) => c.notNull().references('parties.code'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('disabled_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('webhook_id', 'uuid', (c) => c.notNull().references('webhooks.id'))
    .addColumn('notification_seq', 'bigint', (c) => c.notNull().references('notifications.seq'))
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'delivered', 'failed')`))
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', 'timestamptz')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('last_status', 'integer')
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where state = 'pending'`.execute(
    db,
  );
  await db.schema
    .createIndex('webhook_deliveries_webhook')
    .on('webhook_deliveries')
    .columns(['webhook_id', 'state'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'webhook_deliveries',
    'webhooks',
    'notifications',
    'deadlines',
    'council_votes',
    'request_timeline',
    'requests',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
