// bench/load — several Vytis processes on one PostgreSQL under many concurrent clients.
//  1. lists: GET /api/v1/requests and GET /api/v1/cases from --connections clients at once (autocannon,
//     spread round-robin over the processes), for --seconds each, on the demo world; every response's
//     latency is recorded, so p50/p95/p99 are exact (goal: p95 under 20 ms).
//  2. writes: POST /api/v1/cases/{id}/observables, one new indicator a request, --writes requests
//     from the same clients over the processes, vs single-row autocommit INSERTs of the very same
//     rows (normalised as the API stores them) into the same table from as many concurrent workers,
//     through as many database connections as the processes hold together, in this run, in --rounds
//     rounds of alternating order after a warm-up of each (the median ratio stands; goal: ours ≥ 0.5×
//     the raw inserts).
// Runs on a scratch database vytis_load_<pid> of the PostgreSQL server of DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres), dropped after. Processes are real node processes
// (`vytis start`, see node-process.ts), each with its own port and data directory and the same node key.
// Usage: node --import tsx bench/load.ts [--processes 3] [--connections 100] [--seconds 10]
//          [--writes 20000] [--rounds 3] [--phases lists,writes]
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import pg from 'pg';
import { buildServices } from '../apps/server/src/app.ts';
import { loadDemo } from '../apps/server/src/cli/demo.ts';
import { systemClock } from '../apps/server/src/clock.ts';
import { CLI_ACTOR, type Ctx } from '../apps/server/src/context.ts';
import { normaliseObservable } from '../apps/server/src/modules/indicators/observable-types.ts';
import { seedIfEmpty } from '../apps/server/src/modules/seed.ts';
import { migrateToLatest, openDatabase } from '../apps/server/src/platform/db/database.ts';
import { createScratchDatabase } from '../apps/server/src/platform/db/scratch-database.ts';
import { copyNodeKeys, loadOrCreateNodeKey } from '../apps/server/src/platform/keys.ts';
import { openSecretBox } from '../apps/server/src/platform/secret-box.ts';
import { type NodeProcess, processCpuMs, spawnNode } from './node-process.ts';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '3' },
    connections: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
    writes: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    // One phase alone, e.g. to profile it.
    phases: { type: 'string', default: 'lists,writes' },
  },
});
const PROCESSES = Number(values.processes);
const CONNECTIONS = Number(values.connections);
// Extra node flags for the processes under load, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
const childNodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const SECONDS = Number(values.seconds);
const WRITES = Number(values.writes);
const ROUNDS = Number(values.rounds);
const WARMUP_PER_PROCESS = 2000;
const PHASES = new Set(values.phases.split(','));
/** Each process's pool (the node's default). */
const POOL_PER_PROCESS = 10;
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const cli: Ctx = { actor: CLI_ACTOR, requestId: null };

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

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
  // Timed to the last answer: autocannon notices it is done at its next one-second tick.
  let lastAnswer = started;
  instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
    lastAnswer = performance.now();
    latencies.push(responseTime);
    if (status >= 200 && status < 300) ok += 1;
    else errors += 1;
  });
  const result = await instance;
  errors += result.errors + result.timeouts;
  latencies.sort((a, b) => a - b);
  return { label, ok, errors, seconds: (lastAnswer - started) / 1000, latencies };
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
      {
        database,
        clock: systemClock,
        key,
        secrets: await openSecretBox(firstDir, database.db, systemClock.now()),
      },
      { tokenTtlDays: 1, sessionTtlHours: 1, webhookPrivateNetworks: false },
    );
    await seedIfEmpty({ db: database.db, clock: systemClock, audit: services.audit });
    await loadDemo(services, cli);
    const coordinator = (await services.identity.issueToken(cli, 'duty.officer')).token;
    const analyst = (await services.identity.issueToken(cli, 'lt.analyst')).token;
    // Statistics, as a node in service has them (autovacuum would gather them a minute in): plans
    // made on a just-loaded database without them can be far off.
    await sql`analyze`.execute(database.db);
    await database.close();

    // The processes: one database, one node key, a data directory and a port each.
    for (let i = 0; i < PROCESSES; i++) {
      const dir = i === 0 ? firstDir : fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-load-'));
      if (i > 0) {
        dirs.push(dir);
        copyNodeKeys(firstDir, dir);
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
    if (PHASES.has('lists')) {
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
    }
    if (!PHASES.has('writes')) return;

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
    const pool = new pg.Pool({ connectionString: scratch.url, max: PROCESSES * POOL_PER_PROCESS });
    const owner = (
      await pool.query<{ id: string; party: string }>(
        `select id, party_code as party from users where name = 'lt.analyst'`,
      )
    ).rows[0]!;

    /** CPU used so far (ms) by the processes, the database's backends, and this process (the clients). */
    const cpuNow = async () => {
      const { rows: backends } = await pool.query<{ pid: number }>(
        'select pid from pg_stat_activity where datname = current_database()',
      );
      const perPid = new Map<number, number>();
      for (const { pid } of backends) {
        const used = processCpuMs(pid);
        if (used !== null) perPid.set(pid, used);
      }
      const usage = process.cpuUsage();
      return {
        nodes: nodes.reduce((a, node) => a + (processCpuMs(node.child.pid!) ?? 0), 0),
        backends: perPid,
        client: (usage.user + usage.system) / 1000,
      };
    };
    const cpuSince = async (before: Awaited<ReturnType<typeof cpuNow>>) => {
      const after = await cpuNow();
      let database = 0;
      for (const [pid, used] of after.backends) database += used - (before.backends.get(pid) ?? 0);
      return { nodes: after.nodes - before.nodes, database, client: after.client - before.client };
    };

    /** Our POSTs of the values numbered [from, to). */
    const postRound = async (from: number, to: number, caseId = ours.id) => {
      let next = from;
      const cpuBefore = await cpuNow();
      const phase = await hammer(
        `POST /api/v1/cases/{id}/observables`,
        urls.map((u) => `${u}/api/v1/cases/${caseId}/observables`),
        {
          amount: to - from,
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
      return { ...phase, perSecond: phase.ok / phase.seconds, cpu: await cpuSince(cpuBefore) };
    };
    /** The same rows, normalised as stored, by single-row autocommit INSERTs from as many workers. */
    const insertRound = async (from: number, to: number, caseId = raw.id) => {
      const rows = Array.from({ length: to - from }, (_, k) => {
        const result = normaliseObservable('ip-dst', addressOf(from + k));
        if (!result.ok) throw new Error(result.message);
        return result.observable;
      });
      let cursor = 0;
      const cpuBefore = await cpuNow();
      const started = performance.now();
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
                caseId,
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
      const perSecond = rows.length / ((performance.now() - started) / 1000);
      return { perSecond, rows: rows.length, cpu: await cpuSince(cpuBefore) };
    };

    // Rounds in alternating order, as bench/ingest does: the machine is shared and PostgreSQL's own
    // background work (checkpoints, autovacuum) follows whichever ran before; the median ratio stands.
    // Both warmed first, on a case of their own, as the lists are: the processes' code compiled,
    // their statements prepared on every pooled connection, the baseline's pool connected. 2000
    // writes a process: with 2000 in all, the first timed round still ran about 40% slower than the
    // rounds after it (the processes' code was still being optimised), and was measuring that.
    const warm = await newCase();
    const WARMUP = WARMUP_PER_PROCESS * PROCESSES;
    await postRound(WRITES, WRITES + WARMUP, warm.id);
    await insertRound(WRITES + WARMUP, WRITES + 2 * WARMUP, warm.id);
    const perRound = Math.ceil(WRITES / ROUNDS);
    const rounds: {
      ours: Awaited<ReturnType<typeof postRound>>;
      raw: Awaited<ReturnType<typeof insertRound>>;
    }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const from = r * perRound;
      const to = Math.min(WRITES, from + perRound);
      if (r % 2 === 0) {
        const o = await postRound(from, to);
        rounds.push({ ours: o, raw: await insertRound(from, to) });
      } else {
        const w = await insertRound(from, to);
        rounds.push({ raw: w, ours: await postRound(from, to) });
      }
    }
    await pool.end();
    const ratios = rounds.map((round) => round.ours.perSecond / round.raw.perSecond);
    const ratio = median(ratios);
    const written = rounds.reduce((a, round) => a + round.ours.ok, 0);
    const failed = rounds.reduce((a, round) => a + round.ours.errors, 0);
    const latencies = rounds.flatMap((round) => round.ours.latencies).sort((a, b) => a - b);
    const rate = (xs: number[]) => xs.map((x) => Math.round(x)).join(', ');
    console.log(
      `POST observables: ${written} written (${failed} errors) in ${ROUNDS} rounds, ${rate(rounds.map((round) => round.ours.perSecond))}/s, ` +
        `p95 ${ms(percentile(latencies, 95))}; raw single-row INSERTs of the same rows: ${rate(rounds.map((round) => round.raw.perSecond))}/s; ` +
        `ratios ${ratios.map((x) => x.toFixed(2)).join(', ')}, median ${ratio.toFixed(2)}x (goal >= 0.5x: ${ratio >= 0.5 ? 'met' : 'NOT met'})`,
    );
    // CPU per write: the machine is shared by clients, processes and PostgreSQL, so rates follow it.
    const perWrite = (
      pick: (round: (typeof rounds)[number]) => { cpu: { nodes: number; database: number; client: number } },
      count: (round: (typeof rounds)[number]) => number,
    ) => {
      const total = rounds.reduce((a, round) => a + count(round), 0);
      const sum = (key: 'nodes' | 'database' | 'client') =>
        rounds.reduce((a, round) => a + pick(round).cpu[key], 0) / total;
      return { nodes: sum('nodes'), database: sum('database'), client: sum('client') };
    };
    const oursCpu = perWrite(
      (round) => round.ours,
      (round) => round.ours.ok,
    );
    const rawCpu = perWrite(
      (round) => round.raw,
      (round) => round.raw.rows,
    );
    const fixed = (n: number) => n.toFixed(2);
    console.log(
      `  CPU per write: ours ${fixed(oursCpu.nodes)} ms in the ${PROCESSES} processes + ${fixed(oursCpu.database)} ms in PostgreSQL + ${fixed(oursCpu.client)} ms in the HTTP clients; ` +
        `raw ${fixed(rawCpu.database)} ms in PostgreSQL + ${fixed(rawCpu.client)} ms in its client; ` +
        `CPU ratio ${((rawCpu.database + rawCpu.client) / (oursCpu.nodes + oursCpu.database + oursCpu.client)).toFixed(2)}x`,
    );
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    await scratch.drop();
  }
}

await main();
