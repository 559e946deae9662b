import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { checkDestination, type Destination, type PrivateNetworks, type ResolveHost } from './network.ts';

/** The destination was not called: its host is not public (or does not resolve). */
export class DestinationRefused extends Error {
  constructor(
    readonly reason: 'unresolved' | 'not_public',
    message: string,
  ) {
    super(message);
    this.name = 'DestinationRefused';
  }
}

/**
 * An undici dispatcher whose every connection goes to `destination`, whatever the URL's host
 * resolves to by then; the Host header and the TLS server name (SNI, certificate check) stay the
 * URL's name.
 */
export function pinnedDispatcher(destination: Destination, connectTimeoutMs: number) {
  const connect = buildConnector({ timeout: connectTimeoutMs });
  return new Agent({
    connect: (options, callback) => connect({ ...options, hostname: destination.address }, callback),
  });
}

export interface OutboundOptions {
  /** Which non-public networks may be called (see PrivateNetworks). */
  allowed: PrivateNetworks;
  resolve?: ResolveHost;
  /** Replaces the HTTP client in tests; it receives the pinned dispatcher in `init.dispatcher`. */
  fetch?: typeof fetch;
  timeoutMs: number;
}

/**
 * The one way the server calls other hosts: resolve the host once, refuse it unless every address
 * is allowed, connect only to the address checked, never follow a redirect (a 3xx is returned as
 * is), and give up `timeoutMs` after the call began, host lookup included. `read` consumes the response before the connection closes.
 * Throws DestinationRefused when nothing was sent.
 */
export async function callOut<T>(
  url: URL,
  init: Omit<RequestInit, 'redirect' | 'signal'>,
  options: OutboundOptions,
  read: (response: Response) => Promise<T>,
): Promise<T> {
  // One deadline for the whole call: the lookup, connecting, the answer and reading its body.
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const checked = await checkDestination(url, { ...options, signal: deadline });
  if (!checked.ok) throw new DestinationRefused(checked.reason, checked.message);
  const dispatcher = pinnedDispatcher(checked.destination, options.timeoutMs);
  const doFetch = options.fetch ?? (undiciFetch as unknown as typeof fetch);
  try {
    const response = await doFetch(url, {
      ...init,
      redirect: 'manual',
      signal: deadline,
      dispatcher,
    } as unknown as RequestInit);
    return await read(response);
  } finally {
    await dispatcher.destroy().catch(() => {});
  }
}
