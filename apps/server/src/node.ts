import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, buildServices } from './app.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import type { Services } from './http/services.ts';
import { seedIfEmpty } from './modules/seed.ts';
import { type DatabaseHandle, migrateToLatest, openDatabase } from './platform/db/database.ts';
import { loadOrCreateNodeKey } from './platform/keys.ts';

/** Opens the node's storage the same way for the server and for the CLI's direct mode. */
export async function openNodeStorage(config: Config, clock: Clock = systemClock) {
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const database: DatabaseHandle = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: path.join(config.dataDir, 'db'),
  });
  try {
    const applied = await migrateToLatest(database.db);
    const key = loadOrCreateNodeKey(config.dataDir);
    return { database, key, clock, applied };
  } catch (error) {
    await database.close();
    throw error;
  }
}

export async function openServices(
  config: Config,
  clock: Clock = systemClock,
): Promise<{ services: Services; applied: string[] }> {
  const storage = await openNodeStorage(config, clock);
  const services = buildServices(storage, config);
  await seedIfEmpty({ db: storage.database.db, clock, audit: services.audit });
  return { services, applied: storage.applied };
}

export async function startHttp(
  config: Config,
  clock: Clock = systemClock,
): Promise<{ app: FastifyInstance; services: Services }> {
  const storage = await openNodeStorage(config, clock);
  const { app, services } = await buildApp(storage, config);
  await seedIfEmpty({ db: storage.database.db, clock, audit: services.audit });
  return { app, services };
}

/**
 * The node's own work between requests: firing clocks, sending webhooks and pulling MISP feeds. All
 * keep their state in the database, so any number of processes may run this at once.
 */
export function startBackgroundWork(
  services: Services,
  intervalMs: number,
  onError: (what: string, error: unknown) => void,
) {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = Promise.allSettled([
      services.scheduler.tick().catch((error) => onError('scheduler', error)),
      drainWebhooks(services).catch((error) => onError('webhook delivery', error)),
      // Events whose writer died between its commit and their sealing.
      services.audit.seal().catch((error) => onError('audit sealing', error)),
      services.notifier.sequence().catch((error) => onError('event numbering', error)),
    ]).finally(() => {
      running = null;
    });
  }, intervalMs);
  timer.unref();
  // MISP feed pulls take as long as the feeds answer: apart from the rest, one round at a time.
  const stopping = new AbortController();
  let pullingFeeds: Promise<unknown> | null = null;
  const feedTimer = setInterval(() => {
    if (pullingFeeds) return;
    pullingFeeds = services.mispFeeds
      .pullDue({ signal: stopping.signal })
      .catch((error) => onError('MISP feed pulls', error))
      .finally(() => {
        pullingFeeds = null;
      });
  }, intervalMs);
  feedTimer.unref();
  return {
    async stop() {
      clearInterval(timer);
      clearInterval(feedTimer);
      stopping.abort();
      await Promise.all([running, pullingFeeds]);
    },
  };
}

/** Sends due deliveries batch after batch while batches come back full. */
async function drainWebhooks(services: Services) {
  for (let batch = 0; batch < 50; batch++) {
    const { delivered, failed } = await services.webhooks.deliverDue(DELIVERY_BATCH);
    if (delivered + failed < DELIVERY_BATCH) return;
  }
}

const DELIVERY_BATCH = 20;
