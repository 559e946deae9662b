import crypto from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { type Kysely, sql } from 'kysely';
import { AppError } from '../../errors.ts';
import type { Database } from '../../platform/db/schema.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';
import {
  consumeUpload,
  type EvidenceStorage,
  IntegrityError,
  type Opened,
  type Received,
  requireEvidenceId,
  verifying,
} from './evidence.storage.ts';

/** Big enough that a 100 MB file is a hundred rows, small enough that a piece is cheap to hold. */
export const CHUNK_BYTES = 1024 * 1024;

/**
 * Evidence in the database (`evidence_chunks`), for a node of several processes on one PostgreSQL:
 * a file uploaded through one is downloaded through any other. Content is written and read a
 * piece at a time, each piece its own statement, so a file never sits whole in memory and no
 * transaction stays open while a slow client sends or receives. Pieces are written before their
 * evidence row is committed; until then nothing reads them, and a failed upload deletes them.
 */
export class DatabaseEvidenceStore implements EvidenceStorage {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxBytes: number,
    private readonly now: () => Date,
    /** Where evidence files were kept before (this process's data directory), to adopt from. */
    private readonly legacy?: EvidenceStorage,
  ) {}

  async receive(id: string, source: Readable): Promise<Received> {
    requireEvidenceId(id);
    try {
      return { id, ...(await this.writePieces(id, source, this.maxBytes)) };
    } catch (error) {
      await this.remove(id).catch(() => {});
      throw error;
    }
  }

  /** Writes `source` as pieces of `id`, a piece at a time; a piece already there is left as it is. */
  private async writePieces(id: string, source: Readable, maxBytes: number) {
    const storedAt = this.now();
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let seq = 0;
    const flush = async () => {
      const data = Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      await this.db
        .insertInto('evidence_chunks')
        .values({ evidence_id: id, seq, data, stored_at: storedAt })
        .onConflict((conflict) => conflict.columns(['evidence_id', 'seq']).doNothing())
        .execute();
      seq += 1;
    };
    const received = await consumeUpload(source, maxBytes, async (bytes) => {
      for (let offset = 0; offset < bytes.length; ) {
        const piece = bytes.subarray(offset, offset + CHUNK_BYTES - pendingBytes);
        pending.push(piece);
        pendingBytes += piece.length;
        offset += piece.length;
        if (pendingBytes === CHUNK_BYTES) await flush();
      }
    });
    if (pendingBytes > 0) await flush();
    return received;
  }

  /**
   * Checks, in the recording transaction, that every piece is still there: an upload so slow that
   * it was swept as abandoned must fail rather than record an item without its content.
   */
  async place(trx: Tx, received: Received) {
    if (!isWhole(await storedShape(trx, received.id), received.size)) {
      throw new AppError('conflict', 'the upload took so long that its content was discarded; send it again');
    }
  }

  async remove(id: string) {
    await this.db.deleteFrom('evidence_chunks').where('evidence_id', '=', id).execute();
  }

  async open(id: string, expected: { size: number; sha256: string }): Promise<Opened> {
    let stored = await storedShape(this.db, id);
    if (!isWhole(stored, expected.size) && this.legacy) {
      if (await this.adopt(id, expected, this.legacy)) stored = await storedShape(this.db, id);
      else if (await this.awaitsAdoption(id)) throw notOnThisProcess(id);
    }
    if (stored.count === 0 && expected.size > 0) {
      throw new IntegrityError(id, 'its content is missing from the evidence store');
    }
    if (stored.bytes !== expected.size) {
      throw new IntegrityError(
        id,
        `its content is ${stored.bytes} bytes in the database but ${expected.size} were recorded`,
      );
    }
    if (stored.lastSeq !== stored.count - 1) {
      throw new IntegrityError(id, 'pieces of its content are missing from the evidence store');
    }
    const hash = crypto.createHash('sha256');
    for await (const piece of this.pieces(id, stored.count)) hash.update(piece);
    if (hash.digest('hex') !== expected.sha256) {
      throw new IntegrityError(id, 'its content no longer matches its recorded SHA-256');
    }
    return {
      stream: () => {
        const verified = verifying(id, expected.sha256);
        pipeline(Readable.from(this.pieces(id, stored.count)), verified, () => {});
        return verified;
      },
      close: async () => {},
    };
  }

  /**
   * Items uploaded before the node kept evidence in the database have their file in the data
   * directory of the process that received it. A download through that process copies the file in
   * (checked against its record first): under a staging id first, then moved under the item's id in
   * one transaction, so an adoption cut off half-way leaves nothing under the item (the staging
   * pieces have no evidence row; the sweeper removes them) and the next download simply tries again.
   * Whole pieces left under the item by anything else are replaced, since the file matches the record.
   * Returns false when this process has no such file.
   */
  private async adopt(id: string, expected: { size: number; sha256: string }, legacy: EvidenceStorage) {
    const file = await legacy.open(id, expected).catch((error: unknown) => {
      if (error instanceof IntegrityError && /missing/.test(error.reason)) return null;
      throw error;
    });
    if (!file) return false;
    const staging = crypto.randomUUID();
    const content = file.stream();
    try {
      const copied = await this.writePieces(staging, content, expected.size).catch((error: unknown) => {
        // The file's stream fails when the file changes while it is read: that is the file's fault.
        if (error instanceof AppError && error.code === 'invalid_input') {
          throw new IntegrityError(id, 'its file changed while it was taken into the database');
        }
        throw error;
      });
      if (copied.size !== expected.size || copied.sha256 !== expected.sha256) {
        throw new IntegrityError(id, 'its file changed while it was taken into the database');
      }
      await this.db.transaction().execute(async (trx) => {
        // One adoption of an item at a time: a concurrent one waits here, then keeps what it finds.
        await trx.selectFrom('evidence').select('id').where('id', '=', id).forUpdate().execute();
        await trx.deleteFrom('evidence_files_to_adopt').where('evidence_id', '=', id).execute();
        if (isWhole(await storedShape(trx, id), expected.size)) return;
        await trx.deleteFrom('evidence_chunks').where('evidence_id', '=', id).execute();
        await trx
          .updateTable('evidence_chunks')
          .set({ evidence_id: id })
          .where('evidence_id', '=', staging)
          .execute();
      });
    } finally {
      // A copy that failed half-way leaves the file open otherwise (the upload reader never destroys).
      content.destroy();
      await this.remove(staging).catch(() => {});
    }
    return true;
  }

  /** Whether the item was recorded before the upgrade and no process has taken its file in yet. */
  private async awaitsAdoption(id: string) {
    const row = await this.db
      .selectFrom('evidence_files_to_adopt')
      .select('evidence_id')
      .where('evidence_id', '=', id)
      .executeTakeFirst();
    return row !== undefined;
  }

  async sweepAbandoned(startedBefore: Date) {
    const result = await this.db
      .deleteFrom('evidence_chunks')
      .where('stored_at', '<', startedBefore)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('evidence')
              .select(sql.lit(1).as('one'))
              .whereRef('evidence.id', '=', 'evidence_chunks.evidence_id'),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** The pieces in order, one query each: only one piece is ever held. */
  private async *pieces(id: string, count: number) {
    for (let seq = 0; seq < count; seq++) {
      const row = await this.db
        .selectFrom('evidence_chunks')
        .select('data')
        .where('evidence_id', '=', id)
        .where('seq', '=', seq)
        .executeTakeFirst();
      if (!row) throw new IntegrityError(id, `piece ${seq} of its content vanished while it was read`);
      yield Buffer.isBuffer(row.data) ? row.data : Buffer.from(row.data as Uint8Array);
    }
  }
}

/** Every piece there, numbered without a gap, adding up to the recorded size. */
function isWhole(stored: { count: number; bytes: number; lastSeq: number }, size: number) {
  return stored.bytes === size && stored.lastSeq === stored.count - 1;
}

/**
 * Content not lost but not reachable here: the item predates the move into the database and its
 * file is on another process's disk. Not an integrity failure, so it is neither audited as one nor
 * reported as a conflict.
 */
function notOnThisProcess(id: string) {
  return new AppError(
    'unavailable',
    `the content of evidence ${id} was stored before this node kept evidence in its database, ` +
      'and its file is not in this process’s data directory; it is taken in on the first download ' +
      'through the process that received it. Try again later, or ask the node’s operators',
    { evidenceId: id },
  );
}

/** How many pieces, how many bytes, and the last piece's number, without reading the content. */
async function storedShape(db: Executor, id: string) {
  const row = await db
    .selectFrom('evidence_chunks')
    .select([
      sql<number>`count(*)::int`.as('count'),
      sql<number>`coalesce(sum(length(data)), 0)::bigint`.as('bytes'),
      sql<number>`coalesce(max(seq), -1)`.as('lastSeq'),
    ])
    .where('evidence_id', '=', id)
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), bytes: Number(row.bytes), lastSeq: Number(row.lastSeq) };
}
