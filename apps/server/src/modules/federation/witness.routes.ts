import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CheckpointsAnswerSchema,
  CheckpointsQuerySchema,
  ConsistencyAnswerSchema,
  ConsistencyQuerySchema,
  CosignaturesAnswerSchema,
  CosignaturesQuerySchema,
} from '../../audit/audit.witness-api.ts';
import { access } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';

/**
 * Witnessed audit, under /federation/v1. Public: they give hashes and signatures only, never an
 * event, and a witness checks every answer itself (signatures with the node's pinned key, proofs
 * against roots it holds), so there is nothing to gain from hiding them.
 */
export const witnessRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const witness = () => services.federation.witness;

  app.get(
    '/checkpoints',
    {
      config: { access: access.public },
      schema: {
        tags: ['federation'],
        summary:
          "The node's signed audit checkpoints (with the Merkle tree head) and the cosignatures peers gave them",
        description:
          'Newest first; `nextCursor` is the `before` of the next page. A checkpoint signs {"head","keyId","root","signedAt","size"}; a cosignature is a peer’s Ed25519 signature over {"cosignedAt","root","size","subject","subjectKeyId","type":"vytis-audit-cosignature/1","witness"}.',
        querystring: CheckpointsQuerySchema,
        response: { 200: CheckpointsAnswerSchema },
      },
    },
    async (request) => witness().checkpoints(request.query),
  );

  app.get(
    '/consistency',
    {
      config: { access: access.public },
      schema: {
        tags: ['federation'],
        summary: 'RFC 9162 consistency proof between two sizes of the audit log',
        description:
          'The hashes a witness needs to check that the log of `second` events extends the log of `first` events (RFC 9162 §2.1.4), without seeing any event. 1 ≤ first ≤ second ≤ the log’s size.',
        querystring: ConsistencyQuerySchema,
        response: { 200: ConsistencyAnswerSchema },
      },
    },
    async (request) => witness().consistency(request.query.first, request.query.second),
  );

  app.get(
    '/cosignatures',
    {
      config: { access: access.public },
      schema: {
        tags: ['federation'],
        summary: "The cosignatures this node gave a party's audit checkpoints, in size order",
        description:
          'So that witnesses compare what each of them was shown: one size of one party with two roots is a fork of that party’s log. `after` skips sizes up to it.',
        querystring: CosignaturesQuerySchema,
        response: { 200: CosignaturesAnswerSchema },
      },
    },
    async (request) => witness().cosignatures(request.query),
  );
};
