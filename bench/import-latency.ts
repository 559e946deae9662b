// bench/import-latency — does a big indicator import on the embedded database (PGlite) leave the
// node answering other users? One node (in-memory PGlite, real HTTP on loopback); a second user in
// a process of its own issues GET /api/v1/cases one request at a time (a short pause between),
// first with nothing else going on (the baseline), then while the first user imports an N-line
// CSV file (POST /api/v1/indicators/bulk). Prints the other user's p50 / p95 / max in both phases,
// the ratio to the baseline, and the goal: p95 under 100 ms during the import.
// Usage: node --import tsx bench/import-latency.ts [--lines 200000] [--baseline-seconds 5]
//        (npm run bench:import-latency)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildApp } from '../apps/server/src/app.ts';
import { ManualClock } from '../apps/server/src/clock.ts';
import { CLI_ACTOR } from '../apps/server/src/context.ts';
import { seedIfEmpty } from '../apps/server/src/modules/seed.ts';
import { migrateToLatest, openDatabase } from '../apps/server/src/platform/db/database.ts';
import { loadOrCreateNodeKey } from '../apps/server/src/platform/keys.ts';
import { openSecretBox } from '../apps/server/src/platform/secret-box.ts';

const GOAL_P95_MS = 100;
const PAUSE_MS = 10;

const { values } = parseArgs({
  options: {
    client: { type: 'boolean', default: false },
    lines: { type: 'string', default: '200000' },
    'baseline-seconds': { type: 'string', default: '5' },
  },
});

if (values.client) await runClient();
else await runBench();

/** The other user: requests one at a time until told to stop on stdin, then prints the latencies. */
async function runClient() {
  const url = process.env.BENCH_URL!;
  const headers = { authorization: `Bearer ${process.env.BENCH_TOKEN}` };
  let stop = false;
  process.stdin.on('data', () => {
    stop = true;
  });
  const latencies: number[] = [];
  process.stdout.write('ready\n');
  while (!stop) {
    const started = performance.now();
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET answered ${response.status}`);
    latencies.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
  }
  process.stdout.write(`${JSON.stringify(latencies)}\n`);
  process.exit(0);
}

function startClient(url: string, token: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--client'], {
    env: { ...process.env, BENCH_URL: url, BENCH_TOKEN: token },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (out.startsWith('ready\n')) resolve();
    });
  });
  const finished = new Promise<number[]>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`the client exited with ${code}`));
      else resolve(JSON.parse(out.slice('ready\n'.length)) as number[]);
    });
  });
  return {
    ready,
    stop: () => {
      child.stdin.end('stop\n');
      return finished;
    },
  };
}

function stats(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), max: sorted.at(-1) ?? Number.NaN };
}

async function runBench() {
  const lines = Number(values.lines);
  const baselineMs = Number(values['baseline-seconds']) * 1000;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-bench-'));
  const database = await openDatabase({});
  await migrateToLatest(database.db);
  const clock = new ManualClock(new Date());
  const { app, services } = await buildApp(
    {
      database,
      clock,
      key: loadOrCreateNodeKey(dataDir),
      secrets: await openSecretBox(dataDir, database.db, clock.now()),
    },
    { evidenceDir: path.join(dataDir, 'evidence') },
  );
  await seedIfEmpty({ db: database.db, clock, audit: services.audit });
  const cli = { actor: CLI_ACTOR, requestId: null };
  const user = async (name: string, party: string) => {
    await services.identity.createUser(cli, { name, party, roles: ['analyst'] });
    return (await services.identity.issueToken(cli, name)).token;
  };
  const importer = await user('lt.importer', 'LT');
  const other = await user('ee.analyst', 'EE');
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/v1`;
  const created = await fetch(`${base}/cases`, {
    method: 'POST',
    headers: { authorization: `Bearer ${importer}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      title: 'Bench: a large indicator import',
      description: 'bench',
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'high',
      tlp: 'amber',
      pap: 'amber',
    }),
  });
  const caseId = ((await created.json()) as { id: string }).id;
  // The other user sees a few cases of their own.
  for (let i = 0; i < 5; i++) {
    await fetch(`${base}/cases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: `Bench: case ${i}`,
        description: 'bench',
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'medium',
        tlp: 'green',
        pap: 'green',
      }),
    });
  }
  const rows = ['type,value,comment'];
  for (let i = 0; i < lines; i++) {
    rows.push(
      i % 2 === 0
        ? `ip-dst,10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},bench`
        : `domain,host-${i}.bench[.]example,bench`,
    );
  }
  const file = `${rows.join('\n')}\n`;

  console.log(`# bench/import-latency: ${lines} lines (${(file.length / 1e6).toFixed(1)} MB) on PGlite`);
  const baselineClient = startClient(`${base}/cases`, other);
  await baselineClient.ready;
  await new Promise((resolve) => setTimeout(resolve, baselineMs));
  const baseline = stats(await baselineClient.stop());

  const duringClient = startClient(`${base}/cases`, other);
  await duringClient.ready;
  const started = performance.now();
  const response = await fetch(`${base}/indicators/bulk?caseId=${caseId}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${importer}`, 'content-type': 'text/csv' },
    body: file,
  });
  const result = await response.json();
  const importMs = performance.now() - started;
  const during = stats(await duringClient.stop());
  if (response.status !== 200)
    throw new Error(`the import answered ${response.status}: ${JSON.stringify(result)}`);

  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(`import: ${JSON.stringify(result)} in ${(importMs / 1000).toFixed(1)} s`);
  console.log('other user, GET /api/v1/cases   n      p50        p95        max');
  for (const [label, s] of [
    ['baseline (no import)', baseline],
    ['during the import', during],
  ] as const) {
    console.log(
      `  ${label.padEnd(28)} ${String(s.n).padStart(5)}  ${fmt(s.p50).padStart(9)}  ${fmt(s.p95).padStart(9)}  ${fmt(s.max).padStart(9)}`,
    );
  }
  console.log(
    `ratio during/baseline: p50 ×${(during.p50 / baseline.p50).toFixed(2)}, p95 ×${(during.p95 / baseline.p95).toFixed(2)}, max ×${(during.max / baseline.max).toFixed(2)}`,
  );
  console.log(
    `goal: p95 during the import < ${GOAL_P95_MS} ms: ${during.p95 < GOAL_P95_MS ? 'met' : 'NOT met'} (${fmt(during.p95)})`,
  );
  await app.close();
  await database.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
