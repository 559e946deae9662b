import type { PrivateNetworks, ResolveHost } from '../../platform/network.ts';
import { callOut, DestinationRefused } from '../../platform/outbound.ts';

/**
 * One file of a MISP feed, fetched under the node's outbound rules (`callOut`: the host resolved
 * once and judged, private networks refused unless allowed, redirects not followed) and bounded:
 * one time limit covers the lookup, the answer and its whole body, and the body is read in chunks
 * and dropped past `maxBytes`, so a feed that answers slowly or endlessly costs a timer and a few
 * chunks of memory. Failures are described in our own words (never text the other side chose).
 */
export interface FeedFetchOptions {
  allowed: PrivateNetworks;
  resolve?: ResolveHost | undefined;
  fetch?: typeof fetch | undefined;
  timeoutMs: number;
  maxBytes: number;
  /** A header sent with the request (the feed's `Authorization`, …). */
  header?: { name: string; value: string } | null;
}

/** Why a file could not be had; `notFound` when the feed answered 404. */
export class FeedFetchError extends Error {
  constructor(
    message: string,
    readonly notFound = false,
  ) {
    super(message);
    this.name = 'FeedFetchError';
  }
}

class TooLarge extends Error {}

const isTimeout = (error: unknown) => {
  const e = error as { name?: unknown; cause?: { name?: unknown } } | null;
  return e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError';
};

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

const mib = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB` : `${bytes} bytes`;

/** `what` names the file in messages ("manifest.json", "event <uuid>"). */
export async function fetchFeedFile(url: URL, what: string, options: FeedFetchOptions): Promise<Buffer> {
  const headers: Record<string, string> = {
    accept: 'application/json, text/plain, text/*',
    'user-agent': 'vytis-misp-feeds/1',
  };
  if (options.header) headers[options.header.name.toLowerCase()] = options.header.value;
  try {
    return await callOut(
      url,
      { method: 'GET', headers },
      {
        allowed: options.allowed,
        timeoutMs: options.timeoutMs,
        ...(options.resolve ? { resolve: options.resolve } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      },
      async (response) => {
        if (response.status !== 200) {
          await response.body?.cancel().catch(() => {});
          const redirect =
            response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : '';
          throw new FeedFetchError(
            `cannot fetch ${what}: the feed answered HTTP ${response.status}${redirect}`,
            response.status === 404,
          );
        }
        // A declared length beyond the bound is refused before any of the body is read.
        const declared = Number(response.headers.get('content-length'));
        if (Number.isFinite(declared) && declared > options.maxBytes) {
          await response.body?.cancel().catch(() => {});
          throw new TooLarge();
        }
        const chunks: Buffer[] = [];
        let total = 0;
        const reader = response.body?.getReader();
        if (!reader) return Buffer.alloc(0);
        for (let read = await reader.read(); !read.done; read = await reader.read()) {
          total += read.value.length;
          if (total > options.maxBytes) {
            await reader.cancel().catch(() => {});
            throw new TooLarge();
          }
          chunks.push(Buffer.from(read.value));
        }
        return Buffer.concat(chunks);
      },
    );
  } catch (error) {
    if (error instanceof FeedFetchError) throw error;
    if (error instanceof TooLarge)
      throw new FeedFetchError(
        `cannot fetch ${what}: it is larger than ${mib(options.maxBytes)}, the most a feed file may be`,
      );
    if (error instanceof DestinationRefused)
      throw new FeedFetchError(
        `cannot fetch ${what}: ${error.message}; feeds may only call public hosts unless the node allows private networks (VYTIS_WEBHOOK_PRIVATE_NETWORKS)`,
      );
    if (isTimeout(error))
      throw new FeedFetchError(
        `cannot fetch ${what}: no complete answer within ${options.timeoutMs / 1000} s`,
      );
    throw new FeedFetchError(`cannot fetch ${what}: ${networkFailure(error)}`);
  }
}

/** The URL of a file of the feed: the feed's URL is its directory (MISP appends `/manifest.json`). */
export function feedFileUrl(feedUrl: string, file: string): URL {
  return new URL(`${feedUrl.replace(/\/+$/, '')}/${file}`);
}
