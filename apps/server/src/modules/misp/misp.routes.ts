import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RequestGauge } from '../../http/request-gauge.ts';
import type { Services } from '../../http/services.ts';

/** MISP events in and out of a case. */
export const mispRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  requestGauge?: RequestGauge;
}> = async () => {};
