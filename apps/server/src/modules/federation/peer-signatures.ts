import { pipeline, type Readable, Transform } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../../clock.ts';
import { ANONYMOUS, type Ctx } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { clientSource } from '../../http/client-source.ts';
import { DenialLimiter } from '../../http/denial-limiter.ts';
import type { Services } from '../../http/services.ts';
import type { Database } from '../../platform/db/schema.ts';
import { SignatureRefused, verifySignedRequest } from './http-signatures.ts';
import * as nonces from './nonces.repository.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The peer node that signed this call (set by `requirePeerSignature`). */
    peer?: { party: string; keyId: string; role: 'coordinator' | 'national' };
  }
}

/**
 * The peer check of /federation/v1 routes that only peers may call. Such routes are declared
 * `access.public` (no user signs in), and this hook is what stands guard: the call must be signed
 * (RFC 9421, see http-signatures.ts) by the key of an active peer, fresh, not seen before, and its
 * body must match its Content-Digest. A refusal answers 401 `peer signature refused: <reason>` and
 * is audited (`federation.call.refused`), one row per refusal at most.
 *
 * A route uses it as
 *   app.post('/x', { config: { access: access.public }, ...peerOnly(services), schema }, handler)
 * which adds `keepRawBody` (preParsing) and the check (preValidation, so that an unsigned call is
 * told 401 rather than what is wrong with its body). `requirePeerSignature(services)` alone is the
 * check, for a preHandler or preValidation hook of a GET route or of a scope that also adds
 * `keepRawBody` as a preParsing hook (`app.addHook('preParsing', keepRawBody)`).
 *
 * The target URI the caller signed is rebuilt as VYTIS_PUBLIC_URL (`services.federation.node.publicUrl`)
 * followed by the request's path and query. Behind a reverse proxy (TLS terminated, a path prefix
 * stripped) the node cannot see the scheme, host and prefix the caller used, but the URL it is
 * published at is exactly what peers address it by, so a federated node sets it. Without it the
 * URI is `http://<Host header><path>`: right for nodes that peers reach directly over plain HTTP
 * (tests, a lab); it does not bind a call to this node, though (a peer's call to another node that
 * trusts the same key, with that node's Host header, would verify here too), which VYTIS_PUBLIC_URL does.
 */

/** The bytes of each request's body, as `keepRawBody` saw them pass to the parser. */
const rawBodies = new WeakMap<FastifyRequest, Buffer[]>();

/**
 * A preParsing hook that keeps the body's bytes while Fastify reads and parses it as usual: the
 * stream handed on is a tap that copies each chunk. Fastify's own checks (body limit, declared
 * length, slow senders) apply to it unchanged, so what is kept is never more than the body limit.
 * The digest must be checked over exactly these bytes: re-serialising the parsed JSON would not
 * give them back.
 */
export async function keepRawBody(request: FastifyRequest, _reply: FastifyReply, payload: Readable) {
  const chunks: Buffer[] = [];
  rawBodies.set(request, chunks);
  const tap = new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      done(null, chunk);
    },
  });
  // An error of the request stream (client gone) reaches Fastify through the tap.
  pipeline(payload, tap, () => {});
  return tap;
}

/** Methods whose body Fastify does not read: verified as empty. */
const BODILESS = new Set(['GET', 'HEAD', 'OPTIONS']);

function bodyOf(request: FastifyRequest): Buffer {
  const chunks = rawBodies.get(request);
  if (chunks) return Buffer.concat(chunks);
  if (BODILESS.has(request.method) || request.body === undefined) return Buffer.alloc(0);
  // A route wiring error, not the caller's: its body cannot be checked against its digest.
  throw new Error(
    `${request.method} ${request.routeOptions.url}: requirePeerSignature needs keepRawBody as preParsing hook`,
  );
}

/** The absolute URI the caller addressed this node at (see above for why so). */
export function signedTargetUri(
  publicUrl: string | null,
  request: Pick<FastifyRequest, 'url' | 'headers'>,
): string {
  if (publicUrl) return `${publicUrl.replace(/\/+$/, '')}${request.url}`;
  const host = request.headers.host;
  return host ? `http://${host}${request.url}` : '';
}

/* ---- the nonce store (federation_nonces) --------------------------------------------------- */

/** How often seen nonces past their signature's lifetime are deleted, at most. */
const NONCE_SWEEP_MS = 60_000;

/**
 * Nonces of accepted calls, shared by every process of the node through the database: the
 * primary key (key_id, nonce) makes "insert, or learn that it was there" one atomic statement, so
 * two processes receiving the same replayed call cannot both accept it. Rows are kept until the
 * signature they came with would be refused on its times anyway, then deleted now and then.
 */
export function federationNonceStore(db: Kysely<Database>, clock: Clock) {
  let lastSweep = Number.NEGATIVE_INFINITY;
  return async function seenNonce(keyId: string, nonce: string, expiresAt: Date): Promise<boolean> {
    const now = clock.now();
    if (now.getTime() - lastSweep >= NONCE_SWEEP_MS) {
      lastSweep = now.getTime();
      await nonces.sweepExpired(db, now);
    }
    return nonces.remember(db, keyId, nonce, expiresAt);
  };
}

/* ---- the hook ----------------------------------------------------------------------------- */

/** Refusals per client address and minute audited one by one; the rest are counted (see DenialLimiter). */
const REFUSALS_AUDITED_PER_MINUTE = 20;

type Denials = Pick<DenialLimiter, 'deny'>;

/** One nonce store and one refusal limiter per node (per Services), however many routes use the hook. */
const perNode = new WeakMap<
  Services,
  { seenNonce: ReturnType<typeof federationNonceStore>; denials: Denials }
>();

function partsFor(services: Services) {
  let parts = perNode.get(services);
  if (!parts) {
    parts = {
      seenNonce: federationNonceStore(services.database.db, services.clock),
      // Counts past the limit are written at the address's next refusal after the minute, or by
      // the node's minutely flush of every limiter's ended windows.
      denials: new DenialLimiter({
        db: services.database.db,
        clock: services.clock,
        audit: services.audit,
        scope: 'federation',
        perWindow: REFUSALS_AUDITED_PER_MINUTE,
      }),
    };
    perNode.set(services, parts);
  }
  return parts;
}

export interface PeerSignatureOptions {
  /** Where refusals are audited (default: a limiter of this module's own, 20 per address and minute one by one). */
  denials?: Denials;
}

/** A hook (preHandler or preValidation) refusing calls not signed by an active peer; sets `request.peer`. */
export function requirePeerSignature(services: Services, options: PeerSignatureOptions = {}) {
  const parts = partsFor(services);
  const denials = options.denials ?? parts.denials;
  return async function peerSignature(request: FastifyRequest) {
    try {
      request.peer = await verifySignedRequest(
        {
          method: request.method,
          url: signedTargetUri(services.federation.node.publicUrl, request),
          headers: request.headers,
          body: bodyOf(request),
        },
        {
          lookupKey: (keyId) => services.federation.peers.peerByKeyId(keyId),
          now: services.clock.now(),
          seenNonce: parts.seenNonce,
        },
      );
    } catch (error) {
      if (!(error instanceof SignatureRefused)) throw error;
      // The route is public, so the error handler does not audit it: it is audited here, once.
      request.denialAudited = true;
      const ctx: Ctx = { actor: request.actor ?? ANONYMOUS, requestId: request.id };
      await denials.deny(`address:${clientSource(request.ip)}`, ctx, {
        action: 'federation.call.refused',
        objectType: 'peer',
        objectId: error.keyId,
        summary: {
          reason: error.reason,
          method: request.method,
          path: (request.url.split('?')[0] ?? '').slice(0, 200),
          status: 401,
        },
      });
      throw new AppError('unauthenticated', error.message);
    }
  };
}

/** Route options of a peer-only route: keep the raw body, then check the signature before validation. */
export function peerOnly(services: Services, options: PeerSignatureOptions = {}) {
  return { preParsing: keepRawBody, preValidation: requirePeerSignature(services, options) };
}
