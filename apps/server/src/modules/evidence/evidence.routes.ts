import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  CaseItemParamsSchema,
  CaseParamsSchema,
  EvidenceListSchema,
  EvidenceSchema,
  EvidenceTransferSchema,
  EvidenceUploadQuerySchema,
} from '@vytis/contracts';
import { Type } from 'typebox';
import { access, ctxOf } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';

/**
 * Evidence of a case: upload (streamed), list, metadata with custody, download, transfer. Reads
 * are for anyone signed in, through the access policy (what you may not see is a 404); uploads and
 * transfers are for those who work on the case, checked in the service.
 */
export const evidenceRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const tags = ['evidence'];
  const evidence = services.evidence;
  const read = { access: access.anyUser };

  // The upload reads its body as a stream of any media type (a JSON file is evidence too). The
  // parser lives in its own plugin, so every other route here and elsewhere still takes JSON only.
  await app.register(async (plugin) => {
    const upload = plugin.withTypeProvider<TypeBoxTypeProvider>();
    upload.removeAllContentTypeParsers();
    upload.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    upload.post(
      '/cases/:id/evidence',
      {
        config: read,
        schema: {
          tags,
          summary: 'Add an evidence file to a case (streamed; any media type)',
          description:
            'The body is the file, byte for byte; its content type is kept and served back. `filename` is a ' +
            'label only (no `/`, `\\`, control characters, `.` or `..`); the file is stored under the ' +
            "item's id. The label defaults to the case's. The upload is the first step of the chain of custody, " +
            'with the uploader as custodian. Larger than the node allows: 413, nothing kept.',
          params: CaseParamsSchema,
          querystring: EvidenceUploadQuerySchema,
          response: { 201: EvidenceSchema },
        },
      },
      async (request, reply) => {
        const body = request.body instanceof Readable ? request.body : Readable.from([]);
        const length = request.headers['content-length'];
        try {
          const created = await evidence.upload(ctxOf(request), request.params.id, body, {
            filename: request.query.filename,
            tlp: request.query.tlp,
            note: request.query.note,
            mediaType: request.headers['content-type'],
            declaredSize: length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined,
          });
          return reply.status(201).send(created);
        } catch (error) {
          // Whatever of the body was not read stays unread: end the connection after the answer
          // rather than wait for (or swallow) the rest.
          if (!body.readableEnded) reply.header('connection', 'close');
          throw error;
        }
      },
    );
  });

  app.get(
    '/cases/:id/evidence',
    {
      config: read,
      schema: {
        tags,
        summary: 'Evidence of a case you may see, oldest first',
        params: CaseParamsSchema,
        response: { 200: EvidenceListSchema },
      },
    },
    async (request) => evidence.list(ctxOf(request), request.params.id),
  );

  app.get(
    '/cases/:id/evidence/:itemId',
    {
      config: read,
      schema: {
        tags,
        summary: 'One evidence item with its chain of custody',
        params: CaseItemParamsSchema,
        response: { 200: EvidenceSchema },
      },
    },
    async (request) => evidence.get(ctxOf(request), request.params.id, request.params.itemId),
  );

  app.get(
    '/cases/:id/evidence/:itemId/content',
    {
      config: read,
      // A HEAD would record a download that hands nothing over.
      exposeHeadRoute: false,
      schema: {
        tags,
        summary: 'Download the file (recorded in the chain of custody and audited first)',
        description:
          'Sent as an attachment with its stored content type, never rendered: `x-content-type-options: nosniff` ' +
          'and `content-security-policy: sandbox`. `etag` and `digest` carry its SHA-256. Content that no longer ' +
          'matches it (changed or missing in the store) is refused with 409 `integrity_failed` before a byte is ' +
          'sent, and audited; content that changes while it is sent is cut off rather than delivered whole. ' +
          'On PostgreSQL, an item stored before the node kept evidence in its database whose file is on another ' +
          'process is refused with 503 `unavailable` until a download through that process takes it in.',
        params: CaseItemParamsSchema,
        response: {
          200: {
            description: 'the file, byte for byte as uploaded',
            content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
          },
        },
      },
    },
    async (request, reply) => {
      const { evidence: item, stream } = await evidence.download(
        ctxOf(request),
        request.params.id,
        request.params.itemId,
      );
      const digest = Buffer.from(item.sha256, 'hex').toString('base64');
      return reply
        .header('content-type', item.mediaType)
        .header('content-length', String(item.size))
        .header('content-disposition', contentDisposition(item.filename))
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', 'sandbox')
        .header('cache-control', 'private, no-store')
        .header('etag', `"sha256-${item.sha256}"`)
        .header('digest', `sha-256=${digest}`)
        .header('repr-digest', `sha-256=:${digest}:`)
        .send(stream as unknown as string);
    },
  );

  app.post(
    '/cases/:id/evidence/:itemId/transfer',
    {
      config: read,
      schema: {
        tags,
        summary: 'Hand custody of an evidence item to someone else (for those who work on the case)',
        params: CaseItemParamsSchema,
        body: EvidenceTransferSchema,
        response: { 200: EvidenceSchema },
      },
    },
    async (request) =>
      evidence.transfer(ctxOf(request), request.params.id, request.params.itemId, request.body),
  );
};

/**
 * `attachment` with the name as RFC 6266 wants it: an ASCII stand-in for old clients, and the
 * exact name percent-encoded (RFC 5987), so no name can break out of the header or be rendered.
 */
export function contentDisposition(filename: string) {
  const fallback = filename.replace(/[^A-Za-z0-9 ._()+,@-]/g, '_');
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
