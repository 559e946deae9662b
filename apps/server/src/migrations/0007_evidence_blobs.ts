import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * Evidence content in the database, for nodes whose processes share a PostgreSQL server and no
 * disk: each file as numbered pieces of about a MiB, so neither an upload nor a download ever holds
 * a whole file in memory. A piece is written before its evidence row exists (the row is committed
 * last), so pieces carry no foreign key; `stored_at` lets abandoned uploads be swept.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('evidence_chunks')
    .addColumn('evidence_id', 'uuid', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', 'bytea', (c) => c.notNull())
    .addColumn('stored_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('evidence_chunks_pk', ['evidence_id', 'seq'])
    .execute();
  // Evidence is mostly compressed already (images, archives, pcaps): storing it out of line but
  // uncompressed spares a futile compression attempt per piece.
  await sql`alter table evidence_chunks alter column data set storage external`.execute(db);
  // The items recorded before this migration have their file in the data directory of the process
  // that received it; on PostgreSQL it moves into evidence_chunks on a download through that
  // process. Until then another process finds no content without it being lost.
  await db.schema
    .createTable('evidence_files_to_adopt')
    .addColumn('evidence_id', 'uuid', (c) => c.primaryKey())
    .execute();
  await sql`insert into evidence_files_to_adopt (evidence_id) select id from evidence`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('evidence_files_to_adopt').execute();
  await db.schema.dropTable('evidence_chunks').execute();
}
