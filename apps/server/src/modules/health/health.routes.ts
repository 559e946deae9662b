import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { access } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';
import { pendingMigrations, ping } from '../../platform/db/database.ts';

export const healthRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get('/', { config: { access: access.public }, schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vytis</title></head>' +
          '<body><h1>Vytis node</h1><p>The API reference is at <a href="/docs">/docs</a> ' +
          '(OpenAPI document: <a href="/openapi.json">/openapi.json</a>).</p></body></html>',
      ),
  );

  app.get(
    '/healthz',
    {
      config: { access: access.public },
      schema: {
        tags: ['node'],
        summary: 'Liveness',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { access: access.public },
      schema: {
        tags: ['node'],
        summary: 'Readiness: database reachable and migrations applied',
        response: {
          200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }),
        },
      },
    },
    async () => {
      try {
        await ping(services.database.db);
      } catch {
        throw new AppError('unavailable', 'database is not reachable');
      }
      const pending = await pendingMigrations(services.database.db);
      if (pending.length > 0)
        throw new AppError('unavailable', `migrations not applied: ${pending.join(', ')}`);
      return { status: 'ready' as const, database: services.database.kind };
    },
  );
};
