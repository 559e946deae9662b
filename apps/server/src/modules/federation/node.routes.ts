import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NodeDescriptorSchema } from '@vytis/contracts';
import { access } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';

/**
 * GET /federation/v1/node: this node's signed descriptor, public and unsigned as a call (peers
 * fetch it before they trust anything: the descriptor's own signature and the pin agreed out of
 * band are what make it trustworthy).
 */
export const nodeRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/node',
    {
      config: { access: access.public },
      schema: {
        tags: ['federation'],
        summary: "This node's signed descriptor: party, URL, role, its Ed25519 key (JWK with kid), protocol",
        description:
          'The key’s `kid` is its RFC 7638 thumbprint: the value a peer’s operators pin (`vytis peer add URL --party CODE --pin KID`). ' +
          '`signature` is Ed25519 by that key over the RFC 8785 JSON of every other field. After `vytis key rotate`, ' +
          '`rotation` carries the previous key and its signature naming the new key id, so peers that pinned the old key move on. ' +
          '404 when the node is not federated (VYTIS_NODE_PARTY unset).',
        response: { 200: NodeDescriptorSchema },
      },
    },
    async (request) => services.federation.peers.ownDescriptor(`${request.protocol}://${request.host}`),
  );
};
