import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  IdParamsSchema,
  InboxPageSchema,
  InboxQuerySchema,
  MarkedReadSchema,
  MarkReadSchema,
  NotificationSettingsSchema,
  NotificationSettingsUpdateSchema,
  UserEmailSchema,
} from '@vytis/contracts';
import { access, ctxOf } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';

export const inboxRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const tags = ['notifications'];
  // The HTTP node dispatches notifications and sends their mail in the background (stopped on close).
  services.inbox.start({ publicUrl: services.federation.node.publicUrl, log: app.log });

  app.get(
    '/me/notifications',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary:
          'My notifications, newest first: the events addressed to me (a vote for my party, a release or acceptance asked of it, a decision on its request, a clock, a task, a pass) that I may see',
        querystring: InboxQuerySchema,
        response: { 200: InboxPageSchema },
      },
    },
    async (request) => services.inbox.list(ctxOf(request), request.query),
  );

  app.post(
    '/me/notifications/read',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: 'Mark my notifications read: `{ ids: [...] }` or `{ all: true }`',
        body: MarkReadSchema,
        response: { 200: MarkedReadSchema },
      },
    },
    async (request) => services.inbox.markRead(ctxOf(request), request.body),
  );

  app.get(
    '/me/notification-settings',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: 'What I get, per kind, in the app and by e-mail, and the address mail goes to',
        response: { 200: NotificationSettingsSchema },
      },
    },
    async (request) => services.inbox.settings(ctxOf(request)),
  );

  app.put(
    '/me/notification-settings',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary:
          'Choose what I get: per kind, in the app and by e-mail (kinds not sent keep their choice); `email`: my address (null: none)',
        body: NotificationSettingsUpdateSchema,
        response: { 200: NotificationSettingsSchema },
      },
    },
    async (request) => services.inbox.updateSettings(ctxOf(request), request.body),
  );

  app.put(
    '/users/:id/email',
    {
      config: { access: access.roles('admin') },
      schema: {
        tags: ['notifications', 'identity'],
        summary: "Set a user's e-mail address, where their notifications are mailed (null: none)",
        params: IdParamsSchema,
        body: UserEmailSchema,
        response: { 200: UserEmailSchema },
      },
    },
    async (request) => services.inbox.setUserEmail(ctxOf(request), request.params.id, request.body.email),
  );
};
