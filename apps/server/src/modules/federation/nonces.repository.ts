import type { Executor } from '../../platform/db/transaction.ts';

/** Signed calls' nonces seen (0017's `federation_nonces`), shared by every process of a node. */

export async function sweepExpired(db: Executor, now: Date) {
  await db.deleteFrom('federation_nonces').where('expires_at', '<', now).execute();
}

/** Records the nonce; false when it was seen before (a replay). */
export async function remember(
  db: Executor,
  keyId: string,
  nonce: string,
  expiresAt: Date,
): Promise<boolean> {
  const inserted = await db
    .insertInto('federation_nonces')
    .values({ key_id: keyId, nonce, expires_at: expiresAt })
    .onConflict((conflict) => conflict.columns(['key_id', 'nonce']).doNothing())
    .returning('key_id')
    .executeTakeFirst();
  return inserted !== undefined;
}
