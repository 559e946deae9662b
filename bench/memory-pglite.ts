// The benches' in-memory PGlite, opened as openDatabase does, with its client kept for the COPY
// baselines (COPY … '/dev/blob' needs the client, not Kysely).
import { PGlite } from '@electric-sql/pglite';
import {
  type DatabaseHandle,
  migrateToLatest,
  pgliteHandle,
} from '../apps/server/src/platform/db/database.ts';

export async function openMemoryPglite(): Promise<{
  client: PGlite;
  database: DatabaseHandle;
  describe: string;
}> {
  const client = await PGlite.create('memory://', {
    parsers: { 20: (value: string) => Number(value), 1082: (value: string) => value },
  });
  const database = await pgliteHandle(client, 'memory');
  await migrateToLatest(database.db);
  const { rows } = await client.query<{ server_version: string }>('show server_version');
  return { client, database, describe: `PGlite ${rows[0]!.server_version} (in memory)` };
}
