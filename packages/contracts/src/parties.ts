import { type Static, Type } from 'typebox';
import {
  DateOnlySchema,
  PartyCodeSchema,
  PartyKindSchema,
  PartyStatusSchema,
  TimestampSchema,
} from './common.ts';

export const StatusPeriodSchema = Type.Object({
  status: PartyStatusSchema,
  from: DateOnlySchema,
  to: Type.Union([DateOnlySchema, Type.Null()], {
    description: 'first day no longer in effect; null = open',
  }),
  note: Type.Union([Type.String(), Type.Null()]),
  recordedAt: TimestampSchema,
  recordedBy: Type.String(),
});

export const PartySchema = Type.Object({
  code: PartyCodeSchema,
  name: Type.String(),
  kind: PartyKindSchema,
  status: Type.Union([PartyStatusSchema, Type.Null()], {
    description: 'status in force on asOf; null before the first',
  }),
  asOf: DateOnlySchema,
  roles: Type.Array(Type.Union([Type.Literal('lead'), Type.Literal('rotating')]), {
    description: 'mandate roles of the party in the framework in force',
  }),
  statusHistory: Type.Array(StatusPeriodSchema),
});
export type Party = Static<typeof PartySchema>;

export const PartyListSchema = Type.Object({ items: Type.Array(PartySchema), asOf: DateOnlySchema });

export const AsOfQuerySchema = Type.Object(
  {
    asOf: Type.Optional(
      Type.String({ description: 'a date (YYYY-MM-DD) or timestamp; the status in force that UTC day' }),
    ),
    status: Type.Optional(PartyStatusSchema),
  },
  { additionalProperties: false },
);

export const StatusChangeSchema = Type.Object(
  {
    status: PartyStatusSchema,
    from: Type.Optional(
      Type.String({
        ...DateOnlySchema,
        description:
          'YYYY-MM-DD (UTC): the first day the status is in force, as `from` in statusHistory. Required (or its former name effectiveFrom)',
      }),
    ),
    effectiveFrom: Type.Optional(
      Type.String({
        ...DateOnlySchema,
        deprecated: true,
        description: 'the former name of `from`, still accepted; send one of the two',
      }),
    ),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  {
    additionalProperties: false,
    examples: [{ status: 'observer', from: '2027-01-01', note: 'accession to observer status' }],
  },
);
export type StatusChange = Static<typeof StatusChangeSchema>;

export const PartyCodeParamsSchema = Type.Object({ code: Type.String() }, { additionalProperties: false });
