// bench/stix-export — STIX 2.1 export of a whole case (GET /cases/{id}/stix's service) against a
// baseline: a plain JSON export of the very same rows (ObservablesService.passable, one
// JSON.stringify per row), in the same process, on the same database. The case holds --rows
// observables (ip-dst, domain, url, sha256, filename|md5 in turn, ~10% sighted); each observable
// becomes 2–4 STIX objects (indicator, cyber-observable, based-on, sighting), so the figure is
// STIX objects per second, printed beside rows per second of both. Goal: 10,000 objects/s or more.
// Runs on in-memory PGlite, or on a scratch database of the PostgreSQL server of DATABASE_URL
// (--engine pg), dropped after.
// Usage: node --import tsx bench/stix-export.ts [--engine pglite|pg] [--rows 100000] [--rounds 3]
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../apps/server/src/app.ts';
import { ManualClock } from '../apps/server/src/clock.ts';
import { CLI_ACTOR, type Ctx } from '../apps/server/src/context.ts';
import { seedIfEmpty } from '../apps/server/src/modules/seed.ts';
import { StixService } from '../apps/server/src/modules/stix/stix.service.ts';
import { migrateToLatest, openDatabase } from '../apps/server/src/platform/db/database.ts';
import { createScratchDatabase } from '../apps/server/src/platform/db/scratch-database.ts';
import { loadOrCreateNodeKey } from '../apps/server/src/platform/keys.ts';
import { openSecretBox } from '../apps/server/src/platform/secret-box.ts';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'pglite' },
    rows: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
  },
});
const rows = Number(values.rows);
const rounds = Number(values.rounds);

function observable(i: number) {
  const hex = crypto.createHash('sha256').update(String(i)).digest('hex');
  switch (i % 5) {
    case 0:
      return {
        type: 'ip-dst',
        category: 'Network activity',
        value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      };
    case 1:
      return { type: 'domain', category: 'Network activity', value: `c2-${i}.bench.example` };
    case 2:
      return { type: 'url', category: 'Network activity', value: `http://dl-${i}.bench.example/p?i=${i}` };
    case 3:
      return { type: 'sha256', category: 'Payload delivery', value: hex };
    default:
      return {
        type: 'filename|md5',
        category: 'Payload delivery',
        value: `drop-${i}.exe|${hex.slice(0, 32)}`,
      };
  }
}

async function main() {
  const scratch =
    values.engine === 'pg'
      ? await createScratchDatabase(
          process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
          'bench_stix_',
        )
      : undefined;
  const database = await openDatabase({ databaseUrl: scratch?.url, poolSize: 5 });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-bench-stix-'));
  try {
    await migrateToLatest(database.db);
    const clock = new ManualClock('2026-11-23T12:00:00Z');
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
    const cli: Ctx = { actor: CLI_ACTOR, requestId: null };
    const user = await services.identity.createUser(cli, {
      name: 'lt.bench',
      party: 'LT',
      roles: ['analyst'],
    });
    const ctx: Ctx = {
      actor: { type: 'user', id: user.id, name: 'lt.bench', party: 'LT', roles: ['analyst'] },
      requestId: crypto.randomUUID(),
    };
    const created = await services.cases.create(ctx, {
      title: 'Bench: a large case',
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'high',
      tlp: 'green',
      pap: 'amber',
    });
    // The rows go straight into the table (how they got there is not what is measured).
    const now = clock.now();
    for (let start = 0; start < rows; start += 2000) {
      const batch = [];
      for (let i = start; i < Math.min(rows, start + 2000); i++) {
        const o = observable(i);
        const sighted = i % 10 === 0;
        batch.push({
          id: crypto.randomUUID(),
          case_id: created.id,
          ...o,
          tlp: 'green',
          to_ids: true,
          comment: '',
          first_seen: sighted ? now : null,
          last_seen: sighted ? now : null,
          sightings: sighted ? 1 : 0,
          origin_party: 'LT',
          created_by_id: user.id,
          created_by: 'lt.bench',
          created_at: now,
          updated_at: now,
          version: 1,
          import_id: null,
        });
      }
      await database.db.insertInto('observables').values(batch).execute();
    }
    const stix = new StixService({
      db: database.db,
      cases: services.cases,
      observables: services.observables,
    });
    const results: { plain: number; stix: number; objects: number; bytes: number }[] = [];
    for (let round = 0; round < rounds; round++) {
      let t = performance.now();
      const { rows: plainRows } = await services.observables.passable(ctx, created.id);
      let plainBytes = 0;
      let plainCount = 0;
      for await (const row of plainRows) {
        plainBytes += JSON.stringify(row).length;
        plainCount++;
      }
      const plain = (performance.now() - t) / 1000;
      t = performance.now();
      const { chunks, stats } = await stix.caseBundle(ctx, created.id);
      let bytes = 0;
      for await (const chunk of chunks) bytes += chunk.length;
      const took = (performance.now() - t) / 1000;
      results.push({ plain, stix: took, objects: stats.objects, bytes });
      console.log(
        `round ${round + 1}: plain JSON ${plainCount} rows in ${plain.toFixed(2)} s (${Math.round(plainCount / plain)} rows/s, ${plainBytes} B); ` +
          `STIX ${stats.objects} objects in ${took.toFixed(2)} s (${Math.round(stats.objects / took)} objects/s, ` +
          `${Math.round(rows / took)} rows/s, ${bytes} B); ratio ${(took / plain).toFixed(2)}`,
      );
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const objects = results[0]!.objects;
    console.log(
      `${values.engine}, ${rows} observables: STIX ${Math.round(objects / median(results.map((r) => r.stix)))} objects/s ` +
        `(median of ${rounds}); plain JSON ${Math.round(rows / median(results.map((r) => r.plain)))} rows/s; ` +
        `time ratio STIX/plain ${median(results.map((r) => r.stix / r.plain)).toFixed(2)}`,
    );
    await app.close();
  } finally {
    await database.close();
    await scratch?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
