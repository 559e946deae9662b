import { type Static, Type } from 'typebox';
import { oneOf, TimestampSchema, UuidSchema } from './common.ts';
import { PapSchema, SEVERITIES, TlpSchema } from './requests.ts';

// MISP feeds: the feeds this node pulls into a case, and the node's own feed (issue 12).

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

/** A feed's name: what the CLI names it by (`vytis feed pull NAME`). */
export const MispFeedNameSchema = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  description: 'letters, digits, dot, dash and underscore, starting with a letter or digit',
});

/** An HTTP header name (RFC 9110 token). */
const HeaderNameSchema = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
});

export const NewMispFeedSchema = Type.Object(
  {
    name: MispFeedNameSchema,
    url: Type.String({
      maxLength: 2000,
      pattern: '^https?://',
      description: 'the feed’s directory: manifest.json and <event uuid>.json are read under it',
    }),
    caseId: Type.Optional(UuidSchema),
    newCase: Type.Optional(
      Type.Object(
        {
          title: Type.String({ minLength: 1, maxLength: 300 }),
          tlp: TlpSchema,
          pap: Type.Optional(PapSchema),
          severity: Type.Optional(oneOf(SEVERITIES)),
          incidentClass: Type.Optional(
            Type.String({
              maxLength: 120,
              description: 'an RSIT machine tag; default rsit:other="undetermined"',
            }),
          ),
        },
        { additionalProperties: false, description: 'open a case for the feed (instead of caseId)' },
      ),
    ),
    header: Type.Optional(
      Type.Object(
        {
          name: HeaderNameSchema,
          value: Type.String({ minLength: 1, maxLength: 4000, pattern: '^[^\\r\\n]*$' }),
        },
        {
          additionalProperties: false,
          description: 'sent with every request of the feed, e.g. Authorization; never shown again',
        },
      ),
    ),
    intervalMinutes: Type.Optional(
      Type.Integer({ minimum: 5, maximum: 10080, default: 60, description: 'how often it is pulled' }),
    ),
    enabled: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);
export type NewMispFeed = Static<typeof NewMispFeedSchema>;

export const MispFeedPatchSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    intervalMinutes: Type.Optional(Type.Integer({ minimum: 5, maximum: 10080 })),
  },
  { additionalProperties: false },
);
export type MispFeedPatch = Static<typeof MispFeedPatchSchema>;

export const MispFeedFailureSchema = Type.Object({
  uuid: Type.String({ description: 'the event’s uuid as the manifest names it' }),
  message: Type.String(),
});

export const MispFeedRunSchema = Type.Object({
  startedAt: TimestampSchema,
  durationMs: Type.Integer(),
  trigger: oneOf(['manual', 'scheduled'] as const),
  listed: Type.Integer({ description: 'events in the manifest' }),
  unchanged: Type.Integer({ description: 'events whose timestamp is the one pulled last time: not fetched' }),
  fetched: Type.Integer({ description: 'events new or changed, fetched' }),
  imported: Type.Integer({ description: 'fetched events imported (new or updated)' }),
  failed: Type.Integer({ description: 'fetched events refused: nothing of them was written' }),
  left: Type.Integer({
    description:
      'events new or changed but not fetched: left for the next run (a run fetches at most 5,000 events, for at most 10 minutes)',
  }),
  failures: Type.Array(MispFeedFailureSchema, { description: 'the first 100 refused, with why' }),
  attributesAdded: Type.Integer({ description: 'attributes and objects added to the case' }),
  observablesAdded: Type.Integer({ description: 'observables added (values Vytis looks up and correlates)' }),
  rejected: Type.Integer({ description: 'attributes and objects of imported events left out as unreadable' }),
  error: Nullable(
    Type.String({ description: 'why the run stopped early (the manifest could not be read, …)' }),
  ),
});
export type MispFeedRun = Static<typeof MispFeedRunSchema>;

export const MispFeedSchema = Type.Object({
  id: UuidSchema,
  name: Type.String(),
  url: Type.String(),
  caseId: UuidSchema,
  owner: Type.String({ description: 'the user it pulls as (who added it)' }),
  header: Nullable(Type.String({ description: 'the name of the header it sends; its value is never shown' })),
  enabled: Type.Boolean(),
  intervalMinutes: Type.Integer(),
  createdAt: TimestampSchema,
  nextPullAt: TimestampSchema,
  lastRunAt: Nullable(TimestampSchema),
  lastOkAt: Nullable(TimestampSchema),
  lastResult: Nullable(MispFeedRunSchema),
  lastError: Nullable(Type.String()),
  events: Type.Integer({ description: 'events pulled so far (by uuid)' }),
  version: Type.Integer(),
  can: Type.Object({
    pull: Type.Boolean(),
    change: Type.Boolean({ description: 'enable, disable, change the interval, remove' }),
  }),
});
export type MispFeed = Static<typeof MispFeedSchema>;

export const MispFeedListSchema = Type.Object({ items: Type.Array(MispFeedSchema) });
export type MispFeedList = Static<typeof MispFeedListSchema>;

export const MispFeedParamsSchema = Type.Object({ id: UuidSchema }, { additionalProperties: false });

/** What MISP's manifest.json says of one event (MISP writes numbers as PyMISP does: integers). */
export const MispManifestEntrySchema = Type.Object(
  {
    info: Type.String(),
    Orgc: Type.Object({ name: Type.String(), uuid: Type.String() }),
    analysis: Type.Integer(),
    threat_level_id: Type.Integer(),
    timestamp: Type.Integer(),
    date: Type.String(),
    Tag: Type.Array(Type.Object({ name: Type.String(), colour: Type.Optional(Type.String()) })),
  },
  { additionalProperties: true },
);
export const MispManifestSchema = Type.Record(Type.String(), MispManifestEntrySchema, {
  description: 'MISP feed manifest: event uuid → what MISP lists of the event',
});
