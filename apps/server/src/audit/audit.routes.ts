import { pipeline, Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AuditActionListSchema,
  AuditExportQuerySchema,
  AuditPageSchema,
  AuditQuerySchema,
  CheckpointListSchema,
  CheckpointSchema,
  SignedCheckpointSchema,
  VerifyResultSchema,
} from '@vytis/contracts';
import { stringify } from 'csv-stringify';
import { Type } from 'typebox';
import type { Ctx } from '../context.ts';
import { access, ctxOf } from '../http/access.ts';
import type { Services } from '../http/services.ts';
import { caseViewerOf } from '../modules/cases/case-viewer.ts';
import { verifySignature } from '../platform/keys.ts';
import { checkpointPayload } from './audit.chain.ts';
import { describeEvent, type PresentedEvent } from './audit.presenters.ts';
import * as repo from './audit.repository.ts';

const auditors = access.roles('auditor', 'admin');

/** The filters the log and its export share, from their query strings. */
const filterOf = (q: {
  action?: string | undefined;
  actor?: string | undefined;
  objectType?: string | undefined;
  objectId?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}): repo.EventFilter => ({
  action: q.action,
  actorName: q.actor,
  objectType: q.objectType,
  objectId: q.objectId,
  since: q.since ? new Date(q.since) : undefined,
  until: q.until ? new Date(q.until) : undefined,
});

const EXPORT_PAGE = 1000;
const CSV_COLUMNS = [
  'seq',
  'at',
  'actor',
  'actor_party',
  'action',
  'object_type',
  'object_id',
  'text',
  'summary',
  'request_id',
  'prev_hash',
  'hash',
] as const;

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
      const page = await services.audit.page(
        {
          ...filterOf(q),
          afterSeq: order === 'asc' ? cursor : undefined,
          beforeSeq: order === 'desc' ? cursor : undefined,
        },
        order,
        q.limit ?? 100,
      );
      return { ...page, items: await described(ctxOf(request), page.items) };
    },
  );

  app.get(
    '/audit/actions',
    {
      config: { access: auditors },
      schema: {
        tags: ['audit'],
        summary: 'Every action the audit log holds, with its number of events (to filter by)',
        response: { 200: AuditActionListSchema },
      },
    },
    async () => ({ items: await repo.actionCounts(services.database.db) }),
  );

  app.get(
    '/audit/export',
    {
      config: { access: auditors },
      schema: {
        tags: ['audit'],
        summary: 'Export the events the filters select, oldest first, as CSV or NDJSON (streamed)',
        description:
          'The same filters as GET /audit. At most `limit` events (default 10 000, at most 100 000): a longer range is ' +
          'exported in parts (narrow since/until, or continue after the last `seq`). CSV has a header row; `summary` is ' +
          'the event summary as JSON, `text` the same in words.',
        querystring: AuditExportQuerySchema,
        response: {
          200: {
            description: 'the events',
            content: {
              'text/csv': { schema: Type.String() },
              'application/x-ndjson': { schema: Type.String() },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const events = exported(ctxOf(request), filterOf(q), q.limit ?? 10_000);
      const stamp = services.clock.now().toISOString().replace(/[:.]/g, '-');
      reply
        .header('cache-control', 'private, no-store')
        .header('content-disposition', `attachment; filename="audit-${stamp}.${q.format}"`);
      if (q.format === 'ndjson') {
        async function* lines() {
          for await (const e of events) yield `${JSON.stringify(e)}\n`;
        }
        return reply
          .type('application/x-ndjson; charset=utf-8')
          .send(Readable.from(lines()) as unknown as string);
      }
      async function* rows() {
        for await (const e of events) {
          yield {
            seq: e.seq,
            at: e.at,
            actor: e.actor.name,
            actor_party: e.actor.party ?? '',
            action: e.action,
            object_type: e.object.type,
            object_id: e.object.id ?? '',
            text: e.text,
            summary: JSON.stringify(e.summary),
            request_id: e.requestId ?? '',
            prev_hash: e.prevHash,
            hash: e.hash,
          };
        }
      }
      // pipeline, not pipe: a failure while reading ends the response instead of leaving it hanging.
      const csv = stringify({ header: true, columns: [...CSV_COLUMNS] });
      pipeline(Readable.from(rows()), csv, (error) => {
        if (error) request.log.error({ err: error }, 'audit export failed part way');
      });
      return reply.type('text/csv; charset=utf-8').send(csv as unknown as string);
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
    async (request) => {
      const { items } = await services.audit.checkpoints(request.query.limit);
      return { items: items.map((c) => ({ ...c, signatureStatus: signatureStatus(c) })) };
    },
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

  /**
   * Events with their summaries in words, naming their objects by title — only the titles the
   * reader may see under the one policy (an auditor's role widens nothing): others by their id.
   */
  async function described<E extends PresentedEvent>(ctx: Ctx, events: E[]) {
    const titles = await repo.objectTitles(
      services.database.db,
      events.map((e) => e.object),
      {
        actor: ctx.actor,
        requests: await services.requests.viewer(ctx),
        cases: caseViewerOf(services.clock, ctx),
      },
    );
    return events.map((e) => ({ ...e, text: describeEvent(e, titles) }));
  }

  /** The events of an export, a page at a time, so a long one is never held in memory at once. */
  async function* exported(ctx: Ctx, filter: repo.EventFilter, max: number) {
    let after: number | undefined;
    let sent = 0;
    while (sent < max) {
      const page = await services.audit.page(
        { ...filter, afterSeq: after },
        'asc',
        Math.min(EXPORT_PAGE, max - sent),
      );
      yield* await described(ctx, page.items);
      sent += page.items.length;
      if (page.nextCursor === null || page.items.length === 0) return;
      after = Number(page.nextCursor);
    }
  }

  /** Whether a listed checkpoint's signature holds under the node's key. */
  function signatureStatus(c: {
    size: number;
    head: string;
    root: string | null;
    signedAt: string;
    keyId: string;
    signature: string;
  }) {
    if (c.keyId !== services.key.keyId) return 'other_key' as const;
    const payload = checkpointPayload(c.size, c.head, new Date(c.signedAt), c.keyId, c.root);
    return verifySignature(services.key.publicKey, payload, c.signature)
      ? ('valid' as const)
      : ('invalid' as const);
  }

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
