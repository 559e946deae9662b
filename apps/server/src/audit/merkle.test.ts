import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import {
  consistencyRanges,
  EMPTY_ROOT,
  eventLeaf,
  Frontier,
  type Hash,
  type HashSource,
  inclusionRanges,
  leafHash,
  nodeHash,
  proofHashes,
  RootTracker,
  type Subtree,
  subtreeKey,
  verifyConsistency,
  verifyInclusion,
} from './merkle.ts';

// The RFC 9162 §2.1.1 definitions, written as plainly as the RFC states them.
const sha = (...parts: Buffer[]) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
function mth(d: readonly Buffer[]): Buffer {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(Buffer.from([0]), d[0]!);
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return sha(Buffer.from([1]), mth(d.slice(0, k)), mth(d.slice(k)));
}
function path(m: number, d: readonly Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m < k
    ? [...path(m, d.slice(0, k)), mth(d.slice(k))]
    : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}
function subproof(m: number, d: readonly Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [mth(d)];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m <= k
    ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))]
    : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}

const leaves = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`event ${i}`));

/** A hash source over leaves held in memory, as the database's would answer. */
function memorySource(data: readonly Buffer[]): HashSource {
  return async (subtrees: readonly Subtree[]) =>
    new Map(
      subtrees.map((s) => [
        subtreeKey(s),
        mth(data.slice(s.index * 2 ** s.level, (s.index + 1) * 2 ** s.level)),
      ]),
    );
}

const random = (max: number) => crypto.randomInt(max);

describe('Merkle tree (RFC 9162 §2.1)', () => {
  it('hashes an empty tree to SHA-256 of nothing, and leaves and nodes with their prefixes', () => {
    assert.deepEqual(EMPTY_ROOT, sha());
    assert.deepEqual(leafHash(Buffer.from('a')), sha(Buffer.from([0]), Buffer.from('a')));
    const l = sha(Buffer.from('l'));
    const r = sha(Buffer.from('r'));
    assert.deepEqual(nodeHash(l, r), sha(Buffer.from([1]), l, r));
  });

  it('computes the same root incrementally as the recursive definition, for 0..70 leaves', () => {
    const data = leaves(70);
    const frontier = new Frontier();
    assert.deepEqual(frontier.root(), mth([]));
    const completed = new Map<string, Hash>();
    for (let n = 1; n <= 70; n++) {
      frontier.append(leafHash(data[n - 1]!), (s, hash) => completed.set(subtreeKey(s), hash));
      assert.deepEqual(frontier.root(), mth(data.slice(0, n)), `root of ${n}`);
    }
    // Every subtree it reported complete is the MTH of exactly its leaves.
    assert.equal(completed.size, 35 + 17 + 8 + 4 + 2 + 1, 'every complete subtree of level ≥ 1');
    for (const [key, hash] of completed) {
      const [level, index] = key.split('/').map(Number) as [number, number];
      assert.deepEqual(hash, mth(data.slice(index * 2 ** level, (index + 1) * 2 ** level)), key);
    }
  });

  it('tracks the same roots on the verifier’s fast path', () => {
    const hashes = Array.from({ length: 70 }, (_, i) => crypto.hash('sha256', `e${i}`, 'hex'));
    const fast = new RootTracker();
    assert.equal(fast.rootHex(), mth([]).toString('hex'));
    for (let n = 1; n <= 70; n++) {
      fast.appendEvent(hashes[n - 1]!);
      const d = hashes.slice(0, n).map((h) => Buffer.from(h, 'hex'));
      assert.equal(fast.rootHex(), mth(d).toString('hex'), `root of ${n}`);
      assert.deepEqual(eventLeaf(hashes[n - 1]!), leafHash(d[n - 1]!));
    }
  });

  it('resumes from a stored frontier as if it had never stopped', () => {
    const data = leaves(50);
    const a = new Frontier();
    for (const d of data.slice(0, 37)) a.append(leafHash(d));
    const b = new Frontier(a.size, [...a.hashes]);
    for (const d of data.slice(37)) b.append(leafHash(d));
    assert.deepEqual(b.root(), mth(data));
    assert.throws(() => new Frontier(5, [EMPTY_ROOT]), /has 2 hashes/);
  });

  it('gives the RFC inclusion proofs, which verify, for every leaf of trees of 1..70', async () => {
    const data = leaves(70);
    for (let n = 1; n <= 70; n++) {
      const d = data.slice(0, n);
      const root = mth(d);
      for (let m = 0; m < n; m++) {
        const proof = await proofHashes(inclusionRanges(m, n), memorySource(d));
        assert.deepEqual(proof, path(m, d), `PATH(${m}, D[${n}])`);
        assert.ok(verifyInclusion(m, n, leafHash(d[m]!), proof, root));
      }
    }
  });

  it('gives the RFC consistency proofs, which verify, for every pair of sizes up to 70', async () => {
    const data = leaves(70);
    for (let n = 1; n <= 70; n++) {
      const d = data.slice(0, n);
      for (let m = 1; m <= n; m++) {
        const proof = await proofHashes(consistencyRanges(m, n), memorySource(d));
        assert.deepEqual(proof, subproof(m, d, true), `PROOF(${m}, D[${n}])`);
        assert.ok(verifyConsistency(m, n, mth(data.slice(0, m)), mth(d), proof), `${m} → ${n}`);
      }
    }
  });

  it('verifies consistency between random sizes of a larger tree', async () => {
    const data = leaves(3000);
    for (let i = 0; i < 60; i++) {
      const n = 1 + random(3000);
      const m = 1 + random(n);
      const proof = await proofHashes(consistencyRanges(m, n), memorySource(data.slice(0, n)));
      assert.ok(proof.length <= 2 * Math.ceil(Math.log2(n)) + 1, 'a proof has O(log n) hashes');
      assert.ok(verifyConsistency(m, n, mth(data.slice(0, m)), mth(data.slice(0, n)), proof), `${m} → ${n}`);
    }
  });

  it('refuses tampered proofs, wrong roots, wrong sizes and another history', async () => {
    const data = leaves(70);
    let checked = 0;
    for (let n = 2; n <= 70; n++) {
      const m = 1 + random(n - 1);
      const first = mth(data.slice(0, m));
      const second = mth(data.slice(0, n));
      const proof = await proofHashes(consistencyRanges(m, n), memorySource(data.slice(0, n)));
      assert.ok(verifyConsistency(m, n, first, second, proof));
      // One bit flipped anywhere in the proof.
      for (let j = 0; j < proof.length; j++) {
        const bad = proof.map((h) => Buffer.from(h));
        bad[j]![random(32)]! ^= 1 << random(8);
        assert.equal(
          verifyConsistency(m, n, first, second, bad),
          false,
          `bit flip in hash ${j} of ${m} → ${n}`,
        );
        checked++;
      }
      assert.equal(verifyConsistency(m, n, first, second, proof.slice(0, -1)), false, 'a hash dropped');
      assert.equal(verifyConsistency(m, n, first, second, [...proof, first]), false, 'a hash added');
      assert.equal(verifyConsistency(m, n, second, second, proof), false, 'wrong first root');
      assert.equal(verifyConsistency(m, n, first, first, proof), false, 'wrong second root');
      if (m + 1 < n)
        assert.equal(verifyConsistency(m + 1, n, first, second, proof), false, 'wrong first size');
      // The same first tree, then a different history: no proof made for it can match the first root.
      const forked = [...data.slice(0, m - 1), Buffer.from('rewritten'), ...data.slice(m, n)];
      const forkedProof = await proofHashes(consistencyRanges(m, n), memorySource(forked));
      assert.equal(verifyConsistency(m, n, first, mth(forked), forkedProof), false, `fork at ${m}`);

      const leaf = random(n);
      const inclusion = await proofHashes(inclusionRanges(leaf, n), memorySource(data.slice(0, n)));
      assert.equal(verifyInclusion(leaf, n, leafHash(Buffer.from('other')), inclusion, second), false);
      if (inclusion.length > 0) {
        const bad = inclusion.map((h) => Buffer.from(h));
        bad[0]![0]! ^= 1;
        assert.equal(verifyInclusion(leaf, n, leafHash(data[leaf]!), bad, second), false);
      }
    }
    assert.ok(checked > 100);
    assert.equal(verifyConsistency(0, 5, EMPTY_ROOT, EMPTY_ROOT, []), false, 'size 0 has no proof');
    assert.equal(verifyConsistency(6, 5, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]), false, 'first beyond second');
    assert.throws(() => consistencyRanges(6, 5), RangeError);
    assert.throws(() => inclusionRanges(5, 5), RangeError);
  });
});
