import { type Static, Type } from 'typebox';
import { PartyCodeSchema, PartyStatusSchema, TimestampSchema } from './common.ts';
import { SkillSchema } from './requests.ts';

/** What a home state allows for its own people on missions. */
export const HomeStateRestrictionSchema = Type.Object(
  {
    remoteOnly: Type.Optional(Type.Boolean({ description: 'its people work remotely only' })),
    noMilitaryTo: Type.Optional(
      Type.Array(PartyStatusSchema, { description: 'no military personnel to hosts of these statuses' }),
    ),
    maxPerMission: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100, description: 'at most this many per mission' }),
    ),
    onlySkills: Type.Optional(
      Type.Array(SkillSchema, { description: 'its people serve only with these skills' }),
    ),
  },
  { additionalProperties: false },
);
export type HomeStateRestriction = Static<typeof HomeStateRestrictionSchema>;

const hours = (description: string) => Type.Integer({ minimum: 1, maximum: 24 * 365, description });

/** The operational rules of the mandate, as data. A new version supersedes from its effective time. */
export const FrameworkRulesSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    leadParticipant: PartyCodeSchema,
    rotatingParticipants: Type.Record(Type.String({ pattern: '^\\d{4}$' }), PartyCodeSchema, {
      description: 'calendar year → rotating participant (co-chair with the lead)',
    }),
    eligibility: Type.Object(
      {
        eligible: Type.Array(PartyStatusSchema),
        unanimousCouncilRequired: Type.Array(PartyStatusSchema),
        notEligible: Type.Array(PartyStatusSchema),
      },
      { additionalProperties: false },
    ),
    council: Type.Object(
      {
        voters: Type.Array(PartyStatusSchema, { description: 'statuses whose parties vote' }),
        defaultRule: Type.Union([Type.Literal('majority'), Type.Literal('unanimity')]),
        partnerRule: Type.Union([Type.Literal('majority'), Type.Literal('unanimity')]),
      },
      { additionalProperties: false },
    ),
    clocks: Type.Object(
      {
        decisionHours: hours('council decision after submission'),
        answerHours: hours('answer to the requester after submission'),
        responseHours: hours('team response after submission'),
        postActionReportDays: Type.Integer({ minimum: 1, maximum: 365 }),
        nis2EarlyWarningHours: hours('NIS2 early warning after awareness'),
        nis2NotificationHours: hours('NIS2 incident notification after awareness'),
        nis2FinalReportMonths: Type.Integer({
          minimum: 1,
          maximum: 12,
          description:
            "NIS2 final report, in calendar months after the incident notification was filed, counted on the entity's local calendar",
        }),
      },
      { additionalProperties: false },
    ),
    deployments: Type.Object(
      {
        minTeamSize: Type.Integer({ minimum: 1, maximum: 100 }),
        maxTeamSize: Type.Integer({ minimum: 1, maximum: 100 }),
        maxPerParty: Type.Integer({ minimum: 1, maximum: 100 }),
      },
      { additionalProperties: false },
    ),
    restrictions: Type.Optional(
      Type.Record(PartyCodeSchema, HomeStateRestrictionSchema, {
        description: 'what each home state allows for its people, by party code',
      }),
    ),
  },
  { additionalProperties: false },
);
export type FrameworkRules = Static<typeof FrameworkRulesSchema>;

export const FrameworkSchema = Type.Object({
  version: Type.Integer(),
  effectiveFrom: TimestampSchema,
  note: Type.Union([Type.String(), Type.Null()]),
  createdAt: TimestampSchema,
  createdBy: Type.String(),
  rules: FrameworkRulesSchema,
});
export type Framework = Static<typeof FrameworkSchema>;

export const FrameworkListSchema = Type.Object({ items: Type.Array(FrameworkSchema) });

export const NewFrameworkSchema = Type.Object(
  {
    effectiveFrom: TimestampSchema,
    note: Type.Optional(Type.String({ maxLength: 2000 })),
    rules: FrameworkRulesSchema,
  },
  { additionalProperties: false },
);
export type NewFramework = Static<typeof NewFrameworkSchema>;
