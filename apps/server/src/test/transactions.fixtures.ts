import assert from 'node:assert/strict';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../platform/db/schema.ts';
import type { Tx } from '../platform/db/transaction.ts';

// Concurrent transactions on PostgreSQL, held open at a chosen point, for tests of what waits on
// what (the embedded database runs one transaction at a time: nothing there can wait on another).

/** A transaction left open once `work` has run in it; `commit` ends it. */
export async function openTransaction(db: Kysely<Database>, work: (trx: Tx) => Promise<unknown>) {
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let ran!: () => void;
  const ready = new Promise<void>((resolve) => {
    ran = resolve;
  });
  let trx!: Tx;
  const done = db.transaction().execute(async (open) => {
    trx = open;
    await work(open);
    ran();
    await finished;
  });
  await Promise.race([ready, done]);
  return {
    /** Runs more in the open transaction. */
    run: <T>(more: (trx: Tx) => Promise<T>) => more(trx),
    commit: async () => {
      finish();
      await done;
    },
  };
}

/** How many statements on this database wait for a lock now. */
export async function waitingForLocks(db: Kysely<Database>) {
  const { rows } = await sql<{ waiting: number }>`
    select count(*)::int as waiting from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
  return rows[0]!.waiting;
}

/** Resolves once `count` statements on this database wait for a lock. */
export async function untilWaitingForLocks(db: Kysely<Database>, count: number) {
  for (let tries = 0; tries < 500; tries++) {
    if ((await waitingForLocks(db)) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`${count} statement(s) should be waiting for a lock`);
}

/** 'settled' once `work` settles, or 'waiting' as soon as a statement waits for a lock first. */
export async function settledOrWaiting(db: Kysely<Database>, work: Promise<unknown>) {
  let settled = false;
  work.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let tries = 0; tries < 1000; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (settled) return 'settled';
    if ((await waitingForLocks(db)) > 0) return 'waiting';
  }
  return assert.fail('the work neither settled nor waited for a lock in 10 s');
}
