import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * How many short requests the node is answering right now. Long background work (a bulk import)
 * asks it between its steps and lets them finish first, since on the embedded database they all
 * wait for the same connection, and each takes several turns of it. Live event streams stay open
 * for good, so they are not counted.
 */
export class RequestGauge {
  private inFlight = 0;

  readonly onRequest = async (request: FastifyRequest, reply: FastifyReply) => {
    if (isEventStream(request)) return;
    this.inFlight++;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      this.inFlight--;
    };
    reply.raw.once('finish', leave);
    reply.raw.once('close', leave);
  };

  /** Requests in flight besides the caller's own. */
  others(): number {
    return Math.max(0, this.inFlight - 1);
  }
}

function isEventStream(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.includes('text/event-stream');
}
