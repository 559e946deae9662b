import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../platform/db/schema.ts';
import { json, onPostgres, openTestDatabase, startTestNode, type TestNode } from '../test/harness.ts';
import { MAX_FETCH_BYTES, tableBatches, writeBackup } from './backup.ts';
import { MAX_LINE_BYTES, restoreArchive, splitLines, verifyArchive } from './restore.ts';

const sha256 = (text: string) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

/** The SHA-256 of each row's JSON line, as PostgreSQL computes them, one row at a time. */
async function lineHashes(db: Kysely<Database>, table: string) {
  const { rows } = await sql<{ hash: string }>`
    select encode(sha256(convert_to(to_json(t)::text, 'UTF8')), 'hex') as hash
    from ${sql.table(table)} as t`.execute(db);
  return rows.map((row) => row.hash).sort();
}

/** A table read through `tableBatches`: the largest batch it held, and each line's SHA-256. */
async function readThroughBatches(db: Kysely<Database>, table: string) {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      let largestBatch = 0;
      let rows = 0;
      const batches = (async function* () {
        for await (const batch of tableBatches(trx, table)) {
          largestBatch = Math.max(largestBatch, batch.bytes.length);
          rows += batch.rows;
          yield batch.bytes;
        }
      })();
      const hashes: string[] = [];
      for await (const line of splitLines(batches)) hashes.push(sha256(line));
      return { largestBatch, rows, hashes: hashes.sort() };
    });
}

/** `count` evidence pieces of 1 MiB each, as stored uploads leave them (a 2 MiB JSON line each). */
async function storePieces(db: Kysely<Database>, count: number) {
  await sql`insert into evidence_chunks (evidence_id, seq, data, stored_at)
    select ('00000000-0000-4000-8000-' || lpad((g / 4)::text, 12, '0'))::uuid, g % 4,
      decode(repeat(md5(g::text), 65536), 'hex'), now()
    from generate_series(0, ${count - 1}::int) g`.execute(db);
}

describe('vytis backup reads tables in batches bounded in bytes', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
    await storePieces(node.database.db, 40);
  });
  after(async () => {
    await node.close();
  });

  it('holds no more than MAX_FETCH_BYTES of a table of large rows at a time, and reads every line whole', async () => {
    const read = await readThroughBatches(node.database.db, 'evidence_chunks');
    assert.equal(read.rows, 40);
    assert.ok(
      read.largestBatch <= MAX_FETCH_BYTES,
      `a batch held ${read.largestBatch} bytes; the limit is ${MAX_FETCH_BYTES}`,
    );
    assert.deepEqual(read.hashes, await lineHashes(node.database.db, 'evidence_chunks'));
  });

  it('cuts a long line of multi-byte text between slices without damaging a character', async () => {
    const db = node.database.db;
    await sql`create table backup_probe (note text not null)`.execute(db);
    try {
      await sql`insert into backup_probe (note)
        select repeat('žąsų ', 20000 + g) || '🦆' from generate_series(1, 5) g`.execute(db);
      const read = await readThroughBatches(db, 'backup_probe');
      assert.equal(read.rows, 5);
      assert.deepEqual(read.hashes, await lineHashes(db, 'backup_probe'));
    } finally {
      await sql`drop table backup_probe`.execute(db);
    }
  });

  it('backs up and restores the large rows byte for byte', async () => {
    const archive = path.join(node.dataDir, 'backup.tar.gz');
    const out = fs.createWriteStream(archive);
    const manifest = await writeBackup(
      { database: node.database, dataDir: node.dataDir, evidenceDir: path.join(node.dataDir, 'evidence') },
      out,
    );
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    assert.equal(manifest.tables.evidence_chunks, 40);
    await verifyArchive(archive);

    const target = await openTestDatabase();
    const targetDir = fs.mkdtempSync(path.join(node.dataDir, 'restored-'));
    try {
      await restoreArchive(archive, manifest, {
        database: target.database,
        dataDir: targetDir,
        evidenceDir: path.join(targetDir, 'evidence'),
      });
      assert.deepEqual(
        await lineHashes(target.database.db, 'evidence_chunks'),
        await lineHashes(node.database.db, 'evidence_chunks'),
      );
    } finally {
      await target.database.close();
      await target.drop();
    }
  });

  it('refuses, on restore, a line longer than any row a backup writes instead of gathering it', async () => {
    const piece = Buffer.alloc(1024 * 1024, 0x61);
    const endless = (async function* () {
      for (let i = 0; i <= MAX_LINE_BYTES / piece.length; i++) yield piece;
    })();
    await assert.rejects(
      async () => {
        for await (const _ of splitLines(endless));
      },
      new RegExp(`longer than ${MAX_LINE_BYTES} bytes`),
    );
  });
});

describe('vytis backup on PostgreSQL takes the evidence files the database does not hold', {
  skip: !onPostgres(),
}, () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(async () => {
    await node.close();
  });

  it('takes the file of an item not whole in the database, and does not count an empty item as missing', async () => {
    const db = node.database.db;
    const lt = await node.user('lt.analyst', 'LT', ['analyst']);
    const created = await node.request({
      method: 'POST',
      url: '/api/v1/cases',
      headers: lt.headers,
      payload: {
        title: 'Wiper at the port authority',
        description: 'disk images',
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'high',
        tlp: 'amber',
        pap: 'amber',
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const caseId = json(created).id as string;
    const upload = async (name: string, bytes: Buffer) => {
      const res = await node.request({
        method: 'POST',
        url: `/api/v1/cases/${caseId}/evidence?filename=${name}`,
        headers: { ...lt.headers, 'content-type': 'application/octet-stream' },
        payload: bytes,
      });
      assert.equal(res.statusCode, 201, res.body);
      return json(res).id as string;
    };
    const whole = await upload('whole.img', crypto.randomBytes(100_000));
    const empty = await upload('empty.img', Buffer.alloc(0));
    const legacyBytes = crypto.randomBytes(100_000);
    const legacy = await upload('legacy.img', legacyBytes);
    const partialBytes = crypto.randomBytes(2 * 1024 * 1024 + 10);
    const partial = await upload('partial.img', partialBytes);
    const lost = await upload('lost.img', crypto.randomBytes(1000));
    // As before the node kept evidence in its database: the content only as a file of this process.
    const evidenceDir = path.join(node.dataDir, 'evidence');
    fs.mkdirSync(evidenceDir, { recursive: true });
    await db.deleteFrom('evidence_chunks').where('evidence_id', 'in', [legacy, lost]).execute();
    fs.writeFileSync(path.join(evidenceDir, legacy), legacyBytes);
    // An adoption cut off half-way: some pieces, and the file.
    await db.deleteFrom('evidence_chunks').where('evidence_id', '=', partial).where('seq', '=', 2).execute();
    fs.writeFileSync(path.join(evidenceDir, partial), partialBytes);

    const discard = fs.createWriteStream('/dev/null');
    const manifest = await writeBackup(
      { database: node.database, dataDir: node.dataDir, evidenceDir },
      discard,
    );
    discard.end();
    const files = manifest.members.filter((m) => m.path.startsWith('evidence/')).map((m) => m.path);
    assert.deepEqual(files.sort(), [`evidence/${legacy}`, `evidence/${partial}`].sort());
    assert.equal(manifest.evidenceFiles, 2);
    assert.deepEqual(manifest.evidenceWithoutFile, [lost], 'only the item whose content is nowhere here');
    assert.ok(![whole, empty].some((id) => manifest.evidenceWithoutFile.includes(id)));
  });
});
