import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { migrations } from '../../migrations/index.ts';
import { prepareRepeatedStatements } from './prepared-statements.ts';
import type { Database } from './schema.ts';

export type DatabaseKind = 'pglite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  kind: DatabaseKind;
  /** Where it lives, for logs: a directory, 'memory', or the URL without its password. */
  location: string;
  /** The pool under Kysely on a PostgreSQL server, for the few hot paths that stream rows raw. */
  pool?: pg.Pool;
  /**
   * Calls `onMessage` for every NOTIFY on `channel` (delivered at commit, from any process on the
   * same database). Resolves to a function that stops listening.
   */
  listen(
    channel: string,
    onMessage: (payload: string) => void,
    onLost?: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const OID_INT8 = 20;
const OID_DATE = 1082;

// int8 as a JS number (sequence numbers stay far below 2^53) and dates as 'YYYY-MM-DD' text on both
// engines, so PGlite and PostgreSQL hand the app identical values.
const parseInt8 = (value: string) => Number(value);
const keepText = (value: string) => value;

export interface OpenDatabaseOptions {
  databaseUrl?: string | undefined;
  /** Directory for PGlite; undefined means in memory. */
  pgliteDir?: string | undefined;
  /** A PGlite data directory dump to start from (tests: an already migrated database). */
  pgliteTemplate?: Blob | undefined;
  poolSize?: number;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      options: '-c TimeZone=UTC',
      types: {
        getTypeParser: ((oid: number, format?: string) => {
          if (oid === OID_INT8) return parseInt8;
          if (oid === OID_DATE) return keepText;
          return pg.types.getTypeParser(oid, format as 'text');
        }) as typeof pg.types.getTypeParser,
      },
    });
    // An idle connection the server closes (restart, pg_terminate_backend, a proxy's timeout) is
    // dropped by the pool; unheard, its 'error' event would end the process.
    pool.on('error', () => {});
    // The same for a connection that dies while checked out: the query in flight fails with the
    // error (and the request gets its answer); the client's own 'error' event must not end the process.
    pool.on('connect', (client) => client.on('error', () => {}));
    prepareRepeatedStatements(pool);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      location: redactUrl(options.databaseUrl),
      pool,
      listen: (channel, onMessage, onLost) =>
        listenOnServer(options.databaseUrl!, channel, onMessage, onLost),
      close: () => db.destroy(),
    };
  }
  if (options.pgliteDir) fs.mkdirSync(options.pgliteDir, { recursive: true });
  const client = await PGlite.create(options.pgliteDir ?? 'memory://', {
    parsers: { [OID_INT8]: parseInt8, [OID_DATE]: keepText },
    ...(options.pgliteTemplate ? { loadDataDir: options.pgliteTemplate } : {}),
  });
  return pgliteHandle(client, options.pgliteDir ? path.resolve(options.pgliteDir) : 'memory');
}

/** LISTEN holds its connection for good: a client of its own, outside the pool. */
async function listenOnServer(
  url: string,
  channel: string,
  onMessage: (payload: string) => void,
  onLost?: () => void,
) {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad channel name ${channel}`);
  const client = new pg.Client({ connectionString: url });
  let stopping = false;
  const lost = () => {
    if (!stopping) onLost?.();
  };
  client.on('error', lost); // e.g. the server restarted: the caller listens again
  client.on('end', lost);
  await client.connect();
  client.on('notification', (message) => {
    if (message.channel === channel) onMessage(message.payload ?? '');
  });
  await client.query(`LISTEN ${channel}`);
  return async () => {
    stopping = true;
    await client.end().catch(() => {});
  };
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}

function migrator(db: Kysely<Database>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  const all = await migrator(db).getMigrations();
  return all.filter((m) => !m.executedAt).map((m) => m.name);
}

export async function ping(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}

/** The handle over an open PGlite client: UTC sessions, LISTEN through the client, one close. */
export async function pgliteHandle(client: PGlite, location: string): Promise<DatabaseHandle> {
  await client.exec(`SET TimeZone = 'UTC'`);
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite: client }) });
  return {
    db,
    kind: 'pglite',
    location,
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
}
