import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

const TLP_CHECK = (column: string) =>
  sql`${sql.ref(column)} in ('clear', 'green', 'amber', 'amber+strict', 'red')`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('cases')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('owner_party', 'text', (c) => c.notNull().references('parties.code'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('incident_class', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('tlp', 'text', (c) => c.notNull().check(TLP_CHECK('tlp')))
    .addColumn('pap', 'text', (c) => c.notNull())
    .addColumn('request_id', 'uuid', (c) => c.references('requests.id'))
    .addColumn('deployment_id', 'uuid', (c) => c.references('deployments.id'))
    .addColumn('exercise', 'boolean', (c) => c.notNull())
    .addColumn('created_by_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('cases_updated').on('cases').columns(['updated_at', 'id']).execute();
  await db.schema.createIndex('cases_owner').on('cases').column('owner_party').execute();
  await db.schema.createIndex('cases_request').on('cases').column('request_id').execute();

  await db.schema
    .createTable('case_shares')
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('party_code', 'text', (c) => c.notNull().references('parties.code'))
    .addPrimaryKeyConstraint('case_shares_pk', ['case_id', 'party_code'])
    .execute();
  await db.schema.createIndex('case_shares_party').on('case_shares').column('party_code').execute();

  await db.schema
    .createTable('sharing_groups')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('owner_party', 'text', (c) => c.notNull().references('parties.code'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('sharing_group_members')
    .addColumn('group_id', 'uuid', (c) => c.notNull().references('sharing_groups.id'))
    .addColumn('party_code', 'text', (c) => c.notNull().references('parties.code'))
    .addPrimaryKeyConstraint('sharing_group_members_pk', ['group_id', 'party_code'])
    .execute();
  await db.schema
    .createIndex('sharing_group_members_party')
    .on('sharing_group_members')
    .column('party_code')
    .execute();
  await db.schema
    .createTable('case_group_shares')
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('group_id', 'uuid', (c) => c.notNull().references('sharing_groups.id'))
    .addPrimaryKeyConstraint('case_group_shares_pk', ['case_id', 'group_id'])
    .execute();

  for (const table of ['case_recipients', 'case_assignees']) {
    await db.schema
      .createTable(table)
      .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
      .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
      .addPrimaryKeyConstraint(`${table}_pk`, ['case_id', 'user_id'])
      .execute();
    await db.schema.createIndex(`${table}_user`).on(table).column('user_id').execute();
  }

  await db.schema
    .createTable('case_tasks')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('assignee_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('due_at', 'timestamptz')
    .addColumn('done_at', 'timestamptz')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('case_tasks_case')
    .on('case_tasks')
    .columns(['case_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('case_notes')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('tlp', 'text', (c) => c.notNull().check(TLP_CHECK('tlp')))
    .addColumn('origin_party', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('case_notes_case')
    .on('case_notes')
    .columns(['case_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('case_timeline')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('happened_at', 'timestamptz', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('case_timeline_case')
    .on('case_timeline')
    .columns(['case_id', 'happened_at'])
    .execute();

  // Only the indexes reads need: every extra one is paid on each of a million imported rows.
  await db.schema
    .createTable('observables')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('tlp', 'text', (c) => c.notNull().check(TLP_CHECK('tlp')))
    .addColumn('to_ids', 'boolean', (c) => c.notNull())
    .addColumn('comment', 'text', (c) => c.notNull())
    .addColumn('first_seen', 'timestamptz')
    .addColumn('last_seen', 'timestamptz')
    .addColumn('sightings', 'integer', (c) => c.notNull())
    .addColumn('origin_party', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'uuid')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addUniqueConstraint('observables_case_value', ['case_id', 'type', 'value'])
    .execute();
  await db.schema.createIndex('observables_value').on('observables').column('value').execute();

  await db.schema
    .createTable('evidence')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('media_type', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('tlp', 'text', (c) => c.notNull().check(TLP_CHECK('tlp')))
    .addColumn('custodian', 'text', (c) => c.notNull())
    .addColumn('origin_party', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('evidence_case').on('evidence').columns(['case_id', 'created_at']).execute();
  await db.schema
    .createTable('evidence_custody')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('evidence_id', 'uuid', (c) => c.notNull().references('evidence.id'))
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull().check(sql`action in ('upload', 'download', 'transfer')`))
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('party', 'text')
    .addColumn('custodian', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('evidence_custody_evidence')
    .on('evidence_custody')
    .column('evidence_id')
    .execute();

  // Live events about cases: seen by whoever sees the case and, for an item, its label (tlp).
  await db.schema
    .alterTable('notifications')
    .addColumn('case_id', 'uuid', (c) => c.references('cases.id'))
    .execute();
  await db.schema.alterTable('notifications').addColumn('tlp', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('notifications').dropColumn('tlp').execute();
  await db.schema.alterTable('notifications').dropColumn('case_id').execute();
  for (const table of [
    'evidence_custody',
    'evidence',
    'observables',
    'case_timeline',
    'case_notes',
    'case_tasks',
    'case_assignees',
    'case_recipients',
    'case_group_shares',
    'sharing_group_members',
    'sharing_groups',
    'case_shares',
    'cases',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
