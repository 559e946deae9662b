import type { SignedRevocationList } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.ts';
import type { Database } from '../../platform/db/schema.ts';
import type { NodeKey } from '../../platform/keys.ts';
import { signRevocationList } from './pass.ts';
import * as repo from './passes.repository.ts';

export interface PassesDeps {
  db: Kysely<Database>;
  clock: Clock;
  key: NodeKey;
}

/** What a host needs about passes without an account: the signed revocation list. */
export class PassesService {
  constructor(private readonly deps: PassesDeps) {}

  /**
   * The revocation list, signed now with the node key. Public by design: it holds only pass ids
   * (random UUIDs, meaningless without the pass), and a host at the door has no account.
   */
  async signedRevocationList(): Promise<SignedRevocationList> {
    const rows = await repo.revocations(this.deps.db);
    const list = {
      revoked: rows.map((r) => r.pass_id),
      updatedAt: rows.at(-1)?.revoked_at.toISOString() ?? null,
    };
    const issuedAt = this.deps.clock.now();
    return {
      ...list,
      issuedAt: new Date(Math.floor(issuedAt.getTime() / 1000) * 1000).toISOString(),
      keyId: this.deps.key.keyId,
      signed: await signRevocationList(this.deps.key, list, issuedAt),
    };
  }
}
