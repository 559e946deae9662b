import { type Static, Type } from 'typebox';
import { DateOnlySchema, oneOf, PartyCodeSchema, TimestampSchema, UuidSchema } from './common.ts';
import { CLEARANCES, SkillSchema } from './requests.ts';

export const AFFILIATIONS = ['military', 'civilian'] as const;
export const UNAVAILABILITY_KINDS = ['leave', 'unavailable', 'training'] as const;

export const SkillLevelSchema = Type.Object(
  { skill: SkillSchema, level: Type.Integer({ minimum: 1, maximum: 3 }) },
  { additionalProperties: false },
);

export const BaseSchema = Type.Object(
  {
    city: Type.String({ minLength: 1, maxLength: 120 }),
    country: PartyCodeSchema,
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    timeZone: Type.String({ maxLength: 64, description: 'IANA time zone, e.g. Europe/Vilnius' }),
  },
  { additionalProperties: false },
);

export const ReadinessSchema = Type.Object(
  {
    remoteHours: Type.Number({ minimum: 0, maximum: 720, description: 'hours to start remotely' }),
    onsiteHours: Type.Number({
      minimum: 0,
      maximum: 720,
      description: 'hours to be ready to travel and start on site',
    }),
  },
  { additionalProperties: false },
);

const responderFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  affiliation: oneOf(AFFILIATIONS),
  skills: Type.Array(SkillLevelSchema, { minItems: 1, maxItems: 11 }),
  languages: Type.Array(Type.String({ pattern: '^[a-z]{2}$', description: 'ISO 639-1' }), {
    minItems: 1,
    maxItems: 10,
    uniqueItems: true,
  }),
  clearance: oneOf(CLEARANCES),
  base: BaseSchema,
  readiness: ReadinessSchema,
  travelDocumentsUntil: Type.Union([DateOnlySchema, Type.Null()]),
};

export const NewResponderSchema = Type.Object(
  {
    ...responderFields,
    party: Type.Optional(PartyCodeSchema),
    travelDocumentsUntil: Type.Optional(Type.Union([DateOnlySchema, Type.Null()])),
    userId: Type.Optional(
      Type.Union([UuidSchema, Type.Null()], {
        description:
          'the user (of the same party) who is this responder: they may then open their own passes',
      }),
    ),
  },
  { additionalProperties: false },
);
export type NewResponder = Static<typeof NewResponderSchema>;

export const ResponderPatchSchema = Type.Partial(
  Type.Object(
    {
      ...responderFields,
      userId: Type.Optional(
        Type.Union([UuidSchema, Type.Null()], {
          description:
            'the user (of the same party) who is this responder: they may then open their own passes',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  {
    additionalProperties: false,
  },
);
export type ResponderPatch = Static<typeof ResponderPatchSchema>;

export const UnavailabilitySchema = Type.Object(
  {
    from: TimestampSchema,
    to: TimestampSchema,
    kind: oneOf(UNAVAILABILITY_KINDS),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type Unavailability = Static<typeof UnavailabilitySchema>;

export const AvailabilityBodySchema = Type.Object(
  { unavailability: Type.Array(UnavailabilitySchema, { maxItems: 200 }) },
  { additionalProperties: false },
);
export type AvailabilityBody = Static<typeof AvailabilityBodySchema>;

export const ResponderSchema = Type.Object({
  id: UuidSchema,
  party: PartyCodeSchema,
  ...responderFields,
  userId: Type.Union([UuidSchema, Type.Null()]),
  unavailability: Type.Array(UnavailabilitySchema),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  version: Type.Integer(),
  can: Type.Object(
    {
      edit: Type.Boolean({ description: 'PATCH /responders/:id' }),
      setAvailability: Type.Boolean({ description: 'PUT /responders/:id/availability (leave)' }),
    },
    { description: 'what the caller may do with this responder (the rule the server enforces)' },
  ),
});
export type Responder = Static<typeof ResponderSchema>;

/** What the caller may add to rosters: the parties whose responders and rotations they keep. */
export const RosterCanSchema = Type.Object({
  createFor: Type.Array(PartyCodeSchema, {
    description: 'parties the caller may register responders (and duty rotations) for',
  }),
});
export type RosterCan = Static<typeof RosterCanSchema>;

export const ResponderListSchema = Type.Object({
  items: Type.Array(ResponderSchema),
  total: Type.Integer(),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
  can: RosterCanSchema,
});
export type ResponderList = Static<typeof ResponderListSchema>;

export const ResponderListQuerySchema = Type.Object(
  {
    party: Type.Optional(PartyCodeSchema),
    skill: Type.Optional(SkillSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 300 })),
  },
  { additionalProperties: false },
);
export type ResponderListQuery = Static<typeof ResponderListQuerySchema>;
