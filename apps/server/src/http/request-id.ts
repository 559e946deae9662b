import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ANONYMOUS } from '../context.ts';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Every request starts with an id of our own: the caller's X-Request-Id is not yet trusted, since
 * an anonymous caller could use it to forge or confuse the audit trail of its own refusals.
 */
export function freshRequestId(): string {
  return crypto.randomUUID();
}

/**
 * Once the caller is authenticated, keeps its X-Request-Id when it is sane (so logs and audit
 * events join up across hops); an anonymous caller's is ignored.
 */
export async function adoptCallerRequestId(request: FastifyRequest): Promise<void> {
  if (request.actor === undefined || request.actor === ANONYMOUS) return;
  const given = request.headers['x-request-id'];
  if (typeof given === 'string' && SAFE_ID.test(given)) request.id = given;
}
