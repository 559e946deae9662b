import crypto from 'node:crypto';
import type { PassVerdict, PassVerification, SignedRevocationList } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.ts';
import type { Database } from '../../platform/db/schema.ts';
import type { NodeKey } from '../../platform/keys.ts';
import {
  DEFAULT_MAX_LIST_AGE_MS,
  describeRevocation,
  peerKeys,
  peerPassEvidence,
  peerRevocations,
} from './pass.command.ts';
import { claimsOfCheckedPass, keyIdOfPass, type PassCheck, signRevocationList, verifyPass } from './pass.ts';
import * as repo from './passes.repository.ts';
import { peerByKeyId } from './peer-revocations.repository.ts';

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

/**
 * The compact JWS in what a host pasted: the pass itself, or the text of its QR code around it.
 * Split, not searched with an unanchored pattern: a long run without dots would make a regex
 * backtrack over every start (quadratic), and this is any user's input.
 */
function compactJwsIn(text: string): string | undefined {
  return text
    .split(/[^A-Za-z0-9_.-]+/)
    .find((word) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(word));
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** verifyPass's failure codes as the verdicts a host reads. */
const VERDICT_OF: Record<Exclude<PassCheck, { ok: true }>['code'], PassVerdict> = {
  malformed: 'invalid',
  'wrong-algorithm': 'invalid',
  'wrong-type': 'invalid',
  'unknown-key': 'unknown-signer',
  'bad-signature': 'invalid',
  revoked: 'revoked',
  'not-yet-valid': 'not-yet-valid',
  expired: 'expired',
};

/**
 * What a host needs about passes: the signed revocation list (without an account), and the
 * verification of a pass against this node's key or a peer's pinned one, with the signer's list.
 */
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

  /**
   * Verifies a pass as `vytis pass verify` does (verifyPass): with this node's key and its own
   * revocations, or with a trusted peer's pinned key and the list its feed carried (`--peer`).
   * A bad token is a verdict (`invalid`, `unknown-signer`), never an error.
   */
  async verify(text: string): Promise<PassVerification> {
    const token = compactJwsIn(text);
    const none = { signer: null, claims: null, revocation: { checked: false, note: 'not checked' } };
    if (!token) {
      return {
        verdict: 'invalid',
        reason: 'this is not a pass: a pass is a compact JWS, three base64url parts joined by dots',
        ...none,
      };
    }
    const now = this.deps.clock.now();
    const keyId = keyIdOfPass(token);
    if (keyId === this.deps.key.keyId) {
      const signer = { kind: 'this-node' as const, party: null, keyId };
      const keys = new Map([[keyId, this.deps.key.publicKey]]);
      const unrevoked = await verifyPass(token, { keys, now });
      const jti = unrevoked.ok ? unrevoked.claims.passId : claimsOfCheckedPass(token)?.passId;
      const revoked = new Set<string>();
      if (jti && UUID.test(jti) && (await repo.isRevoked(this.deps.db, jti))) revoked.add(jti);
      const check = revoked.size ? await verifyPass(token, { keys, revoked, now }) : unrevoked;
      return this.answer(token, check, signer, {
        checked: true,
        note: "this node's own revocation list, as it stands now",
      });
    }
    const peer = keyId ? await peerByKeyId(this.deps.db, keyId) : undefined;
    const evidence = peer?.status === 'active' ? await peerPassEvidence(this.deps.db, peer.party_code) : null;
    if (!evidence || !keyId) {
      const check = await verifyPass(token, { keys: new Map(), now });
      if (!check.ok && check.code !== 'unknown-key') return this.answer(token, check, null, none.revocation);
      return {
        verdict: 'unknown-signer',
        reason: keyId
          ? `not signed by this node nor by a peer it trusts (key ${keyId}): the pass cannot be trusted here`
          : 'the pass names no signing key: it cannot be trusted',
        ...none,
      };
    }
    const signer = { kind: 'peer' as const, party: evidence.party, keyId };
    let keys: ReturnType<typeof peerKeys>;
    try {
      keys = peerKeys(evidence);
    } catch (error) {
      return { verdict: 'unknown-signer', reason: (error as Error).message, ...none };
    }
    let revoked = new Set<string>();
    let revocation: PassVerification['revocation'];
    try {
      const held = await peerRevocations(evidence, keys, {
        maxAgeMs: DEFAULT_MAX_LIST_AGE_MS,
        at: now,
      });
      revoked = held.revoked;
      revocation = { checked: true, note: describeRevocation(held.revocation) };
    } catch (error) {
      revocation = {
        checked: false,
        note: `NOT CHECKED: ${(error as Error).message}; a revoked pass looks valid here`,
      };
    }
    return this.answer(token, await verifyPass(token, { keys, revoked, now }), signer, revocation);
  }

  private answer(
    token: string,
    check: PassCheck,
    signer: PassVerification['signer'],
    revocation: PassVerification['revocation'],
  ): PassVerification {
    if (check.ok) {
      const { keyId: _keyId, ...claims } = check.claims;
      if (!UUID.test(claims.passId)) {
        return {
          verdict: 'invalid',
          reason: 'the pass id (jti) is not a UUID',
          signer,
          claims: null,
          revocation,
        };
      }
      const reason = revocation.checked
        ? `valid: ${claims.responderName} (${claims.homeParty}) for ${claims.hostParty}, until ${claims.expiresAt}`
        : `signed and in its window, but its revocation was not checked: ${revocation.note}`;
      return { verdict: 'valid', reason, signer, claims, revocation };
    }
    const verdict = VERDICT_OF[check.code];
    // The signature held for these three: the claims say whose pass it is and until when.
    const signed = verdict === 'revoked' || verdict === 'expired' || verdict === 'not-yet-valid';
    const read = signed ? claimsOfCheckedPass(token) : null;
    const claims = read && UUID.test(read.passId) ? (({ keyId: _k, ...c }) => c)(read) : null;
    return {
      verdict,
      reason: check.reason,
      signer: verdict === 'invalid' ? null : signer,
      claims,
      revocation,
    };
  }
}
