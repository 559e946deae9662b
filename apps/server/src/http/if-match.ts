import type { FastifyReply, FastifyRequest } from 'fastify';
import { invalidInput } from '../errors.ts';

/** The version a write was based on, from `If-Match: 3` or `If-Match: "3"`; undefined when absent. */
export function ifMatchVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  // `*` asks only that the resource exists, which every write checks anyway.
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) {
    throw invalidInput('If-Match must be the version number you read, e.g. If-Match: "3"', [
      { field: 'headers/if-match', message: `not a version: ${header.slice(0, 40)}` },
    ]);
  }
  return Number(match[1]);
}

export function sendVersioned<T extends { version: number }>(reply: FastifyReply, body: T, status = 200) {
  return reply.status(status).header('etag', `"${body.version}"`).send(body);
}
