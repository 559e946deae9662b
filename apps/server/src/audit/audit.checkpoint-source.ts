import fs from 'node:fs/promises';
import { AppError, invalidInput } from '../errors.ts';
import { fetchBoundedText } from '../platform/bounded-fetch.ts';
import { type ExternalCheckpoint, isUrl, parseCheckpoints } from './audit.checkpoint-file.ts';

/**
 * Two years of checkpoints every five minutes, with start and stop lines, stay below both limits;
 * far more is not a checkpoint list, and checking it would hold the node for minutes.
 */
export const MAX_SOURCE_BYTES = 64 * 1024 * 1024;
export const MAX_SOURCE_ENTRIES = 250_000;
/** The whole fetch, body included: a server trickling bytes must not keep a node reading. */
const FETCH_TIMEOUT_MS = 30_000;

export interface SourceLimits {
  fetchImpl?: typeof fetch;
  timeoutMs?: number;
}

/**
 * Reads the checkpoints of a file or of a URL (a node's `GET /api/v1/audit/checkpoints/latest`,
 * or any copy a witness serves). A source that cannot be read at all is an error naming it: a
 * verification that silently skipped it would look like one that passed.
 */
export async function readCheckpointSource(
  source: string,
  { fetchImpl = fetch, timeoutMs = FETCH_TIMEOUT_MS }: SourceLimits = {},
): Promise<ExternalCheckpoint[]> {
  const text = isUrl(source) ? await fetchText(source, fetchImpl, timeoutMs) : await readText(source);
  return parseWithinLimit(text, source);
}

export type OwnCheckpointFile =
  | { missing: true; entries: [] }
  | { missing: false; entries: ExternalCheckpoint[] };

/**
 * The node's own file. Absent is not an error here (a node that never signed has none yet): the
 * caller knows whether the database says it should exist. One that cannot be read, or is too long
 * to check, is reported as such rather than failing the whole verification.
 */
export async function readOwnCheckpointFile(file: string): Promise<OwnCheckpointFile> {
  try {
    return { missing: false, entries: parseWithinLimit(await readText(file), file) };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    if (/: ENOENT$/.test(error.message)) return { missing: true, entries: [] };
    return { missing: false, entries: [{ where: file, problem: error.message }] };
  }
}

const tooManyMessage = (source: string) =>
  `${source} holds more than ${MAX_SOURCE_ENTRIES} checkpoints, more than one verification checks: verify against the newest lines (e.g. \`tail -n 100000\`), or move a node's file aside (never edit it) so it starts a new one`;

function parseWithinLimit(text: string, source: string): ExternalCheckpoint[] {
  const entries = parseCheckpoints(text, source, MAX_SOURCE_ENTRIES);
  if (entries === 'too_many') throw invalidInput(tooManyMessage(source));
  return entries;
}

async function readText(file: string): Promise<string> {
  try {
    const { size } = await fs.stat(file);
    if (size > MAX_SOURCE_BYTES)
      throw invalidInput(`checkpoint file ${file} is larger than ${MAX_SOURCE_BYTES} bytes`);
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw invalidInput(
      `cannot read checkpoint file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

async function fetchText(url: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<string> {
  return fetchBoundedText(url, {
    what: `checkpoints from ${url}`,
    plural: true,
    maxBytes: MAX_SOURCE_BYTES,
    timeoutMs,
    fetchImpl,
  });
}
