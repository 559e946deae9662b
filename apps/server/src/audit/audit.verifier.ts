import type { KeyObject } from 'node:crypto';
import type { AuditEventRow } from '../platform/db/schema.ts';
import type { Executor } from '../platform/db/transaction.ts';
import { verifySignature } from '../platform/keys.ts';
import { type ChainedEvent, checkpointPayload, GENESIS_HASH, hashEvent } from './audit.chain.ts';
import * as repo from './audit.repository.ts';

export interface VerifyResult {
  ok: boolean;
  events: number;
  checkpoints: number;
  /** The first sequence number that cannot be trusted; null when ok. */
  firstBadSeq: number | null;
  reason: string | null;
}

export interface VerifyOptions {
  /** Public keys trusted for checkpoints, by key id. */
  trustedKeys: ReadonlyMap<string, KeyObject>;
  pageSize?: number;
  onProgress?: (verified: number) => void;
}

export function rowToChained(row: AuditEventRow): ChainedEvent {
  return {
    seq: row.seq,
    at: row.at,
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorName: row.actor_name,
    actorParty: row.actor_party,
    action: row.action,
    objectType: row.object_type,
    objectId: row.object_id,
    summary: row.summary,
    requestId: row.request_id,
    prevHash: row.prev_hash,
  };
}

/**
 * Walks the whole chain once, then checks every signed checkpoint against it.
 * - an edited event no longer hashes to its stored hash, or breaks the next event's link;
 * - a deleted event leaves a gap in the sequence;
 * - an inserted or reordered event breaks a link (sequence numbers are the primary key);
 * - a rewritten stretch with recomputed hashes, or a cut-off tail, disagrees with a checkpoint.
 */
export async function verifyChain(db: Executor, options: VerifyOptions): Promise<VerifyResult> {
  const pageSize = options.pageSize ?? 20_000;
  const headAt = new Map<number, string>();
  const checkpoints = await repo.listCheckpoints(db);
  for (const c of checkpoints) headAt.set(c.size, '');

  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let chainFailure: { seq: number; reason: string } | null = null;
  for (;;) {
    const rows = await repo.chainSlice(db, expectedSeq - 1, pageSize);
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row.seq !== expectedSeq) {
        chainFailure = {
          seq: expectedSeq,
          reason: `event ${expectedSeq} is missing (next stored event is ${row.seq})`,
        };
        break;
      }
      if (row.prev_hash !== prevHash) {
        chainFailure = { seq: row.seq, reason: `event ${row.seq} does not link to event ${row.seq - 1}` };
        break;
      }
      if (hashEvent(rowToChained(row)) !== row.hash) {
        chainFailure = {
          seq: row.seq,
          reason: `event ${row.seq} was altered: its content does not match its hash`,
        };
        break;
      }
      if (headAt.has(row.seq)) headAt.set(row.seq, row.hash);
      prevHash = row.hash;
      expectedSeq += 1;
    }
    if (chainFailure) break;
    options.onProgress?.(expectedSeq - 1);
  }
  const verified = expectedSeq - 1;

  // Oldest first, so a rewrite is blamed on the first event after the last checkpoint that holds.
  let lastGoodSize = 0;
  let checkpointFailure: { seq: number; reason: string } | null = null;
  for (const c of [...checkpoints].reverse()) {
    const key = options.trustedKeys.get(c.key_id);
    const signedOk =
      key !== undefined &&
      verifySignature(key, checkpointPayload(c.size, c.head, c.signed_at, c.key_id), c.signature);
    const failure = (reason: string) => ({ seq: lastGoodSize + 1, reason });
    if (!key) checkpointFailure = failure(`checkpoint ${c.id} is signed by unknown key ${c.key_id}`);
    else if (!signedOk) checkpointFailure = failure(`checkpoint ${c.id} has an invalid signature`);
    else if (c.size > verified && !chainFailure)
      checkpointFailure = failure(
        `events after ${verified} are missing: checkpoint ${c.id} vouched for ${c.size}`,
      );
    else if (c.size <= verified && c.size > 0 && headAt.get(c.size) !== c.head)
      checkpointFailure = failure(
        `events ${lastGoodSize + 1}..${c.size} were rewritten: they no longer match checkpoint ${c.id}`,
      );
    if (checkpointFailure) break;
    if (c.size <= verified) lastGoodSize = c.size;
  }

  const failure = [chainFailure, checkpointFailure]
    .filter((f): f is { seq: number; reason: string } => f !== null)
    .sort((a, b) => a.seq - b.seq)[0];
  return {
    ok: !failure,
    events: verified,
    checkpoints: checkpoints.length,
    firstBadSeq: failure?.seq ?? null,
    reason: failure?.reason ?? null,
  };
}
