// bench/load — several Vytis processes on one PostgreSQL under many concurrent clients.
//  1. lists: GET /api/v1/requests and GET /api/v1/cases from --connections clients at once (autocannon,
//     spread round-robin over the processes), for --seconds each, on the demo world; every response's
//     latency is recorded, so p50/p95/p99 are exact (goal: p95 under 20 ms).
//  2. writes: POST /api/v1/cases/{id}/observables, one new indicator a request, --writes requests
//     from the same clients over the processes, vs single-row autocommit INSERTs of the very same
//     rows (normalised as the API stores them) into the same table from as many concurrent workers,
//     through as many database connections as the processes hold together, in this run
//     (goal: ours ≥ 0.5× the raw inserts).
// Runs on a scratch database vytis_load_<pid> of the PostgreSQL server of DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres), dropped after. Processes are real node processes
// (`vytis start`, see node-process.ts), each with its own port and data directory and the same node key.
// Usage: node --import tsx bench/load.ts [--processes 3] [--connections 100] [--seconds 10]
//          [--writes 20000]
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { buildServices } from '../apps/server/src/app.ts';
import { loadDemo } from '../apps/server/src/cli/demo.ts';
import { systemClock } from '../apps/server/src/clock.ts';
import { CLI_ACTOR, type Ctx } from '../apps/server/src/context.ts';
import { normaliseObservable } from '../apps/server/src/modules/indicators/observable-types.ts';
import { seedIfEmpty } from '../apps/server/src/modules/seed.ts';
import { migrateToLatest, openDatabase } from '../apps/server/src/platform/db/database.ts';
import { createScratchDatabase } from '../apps/server/src/platform/db/scratch-database.ts';
import { loadOrCreateNodeKey } from '../apps/server/src/platform/keys.ts';
import { type NodeProcess, shareNodeKey, spawnNode } from './node-process.ts';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '3' },
    connections: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
    writes: { type: 'string', default: '20000' },
  },
});
const PROCESSES = Number(values.processes);
const CONNECTIONS = Number(values.connections);
// Extra node flags for the processes under load, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
const childNodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const SECONDS = Number(values.seconds);
const WRITES = Number(values.writes);
/** Each process's pool (the node's default). */
const POOL_PER_PROCESS = 10;
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const cli: Ctx = { actor: CLI_ACTOR, requestId: null };

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const ms = (n: number) => `${n.toFixed(1)} ms`;

interface Phase {
  label: string;
  ok: number;
  errors: number;
  seconds: number;
  latencies: number[];
}

/** autocannon over every process; each response's own latency kept for exact percentiles. */
async function hammer(
  label: string,
  urls: string[],
  options: Partial<autocannon.Options> & { headers: Record<string, string> },
): Promise<Phase> {
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  const started = performance.now();
  const instance = autocannon({
    // autocannon spreads its connections over several URLs; its type declares only one.
    url: urls as unknown as string,
    connections: CONNECTIONS,
    ...options,
  }) as unknown as Promise<autocannon.Result> & NodeJS.EventEmitter;
  // The run itself emits (client, status, bytes, ms) for every response (its types list the client's event).
  instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
    latencies.push(responseTime);
    if (status >= 200 && status < 300) ok += 1;
    else errors += 1;
  });
  const result = await instance;
  errors += result.errors + result.timeouts;
  latencies.sort((a, b) => a - b);
  return { label, ok, errors, seconds: (performance.now() - started) / 1000, latencies };
}

function printList(phase: Phase) {
  const p95 = percentile(phase.latencies, 95);
  console.log(
    `${phase.label}: p50 ${ms(percentile(phase.latencies, 50))}, p95 ${ms(p95)}, p99 ${ms(percentile(phase.latencies, 99))}, ` +
      `max ${ms(phase.latencies.at(-1) ?? Number.NaN)}; ${phase.ok} ok, ${phase.errors} errors, ` +
      `${Math.round(phase.ok / phase.seconds)} req/s (goal p95 < 20 ms: ${p95 < 20 ? 'met' : 'NOT met'})`,
  );
}

async function main() {
  const scratch = await createScratchDatabase(SERVER_URL, 'load');
  const dirs: string[] = [];
  const nodes: NodeProcess[] = [];
  try {
    // The world: migrated, seeded, the demo loaded, two tokens.
    const database = await openDatabase({ databaseUrl: scratch.url, poolSize: 4 });
    await migrateToLatest(database.db);
    const firstDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-load-'));
    dirs.push(firstDir);
    const key = loadOrCreateNodeKey(firstDir);
    const services = buildServices(
      { database, clock: systemClock, key },
      { tokenTtlDays: 1, sessionTtlHours: 1, webhookPrivateNetworks: false },
    );
    await seedIfEmpty({ db: database.db, clock: systemClock, audit: services.audit });
    await loadDemo(services, cli);
    const coordinator = (await services.identity.issueToken(cli, 'duty.officer')).token;
    const analyst = (await services.identity.issueToken(cli, 'lt.analyst')).token;
    await database.close();

    // The processes: one database, one node key, a data directory and a port each.
    for (let i = 0; i < PROCESSES; i++) {
      const dir = i === 0 ? firstDir : fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-load-'));
      if (i > 0) {
        dirs.push(dir);
        shareNodeKey(firstDir, dir);
      }
      nodes.push(await spawnNode({ databaseUrl: scratch.url, dataDir: dir, nodeArgs: childNodeArgs }));
    }
    const urls = nodes.map((node) => node.url);
    await Promise.all(nodes.map((node) => node.ready()));
    const describe = `${PROCESSES} processes on one PostgreSQL, ${CONNECTIONS} concurrent clients on loopback`;
    console.log(`load on ${describe}; ${os.cpus().length} cores shared by clients, processes and PostgreSQL`);

    const asCoordinator = { authorization: `Bearer ${coordinator}` };
    const asAnalyst = { authorization: `Bearer ${analyst}`, 'content-type': 'application/json' };
    // Warm each process (connections, prepared statements, JIT) before measuring.
    for (const url of urls) {
      await fetch(`${url}/api/v1/requests`, { headers: asCoordinator });
      await fetch(`${url}/api/v1/cases`, { headers: asAnalyst });
    }
    const requestsPhase = await hammer(
      'GET /api/v1/requests',
      urls.map((u) => `${u}/api/v1/requests`),
      { duration: SECONDS, headers: asCoordinator },
    );
    printList(requestsPhase);
    const casesPhase = await hammer(
      'GET /api/v1/cases',
      urls.map((u) => `${u}/api/v1/cases`),
      { duration: SECONDS, headers: asAnalyst },
    );
    printList(casesPhase);

    // Writes: a case of its own for our POSTs, another for the raw inserts.
    const newCase = async () => {
      const response = await fetch(`${urls[0]}/api/v1/cases`, {
        method: 'POST',
        headers: asAnalyst,
        body: JSON.stringify({
          title: `load ${crypto.randomUUID()}`,
          incidentClass: 'rsit:malicious-code="c2-server"',
          severity: 'high',
          tlp: 'green',
          pap: 'green',
        }),
      });
      if (response.status !== 201) throw new Error(`case: ${response.status} ${await response.text()}`);
      return (await response.json()) as { id: string };
    };
    const ours = await newCase();
    const raw = await newCase();
    const addressOf = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    let next = 0;
    const writePhase = await hammer(
      `POST /api/v1/cases/{id}/observables`,
      urls.map((u) => `${u}/api/v1/cases/${ours.id}/observables`),
      {
        amount: WRITES,
        method: 'POST',
        headers: asAnalyst,
        requests: [
          {
            setupRequest: (request) => ({
              ...request,
              body: JSON.stringify({ type: 'ip-dst', value: addressOf(next++), comment: 'load' }),
            }),
          },
        ],
      },
    );
    const oursPerSecond = writePhase.ok / writePhase.seconds;

    // The same rows, normalised as stored, by single-row autocommit INSERTs.
    const pool = new pg.Pool({ connectionString: scratch.url, max: PROCESSES * POOL_PER_PROCESS });
    const owner = (
      await pool.query<{ id: string; party: string }>(
        `select id, party_code as party from users where name = 'lt.analyst'`,
      )
    ).rows[0]!;
    const rows = Array.from({ length: WRITES }, (_, n) => {
      const result = normaliseObservable('ip-dst', addressOf(n));
      if (!result.ok) throw new Error(result.message);
      return result.observable;
    });
    let cursor = 0;
    const insertStarted = performance.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (cursor < rows.length) {
          const row = rows[cursor++]!;
          const at = new Date();
          await pool.query(
            `insert into observables (id, case_id, type, category, value, tlp, to_ids, comment, sightings,
               origin_party, created_by_id, created_by, created_at, updated_at, version)
             values ($1, $2, $3, $4, $5, 'green', $6, 'load', 0, $7, $8, 'lt.analyst', $9, $9, 1)`,
            [
              crypto.randomUUID(),
              raw.id,
              row.type,
              row.category,
              row.value,
              row.toIds,
              owner.party,
              owner.id,
              at,
            ],
          );
        }
      }),
    );
    const rawSeconds = (performance.now() - insertStarted) / 1000;
    const rawPerSecond = rows.length / rawSeconds;
    await pool.end();
    const ratio = oursPerSecond / rawPerSecond;
    console.log(
      `POST observables: ${writePhase.ok} written (${writePhase.errors} errors) in ${writePhase.seconds.toFixed(1)} s, ` +
        `${Math.round(oursPerSecond)}/s, p95 ${ms(percentile(writePhase.latencies, 95))}; ` +
        `raw single-row INSERTs of the same rows: ${Math.round(rawPerSecond)}/s; ` +
        `ratio ${ratio.toFixed(2)}x (goal >= 0.5x: ${ratio >= 0.5 ? 'met' : 'NOT met'})`,
    );
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    await scratch.drop();
  }
}

await main();
