import type { FastifyInstance } from 'fastify';
import type { Services } from '../../http/services.ts';
import { feedRoutes } from './feed.routes.ts';
import { nodeRoutes } from './node.routes.ts';
import { witnessRoutes } from './witness.routes.ts';

/** The node-to-node API under /federation/v1. */
export async function federationRoutes(app: FastifyInstance, { services }: { services: Services }) {
  // Not the caller's options: those carry the prefix, which the children must not add again.
  const opts = { services };
  await app.register(nodeRoutes, opts);
  await app.register(witnessRoutes, opts);
  await app.register(feedRoutes, opts);
}
