import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * A bulk import is all-or-nothing again (issue 16, items 1 and 8).
 *
 * An import is written in parts, each its own short transaction, so other users keep working while
 * it runs. Each row it writes now carries its import's id, and the import has a record: `running`
 * from its first part, `done` in the transaction of its last part, `failed` once it is being rolled
 * back (its rows are deleted in parts; `finished_at` is set when the last one is gone). A `running`
 * import whose heartbeat has stopped (the process died) is rolled back the same way.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('observable_imports')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('case_id', 'uuid', (c) => c.notNull().references('cases.id'))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('running', 'done', 'failed')`))
    .addColumn('started_by_id', 'uuid')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('heartbeat_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz')
    .execute();
  // Only unfinished imports are ever looked for.
  await sql`create index observable_imports_unfinished on observable_imports (heartbeat_at)
    where finished_at is null`.execute(db);
  await db.schema.alterTable('observables').addColumn('import_id', 'uuid').execute();
  // Partial: rows added one by one (null) cost nothing here; an import's rows are found to roll back.
  await sql`create index observables_import on observables (import_id) where import_id is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // An import that never finished leaves nothing behind, even when the schema goes back.
  await sql`delete from observables o using observable_imports i
    where o.import_id = i.id and i.status <> 'done'`.execute(db);
  await db.schema.dropIndex('observables_import').execute();
  await db.schema.alterTable('observables').dropColumn('import_id').execute();
  await db.schema.dropTable('observable_imports').execute();
}
