import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { AppError } from '../../errors.ts';
import {
  consumeUpload,
  type EvidenceStorage,
  IntegrityError,
  type Opened,
  type Received,
  requireEvidenceId,
  UUID,
  verifying,
} from './evidence.storage.ts';

const TEMP_PREFIX = '.incoming-';

/**
 * Evidence as files under the data directory: the embedded default, for a node that is one
 * process. One file per item, named by the item's id and nothing else (never by anything a user
 * sent). A file is received under a temporary name in the same directory, flushed to disk, and
 * renamed into place in the transaction that records it.
 */
export class FileEvidenceStore implements EvidenceStorage {
  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  async receive(id: string, source: Readable): Promise<Received> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tempPath = this.tempPathOf(id);
    const handle = await fs.open(tempPath, 'wx', 0o600);
    try {
      const { sha256, size } = await consumeUpload(source, this.maxBytes, async (bytes) => {
        for (let offset = 0; offset < bytes.length; ) {
          offset += (await handle.write(bytes, offset)).bytesWritten;
        }
      });
      await handle.sync();
      await handle.close();
      return { id, sha256, size };
    } catch (error) {
      await handle.close().catch(() => {});
      await fs.rm(tempPath, { force: true });
      throw storeError(error);
    }
  }

  async place(_trx: unknown, received: Received) {
    await fs.rename(this.tempPathOf(received.id), this.pathOf(received.id));
    await syncDirectory(this.dir);
  }

  async remove(id: string) {
    await fs.rm(this.tempPathOf(id), { force: true });
    await fs.rm(this.pathOf(id), { force: true });
  }

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

  /**
   * Temporary files of uploads that never finished, and item files with no item: renamed into place
   * by a transaction that then did not commit, when the process died or could not learn whether it
   * had. A file being placed right now was written moments ago, so it is never old enough to go.
   */
  async sweepAbandoned(startedBefore: Date, recordedAmong: (ids: string[]) => Promise<Set<string>>) {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return 0;
    }
    const stale: string[] = [];
    for (const name of names) {
      if (!name.startsWith(TEMP_PREFIX) && !UUID.test(name)) continue;
      const stat = await fs.stat(path.join(this.dir, name)).catch(() => null);
      if (stat?.isFile() && stat.mtime < startedBefore) stale.push(name);
    }
    const placed = stale.filter((name) => UUID.test(name));
    const recorded = placed.length > 0 ? await recordedAmong(placed) : new Set<string>();
    let swept = 0;
    for (const name of stale) {
      if (recorded.has(name)) continue;
      await fs.rm(path.join(this.dir, name), { force: true });
      swept += 1;
    }
    return swept;
  }

  private pathOf(id: string) {
    return path.join(this.dir, requireEvidenceId(id));
  }

  private tempPathOf(id: string) {
    return path.join(this.dir, `${TEMP_PREFIX}${requireEvidenceId(id)}`);
  }
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
