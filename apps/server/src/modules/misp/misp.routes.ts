import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CaseParamsSchema,
  EXERCISE_SCOPES,
  MispEventListSchema,
  MispImportResultSchema,
  oneOf,
  type Tlp,
  TlpSchema,
  UuidSchema,
} from '@vytis/contracts';
import { Type } from 'typebox';
import { AppError } from '../../errors.ts';
import { access, ctxOf } from '../../http/access.ts';
import type { RequestGauge } from '../../http/request-gauge.ts';
import type { Services } from '../../http/services.ts';

const MispImportQuerySchema = Type.Object(
  {
    partial: Type.Optional(
      Type.Boolean({
        description: 'keep the good attributes and objects of a file with bad ones (else nothing is written)',
      }),
    ),
    tlp: Type.Optional(TlpSchema),
  },
  { additionalProperties: false },
);

const MispExportQuerySchema = Type.Object(
  {
    event: Type.Optional(UuidSchema),
    exercise: Type.Optional(
      oneOf(
        EXERCISE_SCOPES,
        'an exercise case is exported only when asked for: include (or only); a real case with exclude (the default) or include',
      ),
    ),
  },
  { additionalProperties: false },
);

/** MISP events in and out of a case. */
export const mispRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  requestGauge?: RequestGauge;
}> = async (app, { services, requestGauge }) => {
  const { misp } = services;

  // An event file is read as a stream by the import (received into a bounded file), never as a
  // parsed body: in this plugin only, JSON bodies are left as they come.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', (_request, payload, done) => done(null, payload));
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.post(
    '/cases/:id/misp',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['misp'],
        summary:
          'Import MISP events into the case (streamed, all-or-nothing, idempotent by uuid and timestamp)',
        description:
          'Body (`application/json`): a MISP event as MISP and PyMISP write it (`{"Event": …}`), a REST answer ' +
          '(`{"response": [...]}`) or a list of events. Every event, attribute and object is kept as received and ' +
          'given back by the export; attributes Vytis can use become observables (normalised; long free text stays ' +
          'an attribute only). TLP: the stricter of `tlp:` tags and distribution (0 AMBER+STRICT, 1 AMBER, ' +
          '2 GREEN, 3 CLEAR; a sharing group its `tlp:` tag, else AMBER; 5 inherits), never less strict than the ' +
          'event; with neither, `tlp`, else the case’s label. An event your party holds already is unchanged unless ' +
          'its `timestamp` is later, when its fields and the attributes and objects that changed are replaced. ' +
          'Without `partial=true` an unknown type, a value its type refuses or a reference to a missing uuid ' +
          'refuses the whole file (400, nothing written, `details` names each by its path).',
        params: CaseParamsSchema,
        querystring: MispImportQuerySchema,
        response: { 200: MispImportResultSchema },
      },
    },
    async (request) => {
      const mediaType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (mediaType !== 'application/json') {
        throw new AppError(
          'unsupported_media_type',
          `send the MISP event as application/json, not ${mediaType || 'no content type'}`,
        );
      }
      services.observables.refuseDeclaredOversize(request.headers['content-length']);
      return misp.importEvents(ctxOf(request), request.params.id, request.body as Readable, {
        partial: request.query.partial ?? false,
        tlp: request.query.tlp as Tlp | undefined,
        ...(requestGauge ? { othersWaiting: () => requestGauge.others() > 0 } : {}),
      });
    },
  );

  app.get(
    '/cases/:id/misp',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['misp'],
        summary:
          'The case as a MISP event: what you may pass on (no RED; AMBER+STRICT only to its own party)',
        description:
          'A case holding one MISP event gives it back as imported (uuid, info, date, threat level, analysis, Orgc, ' +
          'tags, galaxies, attributes with their tags, sightings, first and last seen, objects and references) ' +
          'with the case’s other observables added as attributes (uuid: the observable’s id; `tlp:` tag and ' +
          'distribution from its label). A case holding none or several is its own event: uuid UUIDv5 of the case, ' +
          'its title as `info`, its label and PAP as tags, every event’s attributes and objects. `event=UUID` gives ' +
          'one imported event alone. An exercise case only with `exercise=include` (tagged `vytis:exercise`). ' +
          'A reference to what you may not see is left out. A case you may see but not pass on is a 403.',
        params: CaseParamsSchema,
        querystring: MispExportQuerySchema,
        response: { 200: Type.Object({ Event: Type.Object({}, { additionalProperties: true }) }) },
      },
    },
    async (request, reply) => {
      const event = await misp.exportCase(ctxOf(request), request.params.id, {
        event: request.query.event,
        exercise: request.query.exercise,
      });
      const name = `case-${request.params.id}.misp.json`;
      // Sent as text: the event's fields are MISP's own, not this API's, and go out exactly as built.
      return reply
        .type('application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(Buffer.from(JSON.stringify(event)) as unknown as { Event: object });
    },
  );

  app.get(
    '/cases/:id/misp/events',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['misp'],
        summary: 'The MISP events of a case you may see, with their tags and galaxy clusters',
        params: CaseParamsSchema,
        response: { 200: MispEventListSchema },
      },
    },
    async (request) => misp.listEvents(ctxOf(request), request.params.id),
  );
};
