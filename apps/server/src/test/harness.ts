import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Role } from '@vytis/contracts';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type AppOptions, buildApp } from '../app.ts';
import { ManualClock } from '../clock.ts';
import { CLI_ACTOR, type Ctx } from '../context.ts';
import type { Services } from '../http/services.ts';
import { loadKeyRotation } from '../modules/federation/node-descriptor.ts';
import { seedIfEmpty } from '../modules/seed.ts';
import { type DatabaseHandle, migrateToLatest, openDatabase } from '../platform/db/database.ts';
import { createScratchDatabase } from '../platform/db/scratch-database.ts';
import { loadOrCreateNodeKey } from '../platform/keys.ts';
import { openSecretBox } from '../platform/secret-box.ts';
import { cheapPasswordHashesForTests } from '../platform/secrets.ts';

/**
 * A real node for one test file: a fresh migrated database (PGlite in memory, or a new database on
 * the PostgreSQL server named by DATABASE_URL), a fresh key, a clock the test moves.
 */
export interface TestNode {
  app: FastifyInstance;
  services: Services;
  database: DatabaseHandle;
  clock: ManualClock;
  dataDir: string;
  /** Only for PostgreSQL runs: the URL of this file's own database. */
  databaseUrl: string | undefined;
  cli: Ctx;
  user(name: string, party: string, roles: Role[], password?: string): Promise<TestUser>;
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface TestUser {
  id: string;
  name: string;
  token: string;
  headers: { authorization: string };
}

export const onPostgres = () => Boolean(process.env.DATABASE_URL);

/** A new empty database on the PostgreSQL server of DATABASE_URL; dropped by the returned function. */
export const createPostgresDatabase = () => createScratchDatabase(process.env.DATABASE_URL!);

/**
 * A new migrated database there: a copy of the run's migrated template when `npm test` made one
 * (VYTIS_TEST_PG_TEMPLATE), which is much cheaper than running every migration per test file.
 */
const createMigratedPostgresDatabase = () =>
  createScratchDatabase(process.env.DATABASE_URL!, 't', process.env.VYTIS_TEST_PG_TEMPLATE || undefined);

export async function openTestDatabase(): Promise<{
  database: DatabaseHandle;
  url: string | undefined;
  drop: () => Promise<void>;
}> {
  if (onPostgres()) {
    const created = await createMigratedPostgresDatabase();
    const database = await openDatabase({ databaseUrl: created.url, poolSize: 5 });
    await migrateToLatest(database.db);
    return { database, url: created.url, drop: created.drop };
  }
  const templateFile = process.env.VYTIS_TEST_PGLITE_TEMPLATE;
  const template = templateFile ? new Blob([fs.readFileSync(templateFile)]) : undefined;
  const database = await openDatabase({ pgliteTemplate: template });
  await migrateToLatest(database.db);
  return { database, url: undefined, drop: async () => {} };
}

/**
 * Storage that outlives one node, for restart tests: an on-disk PGlite directory, or a database on
 * the PostgreSQL server. Each node started on it opens it anew, as a restarted process would.
 */
export interface DurableStorage {
  dataDir: string;
  databaseUrl: string | undefined;
  destroy(): Promise<void>;
}

export async function createDurableStorage(): Promise<DurableStorage> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-durable-'));
  const created = onPostgres() ? await createPostgresDatabase() : null;
  return {
    dataDir,
    databaseUrl: created?.url,
    async destroy() {
      await created?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function openDurable(storage: DurableStorage) {
  const database = await openDatabase(
    storage.databaseUrl
      ? { databaseUrl: storage.databaseUrl, poolSize: 5 }
      : { pgliteDir: path.join(storage.dataDir, 'db') },
  );
  await migrateToLatest(database.db);
  return { database, url: storage.databaseUrl, drop: async () => {} };
}

export async function startTestNode(
  options: Partial<AppOptions> & { now?: string; storage?: DurableStorage; fetch?: typeof fetch } = {},
): Promise<TestNode> {
  // Logins work as on a node; only the hashing is cheaper, so a file's people do not cost it seconds.
  cheapPasswordHashesForTests();
  const { database, url, drop } = options.storage
    ? await openDurable(options.storage)
    : await openTestDatabase();
  const dataDir = options.storage?.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-test-'));
  const clock = new ManualClock(options.now ?? '2026-11-23T12:00:00Z');
  const key = loadOrCreateNodeKey(dataDir);
  const discard = async () => {
    await database.close();
    await drop();
    if (!options.storage) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  let built: Awaited<ReturnType<typeof buildApp>>;
  try {
    // Test receivers listen on loopback.
    built = await buildApp(
      {
        database,
        clock,
        key,
        secrets: await openSecretBox(dataDir, database.db, clock.now()),
        keyRotation: loadKeyRotation(dataDir, key),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      },
      {
        webhookPrivateNetworks: true,
        // A test calls a few of the routes: each schema is compiled when first used, not all at start.
        schemaCompilation: 'on-first-use',
        evidenceDir: path.join(dataDir, 'evidence'),
        auditCheckpointFile: path.join(dataDir, 'audit-checkpoints.jsonl'),
        ...options,
      },
    );
  } catch (error) {
    // A node that failed to start must not keep its database open: the test file would never end.
    await discard();
    throw error;
  }
  const { app, services } = built;
  try {
    await seedIfEmpty({ db: database.db, clock, audit: services.audit });
    // As a node does at boot (node.ts): a federated node records its party.
    await services.federation.feed.enable();
  } catch (error) {
    await app.close();
    await discard();
    throw error;
  }
  const cli: Ctx = { actor: CLI_ACTOR, requestId: null };
  return {
    app,
    services,
    database,
    clock,
    dataDir,
    databaseUrl: url,
    cli,
    async user(name, party, roles, password) {
      const user = await services.identity.createUser(cli, {
        name,
        party,
        roles,
        ...(password ? { password } : {}),
      });
      const { token } = await services.identity.issueToken(cli, name);
      return { id: user.id, name, token, headers: { authorization: `Bearer ${token}` } };
    },
    request: (opts) => app.inject(opts),
    async close() {
      await app.close();
      await discard();
    },
  };
}

export const json = (response: LightMyRequestResponse) => response.json() as Record<string, any>;
