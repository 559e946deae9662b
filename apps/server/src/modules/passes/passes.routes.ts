import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { SignedRevocationListSchema } from '@vytis/contracts';
import { access } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';

export const passesRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/passes/revocations',
    {
      config: { access: access.public },
      schema: {
        tags: ['passes'],
        summary:
          'The revocation list, signed by the node key; public, so a host fetches it without an account',
        description:
          'Trust `signed` (a JWS verifiable with GET /node/keys), not the plain copy beside it. ' +
          '`vytis pass verify TOKEN --node URL` fetches and checks it; or save this response and pass it ' +
          'as `--revoked FILE`.',
        response: { 200: SignedRevocationListSchema },
      },
    },
    async (_request, reply) => {
      // A host must never act on a stale copy kept by a cache in between.
      reply.header('cache-control', 'no-cache');
      return services.passes.signedRevocationList();
    },
  );
};
