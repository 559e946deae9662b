import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CalendarFeedListQuerySchema,
  CalendarFeedListSchema,
  CalendarFeedSchema,
  DutyBoardQuerySchema,
  DutyBoardSchema,
  IdParamsSchema,
  IssuedCalendarFeedSchema,
  NewCalendarFeedSchema,
  NewRotationSchema,
  PartyCodeSchema,
  RotationListQuerySchema,
  RotationListSchema,
  RotationPatchSchema,
  RotationSchema,
  ShiftListSchema,
  ShiftRangeQuerySchema,
} from '@vytis/contracts';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { access, ctxOf } from '../../http/access.ts';
import { clientSource } from '../../http/client-source.ts';
import type { DenialLimiter } from '../../http/denial-limiter.ts';
import { ifMatchVersion, sendVersioned } from '../../http/if-match.ts';
import type { Services } from '../../http/services.ts';

const PartyParamsSchema = Type.Object({ code: PartyCodeSchema }, { additionalProperties: false });

const calendar = (description: string) => ({
  200: { description, content: { 'text/calendar': { schema: Type.String() } } },
});

/**
 * Duty rotations, who is on duty, and the .ics feeds. The feeds take the usual bearer token or
 * session cookie, or (for calendar apps that can send neither) a secret subscription URL that its
 * user creates, lists and revokes under /calendar-feeds.
 */
export const rotationsRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  /** Refused secret feed URLs are audited through it, like every other denial (rate-limited). */
  denials: Pick<DenialLimiter, 'deny'>;
}> = async (app, { services, denials }) => {
  const tags = ['roster'];
  const keepers = access.roles('poc', 'admin');
  const sendCalendar = (reply: FastifyReply, body: string, name: string) =>
    reply
      .type('text/calendar; charset=utf-8')
      .header('content-disposition', `inline; filename="${name}.ics"`)
      .header('cache-control', 'private, no-store')
      .send(body);

  app.post(
    '/rotations',
    {
      config: { access: keepers },
      schema: {
        tags,
        summary: "Create a duty rotation for your party (admins: any party's)",
        description:
          'Shift k (from 0 on startsOn) is held by responderIds[k mod n] and starts on startsOn + k·shiftDays at ' +
          'shiftStart, local time in timeZone, so it keeps its local hours across daylight-saving changes. ' +
          "A responder whose shifts would overlap their shifts in another of the party's rotations " +
          '(checked over the next 8 weeks) is refused with 409.',
        body: NewRotationSchema,
        response: { 201: RotationSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await services.rotations.create(ctxOf(request), request.body), 201),
  );

  app.get(
    '/rotations',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: "Duty rotations you may see (your party's; coordinators and admins: everyone's)",
        querystring: RotationListQuerySchema,
        response: { 200: RotationListSchema },
      },
    },
    async (request) => services.rotations.list(ctxOf(request), request.query),
  );

  app.get(
    '/rotations/:id',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: 'One duty rotation',
        params: IdParamsSchema,
        response: { 200: RotationSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await services.rotations.get(ctxOf(request), request.params.id)),
  );

  app.patch(
    '/rotations/:id',
    {
      config: { access: keepers },
      schema: {
        tags,
        summary: 'Change a duty rotation: its name, people or timing (If-Match: the version you read)',
        description:
          'Its shifts are recomputed from the new plan and checked against the party’s other rotations as a new one is (409 on an overlap).',
        params: IdParamsSchema,
        body: RotationPatchSchema,
        response: { 200: RotationSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await services.rotations.update(
          ctxOf(request),
          request.params.id,
          request.body,
          ifMatchVersion(request),
        ),
      ),
  );

  app.get(
    '/duty',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary:
          "The duty officer's board: who is on duty now and next in every party you may see, and the gaps",
        description:
          'For each party whose roster you may see that keeps responders or rotations (and your own): the shifts under way at `at` ' +
          '(default: now), the next shift of each rotation, how to reach those people, the party’s PoCs to escalate to, and the ' +
          'periods of the next `days` (default 7) when nobody available is on duty. Parties not covered now come first, then those with gaps.',
        querystring: DutyBoardQuerySchema,
        response: { 200: DutyBoardSchema },
      },
    },
    async (request) => services.rotations.board(ctxOf(request), request.query),
  );

  app.delete(
    '/rotations/:id',
    {
      config: { access: keepers },
      schema: {
        tags,
        summary: 'End a duty rotation (If-Match: the version you read); returns the removed rotation',
        params: IdParamsSchema,
        response: { 200: RotationSchema },
      },
    },
    async (request) => services.rotations.remove(ctxOf(request), request.params.id, ifMatchVersion(request)),
  );

  app.get(
    '/rotations/:id/shifts',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: "A rotation's shifts in [from, to) (default: the next 14 days), in UTC and local time",
        params: IdParamsSchema,
        querystring: ShiftRangeQuerySchema,
        response: { 200: ShiftListSchema },
      },
    },
    async (request) => services.rotations.shifts(ctxOf(request), request.params.id, request.query),
  );

  app.get(
    '/parties/:code/duty',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary:
          'Who of a party is on duty: its shifts in [from, to); without to, those under way at from (default: now)',
        description:
          'Responders on leave or unavailable during a shift are flagged `unavailable`, with the periods.',
        params: PartyParamsSchema,
        querystring: ShiftRangeQuerySchema,
        response: { 200: ShiftListSchema },
      },
    },
    async (request) => services.rotations.duty(ctxOf(request), request.params.code, request.query),
  );

  app.get(
    '/parties/:code/duty.ics',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: "A party's duty roster as iCalendar (the past week and the next 8)",
        params: PartyParamsSchema,
        response: calendar('an iCalendar (RFC 5545) feed, times in UTC'),
      },
    },
    async (request, reply) =>
      sendCalendar(
        reply,
        await services.rotations.partyFeed(ctxOf(request), request.params.code),
        `duty-${request.params.code}`,
      ),
  );

  app.post(
    '/calendar-feeds',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: 'Create a secret subscription URL for a duty calendar (shown once), for calendar apps',
        description:
          "The URL works with no other credential, so treat it as a password: it shows the calendar as you may see it at each fetch (one responder's shifts, or a party's roster), " +
          'until you revoke it (DELETE /calendar-feeds/:id) or your account is disabled; then it answers 404. Only a hash of its secret is kept.',
        body: NewCalendarFeedSchema,
        response: { 201: IssuedCalendarFeedSchema },
      },
    },
    async (request, reply) => {
      const { token, info } = await services.rotations.createFeed(ctxOf(request), request.body);
      const path = `/api/v1/calendar-feeds/${token}/duty.ics`;
      return reply
        .status(201)
        .send({ url: `${request.protocol}://${request.host}${path}`, path, token, info });
    },
  );

  app.get(
    '/calendar-feeds',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: 'My duty calendar subscriptions (never their secrets), revoked ones included',
        description:
          'Live feeds first (a user holds at most 50; creating one more is a 409), then revoked ones, ' +
          'newest first; a page at a time (follow nextCursor).',
        querystring: CalendarFeedListQuerySchema,
        response: { 200: CalendarFeedListSchema },
      },
    },
    async (request) => services.rotations.listFeeds(ctxOf(request), request.query),
  );

  app.delete(
    '/calendar-feeds/:id',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary:
          'Revoke a duty calendar subscription (mine; admins: anyone’s): its URL answers 404 from now on',
        params: IdParamsSchema,
        response: { 200: CalendarFeedSchema },
      },
    },
    async (request) => services.rotations.revokeFeed(ctxOf(request), request.params.id),
  );

  app.get(
    '/calendar-feeds/:token/duty.ics',
    {
      // The URL is the secret: the request log (which names every URL at info) must not keep it.
      logLevel: 'warn',
      config: { access: access.public },
      schema: {
        tags,
        summary: 'A duty calendar by its secret subscription URL (no other credential); 404 once revoked',
        description:
          "Unknown, revoked, a disabled user's, or a calendar its user no longer sees: the same 404. " +
          'Each refusal is audited as a denial (`calendar_feed.denied`, never with the secret), ' +
          'rate-limited per client address like every other denial.',
        params: Type.Object(
          { token: Type.String({ maxLength: 100, description: 'the secret from POST /calendar-feeds' }) },
          { additionalProperties: false },
        ),
        response: calendar('an iCalendar (RFC 5545) feed, times in UTC'),
      },
    },
    async (request, reply) => {
      const feed = await services.rotations.feedByToken(request.params.token, async (refusal) => {
        request.denialAudited = true;
        try {
          await denials.deny(`address:${clientSource(request.ip)}`, ctxOf(request), {
            action: 'calendar_feed.denied',
            objectType: 'route',
            objectId: `${request.method} ${request.routeOptions.url}`,
            summary: { status: 404, reason: refusal.reason, feedId: refusal.feedId },
          });
        } catch (error) {
          // As the error handler does for other denials: the caller still gets its 404.
          request.log.error({ err: error }, 'could not audit a refused calendar feed');
        }
      });
      return sendCalendar(reply, feed.body, feed.name);
    },
  );

  app.get(
    '/responders/:id/duty.ics',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: "A responder's duty shifts as iCalendar (the past week and the next 8)",
        params: IdParamsSchema,
        response: calendar('an iCalendar (RFC 5545) feed, times in UTC'),
      },
    },
    async (request, reply) =>
      sendCalendar(
        reply,
        await services.rotations.responderFeed(ctxOf(request), request.params.id),
        `duty-${request.params.id}`,
      ),
  );
};
