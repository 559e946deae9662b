import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CaseParamsSchema,
  EXERCISE_SCOPES,
  IntelListQuerySchema,
  IntelListSchema,
  IntelObjectDetailSchema,
  LookupQuerySchema,
  oneOf,
  StixImportResultSchema,
  type Tlp,
  TlpSchema,
  UuidSchema,
} from '@vytis/contracts';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { access, ctxOf } from '../../http/access.ts';
import type { RequestGauge } from '../../http/request-gauge.ts';
import type { Services } from '../../http/services.ts';

export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';

const StixExportQuerySchema = Type.Object(
  {
    exercise: Type.Optional(
      oneOf(
        EXERCISE_SCOPES,
        'an exercise case is exported only when asked for: include (or only); a real case with exclude (the default) or include',
      ),
    ),
  },
  { additionalProperties: false },
);

/**
 * Whether the caller asked for plain JSON: `Accept` names application/json and not the STIX media
 * type. Anything else (none, `*\/*`, the STIX type) gets the STIX media type.
 */
function wantsPlainJson(accept: string | undefined) {
  if (!accept) return false;
  const types = accept.split(',').map((part) => part.split(';')[0]!.trim().toLowerCase());
  return types.includes('application/json') && !types.includes('application/stix+json');
}

const StixImportQuerySchema = Type.Object(
  {
    partial: Type.Optional(
      Type.Boolean({
        description: 'keep the good objects of a bundle with bad ones (else nothing is written)',
      }),
    ),
    tlp: Type.Optional(TlpSchema),
  },
  { additionalProperties: false },
);

const IntelParamsSchema = Type.Object(
  { id: UuidSchema, objectId: UuidSchema },
  { additionalProperties: false },
);

/** The media types a bundle is sent as; either may carry parameters (`;version=2.1`). */
const BUNDLE_MEDIA_TYPES = ['application/stix+json', 'application/json'];

/** STIX 2.1 in and out of Vytis: a case as a bundle, a bundle into a case, its intelligence objects. */
export const stixRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  requestGauge?: RequestGauge;
}> = async (app, { services, requestGauge }) => {
  const { stix } = services;

  // A bundle is read as a stream by the import (received into a bounded file), never as a parsed
  // body: in this plugin only, JSON bodies are left as they come.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(BUNDLE_MEDIA_TYPES, (_request, payload, done) => done(null, payload));
  // Any other type reaches the route, which says which types to send.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.post(
    '/cases/:id/stix',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['stix'],
        summary: 'Import a STIX 2.1 bundle into the case (streamed, all-or-nothing, versioned)',
        description:
          'Body: a STIX 2.1 bundle (`application/stix+json;version=2.1` or `application/json`). Indicators whose ' +
          'pattern is a comparison (or an OR of comparisons, or the AND forms Vytis exports) become observables, as do ' +
          'cyber-observables and observed data, and a vulnerability named by its CVE; every other object ' +
          '(threat actors, malware, attack patterns, reports, relationships, sightings, notes, custom `x-` objects…) ' +
          'is kept as an intelligence object of the case, exactly as received, and exported again with the case. ' +
          'Each object takes its TLP marking (TLP 2.0 or 1.0), else `tlp`, else the case’s label; data marked ' +
          'classified is refused. An id the case holds already (from your party) is replaced by a later `modified`, ' +
          'ignored when older, and counted unchanged when the same. Without `partial=true` a bad object refuses the ' +
          'whole bundle (400, nothing written, `details` names each by index and id).',
        params: CaseParamsSchema,
        querystring: StixImportQuerySchema,
        response: { 200: StixImportResultSchema },
      },
    },
    async (request) => {
      const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!BUNDLE_MEDIA_TYPES.includes(mediaType)) {
        throw new AppError(
          'unsupported_media_type',
          `send the bundle as application/stix+json;version=2.1 (or application/json), not ${mediaType || 'no content type'}`,
        );
      }
      services.observables.refuseDeclaredOversize(request.headers['content-length']);
      return stix.importBundle(ctxOf(request), request.params.id, request.body as Readable, {
        partial: request.query.partial ?? false,
        tlp: request.query.tlp as Tlp | undefined,
        ...(requestGauge ? { othersWaiting: () => requestGauge.others() > 0 } : {}),
      });
    },
  );

  app.get(
    '/indicators/lookup/stix',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['stix'],
        summary: 'Where a value is known, as a STIX 2.1 bundle of what you may pass on',
        description:
          'The lookup’s correlations (defanged or any case is fine; exercises only when asked for) that you may pass on ' +
          '(no RED; AMBER+STRICT only your own party’s), each as its `indicator` (or `vulnerability`) with its ' +
          'cyber-observables, the parties as `identity` and the TLP and PAP marking definitions.',
        querystring: LookupQuerySchema,
        response: {
          200: {
            description: 'A STIX 2.1 bundle',
            content: {
              [STIX_MEDIA_TYPE]: { schema: Type.Object({}, { additionalProperties: true }) },
              'application/json': { schema: Type.Object({}, { additionalProperties: true }) },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const bundle = await stix.lookupBundle(ctxOf(request), request.query.value, request.query.exercise);
      return reply
        .header(
          'content-type',
          wantsPlainJson(request.headers.accept) ? 'application/json; charset=utf-8' : STIX_MEDIA_TYPE,
        )
        .send(Buffer.from(JSON.stringify(bundle)));
    },
  );

  app.get(
    '/cases/:id/intelligence',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['stix'],
        summary: 'The intelligence objects of a case you may see (from STIX bundles), oldest first',
        params: CaseParamsSchema,
        querystring: IntelListQuerySchema,
        response: { 200: IntelListSchema },
      },
    },
    async (request) => stix.listIntel(ctxOf(request), request.params.id, request.query),
  );

  app.get(
    '/cases/:id/intelligence/:objectId',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['stix'],
        summary: 'One intelligence object as received, with its relationships',
        params: IntelParamsSchema,
        response: { 200: IntelObjectDetailSchema },
      },
    },
    async (request) => stix.intelDetail(ctxOf(request), request.params.id, request.params.objectId),
  );

  app.get(
    '/cases/:id/stix',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['stix'],
        summary:
          'The case as a STIX 2.1 bundle: what you may pass on (no RED; AMBER+STRICT only to its own party)',
        description:
          'A bundle (`application/stix+json;version=2.1`, or `application/json` when `Accept` asks for it) holding: ' +
          'the case as a `grouping` (context suspicious-activity) that refers to every other object; each observable ' +
          'as an `indicator` with a STIX pattern (snort, suricata, yara and sigma rules in their own pattern type) or, ' +
          'for a CVE, a `vulnerability`; the cyber-observables, linked from their indicator by `based-on`; sightings as ' +
          '`sighting`; notes as `note`; the parties as `identity` (`created_by_ref`); and the marking definitions: ' +
          'TLP 2.0 (the OASIS extension) and TLP 1.0 on every object, the case’s PAP as a statement marking. ' +
          'Ids are stable across exports (an indicator has its observable’s UUID; the rest UUIDv5); `modified` moves when the row changes. Observables of a type STIX ' +
          'has no equivalent for (free text, names, JA3, …) are left out. ' +
          'An exercise case is exported only with `exercise=include` (else 400 naming `querystring/exercise`), and ' +
          'every object from it carries the label `exercise`. A case you may see but not pass on is a 403.',
        params: CaseParamsSchema,
        querystring: StixExportQuerySchema,
        response: {
          200: {
            description: 'A STIX 2.1 bundle',
            content: {
              [STIX_MEDIA_TYPE]: { schema: Type.Object({}, { additionalProperties: true }) },
              'application/json': { schema: Type.Object({}, { additionalProperties: true }) },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { exercise, chunks } = await stix.caseBundle(
        ctxOf(request),
        request.params.id,
        request.query.exercise,
      );
      const name = `case-${request.params.id}${exercise ? '-exercise' : ''}.stix.json`;
      return reply
        .type(wantsPlainJson(request.headers.accept) ? 'application/json; charset=utf-8' : STIX_MEDIA_TYPE)
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(Readable.from(chunks) as unknown as object);
    },
  );
};
