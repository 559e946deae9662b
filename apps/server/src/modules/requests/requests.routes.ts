import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  DeadlineParamsSchema,
  NewRequestSchema,
  NewVoteSchema,
  Nis2FilingSchema,
  ReportBodySchema,
  RequestIdParamsSchema,
  RequestListQuerySchema,
  RequestListSchema,
  RequestPatchSchema,
  RequestSchema,
  RequestStatsSchema,
  RequestTimelineSchema,
  SubmitBodySchema,
  TransitionBodySchema,
  WithdrawBodySchema,
} from '@vytis/contracts';
import { access, ctxOf } from '../../http/access.ts';
import { ifMatchVersion, sendVersioned } from '../../http/if-match.ts';
import type { Services } from '../../http/services.ts';
import { TRANSITIONS, type TransitionName } from './lifecycle.ts';

/** The moves whose body is not just an optional reason: a withdrawal must say why; a report is the report. */
const BODY_OF: Partial<Record<TransitionName, typeof WithdrawBodySchema | typeof ReportBodySchema>> = {
  withdraw: WithdrawBodySchema,
  report: ReportBodySchema,
};

export const requestsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const tags = ['requests'];

  app.post(
    '/requests',
    {
      config: { access: access.roles('poc') },
      schema: {
        tags,
        summary:
          "File a request for assistance (a draft) for your party, following the Cyber Solidarity Act's template",
        body: NewRequestSchema,
        response: { 201: RequestSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await services.requests.create(ctxOf(request), request.body), 201),
  );

  app.get(
    '/requests',
    {
      config: { access: access.anyUser, cachedRead: true },
      schema: {
        tags,
        summary: 'The requests you may see, highest priority first, then the oldest',
        querystring: RequestListQuerySchema,
        response: { 200: RequestListSchema },
      },
    },
    async (request) => services.requests.list(ctxOf(request), request.query),
  );

  app.get(
    '/requests/stats',
    {
      config: { access: access.anyUser, cachedRead: true },
      schema: {
        tags,
        summary: 'Figures over the requests you may see; exercises counted apart from real requests',
        response: { 200: RequestStatsSchema },
      },
    },
    async (request) => services.requests.stats(ctxOf(request)),
  );

  app.get(
    '/requests/:id',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: 'One request, with its eligibility, priority, council, votes, decision and clocks',
        params: RequestIdParamsSchema,
        response: { 200: RequestSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await services.requests.get(ctxOf(request), request.params.id)),
  );

  app.patch(
    '/requests/:id',
    {
      config: { access: access.roles('poc') },
      schema: {
        tags,
        summary: 'Edit a draft (send If-Match with the version you read; 412 if it changed)',
        params: RequestIdParamsSchema,
        body: RequestPatchSchema,
        response: { 200: RequestSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await services.requests.update(
          ctxOf(request),
          request.params.id,
          request.body,
          ifMatchVersion(request),
        ),
      ),
  );

  app.get(
    '/requests/:id/timeline',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: 'Everything that happened to a request, oldest first',
        params: RequestIdParamsSchema,
        response: { 200: RequestTimelineSchema },
      },
    },
    async (request) => services.requests.timeline(ctxOf(request), request.params.id),
  );

  app.post(
    '/requests/:id/submit',
    {
      config: { access: access.roles('poc') },
      schema: {
        tags,
        summary: 'Submit a draft: eligibility is decided, and an eligible request goes to the council',
        description:
          "Only a complete draft is submitted: the Cyber Solidarity Act's template needs affectedEntity (name and sector), incidentClass, impact, helpNeeded, measuresTaken and otherHelp (blank text counts as missing). An incomplete draft is a 400 invalid_input whose details name every missing field by its body path (as in the request's missingForSubmission); the draft is unchanged. Submission starts the council's clocks and the NIS2 early warning (awareAt + 24 h) and incident notification (awareAt + 72 h).",
        params: RequestIdParamsSchema,
        body: SubmitBodySchema,
        response: { 200: RequestSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await services.requests.submit(
          ctxOf(request),
          request.params.id,
          ifMatchVersion(request),
          request.body ?? {},
        ),
      ),
  );

  for (const name of Object.keys(TRANSITIONS) as TransitionName[]) {
    const transition = TRANSITIONS[name];
    app.post(
      `/requests/:id/${name}`,
      {
        config: { access: access.roles(...transition.roles) },
        schema: {
          tags,
          summary: `${transition.from.join(' / ')} → ${transition.to} (by ${transition.who})`,
          params: RequestIdParamsSchema,
          body: BODY_OF[name] ?? TransitionBodySchema,
          response: { 200: RequestSchema },
        },
      },
      async (request, reply) =>
        sendVersioned(
          reply,
          await services.requests.transition(
            ctxOf(request),
            request.params.id,
            name,
            request.body ?? {},
            ifMatchVersion(request),
          ),
        ),
    );
  }

  app.post(
    '/requests/:id/votes',
    {
      config: { access: access.roles('council') },
      schema: {
        tags: ['council'],
        summary: "Cast or change your party's council vote; the decision is taken as soon as it is certain",
        params: RequestIdParamsSchema,
        body: NewVoteSchema,
        response: { 200: RequestSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await services.council.vote(ctxOf(request), request.params.id, request.body)),
  );

  app.post(
    '/requests/:id/deadlines/:kind/complete',
    {
      config: { access: access.roles('poc') },
      schema: {
        tags,
        summary: 'Record that the affected entity filed one of its NIS2 reports, and when',
        description:
          "Meets that clock at the time the entity filed (`late` when after it was due), on any status: closing a request does not end the entity's NIS2 duties. The early warning is due 24 h and the incident notification 72 h after awareAt; recording the notification starts the final report's clock, due one calendar month after the notification was filed, on the calendar of `timeZone`. A final report before its notification is recorded is a 409; a filing time in the future, before awareAt, or a final report before its notification is a 400 naming body/filedAt.",
        params: DeadlineParamsSchema,
        body: Nis2FilingSchema,
        response: { 200: RequestSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await services.requests.completeNis2(
          ctxOf(request),
          request.params.id,
          request.params.kind,
          request.body,
        ),
      ),
  );
};
