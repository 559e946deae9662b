import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AsOfQuerySchema,
  FrameworkListSchema,
  FrameworkSchema,
  NewFrameworkSchema,
  PartyCodeParamsSchema,
  PartyListSchema,
  PartySchema,
  StatusChangeSchema,
} from '@vytis/contracts';
import { Type } from 'typebox';
import { access, ctxOf } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';

export const partiesRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/parties',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['parties'],
        summary: 'Parties with their status as of a day (default today, UTC) and their whole status history',
        querystring: AsOfQuerySchema,
        response: { 200: PartyListSchema },
      },
    },
    async (request) => services.parties.list(ctxOf(request), request.query),
  );

  app.get(
    '/parties/:code',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['parties'],
        summary: 'One party',
        params: PartyCodeParamsSchema,
        querystring: Type.Object({ asOf: Type.Optional(Type.String()) }, { additionalProperties: false }),
        response: { 200: PartySchema },
      },
    },
    async (request) => services.parties.get(ctxOf(request), request.params.code, request.query.asOf),
  );

  app.post(
    '/parties/:code/statuses',
    {
      config: { access: access.roles('admin') },
      schema: {
        tags: ['parties'],
        summary: 'Record a status change that takes effect on a day',
        params: PartyCodeParamsSchema,
        body: StatusChangeSchema,
        response: { 201: PartySchema },
      },
    },
    async (request, reply) => {
      const party = await services.parties.changeStatus(ctxOf(request), request.params.code, request.body);
      return reply.status(201).send(party);
    },
  );

  app.get(
    '/framework',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['framework'],
        summary: 'The rules of the mandate in force (now, or as of a date)',
        querystring: Type.Object({ asOf: Type.Optional(Type.String()) }, { additionalProperties: false }),
        response: { 200: FrameworkSchema },
      },
    },
    async (request) => services.framework.asOf(request.query.asOf),
  );

  app.get(
    '/framework/versions',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['framework'],
        summary: 'Every version of the rules, newest first',
        response: { 200: FrameworkListSchema },
      },
    },
    async () => services.framework.versions(),
  );

  app.post(
    '/framework/versions',
    {
      config: { access: access.roles('admin') },
      schema: {
        tags: ['framework'],
        summary: 'Publish a new version of the rules, effective from a time',
        body: NewFrameworkSchema,
        response: { 201: FrameworkSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await services.framework.publish(ctxOf(request), request.body)),
  );
};
