import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Tlp } from '@vytis/contracts';
import { loadConfigOrExit } from '../config.ts';
import { CLI_ACTOR, type Ctx } from '../context.ts';
import type { Services } from '../http/services.ts';
import { openServices } from '../node.ts';
import { openDatabase } from '../platform/db/database.ts';
import { createPostgresDatabase, onPostgres } from '../test/harness.ts';
import { importRequestProblem } from './commands.ts';
import { isStixBundleFile } from './import.ts';
import { freePort, vytis as runVytis, seedMigratedDatabase } from './node-process.fixtures.ts';

// `vytis import` as an operator runs it: the real CLI (bin/vytis.js) in its own process, straight
// into the database when no node runs, and streamed through the running node's admin socket.
const serverDir = path.resolve(import.meta.dirname, '..', '..');
const cliBin = path.join(serverDir, 'bin', 'vytis.js');
const c2Bundle = path.join(serverDir, 'data', 'stix2', 'examples', 'indicators-for-C2-with-COA.json');
const mispEvent = path.join(serverDir, 'data', 'misp', 'events', 'sighting_1.json');

async function waitForHealth(base: string, child: ChildProcess, timeoutMs = 90_000) {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`node exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('node did not become healthy');
}

const caseBody = (title: string) => ({
  title,
  incidentClass: 'rsit:malicious-code="infected-system"',
  severity: 'high' as const,
  tlp: 'amber' as const,
  pap: 'amber' as const,
});

/** A CSV of `count` indicators of three types, with a header and a comment on some lines. */
function bigCsv(count: number, salt: string): string {
  const lines = ['type,value,comment'];
  for (let i = 0; i < count; i++) {
    if (i % 3 === 0) lines.push(`ip-dst,198.51.${(i >> 8) & 255}.${i & 255},c2 ${i}`);
    else if (i % 3 === 1) lines.push(`domain,host-${i}.${salt}.example.org`);
    else lines.push(`sha256,${crypto.createHash('sha256').update(`${salt}${i}`).digest('hex')},"a, quoted"`);
  }
  return `${lines.join('\n')}\n`;
}

describe('vytis import', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let dropDatabase = async () => {};
  let ltCase = '';
  let badCase = '';
  let nodeCase = '';
  let stixCase = '';
  let mispCase = '';
  const vytis = (args: string[]) => runVytis(args, env);
  const file = (name: string, content: string) => {
    const full = path.join(dir, name);
    fs.writeFileSync(full, content);
    return full;
  };
  /** The services over the data directory, for setup and checks while no node runs. */
  async function withServices<T>(fn: (services: Services) => Promise<T>): Promise<T> {
    const { services } = await openServices(loadConfigOrExit(env));
    try {
      return await fn(services);
    } finally {
      await services.database.close();
    }
  }
  async function intelIn(caseId: string) {
    const database = await openDatabase({
      databaseUrl: env.DATABASE_URL,
      pgliteDir: path.join(env.VYTIS_DATA_DIR!, 'db'),
    });
    try {
      return await database.db
        .selectFrom('case_intel_objects')
        .where('case_id', '=', caseId)
        .select(['stix_id', 'stix_type', 'tlp'])
        .orderBy('stix_id')
        .execute();
    } finally {
      await database.close();
    }
  }
  async function storedIn(caseId: string) {
    const database = await openDatabase({
      databaseUrl: env.DATABASE_URL,
      pgliteDir: path.join(env.VYTIS_DATA_DIR!, 'db'),
    });
    try {
      return await database.db
        .selectFrom('observables')
        .where('case_id', '=', caseId)
        .select(['type', 'value', 'tlp', 'origin_party', 'created_by'])
        .orderBy('value')
        .execute();
    } finally {
      await database.close();
    }
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-import-'));
    env = {
      ...process.env,
      VYTIS_DATA_DIR: path.join(dir, 'data'),
      LOG_LEVEL: 'warn',
      VYTIS_TEST_PGLITE_TEMPLATE: '',
    };
    seedMigratedDatabase(env.VYTIS_DATA_DIR!);
    if (onPostgres()) {
      const created = await createPostgresDatabase();
      env.DATABASE_URL = created.url;
      dropDatabase = created.drop;
    }
    await withServices(async (services) => {
      const cli: Ctx = { actor: CLI_ACTOR, requestId: null };
      await services.identity.createUser(cli, { name: 'lt.analyst', party: 'LT', roles: ['analyst'] });
      await services.identity.createUser(cli, { name: 'ee.analyst', party: 'EE', roles: ['analyst'] });
      const lt: Ctx = { actor: (await services.identity.actorByName('lt.analyst'))!, requestId: null };
      ltCase = (await services.cases.create(lt, caseBody('Ransomware at the grid operator'))).id;
      badCase = (await services.cases.create(lt, caseBody('Phishing wave'))).id;
      nodeCase = (await services.cases.create(lt, caseBody('Wiper at the port authority'))).id;
      stixCase = (await services.cases.create(lt, caseBody('Poison Ivy C2'))).id;
      mispCase = (await services.cases.create(lt, caseBody('Gozi from a MISP event'))).id;
    });
  });
  after(async () => {
    await dropDatabase();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const badCsv = [
    'type,value',
    'domain,ok-1.example.org',
    'ip-dst,203.0.113.1',
    'ip-dst,999.1.1.1',
    'domain,ok-2.example.org',
    'no-such-type,whatever',
    'sha256,not-a-hash',
    'domain,ok-3.example.org',
  ].join('\n');

  /** A bundle with one good object and one refused: a relationship to an actor that is nowhere. */
  const badBundle = JSON.stringify({
    type: 'bundle',
    id: 'bundle--0f4b3c1e-8a7d-4e6f-9b2a-1c3d5e7f9a0b',
    objects: [
      {
        type: 'malware',
        spec_version: '2.1',
        id: 'malware--11111111-2222-4333-8444-555555555555',
        created: '2026-01-01T00:00:00.000Z',
        modified: '2026-01-01T00:00:00.000Z',
        name: 'Wiper',
        is_family: true,
      },
      {
        type: 'relationship',
        spec_version: '2.1',
        id: 'relationship--44444444-5555-4666-8777-888888888888',
        created: '2026-01-01T00:00:00.000Z',
        modified: '2026-01-01T00:00:00.000Z',
        relationship_type: 'uses',
        source_ref: 'threat-actor--99999999-9999-4999-8999-999999999999',
        target_ref: 'malware--11111111-2222-4333-8444-555555555555',
      },
    ],
  });
  const c2Summary = (imported: number, duplicates: number, intel: string) =>
    `objects 8: observables imported ${imported}, duplicates ${duplicates}, rejected 0; intelligence objects ${intel}\n`;

  it('tells a STIX bundle from NDJSON by its name and first bytes', async () => {
    const ndjson = [
      JSON.stringify({ type: 'domain', value: 'evil.example' }),
      JSON.stringify({ type: 'ip-dst', value: '203.0.113.9' }),
    ].join('\n');
    const lone = JSON.stringify({ type: 'malware', spec_version: '2.1', id: 'malware--1', name: 'x' });
    const expected: [string, string, boolean][] = [
      ['pretty.json', '\uFEFF\n  {\n  "type": "bundle",\n  "objects": []\n}\n', true],
      ['minified.stix.json', `${badBundle}\n`, true],
      ['bundle.stix', badBundle, true],
      ['lone.json', `${lone}\n`, true],
      ['iocs.json', ndjson, false],
      ['one-ioc.json', `${JSON.stringify({ type: 'domain', value: 'evil.example' })}\n`, false],
      ['array.json', '[{"type":"bundle"}]', false],
      ['bundle.csv', badBundle, false],
    ];
    for (const [name, content, isBundle] of expected) {
      assert.equal(await isStixBundleFile(file(name, content)), isBundle, name);
    }
    assert.equal(await isStixBundleFile(path.join(dir, 'absent.json')), false);
  });

  describe('with no node running (straight into the database)', () => {
    it('imports a CSV of thousands of lines, and again changes nothing', async () => {
      const csv = file('big.csv', bigCsv(3000, 'a'));
      const first = await vytis(['import', csv, '--case', ltCase]);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout, 'imported 3000, duplicates 0, rejected 0\n');
      assert.equal(first.stderr, '', 'no progress bar when stderr is not a terminal');
      const again = await vytis(['import', csv, '--case', ltCase]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, 'imported 0, duplicates 3000, rejected 0\n');
      const stored = await storedIn(ltCase);
      assert.equal(stored.length, 3000);
      assert.ok(
        stored.every((row) => row.origin_party === 'LT' && row.tlp === 'amber'),
        "the operator's rows carry the case owner's party and the case's label",
      );
    });

    it('rejects a file with bad lines as a whole, naming them, unless --partial', async () => {
      const bad = file('bad.csv', badCsv);
      const rejected = await vytis(['import', bad, '--case', badCase]);
      assert.equal(rejected.code, 1);
      assert.equal(rejected.stdout, '');
      const lines = rejected.stderr.trimEnd().split('\n');
      assert.match(lines[0]!, /^vytis: 3 line\(s\) cannot be imported; nothing was imported.*--partial/);
      assert.match(lines[1]!, /^vytis: line 4: .*999\.1\.1\.1/);
      assert.match(lines[2]!, /^vytis: line 6: .*no-such-type/);
      assert.match(lines[3]!, /^vytis: line 7: /);
      assert.equal(lines.length, 4);
      assert.equal((await storedIn(badCase)).length, 0, 'nothing was written');

      const partial = await vytis(['import', bad, '--case', badCase, '--partial', '--as', 'lt.analyst']);
      assert.equal(partial.code, 0, partial.stderr);
      assert.equal(partial.stdout, 'imported 4, duplicates 0, rejected 3\n');
      assert.match(partial.stderr, /^vytis: 3 line\(s\) were rejected and left out:\n/);
      assert.match(partial.stderr, /^vytis: line 4: /m);
      assert.match(partial.stderr, /^vytis: line 6: /m);
      const stored = await storedIn(badCase);
      assert.deepEqual(
        stored.map((row) => row.value),
        ['203.0.113.1', 'ok-1.example.org', 'ok-2.example.org', 'ok-3.example.org'],
      );
      assert.ok(stored.every((row) => row.created_by === 'lt.analyst'));
    });

    it('imports a plain list with --type, and NDJSON, with a label', async () => {
      const list = file('ips', '203.0.113[.]7\n203.0.113.8\r\n\n203.0.113.7\n2001:db8::1\n');
      const plain = await vytis(['import', list, '--case', badCase, '--type', 'ip-dst', '--tlp', 'green']);
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(plain.stdout, 'imported 3, duplicates 1, rejected 0\n', 'refanged, then a duplicate');
      const ndjson = file(
        'iocs.ndjson',
        [
          JSON.stringify({ type: 'url', value: 'hxxps://evil.example/payload', tlp: 'red' }),
          JSON.stringify({ type: 'email', value: 'boss@evil.example', comment: 'sender' }),
          JSON.stringify({ type: 'ip-dst', value: '203.0.113.8' }),
        ].join('\n'),
      );
      const fromNdjson = await vytis(['import', ndjson, '--case', badCase]);
      assert.equal(fromNdjson.code, 0, fromNdjson.stderr);
      assert.equal(fromNdjson.stdout, 'imported 2, duplicates 1, rejected 0\n');
      const byValue = new Map((await storedIn(badCase)).map((row) => [row.value, row]));
      assert.equal(byValue.get('203.0.113.7')?.tlp, 'green');
      assert.equal(byValue.get('https://evil.example/payload')?.tlp, 'red');
      assert.equal(byValue.get('boss@evil.example')?.tlp, 'amber');
    });

    it('imports a STIX bundle: observables from its indicators, its other objects as intelligence', async () => {
      const first = await vytis(['import', c2Bundle, '--case', stixCase]);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout, c2Summary(2, 0, 'added 8, updated 0, unchanged 0, older 0'));
      assert.equal(first.stderr, '');
      assert.deepEqual(
        (await storedIn(stixCase)).map((row) => [row.type, row.value]),
        [
          ['ip-dst', '10.0.0.0'],
          ['sha256', 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c'],
        ],
      );
      assert.deepEqual(
        [...new Set((await intelIn(stixCase)).map((row) => row.stix_type))].sort(),
        ['course-of-action', 'identity', 'indicator', 'malware', 'relationship'],
        'the rest kept as intelligence (the indicators too: relationships lead to them)',
      );
    });

    it('imports MISP event JSON, told by its first bytes; a bad attribute is named by its path', async () => {
      const first = await vytis(['import', mispEvent, '--case', mispCase]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(
        first.stdout,
        /^events 1: added 1, updated 0, unchanged 0; attributes and objects added 5, updated 0, unchanged 0; observables imported \d+, duplicates \d+, rejected 0\n$/,
      );
      assert.ok((await storedIn(mispCase)).length > 0);
      const badEvent = JSON.stringify({
        Event: {
          uuid: '5c7cdc3b-2f40-4dca-8200-aaaaaaaaaaaa',
          info: 'bad',
          Attribute: [
            { uuid: '5c7cdc3b-2f40-4dca-8200-000000000001', type: 'ip-dst', value: '198.51.100.1' },
            { uuid: '5c7cdc3b-2f40-4dca-8200-000000000002', type: 'no-such-type', value: 'x' },
          ],
        },
      });
      const refused = await vytis(['import', file('bad-event.json', badEvent), '--case', badCase]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^vytis: 1 object\(s\) cannot be imported; nothing was imported/);
      assert.match(refused.stderr, /object 2: Event\.Attribute\[1\]: Event\.Attribute\[1\]\.type: /);
      const renamed = await vytis([
        'import',
        file('event.txt', badEvent),
        '--case',
        badCase,
        '--format',
        'misp',
        '--partial',
      ]);
      assert.equal(renamed.code, 0, renamed.stderr);
      assert.match(renamed.stdout, /observables imported 1, duplicates 0, rejected 1/);
    });

    it('refuses a bundle with a bad object by index and id; --format stix reads any name', async () => {
      const refused = await vytis(['import', file('bad.stix', badBundle), '--case', badCase]);
      assert.equal(refused.code, 1);
      assert.equal(refused.stdout, '');
      const lines = refused.stderr.trimEnd().split('\n');
      assert.match(lines[0]!, /^vytis: 1 object\(s\) cannot be imported; nothing was imported.*--partial/);
      assert.match(
        lines[1]!,
        /^vytis: object 1: relationship--44444444-5555-4666-8777-888888888888: .*threat-actor--9999/,
      );
      assert.equal(lines.length, 2);

      const data = file('bundle.dat', badBundle);
      const partial = await vytis([
        'import',
        data,
        '--case',
        badCase,
        '--format',
        'stix',
        '--partial',
        '--tlp',
        'green',
      ]);
      assert.equal(partial.code, 0, partial.stderr);
      // Added, not unchanged: the refused import wrote nothing.
      assert.equal(
        partial.stdout,
        'objects 2: observables imported 0, duplicates 0, rejected 1; intelligence objects added 1, updated 0, unchanged 0, older 0\n',
      );
      assert.match(
        partial.stderr,
        /^vytis: 1 object\(s\) were rejected and left out:\nvytis: object 1: relationship--/,
      );
      assert.deepEqual(
        (await intelIn(badCase)).map((row) => [row.stix_id, row.tlp]),
        [['malware--11111111-2222-4333-8444-555555555555', 'green']],
      );
    });

    it('says clearly what is wrong', async () => {
      const cases: [string[], RegExp][] = [
        [
          ['import', file('small.csv', 'domain,a.example.org\n'), '--case', crypto.randomUUID()],
          /^vytis: case [0-9a-f-]{36} not found\n$/,
        ],
        [['import', file('iocs.dat', 'x\n'), '--case', ltCase], /cannot tell the format of .*iocs\.dat/],
        [
          ['import', path.join(dir, 'absent.csv'), '--case', ltCase],
          /cannot read .*absent\.csv: no such file/,
        ],
      ];
      for (const [args, expected] of cases) {
        const result = await vytis(args);
        assert.equal(result.code, 1, args.join(' '));
        assert.match(result.stderr, expected);
        assert.equal(result.stdout, '');
      }
      // Checked before any file is read or database opened, in either mode.
      const request = { caseId: ltCase, format: 'csv' as const, partial: false };
      assert.equal(importRequestProblem(request), null);
      assert.match(importRequestProblem({ ...request, caseId: 'grid' })!, /^--case must be a case id/);
      assert.match(importRequestProblem({ ...request, format: 'lines' })!, /needs --type T/);
      assert.match(importRequestProblem({ ...request, type: 'ip-dst' })!, /^--type is for a plain list/);
      assert.match(
        importRequestProblem({ ...request, format: 'lines', type: 'ipv4' })!,
        /^--type ipv4 is not an observable type/,
      );
      assert.match(importRequestProblem({ ...request, tlp: 'white' as Tlp })!, /^--tlp must be one of/);
    });
  });

  describe('with a node running (streamed through its admin socket)', () => {
    let node: ChildProcess;
    before(async () => {
      const port = await freePort();
      env.PORT = String(port);
      node = spawn(process.execPath, [cliBin, 'start'], {
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      await waitForHealth(`http://127.0.0.1:${port}`, node);
    });
    after(async () => {
      const exited = new Promise((resolve) => node.once('exit', resolve));
      node.kill('SIGTERM');
      await exited;
    });

    it('imports, refuses bad files and unknown cases, all through the node', async () => {
      const csv = file('node.csv', bigCsv(3000, 'b'));
      const first = await vytis(['import', csv, '--case', nodeCase, '--as', 'lt.analyst']);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.stdout, 'imported 3000, duplicates 0, rejected 0\n');
      assert.equal(first.stderr, '');
      const again = await vytis(['import', csv, '--case', nodeCase]);
      assert.equal(again.stdout, 'imported 0, duplicates 3000, rejected 0\n');

      // The same database the direct mode wrote: all already there.
      const earlier = await vytis(['import', path.join(dir, 'big.csv'), '--case', ltCase]);
      assert.equal(earlier.stdout, 'imported 0, duplicates 3000, rejected 0\n');

      const bad = await vytis(['import', path.join(dir, 'bad.csv'), '--case', nodeCase]);
      assert.equal(bad.code, 1);
      assert.deepEqual(
        bad.stderr
          .split('\n')
          .filter((line) => line.startsWith('vytis: line '))
          .map((line) => line.split(':')[1]),
        [' line 4', ' line 6', ' line 7'],
      );
      const partial = await vytis(['import', path.join(dir, 'bad.csv'), '--case', nodeCase, '--partial']);
      assert.equal(partial.stdout, 'imported 4, duplicates 0, rejected 3\n');

      // Refused before the file is read: the node answers early and the CLI stops sending.
      const unknown = await vytis(['import', csv, '--case', crypto.randomUUID()]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /^vytis: case [0-9a-f-]{36} not found\n$/);
      const hidden = await vytis(['import', csv, '--case', nodeCase, '--as', 'ee.analyst']);
      assert.equal(hidden.code, 1);
      assert.match(hidden.stderr, /^vytis: case [0-9a-f-]{36} not found\n$/, 'invisible looks like absent');
      const nobody = await vytis(['import', csv, '--case', nodeCase, '--as', 'nobody']);
      assert.equal(nobody.code, 1);
      assert.equal(nobody.stderr, 'vytis: no active user named nobody\n');
    });

    it('imports a STIX bundle through the node: the same bundle again changes nothing', async () => {
      const again = await vytis(['import', c2Bundle, '--case', stixCase, '--as', 'lt.analyst']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout, c2Summary(0, 2, 'added 0, updated 0, unchanged 8, older 0'));
      assert.equal(again.stderr, '');

      const refused = await vytis(['import', path.join(dir, 'bad.stix'), '--case', nodeCase]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^vytis: object 1: relationship--44444444-5555-4666-8777-888888888888: /m);
      const hidden = await vytis(['import', c2Bundle, '--case', stixCase, '--as', 'ee.analyst']);
      assert.equal(hidden.code, 1);
      assert.match(hidden.stderr, /^vytis: case [0-9a-f-]{36} not found\n$/, 'the node checks who imports');
    });

    it('imports MISP event JSON through the node: the same event again changes nothing', async () => {
      const again = await vytis(['import', mispEvent, '--case', mispCase, '--as', 'lt.analyst']);
      assert.equal(again.code, 0, again.stderr);
      assert.match(
        again.stdout,
        /^events 1: added 0, updated 0, unchanged 1; attributes and objects added 0, updated 0, unchanged 5; observables imported 0,/,
      );
      const hidden = await vytis(['import', mispEvent, '--case', mispCase, '--as', 'ee.analyst']);
      assert.equal(hidden.code, 1);
      assert.match(hidden.stderr, /^vytis: case [0-9a-f-]{36} not found\n$/);
    });
  });
});
