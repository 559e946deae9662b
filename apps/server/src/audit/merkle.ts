import crypto from 'node:crypto';

/**
 * A Merkle tree over the audit chain, as RFC 9162 §2.1 defines it, so that a witness can check
 * that a node's log only grew (a consistency proof) without seeing any of its events.
 *
 * Leaf i (0-based) is event `seq = i + 1`, and its data is that event's hash (SHA-256 of its stored
 * envelope) as 32 raw bytes: the envelope is already pinned by its hash, so hashing the 32 bytes
 * again is all a leaf costs, and an inclusion proof of an event is checked from its hash.
 *
 *   leaf hash  = SHA-256(0x00 || data)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256("")
 *   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two smaller than n
 *
 * Every subtree RFC 9162's recursion names is a range [lo, hi) whose MTH is the right fold of the
 * complete, aligned subtrees that tile it from the left (largest first). Proofs are computed as such
 * ranges; a hash source then gives the hashes of complete subtrees (`level`, `index`: leaves
 * `index·2^level … (index+1)·2^level − 1`). Everything here is pure; storage is the caller's.
 */

export type Hash = Buffer;

const LEAF = Buffer.from([0]);

export const EMPTY_ROOT: Hash = crypto.hash('sha256', Buffer.alloc(0), 'buffer');

// Hashing is synchronous: one scratch buffer per input shape spares an allocation per hash, which
// is most of the cost of the tree on the verifier's walk over millions of events.
const leafInput = Buffer.alloc(33); // 0x00 || 32 bytes
const nodeInput = Buffer.alloc(65); // 0x01 || left || right
nodeInput[0] = 1;

export function leafHash(data: Buffer): Hash {
  if (data.length !== 32) return crypto.hash('sha256', Buffer.concat([LEAF, data]), 'buffer');
  data.copy(leafInput, 1);
  return crypto.hash('sha256', leafInput, 'buffer');
}

export function nodeHash(left: Hash, right: Hash): Hash {
  left.copy(nodeInput, 1);
  right.copy(nodeInput, 33);
  return crypto.hash('sha256', nodeInput, 'buffer');
}

/** The leaf of an audit event: its hash (64 hex digits) as raw bytes. */
export function eventLeaf(eventHashHex: string): Hash {
  if (leafInput.write(eventHashHex, 1, 'hex') !== 32) throw new Error(`not an event hash: ${eventHashHex}`);
  return crypto.hash('sha256', leafInput, 'buffer');
}

/** The largest power of two strictly smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** A complete subtree: leaves index·2^level … (index+1)·2^level − 1. */
export interface Subtree {
  level: number;
  index: number;
}

export const subtreeKey = (s: Subtree) => `${s.level}/${s.index}`;

/** A range of leaves [lo, hi), as one element of a proof. */
export type Range = readonly [lo: number, hi: number];

/** The complete aligned subtrees tiling [lo, hi), left to right (largest first for RFC ranges). */
export function tiles(lo: number, hi: number): Subtree[] {
  const out: Subtree[] = [];
  while (lo < hi) {
    let size = 1;
    let level = 0;
    while (lo % (size * 2) === 0 && lo + size * 2 <= hi) {
      size *= 2;
      level += 1;
    }
    out.push({ level, index: lo / size });
    lo += size;
  }
  return out;
}

/** MTH of a range, from the hashes of the subtrees tiling it. */
export function rangeHash(range: Range, hashOf: (s: Subtree) => Hash): Hash {
  const parts = tiles(range[0], range[1]);
  if (parts.length === 0) return EMPTY_ROOT;
  let hash = hashOf(parts.at(-1)!);
  for (let i = parts.length - 2; i >= 0; i--) hash = nodeHash(hashOf(parts[i]!), hash);
  return hash;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]) as ranges, leaf-side first. */
export function inclusionRanges(index: number, size: number): Range[] {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size)
    throw new RangeError(`no leaf ${index} in a tree of ${size}`);
  const out: Range[] = [];
  const walk = (lo: number, hi: number) => {
    if (hi - lo === 1) return;
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      walk(lo, lo + k);
      out.push([lo + k, hi]);
    } else {
      walk(lo + k, hi);
      out.push([lo, lo + k]);
    }
  };
  walk(0, size);
  return out;
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]) as ranges; empty when m = n. Requires 0 < m ≤ n. */
export function consistencyRanges(first: number, second: number): Range[] {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || first > second)
    throw new RangeError(`no consistency proof from ${first} to ${second}`);
  const out: Range[] = [];
  const sub = (lo: number, hi: number, whole: boolean) => {
    if (first === hi) {
      if (!whole) out.push([lo, hi]);
      return;
    }
    const k = splitPoint(hi - lo);
    if (first <= lo + k) {
      sub(lo, lo + k, whole);
      out.push([lo + k, hi]);
    } else {
      sub(lo + k, hi, false);
      out.push([lo, lo + k]);
    }
  };
  sub(0, second, true);
  return out;
}

/** Every complete subtree whose hash the given ranges need, once each. */
export function subtreesOf(ranges: readonly Range[]): Subtree[] {
  const seen = new Map<string, Subtree>();
  for (const [lo, hi] of ranges) for (const s of tiles(lo, hi)) seen.set(subtreeKey(s), s);
  return [...seen.values()];
}

/** Looks up subtree hashes, in batches; throws when one is not there. */
export type HashSource = (subtrees: readonly Subtree[]) => Promise<Map<string, Hash>>;

/** The hashes of a proof, in RFC order, from a hash source: one batch of lookups. */
export async function proofHashes(ranges: readonly Range[], source: HashSource): Promise<Hash[]> {
  const known = await source(subtreesOf(ranges));
  const hashOf = (s: Subtree) => {
    const hash = known.get(subtreeKey(s));
    if (!hash) throw new Error(`the tree has no hash for subtree ${subtreeKey(s)}`);
    return hash;
  };
  return ranges.map((range) => rangeHash(range, hashOf));
}

const isOdd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);

/** RFC 9162 §2.1.3.2: whether `proof` shows leaf `index` with hash `leaf` in the tree of `size` with `root`. */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Hash,
  proof: readonly Hash[],
  root: Hash,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.equals(root);
}

/**
 * RFC 9162 §2.1.4.2: whether `proof` shows that the tree of `second` leaves with `secondRoot`
 * extends the tree of `first` leaves with `firstRoot`.
 */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Hash,
  secondRoot: Hash,
  proof: readonly Hash[],
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || first > second)
    return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (proof.length === 0) return false;
  // A first tree that is a complete subtree is not in the proof: its root is the proof's start.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}

function isPowerOfTwo(n: number): boolean {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}

/**
 * The right edge of a tree: the roots of the complete subtrees tiling [0, size), largest first
 * (one per set bit of size). Appending a leaf merges equal neighbours, which completes subtrees;
 * the caller stores those it keeps. The tree's root is the right fold of the frontier.
 */
export class Frontier {
  constructor(
    public size = 0,
    /** Hashes of the tiles of [0, size), largest first. */
    public readonly hashes: Hash[] = [],
  ) {
    if (hashes.length !== popCount(size))
      throw new Error(`a frontier of ${size} leaves has ${popCount(size)} hashes, not ${hashes.length}`);
  }

  /** Adds a leaf; `completed` gets every subtree of level ≥ 1 it completes. */
  append(leaf: Hash, completed?: (s: Subtree, hash: Hash) => void): void {
    let hash = leaf;
    let level = 0;
    this.size += 1;
    // The trailing one-bits of the old size are the tiles the new leaf merges with.
    while (this.size % 2 ** (level + 1) === 0) {
      hash = nodeHash(this.hashes.pop()!, hash);
      level += 1;
      completed?.({ level, index: this.size / 2 ** level - 1 }, hash);
    }
    this.hashes.push(hash);
  }

  root(): Hash {
    if (this.hashes.length === 0) return EMPTY_ROOT;
    let r = this.hashes.at(-1)!;
    for (let i = this.hashes.length - 2; i >= 0; i--) r = nodeHash(this.hashes[i]!, r);
    return r;
  }

  /** The tiles the hashes stand for, largest first. */
  tiles(): Subtree[] {
    return tiles(0, this.size);
  }
}

function popCount(n: number): number {
  let count = 0;
  for (; n > 0; n = Math.floor(n / 2)) count += n % 2;
  return count;
}

/**
 * The same frontier for the verifier's walk over the whole chain: hashes kept as 32-character
 * latin1 strings, because on the Node versions we run a hash returned as a Buffer costs about three
 * times one returned as a string, and the walk makes two per event.
 */
export class RootTracker {
  private readonly hashes: string[];

  constructor(
    public size = 0,
    /** The frontier's hashes as hex, largest subtree first (as Frontier holds them). */
    hexHashes: readonly string[] = [],
  ) {
    if (hexHashes.length !== popCount(size))
      throw new Error(`a frontier of ${size} leaves has ${popCount(size)} hashes, not ${hexHashes.length}`);
    this.hashes = hexHashes.map((h) => Buffer.from(h, 'hex').toString('latin1'));
  }

  /** Adds the leaf of an event, from its hash as 64 hex digits; `completed` gets the subtrees it completes. */
  appendEvent(
    eventHashHex: string,
    completed?: (level: number, index: number, hexHash: () => string) => void,
  ): void {
    if (leafInput.write(eventHashHex, 1, 'hex') !== 32) throw new Error(`not an event hash: ${eventHashHex}`);
    let hash = crypto.hash('sha256', leafInput, 'binary');
    this.size += 1;
    for (let level = 1; this.size % 2 ** level === 0; level++) {
      hash = this.node(this.hashes.pop()!, hash);
      const done = hash;
      completed?.(level, this.size / 2 ** level - 1, () => Buffer.from(done, 'latin1').toString('hex'));
    }
    this.hashes.push(hash);
  }

  /** The frontier's hashes as hex, largest subtree first. */
  frontierHex(): string[] {
    return this.hashes.map((h) => Buffer.from(h, 'latin1').toString('hex'));
  }

  /** The tree head of the leaves so far, as hex. */
  rootHex(): string {
    if (this.hashes.length === 0) return EMPTY_ROOT.toString('hex');
    let r = this.hashes.at(-1)!;
    for (let i = this.hashes.length - 2; i >= 0; i--) r = this.node(this.hashes[i]!, r);
    return Buffer.from(r, 'latin1').toString('hex');
  }

  private node(left: string, right: string): string {
    nodeInput.write(left, 1, 'latin1');
    nodeInput.write(right, 33, 'latin1');
    return crypto.hash('sha256', nodeInput, 'binary');
  }
}
