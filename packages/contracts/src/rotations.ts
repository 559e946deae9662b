import { type Static, Type } from 'typebox';
import { DateOnlySchema, oneOf, PartyCodeSchema, TimestampSchema, UuidSchema } from './common.ts';
import { RosterCanSchema, UNAVAILABILITY_KINDS } from './roster.ts';

/** The longest cycle a rotation may have: four weeks per shift. */
export const MAX_SHIFT_DAYS = 28;

export const NewRotationSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    party: Type.Optional(PartyCodeSchema),
    timeZone: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'IANA time zone the rotation is defined in, e.g. Europe/Vilnius',
    }),
    startsOn: Type.String({
      maxLength: 10,
      description: 'YYYY-MM-DD, a local date in timeZone: the day of the first shift',
    }),
    shiftStart: Type.String({ maxLength: 5, description: "HH:MM, local time in timeZone (e.g. '08:00')" }),
    shiftDays: Type.Integer({
      minimum: 1,
      maximum: MAX_SHIFT_DAYS,
      description: 'days from one shift start to the next (1 daily, 7 weekly)',
    }),
    shiftHours: Type.Integer({
      minimum: 1,
      maximum: 24 * MAX_SHIFT_DAYS,
      description:
        'how long a shift lasts, in elapsed hours; at most 24 × shiftDays. A rotation with 24 × shiftDays covers ' +
        'the whole cycle: each shift then ends when the next begins (23 or 25 hours on a daylight-saving day)',
    }),
    responderIds: Type.Array(UuidSchema, {
      minItems: 1,
      maxItems: 200,
      description: 'responders of the party, in the order they take the shifts',
    }),
  },
  { additionalProperties: false },
);
export type NewRotation = Static<typeof NewRotationSchema>;

const { party: _party, ...rotationFields } = NewRotationSchema.properties;
export const RotationPatchSchema = Type.Partial(
  Type.Object(rotationFields, { additionalProperties: false }),
  {
    additionalProperties: false,
    minProperties: 1,
  },
);
export type RotationPatch = Static<typeof RotationPatchSchema>;

export const RotationSchema = Type.Object({
  id: UuidSchema,
  party: PartyCodeSchema,
  name: Type.String(),
  timeZone: Type.String(),
  startsOn: DateOnlySchema,
  shiftStart: Type.String(),
  shiftDays: Type.Integer(),
  shiftHours: Type.Integer(),
  responderIds: Type.Array(UuidSchema),
  createdAt: TimestampSchema,
  createdBy: Type.String(),
  version: Type.Integer(),
  can: Type.Object(
    {
      edit: Type.Boolean({ description: 'PATCH /rotations/:id' }),
      delete: Type.Boolean({ description: 'DELETE /rotations/:id' }),
    },
    { description: 'what the caller may do with this rotation (the rule the server enforces)' },
  ),
});
export type Rotation = Static<typeof RotationSchema>;

export const RotationListSchema = Type.Object({ items: Type.Array(RotationSchema), can: RosterCanSchema });
export type RotationList = Static<typeof RotationListSchema>;

export const RotationListQuerySchema = Type.Object(
  { party: Type.Optional(PartyCodeSchema) },
  { additionalProperties: false },
);
export type RotationListQuery = Static<typeof RotationListQuerySchema>;

export const ShiftRangeQuerySchema = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'default: now' })),
    to: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'exclusive; at most 92 days after from (default: see the route)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ShiftRangeQuery = Static<typeof ShiftRangeQuerySchema>;

export const ShiftUnavailabilitySchema = Type.Object({
  kind: oneOf(UNAVAILABILITY_KINDS),
  from: TimestampSchema,
  to: TimestampSchema,
  note: Type.Optional(Type.String()),
});

export const ShiftSchema = Type.Object({
  rotationId: UuidSchema,
  rotationName: Type.String(),
  party: PartyCodeSchema,
  index: Type.Integer({ description: 'the shift number k, from 0 on the rotation’s first day' }),
  responderId: UuidSchema,
  responderName: Type.String(),
  start: TimestampSchema,
  end: TimestampSchema,
  local: Type.Object({
    timeZone: Type.String(),
    start: Type.String({ description: "local time with its offset, e.g. '2027-03-28T08:00:00+03:00'" }),
    end: Type.String(),
  }),
  unavailable: Type.Boolean({ description: 'the responder is on leave or unavailable during part of it' }),
  unavailability: Type.Array(ShiftUnavailabilitySchema),
});
export type Shift = Static<typeof ShiftSchema>;

export const ShiftListSchema = Type.Object({
  from: TimestampSchema,
  to: TimestampSchema,
  items: Type.Array(ShiftSchema),
});
export type ShiftList = Static<typeof ShiftListSchema>;

export const CALENDAR_FEED_KINDS = ['responder', 'party'] as const;
export type CalendarFeedKind = (typeof CALENDAR_FEED_KINDS)[number];

export const NewCalendarFeedSchema = Type.Object(
  {
    kind: oneOf(
      CALENDAR_FEED_KINDS,
      "responder: one responder's shifts (give responderId); party: a party's whole roster (give party)",
    ),
    responderId: Type.Optional(UuidSchema),
    party: Type.Optional(PartyCodeSchema),
    label: Type.Optional(Type.String({ maxLength: 200, description: 'to tell your feeds apart' })),
  },
  {
    additionalProperties: false,
    examples: [
      { kind: 'party', party: 'LT', label: 'phone calendar' },
      { kind: 'responder', responderId: '0b8f3c2e-1f4a-4f7e-9d59-2a4c8e3b7d10' },
    ],
  },
);
export type NewCalendarFeed = Static<typeof NewCalendarFeedSchema>;

export const CalendarFeedSchema = Type.Object({
  id: UuidSchema,
  kind: oneOf(CALENDAR_FEED_KINDS),
  responderId: Type.Union([UuidSchema, Type.Null()]),
  party: Type.Union([PartyCodeSchema, Type.Null()], { description: 'for a party feed: the party' }),
  label: Type.Union([Type.String(), Type.Null()]),
  createdAt: TimestampSchema,
  lastUsedAt: Type.Union([TimestampSchema, Type.Null()], {
    description: 'when a calendar app last fetched it (to the hour)',
  }),
  revokedAt: Type.Union([TimestampSchema, Type.Null()]),
});
export type CalendarFeed = Static<typeof CalendarFeedSchema>;

export const IssuedCalendarFeedSchema = Type.Object({
  url: Type.String({
    description:
      'the subscription URL to give a calendar app; it is the secret (shown once, only its hash is kept)',
  }),
  path: Type.String({ description: 'the same, relative to the node' }),
  token: Type.String({ description: 'the secret part of the URL' }),
  info: CalendarFeedSchema,
});
export type IssuedCalendarFeed = Static<typeof IssuedCalendarFeedSchema>;

export const CalendarFeedListSchema = Type.Object({
  items: Type.Array(CalendarFeedSchema, { description: 'live feeds first, then revoked ones; newest first' }),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as ?cursor= for the next page' }),
});
export type CalendarFeedList = Static<typeof CalendarFeedListSchema>;

/** A user holds at most this many live (unrevoked) calendar feeds. */
export const MAX_LIVE_CALENDAR_FEEDS = 50;

export const CalendarFeedListQuerySchema = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 200,
        default: 100,
        description: `feeds per page; the first page of the default size holds every live feed (at most ${MAX_LIVE_CALENDAR_FEEDS})`,
      }),
    ),
    cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
export type CalendarFeedListQuery = Static<typeof CalendarFeedListQuerySchema>;

// --- the duty officer's board: every party at once -----------------------------------------------

export const DUTY_HORIZON_DAYS = 7;

export const DutyBoardQuerySchema = Type.Object(
  {
    at: Type.Optional(
      Type.String({ format: 'date-time', description: 'the moment called "now" (default: now)' }),
    ),
    days: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 28,
        default: DUTY_HORIZON_DAYS,
        description: 'how far ahead coverage gaps are looked for',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DutyBoardQuery = Static<typeof DutyBoardQuerySchema>;

export const DutyContactSchema = Type.Object(
  {
    city: Type.Union([Type.String(), Type.Null()]),
    timeZone: Type.Union([Type.String(), Type.Null()], { description: "the responder's own zone" }),
    user: Type.Union([Type.String(), Type.Null()], {
      description: 'the Vytis user who is this responder, to reach in the app',
    }),
  },
  { description: 'how to reach the responder: what the roster holds' },
);

export const DutyShiftSchema = Type.Object({ ...ShiftSchema.properties, contact: DutyContactSchema });
export type DutyShift = Static<typeof DutyShiftSchema>;

export const CoverageGapSchema = Type.Object({
  from: TimestampSchema,
  to: TimestampSchema,
  reason: Type.Union([Type.Literal('no_shift'), Type.Literal('unavailable')], {
    description: 'no shift of any rotation, or the only people on shift are on leave / unavailable',
  }),
});
export type CoverageGap = Static<typeof CoverageGapSchema>;

export const PartyDutySchema = Type.Object({
  party: PartyCodeSchema,
  name: Type.String(),
  rotations: Type.Integer({ description: 'duty rotations the party keeps' }),
  now: Type.Array(DutyShiftSchema, { description: 'shifts under way at `at`' }),
  next: Type.Array(DutyShiftSchema, {
    description: 'per rotation, the next shift to start after `at` (the next person to call)',
  }),
  covered: Type.Boolean({ description: 'someone available is on duty at `at`' }),
  gaps: Type.Array(CoverageGapSchema, { description: 'uncovered periods in [at, until)' }),
  escalation: Type.Object({
    pocs: Type.Array(Type.Object({ id: UuidSchema, name: Type.String() }), {
      description: "the party's points of contact, to escalate to",
    }),
  }),
});
export type PartyDuty = Static<typeof PartyDutySchema>;

export const DutyBoardSchema = Type.Object({
  at: TimestampSchema,
  until: TimestampSchema,
  parties: Type.Array(PartyDutySchema, {
    description:
      'the parties whose roster the caller may see that keep responders or rotations (and the caller’s own), gaps first',
  }),
});
export type DutyBoard = Static<typeof DutyBoardSchema>;
