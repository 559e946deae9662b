import crypto from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import { AppError } from '../../errors.ts';
import type { Tx } from '../../platform/db/transaction.ts';

/** A file received in full and hashed under its evidence id, not yet the content of a recorded item. */
export interface Received {
  id: string;
  sha256: string;
  size: number;
}

/** Stored content whose size matched its record and whose digest did; stream it once, or close it. */
export interface Opened {
  stream(): Readable;
  close(): Promise<void>;
}

/**
 * Where evidence content lives. The evidence row is the record; the store keeps the bytes under
 * the row's id. An upload is `receive` (outside any transaction, so no lock is held while a file
 * arrives), then `place` inside the transaction that writes the row; on a failure the caller
 * calls `remove` once it has seen that no row was committed (a failed commit may have been applied
 * with only its acknowledgement lost), so content exists only for committed rows. Whatever a crash
 * or an unanswerable failure leaves behind is deleted later by `sweepAbandoned`.
 */
export interface EvidenceStorage {
  /**
   * Reads `source` while hashing and counting it. Past the limit it stops, keeps nothing and throws
   * `payload_too_large`. It never destroys `source` (for an HTTP request that would cut the
   * connection before the refusal is sent); the caller closes the connection instead.
   */
  receive(id: string, source: Readable): Promise<Received>;
  /** Makes received content the item's, in the transaction that records the item. */
  place(trx: Tx, received: Received): Promise<void>;
  /** Deletes whatever is kept under `id`, received or placed. */
  remove(id: string): Promise<void>;
  /**
   * Checks the stored content against its record — size, then SHA-256 — before anything is handed
   * out: missing or changed content is an `IntegrityError`. The stream it then gives hashes again
   * and holds back its last piece until the digest matches, so content changed even while it is
   * being sent is never delivered whole (the client sees a cut-off download).
   */
  open(id: string, expected: { size: number; sha256: string }): Promise<Opened>;
  /**
   * Deletes content last written before `startedBefore` that belongs to no item: uploads whose
   * process died mid-way, or whose recording transaction failed when the store could not be told.
   * `recordedAmong` says which of some ids have an evidence row.
   */
  sweepAbandoned(
    startedBefore: Date,
    recordedAmong: (ids: string[]) => Promise<Set<string>>,
  ): Promise<number>;
}

/** Stored content that does not match its record: it is not served, and the refusal says why. */
export class IntegrityError extends AppError {
  constructor(
    readonly evidenceId: string,
    readonly reason: string,
  ) {
    super(
      'integrity_failed',
      `evidence ${evidenceId} is not served: ${reason}. The record and its chain of custody stand; ` +
        'the failure is in the audit log, for the node’s operators to restore the content from a backup',
      { evidenceId, reason },
    );
  }
}

export const tooLarge = (maxBytes: number) =>
  new AppError('payload_too_large', `an evidence file may be at most ${maxBytes} bytes`, {
    maxBytes,
  });

export const cutOff = () => new AppError('invalid_input', 'the upload was cut off before the file ended');

/**
 * Reads an upload piece by piece into `write`, hashing and counting as it goes. Errors of the
 * source (the client went away) become `invalid_input`; errors of `write` pass through as thrown.
 */
export async function consumeUpload(
  source: Readable,
  maxBytes: number,
  write: (bytes: Buffer) => Promise<void>,
): Promise<{ sha256: string; size: number }> {
  const hash = crypto.createHash('sha256');
  let size = 0;
  let reading = true;
  try {
    for await (const chunk of source.iterator({ destroyOnReturn: false })) {
      reading = false;
      const bytes: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (size > maxBytes) throw tooLarge(maxBytes);
      hash.update(bytes);
      await write(bytes);
      reading = true;
    }
  } catch (error) {
    if (error instanceof AppError || !reading) throw error;
    throw cutOff();
  }
  return { sha256: hash.digest('hex'), size };
}

/** Passes content through, holding back its last piece until the whole matches `sha256`. */
export function verifying(id: string, sha256: string) {
  const hash = crypto.createHash('sha256');
  let held: Buffer | null = null;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      const previous = held;
      held = chunk;
      done(null, previous);
    },
    flush(done) {
      if (hash.digest('hex') !== sha256) {
        done(
          new Error(`the content of evidence ${id} no longer matches its sha256; the download was cut off`),
        );
        return;
      }
      done(null, held);
    },
  });
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function requireEvidenceId(id: string) {
  if (!UUID.test(id)) throw new Error(`not an evidence id: ${id}`);
  return id;
}
