import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { access } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';
import { DEFAULT_PAGE, MAX_PAGE } from './change-feed.ts';
import { FEED_OBJECT_TYPES } from './feed-objects.ts';
import { LOOP_OBJECT_TYPES } from './loop/loop-types.ts';
import { peerOnly, requirePeerSignature } from './peer-signatures.ts';

const ChangesQuerySchema = Type.Object(
  {
    after: Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      default: 0,
      description: 'the last change sequence already applied (0: from the start)',
    }),
    limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE }),
  },
  { additionalProperties: false },
);

const FeedVersionSchema = Type.Object({
  type: Type.String({ enum: [...FEED_OBJECT_TYPES, ...LOOP_OBJECT_TYPES] }),
  id: Type.String({ format: 'uuid' }),
  origin: Type.String(),
  version: Type.Integer(),
  at: Type.String(),
  caseId: Type.Union([Type.String(), Type.Null()]),
  retracted: Type.Optional(Type.Literal(true)),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

const FeedPageSchema = Type.Object({
  party: Type.String({ description: 'the party this node speaks for' }),
  after: Type.Integer({ description: 'the cursor asked with' }),
  head: Type.Integer({ description: "the node's last change sequence" }),
  next: Type.Integer({ description: 'the cursor to ask with next: every change up to it was considered' }),
  more: Type.Boolean(),
  changes: Type.Array(FeedVersionSchema),
  keyId: Type.String({ description: "the node's key id (RFC 7638 thumbprint)" }),
  signature: Type.String({
    description:
      'Ed25519, base64url, over the RFC 8785 JSON of {purpose, party, after, head, next, keyId, count, versions}, where versions is the SHA-256 of the versions’ own RFC 8785 JSON digests joined by "."',
  }),
});

/** GET /federation/v1/changes: the calling peer's view of this node's change feed. */
export const feedRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/changes',
    {
      config: { access: access.public },
      preHandler: requirePeerSignature(services),
      schema: {
        tags: ['federation'],
        summary: 'Signed versions of the objects the calling peer’s party may see, after a cursor',
        description:
          'Called by peer nodes only, with an RFC 9421 signature under a pinned key. CLEAR and GREEN go to every peer of the community, AMBER and AMBER+STRICT to the parties a case is shared with, RED never. An object the peer was sent and may no longer see comes as a retraction.',
        querystring: ChangesQuerySchema,
        response: { 200: FeedPageSchema },
      },
    },
    async (request) => {
      const peer = request.peer;
      if (!peer) throw new AppError('unauthenticated', 'peer signature required');
      return services.federation.feed.page(peer.party, request.query.after, request.query.limit, peer.role);
    },
  );

  app.post(
    '/notify',
    {
      config: { access: access.public },
      ...peerOnly(services),
      schema: {
        tags: ['federation'],
        summary: 'A peer says its feed has new changes: this node pulls it now rather than at its next round',
        description:
          'Called by peer nodes only, signed like every call between nodes. The body says nothing but the peer’s head; what changed is only ever read from its signed feed.',
        body: Type.Object(
          { head: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ pulling: Type.Boolean() }) },
      },
    },
    async (request, reply) => {
      const peer = request.peer;
      if (!peer) throw new AppError('unauthenticated', 'peer signature required');
      reply.code(202);
      return { pulling: services.federation.puller.pullSoon(peer.party) };
    },
  );
};
