import { sql } from 'kysely';
import type { Tx } from './transaction.ts';

/** Named transaction-scoped advisory locks, so processes sharing one PostgreSQL take turns. */
export const LOCKS = {
  seed: 72_750_013,
  notifications: 72_750_014,
  auditSealer: 72_750_015,
  federationFeed: 72_750_016,
} as const;

export async function lockForTransaction(trx: Tx, key: (typeof LOCKS)[keyof typeof LOCKS]): Promise<void> {
  await sql`select pg_advisory_xact_lock(${key})`.execute(trx);
}
