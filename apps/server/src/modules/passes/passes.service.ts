import crypto from 'node:crypto';
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

/**
 * A revocation stays on the list this long after its pass expired (its deployment window ended):
 * a verifier whose clock lags still finds it, while the list stays the size of what is live.
 */
export const REVOCATION_KEPT_AFTER_EXPIRY_MS = 24 * 3_600_000;
/**
 * The signed list is signed again at least this often, unchanged or not, so its signing time
 * (`iat`) stays well inside the freshness bound verifiers apply (`vytis pass verify --max-age`,
 * 24 h by default).
 */
export const REVOCATION_LIST_RESIGN_MS = 3_600_000;

/** The list as served, with the entity tag that names this signing of it. */
export interface PublishedRevocationList {
  body: SignedRevocationList;
  etag: string;
}

interface Cached extends PublishedRevocationList {
  stamp: string;
  /** When the list must be built again even if nothing was revoked: a pass left it, or re-signing. */
  validUntil: number;
}

/** What a host needs about passes without an account: the signed revocation list. */
export class PassesService {
  /** Per process: each process signs its own copy once per change (ETags differ between processes). */
  private cached: Cached | null = null;

  constructor(private readonly deps: PassesDeps) {}

  /**
   * The revocation list, signed with the node key. Public by design: it holds only pass ids
   * (random UUIDs, meaningless without the pass), and a host at the door has no account. It names
   * the revocations of passes that have not expired (REVOCATION_KEPT_AFTER_EXPIRY_MS after their
   * deployment window ended), which is all a verifier needs: an expired pass is refused as such.
   * Signed once per change of the list (a new revocation, a pass leaving it) and at least every
   * REVOCATION_LIST_RESIGN_MS; otherwise the signed copy is served again.
   */
  async signedRevocationList(): Promise<PublishedRevocationList> {
    const now = this.deps.clock.now();
    const { count, latest } = await repo.revocationStamp(this.deps.db);
    const stamp = `${count}:${latest?.toISOString() ?? ''}`;
    const cached = this.cached;
    if (cached && cached.stamp === stamp && now.getTime() < cached.validUntil) {
      return { body: cached.body, etag: cached.etag };
    }
    const rows = await repo.liveRevocations(
      this.deps.db,
      new Date(now.getTime() - REVOCATION_KEPT_AFTER_EXPIRY_MS),
    );
    let validUntil = now.getTime() + REVOCATION_LIST_RESIGN_MS;
    for (const row of rows) {
      validUntil = Math.min(validUntil, row.window_to.getTime() + REVOCATION_KEPT_AFTER_EXPIRY_MS);
    }
    const list = {
      revoked: rows.map((r) => r.pass_id),
      // The latest revocation of all, listed or not: a verifier sees the list is up to date.
      updatedAt: latest?.toISOString() ?? null,
    };
    const signed = await signRevocationList(this.deps.key, list, now);
    const body: SignedRevocationList = {
      ...list,
      issuedAt: new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString(),
      keyId: this.deps.key.keyId,
      signed,
    };
    const etag = `"${crypto.createHash('sha256').update(signed).digest('base64url').slice(0, 27)}"`;
    this.cached = { body, etag, stamp, validUntil };
    return { body, etag };
  }
}
