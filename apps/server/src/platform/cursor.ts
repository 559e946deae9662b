import { invalidInput } from '../errors.ts';

/** Keyset pagination cursors: the sort key of the last row seen, opaque to clients. */
type Part = 'int' | 'timestamp' | 'uuid' | 'text';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$/;

// Bounded like the columns they are compared with (int4, timestamptz), so a forged value is a 400.
const VALID: Record<Part, (value: unknown) => boolean> = {
  int: (v) => Number.isInteger(v) && (v as number) >= -2_147_483_648 && (v as number) <= 2_147_483_647,
  // A real instant: Date.parse rolls 2026-02-30 over into March, which PostgreSQL refuses (a 500).
  timestamp: (v) =>
    typeof v === 'string' &&
    ISO_UTC.test(v) &&
    v >= '1000' &&
    v < '9999' &&
    !Number.isNaN(Date.parse(v)) &&
    new Date(v).toISOString().slice(0, 19) === v.slice(0, 19),
  text: (v) => typeof v === 'string' && v.length <= 200 && !v.includes('\u0000') && v.isWellFormed(),
  uuid: (v) =>
    typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v),
};

export const encodeCursor = (parts: readonly (string | number)[]) =>
  Buffer.from(JSON.stringify(parts)).toString('base64url');

/** The parts of a cursor this server gave out; anything else is a 400 naming the parameter. */
export function decodeCursor<T extends readonly (string | number)[]>(
  text: string,
  shape: readonly Part[],
): T {
  try {
    const parts = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && parts.length === shape.length && shape.every((p, i) => VALID[p](parts[i]))) {
      return parts as unknown as T;
    }
  } catch {
    // not JSON: the same answer as any other foreign cursor
  }
  throw invalidInput('cursor is not one this server gave out', [
    { field: 'querystring/cursor', message: 'unknown cursor' },
  ]);
}
