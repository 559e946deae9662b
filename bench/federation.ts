// bench/federation — a fresh peer catching up on a node's change feed (issue 13, Federation I).
// Two nodes in this process, each with its own database, key and HTTP server on loopback: LT holds
// --observables observables in --cases cases (half GREEN, half AMBER shared with EE), written
// through the real bulk import (the federation's outbox triggers record them); EE trusts LT (pinned
// key) and pulls LT's change feed with signed calls until its lag is 0. That catch-up is timed and
// set against a COPY of the very same observable rows (exported from LT beforehand, untimed) into a
// scratch copy of EE's observables table, in the same run. Then pulls with nothing new: the median
// of 10. Goals (issue 13): caught up in under 30 s; a no-op pull under 200 ms. Prints, never asserts.
// --phases: where the catch-up's time goes — LT serving pages (sequencing, queries, signing), EE
// verifying them (shape and signatures), EE applying them (one transaction a page), and the rest
// (HTTP, JSON, cursor and status writes). It wraps the feed's methods on the two instances, so the
// plain run stays unwrapped.
// Runs on in-memory PGlite by default; --engine pg on two scratch databases of the PostgreSQL server
// of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), dropped after.
// Usage: node --import tsx bench/federation.ts [--engine pglite|pg] [--observables 100000]
//          [--cases 10] [--phases]   (npm run bench:federation -- …)
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { buildApp } from '../apps/server/src/app.ts';
import { systemClock } from '../apps/server/src/clock.ts';
import { CLI_ACTOR, type Ctx } from '../apps/server/src/context.ts';
import type { Services } from '../apps/server/src/http/services.ts';
import { seedIfEmpty } from '../apps/server/src/modules/seed.ts';
import {
  type DatabaseHandle,
  migrateToLatest,
  openDatabase,
} from '../apps/server/src/platform/db/database.ts';
import { createScratchDatabase } from '../apps/server/src/platform/db/scratch-database.ts';
import { loadOrCreateNodeKey, type NodeKey } from '../apps/server/src/platform/keys.ts';
import { openSecretBox } from '../apps/server/src/platform/secret-box.ts';
import { openMemoryPglite } from './memory-pglite.ts';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'pglite' },
    observables: { type: 'string', default: '100000' },
    cases: { type: 'string', default: '10' },
    phases: { type: 'boolean', default: false },
  },
});
if (!['pg', 'pglite'].includes(values.engine)) throw new Error('--engine is pglite or pg');
const onPg = values.engine === 'pg';
const OBSERVABLES = Number(values.observables);
const CASES = Number(values.cases);
if (!(CASES >= 2 && OBSERVABLES >= CASES))
  throw new Error('--cases at least 2, --observables at least --cases');
const NO_OP_PULLS = 10;
const GOAL_CATCH_UP_MS = 30_000;
const GOAL_NO_OP_MS = 200;
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const STREAM_CHUNK = 64 * 1024;

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** A port free now, so the node's public URL is known before it is built (it is in its descriptor). */
const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

// ---------------------------------------------------------------------------------------------
// Engines: each node's database, and the COPY out of one and into another.

interface Store {
  database: DatabaseHandle;
  describe: string;
  /** COPY (`query`) TO …: the rows in COPY's text format. */
  copyOut(query: string): Promise<Buffer>;
  /** COPY `table` FROM … of `data` (COPY's text format), in one statement. */
  copyIn(table: string, data: Buffer): Promise<void>;
  close(): Promise<void>;
}

const chunksOf = (buffer: Buffer) => {
  const chunks: Buffer[] = [];
  for (let i = 0; i < buffer.length; i += STREAM_CHUNK) chunks.push(buffer.subarray(i, i + STREAM_CHUNK));
  return chunks;
};

async function openPglite(): Promise<Store> {
  const { client, database, describe } = await openMemoryPglite();
  return {
    database,
    describe,
    async copyOut(query) {
      const result = await client.query(`COPY (${query}) TO '/dev/blob'`);
      return Buffer.from(await result.blob!.arrayBuffer());
    },
    async copyIn(table, data) {
      await client.query(`COPY ${table} FROM '/dev/blob'`, [], { blob: new Blob([data]) });
    },
    close: () => database.close(),
  };
}

async function openPostgres(tag: string): Promise<Store> {
  const scratch = await createScratchDatabase(SERVER_URL, tag);
  const database = await openDatabase({ databaseUrl: scratch.url, poolSize: 10 });
  await migrateToLatest(database.db);
  const { rows } = await database.pool!.query<{ server_version: string }>('show server_version');
  const name = new URL(scratch.url).pathname.slice(1);
  return {
    database,
    describe: `PostgreSQL ${rows[0]!.server_version} (scratch database ${name})`,
    async copyOut(query) {
      const client = await database.pool!.connect();
      try {
        const chunks: Buffer[] = [];
        const stream = client.query(copyTo(`COPY (${query}) TO STDOUT`));
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      } finally {
        client.release();
      }
    },
    async copyIn(table, data) {
      const client = await database.pool!.connect();
      try {
        await pipeline(Readable.from(chunksOf(data)), client.query(copyFrom(`COPY ${table} FROM STDIN`)));
      } finally {
        client.release();
      }
    },
    async close() {
      await database.close();
      await scratch.drop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A node: its database, key, app listening on loopback, federated as `party`.

interface BenchNode {
  party: string;
  url: string;
  key: NodeKey;
  store: Store;
  services: Services;
  close(): Promise<void>;
}

async function startNode(party: string): Promise<BenchNode> {
  const store = onPg ? await openPostgres(`bench_fed_${party.toLowerCase()}_`) : await openPglite();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `vytis-bench-fed-${party.toLowerCase()}-`));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const key = loadOrCreateNodeKey(dataDir);
  // The system clock on both: signed calls are dated by it and checked against the callee's clock.
  const clock = systemClock;
  const { app, services } = await buildApp(
    {
      database: store.database,
      clock,
      key,
      secrets: await openSecretBox(dataDir, store.database.db, clock.now()),
    },
    {
      evidenceDir: path.join(dataDir, 'evidence'),
      webhookPrivateNetworks: ['127.0.0.0/8'],
      publicUrl: url,
      federation: { party, role: 'national', pullSeconds: 3600 },
    },
  );
  await seedIfEmpty({ db: store.database.db, clock, audit: services.audit });
  await services.federation.feed.enable();
  await app.listen({ port, host: '127.0.0.1' });
  return {
    party,
    url,
    key,
    store,
    services,
    async close() {
      await app.close();
      await store.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The base URL peers are given for `node`: its URL, unless its node-to-node routes are served under
 * /federation/v1 twice (federation.routes.ts passing its own `prefix` on to the plugins it
 * registers): then the URL with one /federation/v1, so that the bench still measures the feed.
 */
async function peerBase(node: BenchNode): Promise<string> {
  const answers = async (base: string) => {
    const response = await fetch(`${base}/federation/v1/node`);
    return response.status === 200 && (response.headers.get('content-type') ?? '').includes('json');
  };
  if (await answers(node.url)) return node.url;
  const doubled = `${node.url}/federation/v1`;
  if (!(await answers(doubled)))
    throw new Error(`${node.party}'s node serves no descriptor at ${node.url}/federation/v1/node`);
  console.log(
    `NOTE: ${node.party}'s node serves /federation/v1 routes under /federation/v1/federation/v1 (a doubled prefix); ` +
      `its peer is given ${doubled} as its URL`,
  );
  return doubled;
}

async function userCtx(node: BenchNode, name: string, roles: ('admin' | 'analyst')[]): Promise<Ctx> {
  const cli: Ctx = { actor: CLI_ACTOR, requestId: null };
  await node.services.identity.createUser(cli, { name, party: node.party, roles });
  return { actor: (await node.services.identity.actorByName(name))!, requestId: null };
}

// ---------------------------------------------------------------------------------------------
// LT's data: the cases, and a CSV file of distinct indicators for each.

const HEX = (n: number, salt: string) => crypto.createHash('sha256').update(`${salt}:${n}`).digest('hex');

function indicatorCsv(from: number, count: number): Buffer {
  const lines = ['type,value,comment'];
  for (let n = from; n < from + count; n++) {
    const kind = n % 3;
    if (kind === 0) {
      const a = Math.imul(n + 1, 2654435761) >>> 0; // a bijection on 32 bits: distinct addresses
      lines.push(`ip-dst,${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255},bench ${n}`);
    } else if (kind === 1) lines.push(`domain,host-${n.toString(36)}.bench-federation.example,bench ${n}`);
    else lines.push(`sha256,${HEX(n, 'federation')},bench ${n}`);
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------
// Per-phase timing (--phases): the feed's methods on the two instances, wrapped.

interface Phase {
  ms: number;
  /** CPU time of this process meanwhile (a pull runs alone, so it is the phase's own). */
  cpuMs: number;
  calls: number;
}

const cpuMsNow = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

function timed<T extends object, K extends keyof T>(target: T, method: K, phase: Phase) {
  const original = (target[method] as (...args: unknown[]) => unknown).bind(target);
  (target as Record<K, unknown>)[method] = (...args: unknown[]) => {
    const start = performance.now();
    const cpuStart = cpuMsNow();
    const done = () => {
      phase.ms += performance.now() - start;
      phase.cpuMs += cpuMsNow() - cpuStart;
      phase.calls++;
    };
    const result = original(...args);
    if (result instanceof Promise) return result.finally(done);
    done();
    return result;
  };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const nodes: BenchNode[] = [];
  try {
    const lt = await startNode('LT');
    nodes.push(lt);
    const ee = await startNode('EE');
    nodes.push(ee);
    console.log(
      `federation benchmark on ${lt.store.describe} and ${ee.store.describe}, node ${process.version}, ` +
        `${os.cpus().length} cores (shared with other work)`,
    );

    // LT: the cases and their observables (untimed).
    const loading = performance.now();
    const analyst = await userCtx(lt, 'lt.bench', ['analyst']);
    const caseIds: string[] = [];
    for (let c = 0; c < CASES; c++) {
      const amber = c % 2 === 1;
      const created = await lt.services.cases.create(analyst, {
        title: `Federation bench ${c + 1} (${amber ? 'AMBER, shared with EE' : 'GREEN'})`,
        description: 'Indicators for the federation benchmark',
        incidentClass: 'rsit:malicious-code="c2-server"',
        severity: 'high',
        tlp: amber ? 'amber' : 'green',
        pap: 'amber',
        ...(amber ? { shares: { parties: ['EE'] } } : {}),
      });
      caseIds.push(created.id);
    }
    for (const [c, caseId] of caseIds.entries()) {
      const from = Math.floor((OBSERVABLES * c) / CASES);
      const count = Math.floor((OBSERVABLES * (c + 1)) / CASES) - from;
      const result = await lt.services.observables.importFile(
        analyst,
        caseId,
        Readable.from(chunksOf(indicatorCsv(from, count))),
        { format: 'csv', partial: false },
      );
      if (result.imported !== count)
        throw new Error(
          `the import stored ${result.imported} of ${count}: ${JSON.stringify(result).slice(0, 500)}`,
        );
    }
    const importMs = performance.now() - loading;
    const sequencing = performance.now();
    const head = await lt.services.federation.feed.head();
    const sequenceMs = performance.now() - sequencing;
    console.log(
      `LT: ${OBSERVABLES} observables in ${CASES} cases (half GREEN, half AMBER shared with EE) through the bulk import ` +
        `in ${seconds(importMs)} s; its feed sequenced to head ${head} in ${seconds(sequenceMs)} s (both untimed)`,
    );

    // Trust, both ways: EE pins LT's key (and LT EE's, which verifies EE's signed calls).
    const eeAdmin = await userCtx(ee, 'ee.admin', ['admin']);
    const ltAdmin = await userCtx(lt, 'lt.admin', ['admin']);
    await ee.services.federation.peers.add(eeAdmin, {
      url: await peerBase(lt),
      party: 'LT',
      pin: lt.key.keyId,
    });
    await lt.services.federation.peers.add(ltAdmin, {
      url: await peerBase(ee),
      party: 'EE',
      pin: ee.key.keyId,
    });

    const phases = {
      sequence: { ms: 0, cpuMs: 0, calls: 0 },
      serve: { ms: 0, cpuMs: 0, calls: 0 },
      verify: { ms: 0, cpuMs: 0, calls: 0 },
      apply: { ms: 0, cpuMs: 0, calls: 0 },
      witness: { ms: 0, cpuMs: 0, calls: 0 },
    };
    if (values.phases) {
      timed(lt.services.federation.feed, 'sequence', phases.sequence);
      timed(lt.services.federation.feed, 'page', phases.serve);
      timed(ee.services.federation.feed, 'checkPage', phases.verify);
      timed(ee.services.federation.feed, 'apply', phases.apply);
      timed(ee.services.federation.witness, 'exchange', phases.witness);
    }

    // The catch-up: pulls until EE's cursor is LT's head.
    const cpuBefore = process.cpuUsage();
    const catchingUp = performance.now();
    let pulls = 0;
    let applied = 0;
    for (;;) {
      const outcome = await ee.services.federation.puller.pullOne('LT');
      pulls++;
      if (!outcome.ok) throw new Error(`pull ${pulls} of LT failed: ${outcome.error}`);
      applied += outcome.applied;
      if (outcome.cursor === head) break;
      if (pulls > 1000)
        throw new Error(`no catch-up after ${pulls} pulls (cursor ${outcome.cursor} of ${head})`);
    }
    const catchUpMs = performance.now() - catchingUp;
    const cpu = process.cpuUsage(cpuBefore);
    const catchUpPhases = structuredClone(phases);
    const status = await ee.services.federation.peers.status('LT');
    const mirrored = Number(
      (
        await sql<{ n: string }>`select count(*) as n from observables where mirrored_from = 'LT'`.execute(
          ee.store.database.db,
        )
      ).rows[0]!.n,
    );
    const mirroredCases = Number(
      (
        await sql<{ n: string }>`select count(*) as n from cases where mirrored_from = 'LT'`.execute(
          ee.store.database.db,
        )
      ).rows[0]!.n,
    );
    if (mirrored !== OBSERVABLES || mirroredCases !== CASES)
      throw new Error(
        `EE holds ${mirrored} of ${OBSERVABLES} observables and ${mirroredCases} of ${CASES} cases from LT`,
      );

    // The baseline: a COPY of the same rows into a scratch copy of EE's observables table.
    const rows = await lt.store.copyOut(
      `select * from observables where case_id in (${caseIds.map((id) => `'${id}'`).join(', ')})`,
    );
    await sql`create table bench_copy (like observables including defaults)`.execute(ee.store.database.db);
    const copying = performance.now();
    await ee.store.copyIn('bench_copy', rows);
    const copyMs = performance.now() - copying;
    const copied = Number(
      (await sql<{ n: string }>`select count(*) as n from bench_copy`.execute(ee.store.database.db)).rows[0]!
        .n,
    );
    if (copied !== OBSERVABLES) throw new Error(`the COPY stored ${copied} of ${OBSERVABLES} rows`);
    // And into a copy with the table's indexes too, as the mirrors are written (for context).
    await sql`create table bench_copy_indexed (like observables including all)`.execute(ee.store.database.db);
    const copyingIndexed = performance.now();
    await ee.store.copyIn('bench_copy_indexed', rows);
    const copyIndexedMs = performance.now() - copyingIndexed;

    // Pulls with nothing new.
    const noOps: number[] = [];
    const noOpCpu = process.cpuUsage();
    for (let i = 0; i < NO_OP_PULLS; i++) {
      const start = performance.now();
      const outcome = await ee.services.federation.puller.pullOne('LT');
      noOps.push(performance.now() - start);
      if (!outcome.ok) throw new Error(`no-op pull ${i + 1} failed: ${outcome.error}`);
      if (outcome.applied !== 0 || outcome.cursor !== head)
        throw new Error(`no-op pull ${i + 1} was not one: ${JSON.stringify(outcome)}`);
    }
    const noOpMs = median(noOps);
    const noOpCpuUsed = process.cpuUsage(noOpCpu);
    const noOpTotal = {
      ms: noOps.reduce((x, y) => x + y, 0),
      cpuMs: (noOpCpuUsed.user + noOpCpuUsed.system) / 1000,
    };

    console.log(
      `catch-up: EE pulled LT's feed (head ${head}) in ${seconds(catchUpMs)} s over ${pulls} pull(s): ` +
        `${applied} versions applied (${Math.round(applied / (catchUpMs / 1000))} versions/s); ` +
        `EE holds ${mirrored} observables and ${mirroredCases} cases from LT; lag ${status.lag}`,
    );
    console.log(
      `  CPU time of this process (both nodes${onPg ? '; PostgreSQL not counted' : ", PGlite's too"}): ` +
        `${seconds((cpu.user + cpu.system) / 1000)} s`,
    );
    console.log(
      `COPY of the same ${copied} rows into EE's database: ${seconds(copyMs)} s (a bare copy of the table); ` +
        `${seconds(copyIndexedMs)} s into one with the table's indexes`,
    );
    console.log(
      `catch-up / COPY: ${(catchUpMs / copyMs).toFixed(1)}× (${(catchUpMs / copyIndexedMs).toFixed(1)}× against the indexed copy) — ` +
        `goal caught up in under ${GOAL_CATCH_UP_MS / 1000} s: ${catchUpMs < GOAL_CATCH_UP_MS ? 'met' : 'NOT met'}`,
    );
    console.log(
      `no-op pull: median ${noOpMs.toFixed(1)} ms of ${NO_OP_PULLS} (${noOps.map((ms) => ms.toFixed(0)).join(', ')} ms) — ` +
        `goal under ${GOAL_NO_OP_MS} ms: ${noOpMs < GOAL_NO_OP_MS ? 'met' : 'NOT met'}`,
    );
    if (values.phases) {
      const cell = (ms: number) => seconds(ms).padStart(7);
      const line = (label: string, ms: number, cpuMs: number, calls?: number) =>
        `  ${label.padEnd(50)} ${cell(ms)} s ${cell(cpuMs)} s${calls === undefined ? '' : `  (${calls} calls)`}`;
      const report = (title: string, total: { ms: number; cpuMs: number }, of: typeof phases) => {
        const parts = [of.serve, of.verify, of.apply, of.witness];
        const sum = (pick: (p: Phase) => number) => parts.reduce((a, p) => a + pick(p), 0);
        console.log(`${title}: wall, CPU of this process (both nodes${onPg ? '' : ' and their PGlite'})`);
        console.log(line('LT serving pages (ChangeFeed.page)', of.serve.ms, of.serve.cpuMs, of.serve.calls));
        console.log(
          line(
            '  of which numbering (ChangeFeed.sequence)',
            of.sequence.ms,
            of.sequence.cpuMs,
            of.sequence.calls,
          ),
        );
        console.log(
          line('EE verifying pages (ChangeFeed.checkPage)', of.verify.ms, of.verify.cpuMs, of.verify.calls),
        );
        console.log(
          line('EE applying pages (ChangeFeed.apply)', of.apply.ms, of.apply.cpuMs, of.apply.calls),
        );
        console.log(
          line(
            'audit checkpoints exchanged (WitnessService)',
            of.witness.ms,
            of.witness.cpuMs,
            of.witness.calls,
          ),
        );
        console.log(
          line(
            'the rest: HTTP, JSON, signatures of calls, cursor',
            total.ms - sum((p) => p.ms),
            total.cpuMs - sum((p) => p.cpuMs),
          ),
        );
        console.log(line('total', total.ms, total.cpuMs));
      };
      report(
        'phases of the catch-up',
        { ms: catchUpMs, cpuMs: (cpu.user + cpu.system) / 1000 },
        catchUpPhases,
      );
      const minus = (a: Phase, b: Phase): Phase => ({
        ms: a.ms - b.ms,
        cpuMs: a.cpuMs - b.cpuMs,
        calls: a.calls - b.calls,
      });
      report(`phases of the ${NO_OP_PULLS} no-op pulls`, noOpTotal, {
        sequence: minus(phases.sequence, catchUpPhases.sequence),
        serve: minus(phases.serve, catchUpPhases.serve),
        verify: minus(phases.verify, catchUpPhases.verify),
        apply: minus(phases.apply, catchUpPhases.apply),
        witness: minus(phases.witness, catchUpPhases.witness),
      });
    }
  } finally {
    for (const node of nodes.reverse()) await node.close();
  }
}

await main();
