// The benches' in-memory PGlite, opened as openDatabase does, with its client kept for the COPY
// baselines (COPY … '/dev/blob' needs the client, not Kysely).
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect } from 'kysely';
import { type DatabaseHandle, migrateToLatest } from '../apps/server/src/platform/db/database.ts';
import type { Database } from '../apps/server/src/platform/db/schema.ts';

export async function openMemoryPglite(): Promise<{
  client: PGlite;
  database: DatabaseHandle;
  describe: string;
}> {
  const client = await PGlite.create('memory://', {
    parsers: { 20: (value: string) => Number(value), 1082: (value: string) => value },
  });
  await client.exec(`SET TimeZone = 'UTC'`);
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite: client }) });
  const database: DatabaseHandle = {
    db,
    kind: 'pglite',
    location: 'memory',
    listen: async (channel, onMessage) => {
      const stop = await client.listen(channel, onMessage);
      return async () => {
        if (!client.closed) await stop();
      };
    },
    close: async () => {
      await db.destroy();
      if (!client.closed) await client.close();
    },
  };
  await migrateToLatest(db);
  const { rows } = await client.query<{ server_version: string }>('show server_version');
  return { client, database, describe: `PGlite ${rows[0]!.server_version} (in memory)` };
}
