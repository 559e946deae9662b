import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('responders')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('party_code', 'text', (c) => c.notNull().references('parties.code'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('affiliation', 'text', (c) => c.notNull().check(sql`affiliation in ('military', 'civilian')`))
    .addColumn('skills', 'jsonb', (c) => c.notNull())
    .addColumn('languages', sql`text[]`, (c) => c.notNull())
    .addColumn('clearance', 'text', (c) =>
      c.notNull().check(sql`clearance in ('none', 'restricted', 'confidential', 'secret')`),
    )
    .addColumn('base', 'jsonb', (c) => c.notNull())
    .addColumn('readiness', 'jsonb', (c) => c.notNull())
    .addColumn('travel_documents_until', 'date')
    .addColumn('user_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('responders_party').on('responders').columns(['party_code', 'name']).execute();

  await db.schema
    .createTable('responder_unavailability')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('responder_id', 'uuid', (c) => c.notNull().references('responders.id'))
    .addColumn('starts_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ends_at', 'timestamptz', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('leave', 'unavailable', 'training')`))
    .addColumn('note', 'text')
    .addCheckConstraint('responder_unavailability_window', sql`ends_at > starts_at`)
    .execute();
  await db.schema
    .createIndex('responder_unavailability_responder')
    .on('responder_unavailability')
    .columns(['responder_id', 'starts_at'])
    .execute();

  await db.schema
    .createTable('duty_rotations')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('party_code', 'text', (c) => c.notNull().references('parties.code'))
    .addColumn('name', 'text', (c) => c.notNull())
    // Defined in the party's own time zone, so shifts keep their local hours across DST.
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('starts_on', 'date', (c) => c.notNull())
    .addColumn('shift_start', 'text', (c) => c.notNull())
    .addColumn('shift_hours', 'integer', (c) => c.notNull())
    .addColumn('shift_days', 'integer', (c) => c.notNull())
    .addColumn('responder_ids', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('team_proposals')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('request_id', 'uuid', (c) => c.notNull().references('requests.id'))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('proposed', 'adopted', 'superseded')`),
    )
    .addColumn('feasible', 'boolean', (c) => c.notNull())
    .addColumn('solution', 'jsonb', (c) => c.notNull())
    .addColumn('excluded_ids', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('team_proposals_request')
    .on('team_proposals')
    .columns(['request_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('deployments')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('request_id', 'uuid', (c) => c.notNull().references('requests.id'))
    .addColumn('proposal_id', 'uuid', (c) => c.notNull().references('team_proposals.id'))
    .addColumn('host_party', 'text', (c) => c.notNull().references('parties.code'))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`status in ('proposed', 'released', 'accepted', 'en_route', 'remote', 'on_site', 'stood_down', 'cancelled')`,
        ),
    )
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('window_from', 'timestamptz', (c) => c.notNull())
    .addColumn('window_to', 'timestamptz', (c) => c.notNull())
    .addColumn('acceptance', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deployments_request').on('deployments').columns(['request_id']).execute();

  await db.schema
    .createTable('deployment_members')
    .addColumn('deployment_id', 'uuid', (c) => c.notNull().references('deployments.id'))
    .addColumn('responder_id', 'uuid', (c) => c.notNull().references('responders.id'))
    .addColumn('party_code', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('pending', 'released', 'declined', 'replaced')`),
    )
    .addColumn('reasons', 'jsonb', (c) => c.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'timestamptz')
    .addColumn('decision_reason', 'text')
    .addColumn('pass_id', 'uuid')
    .addColumn('pass_issued_at', 'timestamptz')
    .addPrimaryKeyConstraint('deployment_members_pk', ['deployment_id', 'responder_id'])
    .execute();
  await db.schema
    .createIndex('deployment_members_responder')
    .on('deployment_members')
    .columns(['responder_id', 'status'])
    .execute();

  await db.schema
    .createTable('pass_revocations')
    .addColumn('pass_id', 'uuid', (c) => c.primaryKey())
    .addColumn('deployment_id', 'uuid', (c) => c.notNull().references('deployments.id'))
    .addColumn('responder_id', 'uuid', (c) => c.notNull().references('responders.id'))
    .addColumn('revoked_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_by', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'pass_revocations',
    'deployment_members',
    'deployments',
    'team_proposals',
    'duty_rotations',
    'responder_unavailability',
    'responders',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
