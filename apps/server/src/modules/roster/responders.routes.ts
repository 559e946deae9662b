import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AvailabilityBodySchema,
  IdParamsSchema,
  NewResponderSchema,
  ResponderListQuerySchema,
  ResponderListSchema,
  ResponderPatchSchema,
  ResponderSchema,
} from '@vytis/contracts';
import { access, ctxOf } from '../../http/access.ts';
import { ifMatchVersion, sendVersioned } from '../../http/if-match.ts';
import type { Services } from '../../http/services.ts';

export const respondersRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const tags = ['roster'];
  const keepers = access.roles('poc', 'admin');

  app.get(
    '/responders',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: "Responders you may see (your party's; coordinators and admins: everyone's), by name",
        querystring: ResponderListQuerySchema,
        response: { 200: ResponderListSchema },
      },
    },
    async (request) => services.responders.list(ctxOf(request), request.query),
  );

  app.post(
    '/responders',
    {
      config: { access: keepers },
      schema: {
        tags,
        summary: 'Register a responder of your party (admins: of any party)',
        body: NewResponderSchema,
        response: { 201: ResponderSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await services.responders.create(ctxOf(request), request.body), 201),
  );

  app.get(
    '/responders/:id',
    {
      config: { access: access.anyUser },
      schema: { tags, summary: 'One responder', params: IdParamsSchema, response: { 200: ResponderSchema } },
    },
    async (request, reply) =>
      sendVersioned(reply, await services.responders.get(ctxOf(request), request.params.id)),
  );

  app.patch(
    '/responders/:id',
    {
      config: { access: keepers },
      schema: {
        tags,
        summary: 'Update a responder (If-Match: the version you read)',
        params: IdParamsSchema,
        body: ResponderPatchSchema,
        response: { 200: ResponderSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await services.responders.update(
          ctxOf(request),
          request.params.id,
          request.body,
          ifMatchVersion(request),
        ),
      ),
  );

  app.put(
    '/responders/:id/availability',
    {
      config: { access: keepers },
      schema: {
        tags,
        summary: "Replace a responder's leave and unavailability periods",
        params: IdParamsSchema,
        body: AvailabilityBodySchema,
        response: { 200: ResponderSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await services.responders.setAvailability(
          ctxOf(request),
          request.params.id,
          request.body,
          ifMatchVersion(request),
        ),
      ),
  );
};
