import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

const TLP_CHECK = (column: string) =>
  sql`${sql.ref(column)} in ('clear', 'green', 'amber', 'amber+strict', 'red')`;

/**
 * MISP events of a case (issue 12), kept so that an export gives back what was imported:
 * `misp_events` holds an event's own fields (its JSON without `Attribute` and `Object`), and
 * `misp_elements` each attribute and object as received (an object without its attributes, which
 * are elements of their own naming it in `object_uuid`). An attribute Vytis can use is an observable
 * as well (by `obs_type`, `obs_value`: the normalised form); the element keeps the value as MISP
 * wrote it. Each party keeps its own copy of an event uuid (as with STIX objects, an importer who
 * cannot read their party's copy gets one of their own); elements belong to their event's copy.
 * `timestamp` is MISP's (Unix seconds): a later one updates, the same or older changes nothing.
 * `import_id` ties rows to the bulk import that wrote them, which rolls them back with it.
 *
 * Feeds: `misp_feeds` are MISP feeds this node pulls into a case, acting as the user who added
 * them; `misp_feed_events` remembers each event's timestamp as last pulled, so that a pull fetches
 * only what changed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('misp_events')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('uuid', 'text', (c) => c.notNull())
    .addColumn('info', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('timestamp', 'bigint')
    .addColumn('tlp', 'text', (c) => c.notNull().check(TLP_CHECK('tlp')))
    .addColumn('origin_party', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('import_id', 'uuid')
    .execute();
  await db.schema
    .createIndex('misp_events_copy')
    .on('misp_events')
    .columns(['case_id', 'origin_party', 'uuid'])
    .execute();
  await db.schema.createIndex('misp_events_uuid').on('misp_events').column('uuid').execute();
  await db.schema.createIndex('misp_events_import').on('misp_events').column('import_id').execute();

  await db.schema
    .createTable('misp_elements')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('event_id', 'uuid', (c) => c.notNull().references('misp_events.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('attribute', 'object')`))
    .addColumn('uuid', 'text', (c) => c.notNull())
    .addColumn('object_uuid', 'text')
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('element', 'text', (c) => c.notNull())
    .addColumn('obs_type', 'text')
    .addColumn('obs_value', 'text')
    .addColumn('timestamp', 'bigint')
    .addColumn('tlp', 'text', (c) => c.notNull().check(TLP_CHECK('tlp')))
    .addColumn('origin_party', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('import_id', 'uuid')
    .execute();
  await db.schema
    .createIndex('misp_elements_event')
    .on('misp_elements')
    .columns(['event_id', 'position'])
    .execute();
  await db.schema
    .createIndex('misp_elements_value')
    .on('misp_elements')
    .columns(['case_id', 'obs_type', 'obs_value'])
    .execute();
  await db.schema.createIndex('misp_elements_import').on('misp_elements').column('import_id').execute();

  await db.schema
    .createTable('misp_feeds')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('owner_id', 'uuid', (c) => c.notNull().references('users.id'))
    // A header sent with every request of the feed (e.g. `Authorization: …`); never shown again.
    .addColumn('header_name', 'text')
    .addColumn('header_value', 'text')
    .addColumn('enabled', 'boolean', (c) => c.notNull())
    .addColumn('interval_minutes', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('next_pull_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_run_at', 'timestamptz')
    .addColumn('last_ok_at', 'timestamptz')
    .addColumn('last_result', 'text')
    .addColumn('last_error', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('misp_feed_events')
    .addColumn('feed_id', 'uuid', (c) => c.notNull().references('misp_feeds.id').onDelete('cascade'))
    .addColumn('event_uuid', 'text', (c) => c.notNull())
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('pulled_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('misp_feed_events_pk', ['feed_id', 'event_uuid'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('misp_feed_events').execute();
  await db.schema.dropTable('misp_feeds').execute();
  await db.schema.dropTable('misp_elements').execute();
  await db.schema.dropTable('misp_events').execute();
}
