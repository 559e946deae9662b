import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Ctx } from '../context.ts';
import { canonicalJson } from '../platform/canonical-json.ts';
import { inTransaction } from '../platform/db/transaction.ts';
import { startTestNode, type TestNode } from '../test/harness.ts';
import { sha256Hex } from './audit.chain.ts';
import { consistencyRanges, verifyConsistency } from './merkle.ts';

/** The Merkle tree the node keeps over its audit chain, checked against RFC 9162's definition. */

const ctx: Ctx = {
  actor: { type: 'system', id: null, name: 'test', party: null, roles: [] },
  requestId: null,
};

// RFC 9162 §2.1.1, plainly: leaves are the events' hashes as raw bytes.
const sha = (...parts: Buffer[]) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
function mth(d: readonly Buffer[]): Buffer {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(Buffer.from([0]), d[0]!);
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return sha(Buffer.from([1]), mth(d.slice(0, k)), mth(d.slice(k)));
}

describe('the audit chain’s Merkle tree', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(() => node.close());

  async function grow(count: number, tag = 'x') {
    await inTransaction(node.database.db, (trx) =>
      node.services.audit.recordMany(
        trx,
        ctx,
        Array.from({ length: count }, (_, i) => ({
          action: 'test.event',
          objectType: 'thing',
          objectId: `${tag}${i}`,
        })),
      ),
    );
  }
  async function leaves(upTo?: number) {
    const rows = await node.database.db
      .selectFrom('audit_events')
      .select(['seq', 'hash'])
      .orderBy('seq')
      .execute();
    return rows.filter((r) => upTo === undefined || r.seq <= upTo).map((r) => Buffer.from(r.hash, 'hex'));
  }
  const treeState = () =>
    node.database.db.selectFrom('audit_tree_state').selectAll().executeTakeFirstOrThrow();

  it('grows with the chain, in sealing batches of any size, and signs its head in checkpoints', async () => {
    for (const count of [1, 15, 16, 17, 3, 200, 1]) await grow(count);
    const { checkpoint } = await node.services.audit.checkpoint({ force: true });
    const all = await leaves();
    assert.equal(checkpoint.size, all.length);
    assert.equal(checkpoint.root, mth(all).toString('hex'));
    assert.equal(Number((await treeState()).size), all.length);
    // Only subtrees of 16 leaves and more are rows: about one per eight events.
    const rows = await node.database.db
      .selectFrom('audit_tree_nodes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.ok(Number(rows.n) <= all.length / 8, `${rows.n} rows for ${all.length} events`);
  });

  it('gives consistency proofs between any two sizes that verify against the RFC roots', async () => {
    const all = await leaves();
    for (const [first, second] of [
      [1, all.length],
      [16, 33],
      [17, all.length],
      [all.length - 1, all.length],
      [all.length, all.length],
      [5, 7],
    ] as const) {
      const answer = await node.services.audit.consistencyProof(first, second);
      assert.equal(answer.secondRoot, mth(all.slice(0, second)).toString('hex'));
      assert.equal(answer.proof.length, consistencyRanges(first, second).length);
      assert.ok(
        verifyConsistency(
          first,
          second,
          mth(all.slice(0, first)),
          mth(all.slice(0, second)),
          answer.proof.map((h) => Buffer.from(h, 'hex')),
        ),
        `${first} → ${second}`,
      );
    }
  });

  it('is built for a chain older than the tree, by the next sealing', async () => {
    // As right after the migration: events there, no tree.
    await sql`delete from audit_tree_nodes`.execute(node.database.db);
    await sql`update audit_tree_state set size = 0, frontier = ''`.execute(node.database.db);
    await grow(2, 'after');
    const all = await leaves();
    const { checkpoint } = await node.services.audit.checkpoint({ force: true });
    assert.equal(checkpoint.root, mth(all).toString('hex'));
    assert.equal((await node.services.audit.verify()).ok, true);
  });

  it('follows a chain cut below it (a reset, a restored database) and grows on from there', async () => {
    const db = node.database.db;
    const before = await leaves();
    const keep = before.length - 40;
    const hashOf = async (seq: number) =>
      (await db.selectFrom('audit_events').select('hash').where('seq', '=', seq).executeTakeFirstOrThrow())
        .hash;
    await sql`delete from audit_events where seq > ${keep}`.execute(db);
    await sql`delete from audit_checkpoints where size > ${keep}`.execute(db);
    await sql`update audit_head set seq = ${keep}, hash = ${await hashOf(keep)}, prev_hash = ${await hashOf(keep - 1)}`.execute(
      db,
    );
    await grow(5, 'again');
    const all = await leaves();
    assert.equal(all.length, keep + 5);
    const { checkpoint } = await node.services.audit.checkpoint({ force: true });
    assert.equal(checkpoint.root, mth(all).toString('hex'));
    const answer = await node.services.audit.consistencyProof(keep - 7, all.length);
    assert.ok(
      verifyConsistency(
        keep - 7,
        all.length,
        mth(all.slice(0, keep - 7)),
        mth(all),
        answer.proof.map((h) => Buffer.from(h, 'hex')),
      ),
    );
  });

  it('`audit verify` reports a root mismatch when a leaf is edited, even with the chain recomputed', async () => {
    await grow(30, 'tail');
    await node.services.audit.checkpoint({ force: true });
    const db = node.database.db;
    const size = (await leaves()).length;
    const target = size - 20;
    // A careful forger edits one event and recomputes every later hash and the head.
    const rows = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('seq', '>=', target)
      .orderBy('seq')
      .execute();
    let prev = (
      await db
        .selectFrom('audit_events')
        .select('hash')
        .where('seq', '=', target - 1)
        .executeTakeFirstOrThrow()
    ).hash;
    for (const row of rows) {
      const event = JSON.parse(row.envelope);
      const envelope = canonicalJson({
        ...event,
        prev,
        summary: row.seq === target ? '{"forged":true}' : event.summary,
      });
      const hash = sha256Hex(envelope);
      await db.updateTable('audit_events').set({ envelope, hash }).where('seq', '=', row.seq).execute();
      await db.updateTable('audit_head').set({ prev_hash: prev, hash }).execute();
      prev = hash;
    }
    const result = await node.services.audit.verify();
    assert.equal(result.ok, false);
    const mismatch = result.problems.find((p) => p.code === 'tree_mismatch');
    assert.ok(mismatch, JSON.stringify(result.problems));
    assert.match(
      mismatch.message,
      new RegExp(`stored Merkle tree of the first ${size} events does not match the chain`),
    );
    assert.ok(result.problems.some((p) => p.code === 'history_rewritten'));
  });

  it('refuses sizes it cannot prove, saying why', async () => {
    const size = (await leaves()).length;
    await assert.rejects(node.services.audit.consistencyProof(0, 3), /first at least 1/);
    await assert.rejects(node.services.audit.consistencyProof(4, 3), /must not be larger than second/);
    await assert.rejects(
      node.services.audit.consistencyProof(1, size + 1),
      new RegExp(`beyond the log: its Merkle tree holds ${size} events`),
    );
  });
});
