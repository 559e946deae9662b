import { type Static, Type } from 'typebox';
import { LineProblemSchema } from './cases.ts';
import { TimestampSchema, UuidSchema } from './common.ts';
import { PapSchema, TlpSchema } from './requests.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const ElementCountsSchema = Type.Object({
  added: Type.Integer(),
  updated: Type.Integer({ description: 'held already, replaced by a later `timestamp`' }),
  unchanged: Type.Integer({ description: 'held already with the same or a later `timestamp`' }),
});

export const MispImportResultSchema = Type.Object({
  events: Type.Object(
    {
      read: Type.Integer({ description: 'events in the file' }),
      ...ElementCountsSchema.properties,
    },
    { description: 'the MISP events, by their uuid' },
  ),
  elements: Type.Object(ElementCountsSchema.properties, {
    description: 'attributes and objects, by their uuid',
  }),
  imported: Type.Integer({ description: 'observables added (attributes Vytis can look up and correlate)' }),
  duplicates: Type.Integer({ description: 'attribute values the case (or the file) had already' }),
  rejected: Type.Integer({ description: 'attributes and objects refused' }),
  warninglisted: Type.Integer({
    description:
      'attribute values on a warning list (known benign: public resolvers, top domains, reserved ranges…)',
  }),
  problems: Type.Array(LineProblemSchema, {
    description:
      'the first 100 refused: `line` counts attributes and objects in the file; the message starts with the path',
  }),
});
export type MispImportResult = Static<typeof MispImportResultSchema>;

export const MispTagSummarySchema = Type.Object({
  name: Type.String(),
  colour: Nullable(Type.String()),
});

export const MispClusterSummarySchema = Type.Object({
  galaxy: Type.String({ description: 'the galaxy’s name, e.g. Threat Actor' }),
  type: Type.String({ description: 'the galaxy’s type, e.g. threat-actor' }),
  value: Type.String({ description: 'the cluster, e.g. APT 28' }),
  tagName: Type.String(),
  description: Nullable(Type.String()),
});

export const MispEventSummarySchema = Type.Object({
  id: UuidSchema,
  uuid: UuidSchema,
  info: Type.String(),
  date: Nullable(Type.String({ description: 'YYYY-MM-DD' })),
  threatLevel: Nullable(Type.String({ description: 'high, medium, low or undefined' })),
  analysis: Nullable(Type.String({ description: 'initial, ongoing or completed' })),
  orgc: Nullable(Type.String({ description: 'the creator organisation’s name' })),
  timestamp: Nullable(TimestampSchema),
  tlp: TlpSchema,
  pap: Nullable(PapSchema),
  rsit: Type.Array(Type.String(), { description: 'the event’s RSIT classification tags (rsit:…)' }),
  originParty: Type.String(),
  tags: Type.Array(MispTagSummarySchema),
  galaxies: Type.Array(MispClusterSummarySchema, {
    description: 'the event’s galaxy clusters, and those of its attributes',
  }),
  attributes: Type.Integer({ description: 'attributes you may see (those of objects included)' }),
  objects: Type.Integer({ description: 'objects you may see' }),
  createdBy: Type.String(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type MispEventSummary = Static<typeof MispEventSummarySchema>;

export const MispEventListSchema = Type.Object({ items: Type.Array(MispEventSummarySchema) });
export type MispEventList = Static<typeof MispEventListSchema>;
