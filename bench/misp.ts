// bench/misp — import of a MISP event of --attributes attributes (generated: ip-dst, domain, url,
// sha256, filename|md5 in turn, with MISP's usual fields, tags on one in ten, a tenth inside objects)
// into a case, through the whole path (MispService.importEvents: received, parsed, checked,
// normalised, written in parts with every attribute and object kept for the export), against the
// bulk CSV import of the very same values (ObservablesService.importFile, `type,value,comment`)
// in the same process, on the same database, each into a new case, in alternating order. The
// figure is the median over --rounds of CSV time / MISP time (goal: 0.7 or more, i.e. a MISP event
// imports at 70% or more of the speed of a CSV of its values).
// Runs on in-memory PGlite, or on a scratch database of the PostgreSQL server of DATABASE_URL
// (--engine pg), dropped after.
// Usage: node --import tsx bench/misp.ts [--engine pglite|pg] [--attributes 100000] [--rounds 3]
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
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
    engine: { type: 'string', default: 'pglite' },
    attributes: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
  },
});
const count = Number(values.attributes);
const rounds = Number(values.rounds);

function value(i: number, round: number) {
  const hex = crypto.createHash('sha256').update(`${round}:${i}`).digest('hex');
  switch (i % 5) {
    case 0:
      return {
        type: 'ip-dst',
        category: 'Network activity',
        value: `10.${round}.${(i >> 8) & 255}.${i & 255}`,
      };
    case 1:
      return { type: 'domain', category: 'Network activity', value: `c2-${round}-${i}.bench.example` };
    case 2:
      return {
        type: 'url',
        category: 'Network activity',
        value: `http://dl-${round}-${i}.bench.example/p?i=${i}`,
      };
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

const uuidOf = (name: string) => {
  const h = crypto.createHash('sha1').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** The event file and the CSV of the same values, for one round (values of their own). */
function files(dir: string, round: number) {
  const attribute = (i: number) => {
    const v = value(i, round);
    return {
      uuid: uuidOf(`a:${round}:${i}`),
      ...v,
      to_ids: true,
      distribution: '5',
      timestamp: '1764000000',
      comment: i % 7 === 0 ? 'seen in the loader' : '',
      disable_correlation: false,
      deleted: false,
      object_relation: null,
      first_seen: null,
      last_seen: null,
      ...(i % 10 === 0 ? { Tag: [{ name: 'tlp:green', colour: '#33FF00' }] } : {}),
    };
  };
  const inObjects = Math.floor(count / 10);
  const top = [];
  for (let i = 0; i < count - inObjects; i++) top.push(attribute(i));
  const objects = [];
  for (let i = count - inObjects; i < count; i += 2) {
    const members = [attribute(i), ...(i + 1 < count ? [attribute(i + 1)] : [])].map((a, j) => ({
      ...a,
      object_relation: j === 0 ? 'first' : 'second',
    }));
    objects.push({
      uuid: uuidOf(`o:${round}:${i}`),
      name: 'bench-pair',
      'meta-category': 'network',
      template_uuid: uuidOf('template'),
      template_version: '1',
      distribution: '5',
      timestamp: '1764000000',
      Attribute: members,
    });
  }
  const event = {
    Event: {
      uuid: uuidOf(`e:${round}`),
      info: `Bench event ${round}`,
      date: '2026-11-30',
      threat_level_id: '2',
      analysis: '1',
      distribution: '1',
      published: false,
      timestamp: '1764000000',
      Orgc: { name: 'CERT-BENCH', uuid: uuidOf('org') },
      Tag: [{ name: 'tlp:amber', colour: '#FFC000' }],
      Attribute: top,
      Object: objects,
    },
  };
  const mispFile = path.join(dir, `event-${round}.json`);
  fs.writeFileSync(mispFile, JSON.stringify(event));
  const csv = ['type,value,comment'];
  for (let i = 0; i < count; i++) {
    const v = value(i, round + 100);
    csv.push(`${v.type},${JSON.stringify(v.value)},${i % 7 === 0 ? 'seen in the loader' : ''}`);
  }
  const csvFile = path.join(dir, `values-${round}.csv`);
  fs.writeFileSync(csvFile, `${csv.join('\n')}\n`);
  return { mispFile, csvFile, mispBytes: fs.statSync(mispFile).size, csvBytes: fs.statSync(csvFile).size };
}

async function main() {
  const scratch =
    values.engine === 'pg'
      ? await createScratchDatabase(
          process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
          'bench_misp_',
        )
      : undefined;
  const database = await openDatabase({ databaseUrl: scratch?.url, poolSize: 5 });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-bench-misp-'));
  try {
    await migrateToLatest(database.db);
    const clock = new ManualClock('2026-11-30T12:00:00Z');
    const { app, services } = await buildApp(
      {
        database,
        clock,
        key: loadOrCreateNodeKey(dataDir),
        secrets: await openSecretBox(dataDir, database.db, clock.now()),
      },
      { evidenceDir: path.join(dataDir, 'evidence'), importMaxBytes: 1024 * 1024 * 1024 },
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
    const newCase = async (title: string) =>
      (
        await services.cases.create(ctx, {
          title,
          incidentClass: 'rsit:malicious-code="infected-system"',
          severity: 'high',
          tlp: 'amber',
          pap: 'amber',
        })
      ).id;
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const f = files(dataDir, round);
      const timeCsv = async () => {
        const t = performance.now();
        const r = await services.observables.importFile(
          ctx,
          await newCase(`csv ${round}`),
          fs.createReadStream(f.csvFile),
          {
            format: 'csv',
            partial: false,
          },
        );
        if (r.imported !== count)
          throw new Error(`CSV stored ${r.imported} of ${count}: ${JSON.stringify(r).slice(0, 300)}`);
        return (performance.now() - t) / 1000;
      };
      const timeMisp = async () => {
        const t = performance.now();
        const r = await services.misp.importEvents(
          ctx,
          await newCase(`misp ${round}`),
          fs.createReadStream(f.mispFile),
          {
            partial: false,
          },
        );
        if (r.imported !== count)
          throw new Error(`MISP stored ${r.imported} of ${count}: ${JSON.stringify(r).slice(0, 300)}`);
        return (performance.now() - t) / 1000;
      };
      let csv: number;
      let misp: number;
      if (round % 2 === 0) {
        csv = await timeCsv();
        misp = await timeMisp();
      } else {
        misp = await timeMisp();
        csv = await timeCsv();
      }
      ratios.push(csv / misp);
      console.log(
        `round ${round + 1}: CSV ${count} values (${f.csvBytes} B) in ${csv.toFixed(2)} s (${Math.round(count / csv)}/s); ` +
          `MISP event of ${count} attributes (${f.mispBytes} B) in ${misp.toFixed(2)} s (${Math.round(count / misp)}/s); ` +
          `ratio ${(csv / misp).toFixed(2)}×`,
      );
    }
    const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
    console.log(
      `${values.engine}, ${count} attributes: MISP import at ${median.toFixed(2)}× the speed of the CSV import of the same values (median of ${rounds}; goal ≥ 0.70×)`,
    );
    await app.close();
  } finally {
    await database.close();
    await scratch?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
