import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CaseParamsSchema, EXERCISE_SCOPES, oneOf } from '@vytis/contracts';
import { Type } from 'typebox';
import { access, ctxOf } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';
import { StixService } from './stix.service.ts';

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

/** STIX 2.1 out of Vytis: a case as a bundle. */
export const stixRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const stix = new StixService({
    db: services.database.db,
    cases: services.cases,
    observables: services.observables,
  });

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
          'Ids are stable across exports (UUIDv5); `modified` moves when the row changes. Observables of a type STIX ' +
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
