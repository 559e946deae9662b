// bench/audit — what the tamper-evident audit log costs.
//  1. append: N events through the audit service (head claim, canonical JSON, SHA-256 chain) vs
//     plain INSERTs of the very same rows in transactions of the same size, in this process,
//     three rounds in alternating order; the median ratio is the figure.
//  2. verify: a chain of M events checked by the verifier vs SHA-256 over the same bytes alone.
// Runs on DATABASE_URL's server (in a scratch database it drops after) or on in-memory PGlite.
// Usage: node --import tsx bench/audit.ts [--append 100000] [--batch 1000] [--single 3000] [--verify 1000000]
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { GENESIS_HASH, sha256Hex } from '../apps/server/src/audit/audit.chain.ts';
import { type AuditEntry, AuditService } from '../apps/server/src/audit/audit.service.ts';
import { verifyChain } from '../apps/server/src/audit/audit.verifier.ts';
import { ManualClock } from '../apps/server/src/clock.ts';
import type { Ctx } from '../apps/server/src/context.ts';
import {
  type DatabaseHandle,
  migrateToLatest,
  openDatabase,
} from '../apps/server/src/platform/db/database.ts';
import type { AuditEventRow } from '../apps/server/src/platform/db/schema.ts';
import { createScratchDatabase } from '../apps/server/src/platform/db/scratch-database.ts';
import { inTransaction } from '../apps/server/src/platform/db/transaction.ts';
import { loadOrCreateNodeKey } from '../apps/server/src/platform/keys.ts';

const { values } = parseArgs({
  options: {
    append: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '1000' },
    single: { type: 'string', default: '3000' },
    verify: { type: 'string', default: '1000000' },
  },
});
const APPEND = Number(values.append);
const BATCH = Number(values.batch);
const SINGLE = Number(values.single);
const VERIFY = Number(values.verify);

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const perSecond = (count: number, ms: number) => Math.round(count / (ms / 1000));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const timed = async (work: () => Promise<unknown>) => {
  const start = performance.now();
  await work();
  return performance.now() - start;
};

const scratch = process.env.DATABASE_URL
  ? await createScratchDatabase(process.env.DATABASE_URL, 'bench')
  : undefined;
const database: DatabaseHandle = await openDatabase({ databaseUrl: scratch?.url });
await migrateToLatest(database.db);
const { db } = database;
const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-bench-'));
const audit = new AuditService({ database, clock: new ManualClock(), key: loadOrCreateNodeKey(keyDir) });
const ctx: Ctx = {
  actor: { type: 'user', id: crypto.randomUUID(), name: 'bench.user', party: 'LT', roles: ['admin'] },
  requestId: crypto.randomUUID(),
};
const entry = (i: number): AuditEntry => ({
  action: 'case.observable.add',
  objectType: 'observable',
  objectId: crypto.randomUUID(),
  summary: { type: 'ip-dst', value: `198.51.100.${i % 256}`, tlp: 'amber', toIds: true },
});
console.log(
  `audit benchmark on ${database.kind === 'postgres' ? 'PostgreSQL' : 'PGlite (in memory)'}, node ${process.version}`,
);

async function resetChain() {
  await sql`truncate audit_events, audit_checkpoints, audit_tree_nodes`.execute(db);
  await sql`update audit_head set seq = 0, prev_hash = ${GENESIS_HASH}, hash = ${GENESIS_HASH}`.execute(db);
  await sql`update audit_tree_state set size = 0, frontier = ''`.execute(db);
}

function batchesOf(count: number, size: number): AuditEntry[][] {
  const batches: AuditEntry[][] = [];
  for (let done = 0; done < count; done += size) {
    batches.push(Array.from({ length: Math.min(size, count - done) }, (_, i) => entry(done + i)));
  }
  return batches;
}

async function throughService(batches: AuditEntry[][]) {
  await resetChain();
  return timed(async () => {
    for (const entries of batches) await inTransaction(db, (trx) => audit.recordMany(trx, ctx, entries));
  });
}

async function plainInserts(rows: AuditEventRow[], size: number) {
  await resetChain();
  return timed(async () => {
    for (let i = 0; i < rows.length; i += size) {
      const slice = rows.slice(i, i + size);
      await inTransaction(db, async (trx) => {
        for (let j = 0; j < slice.length; j += 5000) {
          await trx
            .insertInto('audit_events')
            .values(slice.slice(j, j + 5000))
            .execute();
        }
      });
    }
  });
}

async function compareAppend(count: number, size: number, label: string) {
  const batches = batchesOf(count, size);
  await throughService(batches.slice(0, 5)); // warm-up: connections, plans, JIT
  await throughService(batches);
  const rows = await db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
  const rounds: Array<{ ours: number; plain: number }> = [];
  for (let round = 0; round < 3; round++) {
    // Alternate which goes first, so neither always meets the warmer table.
    if (round % 2 === 0) {
      const ours = await throughService(batches);
      rounds.push({ ours, plain: await plainInserts(rows, size) });
    } else {
      const plain = await plainInserts(rows, size);
      rounds.push({ plain, ours: await throughService(batches) });
    }
  }
  const ratios = rounds.map((r) => r.plain / r.ours);
  const mid = rounds[ratios.indexOf(median(ratios))]!;
  console.log(
    `append ${label}: ${count} events through the audit service ${seconds(mid.ours)} s (${perSecond(count, mid.ours)}/s); ` +
      `plain INSERTs of the same rows ${seconds(mid.plain)} s (${perSecond(count, mid.plain)}/s); ` +
      `ratio ${median(ratios).toFixed(2)}x (rounds ${ratios.map((r) => r.toFixed(2)).join(', ')}; goal >= 0.8x)`,
  );
}

await compareAppend(APPEND, BATCH, `in transactions of ${BATCH}`);
await compareAppend(SINGLE, 1, 'one event per transaction');

await resetChain();
const building = performance.now();
for (const entries of batchesOf(VERIFY, 10_000))
  await inTransaction(db, (trx) => audit.recordMany(trx, ctx, entries));
await sql`vacuum analyze audit_events`.execute(db);
console.log(
  `built a ${VERIFY}-event chain through the service in ${seconds(performance.now() - building)} s`,
);

const verifyRuns: number[] = [];
for (let run = 0; run < 3; run++) {
  verifyRuns.push(
    await timed(async () => {
      const result = await verifyChain(database, { trustedKeys: new Map() });
      if (!result.ok || result.events !== VERIFY)
        throw new Error(`unexpected verify result ${JSON.stringify(result)}`);
    }),
  );
}
const verifyMs = median(verifyRuns);
// Baseline: SHA-256 over the same stored bytes, already in memory, one page at a time.
let rawMs = 0;
let bytes = 0;
for (let after = 0; ; ) {
  const rows = await db
    .selectFrom('audit_events')
    .select(['seq', 'envelope'])
    .where('seq', '>', after)
    .orderBy('seq')
    .limit(50_000)
    .execute();
  if (rows.length === 0) break;
  const start = performance.now();
  for (const row of rows) sha256Hex(row.envelope);
  rawMs += performance.now() - start;
  for (const row of rows) bytes += row.envelope.length;
  after = rows.at(-1)!.seq;
}
console.log(
  `verify: ${VERIFY} events in ${seconds(verifyMs)} s, median of 3 (runs ${verifyRuns.map(seconds).join(', ')} s; goal < 5 s on PostgreSQL); ` +
    `raw SHA-256 of the same ${(bytes / 1e6).toFixed(0)} MB in ${seconds(rawMs)} s; verify/raw ratio ${(verifyMs / rawMs).toFixed(1)}x`,
);

await database.close();
await scratch?.drop();
fs.rmSync(keyDir, { recursive: true, force: true });
