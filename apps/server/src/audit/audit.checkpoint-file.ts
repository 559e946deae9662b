import type { KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LifecycleEvent } from './audit.chain.ts';
import type { SignedCheckpoint } from './audit.verifier.ts';

/**
 * Signed checkpoints kept outside the database. Someone who can rewrite the database can delete
 * events together with the checkpoint rows that vouched for them; a copy they cannot reach still
 * names what the chain held. The node appends every checkpoint it signs to a file under its data
 * directory, and anyone may keep the public endpoint's checkpoints the same way.
 */
export const isUrl = (source: string) => /^https?:\/\//i.test(source);

export const CHECKPOINT_FILE_NAME = 'audit-checkpoints.jsonl';

export const checkpointFileIn = (dataDir: string) => path.join(dataDir, CHECKPOINT_FILE_NAME);

/** The self-contained JSON of a checkpoint: what the file holds and the public endpoint serves. */
export function signedCheckpointJson(checkpoint: SignedCheckpoint, publicKey: KeyObject) {
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    ...(checkpoint.event ? { event: checkpoint.event } : {}),
    size: checkpoint.size,
    head: checkpoint.head,
    ...(checkpoint.root ? { root: checkpoint.root } : {}),
    signedAt: checkpoint.signedAt.toISOString(),
    keyId: checkpoint.keyId,
    signature: checkpoint.signature,
    publicKey: { kty: 'OKP' as const, crv: 'Ed25519' as const, x: jwk.x!, kid: checkpoint.keyId },
  };
}

/**
 * Appends one line and waits until it is on disk. Opened for appending only, so earlier lines are
 * never rewritten; each line is one write, so processes sharing the file do not interleave.
 */
export async function appendCheckpointLine(file: string, line: object): Promise<void> {
  const handle = await fs.open(file, 'a+', 0o600);
  try {
    // A crash mid-write leaves a fragment without its newline: keep it on a line of its own, where
    // the verifier reports it, rather than glue the next checkpoint to it.
    const { size } = await handle.stat();
    const last = size > 0 ? (await handle.read(Buffer.alloc(1), 0, 1, size - 1)).buffer[0] : 0x0a;
    await handle.write(`${last === 0x0a ? '' : '\n'}${JSON.stringify(line)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** One checkpoint read from outside, or why it could not be read; `where` names it for people. */
export type ExternalCheckpoint = { where: string } & (
  | { checkpoint: SignedCheckpoint; problem?: never }
  | { problem: string; checkpoint?: never }
);

/**
 * Reads checkpoints from text: JSON lines (the node's file), or one JSON document holding a
 * checkpoint, an array of them or `{items: [...]}` (saved from the API).
 */
export function parseCheckpoints(
  text: string,
  source: string,
  maxEntries = Number.POSITIVE_INFINITY,
): ExternalCheckpoint[] | 'too_many' {
  const trimmed = text.trim();
  const whole = tryJson(trimmed);
  if (whole.ok && whole.value !== null && typeof whole.value === 'object') {
    const value = whole.value as Record<string, unknown>;
    const list = Array.isArray(value) ? value : Array.isArray(value.items) ? value.items : null;
    if (list) {
      if (list.length > maxEntries) return 'too_many';
      return list.map((item, i) => toExternal(item, `${source} item ${i + 1}`));
    }
    const oneLineFile = !isUrl(source) && !trimmed.includes('\n');
    return [toExternal(value, oneLineFile ? `${source} line 1` : source)];
  }
  if (nonEmptyLinesExceed(text, maxEntries)) return 'too_many';
  const entries: ExternalCheckpoint[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const where = `${source} line ${i + 1}`;
    const parsed = tryJson(line);
    entries.push(parsed.ok ? toExternal(parsed.value, where) : { where, problem: 'not JSON' });
  }
  return entries;
}

/** Counted before anything is built for them: a list too long to check is refused cheaply. */
function nonEmptyLinesExceed(text: string, limit: number): boolean {
  let count = 0;
  for (let at = 0; at < text.length; ) {
    const end = text.indexOf('\n', at);
    const stop = end === -1 ? text.length : end;
    if (/\S/.test(text.slice(at, stop)) && ++count > limit) return true;
    at = stop + 1;
  }
  return false;
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

const HEX_64 = /^[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function toExternal(value: unknown, where: string): ExternalCheckpoint {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      where,
      problem: 'not a checkpoint (expected an object with size, head, signedAt, keyId, signature)',
    };
  }
  const v = value as Record<string, unknown>;
  const wrong: string[] = [];
  if (!Number.isSafeInteger(v.size) || (v.size as number) < 0) wrong.push('size (a whole number ≥ 0)');
  if (typeof v.head !== 'string' || !HEX_64.test(v.head)) wrong.push('head (64 hex digits)');
  const signedAt = typeof v.signedAt === 'string' && ISO_TIME.test(v.signedAt) ? new Date(v.signedAt) : null;
  if (!signedAt || Number.isNaN(signedAt.getTime())) wrong.push('signedAt (an ISO 8601 UTC time)');
  if (v.root !== undefined && v.root !== null && (typeof v.root !== 'string' || !HEX_64.test(v.root)))
    wrong.push('root (64 hex digits, when present)');
  if (typeof v.keyId !== 'string' || v.keyId === '') wrong.push('keyId');
  if (typeof v.signature !== 'string' || v.signature === '') wrong.push('signature');
  if (v.event !== undefined && v.event !== 'start' && v.event !== 'stop') wrong.push('event (start or stop)');
  if (wrong.length > 0) return { where, problem: `not a checkpoint: missing or invalid ${wrong.join(', ')}` };
  return {
    where,
    checkpoint: {
      size: v.size as number,
      head: v.head as string,
      ...(typeof v.root === 'string' ? { root: v.root } : {}),
      signedAt: signedAt!,
      keyId: v.keyId as string,
      signature: v.signature as string,
      ...(v.event ? { event: v.event as LifecycleEvent } : {}),
    },
  };
}
