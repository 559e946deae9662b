import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { Ctx } from '../context.ts';
import { canonicalJson } from '../platform/canonical-json.ts';
import type { Tx } from '../platform/db/transaction.ts';
import { inTransaction } from '../platform/db/transaction.ts';
import { keyFile, trustedKeyFromFile } from '../platform/keys.ts';
import { json, onPostgres, startTestNode, type TestNode, type TestUser } from '../test/harness.ts';
import { sha256Hex } from './audit.chain.ts';
import { verifyChain } from './audit.verifier.ts';

class Rollback extends Error {}

describe('tamper-evident audit log', () => {
  let node: TestNode;
  let auditor: TestUser;
  let analyst: TestUser;
  const keys = () => new Map([[node.services.key.keyId, node.services.key.publicKey]]);
  const ctx: Ctx = {
    actor: { type: 'system', id: null, name: 'test', party: null, roles: [] },
    requestId: 'req-1',
  };

  before(async () => {
    node = await startTestNode();
    auditor = await node.user('eu.auditor', 'EU', ['auditor']);
    analyst = await node.user('lt.analyst', 'LT', ['analyst']);
    for (let i = 0; i < 4; i++) {
      await inTransaction(node.database.db, (trx) =>
        node.services.audit.recordMany(
          trx,
          ctx,
          Array.from({ length: 10 }, (_, j) => ({
            action: 'test.event',
            objectType: 'thing',
            objectId: `${i}-${j}`,
            summary: { i, j, text: 'žąsis “quoted” \u0000' },
          })),
        ),
      );
      node.clock.advance(1000);
    }
  });
  after(() => node.close());

  /** Tampers inside a transaction, verifies what the tampering left, then rolls it back. */
  async function verifyAfter(tamper: (trx: Tx) => Promise<unknown>) {
    let result: Awaited<ReturnType<typeof verifyChain>> | undefined;
    await node.database.db
      .transaction()
      .execute(async (trx) => {
        await tamper(trx);
        result = await verifyChain(trx, { trustedKeys: keys() });
        throw new Rollback();
      })
      .catch((e) => {
        if (!(e instanceof Rollback)) throw e;
      });
    return result!;
  }

  it('verifies an untouched chain', async () => {
    const result = await node.services.audit.verify();
    assert.equal(result.ok, true, result.reason ?? '');
    assert.ok(result.events >= 44);
  });

  it('finds an edited event', async () => {
    const r = await verifyAfter((trx) =>
      sql`update audit_events set envelope = replace(envelope, 'test.event', 'test.evil') where seq = 20`.execute(
        trx,
      ),
    );
    assert.equal(r.ok, false);
    assert.equal(r.firstBadSeq, 20);
    assert.match(r.reason!, /altered/);
    const actor = await verifyAfter((trx) =>
      sql`update audit_events set envelope = replace(envelope, '"name":"test"', '"name":"else"') where seq = 9`.execute(
        trx,
      ),
    );
    assert.equal(actor.firstBadSeq, 9);
  });

  it('finds committed tampering through the node’s own verifier (the streaming path on PostgreSQL)', async () => {
    const { db } = node.database;
    const original = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('seq', '=', 20)
      .executeTakeFirstOrThrow();
    await sql`update audit_events set envelope = replace(envelope, 'test.event', 'test.evil') where seq = 20`.execute(
      db,
    );
    const edited = await node.services.audit.verify();
    await db.updateTable('audit_events').set({ envelope: original.envelope }).where('seq', '=', 20).execute();
    assert.equal(edited.firstBadSeq, 20);
    const row15 = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('seq', '=', 15)
      .executeTakeFirstOrThrow();
    await db.deleteFrom('audit_events').where('seq', '=', 15).execute();
    const deleted = await node.services.audit.verify();
    await db.insertInto('audit_events').values(row15).execute();
    assert.equal(deleted.firstBadSeq, 15);
    assert.match(deleted.reason!, /missing/);
    assert.equal((await node.services.audit.verify()).ok, true, 'restored, it verifies again');
  });

  it('finds a deleted event', async () => {
    const r = await verifyAfter((trx) => sql`delete from audit_events where seq = 15`.execute(trx));
    assert.equal(r.firstBadSeq, 15);
    assert.match(r.reason!, /missing/);
  });

  it('finds an inserted event', async () => {
    const r = await verifyAfter(async (trx) => {
      await sql`update audit_events set seq = seq + 100000 where seq >= 12`.execute(trx);
      await sql`update audit_events set seq = seq - 100000 + 1 where seq >= 100000`.execute(trx);
      const prev = await trx
        .selectFrom('audit_events')
        .selectAll()
        .where('seq', '=', 11)
        .executeTakeFirstOrThrow();
      // Even a well-formed, correctly hashed insertion is caught.
      const event = { ...JSON.parse(prev.envelope), seq: 12, prev: prev.hash, action: 'forged.event' };
      const envelope = canonicalJson(event);
      await trx
        .insertInto('audit_events')
        .values({ seq: 12, envelope, hash: sha256Hex(envelope) })
        .execute();
    });
    assert.equal(r.ok, false);
    assert.ok(r.firstBadSeq === 12 || r.firstBadSeq === 13, `blamed ${r.firstBadSeq}`);
  });

  it('finds reordered events', async () => {
    const r = await verifyAfter(async (trx) => {
      await sql`update audit_events set seq = -1 where seq = 30`.execute(trx);
      await sql`update audit_events set seq = 30 where seq = 31`.execute(trx);
      await sql`update audit_events set seq = 31 where seq = -1`.execute(trx);
    });
    assert.equal(r.firstBadSeq, 30);
  });

  it('signs checkpoints and catches a rewrite with recomputed hashes, or a cut tail', async () => {
    const checkpoint = await node.request({
      method: 'POST',
      url: '/api/v1/audit/checkpoints',
      headers: auditor.headers,
    });
    assert.equal(checkpoint.statusCode, 201, checkpoint.body);
    const { size, keyId } = json(checkpoint);
    assert.equal(keyId, node.services.key.keyId);

    const rewritten = await verifyAfter(async (trx) => {
      // A careful forger rewrites event 25 and recomputes every later hash and the head: only a
      // checkpoint can tell.
      const rows = await trx
        .selectFrom('audit_events')
        .selectAll()
        .where('seq', '>=', 25)
        .orderBy('seq')
        .execute();
      let prev = (
        await trx.selectFrom('audit_events').select('hash').where('seq', '=', 24).executeTakeFirstOrThrow()
      ).hash;
      for (const row of rows) {
        const event = JSON.parse(row.envelope);
        const envelope = canonicalJson({
          ...event,
          prev,
          summary: row.seq === 25 ? '{"forged":true}' : event.summary,
        });
        const hash = sha256Hex(envelope);
        await trx.updateTable('audit_events').set({ envelope, hash }).where('seq', '=', row.seq).execute();
        await trx.updateTable('audit_head').set({ prev_hash: prev, hash }).execute();
        prev = hash;
      }
    });
    assert.equal(rewritten.ok, false);
    assert.equal(rewritten.firstBadSeq, 1, 'no earlier checkpoint holds, so nothing up to it is vouched for');
    assert.match(rewritten.reason!, /rewritten/);

    const cut = await verifyAfter((trx) =>
      sql`delete from audit_events where seq > ${size - 3}`.execute(trx),
    );
    assert.equal(cut.ok, false);
    assert.match(cut.reason!, /missing/);

    const forgedSignature = await verifyAfter((trx) =>
      sql`update audit_checkpoints set size = size - 1`.execute(trx),
    );
    assert.match(forgedSignature.reason!, /invalid signature/);

    const stranger = await verifyChain(node.database.db, { trustedKeys: new Map() });
    assert.match(stranger.reason!, /unknown key/);

    // `vytis audit verify --key FILE`: the node's key file is trusted; anything else is refused clearly.
    const fromFile = trustedKeyFromFile(keyFile(node.dataDir));
    assert.equal(fromFile.keyId, node.services.key.keyId);
    const withFile = await verifyChain(node.database.db, {
      trustedKeys: new Map([[fromFile.keyId, fromFile.publicKey]]),
    });
    assert.equal(withFile.ok, true, withFile.reason ?? '');
    assert.throws(
      () => trustedKeyFromFile(path.join(node.dataDir, 'missing.pem')),
      /cannot read key file .*missing\.pem: ENOENT/,
    );
    const notAKey = path.join(node.dataDir, 'notes.txt');
    fs.writeFileSync(notAKey, 'hello');
    assert.throws(() => trustedKeyFromFile(notAKey), /notes\.txt is not a PEM key/);
  });

  it('stores canonical JSON that hashes right, for any text, via both append paths', async () => {
    const awkward = fc.constantFrom('\ud800', '\udfff', '\u0000', '\u001f', '"', '\\', '\u2028', 'ž', '😀');
    const text = fc.string({
      unit: fc.oneof(awkward, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
      maxLength: 40,
    });
    const nullable = fc.option(text, { nil: null });
    const anEntry = fc.record({
      action: text,
      objectType: text,
      objectId: nullable,
      summary: fc.dictionary(text, fc.jsonValue({ maxDepth: 2 })),
    });
    const anActor = fc.record({ name: text, id: nullable, requestId: nullable });
    await fc.assert(
      fc.asyncProperty(anActor, fc.array(anEntry, { minLength: 1, maxLength: 3 }), async (actor, entries) => {
        await inTransaction(node.database.db, (trx) =>
          node.services.audit.recordMany(
            trx,
            {
              actor: { type: 'user', id: actor.id, name: actor.name, party: 'LT', roles: [] },
              requestId: actor.requestId,
            },
            entries,
          ),
        );
        // Sealed before inTransaction returned: the newest events are these, in order.
        const rows = (
          await node.database.db
            .selectFrom('audit_events')
            .selectAll()
            .orderBy('seq', 'desc')
            .limit(entries.length)
            .execute()
        ).reverse();
        assert.equal(rows.length, entries.length);
        const firstSeq = rows[0]!.seq;
        for (const [i, row] of rows.entries()) {
          const event = JSON.parse(row.envelope);
          assert.equal(row.envelope, canonicalJson(event), 'stored as canonical JSON');
          assert.equal(sha256Hex(row.envelope), row.hash);
          assert.equal(event.seq, firstSeq + i);
          const storable = (t: string) => t.toWellFormed().replaceAll('\u0000', '\uFFFD');
          assert.equal(event.actor.name, storable(actor.name));
          assert.equal(event.action, storable(entries[i]!.action));
          assert.equal(event.requestId, actor.requestId === null ? null : storable(actor.requestId));
        }
      }),
      { numRuns: 60 },
    );
    assert.equal((await node.services.audit.verify()).ok, true);
  });

  it('pages the log for auditors only, with filters', async () => {
    const first = await node.request({
      method: 'GET',
      url: '/api/v1/audit?limit=5',
      headers: auditor.headers,
    });
    assert.equal(first.statusCode, 200);
    const page1 = json(first);
    assert.deepEqual(
      page1.items.map((e: any) => e.seq),
      [1, 2, 3, 4, 5],
    );
    const second = json(
      await node.request({
        method: 'GET',
        url: `/api/v1/audit?limit=5&cursor=${page1.nextCursor}`,
        headers: auditor.headers,
      }),
    );
    assert.equal(second.items[0].seq, 6);
    assert.equal(second.items[0].prevHash, page1.items[4].hash, 'pages join up along the chain');

    const filtered = json(
      await node.request({
        method: 'GET',
        url: '/api/v1/audit?action=test.event&objectId=2-3',
        headers: auditor.headers,
      }),
    );
    assert.equal(filtered.items.length, 1);
    assert.deepEqual(filtered.items[0].summary, { i: 2, j: 3, text: 'žąsis “quoted” \u0000' });
    assert.equal(filtered.items[0].requestId, 'req-1');
    // The setup wrote four batches a second apart: the last one alone is "since" its own time.
    const lastBatchAt = filtered.items[0].at.replace(/\.\d+Z$/, '.000Z');
    const sinceLast = json(
      await node.request({
        method: 'GET',
        url: `/api/v1/audit?action=test.event&since=${encodeURIComponent(new Date(Date.parse(lastBatchAt) + 1000).toISOString())}`,
        headers: auditor.headers,
      }),
    );
    assert.deepEqual(
      [...new Set(sinceLast.items.map((e: any) => e.summary.i))],
      [3],
      'only the batch written after that time',
    );
    const newest = json(
      await node.request({
        method: 'GET',
        url: '/api/v1/audit?order=desc&limit=1',
        headers: auditor.headers,
      }),
    );
    assert.ok(newest.items[0].seq > 40);

    assert.equal(
      (await node.request({ method: 'GET', url: '/api/v1/audit', headers: analyst.headers })).statusCode,
      403,
    );
    assert.equal((await node.request({ method: 'GET', url: '/api/v1/audit' })).statusCode, 401);
    const badCursor = await node.request({
      method: 'GET',
      url: '/api/v1/audit?cursor=abc',
      headers: auditor.headers,
    });
    assert.equal(badCursor.statusCode, 400);
    assert.equal(json(badCursor).error.details[0].field, 'querystring/cursor');
    const verify = await node.request({
      method: 'GET',
      url: '/api/v1/audit/verify',
      headers: auditor.headers,
    });
    assert.equal(json(verify).ok, true);
  });

  it('keeps one valid chain when two processes append to one PostgreSQL', {
    skip: !onPostgres() && 'needs DATABASE_URL (PostgreSQL)',
  }, async () => {
    const before = (await node.services.audit.verify()).events;
    const worker = path.join(import.meta.dirname, 'fixtures', 'append-worker.ts');
    const run = (id: string) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', worker, node.databaseUrl!, node.dataDir, '150', id],
          { stdio: 'inherit' },
        );
        child.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`worker ${id} exited ${code}`)),
        );
      });
    await Promise.all([run('a'), run('b')]);
    const result = await node.services.audit.verify();
    assert.equal(result.ok, true, result.reason ?? '');
    assert.equal(result.events, before + 300);
    const appended = await node.services.audit.page({ action: 'test.append' }, 'asc', 500);
    const counts = new Map<string, number>();
    for (const e of appended.items) counts.set(e.actor.name, (counts.get(e.actor.name) ?? 0) + 1);
    const byWorker = { rows: [...counts].sort().map(([actor_name, n]) => ({ actor_name, n })) };
    assert.deepEqual(byWorker.rows, [
      { actor_name: 'worker-a', n: 150 },
      { actor_name: 'worker-b', n: 150 },
    ]);
  });
});
