import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, buildServices } from './app.ts';
import { type Clock, systemClock } from './clock.ts';
import type { Config } from './config.ts';
import type { Services } from './http/services.ts';
import { loadKeyRotation } from './modules/federation/node-descriptor.ts';
import { seedIfEmpty } from './modules/seed.ts';
import { type DatabaseHandle, migrateToLatest, openDatabase } from './platform/db/database.ts';
import { loadOrCreateNodeKey } from './platform/keys.ts';
import { openSecretBox } from './platform/secret-box.ts';

/**
 * Opens the node's storage the same way for the server and for the CLI's direct mode. Only a node
 * (`sealingKey: 'create'`) makes and records the key for sealed secrets: a command run in a data
 * directory without it must not make its own key the node's.
 */
export async function openNodeStorage(
  config: Config,
  clock: Clock = systemClock,
  sealingKey: 'create' | 'ifPresent' = 'ifPresent',
) {
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const database: DatabaseHandle = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: path.join(config.dataDir, 'db'),
  });
  try {
    const applied = await migrateToLatest(database.db);
    const key = loadOrCreateNodeKey(config.dataDir);
    const keyRotation = loadKeyRotation(config.dataDir, key);
    const secrets = await openSecretBox(config.dataDir, database.db, clock.now(), sealingKey);
    return { database, key, secrets, keyRotation, clock, applied };
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
  await services.federation.feed.enable();
  return { services, applied: storage.applied };
}

export async function startHttp(
  config: Config,
  clock: Clock = systemClock,
): Promise<{ app: FastifyInstance; services: Services }> {
  const storage = await openNodeStorage(config, clock, 'create');
  const { app, services } = await buildApp(storage, config);
  await seedIfEmpty({ db: storage.database.db, clock, audit: services.audit });
  await services.mfa.sealSeedsStoredInTheClear();
  await services.federation.feed.enable();
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
  // Peers are pulled on their own clock, one round at a time; a slow peer delays only its own round.
  let pullingPeers: Promise<unknown> | null = null;
  const pullPeers = () => {
    if (pullingPeers) return;
    pullingPeers = services.federation.puller
      .pullAll(stopping.signal)
      .catch((error) => onError('federation pulls', error))
      .finally(() => {
        pullingPeers = null;
      });
  };
  const peerTimer = setInterval(pullPeers, services.federation.node.pullSeconds * 1000);
  peerTimer.unref();
  // A node that was down catches up as it starts, not a whole round later.
  const firstPull = setTimeout(pullPeers, FIRST_PULL_DELAY_MS);
  firstPull.unref();
  // Peers are told at once when this node's feed grows (they pull then, not at their next round).
  let pushing: Promise<unknown> | null = null;
  const pushTimer = setInterval(() => {
    if (pushing) return;
    pushing = services.federation.push
      .tick(stopping.signal)
      .catch((error) => onError('federation notices', error))
      .finally(() => {
        pushing = null;
      });
  }, PUSH_INTERVAL_MS);
  pushTimer.unref();
  return {
    async stop() {
      clearInterval(timer);
      clearInterval(feedTimer);
      clearInterval(peerTimer);
      clearTimeout(firstPull);
      clearInterval(pushTimer);
      stopping.abort();
      await Promise.all([running, pullingFeeds, pullingPeers, pushing]);
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
/** Time for the node to settle (listen, seal) before it pulls its peers for the first time. */
const FIRST_PULL_DELAY_MS = 500;
/** How often the outbox is looked at for changes to tell peers about: one indexed look when idle. */
const PUSH_INTERVAL_MS = 200;
