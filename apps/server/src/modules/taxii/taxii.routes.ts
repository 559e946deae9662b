import crypto from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError, invalidInput } from '../../errors.ts';
import { access, ctxOf } from '../../http/access.ts';
import { type DenialAuditor, makeErrorHandler } from '../../http/error-handler.ts';
import { depthLimitedJsonParser } from '../../http/json-body.ts';
import type { Services } from '../../http/services.ts';
import {
  API_ROOT,
  MAX_PAGE,
  type ObjectPage,
  type ObjectQuery,
  STIX_MEDIA_TYPE,
  TAXII_MEDIA_TYPE,
  TaxiiService,
} from './taxii.service.ts';

/**
 * TAXII 2.1 (OASIS, 2021) at /taxii2/: discovery, one API root (`api`), its collections, objects,
 * manifests, versions and the status of added objects. Its own media types (406 for an Accept it
 * cannot answer, 415 for a body it cannot read) and its own error message resource; HTTP Basic
 * (user name + API token) or a Bearer token. Kept out of the API document: the TAXII specification
 * is its document.
 */
export const taxiiRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  auditDenial: DenialAuditor;
  publicUrl: string | null;
  maxContentLength: number;
}> = async (app, { services, auditDenial, publicUrl, maxContentLength }) => {
  const { stix } = services;
  const taxii = new TaxiiService({
    db: services.database.db,
    clock: services.clock,
    cases: services.cases,
    stix,
  });

  app.setErrorHandler(
    makeErrorHandler(auditDenial, (response, request, reply) => {
      reply.header('content-type', TAXII_MEDIA_TYPE);
      // TAXII clients send their credentials when asked to.
      if (response.status === 401) reply.header('www-authenticate', 'Basic realm="vytis", charset="UTF-8"');
      return Buffer.from(
        JSON.stringify({
          title: TITLES[response.status] ?? 'Error',
          description: response.body.error.message,
          error_id: request.id,
          error_code: response.body.error.code,
          http_status: String(response.status),
          ...(response.body.error.details ? { details: { problems: response.body.error.details } } : {}),
        }),
      );
    }),
  );
  app.setNotFoundHandler(async (request) => {
    throw new AppError('not_found', `no TAXII endpoint ${request.method} ${request.url.split('?')[0]}`);
  });

  // Envelopes (and bundles) to add: read whole up to the advertised max_content_length, depth-limited.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/taxii+json', 'application/stix+json'],
    { parseAs: 'string', bodyLimit: maxContentLength },
    depthLimitedJsonParser(app.getDefaultJsonParser('error', 'error')),
  );
  app.addContentTypeParser('*', (_request, payload, done) => {
    payload.resume();
    done(null, undefined);
  });

  const base = (request: FastifyRequest) => publicUrl ?? `${request.protocol}://${request.host}`;
  // The media type exactly as the specification writes it (TAXII clients compare its parameters as
  // text): the body goes out as bytes, which the framework sends with the header untouched.
  const sendTaxii = (reply: FastifyReply, body: unknown, status = 200, type = TAXII_MEDIA_TYPE) =>
    reply
      .status(status)
      .header('content-type', type)
      .send(Buffer.from(JSON.stringify(body)));

  app.addHook('onRequest', async (request) => {
    const wanted = acceptable(request.headers.accept, request.routeOptions.url ?? '');
    if (!wanted) {
      throw new AppError(
        'not_acceptable',
        `this TAXII server answers ${TAXII_MEDIA_TYPE}${isObjectsUrl(request.routeOptions.url ?? '') ? ` (or ${STIX_MEDIA_TYPE})` : ''}; Accept: ${String(request.headers.accept).slice(0, 100)} names neither`,
      );
    }
  });

  const hidden = { hide: true };
  const open = { additionalProperties: true };
  const taxiiQuery = Type.Object(
    {
      added_after: Type.Optional(Type.String({ maxLength: 40 })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
      next: Type.Optional(Type.String({ maxLength: 200 })),
      'match[id]': Type.Optional(
        Type.Union([
          Type.String({ maxLength: 20_000 }),
          Type.Array(Type.String({ maxLength: 300 }), { maxItems: 100 }),
        ]),
      ),
      'match[type]': Type.Optional(
        Type.Union([
          Type.String({ maxLength: 2_000 }),
          Type.Array(Type.String({ maxLength: 250 }), { maxItems: 50 }),
        ]),
      ),
      'match[version]': Type.Optional(
        Type.Union([
          Type.String({ maxLength: 2_000 }),
          Type.Array(Type.String({ maxLength: 40 }), { maxItems: 50 }),
        ]),
      ),
      'match[spec_version]': Type.Optional(
        Type.Union([
          Type.String({ maxLength: 100 }),
          Type.Array(Type.String({ maxLength: 10 }), { maxItems: 10 }),
        ]),
      ),
    },
    { additionalProperties: false },
  );
  const collectionParams = Type.Object({ collectionId: Type.String({ maxLength: 100 }) });
  const objectParams = Type.Object({
    collectionId: Type.String({ maxLength: 100 }),
    objectId: Type.String({ maxLength: 300 }),
  });

  app.get(
    '/',
    { config: { access: access.public }, schema: { ...hidden, response: { 200: Type.Object({}, open) } } },
    async (request, reply) =>
      sendTaxii(reply, {
        title: 'Vytis',
        description:
          'TAXII 2.1 of a Vytis node: the indicators and intelligence objects of the cases you may see',
        default: `${base(request)}/taxii2/${API_ROOT}/`,
        api_roots: [`${base(request)}/taxii2/${API_ROOT}/`],
      }),
  );

  app.get(
    `/${API_ROOT}/`,
    { config: { access: access.anyUser }, schema: { ...hidden, response: { 200: Type.Object({}, open) } } },
    async (_request, reply) =>
      sendTaxii(reply, {
        title: 'Vytis cases',
        description:
          'One collection per case you may see, everything you may pass on, and the community’s CLEAR and GREEN',
        versions: [TAXII_MEDIA_TYPE],
        max_content_length: maxContentLength,
      }),
  );

  app.get(
    `/${API_ROOT}/status/:statusId/`,
    {
      config: { access: access.anyUser },
      schema: {
        ...hidden,
        params: Type.Object({ statusId: Type.String({ maxLength: 100 }) }),
        response: { 200: Type.Object({}, open) },
      },
    },
    async (request, reply) => {
      const id = request.params.statusId.toLowerCase();
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
        throw new AppError('not_found', `status ${id.slice(0, 100)} not found`);
      }
      return sendTaxii(reply, await taxii.status(ctxOf(request), id));
    },
  );

  app.get(
    `/${API_ROOT}/collections/`,
    { config: { access: access.anyUser }, schema: { ...hidden, response: { 200: Type.Object({}, open) } } },
    async (request, reply) => sendTaxii(reply, { collections: await taxii.collections(ctxOf(request)) }),
  );

  app.get(
    `/${API_ROOT}/collections/:collectionId/`,
    {
      config: { access: access.anyUser },
      schema: { ...hidden, params: collectionParams, response: { 200: Type.Object({}, open) } },
    },
    async (request, reply) =>
      sendTaxii(reply, await taxii.collection(ctxOf(request), request.params.collectionId)),
  );

  app.get(
    `/${API_ROOT}/collections/:collectionId/objects/`,
    {
      config: { access: access.anyUser },
      schema: {
        ...hidden,
        params: collectionParams,
        querystring: taxiiQuery,
        response: { 200: Type.Object({}, open) },
      },
    },
    async (request, reply) => {
      const page = await taxii.objects(ctxOf(request), request.params.collectionId, joined(request.query));
      return sendObjects(request, reply, page);
    },
  );

  app.post(
    `/${API_ROOT}/collections/:collectionId/objects/`,
    {
      config: { access: access.anyUser },
      schema: { ...hidden, params: collectionParams, response: { 202: Type.Object({}, open) } },
    },
    async (request, reply) => {
      const [sent] = mediaRanges(request.headers['content-type'] ?? '');
      const type = sent?.type ?? '';
      if (
        (type !== 'application/taxii+json' && type !== 'application/stix+json') ||
        (sent?.version !== undefined && sent.version !== '2.1')
      ) {
        throw new AppError(
          'unsupported_media_type',
          `send an envelope as ${TAXII_MEDIA_TYPE} (or a bundle as ${STIX_MEDIA_TYPE}), not ${String(request.headers['content-type'] ?? 'no content type').slice(0, 100)}`,
        );
      }
      const body = request.body as { objects?: unknown } | undefined;
      if (!body || typeof body !== 'object' || Array.isArray(body) || !Array.isArray(body.objects)) {
        throw invalidInput('the body must be an envelope: {"objects": [ …STIX objects… ]}', [
          { field: 'body/objects', message: 'must be an array of STIX objects' },
        ]);
      }
      const status = await taxii.add(ctxOf(request), request.params.collectionId, body.objects);
      return sendTaxii(reply, status, 202);
    },
  );

  app.get(
    `/${API_ROOT}/collections/:collectionId/manifest/`,
    {
      config: { access: access.anyUser },
      schema: {
        ...hidden,
        params: collectionParams,
        querystring: taxiiQuery,
        response: { 200: Type.Object({}, open) },
      },
    },
    async (request, reply) => {
      const page = await taxii.objects(ctxOf(request), request.params.collectionId, joined(request.query));
      dateHeaders(reply, page);
      return sendTaxii(reply, {
        more: page.more,
        ...(page.next ? { next: page.next } : {}),
        ...(page.items.length > 0
          ? {
              objects: page.items.map((item) => ({
                id: item.object.id,
                date_added: item.added,
                version: item.version,
                media_type: STIX_MEDIA_TYPE,
              })),
            }
          : {}),
      });
    },
  );

  app.get(
    `/${API_ROOT}/collections/:collectionId/objects/:objectId/`,
    {
      config: { access: access.anyUser },
      schema: {
        ...hidden,
        params: objectParams,
        querystring: taxiiQuery,
        response: { 200: Type.Object({}, open) },
      },
    },
    async (request, reply) => {
      const page = await taxii.object(
        ctxOf(request),
        request.params.collectionId,
        request.params.objectId,
        joined(request.query),
      );
      return sendObjects(request, reply, page);
    },
  );

  app.get(
    `/${API_ROOT}/collections/:collectionId/objects/:objectId/versions/`,
    {
      config: { access: access.anyUser },
      schema: {
        ...hidden,
        params: objectParams,
        querystring: taxiiQuery,
        response: { 200: Type.Object({}, open) },
      },
    },
    async (request, reply) => {
      const page = await taxii.object(ctxOf(request), request.params.collectionId, request.params.objectId, {
        'match[version]': 'all',
        ...joined(request.query),
      });
      dateHeaders(reply, page);
      return sendTaxii(reply, { more: page.more, versions: page.items.map((item) => item.version) });
    },
  );

  /** The objects as an envelope, or as a bundle for a client that asked for STIX. */
  function sendObjects(request: FastifyRequest, reply: FastifyReply, page: ObjectPage) {
    dateHeaders(reply, page);
    const objects = page.items.map((item) => item.object);
    if (prefersStix(request.headers.accept)) {
      // A bundle has no paging of its own: the page's end is in the headers, and `next` is not
      // offered, so a client that pages asks for the TAXII envelope.
      const bundle = {
        type: 'bundle',
        id: `bundle--${crypto.randomUUID()}`,
        ...(objects.length > 0 ? { objects } : {}),
      };
      return sendTaxii(reply, bundle, 200, STIX_MEDIA_TYPE);
    }
    return sendTaxii(reply, {
      more: page.more,
      ...(page.next ? { next: page.next } : {}),
      ...(objects.length > 0 ? { objects } : {}),
    });
  }
};

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  406: 'Not acceptable',
  413: 'Request too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Unavailable',
};

function dateHeaders(reply: FastifyReply, page: ObjectPage) {
  if (page.firstAdded) reply.header('x-taxii-date-added-first', page.firstAdded);
  if (page.lastAdded) reply.header('x-taxii-date-added-last', page.lastAdded);
}

/** Repeated filter parameters (`match[type]=a&match[type]=b`) mean what a comma-separated one does. */
function joined(query: Record<string, unknown>): ObjectQuery {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) out[key] = Array.isArray(value) ? value.join(',') : value;
  if (out.limit !== undefined) out.limit = Math.min(Number(out.limit), MAX_PAGE);
  return out as ObjectQuery;
}

const isObjectsUrl = (url: string) => url.includes('/objects/');

interface MediaRange {
  type: string;
  version: string | undefined;
}

/** The media ranges of an Accept (or Content-Type) header; a range with q=0 refuses its type. */
function mediaRanges(header: string): MediaRange[] {
  return header.split(',').flatMap((part) => {
    const [type = '', ...params] = part.split(';').map((p) => p.trim());
    const param = (name: string) => {
      const found = params.find((p) => p.toLowerCase().startsWith(`${name}=`));
      return found?.slice(name.length + 1).replace(/^"(.*)"$/, '$1');
    };
    // q=0 refuses the type; a q that is no weight (abc, -1, 2) makes the range void.
    const q = param('q');
    if (q !== undefined && (!/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(q) || Number(q) === 0)) return [];
    return [{ type: type.toLowerCase(), version: param('version') }];
  });
}

/** Whether an Accept header lets the route answer: none, any type, or its TAXII (or, for objects, STIX) type at 2.1. */
function acceptable(accept: string | undefined, url: string): boolean {
  if (!accept) return true;
  return mediaRanges(accept).some(
    ({ type, version }) =>
      type === '*/*' ||
      type === 'application/*' ||
      (type === 'application/taxii+json' && (version === undefined || version === '2.1')) ||
      (isObjectsUrl(url) && type === 'application/stix+json' && (version === undefined || version === '2.1')),
  );
}

/** Whether the client can take STIX 2.1 here but not a TAXII 2.1 envelope. */
function prefersStix(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = mediaRanges(accept).filter(({ version }) => version === undefined || version === '2.1');
  const types = ranges.map((range) => range.type);
  return (
    types.includes('application/stix+json') &&
    !types.some((type) => type === 'application/taxii+json' || type === '*/*' || type === 'application/*')
  );
}
