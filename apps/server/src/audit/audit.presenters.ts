import type { Selectable } from 'kysely';
import type { AuditCheckpointsTable, AuditEventRow } from '../platform/db/schema.ts';

export const presentEvent = (row: AuditEventRow) => ({
  seq: row.seq,
  at: row.at.toISOString(),
  actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name, party: row.actor_party },
  action: row.action,
  object: { type: row.object_type, id: row.object_id },
  summary: JSON.parse(row.summary) as unknown,
  requestId: row.request_id,
  prevHash: row.prev_hash,
  hash: row.hash,
});

export const presentCheckpoint = (row: Selectable<AuditCheckpointsTable>) => ({
  id: row.id,
  size: row.size,
  head: row.head,
  signedAt: row.signed_at.toISOString(),
  keyId: row.key_id,
  signature: row.signature,
});
