import type { Executor } from '../../platform/db/transaction.ts';

/** Every revoked pass, oldest revocation first. */
export async function revocations(db: Executor) {
  return db.selectFrom('pass_revocations').select(['pass_id', 'revoked_at']).orderBy('revoked_at').execute();
}
