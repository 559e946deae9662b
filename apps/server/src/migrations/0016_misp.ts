import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

const TLP_CHECK = (column: string) =>
  sql`${sql.ref(column)} in ('clear', 'green', 'amber', 'amber+strict', 'red')`;

/**
 * MISP events of a case (issue 12), kept so that an export gives back what was imported:
 * `misp_events` holds an event's own fields (its JSON without `Attribute` and `Object`), and
 * `misp_event_parts` its attributes and objects as received (an object without its attributes,
 * which are elements of their own naming it), a few hundred of one label to a row. An attribute
 * Vytis can use is an observable as well; the element keeps the value as MISP wrote it, and the
 * observable's normalised type and value beside it. Each party keeps its own copy of an event uuid
 * (as with STIX objects, an importer who cannot read their party's copy gets one of their own);
 * parts belong to their event's copy.
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

  // An event's attributes and objects are stored in parts of up to a few hundred, all of one
  // label (the policy reads a part's label), each element as received: a MISP event of 100,000
  // attributes is a few hundred rows, not 100,000 (writing rows is what an import costs).
  await db.schema
    .createTable('misp_event_parts')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('event_id', 'uuid', (c) => c.notNull().references('misp_events.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('elements', 'text', (c) => c.notNull())
    .addColumn('attributes', 'integer', (c) => c.notNull())
    .addColumn('objects', 'integer', (c) => c.notNull())
    .addColumn('tlp', 'text', (c) => c.notNull().check(TLP_CHECK('tlp')))
    .addColumn('origin_party', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('import_id', 'uuid')
    .execute();
  await db.schema
    .createIndex('misp_event_parts_event')
    .on('misp_event_parts')
    .columns(['event_id', 'position'])
    .execute();
  await db.schema.createIndex('misp_event_parts_import').on('misp_event_parts').column('import_id').execute();

  await db.schema
    .createTable('misp_feeds')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
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
    // A name is its owner's (the command line names feeds): another user's choice of name is
    // neither refused nor revealed.
    .addUniqueConstraint('misp_feeds_owner_name', ['owner_id', 'name'])
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
  await db.schema.dropTable('misp_event_parts').execute();
  await db.schema.dropTable('misp_events').execute();
}
