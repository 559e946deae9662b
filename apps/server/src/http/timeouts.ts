import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * How long the node waits for a client. A client that sends slowly holds a socket and, for an
 * upload, a spool file: each stage has a bound, and an upload must keep a minimum average rate
 * (after a grace period) rather than finish within a fixed time, so a large evidence file or
 * indicator import over a slow but honest link still arrives.
 */
export interface HttpLimits {
  /** Time to receive a request's headers. */
  headersTimeoutMs: number;
  /**
   * A connection with no traffic either way for this long is closed, while the node waits for the
   * client (live event streams send a heartbeat every 15 s); not while the node works on a request
   * whose body it has received (a large import may take minutes before its answer).
   */
  idleTimeoutMs: number;
  /** How long an idle keep-alive connection waits for its next request. */
  keepAliveTimeoutMs: number;
  /** Time to receive a whole request, body included (0: no bound beyond the rate below). */
  requestTimeoutMs: number;
  /** A body arriving slower than this on average, once the grace period is over, is cut with a 408 (0: off). */
  bodyMinBytesPerSecond: number;
  /** How long a body may take before its rate is judged. */
  bodyGraceMs: number;
  /** How often timeouts are checked. */
  checkIntervalMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
  keepAliveTimeoutMs: 10_000,
  requestTimeoutMs: 3_600_000,
  bodyMinBytesPerSecond: 8 * 1024,
  bodyGraceMs: 10_000,
  checkIntervalMs: 2_000,
};

/** The Fastify (and node:http) server options for these limits. */
export function serverTimeouts(limits: HttpLimits) {
  return {
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
    },
  };
}

const REQUEST_TIMEOUT_BODY = JSON.stringify({
  error: {
    code: 'request_timeout',
    message: 'the request body arrived too slowly; send it again over a faster or steadier connection',
    details: null,
  },
});

/**
 * Cuts a request whose body trickles in (one byte every few seconds keeps a socket open forever
 * under an idle timeout alone): after the grace period, a body whose average rate is below the
 * minimum gets a 408 and its connection is closed.
 */
export function slowBodyGuard(limits: HttpLimits) {
  return async function guardSlowBody(request: FastifyRequest, reply: FastifyReply) {
    const raw = request.raw;
    const socket = raw.socket as (typeof raw.socket & { bytesRead?: number }) | undefined;
    if (limits.bodyMinBytesPerSecond <= 0 || raw.complete || typeof socket?.bytesRead !== 'number') return;
    const length = raw.headers['content-length'];
    const hasBody =
      length !== undefined ? Number(length) > 0 : raw.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return;
    // Received in full: from here on the node, not the client, is the one taking its time.
    raw.once('end', () => socket.setTimeout(0));
    const startBytes = socket.bytesRead;
    const started = Date.now();
    const timer = setInterval(() => {
      if (raw.complete || raw.destroyed) {
        clearInterval(timer);
        return;
      }
      const elapsed = Date.now() - started;
      if (elapsed < limits.bodyGraceMs) return;
      if (((socket.bytesRead ?? 0) - startBytes) / (elapsed / 1000) >= limits.bodyMinBytesPerSecond) return;
      clearInterval(timer);
      request.log.info({ elapsedMs: elapsed }, 'request body too slow: cut');
      // Nothing has been answered yet (the body is still coming): answer on the socket itself, as
      // node:http does for its own timeouts, then close it.
      if (!reply.raw.headersSent && !socket.destroyed) {
        socket.end(
          `HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(REQUEST_TIMEOUT_BODY)}\r\nx-request-id: ${request.id}\r\n\r\n${REQUEST_TIMEOUT_BODY}`,
        );
      } else socket.destroy();
    }, limits.checkIntervalMs);
    timer.unref();
    raw.once('close', () => clearInterval(timer));
  };
}
