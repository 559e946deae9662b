import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline, type Readable, Transform } from 'node:stream';
import { AppError } from '../../errors.ts';

/** A file received in full and hashed, not yet placed under its evidence id. */
export interface Incoming {
  tempPath: string;
  sha256: string;
  size: number;
}

/** An opened stored file whose size matched its record; stream it once, or close it. */
export interface Opened {
  stream(): Readable;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TEMP_PREFIX = '.incoming-';

/**
 * The evidence files on disk: one file per item, named by the item's id and nothing else (never
 * by anything a user sent). A file is received under a temporary name in the same directory, hashed
 * and counted as it arrives, flushed to disk, and only then renamed into place.
 */
export class EvidenceStore {
  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  /**
   * Reads `source` to a temporary file while hashing it. Past `maxBytes` it stops, removes what it
   * wrote and throws `payload_too_large`. It never destroys `source` (for an HTTP request that would
   * cut the connection before the refusal is sent); the caller closes the connection instead.
   */
  async receive(source: Readable): Promise<Incoming> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tempPath = path.join(this.dir, `${TEMP_PREFIX}${crypto.randomUUID()}`);
    const handle = await fs.open(tempPath, 'wx', 0o600);
    const hash = crypto.createHash('sha256');
    let size = 0;
    let reading = true;
    try {
      for await (const chunk of source.iterator({ destroyOnReturn: false })) {
        reading = false;
        const bytes: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        size += bytes.length;
        if (size > this.maxBytes) throw tooLarge(this.maxBytes);
        hash.update(bytes);
        for (let offset = 0; offset < bytes.length; ) {
          offset += (await handle.write(bytes, offset)).bytesWritten;
        }
        reading = true;
      }
      reading = false;
      await handle.sync();
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => {});
      await fs.rm(tempPath, { force: true });
      if (error instanceof AppError) throw error;
      if (reading) throw new AppError('invalid_input', 'the upload was cut off before the file ended');
      throw storeError(error);
    }
    return { tempPath, sha256: hash.digest('hex'), size };
  }

  /** Gives a received file its evidence id. */
  async place(incoming: Incoming, id: string) {
    await fs.rename(incoming.tempPath, this.pathOf(id));
    await syncDirectory(this.dir);
  }

  /** Forgets a received file that was never placed. */
  async discard(incoming: Incoming) {
    await fs.rm(incoming.tempPath, { force: true });
  }

  async remove(id: string) {
    await fs.rm(this.pathOf(id), { force: true });
  }

  /**
   * Opens the file of an item and checks it against its record — size, then SHA-256 — before
   * anything is handed out; a missing or changed file is an `IntegrityError`. The stream it then
   * gives hashes again and holds back its last piece until the digest matches, so a file changed
   * even while it is being sent is never delivered whole (the client sees a cut-off download).
   */
  async open(id: string, expected: { size: number; sha256: string }): Promise<Opened> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.pathOf(id), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new IntegrityError(id, 'its file is missing from the evidence store');
      }
      throw storeError(error);
    }
    try {
      const { size } = await handle.stat();
      if (size !== expected.size) {
        throw new IntegrityError(id, `its file is ${size} bytes on disk but ${expected.size} were recorded`);
      }
      if ((await hashOf(handle, size)) !== expected.sha256) {
        throw new IntegrityError(id, 'its file no longer matches its recorded SHA-256');
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
    let streamed = false;
    return {
      stream: () => {
        streamed = true;
        const verified = verifying(id, expected.sha256);
        pipeline(handle.createReadStream({ start: 0, autoClose: true }), verified, () => {});
        return verified;
      },
      close: async () => {
        if (!streamed) await handle.close();
      },
    };
  }

  private pathOf(id: string) {
    if (!UUID.test(id)) throw new Error(`not an evidence id: ${id}`);
    return path.join(this.dir, id);
  }
}

/** A stored file that does not match its record: it is not served. */
export class IntegrityError extends AppError {
  constructor(
    readonly evidenceId: string,
    readonly reason: string,
  ) {
    super('internal', `evidence ${evidenceId} is not served: ${reason}`);
  }
}

export const tooLarge = (maxBytes: number) =>
  new AppError('payload_too_large', `an evidence file may be at most ${maxBytes} bytes`, {
    maxBytes,
  });

function verifying(id: string, sha256: string) {
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
        done(new Error(`the file of evidence ${id} no longer matches its sha256; the download was cut off`));
        return;
      }
      done(null, held);
    },
  });
}

async function hashOf(handle: fs.FileHandle, size: number) {
  const hash = crypto.createHash('sha256');
  const buffer = Buffer.allocUnsafe(64 * 1024);
  for (let position = 0; position < size; ) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}

function storeError(error: unknown) {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new AppError('unavailable', 'the evidence store is full; nothing was stored');
  }
  return error;
}

async function syncDirectory(dir: string) {
  // So the rename survives a crash; not every platform can open a directory for this.
  const handle = await fs.open(dir, 'r').catch(() => null);
  if (!handle) return;
  await handle.sync().catch(() => {});
  await handle.close();
}
