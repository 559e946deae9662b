import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AuditPageSchema,
  AuditQuerySchema,
  CheckpointListSchema,
  CheckpointSchema,
  SignedCheckpointSchema,
  VerifyResultSchema,
} from '@vytis/contracts';
import { Type } from 'typebox';
import { access, ctxOf } from '../http/access.ts';
import type { Services } from '../http/services.ts';

const auditors = access.roles('auditor', 'admin');

export const auditRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/audit',
    {
      config: { access: auditors },
      schema: {
        tags: ['audit'],
        summary: 'Page through the audit log (filters: action, actor, object, time)',
        querystring: AuditQuerySchema,
        response: { 200: AuditPageSchema },
      },
    },
    async (request) => {
      const q = request.query;
      const order = q.order ?? 'asc';
      const cursor = q.cursor === undefined ? undefined : Number(q.cursor);
      return services.audit.page(
        {
          afterSeq: order === 'asc' ? cursor : undefined,
          beforeSeq: order === 'desc' ? cursor : undefined,
          action: q.action,
          actorName: q.actor,
          objectType: q.objectType,
          objectId: q.objectId,
          since: q.since ? new Date(q.since) : undefined,
          until: q.until ? new Date(q.until) : undefined,
        },
        order,
        q.limit ?? 100,
      );
    },
  );

  app.get(
    '/audit/checkpoints',
    {
      config: { access: auditors },
      schema: {
        tags: ['audit'],
        summary: 'Signed checkpoints of the chain (size + head), newest first',
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) },
          { additionalProperties: false },
        ),
        response: { 200: CheckpointListSchema },
      },
    },
    async (request) => services.audit.checkpoints(request.query.limit),
  );

  app.get(
    '/audit/checkpoints/latest',
    {
      config: { access: access.public },
      schema: {
        tags: ['audit'],
        summary: "This node's newest signed checkpoint, with its public key: keep it to check the log later",
        description:
          'No account needed. Store the answer (e.g. append it to a file) and run `vytis audit verify --checkpoints FILE|URL`: the chain must still hold every checkpoint ever published, so a log cut or rewritten after it is caught. 404 until the node signed its first checkpoint.',
        response: { 200: SignedCheckpointSchema },
      },
    },
    async () => services.audit.latestSignedCheckpoint(),
  );

  app.post(
    '/audit/checkpoints',
    {
      config: { access: auditors },
      schema: { tags: ['audit'], summary: 'Sign a checkpoint now', response: { 201: CheckpointSchema } },
    },
    async (request, reply) => reply.status(201).send(await services.audit.requestCheckpoint(ctxOf(request))),
  );

  app.get(
    '/audit/verify',
    {
      config: { access: auditors },
      schema: {
        tags: ['audit'],
        summary: 'Verify the whole chain and every checkpoint against this node’s key',
        description:
          "Also checks the checkpoints in the node's checkpoint file (`VYTIS_DATA_DIR/audit-checkpoints.jsonl`), and flags a chain whose newest checkpoint is older than twice `VYTIS_CHECKPOINT_SECONDS`.",
        response: { 200: VerifyResultSchema },
      },
    },
    async () => services.audit.verify(),
  );

  app.get(
    '/node/keys',
    {
      config: { access: access.public },
      schema: {
        tags: ['node'],
        summary: "The node's public signing keys (JWKS)",
        response: {
          200: Type.Object({
            keys: Type.Array(
              Type.Object({
                kty: Type.String(),
                crv: Type.String(),
                x: Type.String(),
                kid: Type.String(),
                alg: Type.String(),
                use: Type.String(),
              }),
            ),
          }),
        },
      },
    },
    async () => {
      const jwk = services.key.publicKey.export({ format: 'jwk' });
      return {
        keys: [
          { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, kid: services.key.keyId, alg: 'EdDSA', use: 'sig' },
        ],
      };
    },
  );
};
