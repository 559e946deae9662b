// bench/misp-feed — a MISP feed of --events events (--attributes attributes each), written to a
// temporary directory as PyMISP's feed generator writes one (manifest.json, <uuid>.json,
// hashes.csv) and served from disk by a plain HTTP server on loopback, pulled into a case twice:
// the first pull fetches and imports every event; the second, with nothing changed, fetches the
// manifest alone and compares it with one query. Goal: the no-op pull under 1 s (MISP's own take
// hours on big feeds). Prints both times and the second as a ratio of the first.
// Runs on in-memory PGlite by default; --engine pg on a scratch database vytis_bench_feed_<pid> of
// the PostgreSQL server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
// Usage: node --import tsx bench/misp-feed.ts [--engine pglite|pg] [--events 1000] [--attributes 5]
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../apps/server/src/app.ts';
import { ManualClock } from '../apps/server/src/clock.ts';
import { CLI_ACTOR, type Ctx } from '../apps/server/src/context.ts';
import { parseMispEvents } from '../apps/server/src/modules/misp/misp-event.ts';
import { eventHashLines } from '../apps/server/src/modules/misp/misp-feed-format.ts';
import { seedIfEmpty } from '../apps/server/src/modules/seed.ts';
import { migrateToLatest, openDatabase } from '../apps/server/src/platform/db/database.ts';
import { createScratchDatabase } from '../apps/server/src/platform/db/scratch-database.ts';
import { loadOrCreateNodeKey } from '../apps/server/src/platform/keys.ts';
import { openSecretBox } from '../apps/server/src/platform/secret-box.ts';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'pglite' },
    events: { type: 'string', default: '1000' },
    attributes: { type: 'string', default: '5' },
  },
});
const onPg = values.engine === 'pg';
const EVENTS = Number(values.events);
const ATTRIBUTES = Number(values.attributes);

/** The feed directory: events with a few addresses, domains and hashes each, then manifest and hashes. */
function writeFeed(dir: string) {
  const manifest: Record<string, unknown> = {};
  const hashes: string[] = [];
  for (let e = 0; e < EVENTS; e++) {
    const uuid = crypto.randomUUID();
    const timestamp = 1_760_000_000 + e;
    const event = {
      Event: {
        uuid,
        info: `Bench feed event ${e}`,
        date: '2026-11-20',
        threat_level_id: '2',
        analysis: '2',
        timestamp: String(timestamp),
        published: true,
        Orgc: { name: 'CERT-BENCH', uuid: '0b5e7c1a-1111-4a6b-8c7d-000000000001' },
        Tag: [{ name: 'tlp:green', colour: '#33FF00' }],
        Attribute: Array.from({ length: ATTRIBUTES }, (_, a) => {
          const n = e * ATTRIBUTES + a;
          const [type, category, value] =
            a % 3 === 0
              ? ['ip-dst', 'Network activity', `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`]
              : a % 3 === 1
                ? ['domain', 'Network activity', `host${n}.bench.example`]
                : ['md5', 'Payload delivery', crypto.createHash('md5').update(String(n)).digest('hex')];
          return {
            uuid: crypto.randomUUID(),
            type,
            category,
            value,
            to_ids: true,
            timestamp: String(timestamp),
          };
        }),
      },
    };
    fs.writeFileSync(path.join(dir, `${uuid}.json`), JSON.stringify(event));
    const parsed = parseMispEvents(event);
    if ('error' in parsed) throw new Error(parsed.error);
    const model = parsed.events[0]!;
    manifest[uuid] = {
      Orgc: event.Event.Orgc,
      Tag: event.Event.Tag,
      info: model.info,
      date: model.date,
      analysis: model.analysis,
      threat_level_id: model.threatLevelId,
      timestamp,
    };
    hashes.push(...eventHashLines(model));
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  fs.writeFileSync(path.join(dir, 'hashes.csv'), `${hashes.join('\n')}\n`);
}

async function main() {
  const scratch = onPg
    ? await createScratchDatabase(
        process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
        'bench_feed_',
      )
    : undefined;
  const database = await openDatabase(scratch ? { databaseUrl: scratch.url, poolSize: 10 } : {});
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-bench-feed-'));
  const feedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-bench-feed-dir-'));
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    const file = path.join(feedDir, path.basename(req.url ?? '/'));
    if (!fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.csv') ? 'text/csv' : 'application/json' });
    fs.createReadStream(file).pipe(res);
  });
  try {
    writeFeed(feedDir);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed`;

    await migrateToLatest(database.db);
    const clock = new ManualClock('2026-11-23T12:00:00Z');
    const { app, services } = await buildApp(
      {
        database,
        clock,
        key: loadOrCreateNodeKey(dataDir),
        secrets: await openSecretBox(dataDir, database.db, clock.now()),
      },
      { evidenceDir: path.join(dataDir, 'evidence'), webhookPrivateNetworks: ['127.0.0.0/8'] },
    );
    await seedIfEmpty({ db: database.db, clock, audit: services.audit });
    const cli: Ctx = { actor: CLI_ACTOR, requestId: null };
    await services.identity.createUser(cli, { name: 'lt.bench', party: 'LT', roles: ['analyst'] });
    const ctx: Ctx = { actor: (await services.identity.actorByName('lt.bench'))!, requestId: null };
    const feed = await services.mispFeeds.create(ctx, {
      name: 'bench',
      url,
      newCase: { title: 'Bench: a MISP feed', tlp: 'green' },
    });

    const t0 = performance.now();
    const first = await services.mispFeeds.pull(ctx, feed.id);
    const firstMs = performance.now() - t0;
    if (first.error || first.imported !== EVENTS)
      throw new Error(
        `the first pull did not import every event: ${JSON.stringify({ ...first, failures: first.failures.slice(0, 3) })}`,
      );

    const before = requests;
    const t1 = performance.now();
    const second = await services.mispFeeds.pull(ctx, feed.id);
    const noOpMs = performance.now() - t1;
    if (second.fetched !== 0 || second.unchanged !== EVENTS || requests - before !== 1)
      throw new Error(
        `the second pull was not a no-op: ${JSON.stringify(second)} (${requests - before} requests)`,
      );

    console.log(
      `engine ${onPg ? 'postgresql' : 'pglite'}; feed of ${EVENTS} events × ${ATTRIBUTES} attributes`,
    );
    console.log(
      `first pull:  ${(firstMs / 1000).toFixed(2)} s (${first.fetched} fetched, ${first.imported} imported, ${first.attributesAdded} attributes, ${first.observablesAdded} observables)`,
    );
    console.log(
      `no-op pull:  ${noOpMs.toFixed(0)} ms (1 request: the manifest) — goal under 1 s: ${noOpMs < 1000 ? 'met' : 'NOT met'}`,
    );
    console.log(`no-op / first: ${(noOpMs / firstMs).toFixed(4)}×`);
    await app.close();
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await database.close();
    await scratch?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(feedDir, { recursive: true, force: true });
  }
}

await main();
