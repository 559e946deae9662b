import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CreatedWebhookSchema,
  DeliveryListSchema,
  DeliveryQuerySchema,
  DeliverySchema,
  IdParamsSchema,
  NewWebhookSchema,
  WebhookListSchema,
  WebhookSchema,
} from '@vytis/contracts';
import { access, ctxOf } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';
import { MAX_WEBHOOKS_PER_PARTY } from './webhooks.service.ts';

export const webhooksRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const tags = ['webhooks'];
  const managers = access.roles('admin', 'poc');

  app.get(
    '/webhooks',
    {
      config: { access: managers },
      schema: {
        tags,
        summary: "Your party's webhooks (admins: every party's), with their count of failed deliveries",
        response: { 200: WebhookListSchema },
      },
    },
    async (request) => services.webhooks.list(ctxOf(request)),
  );

  app.post(
    '/webhooks',
    {
      config: { access: managers },
      schema: {
        tags,
        summary: `Add a webhook: request events your party may see are POSTed to it, signed with HMAC-SHA256 (header Vytis-Signature: t=…,v1=…). A party may have ${MAX_WEBHOOKS_PER_PARTY} active webhooks (409 beyond: disable one first)`,
        body: NewWebhookSchema,
        response: { 201: CreatedWebhookSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await services.webhooks.create(ctxOf(request), request.body)),
  );

  app.post(
    '/webhooks/:id/disable',
    {
      config: { access: managers },
      schema: {
        tags,
        summary: 'Stop sending to a webhook',
        params: IdParamsSchema,
        response: { 200: WebhookSchema },
      },
    },
    async (request) => services.webhooks.disable(ctxOf(request), request.params.id),
  );

  app.get(
    '/webhooks/deliveries',
    {
      config: { access: managers },
      schema: {
        tags,
        summary: 'Deliveries, newest first; `state=failed` lists the ones that gave up',
        querystring: DeliveryQuerySchema,
        response: { 200: DeliveryListSchema },
      },
    },
    async (request) => services.webhooks.deliveries(ctxOf(request), request.query),
  );

  app.post(
    '/webhooks/deliveries/:id/retry',
    {
      config: { access: managers },
      schema: {
        tags,
        summary: 'Send a failed delivery again',
        params: IdParamsSchema,
        response: { 200: DeliverySchema },
      },
    },
    async (request) => services.webhooks.retry(ctxOf(request), request.params.id),
  );
};
