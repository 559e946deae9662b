import { AppError, invalidInput } from '../errors.ts';

/**
 * A fetch whose answer cannot be unbounded: one timer covers headers and body (a server trickling
 * bytes does not keep us reading), and the body is read in chunks and refused past `maxBytes`
 * (an endless answer does not fill memory). Failures are described in our words only (a
 * well-known error code, a timeout, an HTTP status), never with text the other side chose.
 *
 * For URLs an operator gives on the command line (audit checkpoints, a node's revocation list):
 * the call is made directly, not through `callOut`, whose address checks are for URLs others give.
 */
export interface BoundedFetchOptions {
  /** Names what is fetched in messages: "cannot fetch <what>: …", "<what> is larger than …". */
  what: string;
  maxBytes: number;
  timeoutMs: number;
  fetchImpl?: typeof fetch;
  /** Say "are larger" rather than "is larger" (e.g. "checkpoints from URL"). */
  plural?: boolean;
  /** Redirects are refused unless told otherwise. */
  redirect?: 'error' | 'follow' | 'manual';
  accept?: string;
}

/** Only our own words and well-known error codes: never text the other side chose. */
export function whyFetchFailed(error: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no complete answer within ${timeoutMs / 1000} s`;
  const cause = (error as { cause?: { code?: unknown; errors?: { code?: unknown }[] } }).cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? code : 'the connection failed';
}

/** The whole body of `url` as UTF-8 text, or an AppError (400) saying why not. */
export async function fetchBoundedText(url: string, options: BoundedFetchOptions): Promise<string> {
  const { what, maxBytes, timeoutMs, fetchImpl = fetch } = options;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const fail = (why: string) => invalidInput(`cannot fetch ${what}: ${why}`);
  const tooLarge = () =>
    invalidInput(`${what} ${options.plural ? 'are' : 'is'} larger than ${maxBytes} bytes`);
  try {
    let response: Response;
    try {
      response = await fetchImpl(url, {
        headers: { accept: options.accept ?? 'application/json' },
        signal: controller.signal,
        redirect: options.redirect ?? 'error',
      });
    } catch (error) {
      throw fail(whyFetchFailed(error, timedOut, timeoutMs));
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw fail(`HTTP ${response.status}`);
    }
    // A declared length beyond the bound is refused before any of the body is read.
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let total = 0;
    const reader = response.body?.getReader();
    try {
      for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
        total += read.value.length;
        if (total > maxBytes) {
          await reader?.cancel().catch(() => {});
          throw tooLarge();
        }
        chunks.push(Buffer.from(read.value));
      }
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw fail(whyFetchFailed(error, timedOut, timeoutMs));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    clearTimeout(timer);
  }
}
