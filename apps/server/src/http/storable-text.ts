import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { invalidInput } from '../errors.ts';

/**
 * PostgreSQL text and jsonb hold neither NUL nor unpaired UTF-16 surrogates. No real input needs
 * them, so a path parameter, query or body carrying one is refused at the edge, naming where,
 * instead of failing deep in a query or a write as a 500.
 */
export async function rejectUnstorableText(request: FastifyRequest) {
  // A streamed body (an upload, a bulk import) is checked by whoever reads it.
  const body = request.body instanceof Readable ? undefined : request.body;
  const where =
    findUnstorable(request.params, 'params') ??
    findUnstorable(request.query, 'querystring') ??
    findUnstorable(body, 'body');
  if (where) {
    throw invalidInput(`${where} contains a NUL character or an unpaired surrogate, which cannot be stored`, [
      { field: where, message: 'contains a NUL character or an unpaired surrogate' },
    ]);
  }
}

const unstorable = (text: string) => text.includes('\u0000') || !text.isWellFormed();

/**
 * The path of the first string (or key) that cannot be stored, or null. A loop over an explicit
 * stack rather than recursion: the work is linear in the size of the value whatever its depth.
 */
export function findUnstorable(root: unknown, rootPath: string): string | null {
  const pending: [unknown, string][] = [[root, rootPath]];
  while (pending.length > 0) {
    const [value, path] = pending.pop()!;
    if (typeof value === 'string') {
      if (unstorable(value)) return path;
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) pending.push([value[i], `${path}/${i}`]);
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i]!;
        if (unstorable(key)) return path;
        pending.push([item, `${path}/${key}`]);
      }
    }
  }
  return null;
}

/**
 * Ajv coerces a query value of `1e400` or `Infinity` to a number and then lets it pass an
 * `integer` or `maximum` check, which only compare finite numbers; no column holds it. Refused
 * after validation, naming the parameter.
 */
export async function rejectInfiniteNumbers(request: FastifyRequest) {
  for (const [part, values] of [
    ['querystring', request.query],
    ['params', request.params],
  ] as const) {
    if (values === null || typeof values !== 'object') continue;
    for (const [name, value] of Object.entries(values)) {
      const numbers = Array.isArray(value) ? value : [value];
      if (numbers.some((n) => typeof n === 'number' && !Number.isFinite(n))) {
        throw invalidInput(`${part}/${name} must be a finite number`, [
          { field: `${part}/${name}`, message: 'must be a finite number' },
        ]);
      }
    }
  }
}
