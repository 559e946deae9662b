// Dumps a freshly migrated PGlite data directory once per test run; each test file then starts
// from a copy of it instead of running initdb and the migrations again.
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect } from 'kysely';
import { migrateToLatest } from '../apps/server/src/platform/db/database.ts';
import type { Database } from '../apps/server/src/platform/db/schema.ts';

const out = process.argv[2];
if (!out) throw new Error('usage: make-test-template.ts OUTFILE');
const pglite = await PGlite.create('memory://');
const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
await migrateToLatest(db);
const dump = await pglite.dumpDataDir('none');
fs.writeFileSync(out, Buffer.from(await dump.arrayBuffer()));
await db.destroy();
