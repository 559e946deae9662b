import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../../errors.ts';

/**
 * Copies an upload to a temporary file first, so a client that sends slowly keeps only its own
 * connection busy, never a transaction or a case's lock. Refuses more than `maxBytes` — without
 * destroying the upload, so the refusal still reaches the client.
 */
export async function spoolToFile(
  source: Readable,
  maxBytes: number,
): Promise<{ file: string; remove(): void }> {
  const file = path.join(os.tmpdir(), `vytis-import-${crypto.randomUUID()}`);
  const remove = () => fs.rmSync(file, { force: true });
  const out = fs.createWriteStream(file, { mode: 0o600 });
  try {
    await new Promise<void>((resolve, reject) => {
      let bytes = 0;
      const onData = (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > maxBytes) {
          source.pause();
          source.off('data', onData);
          reject(new AppError('payload_too_large', `the file is larger than the limit of ${maxBytes} bytes`));
          return;
        }
        if (!out.write(chunk)) {
          source.pause();
          out.once('drain', () => source.resume());
        }
      };
      source.on('data', onData);
      source.once('end', () => out.end());
      source.once('error', reject);
      out.once('finish', resolve);
      out.once('error', reject);
    });
  } catch (error) {
    out.destroy();
    remove();
    throw error;
  }
  return { file, remove };
}
