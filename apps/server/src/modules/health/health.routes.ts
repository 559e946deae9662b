import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { access } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';
import { webAppRoutes } from '../../http/web-app.ts';
import { pendingMigrations, ping } from '../../platform/db/database.ts';

export const healthRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  // The web app at `/`, its files, and its client routes.
  await webAppRoutes(app);

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
