import { sql } from 'kysely';
import type { Executor, Tx } from '../platform/db/transaction.ts';
import {
  eventLeaf,
  Frontier,
  type Hash,
  type HashSource,
  RootTracker,
  type Subtree,
  subtreeKey,
  tiles,
} from './merkle.ts';

/**
 * Subtrees of this level and above are stored; below it a hash is recomputed from at most
 * 2^TREE_STORED_LEVEL event hashes. 16 leaves: about one row per eight events on the sealer's
 * path, and a proof's few low subtrees cost a read of a few dozen event hashes.
 */
export const TREE_STORED_LEVEL = 4;

/** Leaves read per query while building the tree for events it does not cover yet. */
const CATCH_UP_PAGE = 20_000;

export interface TreeState {
  size: number;
  frontier: RootTracker;
}

export const frontierText = (f: RootTracker) => f.frontierHex().join(' ');

export function parseFrontier(size: number, text: string): RootTracker {
  return new RootTracker(size, text === '' ? [] : text.split(' '));
}

/**
 * What the sealer works from, in one statement once its turn is taken (so it sees every commit
 * before it): the chain's head, the tree's state, and the oldest committed pending events. Ids are
 * taken at insert and transactions commit in any order, so a lower id may commit after a higher one
 * was sealed: it is simply placed later.
 */
export async function sealerView(
  trx: Tx,
  limit: number,
): Promise<{
  head: { seq: number; hash: string };
  tree: TreeState;
  pending: { id: number; head: string; middle: string; tail: string }[];
}> {
  const result = await sql<{
    seq: number | null;
    hash: string | null;
    tree_size: number | null;
    frontier: string | null;
    id: number | null;
    head: string | null;
    middle: string | null;
    tail: string | null;
  }>`
    select * from (
      (select h.seq, h.hash, t.size as tree_size, t.frontier,
              null::bigint as id, null::text as head, null::text as middle, null::text as tail
       from audit_head h cross join audit_tree_state t where h.id = 1 and t.id = 1)
      union all
      (select null, null, null, null, id, head, middle, tail from audit_pending order by id limit ${limit})
    ) as view`.execute(trx);
  const top = result.rows.find((row) => row.id === null)!;
  const pending = result.rows
    .filter((row) => row.id !== null)
    .map((row) => ({ id: Number(row.id), head: row.head!, middle: row.middle!, tail: row.tail! }))
    .sort((a, b) => a.id - b.id);
  return {
    head: { seq: Number(top.seq), hash: top.hash! },
    tree: stateOf(top.tree_size!, top.frontier!),
    pending,
  };
}

export async function readTreeState(db: Executor): Promise<TreeState> {
  const row = await db
    .selectFrom('audit_tree_state')
    .select(['size', 'frontier'])
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  return stateOf(row.size, row.frontier);
}

const stateOf = (size: number, frontier: string): TreeState => ({
  size: Number(size),
  frontier: parseFrontier(Number(size), frontier),
});

/** Stores what an extension of the tree completed, and its new state. */
export async function saveTree(trx: Tx, frontier: RootTracker, nodes: readonly StoredNode[]): Promise<void> {
  for (let i = 0; i < nodes.length; i += 5000) {
    await trx
      .insertInto('audit_tree_nodes')
      .values(nodes.slice(i, i + 5000))
      .onConflict((oc) =>
        oc.columns(['level', 'idx']).doUpdateSet((eb) => ({ hash: eb.ref('excluded.hash') })),
      )
      .execute();
  }
  await trx
    .updateTable('audit_tree_state')
    .set({ size: frontier.size, frontier: frontierText(frontier) })
    .where('id', '=', 1)
    .execute();
}

export interface StoredNode {
  level: number;
  idx: number;
  hash: string;
}

/** Appends leaves to a frontier, collecting the subtrees they complete that are to be stored. */
export function extend(frontier: RootTracker, eventHashes: Iterable<string>): StoredNode[] {
  const nodes: StoredNode[] = [];
  const keep = (level: number, idx: number, hash: () => string) => {
    if (level >= TREE_STORED_LEVEL) nodes.push({ level, idx, hash: hash() });
  };
  for (const hash of eventHashes) frontier.appendEvent(hash, keep);
  return nodes;
}

/**
 * Hashes of the events seq from..to (inclusive), in order; null when one is missing (a broken
 * chain: the tree is not built over a gap).
 */
export async function eventHashes(db: Executor, from: number, to: number): Promise<string[] | null> {
  if (to < from) return [];
  const rows = await db
    .selectFrom('audit_events')
    .select(['seq', 'hash'])
    .where('seq', '>=', from)
    .where('seq', '<=', to)
    .orderBy('seq')
    .execute();
  if (rows.length !== to - from + 1 || rows.some((r, i) => r.seq !== from + i)) return null;
  return rows.map((r) => r.hash);
}

/**
 * Brings the tree to the chain's size `target` inside the sealer's turn: forward over events it
 * does not cover yet, a page at a time (bounded memory: the frontier and one page), or back when the
 * chain was cut below it (a reset chain, a restored database), dropping the subtrees beyond.
 * Returns null, changing nothing, when the chain has a gap there.
 */
export async function syncTree(trx: Tx, state: TreeState, target: number): Promise<RootTracker | null> {
  let frontier = state.frontier;
  if (state.size > target) {
    await sql`delete from audit_tree_nodes where (idx + 1) * (1::bigint << level) > ${target}::bigint`.execute(
      trx,
    );
    const back = await frontierAt(trx, target);
    if (!back) return null;
    frontier = back;
    await saveTree(trx, frontier, []);
    return frontier;
  }
  while (frontier.size < target) {
    const to = Math.min(target, frontier.size + CATCH_UP_PAGE);
    const hashes = await eventHashes(trx, frontier.size + 1, to);
    if (!hashes) return null;
    const nodes = extend(frontier, hashes);
    await saveTree(trx, frontier, nodes);
  }
  return frontier;
}

/** The frontier of the tree's first `size` leaves, from stored subtrees and the last events. */
async function frontierAt(db: Executor, size: number): Promise<RootTracker | null> {
  try {
    const parts = tiles(0, size);
    const known = await treeHashSource(db, size)(parts);
    return new RootTracker(
      size,
      parts.map((s) => known.get(subtreeKey(s))!.toString('hex')),
    );
  } catch {
    return null;
  }
}

/**
 * Subtree hashes of the first `size` leaves for proofs: stored ones in one query, lower ones
 * rehashed from their events (each at most 2^TREE_STORED_LEVEL, all in one query). Throws when the
 * tree or the chain lacks one: a proof is never made from a guess.
 */
export function treeHashSource(db: Executor, size: number): HashSource {
  return async (subtrees) => {
    const out = new Map<string, Hash>();
    const stored = subtrees.filter((s) => s.level >= TREE_STORED_LEVEL);
    const low = subtrees.filter((s) => s.level < TREE_STORED_LEVEL);
    for (const s of subtrees) {
      if ((s.index + 1) * 2 ** s.level > size)
        throw new Error(`subtree ${subtreeKey(s)} is beyond ${size} leaves`);
    }
    if (stored.length > 0) {
      const rows = await sql<{ level: number; idx: number; hash: string }>`
        select level, idx, hash from audit_tree_nodes
        where (level, idx) in (${sql.join(stored.map((s) => sql`(${s.level}::smallint, ${s.index}::bigint)`))})`.execute(
        db,
      );
      for (const row of rows.rows) out.set(`${row.level}/${Number(row.idx)}`, Buffer.from(row.hash, 'hex'));
      for (const s of stored)
        if (!out.has(subtreeKey(s))) throw new Error(`the Merkle tree lacks subtree ${subtreeKey(s)}`);
    }
    if (low.length > 0) {
      const seqs = [
        ...new Set(
          low.flatMap((s) => Array.from({ length: 2 ** s.level }, (_, i) => s.index * 2 ** s.level + i + 1)),
        ),
      ];
      const rows = await db
        .selectFrom('audit_events')
        .select(['seq', 'hash'])
        .where('seq', 'in', seqs)
        .execute();
      const leaves = new Map(rows.map((r) => [r.seq, eventLeaf(r.hash)]));
      for (const s of low) {
        const first = s.index * 2 ** s.level;
        const leafOf = (t: Subtree) => {
          const leaf = leaves.get(t.index + 1);
          if (!leaf) throw new Error(`event ${t.index + 1} is missing`);
          return leaf;
        };
        // A complete subtree is its own single tile: fold its leaves level by level.
        out.set(subtreeKey(s), foldLeaves(first, 2 ** s.level, leafOf));
      }
    }
    return out;
  };
}

function foldLeaves(first: number, count: number, leafOf: (t: Subtree) => Hash): Hash {
  const frontier = new Frontier();
  for (let i = 0; i < count; i++) frontier.append(leafOf({ level: 0, index: first + i }));
  return frontier.root();
}
