import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BATCH_LOOKUP_MAX_VALUES,
  BatchLookupBodySchema,
  BatchLookupResultSchema,
  SearchQuerySchema,
  SearchResultSchema,
} from '@vytis/contracts';
import { access, ctxOf } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';

/** The lookup of many values at once, and one search across what the viewer may see. */
export const searchRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const read = { access: access.anyUser };

  app.post(
    '/indicators/lookup/batch',
    {
      config: read,
      schema: {
        tags: ['indicators'],
        summary: 'Where many values are known, and what they are related to, as far as you may see',
        description:
          `Send \`values\` (at most ${BATCH_LOOKUP_MAX_VALUES}, each as typed: defanged or any case is fine) or \`text\` ` +
          '(a pasted block, split at line breaks and spaces, refanged). Each value comes back with its likely type and ' +
          'normalised form, the places you may see it in (as `/indicators/lookup`), its warning lists, and `related` ' +
          "values: a URL's host; the URLs seen on a domain or IP; the IPs a domain was seen with and the domains of an IP " +
          '(`domain|ip` observables) — each with how many places you may see it in. Real cases only unless `exercise` asks.',
        body: BatchLookupBodySchema,
        response: { 200: BatchLookupResultSchema },
      },
    },
    async (request) => services.search.batchLookup(ctxOf(request), request.body),
  );

  app.get(
    '/search',
    {
      config: read,
      schema: {
        tags: ['search'],
        summary: 'Search requests, cases, observables, tasks, notes and responders you may see',
        description:
          'Matches titles, entities, descriptions, values, task and note text, responder names, and ids; exact ' +
          'matches (an id, a value in any of its written forms, a whole title) first, then titles that start with the ' +
          'query, then the rest, newest first. Responders only for PoCs (their own party), coordinators and admins. ' +
          'What you may not see is never found.',
        querystring: SearchQuerySchema,
        response: { 200: SearchResultSchema },
      },
    },
    async (request) => services.search.search(ctxOf(request), request.query),
  );
};
