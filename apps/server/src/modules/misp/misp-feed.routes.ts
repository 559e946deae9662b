import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../../http/services.ts';

/** MISP feeds: the node's own feed, and the feeds it pulls. */
export const mispFeedRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async () => {};
