// bench/taxii — a TAXII 2.1 collection of --objects objects (one case's observables, each served as
// its indicator) paged over real HTTP on loopback, 1,000 objects a page (--page): --pages pages
// walked with `next`, then as many walked with `added_after` (each from the previous page's
// X-TAXII-Date-Added-Last), every page's latency recorded (p50/p95/p99 exact). The baseline is the
// same keyset query run bare in SQL (the page's rows, joined to their case, in the same order and
// from the same keys, no access policy, no mapping, no HTTP) for the very same pages, in this run:
// the figure is our p95 against it. Goal: p95 under 100 ms.
// Runs on a scratch database vytis_bench_taxii_<pid> of the PostgreSQL server of DATABASE_URL
// (default postgres://postgres@127.0.0.1:5432/postgres), dropped after; --engine pglite runs on
// in-memory PGlite (with fewer objects by default: loading takes longer there).
// Usage: node --import tsx bench/taxii.ts [--engine pg|pglite] [--objects 1000000] [--pages 200]
//          [--page 1000]
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { buildApp } from '../apps/server/src/app.ts';
import { ManualClock } from '../apps/server/src/clock.ts';
import { CLI_ACTOR, type Ctx } from '../apps/server/src/context.ts';
import { seedIfEmpty } from '../apps/server/src/modules/seed.ts';
import { migrateToLatest, openDatabase } from '../apps/server/src/platform/db/database.ts';
import { createScratchDatabase } from '../apps/server/src/platform/db/scratch-database.ts';
import { loadOrCreateNodeKey } from '../apps/server/src/platform/keys.ts';
import { openSecretBox } from '../apps/server/src/platform/secret-box.ts';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'pg' },
    objects: { type: 'string' },
    pages: { type: 'string', default: '200' },
    page: { type: 'string', default: '1000' },
  },
});
const onPg = values.engine !== 'pglite';
const OBJECTS = Number(values.objects ?? (onPg ? 1_000_000 : 250_000));
const PAGES = Number(values.pages);
const PAGE = Number(values.page);
const TAXII = 'application/taxii+json;version=2.1';

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const describe = (latencies: number[]) => {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    text: `p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms`,
  };
};

async function main() {
  const scratch = onPg
    ? await createScratchDatabase(
        process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
        'bench_taxii_',
      )
    : undefined;
  const database = await openDatabase(scratch ? { databaseUrl: scratch.url, poolSize: 10 } : {});
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-bench-taxii-'));
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
    const { token } = await services.identity.issueToken(cli, 'lt.bench');
    const ctx: Ctx = {
      actor: { type: 'user', id: user.id, name: 'lt.bench', party: 'LT', roles: ['analyst'] },
      requestId: crypto.randomUUID(),
    };
    const created = await services.cases.create(ctx, {
      title: 'Bench: a collection of a million objects',
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'high',
      tlp: 'green',
      pap: 'amber',
    });

    // The objects go straight into the table, generated in SQL (how they got there is not measured):
    // addresses, domains and MD5s in turn, each added a millisecond after the last.
    const loadStarted = performance.now();
    const CHUNK = 100_000;
    for (let from = 0; from < OBJECTS; from += CHUNK) {
      const to = Math.min(OBJECTS, from + CHUNK) - 1;
      await sql`
        insert into observables (id, case_id, type, category, value, tlp, to_ids, comment, first_seen, last_seen,
          sightings, origin_party, created_by_id, created_by, created_at, updated_at, version, import_id)
        select gen_random_uuid(), ${created.id}::uuid,
          case i % 3 when 0 then 'ip-dst' when 1 then 'domain' else 'md5' end,
          case i % 3 when 2 then 'Payload delivery' else 'Network activity' end,
          case i % 3
            when 0 then '10.' || ((i >> 16) & 255) || '.' || ((i >> 8) & 255) || '.' || (i & 255)
            when 1 then 'host' || i || '.bench.example'
            else md5(i::text) end,
          'green', true, '', null, null, 0, 'LT', ${user.id}::uuid, 'lt.bench',
          ${clock.now()}::timestamptz, ${clock.now()}::timestamptz + i * interval '1 millisecond', 1, null
        from generate_series(${from}::int, ${to}::int) as i`.execute(database.db);
    }
    await sql`analyze observables`.execute(database.db);
    console.log(
      `taxii benchmark on ${onPg ? 'PostgreSQL' : 'PGlite'}, node ${process.version}, ${os.cpus().length} cores; ` +
        `${OBJECTS} objects loaded in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s (untimed)`,
    );

    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/taxii2/api/collections/${created.id}/objects/`;
    const headers = {
      accept: TAXII,
      authorization: `Basic ${Buffer.from(`lt.bench:${token}`).toString('base64')}`,
    };

    /** One page over HTTP: its latency, its objects, what comes next. */
    const fetchPage = async (query: string) => {
      const started = performance.now();
      const res = await fetch(`${base}?limit=${PAGE}${query}`, { headers });
      const body = (await res.json()) as { more: boolean; next?: string; objects?: { id: string }[] };
      const took = performance.now() - started;
      if (res.status !== 200) throw new Error(`page answered ${res.status}: ${JSON.stringify(body)}`);
      return { took, body, last: res.headers.get('x-taxii-date-added-last') };
    };

    // Warm up: the first page pays for compiling, caches and connections.
    await fetchPage('');

    const byNext: number[] = [];
    const keys: [string | null, string | null][] = [];
    let next = '';
    for (let i = 0; i < PAGES; i++) {
      const { took, body } = await fetchPage(next ? `&next=${encodeURIComponent(next)}` : '');
      byNext.push(took);
      if ((body.objects?.length ?? 0) !== Math.min(PAGE, OBJECTS - i * PAGE)) {
        throw new Error(`page ${i} held ${body.objects?.length} objects`);
      }
      keys.push(
        next ? (JSON.parse(Buffer.from(next, 'base64url').toString()) as [string, string]) : [null, null],
      );
      if (!body.next) break;
      next = body.next;
    }
    const byAddedAfter: number[] = [];
    let after: string | null = null;
    for (let i = 0; i < PAGES; i++) {
      const { took, body, last } = await fetchPage(after ? `&added_after=${after}` : '');
      byAddedAfter.push(took);
      if (!body.more || !last) break;
      after = last;
    }

    // The same pages, bare: the keyset query alone, on the same database, from the same keys.
    const bare: number[] = [];
    for (const [added, id] of keys) {
      const started = performance.now();
      await sql`
        select o.*, c.title, c.tlp as case_tlp, c.pap, c.owner_party, c.exercise
        from observables o join cases c on c.id = o.case_id
        where o.case_id = ${created.id}::uuid
          ${added ? sql`and (o.updated_at, o.id) > (${added}::timestamptz, ${id}::uuid)` : sql``}
        order by o.updated_at, o.id
        limit ${PAGE + 1}`.execute(database.db);
      bare.push(performance.now() - started);
    }

    const walked = describe(byNext);
    const since = describe(byAddedAfter);
    const baseline = describe(bare);
    console.log(
      `TAXII pages of ${PAGE} over HTTP, walked with next (${byNext.length} pages): ${walked.text}`,
    );
    console.log(
      `TAXII pages of ${PAGE} over HTTP, walked with added_after (${byAddedAfter.length} pages): ${since.text}`,
    );
    console.log(`the same keyset query bare in SQL (${bare.length} pages): ${baseline.text}`);
    console.log(
      `p95 ratio HTTP/SQL: ${(walked.p95 / baseline.p95).toFixed(1)}x with next, ${(since.p95 / baseline.p95).toFixed(1)}x with added_after; ` +
        `goal p95 < 100 ms: ${Math.max(walked.p95, since.p95) < 100 ? 'met' : 'NOT met'}`,
    );
    await app.close();
  } finally {
    await database.close();
    await scratch?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
