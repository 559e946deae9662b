import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';

/** Either the database or an open transaction: repositories accept both. */
export type Executor = Kysely<Database> | Transaction<Database>;
export type Tx = Transaction<Database>;

type AfterCommit = () => Promise<void>;

const afterCommitOf = new WeakMap<Tx, Map<string, AfterCommit>>();

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
  let hooks: Map<string, AfterCommit> | undefined;
  const result = await db.transaction().execute(async (trx) => {
    const value = await work(trx);
    hooks = afterCommitOf.get(trx);
    return value;
  });
  if (hooks) for (const hook of hooks.values()) await hook();
  return result;
}
