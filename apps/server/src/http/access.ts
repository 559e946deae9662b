import type { Role } from '@vytis/contracts';
import type { FastifyRequest } from 'fastify';
import { type Actor, ANONYMOUS, type Ctx, hasRole } from '../context.ts';
import { AppError, forbidden, unauthenticated } from '../errors.ts';
import type { IdentityService } from '../modules/identity/identity.service.ts';
import { safeEqual } from '../platform/secrets.ts';

/** Who may call a route. Every route declares one; the app refuses to start otherwise. */
export type RouteAccess = { kind: 'public' } | { kind: 'user'; roles: readonly Role[] | 'any' };

export const access = {
  public: { kind: 'public' } as RouteAccess,
  anyUser: { kind: 'user', roles: 'any' } as RouteAccess,
  roles: (...roles: Role[]): RouteAccess => ({ kind: 'user', roles }),
};

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    /** Open to a session that must still enrol a second factor (VYTIS_REQUIRE_MFA=admins). */
    mfaEnrolment?: boolean;
  }
  interface FastifyRequest {
    actor: Actor;
    sessionId: string | null;
    /** Set once a denial has been audited, so the error handler does not audit it twice. */
    denialAudited: boolean;
  }
}

export const SESSION_COOKIE = 'vytis_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const ctxOf = (request: FastifyRequest): Ctx => ({ actor: request.actor, requestId: request.id });

/** `Basic base64(user:password)`, or null for anything else. */
function basicCredentials(authorization: string): { user: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})$/i.exec(authorization);
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Who sent this request, from its bearer token (or HTTP Basic with an API token as the password)
 * or else its session cookie, as of now: null when
 * there is no credential, and `'invalid'` for a bearer token that is unknown, expired or revoked.
 * `mfaEnrolmentRequired` says the account may do nothing until it enrols a second factor
 * (VYTIS_REQUIRE_MFA=admins): a session only that, a token nothing at all.
 * Long-lived responses (live events) call it again to notice a revoked token or a changed role.
 */
export async function identifyCaller(identity: IdentityService, request: FastifyRequest) {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    const basic = match ? null : basicCredentials(authorization);
    const token = match?.[1] ?? basic?.password;
    const found = token ? await identity.authenticateBearer(token) : null;
    // HTTP Basic (what TAXII clients send): the user's name, and one of their API tokens.
    const bearer = found && (!basic || found.actor.name === basic.user) ? found : null;
    return bearer
      ? {
          actor: bearer.actor,
          sessionId: null,
          csrfToken: null,
          mfaEnrolmentRequired: bearer.mfaEnrolmentRequired,
          bearer: true,
        }
      : ('invalid' as const);
  }
  const secret = request.cookies[SESSION_COOKIE];
  const session = secret ? await identity.authenticateSession(secret) : null;
  return session
    ? {
        actor: session.actor,
        sessionId: session.sessionId,
        csrfToken: session.csrfToken,
        mfaEnrolmentRequired: session.mfaEnrolmentRequired,
        bearer: false,
      }
    : null;
}

/**
 * Identifies the caller (bearer token first, then the session cookie), then applies the route's
 * declared access. Session callers must echo their CSRF token on unsafe methods; bearer callers
 * cannot be driven by a foreign page, so they need none.
 */
export function makeAccessHook(identity: IdentityService) {
  return async function accessHook(request: FastifyRequest) {
    request.actor = ANONYMOUS;
    request.sessionId = null;
    request.denialAudited = false;
    const routeAccess = request.routeOptions.config.access;
    if (!routeAccess) return; // unknown route: the not-found handler answers
    let csrfToken: string | null = null;
    let mfaEnrolmentRequired = false;

    const caller = await identifyCaller(identity, request);
    if (caller === 'invalid') {
      if (routeAccess.kind === 'public') return;
      throw unauthenticated('the API token is invalid, expired or revoked');
    }
    if (caller?.bearer && caller.mfaEnrolmentRequired) {
      if (routeAccess.kind === 'public') return;
      request.actor = caller.actor;
      // A token is not how a second factor is enrolled: that takes the password, in the web app.
      throw forbidden(
        'API tokens of an account that must enrol a second factor do not work until it has one: log in to the web app, enrol an authenticator app on your account page, then issue a new token',
      );
    }
    if (caller) {
      request.actor = caller.actor;
      request.sessionId = caller.sessionId;
      csrfToken = caller.csrfToken;
      mfaEnrolmentRequired = caller.mfaEnrolmentRequired;
    }

    if (routeAccess.kind === 'public') return;
    if (request.actor === ANONYMOUS) throw unauthenticated();
    if (csrfToken !== null && !SAFE_METHODS.has(request.method)) {
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !safeEqual(sent, csrfToken)) {
        throw new AppError('forbidden', 'missing or wrong X-CSRF-Token header for this session');
      }
    }
    // A session that must enrol may reach only the enrolment routes (tokens were refused above).
    if (mfaEnrolmentRequired && !request.routeOptions.config.mfaEnrolment) {
      throw forbidden(
        'your account must enrol a second factor (an authenticator app) before anything else: open your account page',
      );
    }
    if (routeAccess.roles !== 'any' && !hasRole(request.actor, ...routeAccess.roles)) {
      throw forbidden(`this needs one of the roles: ${routeAccess.roles.join(', ')}`);
    }
  };
}
