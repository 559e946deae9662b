import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

const TLP_CHECK = (column: string) =>
  sql`${sql.ref(column)} in ('clear', 'green', 'amber', 'amber+strict', 'red')`;

/**
 * Intelligence objects of a case (issue 11): the STIX objects a bundle brings that are not
 * observables (threat actors, malware, attack patterns, reports, relationships, custom x- objects…),
 * kept exactly as received (`object`, the JSON text) so they export again unchanged. Each party
 * keeps its own copy of an object id, and an importer who cannot read their party's copy (a
 * colleague's RED one) gets one of their own, so whether a copy the importer cannot read exists is
 * never confirmed; imports hold the case's row lock, which keeps the copies apart. `stix_modified`
 * orders versions: a later one replaces the copy, an older one is ignored. A relationship's ends are
 * columns, to list an object's relationships. `import_id` ties rows to the bulk import that wrote
 * them, which rolls them back with its observables. Also the indexes TAXII pages by, and the
 * status of a TAXII add-objects request.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('case_intel_objects')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('stix_id', 'text', (c) => c.notNull())
    .addColumn('stix_type', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('stix_modified', 'timestamptz')
    .addColumn('source_ref', 'text')
    .addColumn('target_ref', 'text')
    .addColumn('relationship_type', 'text')
    .addColumn('object', 'text', (c) => c.notNull())
    .addColumn('tlp', 'text', (c) => c.notNull().check(TLP_CHECK('tlp')))
    .addColumn('origin_party', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('import_id', 'uuid')
    .execute();
  await db.schema
    .createIndex('case_intel_objects_copy')
    .on('case_intel_objects')
    .columns(['case_id', 'origin_party', 'stix_id'])
    .execute();
  await db.schema
    .createIndex('case_intel_objects_case')
    .on('case_intel_objects')
    .columns(['case_id', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('case_intel_objects_source')
    .on('case_intel_objects')
    .columns(['case_id', 'source_ref'])
    .execute();
  await db.schema
    .createIndex('case_intel_objects_target')
    .on('case_intel_objects')
    .columns(['case_id', 'target_ref'])
    .execute();
  // TAXII collections page through what was added, by (updated_at, id): a version's date added.
  await db.schema
    .createIndex('case_intel_objects_added')
    .on('case_intel_objects')
    .columns(['updated_at', 'id'])
    .execute();
  await db.schema
    .createIndex('case_intel_objects_case_added')
    .on('case_intel_objects')
    .columns(['case_id', 'updated_at', 'id'])
    .execute();
  await db.schema.createIndex('observables_added').on('observables').columns(['updated_at', 'id']).execute();
  await db.schema
    .createIndex('observables_case_added')
    .on('observables')
    .columns(['case_id', 'updated_at', 'id'])
    .execute();
  // The status of a TAXII add-objects request, for its requester to read back.
  await db.schema
    .createTable('taxii_statuses')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('collection_id', 'uuid', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('case_intel_objects_import')
    .on('case_intel_objects')
    .column('import_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('taxii_statuses').execute();
  await db.schema.dropIndex('observables_case_added').execute();
  await db.schema.dropIndex('observables_added').execute();
  await db.schema.dropTable('case_intel_objects').execute();
}
