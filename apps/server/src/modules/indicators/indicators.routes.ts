import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BulkQuerySchema,
  BulkResultSchema,
  CaseItemParamsSchema,
  CaseParamsSchema,
  CorrelationListSchema,
  CorrelationQuerySchema,
  LookupQuerySchema,
  LookupResultSchema,
  NewObservableSchema,
  ObservableBulkResultSchema,
  ObservableBulkSchema,
  ObservableExportQuerySchema,
  ObservableListQuerySchema,
  ObservableListSchema,
  ObservablePatchSchema,
  ObservableSchema,
  SightingSchema,
  type Tlp,
} from '@vytis/contracts';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { access, ctxOf } from '../../http/access.ts';
import { ifMatchVersion, sendVersioned } from '../../http/if-match.ts';
import type { RequestGauge } from '../../http/request-gauge.ts';
import type { Services } from '../../http/services.ts';
import { formatOf } from './bulk-parse.ts';

const BULK_MEDIA_TYPES = ['text/csv', 'application/x-ndjson', 'application/jsonl', 'text/plain'];

/** Observables of a case, the indicator lookup, exports and bulk imports. */
export const indicatorsRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  requestGauge?: RequestGauge;
}> = async (app, { services, requestGauge }) => {
  const tags = ['indicators'];
  const observables = services.observables;
  const read = { access: access.anyUser };

  // Indicator files are read as streams by the import, not buffered as a body.
  app.addContentTypeParser(BULK_MEDIA_TYPES, (_request, payload, done) => done(null, payload));

  app.get(
    '/cases/:id/observables',
    {
      config: read,
      schema: {
        tags,
        summary: 'Observables of a case you may see, by type and value',
        params: CaseParamsSchema,
        querystring: ObservableListQuerySchema,
        response: { 200: ObservableListSchema },
      },
    },
    async (request) => observables.list(ctxOf(request), request.params.id, request.query),
  );

  app.post(
    '/cases/:id/observables',
    {
      config: read,
      schema: {
        tags,
        summary: 'Add an observable (a MISP attribute type; defanged values are refanged and normalised)',
        params: CaseParamsSchema,
        body: NewObservableSchema,
        response: { 201: ObservableSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await observables.add(ctxOf(request), request.params.id, request.body), 201),
  );

  app.post(
    '/cases/:id/observables/bulk',
    {
      config: read,
      schema: {
        tags,
        summary: 'Relabel, delete, tag or untag many observables at once (up to 1000, one transaction)',
        description:
          'Acts on the items you may change (the rule of the single writes: narrowing and removal for the case’s own party ' +
          'or the item’s, relaxing for the item’s own party) and answers for each id: `done`, `not-found` (no item you may ' +
          'see has it) or `refused` (with why). `reason` goes to the audit log, and to the timeline where every reader of the case may read it.',
        params: CaseParamsSchema,
        body: ObservableBulkSchema,
        response: { 200: ObservableBulkResultSchema },
      },
    },
    async (request) => observables.bulk(ctxOf(request), request.params.id, request.body),
  );

  app.get(
    '/cases/:id/observables/export',
    {
      config: read,
      schema: {
        tags,
        summary:
          "Export what you may pass on (no RED; AMBER+STRICT only to its own party); mine=true: what your party contributed, whatever the case's label",
        description:
          'An exercise case is exported only with `exercise=include` (else 400 naming `querystring/exercise`); ' +
          'every line says whether it comes from an exercise (`exercise` column or field), and so does the file name ' +
          '(`case-<id>-exercise.csv`). A line marked `exercise: true` is refused when imported into a real case.',
        params: CaseParamsSchema,
        querystring: ObservableExportQuerySchema,
        response: {
          200: {
            description: 'CSV (type,value,comment,tlp,toIds,exercise) or NDJSON',
            content: {
              'text/csv': { schema: Type.String() },
              'application/x-ndjson': { schema: Type.String() },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const format = request.query.format ?? 'csv';
      // A case you may not see is a 404 and an exercise not asked for a 400, before any line.
      const mine = request.query.mine ?? false;
      const { exercise, rows } = await observables.passable(
        ctxOf(request),
        request.params.id,
        request.query.exercise,
        mine,
        request.query.ids,
      );
      async function* lines() {
        if (format === 'csv') yield 'type,value,comment,tlp,toIds,exercise\n';
        for await (const o of rows) {
          yield format === 'csv'
            ? `${[o.type, o.value, o.comment, o.tlp, String(o.toIds), String(o.exercise)].map(csvField).join(',')}\n`
            : `${JSON.stringify({ type: o.type, value: o.value, comment: o.comment, tlp: o.tlp, toIds: o.toIds, exercise: o.exercise })}\n`;
        }
      }
      const from = mine ? `-from-${ctxOf(request).actor.party}` : '';
      const selected = request.query.ids ? '-selected' : '';
      const name = `case-${request.params.id}${from}${selected}${exercise ? '-exercise' : ''}.${format}`;
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(Readable.from(lines()) as unknown as string);
    },
  );

  app.get(
    '/cases/:id/observables/:itemId',
    {
      config: read,
      schema: {
        tags,
        summary: 'One observable',
        params: CaseItemParamsSchema,
        response: { 200: ObservableSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await observables.get(ctxOf(request), request.params.id, request.params.itemId)),
  );

  app.patch(
    '/cases/:id/observables/:itemId',
    {
      config: read,
      schema: {
        tags,
        summary:
          'Change an observable: anyone who works on the case may narrow its label; only its party may relax it',
        params: CaseItemParamsSchema,
        body: ObservablePatchSchema,
        response: { 200: ObservableSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await observables.update(
          ctxOf(request),
          request.params.id,
          request.params.itemId,
          request.body,
          ifMatchVersion(request),
        ),
      ),
  );

  app.post(
    '/cases/:id/observables/:itemId/sightings',
    {
      config: read,
      schema: {
        tags,
        summary: 'Report a sighting',
        params: CaseItemParamsSchema,
        body: SightingSchema,
        response: { 200: ObservableSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await observables.sighting(ctxOf(request), request.params.id, request.params.itemId, request.body),
      ),
  );

  app.get(
    '/cases/:id/observables/:itemId/correlations',
    {
      config: read,
      schema: {
        tags,
        summary: 'The same value in other cases and parties — only where you may see them',
        description:
          'Exercises stay apart: from a real case, exercises are left out unless `exercise=include` or `only` asks for them; ' +
          'from an exercise case, only exercises are searched (any other `exercise` is a 400). Each item says `exercise`. ' +
          'A value on a MISP warning list (`warnings`: a public resolver, a private address, a top domain) does not correlate: ' +
          'the answer is empty with `warninglisted: true`, unless `warninglisted=include` asks for its correlations.',
        params: CaseItemParamsSchema,
        querystring: CorrelationQuerySchema,
        response: { 200: CorrelationListSchema },
      },
    },
    async (request) =>
      observables.correlations(
        ctxOf(request),
        request.params.id,
        request.params.itemId,
        request.query.exercise,
        request.query.warninglisted,
      ),
  );

  app.get(
    '/indicators/lookup',
    {
      config: read,
      schema: {
        tags,
        summary: 'Where a value is known, as far as you may see (defanged or any case is fine)',
        description:
          'Real cases only unless exercises are asked for: `exercise=include` (both, each item marked `exercise`) or `only`. ' +
          'A value on a MISP warning list is found all the same, and flagged: `warnings` of the answer and of each item.',
        querystring: LookupQuerySchema,
        response: { 200: LookupResultSchema },
      },
    },
    async (request) => observables.lookup(ctxOf(request), request.query.value, request.query.exercise),
  );

  app.post(
    '/indicators/bulk',
    {
      config: read,
      schema: {
        tags,
        summary: 'Import an indicator file into a case (streamed, idempotent)',
        description:
          'Body: text/csv (`type,value[,comment]`), application/x-ndjson (`{"type","value","comment","tlp","toIds"}` per line) ' +
          'or text/plain (one value per line, with `type=`). Without `partial=true` a bad line rejects the whole file ' +
          '(400, nothing written, `details` names each line); with it, the good lines are imported and the bad ones counted.',
        querystring: BulkQuerySchema,
        response: { 200: BulkResultSchema },
      },
    },
    async (request) => {
      const mediaType = request.headers['content-type'] ?? '';
      const format = formatOf(mediaType);
      if (!format) {
        throw new AppError(
          'unsupported_media_type',
          `send the file as ${BULK_MEDIA_TYPES.join(', ')}, not ${mediaType || 'no content type'}`,
        );
      }
      observables.refuseDeclaredOversize(request.headers['content-length']);
      return observables.importFile(ctxOf(request), request.query.caseId, request.body as Readable, {
        format,
        type: request.query.type,
        tlp: request.query.tlp as Tlp | undefined,
        partial: request.query.partial ?? false,
        ...(requestGauge ? { othersWaiting: () => requestGauge.others() > 0 } : {}),
      });
    },
  );
};

function csvField(value: string) {
  // A leading =, +, - or @ would run as a formula in a spreadsheet: quote and prefix it.
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r']/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
