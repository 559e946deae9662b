import { Type } from 'typebox';
import Value from 'typebox/value';
import type { Executor } from '../../../platform/db/transaction.ts';
import type { NodeKey } from '../../../platform/keys.ts';
import { signRevocationList, verifyRevocationList } from '../../passes/pass.ts';
import * as passes from '../../passes/passes.repository.ts';
import { REVOCATION_KEPT_AFTER_EXPIRY_MS } from '../../passes/passes.service.ts';
import * as lists from '../../passes/peer-revocations.repository.ts';
import { type LoopType, REVOCATIONS_ID } from './loop-types.ts';

/**
 * The pass revocation list of the node that issues passes (the coordinating node), carried as the
 * JWS it publishes (GET /passes/revocations): every peer keeps the last one, so a host verifies a
 * pass at the door offline (`vytis pass verify --peer`). The list is trusted for its signature under
 * the issuer's pinned key, not for having come on the feed.
 */

/** As large as the CLI accepts a node's answer (pass.command.ts MAX_NODE_ANSWER_BYTES). */
const MAX_JWS = 8 * 1024 * 1024;
const RevocationsDocSchema = Type.Object(
  { jws: Type.String({ minLength: 1, maxLength: MAX_JWS }) },
  { additionalProperties: false },
);

/** This node's list as PassesService.signedRevocationList() signs it, signed now. */
export async function signedListNow(db: Executor, key: NodeKey, now: Date): Promise<string> {
  const [{ latest }, rows] = await Promise.all([
    passes.revocationStamp(db),
    passes.liveRevocations(db, new Date(now.getTime() - REVOCATION_KEPT_AFTER_EXPIRY_MS)),
  ]);
  return signRevocationList(
    key,
    { revoked: rows.map((r) => r.pass_id), updatedAt: latest?.toISOString() ?? null },
    now,
  );
}

export const revocationsDoc: LoopType = {
  type: 'revocations',
  order: 3,

  async serve(db, ids, viewer, env) {
    const docs = new Map<string, Record<string, unknown>>();
    if (!ids.includes(REVOCATIONS_ID) || viewer.party === env.self.party) return docs;
    docs.set(REVOCATIONS_ID, { jws: await signedListNow(db, env.key, env.clock.now()) });
    return docs;
  },

  problem(data) {
    if (Value.Check(RevocationsDocSchema, data)) return null;
    return 'not a revocation list: {jws} with a compact JWS of at most 8 MB';
  },

  refusal(peer, doc) {
    if (doc.id !== REVOCATIONS_ID) return 'a revocation list has its one fixed id';
    if (peer.role !== 'coordinator')
      return `a revocation list ${peer.party} did not issue: it issues no passes`;
    return null;
  },

  async apply(trx, peer, docs, env, refuse) {
    let stored = 0;
    for (const doc of docs) {
      const jws = (doc.data as { jws: string }).jws;
      const verified = await verifyRevocationList(jws, new Map([[peer.keyId, peer.publicKey]]));
      if (!verified.ok || verified.list.keyId !== peer.keyId) {
        refuse(
          doc,
          `a revocation list ${peer.party} did not issue${verified.ok ? '' : ` (${verified.reason})`}`,
        );
        continue;
      }
      const written = await lists.upsertPeerRevocationList(trx, {
        party: peer.party,
        jws,
        key_id: verified.list.keyId,
        issued_at: new Date(verified.list.issuedAt),
        revoked: verified.list.revoked.length,
        mirror_version: doc.version,
        received_at: env.clock.now(),
      });
      if (written) stored++;
    }
    return stored;
  },

  async retract(trx, peer) {
    return lists.deletePeerRevocationList(trx, peer.party);
  },
};
