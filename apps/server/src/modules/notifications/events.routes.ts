import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError, invalidInput } from '../../errors.ts';
import { access, ctxOf, identifyCaller } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';

const BATCH = 200;
/** A comment line this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/** How many live event streams one user may hold open at once (over all the node's processes), by default. */
export const DEFAULT_STREAMS_PER_USER = 5;

export const eventsRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  streamsPerUser?: number;
}> = async (app, { services, streamsPerUser = DEFAULT_STREAMS_PER_USER }) => {
  const open = new Set<AbortController>();
  app.addHook('preClose', async () => {
    for (const stream of open) stream.abort();
  });

  app.get(
    '/events',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['events'],
        summary: 'Live events (server-sent events) about the requests you may see',
        description:
          'Each event has `id` (its sequence number), `event` (its type) and `data` (a Notification as JSON). ' +
          'Reconnect with `Last-Event-ID` (or `?since=`) to get what you missed; without either, the stream starts now.',
        querystring: Type.Object(
          {
            since: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: Number.MAX_SAFE_INTEGER,
                description: 'send events after this sequence number',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'a text/event-stream that stays open',
            content: { 'text/event-stream': { schema: Type.String() } },
          },
        },
      },
    },
    async (request, reply) => {
      const lastEventId = request.headers['last-event-id'];
      if (lastEventId !== undefined && !/^\d{1,15}$/.test(String(lastEventId))) {
        throw invalidInput('Last-Event-ID must be the id of an event this stream sent', [
          { field: 'headers/last-event-id', message: 'not an event id' },
        ]);
      }
      // Listened for before the first wait: a client gone meanwhile must not leave a stream (and its
      // claim, kept fresh) running for nobody.
      const stream = new AbortController();
      const gone = () => stream.abort();
      request.raw.once('close', gone);
      reply.raw.once('close', gone);
      // Each stream holds a socket and wakes on every event: one user may not hold more than a few,
      // counted over every process of the node.
      const claim = await services.streamClaims.claim(request.actor.id ?? request.actor.name, streamsPerUser);
      if (claim.id === null) {
        throw new AppError(
          'rate_limited',
          `you already have ${claim.held} live event streams open, the most one user may; close one (each browser tab keeps one) and try again`,
        );
      }
      try {
        await services.events.mark();
        // A starting point beyond the newest event (a client of a database since restored) would
        // silently skip what comes next: start from the newest instead.
        const latest = await services.events.latestSeq();
        const asked = lastEventId !== undefined ? Number(lastEventId) : request.query.since;
        let last = asked === undefined ? latest : Math.min(asked, latest);

        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
          'x-request-id': request.id,
        });
        raw.write('retry: 3000\n\n');
        open.add(stream);
        if (request.raw.socket?.destroyed || raw.destroyed) stream.abort();
        try {
          while (!stream.signal.aborted) {
            const mark = await services.events.mark();
            // The caller as of now: a revoked token or ended session ends the stream, a changed role
            // changes what it carries, and an account that must now enrol a second factor (made an
            // admin under VYTIS_REQUIRE_MFA=admins) may no longer read it.
            const caller = await identifyCaller(services.identity, request);
            if (caller === null || caller === 'invalid' || caller.mfaEnrolmentRequired) break;
            const ctx = { ...ctxOf(request), actor: caller.actor };
            const events = await services.events.since(ctx, last, BATCH);
            for (const event of events) {
              raw.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
              last = event.seq;
            }
            if (events.length === BATCH) continue;
            const woken = await services.events.waitForNews(mark, HEARTBEAT_MS, stream.signal);
            if (!woken && !stream.signal.aborted) raw.write(': keep-alive\n\n');
          }
        } catch (error) {
          request.log.warn({ err: error }, 'event stream ended by an error');
        } finally {
          open.delete(stream);
          raw.end();
        }
      } finally {
        // A claim not given back (the database gone first) lapses on its own.
        await services.streamClaims.release(claim.id).catch(() => {});
      }
    },
  );
};
