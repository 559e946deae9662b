import { type Static, Type } from 'typebox';
import { CorrelationSchema, EXERCISE_SCOPES, WarningsSchema } from './cases.ts';
import { oneOf, TimestampSchema, UuidSchema } from './common.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

/** The most values one batch lookup takes (a pasted list). */
export const BATCH_LOOKUP_MAX_VALUES = 1000;
/** As long as one value may be (a stored value's limit). */
export const BATCH_LOOKUP_MAX_VALUE_LENGTH = 2048;
/** As long as a pasted block may be. */
export const BATCH_LOOKUP_MAX_TEXT = 1_000_000;

export const BatchLookupBodySchema = Type.Object(
  {
    values: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: BATCH_LOOKUP_MAX_VALUE_LENGTH }), {
        maxItems: BATCH_LOOKUP_MAX_VALUES,
        description: `the values to look up, each as typed (defanged is fine); at most ${BATCH_LOOKUP_MAX_VALUES}`,
      }),
    ),
    text: Type.Optional(
      Type.String({
        maxLength: BATCH_LOOKUP_MAX_TEXT,
        description: `a pasted block instead of values: split at line breaks and spaces into at most ${BATCH_LOOKUP_MAX_VALUES} values`,
      }),
    ),
    exercise: Type.Optional(
      oneOf(
        EXERCISE_SCOPES,
        'exclude (the default): real cases only; include: exercises too, marked; only: exercises only',
      ),
    ),
  },
  { additionalProperties: false },
);
export type BatchLookupBody = Static<typeof BatchLookupBodySchema>;

export const VALUE_RELATIONS = ['host-of-url', 'url-on-host', 'ip-of-domain', 'domain-of-ip'] as const;
export type ValueRelation = (typeof VALUE_RELATIONS)[number];

/** A value related to the one looked up, and how many places the viewer may see it in. */
export const RelatedValueSchema = Type.Object({
  relation: oneOf(
    VALUE_RELATIONS,
    "host-of-url: the URL's domain or IP; url-on-host: a URL seen on this domain or IP; ip-of-domain: an IP the domain was seen with (domain|ip); domain-of-ip: a domain seen with this IP (domain|ip)",
  ),
  type: Type.String(),
  value: Type.String(),
  places: Type.Integer({ description: 'where it is seen, as far as you may see (at most cap + 1)' }),
  warnings: WarningsSchema,
});
export type RelatedValue = Static<typeof RelatedValueSchema>;

export const BatchLookupItemSchema = Type.Object({
  query: Type.String({ description: 'the value as sent' }),
  type: Nullable(
    Type.String({ description: 'what the value most likely is (ip-dst, domain, url, sha256…)' }),
  ),
  value: Type.String({
    description: 'its normalised form (refanged); the query, trimmed, when no type fits',
  }),
  candidates: Type.Array(Type.String(), { description: 'the normalised forms searched for' }),
  items: Type.Array(CorrelationSchema),
  overCorrelating: Type.Boolean(),
  warnings: WarningsSchema,
  related: Type.Array(RelatedValueSchema),
});
export type BatchLookupItem = Static<typeof BatchLookupItemSchema>;

export const BatchLookupResultSchema = Type.Object({
  items: Type.Array(BatchLookupItemSchema),
  cap: Type.Integer({ description: 'the most places listed per value, and related values per value' }),
  exercises: oneOf(EXERCISE_SCOPES),
});
export type BatchLookupResult = Static<typeof BatchLookupResultSchema>;

export const SEARCH_KINDS = ['request', 'case', 'observable', 'task', 'note', 'responder'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];
export const SEARCH_MAX_QUERY = 200;

export const SearchQuerySchema = Type.Object(
  {
    q: Type.String({ minLength: 1, maxLength: SEARCH_MAX_QUERY, description: 'words, an id or a value' }),
    kind: Type.Optional(oneOf(SEARCH_KINDS, 'only this kind of thing')),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
    cursor: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type SearchQuery = Static<typeof SearchQuerySchema>;

export const SearchHitSchema = Type.Object({
  kind: oneOf(SEARCH_KINDS),
  id: UuidSchema,
  title: Type.String(),
  detail: Type.String({ description: 'a few words on what was found' }),
  caseId: Nullable(UuidSchema),
  exercise: Type.Boolean(),
  at: TimestampSchema,
  match: oneOf(['exact', 'prefix', 'contains'] as const, 'how well it matched; exact first'),
});
export type SearchHit = Static<typeof SearchHitSchema>;

export const SearchResultSchema = Type.Object({
  q: Type.String(),
  items: Type.Array(SearchHitSchema),
  nextCursor: Nullable(Type.String()),
});
export type SearchResult = Static<typeof SearchResultSchema>;
