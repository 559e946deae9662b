import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';

/** Either the database or an open transaction: repositories accept both. */
export type Executor = Kysely<Database> | Transaction<Database>;
export type Tx = Transaction<Database>;

type AfterCommit = () => Promise<void>;

const afterCommitOf = new WeakMap<Tx, Map<string, AfterCommit>>();

/** The transaction joined by the work under way; `open` goes false when that work is done. */
const joined = new AsyncLocalStorage<{ trx: Tx; open: boolean }>();

const openJoined = () => {
  const entry = joined.getStore();
  return entry?.open ? entry.trx : undefined;
};

/**
 * Runs `work` once the transaction has committed (never if it rolls back), before inTransaction
 * returns. Work under the same key runs once per transaction. It must not throw: what it does is
 * extra to a change that is already made.
 */
export function afterCommit(trx: Tx, key: string, work: AfterCommit): void {
  let hooks = afterCommitOf.get(trx);
  if (!hooks) {
    hooks = new Map();
    afterCommitOf.set(trx, hooks);
  }
  if (!hooks.has(key)) hooks.set(key, work);
}

export async function inTransaction<T>(db: Kysely<Database>, work: (trx: Tx) => Promise<T>): Promise<T> {
  const open = openJoined();
  // Part of a larger change (joinTransaction): it commits, hooks and all, when that change does.
  if (open) return work(open);
  let hooks: Map<string, AfterCommit> | undefined;
  const result = await db.transaction().execute(async (trx) => {
    const value = await work(trx);
    hooks = afterCommitOf.get(trx);
    return value;
  });
  if (hooks) for (const hook of hooks.values()) await hook();
  return result;
}

/**
 * Runs `work` so that every inTransaction it opens (services calling services) runs on `trx`
 * instead: what it changes commits or rolls back with whatever else `trx` holds — how an intent
 * from a peer is applied together with its outcome, exactly once. Its afterCommit hooks run when
 * the caller's own inTransaction commits `trx`.
 */
export async function joinTransaction<T>(trx: Tx, work: () => Promise<T>): Promise<T> {
  const entry = { trx, open: true };
  try {
    return await joined.run(entry, work);
  } finally {
    // A timer or hook started inside must not find a transaction that has ended.
    entry.open = false;
  }
}

/**
 * Where a service reads outside its own transaction: `db`, or within joinTransaction the joined
 * transaction — which sees the change it is part of, and which a second connection would wait on
 * (PGlite has only one).
 */
export function readerOf(db: Kysely<Database>): Executor {
  return openJoined() ?? db;
}
