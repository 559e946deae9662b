import type { KeyObject } from 'node:crypto';
import type { DatabaseHandle } from '../platform/db/database.ts';
import type { Executor } from '../platform/db/transaction.ts';
import { verifySignature } from '../platform/keys.ts';
import { checkpointPayload, envelopeFollows, GENESIS_HASH, sha256Hex } from './audit.chain.ts';
import { visitChainBytes } from './audit.chain-bytes.ts';
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
}

interface Failure {
  seq: number;
  reason: string;
}

/**
 * Walks the whole chain once, then checks every signed checkpoint against it.
 * - an edited event no longer hashes to its stored hash;
 * - a deleted event leaves a gap in the sequence;
 * - an inserted, moved or reordered event does not name its stored place (`seq`, `prev`);
 * - a cut-off tail disagrees with the chain head;
 * - a stretch rewritten with recomputed hashes disagrees with the first checkpoint after it.
 */
export async function verifyChain(
  source: Executor | DatabaseHandle,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const db = 'kind' in source ? source.db : source;
  const checkpoints = await repo.listCheckpoints(db);
  const headAt = new Map<number, string>(checkpoints.map((c) => [c.size, '']));

  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  const prevBytes = Buffer.from(GENESIS_HASH, 'latin1'); // reused: no allocation per event
  let chainFailure: Failure | null = null;
  await visitChainBytes(source, (seq, envelope, hash) => {
    if (seq !== expectedSeq) {
      chainFailure = {
        seq: expectedSeq,
        reason: `event ${expectedSeq} is missing (next stored event is ${seq})`,
      };
      return false;
    }
    if (sha256Hex(envelope) !== hash) {
      chainFailure = { seq, reason: `event ${seq} was altered: its content does not match its hash` };
      return false;
    }
    if (!envelopeFollows(envelope, prevBytes)) {
      chainFailure = {
        seq,
        reason: `event ${seq} does not belong here: it does not follow event ${seq - 1}`,
      };
      return false;
    }
    if (headAt.has(seq)) headAt.set(seq, hash);
    prevHash = hash;
    prevBytes.write(hash, 'latin1');
    expectedSeq += 1;
    return true;
  });
  const verified = expectedSeq - 1;
  if (!chainFailure) {
    const head = await repo.head(db);
    if (head.seq > verified) {
      chainFailure = {
        seq: verified + 1,
        reason: `events after ${verified} are missing: the chain head is at ${head.seq}`,
      };
    } else if (head.seq !== verified || head.hash !== prevHash) {
      chainFailure = {
        seq: head.seq + 1,
        reason: `the chain head (event ${head.seq}) does not match the last event ${verified}`,
      };
    }
  }

  // Oldest first, so a rewrite is blamed on the first event after the last checkpoint that holds.
  let lastGoodSize = 0;
  let checkpointFailure: Failure | null = null;
  for (const c of [...checkpoints].reverse()) {
    const key = options.trustedKeys.get(c.key_id);
    const failure = (reason: string) => ({ seq: lastGoodSize + 1, reason });
    if (!key) checkpointFailure = failure(`checkpoint ${c.id} is signed by unknown key ${c.key_id}`);
    else if (!verifySignature(key, checkpointPayload(c.size, c.head, c.signed_at, c.key_id), c.signature))
      checkpointFailure = failure(`checkpoint ${c.id} has an invalid signature`);
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
    .filter((f): f is Failure => f !== null)
    .sort((a, b) => a.seq - b.seq)[0];
  return {
    ok: !failure,
    events: verified,
    checkpoints: checkpoints.length,
    firstBadSeq: failure?.seq ?? null,
    reason: failure?.reason ?? null,
  };
}
