import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  FederationPeerListSchema,
  FederationPeerParamsSchema,
  FederationPeerSchema,
  NewFederationPeerSchema,
} from '@vytis/contracts';
import { access, ctxOf } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';

/** The peers this node trusts, for admins (coordinators read them too), under /api/v1. */
export const peersRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const peers = services.federation.peers;
  const tags = ['federation'];

  app.get(
    '/federation/peers',
    {
      config: { access: access.roles('admin', 'coordinator') },
      schema: {
        tags,
        summary: 'This node (party, role, URL, key id) and the peer nodes it trusts, with their pull status',
        description:
          'lag = remoteHead - cursor: how many changes of the peer’s feed wait to be applied here (null until a pull has said).',
        response: { 200: FederationPeerListSchema },
      },
    },
    async (request) => peers.list(ctxOf(request)),
  );

  app.post(
    '/federation/peers',
    {
      config: { access: access.roles('admin') },
      schema: {
        tags,
        summary: 'Trust a peer node: its descriptor must be signed by the pinned key and speak for the party',
        description:
          'The node fetches URL/federation/v1/node (private networks only when the node allows them) and adds the peer only if ' +
          'the descriptor verifies, its key’s RFC 7638 thumbprint is `pin` (agreed out of band) and it speaks for `party`, a known ' +
          'party other than this node’s. A removed peer added again is trusted under the new pin; an active one must be removed ' +
          'first. 409 when this node is not federated (VYTIS_NODE_PARTY).',
        body: NewFederationPeerSchema,
        response: { 201: FederationPeerSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await peers.add(ctxOf(request), request.body)),
  );

  app.delete(
    '/federation/peers/:party',
    {
      config: { access: access.roles('admin') },
      schema: {
        tags,
        summary: 'Stop trusting a peer: its signed calls are refused and it is no longer pulled',
        params: FederationPeerParamsSchema,
        response: { 200: FederationPeerSchema },
      },
    },
    async (request) => peers.remove(ctxOf(request), request.params.party),
  );

  app.post(
    '/federation/peers/:party/pull',
    {
      config: { access: access.roles('admin') },
      schema: {
        tags,
        summary: 'Pull a peer now; answers its status after the pull (lag, last error)',
        params: FederationPeerParamsSchema,
        response: { 200: FederationPeerSchema },
      },
    },
    async (request) => {
      const { party } = request.params;
      const status = await peers.status(party);
      if (status.status !== 'active') return status;
      // What the pull came to (applied, or why not) is in the peer's status.
      await services.federation.puller.pullOne(party);
      return peers.status(party);
    },
  );
};
