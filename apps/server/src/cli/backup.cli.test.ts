import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { loadConfigOrExit } from '../config.ts';
import { openDatabase } from '../platform/db/database.ts';
import { keyFile } from '../platform/keys.ts';
import { secretBoxKeyFile } from '../platform/secret-box.ts';
import { onPostgres } from '../test/harness.ts';
import { totpCode } from '../test/totp.ts';
import {
  type Client,
  caseBody,
  client,
  enrolSecondFactor,
  type NodeProcess,
  type ProcessStorage,
  passwordStep,
  processStorage,
  startNode,
  vytis,
  withServices,
} from './node-process.fixtures.ts';

// On PostgreSQL evidence content lives in the database, so it is in the dump, not beside it.
const evidenceFiles = () => (onPostgres() ? 0 : 3);
const sha256 = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');

/** Rows of a table as PostgreSQL's JSON of each, so two databases compare value for value. */
async function rowsOf(env: NodeJS.ProcessEnv, tables: string[]) {
  const config = loadConfigOrExit(env);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: path.join(config.dataDir, 'db'),
  });
  try {
    const result = new Map<string, Set<string>>();
    for (const table of tables) {
      const { rows } = await sql<{
        line: string;
      }>`select to_json(t)::text as line from ${sql.table(table)} t`.execute(database.db);
      result.set(table, new Set(rows.map((r) => r.line)));
    }
    return result;
  } finally {
    await database.close();
  }
}

describe('vytis backup and vytis restore', () => {
  let source: ProcessStorage;
  let target: ProcessStorage;
  let node: NodeProcess;
  let lt: Client;
  let archive: string;
  const uploads = new Map<string, Buffer>();
  let caseId = '';
  let carefulSecret = '';
  const writerCases: { id: string }[] = [];

  before(async () => {
    source = await processStorage('backup-source');
    target = await processStorage('backup-target', { migrated: false });
    archive = path.join(path.dirname(source.dataDir), 'vytis-backup.tar.gz');
    const token = await withServices(source.env, async (services, cli) => {
      await services.identity.createUser(cli, { name: 'lt.analyst', party: 'LT', roles: ['analyst'] });
      await services.identity.createUser(cli, {
        name: 'lt.careful',
        party: 'LT',
        roles: ['analyst'],
        password: 'correct horse battery staple',
      });
      return (await services.identity.issueToken(cli, 'lt.analyst')).token;
    });
    node = await startNode(source.env);
    lt = client(node.base, token);
    carefulSecret = await enrolSecondFactor(node.base, 'lt.careful', 'correct horse battery staple');
    const created = await lt.post('/cases', caseBody('Wiper at the port authority'));
    assert.equal(created.status, 201, JSON.stringify(created.json));
    caseId = created.json.id;
    const csv = [
      'type,value',
      ...Array.from({ length: 400 }, (_, i) => `domain,host-${i}.backup.example.org`),
    ];
    const imported = await lt.post(`/indicators/bulk?caseId=${caseId}`, `${csv.join('\n')}\n`, 'text/csv');
    assert.equal(imported.status, 200, JSON.stringify(imported.json));
    for (let i = 0; i < 3; i++) {
      const bytes = crypto.randomBytes(50_000 + i * 30_000);
      const up = await lt.post(
        `/cases/${caseId}/evidence?filename=disk-${i}.img`,
        bytes,
        'application/octet-stream',
      );
      assert.equal(up.status, 201, JSON.stringify(up.json));
      uploads.set(up.json.id, bytes);
    }
    const checkpoint = await vytis(['audit', 'checkpoint'], source.env);
    assert.equal(checkpoint.code, 0, checkpoint.stderr);
  });
  after(async () => {
    if (node.child.exitCode === null) await node.stop();
    await source.destroy();
    await target.destroy();
  });

  it('backs up a running node while it takes writes; each write is wholly in the backup or wholly out', async () => {
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const res = await lt.post('/cases', caseBody(`Concurrent case ${i}`));
        if (res.status === 201) writerCases.push({ id: res.json.id });
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const backup = await vytis(['backup', archive], source.env);
    writing = false;
    await writer;
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(
      backup.stdout,
      new RegExp(
        `^backup .*vytis-backup\\.tar\\.gz: \\d+ tables, \\d+ rows, ${evidenceFiles()} evidence files, key \\S+, [\\d.]+ [kM]?B\n$`,
      ),
    );
    assert.ok(writerCases.length > 0, 'the writer got writes in');
    assert.deepEqual(
      fs.readdirSync(path.dirname(archive)).filter((f) => f.includes('.partial')),
      [],
      'no partial file is left beside the archive',
    );
  });

  it('refuses to restore into a data directory that is not empty, or a damaged archive', async () => {
    const occupied = await vytis(['restore', archive], source.env);
    assert.equal(occupied.code, 1);
    assert.match(occupied.stderr, /a node is running on .*; restore goes into an empty data directory/);

    const damaged = path.join(path.dirname(archive), 'damaged.tar.gz');
    const bytes = fs.readFileSync(archive);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0xff;
    fs.writeFileSync(damaged, bytes);
    const refused = await vytis(['restore', damaged], target.env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is not a usable Vytis backup: .*; nothing was restored/);
    assert.equal(fs.existsSync(path.join(target.dataDir, 'db')), false, 'nothing was written');
    assert.equal(fs.existsSync(keyFile(target.dataDir)), false);

    const cut = path.join(path.dirname(archive), 'cut.tar.gz');
    fs.writeFileSync(cut, fs.readFileSync(archive).subarray(0, Math.floor(bytes.length * 0.8)));
    const cutRefused = await vytis(['restore', cut], target.env);
    assert.equal(cutRefused.code, 1);
    assert.match(cutRefused.stderr, /is not a usable Vytis backup/);
  });

  it('restores into an empty target: the audit chain and its checkpoints verify, the data is the same', async () => {
    const restored = await vytis(['restore', archive], target.env);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(
      restored.stdout,
      new RegExp(`^restored .*: \\d+ tables, \\d+ rows, ${evidenceFiles()} evidence files, key \\S+\n`),
    );
    assert.match(restored.stdout, /audit chain: ok \d+ events, [1-9]\d* checkpoints\n$/);
    assert.deepEqual(
      fs.readFileSync(keyFile(target.dataDir)),
      fs.readFileSync(keyFile(source.dataDir)),
      'the same node key, so the checkpoints it signed still verify',
    );
    assert.deepEqual(
      fs.readFileSync(secretBoxKeyFile(target.dataDir)),
      fs.readFileSync(secretBoxKeyFile(source.dataDir)),
      'the same key for sealed secrets, so second factors still open',
    );
    const checkpointFile = (dir: string) => path.join(dir, 'audit-checkpoints.jsonl');
    assert.equal(
      fs.readFileSync(checkpointFile(target.dataDir), 'utf8'),
      fs.readFileSync(checkpointFile(source.dataDir), 'utf8'),
      "the node's own copy of its checkpoints comes along",
    );

    const again = await vytis(['restore', archive], target.env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not empty.*restore needs an empty/);

    // The source stops (its embedded database is its alone), then the two compare row by row.
    assert.equal(await node.stop(), 0, node.stderr());
    const tables = ['audit_events', 'cases', 'observables', 'evidence', 'requests'];
    const [before, after] = await Promise.all([rowsOf(source.env, tables), rowsOf(target.env, tables)]);
    for (const table of ['cases', 'observables', 'evidence', 'requests']) {
      for (const row of after.get(table)!) {
        assert.ok(before.get(table)!.has(row), `${table} ${JSON.parse(row).id} is restored as it was`);
      }
    }
    assert.equal(after.get('evidence')!.size, 3);
    const restoredEvents = [...after.get('audit_events')!];
    for (const row of restoredEvents)
      assert.ok(before.get('audit_events')!.has(row), 'audit events are unchanged');
    const restoredCases = new Set([...after.get('cases')!].map((row) => JSON.parse(row).id as string));
    for (const { id } of writerCases) {
      const hasEvent = restoredEvents.some((row) => row.includes('case.create') && row.includes(id));
      assert.equal(
        restoredCases.has(id),
        hasEvent,
        `case ${id} and its audit event are both in, or both out`,
      );
    }

    // Served by a node on the restored storage: the same case, indicators and evidence bytes.
    const restoredNode = await startNode(target.env);
    try {
      const token = await vytis(['token', 'issue', 'lt.analyst'], target.env);
      assert.equal(token.code, 0, token.stderr);
      const there = client(restoredNode.base, token.stdout.trim());
      assert.equal((await there.get(`/cases/${caseId}`)).json.title, 'Wiper at the port authority');
      assert.equal((await there.get(`/cases/${caseId}/observables`)).json.total, 400);
      for (const [id, bytes] of uploads) {
        const download = await there.get(`/cases/${caseId}/evidence/${id}/content`);
        assert.equal(download.status, 200);
        assert.equal(sha256(download.bytes), sha256(bytes), `evidence ${id} has its bytes`);
      }
      // Its first code's step is used up on the source: the next step's code, which a login accepts.
      const challenge = await passwordStep(restoredNode.base, 'lt.careful', 'correct horse battery staple');
      assert.equal(challenge.status, 202, 'the restored node asks lt.careful for a code');
      const code = await fetch(`${restoredNode.base}/api/v1/session/mfa`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          challenge: ((await challenge.json()) as { challenge: string }).challenge,
          code: totpCode(carefulSecret, new Date(), 1),
        }),
      });
      assert.equal(code.status, 200, `the second factor opens on the restored node: ${await code.text()}`);
      const verified = await vytis(['audit', 'verify'], target.env);
      assert.equal(verified.code, 0, verified.stderr);
    } finally {
      assert.equal(await restoredNode.stop(), 0);
    }
  });

  it('backs up a stopped node straight from its storage', async () => {
    const direct = await vytis(['backup', path.join(path.dirname(archive), 'offline.tar.gz')], source.env);
    assert.equal(direct.code, 0, direct.stderr);
    assert.match(direct.stdout, new RegExp(` ${evidenceFiles()} evidence files`));
  });
});
