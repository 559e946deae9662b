import type { Selectable } from 'kysely';
import type { AuditCheckpointsTable, AuditEventRow } from '../platform/db/schema.ts';
import type { Envelope } from './audit.chain.ts';

/** Events are shown from their envelope: the very bytes the chain vouches for. */
export const presentEvent = (row: AuditEventRow) => {
  const e = JSON.parse(row.envelope) as Envelope;
  return {
    seq: row.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    object: e.object,
    summary: JSON.parse(e.summary) as unknown,
    requestId: e.requestId,
    prevHash: e.prev,
    hash: row.hash,
  };
};

export const presentCheckpoint = (row: Selectable<AuditCheckpointsTable>) => ({
  id: row.id,
  size: row.size,
  head: row.head,
  signedAt: row.signed_at.toISOString(),
  keyId: row.key_id,
  signature: row.signature,
});
