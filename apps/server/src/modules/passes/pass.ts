import crypto, { type KeyObject } from 'node:crypto';
import { CompactSign, compactVerify, errors as joseErrors } from 'jose';
import { invalidInput } from '../../errors.ts';
import { keyIdOf, type NodeKey } from '../../platform/keys.ts';

/**
 * The responder pass: a compact JWS (RFC 7515) signed by the node's Ed25519 key (alg EdDSA), that
 * a host verifies offline at the door with the node's published keys (GET /node/keys, a JWKS) and
 * the revocation list it last fetched. Pure functions: storing revocations is the caller's job.
 *
 * Header: `{"alg":"EdDSA","kid":<node key id>,"typ":"vytis-pass+jwt"}`.
 * Payload: the registered claims `iss` ("vytis:" + key id), `sub` (the responder's id), `jti` (the
 * pass id, a UUID), `iat`, `nbf` (window start) and `exp` (window end), in seconds, and the pass's
 * own: `name`, `home`, `host` (party codes), `deployment`, `request`, `window` ({from, to} as ISO
 * UTC, exactly as issued), `skills` ([{skill, level}]) and `exercise`.
 */
export interface PassClaims {
  responderId: string;
  responderName: string;
  homeParty: string;
  hostParty: string;
  deploymentId: string;
  requestId: string;
  /** ISO UTC; the pass is valid from `from` to `to`. */
  window: { from: string; to: string };
  skills: { skill: string; level: number }[];
  exercise: boolean;
}

export interface VerifiedPassClaims extends PassClaims {
  passId: string;
  keyId: string;
  issuedAt: string;
  expiresAt: string;
}

/** Why a pass failed, for code; `reason` says it for people. */
export type PassFailure =
  | 'malformed'
  | 'wrong-algorithm'
  | 'wrong-type'
  | 'unknown-key'
  | 'bad-signature'
  | 'revoked'
  | 'not-yet-valid'
  | 'expired';

export type PassCheck =
  | { ok: true; claims: VerifiedPassClaims }
  | { ok: false; code: PassFailure; reason: string };

/** A public key in a JWKS, as GET /node/keys serves it. */
export interface PassJwk {
  kty?: string;
  crv?: string;
  x?: string;
  kid?: string;
  alg?: string;
  use?: string;
  [other: string]: unknown;
}

/** Keys to trust: a JWKS (`{keys: [...]}`) or key id → Ed25519 public key. */
export type PassKeys = { keys: readonly PassJwk[] } | ReadonlyMap<string, KeyObject>;

export const PASS_TYPE = 'vytis-pass+jwt';
export const PASS_ALGORITHM = 'EdDSA';
/**
 * Clocks at the door and at the node may disagree: a pass is accepted from 60 s before its `nbf`
 * and until 60 s after its `exp`.
 */
export const PASS_CLOCK_SKEW_SECONDS = 60;

const issuerOf = (keyId: string) => `vytis:${keyId}`;

/** Signs a pass for `claims` with the node's key. Refuses a window that is not a valid interval. */
/**
 * Signs a pass. Give `passId` to issue the same pass again (same id, same time of issue, same
 * token: Ed25519 is deterministic), so a revocation of that id keeps applying.
 */
export async function issuePass(
  key: NodeKey,
  claims: PassClaims,
  issuedAt: Date,
  passId: string = crypto.randomUUID(),
): Promise<string> {
  const from = Date.parse(claims.window.from);
  const to = Date.parse(claims.window.to);
  if (!Number.isFinite(from) || !Number.isFinite(to)) {
    throw invalidInput('a pass window needs valid ISO times (from, to)');
  }
  if (to <= from) throw invalidInput('a pass window must end after it starts');
  if (!Number.isFinite(issuedAt.getTime())) throw invalidInput('a pass needs a valid time of issue');
  for (const { skill, level } of claims.skills) {
    if (typeof skill !== 'string' || skill === '' || !Number.isInteger(level) || level < 1 || level > 3) {
      throw invalidInput(`a pass skill needs a name and a level from 1 to 3 (got ${skill} ${level})`);
    }
  }
  const payload = {
    iss: issuerOf(key.keyId),
    sub: claims.responderId,
    jti: passId,
    iat: Math.floor(issuedAt.getTime() / 1000),
    nbf: Math.floor(from / 1000),
    exp: Math.ceil(to / 1000),
    name: claims.responderName,
    home: claims.homeParty,
    host: claims.hostParty,
    deployment: claims.deploymentId,
    request: claims.requestId,
    window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    skills: claims.skills.map(({ skill, level }) => ({ skill, level })),
    exercise: claims.exercise,
  };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: PASS_ALGORITHM, kid: key.keyId, typ: PASS_TYPE })
    .sign(key.privateKey);
}

/**
 * The revocation list as the node publishes it: a compact JWS signed by the node key like a pass
 * (alg EdDSA, `typ: vytis-revocations+jwt`), whose payload is `{iss, iat, revoked, updatedAt}`:
 * `revoked` the revoked pass ids, `updatedAt` the time of the latest revocation (null: none yet),
 * `iat` when the list was signed (how fresh it is). A host that fetched it from anywhere (a mirror,
 * a USB stick) can tell it came from the node and was not trimmed.
 */
export const REVOCATIONS_TYPE = 'vytis-revocations+jwt';

export interface RevocationList {
  revoked: string[];
  updatedAt: string | null;
}

export interface VerifiedRevocationList extends RevocationList {
  keyId: string;
  issuedAt: string;
}

export async function signRevocationList(
  key: NodeKey,
  list: RevocationList,
  issuedAt: Date,
): Promise<string> {
  const payload = {
    iss: issuerOf(key.keyId),
    iat: Math.floor(issuedAt.getTime() / 1000),
    revoked: list.revoked,
    updatedAt: list.updatedAt,
  };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: PASS_ALGORITHM, kid: key.keyId, typ: REVOCATIONS_TYPE })
    .sign(key.privateKey);
}

/**
 * Checks a signed revocation list against trusted keys: its form, algorithm, type, key and
 * signature. Returns the list, or why it cannot be trusted (never throws).
 */
export async function verifyRevocationList(
  signed: string,
  keys: PassKeys,
): Promise<{ ok: true; list: VerifiedRevocationList } | { ok: false; reason: string }> {
  const parts = typeof signed === 'string' ? splitToken(signed.trim()) : null;
  if (!parts) return { ok: false, reason: 'the signed list is not a compact JWS' };
  const header = decodeJson(parts[0]);
  if (!header || header.alg !== PASS_ALGORITHM || header.typ !== REVOCATIONS_TYPE) {
    return {
      ok: false,
      reason: `the signed list is not an ${PASS_ALGORITHM} JWS of type ${REVOCATIONS_TYPE}`,
    };
  }
  const trusted = trustedKeys(keys);
  const publicKey = typeof header.kid === 'string' ? trusted.get(header.kid) : undefined;
  if (!publicKey) {
    return {
      ok: false,
      reason: `the list is signed by key ${String(header.kid)}, not a trusted key (trusted: ${[...trusted.keys()].join(', ') || 'none'})`,
    };
  }
  try {
    await compactVerify(parts.join('.'), publicKey, { algorithms: [PASS_ALGORITHM] });
  } catch {
    return { ok: false, reason: `bad signature: the list was altered, or not signed by key ${header.kid}` };
  }
  const payload = decodeJson(parts[1]);
  const kid = header.kid as string;
  if (
    !payload ||
    payload.iss !== issuerOf(kid) ||
    typeof payload.iat !== 'number' ||
    !Array.isArray(payload.revoked) ||
    !payload.revoked.every((id) => typeof id === 'string') ||
    !(payload.updatedAt === null || typeof payload.updatedAt === 'string')
  ) {
    return { ok: false, reason: 'the signed list does not hold {iss, iat, revoked, updatedAt}' };
  }
  return {
    ok: true,
    list: {
      revoked: payload.revoked as string[],
      updatedAt: payload.updatedAt as string | null,
      keyId: kid,
      issuedAt: iso(payload.iat),
    },
  };
}

/** The pass id (`jti`) of a token, without verifying it; null when it has none. For revocation lists. */
export function passIdOf(token: string): string | null {
  const parts = splitToken(token);
  if (!parts) return null;
  const payload = decodeJson(parts[1]);
  return payload && typeof payload.jti === 'string' ? payload.jti : null;
}

/**
 * The claims of a pass whose signature verifyPass has already found good (it failed only on
 * revocation or its window), to say whose pass it is and until when. Never trust it otherwise.
 */
export function claimsOfCheckedPass(token: string): VerifiedPassClaims | null {
  const parts = splitToken(token.trim());
  const header = parts ? decodeJson(parts[0]) : null;
  const payload = parts ? decodeJson(parts[1]) : null;
  if (!header || !payload || typeof header.kid !== 'string') return null;
  const claims = readClaims(payload, header.kid);
  return typeof claims === 'string' ? null : claims.verified;
}

/** The key id (`kid`) a pass names in its header, unverified: which key to verify it with. */
export function keyIdOfPass(token: string): string | null {
  const parts = splitToken(token.trim());
  const header = parts ? decodeJson(parts[0]) : null;
  return typeof header?.kid === 'string' && header.kid !== '' ? header.kid : null;
}

const fail = (code: PassFailure, reason: string): PassCheck => ({ ok: false, code, reason });
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/**
 * Verifies a pass: its form, the algorithm (EdDSA only: no `none`, no HMAC with a public key as the
 * secret), its key among `keys`, the signature, its claims, revocation, then its validity window
 * at `now` (± PASS_CLOCK_SKEW_SECONDS). Never throws for a bad token; each failure has its reason.
 */
export async function verifyPass(
  token: string,
  options: { keys: PassKeys; revoked?: ReadonlySet<string>; now: Date },
): Promise<PassCheck> {
  const parts = typeof token === 'string' ? splitToken(token.trim()) : null;
  if (!parts) return fail('malformed', 'malformed pass: not a compact JWS (three base64url parts)');
  const header = decodeJson(parts[0]);
  if (!header) return fail('malformed', 'malformed pass: its header is not base64url-encoded JSON');
  if (header.alg !== PASS_ALGORITHM) {
    return fail(
      'wrong-algorithm',
      `wrong algorithm ${JSON.stringify(header.alg ?? null)}: passes are signed with ${PASS_ALGORITHM} only`,
    );
  }
  if (
    typeof header.typ !== 'string' ||
    header.typ.toLowerCase().replace(/^application\//, '') !== PASS_TYPE
  ) {
    return fail(
      'wrong-type',
      `wrong type ${JSON.stringify(header.typ ?? null)}: a pass has typ ${PASS_TYPE}`,
    );
  }
  if (header.crit !== undefined || header.b64 !== undefined) {
    return fail('malformed', 'malformed pass: it has header parameters a pass never has (crit, b64)');
  }
  const payload = decodeJson(parts[1]);
  if (!payload) return fail('malformed', 'malformed pass: its payload is not base64url-encoded JSON');

  const keys = trustedKeys(options.keys);
  if (keys.size === 0) return fail('unknown-key', 'no key given to verify the pass with');
  if (typeof header.kid !== 'string' || header.kid === '') {
    return fail('unknown-key', 'the pass names no key id (kid)');
  }
  const publicKey = keys.get(header.kid);
  if (!publicKey) {
    return fail(
      'unknown-key',
      `unknown key id ${header.kid}: the pass was not signed by a trusted key (trusted: ${[...keys.keys()].join(', ')})`,
    );
  }

  try {
    await compactVerify(parts.join('.'), publicKey, { algorithms: [PASS_ALGORITHM] });
  } catch (error) {
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
      return fail('bad-signature', `bad signature: the pass was altered, or not signed by key ${header.kid}`);
    }
    const message = error instanceof Error ? error.message : String(error);
    return fail('malformed', `malformed pass: ${message}`);
  }

  const claims = readClaims(payload, header.kid);
  if (typeof claims === 'string') return fail('malformed', `malformed pass: ${claims}`);
  const { nbf, exp, verified } = claims;
  if (options.revoked?.has(verified.passId)) return fail('revoked', `pass ${verified.passId} was revoked`);
  const now = options.now.getTime() / 1000;
  if (now + PASS_CLOCK_SKEW_SECONDS < nbf) {
    return fail(
      'not-yet-valid',
      `not yet valid: pass ${verified.passId} is valid from ${iso(nbf)} (now ${options.now.toISOString()})`,
    );
  }
  if (now - PASS_CLOCK_SKEW_SECONDS >= exp) {
    return fail(
      'expired',
      `expired: pass ${verified.passId} expired at ${iso(exp)} (now ${options.now.toISOString()})`,
    );
  }
  return { ok: true, claims: verified };
}

/**
 * The keys to trust as key id → Ed25519 public key. From a JWKS, only Ed25519 signing keys count
 * (kty OKP, crv Ed25519, alg EdDSA if given, use sig if given); a key without `kid` is known by its
 * RFC 7638 thumbprint. A private key in a map is reduced to its public half.
 */
export function trustedKeys(keys: PassKeys): Map<string, KeyObject> {
  const trusted = new Map<string, KeyObject>();
  if (isKeyMap(keys)) {
    for (const [kid, key] of keys) {
      const publicKey = key.type === 'private' ? crypto.createPublicKey(key) : key;
      if (publicKey.type === 'public' && publicKey.asymmetricKeyType === 'ed25519')
        trusted.set(kid, publicKey);
    }
    return trusted;
  }
  for (const jwk of Array.isArray(keys?.keys) ? keys.keys : []) {
    if (jwk?.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') continue;
    if (jwk.alg !== undefined && jwk.alg !== PASS_ALGORITHM && jwk.alg !== 'Ed25519') continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    let publicKey: KeyObject;
    try {
      publicKey = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
    } catch {
      continue;
    }
    trusted.set(typeof jwk.kid === 'string' && jwk.kid !== '' ? jwk.kid : keyIdOf(publicKey), publicKey);
  }
  return trusted;
}

const isKeyMap = (keys: PassKeys): keys is ReadonlyMap<string, KeyObject> => keys instanceof Map;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function splitToken(token: string): [string, string, string] | null {
  const parts = token.split('.');
  // An empty signature is let through here so that `alg: none` is refused as such, not as malformed.
  if (parts.length !== 3 || !BASE64URL.test(parts[0]!) || !BASE64URL.test(parts[1]!)) return null;
  if (parts[2] !== '' && !BASE64URL.test(parts[2]!)) return null;
  return parts as [string, string, string];
}

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** The pass's claims from a payload whose signature holds, or what is wrong with them. */
function readClaims(
  p: Record<string, unknown>,
  kid: string,
): { nbf: number; exp: number; verified: VerifiedPassClaims } | string {
  const strings = ['sub', 'jti', 'name', 'home', 'host', 'deployment', 'request'] as const;
  for (const name of strings) {
    if (typeof p[name] !== 'string' || p[name] === '') return `claim ${name} is missing or not a string`;
  }
  for (const name of ['iat', 'nbf', 'exp'] as const) {
    if (typeof p[name] !== 'number' || !Number.isFinite(p[name]))
      return `claim ${name} is missing or not a number`;
  }
  if (p.iss !== issuerOf(kid)) return `claim iss is ${JSON.stringify(p.iss ?? null)}, not ${issuerOf(kid)}`;
  const window = p.window as { from?: unknown; to?: unknown } | null | undefined;
  if (
    !window ||
    typeof window !== 'object' ||
    typeof window.from !== 'string' ||
    typeof window.to !== 'string' ||
    !Number.isFinite(Date.parse(window.from)) ||
    !Number.isFinite(Date.parse(window.to))
  ) {
    return 'claim window is missing or not {from, to} as ISO times';
  }
  if (
    !Array.isArray(p.skills) ||
    !p.skills.every(
      (s: unknown) =>
        s !== null &&
        typeof s === 'object' &&
        typeof (s as { skill?: unknown }).skill === 'string' &&
        Number.isInteger((s as { level?: unknown }).level),
    )
  ) {
    return 'claim skills is missing or not a list of {skill, level}';
  }
  if (typeof p.exercise !== 'boolean') return 'claim exercise is missing or not true/false';
  const nbf = p.nbf as number;
  const exp = p.exp as number;
  return {
    nbf,
    exp,
    verified: {
      responderId: p.sub as string,
      responderName: p.name as string,
      homeParty: p.home as string,
      hostParty: p.host as string,
      deploymentId: p.deployment as string,
      requestId: p.request as string,
      window: { from: window.from, to: window.to },
      skills: (p.skills as { skill: string; level: number }[]).map(({ skill, level }) => ({ skill, level })),
      exercise: p.exercise,
      passId: p.jti as string,
      keyId: kid,
      issuedAt: iso(p.iat as number),
      expiresAt: iso(exp),
    },
  };
}
