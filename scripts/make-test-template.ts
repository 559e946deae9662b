// Migrates a database once per test run, for each test file to start from a copy of it instead of
// running the migrations again: on the embedded database, a dump of a migrated PGlite data
// directory written to OUTFILE (and, given DIR, that directory itself there); on PostgreSQL
// (`--postgres SERVER_URL NAME`), a database NAME.
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect } from 'kysely';
import { migrateToLatest, openDatabase } from '../apps/server/src/platform/db/database.ts';
import type { Database } from '../apps/server/src/platform/db/schema.ts';
import { createScratchDatabase } from '../apps/server/src/platform/db/scratch-database.ts';

const [first, second] = process.argv.slice(2);
if (first === '--postgres' && second) {
  const serverUrl = second;
  const created = await createScratchDatabase(serverUrl, 'template_');
  const database = await openDatabase({ databaseUrl: created.url, poolSize: 1 });
  await migrateToLatest(database.db);
  await database.close();
  // The name goes to stdout, for the test runner to pass on and to drop after the run.
  process.stdout.write(`${new URL(created.url).pathname.slice(1)}\n`);
} else if (first && first !== '--postgres') {
  const pglite = await PGlite.create('memory://');
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  await migrateToLatest(db);
  const dump = await pglite.dumpDataDir('none');
  fs.writeFileSync(first, Buffer.from(await dump.arrayBuffer()));
  await db.destroy();
  // The same database as a data directory on disk, for tests of real processes to copy.
  const dir = second;
  if (dir) {
    const onDisk = await PGlite.create(dir, { loadDataDir: dump });
    await onDisk.close();
  }
} else {
  throw new Error('usage: make-test-template.ts OUTFILE [DIR] | --postgres SERVER_URL');
}
