import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { invalidInput } from '../errors.ts';

/**
 * PostgreSQL text and jsonb hold neither NUL nor unpaired UTF-16 surrogates. No real input needs
 * them, so a body carrying one is refused at the edge, naming where, instead of failing deep in a
 * write as a 500.
 */
export async function rejectUnstorableText(request: FastifyRequest) {
  // A streamed body (an upload, a bulk import) is checked by whoever reads it.
  const body = request.body instanceof Readable ? undefined : request.body;
  const where = findUnstorable(request.query, 'querystring') ?? findUnstorable(body, 'body');
  if (where) {
    throw invalidInput(`${where} contains a NUL character or an unpaired surrogate, which cannot be stored`, [
      { field: where, message: 'contains a NUL character or an unpaired surrogate' },
    ]);
  }
}

function findUnstorable(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') || !value.isWellFormed() ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorable(value[i], `${path}/${i}`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000') || !key.isWellFormed()) return path;
      const found = findUnstorable(item, `${path}/${key}`);
      if (found) return found;
    }
  }
  return null;
}
