import { fetch as undiciFetch } from 'undici';
import { type Clock, systemClock } from '../../clock.ts';
import type { NodeKey } from '../../platform/keys.ts';
import type { PrivateNetworks, ResolveHost } from '../../platform/network.ts';
import { callOut, DestinationRefused } from '../../platform/outbound.ts';
import { signRequest } from './http-signatures.ts';

/**
 * How this node calls a peer node: every request signed (see http-signatures.ts), sent under the
 * node's outbound rules (`callOut`: the host resolved once and judged, the connection made to the
 * address judged, private networks only when allowed, redirects never followed), and its answer
 * bounded: one timer covers the lookup, connecting, the headers and the whole body, and the body is
 * read in chunks and dropped past `maxBytes`, so a peer that answers slowly or endlessly costs a
 * timer and a few chunks of memory. Failures are PeerCallErrors in our own words.
 */
export interface PeerClient {
  /** A signed GET of `pathAndQuery` under the peer's URL; its JSON body, bounded in size and time. */
  getJson(pathAndQuery: string, options?: PeerCallOptions): Promise<unknown>;
  /** A signed POST of `body` as JSON. */
  postJson(pathAndQuery: string, body: unknown, options?: PeerCallOptions): Promise<unknown>;
}

export interface PeerCallOptions {
  /** The largest answer read (default 16 MiB). */
  maxBytes?: number;
  /** One limit for the whole call, the answer's body included (default 30 s). */
  timeoutMs?: number;
  /** Ends the call early (a node shutting down). */
  signal?: AbortSignal;
}

export interface PeerClientOptions {
  key: NodeKey;
  fetch?: typeof fetch;
  allowPrivateNetworks: PrivateNetworks;
  /** Dates the signatures (default: the system clock). A peer refuses a call dated more than a minute off its own clock. */
  clock?: Clock;
  /** Resolves the peer's host name (tests). */
  resolve?: ResolveHost;
}

export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 30_000;
/** How much of an error answer is read for its message. */
const ERROR_BODY_BYTES = 16 * 1024;
const PEER_MESSAGE_CHARS = 200;

export type PeerCallFailure =
  /** The peer answered with a status other than 2xx (`status` says which). */
  | 'http'
  | 'timeout'
  | 'too_large'
  | 'not_json'
  /** Not sent: the peer's host is not an address this node may call. */
  | 'refused_address'
  /** No HTTP answer: refused, reset, TLS failure… */
  | 'network'
  | 'cancelled';

/** Why a call to a peer failed, in our own words; for an HTTP answer, its status. */
export class PeerCallError extends Error {
  constructor(
    message: string,
    readonly failure: PeerCallFailure,
    /** The peer's HTTP status, when it answered. */
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'PeerCallError';
  }
}

const mib = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB` : `${bytes} bytes`;

/** A well-known error code (ECONNREFUSED, …) from the error or its causes; never their text. */
function networkFailure(error: unknown): string {
  let at = error as { code?: unknown; cause?: unknown; errors?: { code?: unknown }[] } | undefined;
  for (let depth = 0; at && depth < 4; depth++) {
    const code = at.code ?? at.errors?.[0]?.code;
    if (typeof code === 'string' && /^E[A-Z0-9_]{1,40}$/.test(code)) return code;
    at = at.cause as typeof at;
  }
  return 'the connection failed';
}

const isTimeout = (error: unknown) => {
  const e = error as { name?: unknown; cause?: { name?: unknown } } | null;
  return e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError';
};

class TooLarge extends Error {}

/** The body, read in chunks, at most `maxBytes` of it (TooLarge past that). */
async function readBounded(response: Response, maxBytes: number): Promise<Buffer> {
  // A declared length beyond the bound is refused before any of the body is read.
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new TooLarge();
  }
  const reader = response.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    total += read.value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new TooLarge();
    }
    chunks.push(Buffer.from(read.value));
  }
  return Buffer.concat(chunks);
}

/**
 * The peer's `error.message` from the API's error shape (`{"error":{"message":…}}`), when it is
 * short plain text: control and format characters (bidi overrides) removed, at most 200
 * characters. It names the peer's reason (e.g. "peer signature refused: replayed") and nothing
 * longer or stranger is repeated.
 */
export function peerMessage(body: Buffer): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  const message = (parsed as { error?: { message?: unknown } } | null)?.error?.message;
  if (typeof message !== 'string') return null;
  const plain = message.replace(/[\p{Cc}\p{Cf}]/gu, '').trim();
  return plain.length > 0 && plain.length <= PEER_MESSAGE_CHARS ? plain : null;
}

/** The URL of `pathAndQuery` under the peer's URL, which may have a path of its own. */
export function peerUrl(baseUrl: string, pathAndQuery: string): URL {
  if (!pathAndQuery.startsWith('/')) throw new Error(`a peer path starts with /: ${pathAndQuery}`);
  return new URL(`${baseUrl.replace(/\/+$/, '')}${pathAndQuery}`);
}

export function createPeerClient(options: PeerClientOptions, baseUrl: string): PeerClient {
  const clock = options.clock ?? systemClock;
  const call = async (
    method: 'GET' | 'POST',
    pathAndQuery: string,
    /** JSON text, sent as UTF-8: the bytes the digest is of. */
    body: string | undefined,
    callOptions: PeerCallOptions = {},
  ): Promise<unknown> => {
    const maxBytes = callOptions.maxBytes ?? DEFAULT_MAX_BYTES;
    const timeoutMs = callOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const { signal } = callOptions;
    const url = peerUrl(baseUrl, pathAndQuery);
    const signature = await signRequest({ method, url, body }, options.key, { now: clock.now() });
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'vytis-federation/1',
      ...signature,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    };
    // callOut owns the request's signal (its deadline); the caller's signal is joined to it here.
    const baseFetch = options.fetch;
    const fetchWithSignal = signal
      ? (((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
          const joined = init?.signal ? AbortSignal.any([init.signal, signal]) : signal;
          return (baseFetch ?? (undiciFetch as unknown as typeof fetch))(input, { ...init, signal: joined });
        }) as typeof fetch)
      : baseFetch;
    if (signal?.aborted) throw new PeerCallError('the call was cancelled', 'cancelled');
    try {
      return await callOut(
        url,
        { method, headers, ...(body !== undefined ? { body } : {}) },
        {
          allowed: options.allowPrivateNetworks,
          timeoutMs,
          ...(options.resolve ? { resolve: options.resolve } : {}),
          ...(fetchWithSignal ? { fetch: fetchWithSignal } : {}),
        },
        async (response) => {
          if (response.status < 200 || response.status > 299) {
            let said: string | null = null;
            try {
              said = peerMessage(await readBounded(response, Math.min(maxBytes, ERROR_BODY_BYTES)));
            } catch (error) {
              // A long error answer carries no message worth repeating; a timeout is still a timeout.
              if (!(error instanceof TooLarge)) throw error;
            }
            const redirect =
              response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : '';
            throw new PeerCallError(
              `HTTP ${response.status}${redirect}${said ? `: ${said}` : ''}`,
              'http',
              response.status,
            );
          }
          const answer = await readBounded(response, maxBytes);
          try {
            return JSON.parse(answer.toString('utf8')) as unknown;
          } catch {
            throw new PeerCallError('the answer is not JSON', 'not_json', response.status);
          }
        },
      );
    } catch (error) {
      if (error instanceof PeerCallError) throw error;
      if (error instanceof TooLarge)
        throw new PeerCallError(`the answer is larger than ${mib(maxBytes)}, the most read`, 'too_large');
      if (error instanceof DestinationRefused)
        throw new PeerCallError(
          `not called: ${error.message}; peers on private networks need the node to allow them`,
          'refused_address',
        );
      if (signal?.aborted) throw new PeerCallError('the call was cancelled', 'cancelled');
      if (isTimeout(error))
        throw new PeerCallError(`no complete answer within ${timeoutMs / 1000} s`, 'timeout');
      throw new PeerCallError(networkFailure(error), 'network');
    }
  };
  return {
    getJson: (pathAndQuery, callOptions) => call('GET', pathAndQuery, undefined, callOptions),
    postJson: (pathAndQuery, body, callOptions) =>
      call('POST', pathAndQuery, JSON.stringify(body) ?? 'null', callOptions),
  };
}
