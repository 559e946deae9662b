import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  MispFeedListSchema,
  MispFeedParamsSchema,
  MispFeedPatchSchema,
  MispFeedRunSchema,
  MispFeedSchema,
  MispManifestSchema,
  NewMispFeedSchema,
} from '@vytis/contracts';
import { Type } from 'typebox';
import { access, ctxOf } from '../../http/access.ts';
import { ifMatchVersion, sendVersioned } from '../../http/if-match.ts';
import type { Services } from '../../http/services.ts';

const EventFileParamsSchema = Type.Object(
  {
    file: Type.String({
      pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\.json$',
      description: '<event uuid>.json, as the manifest lists it',
    }),
  },
  { additionalProperties: false },
);

/**
 * The node's own MISP feed: at `/misp/feed/…` (the stable name, ../shared/api.md) and under
 * `/api/v1` as well.
 */
export const mispFeedRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const feeds = services.mispFeeds;
  const tags = ['misp'];
  const feedDescription =
    'Your own MISP feed: in MISP, Sync Actions → Feeds → Add feed, source format "MISP Feed", URL ' +
    '`<this node>/misp/feed`, and under Headers `Authorization: Bearer <your API token>`. It holds the ' +
    'MISP events of the cases you may pass on (no RED; AMBER+STRICT only your own party’s; no exercises). ' +
    'Its files are built for you one at a time: a request while another of yours is being answered gets 429.';

  app.get(
    '/misp/feed/manifest.json',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary:
          'Your MISP feed’s manifest: event uuid → info, Orgc, date, threat level, analysis, timestamp, tags',
        description: feedDescription,
        response: { 200: MispManifestSchema },
      },
    },
    async (request) => feeds.manifest(ctxOf(request)),
  );

  app.get(
    '/misp/feed/hashes.csv',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: 'Your MISP feed’s hashes.csv: `<md5 of an attribute value>,<event uuid>` a line',
        description: `${feedDescription} MISP caches these to tell which values the feed knows.`,
        response: {
          200: {
            description: 'one line per attribute value',
            content: { 'text/csv': { schema: Type.String() } },
          },
        },
      },
    },
    async (request, reply) => reply.type('text/csv; charset=utf-8').send(await feeds.hashes(ctxOf(request))),
  );

  app.get(
    '/misp/feed/:file',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: 'One event of your MISP feed, `{"Event": …}` (path: <event uuid>.json)',
        description: feedDescription,
        params: EventFileParamsSchema,
        response: {
          200: {
            description: 'the MISP event',
            content: {
              'application/json': {
                schema: Type.Object({}, { additionalProperties: true, description: '{"Event": {…}}' }),
              },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const event = await feeds.event(ctxOf(request), request.params.file.replace(/\.json$/, ''));
      return reply.type('application/json; charset=utf-8').send(Buffer.from(JSON.stringify(event)));
    },
  );
};

/** The MISP feeds this node pulls into cases. */
export const mispPulledFeedRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  const feeds = services.mispFeeds;
  const tags = ['misp'];

  app.get(
    '/misp/feeds',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: 'The MISP feeds pulled into the cases you may import into, with their last run',
        response: { 200: MispFeedListSchema },
      },
    },
    async (request) => feeds.list(ctxOf(request)),
  );

  app.post(
    '/misp/feeds',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: 'Pull a MISP feed into a case (yours to import into), every intervalMinutes, as you',
        description:
          'The URL is the feed’s directory (manifest.json and <event uuid>.json are read under it); it must be a ' +
          'public host unless the node allows private networks (the webhooks’ rule). `header` is sent with every ' +
          'request (e.g. Authorization) and never shown again. The first pull comes with the next round of the ' +
          'node’s background work, or at once with POST …/pull. Each pull fetches only events new or changed since ' +
          'the last, checks each against the manifest (and hashes.csv), and imports it as you, who must still be ' +
          'able to import into the case.',
        body: NewMispFeedSchema,
        response: { 201: MispFeedSchema },
      },
    },
    async (request, reply) => sendVersioned(reply, await feeds.create(ctxOf(request), request.body), 201),
  );

  app.get(
    '/misp/feeds/:id',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: 'One MISP feed and its last run (404 unless you may import into its case)',
        params: MispFeedParamsSchema,
        response: { 200: MispFeedSchema },
      },
    },
    async (request, reply) => sendVersioned(reply, await feeds.get(ctxOf(request), request.params.id)),
  );

  app.patch(
    '/misp/feeds/:id',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary:
          'Enable or disable a feed, or change how often it is pulled (If-Match: the version you read)',
        params: MispFeedParamsSchema,
        body: MispFeedPatchSchema,
        response: { 200: MispFeedSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await feeds.update(ctxOf(request), request.params.id, request.body, ifMatchVersion(request)),
      ),
  );

  app.delete(
    '/misp/feeds/:id',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: 'Stop pulling a feed (what it imported stays in the case)',
        params: MispFeedParamsSchema,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await feeds.remove(ctxOf(request), request.params.id, ifMatchVersion(request));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/misp/feeds/:id/pull',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary:
          'Pull a feed now; answers the run (also kept as the feed’s last result). 409 while it is being pulled',
        description:
          'One pull runs at a time on the node: while another runs, 429 (try again shortly). A run fetches at most ' +
          '5,000 events and goes on for at most 10 minutes; `left` says how many new or changed events wait for ' +
          'the next run.',
        params: MispFeedParamsSchema,
        response: { 200: MispFeedRunSchema },
      },
    },
    async (request) => feeds.pull(ctxOf(request), request.params.id),
  );
};
