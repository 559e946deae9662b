import crypto, { type KeyObject } from 'node:crypto';
import { httpbis } from 'http-message-signatures';
import { type InnerList, parseDictionary, serializeInnerList } from 'structured-headers';
import type { NodeKey } from '../../platform/keys.ts';

/**
 * HTTP Message Signatures (RFC 9421) between nodes: the pure parts, with no HTTP client or server.
 *
 * A call is signed by the calling node's Ed25519 key under one signature labelled `vytis`, covering
 *   - `@method` and `@target-uri`: the whole absolute URI the caller addressed (scheme, authority,
 *     path and query in one component, so none of them can be swapped on its own; the receiver
 *     rebuilds it from its public URL, see peer-signatures.ts),
 *   - `date` (a Date header is sent with every call),
 *   - `content-digest` (RFC 9530, `sha-256=:…:`, on every call, an empty GET body included, so
 *     the rule "the body matches its digest" has no exception),
 * with the parameters `created`, `expires` (created + 60 s), `nonce` (random), `keyid` (the node
 * key's RFC 7638 thumbprint) and `alg` (`ed25519`).
 *
 * The signature base and the header values are built by `http-message-signatures` (and
 * `structured-headers`); the signing and verifying themselves are node:crypto's Ed25519. The
 * library's own `verifyMessage` is not used: it reads the system clock and reports one generic
 * error, where a refusal here must name its reason and time is injected.
 */

export const SIGNATURE_LABEL = 'vytis';
export const SIGNATURE_ALG = 'ed25519';
/** What every signature must cover, in this order when we sign. */
export const COVERED_COMPONENTS = ['@method', '@target-uri', 'date', 'content-digest'] as const;
/** How long a signature we make is valid (its `expires` is `created` plus this). */
export const SIGNATURE_LIFETIME_SECONDS = 60;
const SIGNATURE_PARAMS = ['created', 'expires', 'nonce', 'keyid', 'alg'] as const;

/** The header fields a signed request carries besides its own. */
export interface SignatureHeaders {
  date: string;
  'content-digest': string;
  'signature-input': string;
  signature: string;
}

export interface RequestToSign {
  method: string;
  /** The absolute URL the request is sent to. */
  url: string | URL;
  /** The exact bytes sent (none: an empty body). */
  body?: Buffer | string | undefined;
}

const bytesOf = (body: Buffer | string | undefined) =>
  body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;

/** RFC 9530 Content-Digest of a body: `sha-256=:<base64>:`. */
export function contentDigest(body: Buffer | string | undefined): string {
  return `sha-256=:${crypto.createHash('sha256').update(bytesOf(body)).digest('base64')}:`;
}

/**
 * The headers that sign `request` with the node's key: Date, Content-Digest, Signature-Input and
 * Signature. `nonce` is random unless given (tests).
 */
export async function signRequest(
  request: RequestToSign,
  key: Pick<NodeKey, 'keyId' | 'privateKey'>,
  options: { now: Date; nonce?: string },
): Promise<SignatureHeaders> {
  // Whole seconds: `created` and the Date header say the same instant.
  const created = new Date(Math.floor(options.now.getTime() / 1000) * 1000);
  const headers = {
    date: created.toUTCString(),
    'content-digest': contentDigest(request.body),
  };
  const signed = await httpbis.signMessage(
    {
      key: {
        id: key.keyId,
        alg: SIGNATURE_ALG,
        sign: async (data: Buffer) => crypto.sign(null, data, key.privateKey),
      },
      name: SIGNATURE_LABEL,
      fields: [...COVERED_COMPONENTS],
      params: [...SIGNATURE_PARAMS],
      paramValues: {
        created,
        expires: new Date(created.getTime() + SIGNATURE_LIFETIME_SECONDS * 1000),
        nonce: options.nonce ?? crypto.randomBytes(18).toString('base64url'),
        keyid: key.keyId,
        alg: SIGNATURE_ALG,
      },
    },
    { method: request.method.toUpperCase(), url: String(request.url), headers },
  );
  const out = Object.fromEntries(
    Object.entries(signed.headers).map(([name, value]) => [
      name.toLowerCase(),
      Array.isArray(value) ? value.join(', ') : value,
    ]),
  );
  return {
    date: headers.date,
    'content-digest': headers['content-digest'],
    'signature-input': out['signature-input']!,
    signature: out.signature!,
  };
}

/**
 * Why a signed request was refused. `reason` is one of:
 * `unsigned`, `malformed signature headers`, `malformed request target`,
 * `missing signature parameter <p>`, `unsupported algorithm`, `signature does not cover <c>`,
 * `created in the future`, `too old`, `expired`, `unknown key <keyid>`, `missing <header>`,
 * `bad signature`, `missing content-digest`, `malformed content-digest`,
 * `content digest does not match the body`, `replayed`.
 * Every part of it is our own words or a key id of the form we accept (never free text of the caller's).
 */
export class SignatureRefused extends Error {
  constructor(
    readonly reason: string,
    /** The key id the signature claimed, when it was well formed (for the audit log). */
    readonly keyId: string | null = null,
  ) {
    super(`peer signature refused: ${reason}`);
    this.name = 'SignatureRefused';
  }
}

export interface SignedRequest {
  method: string;
  /** The absolute URI the caller addressed us at (see peer-signatures.ts for how it is rebuilt). */
  url: string;
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The bytes received (for a GET, empty). */
  body: Buffer | string;
}

export interface VerifyOptions {
  /** The active peer trusted under a key id, or null (unknown or removed). */
  lookupKey(
    keyId: string,
  ): Promise<{ party: string; role?: 'coordinator' | 'national'; publicKey: KeyObject } | null>;
  now: Date;
  /** The oldest `created` accepted, whatever `expires` says. */
  maxAgeSeconds?: number;
  /** How far the caller's clock may be ahead of, or `expires` behind, ours. */
  maxSkewSeconds?: number;
  /**
   * Records a nonce of a key until `expiresAt` (after which the signature is refused anyway), and
   * says whether it was new: false means the same signature was seen before.
   */
  seenNonce(keyId: string, nonce: string, expiresAt: Date): Promise<boolean>;
}

/** Bounds on what is parsed at all: an honest signature's headers are a few hundred bytes. */
const MAX_SIGNATURE_HEADER_CHARS = 4096;
const MAX_COMPONENTS = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,128}$/;
const NONCE = /^[\x21-\x7e]{8,128}$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
/** Derived components the library computes without parameters. */
const DERIVED = new Set([
  '@method',
  '@target-uri',
  '@authority',
  '@scheme',
  '@request-target',
  '@path',
  '@query',
]);

const malformed = () => new SignatureRefused('malformed signature headers');

/** The `vytis` member of a dictionary header, or a refusal; never throws anything else. */
function member(text: string, what: 'input' | 'signature') {
  if (text.length > MAX_SIGNATURE_HEADER_CHARS) throw malformed();
  let dictionary: ReturnType<typeof parseDictionary>;
  try {
    dictionary = parseDictionary(text);
  } catch {
    throw malformed();
  }
  const value = dictionary.get(SIGNATURE_LABEL);
  if (value === undefined) throw malformed();
  if (what === 'input' && !Array.isArray(value[0])) throw malformed();
  if (what === 'signature' && !(value[0] instanceof ArrayBuffer)) throw malformed();
  return value;
}

/** The covered component names of a signature input, plain names only, each once. */
function coveredComponents(input: InnerList): string[] {
  const [items] = input;
  if (items.length > MAX_COMPONENTS) throw malformed();
  const names: string[] = [];
  for (const [name, params] of items) {
    if (typeof name !== 'string' || params.size > 0) throw malformed();
    if (!DERIVED.has(name) && !HEADER_NAME.test(name)) throw malformed();
    if (names.includes(name)) throw malformed();
    names.push(name);
  }
  return names;
}

function integerParam(params: Map<string, unknown>, name: string): number {
  const value = params.get(name);
  if (value === undefined) throw new SignatureRefused(`missing signature parameter ${name}`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw malformed();
  return value;
}

function stringParam(params: Map<string, unknown>, name: string, pattern: RegExp): string {
  const value = params.get(name);
  if (value === undefined) throw new SignatureRefused(`missing signature parameter ${name}`);
  if (typeof value !== 'string' || !pattern.test(value)) throw malformed();
  return value;
}

/** Whether `text` is a Content-Digest whose sha-256 (and sha-512, if given) match `body`. */
function digestMatches(text: string, body: Buffer): 'match' | 'mismatch' | 'malformed' {
  if (text.length > MAX_SIGNATURE_HEADER_CHARS) return 'malformed';
  let dictionary: ReturnType<typeof parseDictionary>;
  try {
    dictionary = parseDictionary(text);
  } catch {
    return 'malformed';
  }
  let checked = 0;
  for (const [algorithm, hash] of [
    ['sha-256', 'sha256'],
    ['sha-512', 'sha512'],
  ] as const) {
    const given = dictionary.get(algorithm);
    if (given === undefined) continue;
    if (!(given[0] instanceof ArrayBuffer)) return 'malformed';
    const actual = crypto.createHash(hash).update(body).digest();
    const claimed = Buffer.from(given[0]);
    if (claimed.length !== actual.length || !crypto.timingSafeEqual(claimed, actual)) return 'mismatch';
    checked++;
  }
  // Only algorithms we do not know: nothing was checked, which is not a match.
  return checked === 0 ? 'malformed' : 'match';
}

/**
 * Checks a request signed per RFC 9421 by an active peer, and returns who signed it; otherwise
 * throws SignatureRefused with the reason. Cheap checks come first (syntax, coverage, times), then
 * the key lookup, the signature, the body's digest, and last the nonce, so that only a request
 * that passed everything else spends a nonce.
 *
 * Whatever the headers hold (huge, not structured fields, wrong types), the only error thrown is
 * SignatureRefused; errors of `lookupKey` and `seenNonce` (the database) pass through.
 */
export async function verifySignedRequest(
  request: SignedRequest,
  options: VerifyOptions,
): Promise<{ keyId: string; party: string; role: 'coordinator' | 'national' }> {
  const { maxAgeSeconds = 300, maxSkewSeconds = 60 } = options;
  // Field names are case-insensitive (node:http gives them in lower case already).
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const text = typeof value === 'string' ? value : value.join(', ');
    const lower = name.toLowerCase();
    headers[lower] = headers[lower] === undefined ? text : `${headers[lower]}, ${text}`;
  }
  const inputText = headers['signature-input'];
  const signatureText = headers.signature;
  if (inputText === undefined && signatureText === undefined) throw new SignatureRefused('unsigned');
  if (inputText === undefined || signatureText === undefined) throw malformed();

  const input = member(inputText, 'input') as InnerList;
  const signature = Buffer.from(member(signatureText, 'signature')[0] as ArrayBuffer);
  const components = coveredComponents(input);
  const params = input[1] as Map<string, unknown>;

  const keyId = stringParam(params, 'keyid', KEY_ID);
  const refuse = (reason: string) => new SignatureRefused(reason, keyId);
  const alg = params.get('alg');
  if (alg === undefined) throw refuse('missing signature parameter alg');
  if (alg !== SIGNATURE_ALG) throw refuse('unsupported algorithm');
  const created = integerParam(params, 'created');
  const expires = integerParam(params, 'expires');
  const nonce = stringParam(params, 'nonce', NONCE);
  for (const component of COVERED_COMPONENTS)
    if (!components.includes(component)) throw refuse(`signature does not cover ${component}`);

  const now = Math.floor(options.now.getTime() / 1000);
  if (created > now + maxSkewSeconds) throw refuse('created in the future');
  if (now - created > maxAgeSeconds) throw refuse('too old');
  if (expires < created || now > expires + maxSkewSeconds) throw refuse('expired');

  let url: string;
  try {
    url = new URL(request.url).href;
  } catch {
    throw refuse('malformed request target');
  }

  const peer = await options.lookupKey(keyId);
  if (!peer) throw refuse(`unknown key ${keyId}`);

  // The signature base, as the library builds it from the covered components.
  for (const component of components)
    if (!component.startsWith('@') && headers[component] === undefined) throw refuse(`missing ${component}`);
  let base: string;
  try {
    const lines = httpbis.createSignatureBase(
      { fields: components },
      { method: request.method, url, headers },
    );
    lines.push(['"@signature-params"', [serializeInnerList(input)]]);
    base = httpbis.formatSignatureBase(lines);
  } catch {
    throw refuse('malformed signature headers');
  }
  let valid = false;
  try {
    valid = signature.length === 64 && crypto.verify(null, Buffer.from(base), peer.publicKey, signature);
  } catch {
    valid = false;
  }
  if (!valid) throw refuse('bad signature');

  const digest = headers['content-digest'];
  if (digest === undefined) throw refuse('missing content-digest');
  const matched = digestMatches(digest, bytesOf(request.body));
  if (matched === 'malformed') throw refuse('malformed content-digest');
  if (matched === 'mismatch') throw refuse('content digest does not match the body');

  // Past this instant the signature is refused on its times alone, so the nonce need not be kept.
  const lastAccepted = Math.min(expires + maxSkewSeconds, created + maxAgeSeconds);
  if (!(await options.seenNonce(keyId, nonce, new Date(lastAccepted * 1000)))) throw refuse('replayed');
  return { keyId, party: peer.party, role: peer.role ?? 'national' };
}
