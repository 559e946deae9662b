// bench/ingest — bulk indicator import into a store that already holds many indicators.
//  1. ingest: N indicator lines (ip-dst, domain, url, sha256, md5; ~10% defanged or in upper case;
//     ~3% already stored in another case; ~2% repeated in the file, some spelt differently) as CSV
//     through the whole import path (ObservablesService.importFile: parse, normalise, dedupe,
//     write, with the (value) index that correlation reads) vs a raw COPY of the very same
//     normalised rows (normalised beforehand, untimed) into the same table, on top of the same
//     pre-loaded rows (loaded with COPY, in chunks), in this process. The file is cut into --rounds
//     slices; each slice goes through both, each into a case of its own, in alternating order;
//     the median of the rounds' ratios is the figure. Once into new cases (where the import needs
//     no check against stored rows) and once into cases that already hold an indicator (each row
//     checked against what the importer sees there); --into picks one. CPU time is printed beside wall time,
//     for the server's processes too when it runs on this machine.
//  2. lookup: GET /api/v1/indicators/lookup?value=… over real HTTP (loopback, the client in a
//     process of its own), one request at a time, for stored values (some typed defanged or in
//     upper case) and ~10% absent ones, once the ingest has settled (vacuum; on PostgreSQL a
//     checkpoint too). On PostgreSQL the server is a node as users run it: `vytis start`
//     in a process of its own on the scratch database, with the same node key, started after the
//     ingest and stopped after the lookups, so it carries neither this process's heap (the
//     generated rows) nor its garbage collection; the CPU per request is the node's (its
//     /proc/<pid>/stat) and PostgreSQL's (its backends on the database). On PGlite, in-process by
//     nature, the server is the app built in this process, beside the generated rows, and the CPU
//     is this process's. Then the same lookups in the service alone, and the token check alone,
//     in this process.
// Runs on a scratch database vytis_bench_<pid> of the PostgreSQL server of DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres), dropped after, and on in-memory PGlite (smaller
// by default: 1M rows take long there).
// Usage: node --import tsx bench/ingest.ts [--engine pg|pglite|both] [--rows 1000000]
//          [--preload N (default: rows)] [--pglite-rows 200000] [--rounds 3]
//          [--into new|existing|both] [--lookups 2000] [--warmup 3000] [--seed 7]
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { buildApp } from '../apps/server/src/app.ts';
import { ManualClock } from '../apps/server/src/clock.ts';
import { CLI_ACTOR, type Ctx } from '../apps/server/src/context.ts';
import type { Services } from '../apps/server/src/http/services.ts';
import { normaliseObservable } from '../apps/server/src/modules/indicators/observable-types.ts';
import { seedIfEmpty } from '../apps/server/src/modules/seed.ts';
import {
  type DatabaseHandle,
  migrateToLatest,
  openDatabase,
} from '../apps/server/src/platform/db/database.ts';
import { copyNodeKeys, loadOrCreateNodeKey } from '../apps/server/src/platform/keys.ts';
import { openSecretBox } from '../apps/server/src/platform/secret-box.ts';
import { openMemoryPglite } from './memory-pglite.ts';
import { type NodeProcess, processCpuMs, spawnNode } from './node-process.ts';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'both' },
    rows: { type: 'string' },
    preload: { type: 'string' },
    'pglite-rows': { type: 'string' },
    rounds: { type: 'string', default: '3' },
    lookups: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '3000' },
    into: { type: 'string', default: 'both' },
    seed: { type: 'string', default: '7' },
  },
});
if (!['pg', 'pglite', 'both'].includes(values.engine)) throw new Error('--engine is pg, pglite or both');
const ENGINES: ('pg' | 'pglite')[] =
  values.engine === 'both' ? ['pg', 'pglite'] : [values.engine as 'pg' | 'pglite'];
const PG_ROWS = Number(values.rows ?? 1_000_000);
const PGLITE_ROWS = Number(values['pglite-rows'] ?? values.rows ?? 200_000);
const ROUNDS = Number(values.rounds);
type Mode = 'new' | 'existing';
if (!['new', 'existing', 'both'].includes(values.into)) throw new Error('--into is new, existing or both');
const INTO = values.into as Mode | 'both';
const LOOKUPS = Number(values.lookups);
/**
 * Lookups served before the measured ones: a node in service has long been warm (its code
 * optimised, its statements prepared); a fresh one spends about twice the CPU a request on its
 * first thousands.
 */
const WARMUP = Number(values.warmup);
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Rows per COPY while pre-loading, and per chunk of a COPY buffer. */
const PRELOAD_CHUNK = 100_000;
const STREAM_CHUNK = 64 * 1024;
const PRELOAD_CASES = 8;
/** Share of the ingested lines whose value is already stored in another case (they correlate). */
const OVERLAP = 0.03;
/** Share of the lines repeating an earlier line of the same file (perhaps spelt differently). */
const REPEATS = 0.02;

const seconds = (ms: number) => (ms / 1000).toFixed(1);
const perSecond = (count: number, ms: number) => Math.round(count / (ms / 1000));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

// ---------------------------------------------------------------------------------------------
// Indicators: a seeded generator (mulberry32), so every run ingests the same file.

let state = Number(values.seed) >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const below = (n: number) => Math.floor(random() * n);

const WORDS = (
  'secure login update cdn mail portal verify account cloud static api office invoice track ' +
  'support files auth sync news pay'
).split(' ');
const TLDS = ['com', 'net', 'org', 'info', 'ru', 'xyz', 'top', 'io', 'lt', 'de', 'eu', 'co.uk'];
const PATHS = ['wp-content/uploads', 'admin', 'files/dl', 'gate.php', 'api/v2/report', 'index.html'];
const COMMENTS = [
  '',
  '',
  '',
  '',
  'phishing wave',
  'C2 beacon',
  'seen in sandbox, "stage 2"',
  'from ISAC, TLP cleared',
];

interface Indicator {
  type: string;
  value: string;
}

/** A distinct indicator for each `n` (distinct within its type), as an analyst's file has it. */
function indicator(n: number): Indicator {
  const kind = random();
  const defang = random() < 0.1;
  const upper = random() < 0.1;
  if (kind < 0.3) {
    const address = Math.imul(n, 2654435761) >>> 0; // a bijection on 32 bits
    const text = `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
    return { type: 'ip-dst', value: defang ? text.replace(/\.(\d+)$/, '[.]$1') : text };
  }
  const host = `${WORDS[n % WORDS.length]}-${n.toString(36)}.${WORDS[(n >>> 5) % WORDS.length]}.${TLDS[(n >>> 9) % TLDS.length]}`;
  if (kind < 0.55) {
    const text = upper ? host.toUpperCase() : host;
    return { type: 'domain', value: defang ? text.replace(/\.([a-z]+)$/i, '[.]$1') : text };
  }
  if (kind < 0.75) {
    const scheme = random() < 0.7 ? 'https' : 'http';
    const query = random() < 0.4 ? `?id=${n % 9973}&u=${(n * 7) % 1000}` : '';
    const text = `${scheme}://${host}/${PATHS[n % PATHS.length]}/${n.toString(16)}${query}`;
    return {
      type: 'url',
      value: defang
        ? text
            .replace(/^http/, 'hxxp')
            .replace(`.${TLDS[(n >>> 9) % TLDS.length]}/`, (m) => `[.]${m.slice(1)}`)
        : text,
    };
  }
  if (kind < 0.9) {
    const digest = crypto.createHash('sha256').update(`s${n}`).digest('hex');
    return { type: 'sha256', value: upper ? digest.toUpperCase() : digest };
  }
  const digest = crypto.createHash('md5').update(`m${n}`).digest('hex');
  return { type: 'md5', value: upper ? digest.toUpperCase() : digest };
}

/** Another spelling of the same value, which normalises to the same stored value. */
function respelt(line: Indicator): Indicator {
  if (line.type === 'ip-dst') return line;
  if (line.value.includes('[.]')) return { ...line, value: line.value.replace('[.]', '.') };
  return {
    ...line,
    value: line.value.toUpperCase().startsWith('HTTP') ? line.value : line.value.toUpperCase(),
  };
}

const csvField = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

interface Slice {
  /** The file, as the client sends it. */
  csv: Buffer;
  /** The rows it stores: normalised and deduplicated, as the import would (computed here, untimed). */
  rows: StoredRow[];
}

interface StoredRow {
  type: string;
  category: string;
  value: string;
  toIds: boolean;
  comment: string;
}

function normalisedRows(lines: readonly (Indicator & { comment: string })[]): StoredRow[] {
  const seen = new Set<string>();
  const rows: StoredRow[] = [];
  for (const line of lines) {
    const result = normaliseObservable(line.type, line.value);
    if (!result.ok) throw new Error(`generated a bad line: ${result.message}`);
    const { type, category, value, toIds } = result.observable;
    const key = `${type}\u0000${value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({ type, category, value, toIds, comment: line.comment });
  }
  return rows;
}

/** A file of `count` lines: mostly new values, some already stored elsewhere, some repeated. */
function makeSlice(count: number, nextId: () => number, stored: readonly Indicator[]): Slice {
  const lines: (Indicator & { comment: string })[] = [];
  for (let i = 0; i < count; i++) {
    const comment = COMMENTS[below(COMMENTS.length)]!;
    if (i > 0 && random() < REPEATS) lines.push({ ...respelt(lines[below(i)]!), comment });
    else if (stored.length > 0 && random() < OVERLAP)
      lines.push({ ...stored[below(stored.length)]!, comment });
    else lines.push({ ...indicator(nextId()), comment });
  }
  // A repeated value keeps its first line's comment: the import keeps the first line it sees.
  const text = [
    'type,value,comment',
    ...lines.map((l) => `${l.type},${csvField(l.value)},${csvField(l.comment)}`),
  ];
  return { csv: Buffer.from(`${text.join('\n')}\n`), rows: normalisedRows(lines) };
}

// ---------------------------------------------------------------------------------------------
// COPY

const COPY_COLUMNS =
  'id, case_id, type, category, value, tlp, to_ids, comment, first_seen, last_seen, sightings, ' +
  'origin_party, created_by_id, created_by, created_at, updated_at, version';
const copyText = (value: string) =>
  value.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);

interface Cost {
  ms: number;
  /** CPU time of the node's process (this one unless told), ms. */
  nodeCpu: number;
  /** CPU time of the database server's processes for this database, ms; null when not measurable. */
  serverCpu: number | null;
}

interface CaseOwner {
  caseId: string;
  tlp: string;
  party: string;
  userId: string;
  userName: string;
  at: Date;
}

/** COPY's text format of `rows` in `owner`'s case, as the import would store them. */
function copyBuffer(rows: readonly StoredRow[], owner: CaseOwner): Buffer {
  const at = owner.at.toISOString();
  const tail = `\t${owner.party}\t${owner.userId}\t${copyText(owner.userName)}\t${at}\t${at}\t1\n`;
  const parts: string[] = [];
  for (const row of rows) {
    parts.push(
      `${crypto.randomUUID()}\t${owner.caseId}\t${copyText(row.type)}\t${copyText(row.category)}\t${copyText(row.value)}\t` +
        `${owner.tlp}\t${row.toIds ? 't' : 'f'}\t${copyText(row.comment)}\t\\N\t\\N\t0${tail}`,
    );
  }
  return Buffer.from(parts.join(''));
}

const chunksOf = (buffer: Buffer) => {
  const chunks: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += STREAM_CHUNK) chunks.push(buffer.subarray(i, i + STREAM_CHUNK));
  return chunks;
};

// ---------------------------------------------------------------------------------------------
// Engines

interface Engine {
  label: string;
  /** The engine and its version, for the header line. */
  describe: string;
  database: DatabaseHandle;
  /** The database's URL, for a node of its own to open; null when it lives in this process. */
  databaseUrl: string | null;
  /** A COPY of `data` (COPY's text format) into observables, in one statement, made ready to run. */
  prepareCopy(data: Buffer): () => Promise<void>;
  /** CPU time (ms) so far of each server process on this database; null when not on this machine. */
  serverCpu(): Promise<Map<number, number> | null>;
  close(): Promise<void>;
}

async function openPostgres(): Promise<Engine> {
  const name = `vytis_bench_${process.pid}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: SERVER_URL });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`drop database if exists "${name}" with (force)`);
  await admin(`create database "${name}"`);
  // Interrupted, it still drops its database.
  process.once('SIGINT', () => {
    void admin(`drop database if exists "${name}" with (force)`).finally(() => process.exit(130));
  });
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), poolSize: 5 });
  await migrateToLatest(database.db);
  const { rows } = await database.pool!.query<{ server_version: string }>('show server_version');
  return {
    label: 'PostgreSQL',
    database,
    databaseUrl: url.toString(),
    describe: `PostgreSQL ${rows[0]!.server_version} (scratch database ${name})`,
    prepareCopy(data) {
      const chunks = chunksOf(data);
      return async () => {
        const client = await database.pool!.connect();
        try {
          await pipeline(
            Readable.from(chunks),
            client.query(copyFrom(`COPY observables (${COPY_COLUMNS}) FROM STDIN`)),
          );
        } finally {
          client.release();
        }
      };
    },
    async serverCpu() {
      const { rows: backends } = await database.pool!.query<{ pid: number }>(
        'select pid from pg_stat_activity where datname = current_database()',
      );
      const cpu = new Map<number, number>();
      for (const { pid } of backends) {
        const ms = processCpuMs(pid);
        if (ms !== null) cpu.set(pid, ms); // null: it just ended (an idle pooled connection)
      }
      return cpu.size > 0 ? cpu : null; // none readable: a server elsewhere
    },
    async close() {
      await database.close();
      await admin(`drop database if exists "${name}" with (force)`);
    },
  };
}

async function openPglite(): Promise<Engine> {
  const { client, database, describe } = await openMemoryPglite();
  return {
    label: 'PGlite',
    database,
    databaseUrl: null,
    describe,
    prepareCopy(data) {
      const blob = new Blob([data]);
      return async () => {
        await client.query(`COPY observables (${COPY_COLUMNS}) FROM '/dev/blob'`, [], { blob });
      };
    },
    serverCpu: async () => null, // in this process: its CPU is the node figure
    close: () => database.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// The HTTP client of the lookups: sequential GETs from a process of its own (plain JS, node:http
// on one kept-alive connection, as a service calling the API would), so that it shares neither the
// server's event loop nor its CPU time, and adds as little of its own as it can to each latency.

const LOOKUP_CLIENT = `
const http = require('node:http');
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', async () => {
  const { base, token, values } = JSON.parse(input);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const headers = { authorization: 'Bearer ' + token };
  const get = (url) => new Promise((resolve, reject) => {
    http.get(url, { agent, headers }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, body: JSON.parse(Buffer.concat(chunks)) }));
    }).on('error', reject);
  });
  const answers = [];
  for (const value of values) {
    const start = performance.now();
    const { status, body } = await get(base + encodeURIComponent(value));
    const ms = performance.now() - start;
    answers.push({ ms, status, items: Array.isArray(body.items) ? body.items.length : 0 });
  }
  agent.destroy();
  process.stdout.write(JSON.stringify(answers));
});
`;

async function lookupClient(
  base: string,
  token: string,
  values: string[],
): Promise<{ ms: number; status: number; items: number }[]> {
  const client = spawn(process.execPath, ['-e', LOOKUP_CLIENT], { stdio: ['pipe', 'pipe', 'inherit'] });
  client.stdin.end(JSON.stringify({ base, token, values }));
  let output = '';
  client.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const [code] = (await once(client, 'close')) as [number | null];
  if (code !== 0) throw new Error(`the lookup client ended with ${code}`);
  return JSON.parse(output);
}

/** CPU time of this process so far, ms. */
const ownCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Waits until a process uses under 10 ms of CPU in half a second, for at most 10 s. */
async function settle(cpuMs: () => number) {
  for (let i = 0; i < 20; i++) {
    const before = cpuMs();
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (cpuMs() - before < 10) return;
  }
  console.log('  (the node was still busy after 10 s: its CPU below may include start-up work)');
}

// ---------------------------------------------------------------------------------------------
// The run on one engine

const CASE_BODY = {
  description: 'Indicators from the ingest benchmark',
  incidentClass: 'rsit:malicious-code="c2-server"',
  severity: 'high',
  tlp: 'amber',
  pap: 'amber',
} as const;

async function runOn(kind: 'pg' | 'pglite', rows: number, preload: number) {
  const engine = kind === 'pg' ? await openPostgres() : await openPglite();
  const { database } = engine;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-bench-'));
  const clock = new ManualClock('2026-11-23T12:00:00Z');
  let app: Awaited<ReturnType<typeof buildApp>>['app'] | undefined;
  let node: NodeProcess | undefined;
  try {
    const built = await buildApp(
      {
        database,
        clock,
        key: loadOrCreateNodeKey(dataDir),
        secrets: await openSecretBox(dataDir, database.db, clock.now()),
      },
      { evidenceDir: path.join(dataDir, 'evidence') },
    );
    app = built.app;
    const { services } = built;
    await seedIfEmpty({ db: database.db, clock, audit: services.audit });
    const cli: Ctx = { actor: CLI_ACTOR, requestId: null };
    const user = await services.identity.createUser(cli, {
      name: 'lt.bench',
      party: 'LT',
      roles: ['analyst'],
    });
    // Long-lived: the node of the lookups checks it against the real clock, not this run's.
    const { token } = await services.identity.issueToken(cli, 'lt.bench', { expiresInDays: 3650 });
    const ctx: Ctx = {
      actor: { type: 'user', id: user.id, name: 'lt.bench', party: 'LT', roles: ['analyst'] },
      requestId: crypto.randomUUID(),
    };
    let cases = 0;
    const newCase = async (title: string): Promise<CaseOwner> => {
      const created = await services.cases.create(ctx, { ...CASE_BODY, title: `${title} ${++cases}` });
      return {
        caseId: created.id,
        tlp: created.tlp,
        party: 'LT',
        userId: user.id,
        userName: 'lt.bench',
        at: clock.now(),
      };
    };
    console.log(
      `ingest benchmark on ${engine.describe}, node ${process.version}, ${os.cpus().length} cores (shared with other work)`,
    );

    // The store: `preload` rows over several cases, loaded with COPY (untimed).
    let id = 0;
    const nextId = () => id++;
    const stored: Indicator[] = [];
    const loading = performance.now();
    const preloadCases = await Promise.all(
      Array.from({ length: PRELOAD_CASES }, () => newCase('Earlier case')),
    );
    for (let done = 0; done < preload; done += PRELOAD_CHUNK) {
      const lines = Array.from({ length: Math.min(PRELOAD_CHUNK, preload - done) }, () => ({
        ...indicator(nextId()),
        comment: '',
      }));
      for (const line of lines) if (random() < 0.05) stored.push(line);
      const owner = preloadCases[(done / PRELOAD_CHUNK) % PRELOAD_CASES]!;
      await engine.prepareCopy(copyBuffer(normalisedRows(lines), owner))();
    }
    await sql`vacuum analyze observables`.execute(database.db);
    const storedCount = async () =>
      Number(
        (await sql<{ n: string }>`select count(*) as n from observables`.execute(database.db)).rows[0]!.n,
      );
    console.log(
      `pre-loaded ${await storedCount()} indicators in ${PRELOAD_CASES} cases with COPY in ${seconds(performance.now() - loading)} s (chunks of ${PRELOAD_CHUNK}; untimed)`,
    );

    // The file, cut into slices; each slice's rows normalised beforehand for COPY.
    const sizes = Array.from(
      { length: ROUNDS },
      (_, r) => Math.floor((rows * (r + 1)) / ROUNDS) - Math.floor((rows * r) / ROUNDS),
    );
    const modes = INTO === 'both' ? (['new', 'existing'] as const) : [INTO];
    const slicesOf = new Map(
      modes.map((mode) => [mode, sizes.map((size) => makeSlice(size, nextId, stored))]),
    );
    const warmSlice = makeSlice(Math.min(5000, rows), nextId, stored);

    // Wall time, and the CPU time of the node (this process unless told) and of the database
    // server's processes.
    const measure = async (work: () => Promise<unknown>, nodeCpuMs = ownCpuMs): Promise<Cost> => {
      const server = await engine.serverCpu();
      const nodeBefore = nodeCpuMs();
      const start = performance.now();
      await work();
      const ms = performance.now() - start;
      const nodeCpu = nodeCpuMs() - nodeBefore;
      const serverAfter = await engine.serverCpu();
      let serverCpu: number | null = null;
      if (server && serverAfter) {
        serverCpu = 0;
        // A process that ended meanwhile was idle (the pool closes idle connections): it used none.
        for (const [pid, cpu] of serverAfter) serverCpu += cpu - (server.get(pid) ?? 0);
      }
      return { ms, nodeCpu, serverCpu };
    };
    const ours = async (slice: Slice, owner: CaseOwner) => {
      let result: Awaited<ReturnType<Services['observables']['importFile']>> | undefined;
      const source = Readable.from(chunksOf(slice.csv));
      const cost = await measure(async () => {
        result = await services.observables.importFile(ctx, owner.caseId, source, {
          format: 'csv',
          partial: false,
        });
      });
      if (result!.imported !== slice.rows.length || result!.rejected !== 0)
        throw new Error(
          `the import stored ${result!.imported} of ${slice.rows.length} rows: ${JSON.stringify(result).slice(0, 500)}`,
        );
      return cost;
    };
    const copy = async (slice: Slice, owner: CaseOwner) =>
      measure(engine.prepareCopy(copyBuffer(slice.rows, owner)));
    const sameRows = async (a: CaseOwner, b: CaseOwner) => {
      const { rows: diff } = await sql<{ n: string }>`
        select count(*) as n from (
          (select type, category, value, tlp, to_ids, comment from observables where case_id = ${a.caseId}
           except all select type, category, value, tlp, to_ids, comment from observables where case_id = ${b.caseId})
          union all
          (select type, category, value, tlp, to_ids, comment from observables where case_id = ${b.caseId}
           except all select type, category, value, tlp, to_ids, comment from observables where case_id = ${a.caseId})
        ) d`.execute(database.db);
      if (Number(diff[0]!.n) !== 0)
        throw new Error(`the import and COPY stored different rows (${diff[0]!.n})`);
    };

    // A case that already holds an indicator: the import checks each row against what the importer sees there.
    let held = 0;
    const holding = async (owner: CaseOwner) => {
      await services.observables.add(ctx, owner.caseId, { type: 'domain', value: `held-${held}.example` });
      return owner;
    };
    const casePair = async (mode: Mode) => {
      held++;
      const pair = [await newCase('Import'), await newCase('COPY')] as const;
      if (mode === 'existing') for (const owner of pair) await holding(owner);
      return pair;
    };

    // Warm-up (plans, JIT, connections), then its rows go again: the rounds start from the preload.
    const warm = [...(await casePair('new')), ...(await casePair('existing'))];
    for (const [i, owner] of warm.entries()) await (i % 2 === 0 ? ours : copy)(warmSlice, owner);
    await sql`delete from observables where case_id in (${sql.join(warm.map((w) => w.caseId))})`.execute(
      database.db,
    );
    await sql`vacuum analyze observables`.execute(database.db);

    for (const mode of modes) {
      const slices = slicesOf.get(mode)!;
      const before = await storedCount();
      const rounds: { ours: Cost; copy: Cost; rows: number }[] = [];
      for (const [r, slice] of slices.entries()) {
        const [mine, theirs] = await casePair(mode);
        // Alternate which goes first, so neither always meets the smaller table.
        if (r % 2 === 0) {
          const o = await ours(slice, mine);
          rounds.push({ ours: o, copy: await copy(slice, theirs), rows: slice.rows.length });
        } else {
          const c = await copy(slice, theirs);
          rounds.push({ copy: c, ours: await ours(slice, mine), rows: slice.rows.length });
        }
        await sameRows(mine, theirs);
      }
      const sum = (pick: (r: (typeof rounds)[number]) => number) => rounds.reduce((a, r) => a + pick(r), 0);
      const oursMs = sum((r) => r.ours.ms);
      const copyMs = sum((r) => r.copy.ms);
      const written = sum((r) => r.rows);
      const ratios = rounds.map((r) => r.copy.ms / r.ours.ms);
      const ratio = median(ratios);
      const where =
        mode === 'new'
          ? 'new cases'
          : 'cases already holding indicators (each row checked against what the importer sees)';
      console.log(
        `ingest on ${engine.label}: ${rows} indicators into ${before} stored: ours ${seconds(oursMs)} s (${perSecond(rows, oursMs)}/s); ` +
          `COPY of the same rows ${seconds(copyMs)} s (${perSecond(rows, copyMs)}/s); ratio ${ratio.toFixed(2)}x ` +
          `(goal >= 0.5x${kind === 'pg' ? `: ${ratio >= 0.5 ? 'met' : 'NOT met'}` : ''}) — into ${where}`,
      );
      console.log(
        `  ${ROUNDS} rounds of ~${sizes[0]} lines (${written} distinct rows written by each, ${rows - written} in-file repeats), ` +
          `alternating order; ratios ${ratios.map((x) => x.toFixed(2)).join(', ')} (median above); ` +
          `ours ${rounds.map((r) => seconds(r.ours.ms)).join(', ')} s, COPY ${rounds.map((r) => seconds(r.copy.ms)).join(', ')} s`,
      );
      const serverCpu = rounds.every((r) => r.ours.serverCpu !== null && r.copy.serverCpu !== null);
      console.log(
        serverCpu
          ? `  CPU time: ours ${seconds(sum((r) => r.ours.nodeCpu))} s in node + ${seconds(sum((r) => r.ours.serverCpu!))} s in PostgreSQL; ` +
              `COPY ${seconds(sum((r) => r.copy.nodeCpu))} s + ${seconds(sum((r) => r.copy.serverCpu!))} s; ` +
              `CPU ratio ${(sum((r) => r.copy.nodeCpu + r.copy.serverCpu!) / sum((r) => r.ours.nodeCpu + r.ours.serverCpu!)).toFixed(2)}x ` +
              '(the wall times include waiting for a core: the machine is shared)'
          : `  CPU time in this process (PGlite's too): ours ${seconds(sum((r) => r.ours.nodeCpu))} s; ` +
              `COPY ${seconds(sum((r) => r.copy.nodeCpu))} s; ` +
              `CPU ratio ${(sum((r) => r.copy.nodeCpu) / sum((r) => r.ours.nodeCpu)).toFixed(2)}x`,
      );
    }

    if (LOOKUPS <= 0) return;
    // Lookup over HTTP, at rest: the ingest's autovacuum and dirty pages are settled first, so the
    // figure is the steady state a user sees, not the aftermath of a million-row write.
    await sql`vacuum analyze observables`.execute(database.db);
    if (kind === 'pg') await sql`checkpoint`.execute(database.db);
    const total = await storedCount();
    // The server: on PostgreSQL a node as users run it, in a process of its own with the same node
    // key (the token is in the database); PGlite lives in this process, so the app built here serves.
    let origin: string;
    let serverProcessCpu: () => number;
    let server: string;
    if (engine.databaseUrl) {
      const nodeDir = path.join(dataDir, 'node');
      copyNodeKeys(dataDir, nodeDir);
      node = await spawnNode({ databaseUrl: engine.databaseUrl, dataDir: nodeDir });
      await node.ready();
      const { pid } = node.child;
      serverProcessCpu = () => {
        const ms = pid === undefined ? null : processCpuMs(pid);
        if (ms === null) throw new Error(`cannot read the CPU time of the node (pid ${pid})`);
        return ms;
      };
      origin = node.url;
      server = 'the node in a process of its own';
    } else {
      await app.listen({ host: '127.0.0.1', port: 0 });
      origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      serverProcessCpu = ownCpuMs;
      server = 'the app in this process (PGlite is in-process)';
    }
    const base = `${origin}/api/v1/indicators/lookup?value=`;
    const ingested = [...slicesOf.values()].flat().flatMap((s) => s.rows);
    const queries: { value: string; present: boolean }[] = [];
    for (let i = 0; i < LOOKUPS + WARMUP; i++) {
      const roll = random();
      if (roll < 0.1) queries.push({ value: indicator(nextId()).value, present: false });
      else if (roll < 0.5 && stored.length > 0)
        queries.push({ value: stored[below(stored.length)]!.value, present: true });
      else queries.push({ value: ingested[below(ingested.length)]!.value, present: true });
    }
    const check = (answers: Awaited<ReturnType<typeof lookupClient>>, asked: typeof queries) => {
      for (const [i, answer] of answers.entries()) {
        const query = asked[i]!;
        if (answer.status !== 200) throw new Error(`lookup of ${query.value} answered ${answer.status}`);
        if (query.present && answer.items === 0) throw new Error(`lookup missed stored ${query.value}`);
      }
      return answers;
    };
    const warmUp = queries.slice(0, WARMUP);
    const measured = queries.slice(WARMUP);
    check(
      await lookupClient(
        base,
        token,
        warmUp.map((q) => q.value),
      ),
      warmUp,
    );
    // A node just started finishes its own start-up work (the team solver's workers) first.
    if (node) await settle(serverProcessCpu);
    let answers: Awaited<ReturnType<typeof lookupClient>> = [];
    const lookupCost = await measure(async () => {
      answers = check(
        await lookupClient(
          base,
          token,
          measured.map((q) => q.value),
        ),
        measured,
      );
    }, serverProcessCpu);
    await node?.stop();
    const perRequest = (ms: number) => (ms / measured.length).toFixed(2);
    const latencies = answers.map((a) => a.ms);
    const found = answers.filter((a) => a.items > 0).length;
    latencies.sort((a, b) => a - b);
    const p99 = percentile(latencies, 99);
    // The same lookups in the service alone (no HTTP, no token check), in this process, to tell the
    // layers apart.
    const inService: number[] = [];
    for (const query of measured) {
      const start = performance.now();
      await services.observables.lookup(ctx, query.value);
      inService.push(performance.now() - start);
    }
    inService.sort((a, b) => a - b);
    // And the bearer token check every request makes.
    const tokenCheck: number[] = [];
    for (let i = 0; i < LOOKUPS; i++) {
      const start = performance.now();
      await services.identity.authenticateToken(token);
      tokenCheck.push(performance.now() - start);
    }
    tokenCheck.sort((a, b) => a - b);
    console.log(
      `lookup on ${engine.label} at ${total} stored, over HTTP: p50 ${percentile(latencies, 50).toFixed(2)} ms, ` +
        `p99 ${p99.toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(2)} ms (${latencies.length} sequential requests, ${found} found, ` +
        `served by ${server}; goal p99 < 5 ms${kind === 'pg' ? `: ${p99 < 5 ? 'met' : 'NOT met'}` : ''})`,
    );
    console.log(
      `  CPU time per request: ${perRequest(lookupCost.nodeCpu)} ms in ${node ? 'the node' : 'this'} process` +
        (lookupCost.serverCpu === null ? '' : ` + ${perRequest(lookupCost.serverCpu)} ms in PostgreSQL`) +
        '; the wall times include waiting for a core (the machine is shared)',
    );
    console.log(
      `  the same in ObservablesService.lookup alone, in this process: p50 ${percentile(inService, 50).toFixed(2)} ms, ` +
        `p99 ${percentile(inService, 99).toFixed(2)} ms; the token check of each request alone: ` +
        `p50 ${percentile(tokenCheck, 50).toFixed(2)} ms, p99 ${percentile(tokenCheck, 99).toFixed(2)} ms`,
    );
  } finally {
    await node?.stop();
    await app?.close();
    await engine.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

for (const kind of ENGINES) {
  const rows = kind === 'pg' ? PG_ROWS : PGLITE_ROWS;
  const preload = Number(values.preload ?? rows);
  if (kind === 'pglite' && values['pglite-rows'] === undefined && values.rows === undefined)
    console.log(
      `PGlite runs ${rows} into ${preload} by default (1M takes long in memory); --pglite-rows to change`,
    );
  await runOn(kind, rows, preload);
}
