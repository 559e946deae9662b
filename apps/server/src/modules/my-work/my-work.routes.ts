import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { WorkListSchema } from '@vytis/contracts';
import { access, ctxOf } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';

export const workRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/me/work',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['work'],
        summary:
          'What waits for you: votes, releases, acceptances, tasks, clocks, reports, drafts, teams, passes',
        description:
          'Oldest deadline first, then the items without one, oldest first; at most 200 items, `total` counts them all. ' +
          'An item is listed only when the act is yours to do now (the same rules that enforce it).',
        response: { 200: WorkListSchema },
      },
    },
    async (request) => services.work.mine(ctxOf(request)),
  );
};
