import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';

/** Either the database or an open transaction: repositories accept both. */
export type Executor = Kysely<Database> | Transaction<Database>;
export type Tx = Transaction<Database>;

export function inTransaction<T>(db: Kysely<Database>, work: (trx: Tx) => Promise<T>): Promise<T> {
  return db.transaction().execute(work);
}
