import { type Static, Type } from 'typebox';
import { oneOf, PartyCodeSchema, PartyStatusSchema, TimestampSchema, UuidSchema } from './common.ts';
import { CopyFieldsSchema } from './federation.ts';

export const SKILLS = [
  'incident-coordination',
  'digital-forensics',
  'malware-analysis',
  'network-forensics',
  'threat-intelligence',
  'ot-ics',
  'cloud-security',
  'vulnerability-assessment',
  'penetration-testing',
  'legal',
  'crisis-communication',
] as const;
export type Skill = (typeof SKILLS)[number];
export const SkillSchema = oneOf(SKILLS);

export const TLPS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
export type Tlp = (typeof TLPS)[number];
export const TlpSchema = oneOf(TLPS, 'Traffic Light Protocol 2.0 label');

export const PAPS = ['clear', 'green', 'amber', 'red'] as const;
export type Pap = (typeof PAPS)[number];
export const PapSchema = oneOf(PAPS, 'Permissible Actions Protocol label');

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const MODES = ['remote', 'onsite', 'hybrid'] as const;
export const CLEARANCES = ['none', 'restricted', 'confidential', 'secret'] as const;
export type Clearance = (typeof CLEARANCES)[number];

/** NIS2 (Directive (EU) 2022/2555) Annex I and II sectors. */
export const SECTORS = [
  'energy',
  'transport',
  'banking',
  'financial-market-infrastructure',
  'health',
  'drinking-water',
  'waste-water',
  'digital-infrastructure',
  'ict-service-management',
  'public-administration',
  'space',
  'postal-and-courier',
  'waste-management',
  'chemicals',
  'food',
  'manufacturing',
  'digital-providers',
  'research',
  'other',
] as const;

export const LEGAL_INSTRUMENTS = ['crrt-mou', 'cyber-solidarity-act', 'bilateral', 'other'] as const;
export const IMPACT_LEVELS = ['minor', 'significant', 'severe'] as const;
export const SPREAD_RISKS = ['none', 'possible', 'likely'] as const;

export const REQUEST_STATUSES = [
  'draft',
  'submitted',
  'voting',
  'activated',
  'partially_activated',
  'declined',
  'assembling',
  'deployed',
  'stood_down',
  'reported',
  'closed',
  'withdrawn',
  'ineligible',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export const RequestStatusSchema = oneOf(REQUEST_STATUSES);

export const VOTES = ['activate', 'partial', 'decline', 'abstain'] as const;
export type VoteChoice = (typeof VOTES)[number];

export const DEADLINE_KINDS = [
  'decision',
  'answer',
  'response',
  'post_action_report',
  'nis2_early_warning',
  'nis2_notification',
  'nis2_final_report',
] as const;
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];
export const DEADLINE_STATES = ['running', 'warned', 'overdue', 'met', 'cancelled'] as const;
export type DeadlineState = (typeof DEADLINE_STATES)[number];

const text = (maxLength: number, description?: string) =>
  Type.String({ maxLength, ...(description ? { description } : {}) });
const IsoLanguageSchema = Type.String({ pattern: '^[a-z]{2}$', description: 'ISO 639-1 code' });

export const NeedSchema = Type.Object(
  {
    skill: SkillSchema,
    count: Type.Integer({ minimum: 1, maximum: 50 }),
    minLevel: Type.Integer({ minimum: 1, maximum: 3 }),
  },
  { additionalProperties: false },
);

const requestFields = {
  title: Type.String({ minLength: 1, maxLength: 200 }),
  affectedEntity: Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 200 }),
      sector: oneOf(SECTORS, 'NIS2 sector'),
      essential: Type.Boolean({ description: 'an essential entity under NIS2 (else important or other)' }),
    },
    { additionalProperties: false },
  ),
  incidentClass: Type.String({
    maxLength: 120,
    description: 'an RSIT machine tag, e.g. rsit:malicious-code="infected-system"',
  }),
  severity: oneOf(SEVERITIES),
  tlp: TlpSchema,
  pap: PapSchema,
  mode: oneOf(MODES),
  location: Type.Object(
    {
      country: PartyCodeSchema,
      city: Type.Optional(Type.String({ maxLength: 120 })),
      lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
      lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
    },
    {
      additionalProperties: false,
      description: 'where on-site help goes; without lat/lon, the capital of country',
    },
  ),
  needs: Type.Array(NeedSchema, { minItems: 1, maxItems: 20 }),
  languages: Type.Array(IsoLanguageSchema, { maxItems: 10, uniqueItems: true }),
  clearance: oneOf(CLEARANCES),
  window: Type.Object(
    { from: TimestampSchema, to: TimestampSchema },
    { additionalProperties: false, description: 'the mission window, UTC' },
  ),
  awareAt: Type.String({
    format: 'date-time',
    description: 'when the affected entity became aware of the incident; the NIS2 clocks start here',
  }),
  impact: text(5000, 'likely impact'),
  impactLevel: oneOf(IMPACT_LEVELS, 'likely impact, in one word'),
  crossBorder: Type.Object(
    {
      risk: oneOf(SPREAD_RISKS, 'risk of spreading to other states'),
      countries: Type.Optional(Type.Array(PartyCodeSchema, { maxItems: 40, uniqueItems: true })),
    },
    { additionalProperties: false },
  ),
  helpNeeded: text(5000, 'what help is needed, and for what'),
  measuresTaken: text(5000, 'what was already done to limit the damage'),
  otherHelp: text(5000, 'other help available: contracts, insurance, other teams'),
  legalInstrument: oneOf(LEGAL_INSTRUMENTS),
  exercise: Type.Boolean({ description: 'an exercise: same flow, marked everywhere, not in real figures' }),
};

const {
  impact,
  impactLevel,
  crossBorder,
  helpNeeded,
  measuresTaken,
  otherHelp,
  legalInstrument,
  exercise,
  languages,
  ...required
} = requestFields;

export const NewRequestSchema = Type.Object(
  {
    ...required,
    languages: Type.Optional(languages),
    impact: Type.Optional(impact),
    impactLevel: Type.Optional(impactLevel),
    crossBorder: Type.Optional(crossBorder),
    helpNeeded: Type.Optional(helpNeeded),
    measuresTaken: Type.Optional(measuresTaken),
    otherHelp: Type.Optional(otherHelp),
    legalInstrument: Type.Optional(legalInstrument),
    exercise: Type.Optional(exercise),
  },
  { additionalProperties: false },
);
export type NewRequest = Static<typeof NewRequestSchema>;

/** A draft edit: any subset of the fields. */
export const RequestPatchSchema = Type.Partial(Type.Object(requestFields, { additionalProperties: false }), {
  additionalProperties: false,
});
export type RequestPatch = Static<typeof RequestPatchSchema>;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const EligibilitySchema = Type.Object({
  eligible: Type.Boolean(),
  requires: Type.Union([Type.Literal('majority'), Type.Literal('unanimity'), Type.Null()], {
    description: 'the council rule that applies, when eligible',
  }),
  partyStatus: Nullable(PartyStatusSchema),
  day: Type.String({ description: 'the UTC day the status was read on' }),
  frameworkVersion: Type.Integer(),
  reasons: Type.Array(Type.String()),
});
export type Eligibility = Static<typeof EligibilitySchema>;

export const PrioritySchema = Type.Object({
  score: Type.Integer({ minimum: 0, maximum: 100 }),
  reasons: Type.Array(
    Type.Object({ criterion: Type.String(), points: Type.Integer(), reason: Type.String() }),
  ),
});
export type Priority = Static<typeof PrioritySchema>;

export const DeadlineSchema = Type.Object({
  kind: oneOf(DEADLINE_KINDS),
  dueAt: TimestampSchema,
  warnAt: TimestampSchema,
  state: oneOf(DEADLINE_STATES),
  warnedAt: Nullable(TimestampSchema),
  escalatedAt: Nullable(TimestampSchema),
  metAt: Nullable(
    Type.String({
      ...TimestampSchema,
      description: "when it was met; for the entity's NIS2 reports, when the entity filed the report",
    }),
  ),
  late: Type.Boolean({ description: 'met after it was due' }),
});
export type Deadline = Static<typeof DeadlineSchema>;

export const VoteSchema = Type.Object({
  party: PartyCodeSchema,
  vote: oneOf(VOTES),
  comment: Nullable(Type.String()),
  castBy: Type.String(),
  castAt: TimestampSchema,
});
export type Vote = Static<typeof VoteSchema>;

export const DecisionSchema = Type.Object({
  outcome: Type.Union([
    Type.Literal('activated'),
    Type.Literal('partially_activated'),
    Type.Literal('declined'),
  ]),
  rule: Type.Union([Type.Literal('majority'), Type.Literal('unanimity')]),
  decidedAt: TimestampSchema,
  closedEarly: Type.Boolean({ description: 'decided before the deadline because the outcome was certain' }),
  tally: Type.Object({
    activate: Type.Integer(),
    partial: Type.Integer(),
    decline: Type.Integer(),
    abstain: Type.Integer(),
    notVoted: Type.Array(PartyCodeSchema),
  }),
  reason: Type.String(),
});
export type Decision = Static<typeof DecisionSchema>;

export const PostActionReportSchema = Type.Object({
  summary: Type.String(),
  lessonsLearned: Type.Optional(Type.String()),
  reportedAt: TimestampSchema,
  reportedBy: Type.String(),
});
export type PostActionReport = Static<typeof PostActionReportSchema>;

export const TimelineEntrySchema = Type.Object({
  at: TimestampSchema,
  kind: Type.String({ description: 'e.g. created, submitted, voting, vote, decision, deadline.warning' }),
  actor: Type.String(),
  party: Nullable(Type.String()),
  fromStatus: Nullable(RequestStatusSchema),
  toStatus: Nullable(RequestStatusSchema),
  detail: Type.Record(Type.String(), Type.Unknown()),
});

const may = (description: string) => Type.Boolean({ description });

/**
 * What the caller may do to the request now, computed by the code that enforces it
 * (apps/server/src/modules/requests/permissions.ts): an act offered here succeeds unless the
 * request changed meanwhile (412/409) or its body is wrong (400). Clients show actions from this only.
 */
export const RequestCanSchema = Type.Object(
  {
    edit: may('edit the draft (PATCH): a PoC of the requesting party, while it is a draft'),
    submit: may(
      'submit the draft (POST …/submit): a PoC of the requesting party, the draft complete (missingForSubmission empty) and its mission window not over',
    ),
    withdraw: may(
      'withdraw it (POST …/withdraw, a reason required): a PoC of the requesting party, before the team is deployed',
    ),
    vote: may(
      "cast or change the caller's party's council vote (POST …/votes): a council member of a party of the electorate, while the vote is open",
    ),
    proposeTeam: may(
      'propose (and adopt) a team (POST …/team-proposals): a coordinator, once the council activated it and until the team deploys',
    ),
    assemble: may('move it to assembling (POST …/assemble): a coordinator, once activated'),
    deploy: may(
      'mark the team deployed (POST …/deploy): a coordinator, while assembling; the move also needs a team the host accepted, and the acceptance (on the deployment) deploys the request itself, so clients offer the acceptance instead',
    ),
    standDown: may(
      "stand the mission down (POST …/stand-down): a coordinator or the requesting party's PoC, while deployed",
    ),
    report: may('file the post-action report (POST …/report): a coordinator, once stood down'),
    close: may('close it (POST …/close): a coordinator, once reported, declined, ineligible or withdrawn'),
    fileNis2: may(
      'record that the entity filed a NIS2 report (POST …/deadlines/{kind}/complete): a PoC of the requesting party, while one of the NIS2 clocks runs (each running NIS2 clock of deadlines may be recorded)',
    ),
    openCase: may(
      'open a case working this request (POST /cases with requestId): an analyst, responder, coordinator or PoC of a party',
    ),
    editReport: may(
      'write the post-action report (PUT …/post-action-report): a coordinator, from the activation until the report is submitted',
    ),
    readNis2: may(
      "read and write the affected entity's NIS2 reports (GET …/nis2): a PoC of the requesting party, once submitted",
    ),
  },
  { additionalProperties: false },
);
export type RequestCan = Static<typeof RequestCanSchema>;

export const RequestSchema = Type.Object({
  id: UuidSchema,
  party: PartyCodeSchema,
  status: RequestStatusSchema,
  version: Type.Integer(),
  exercise: Type.Boolean(),
  ...requiredWithOptionalOut(),
  createdAt: TimestampSchema,
  createdBy: Type.String(),
  submittedAt: Nullable(TimestampSchema),
  updatedAt: TimestampSchema,
  eligibility: Nullable(EligibilitySchema),
  priority: PrioritySchema,
  council: Nullable(
    Type.Object({
      electorate: Type.Array(PartyCodeSchema),
      rule: Type.Union([Type.Literal('majority'), Type.Literal('unanimity')]),
      opensAt: TimestampSchema,
      closesAt: TimestampSchema,
    }),
  ),
  votes: Type.Array(VoteSchema),
  decision: Nullable(DecisionSchema),
  report: Nullable(PostActionReportSchema),
  deadlines: Type.Array(DeadlineSchema),
  missingForSubmission: Type.Array(Type.Object({ field: Type.String(), message: Type.String() }), {
    description:
      "a draft's fields that the Cyber Solidarity Act's template still needs (the body paths a PATCH fills): submitting is refused with these same problems until this is empty; always empty once submitted",
  }),
  ...CopyFieldsSchema,
  can: RequestCanSchema,
});
export type AssistanceRequest = Static<typeof RequestSchema>;

function requiredWithOptionalOut() {
  return {
    ...required,
    languages,
    impact: Nullable(impact),
    impactLevel: Nullable(impactLevel),
    crossBorder: Nullable(crossBorder),
    helpNeeded: Nullable(helpNeeded),
    measuresTaken: Nullable(measuresTaken),
    otherHelp: Nullable(otherHelp),
    legalInstrument,
  };
}

export const RequestSummarySchema = Type.Object({
  id: UuidSchema,
  party: PartyCodeSchema,
  title: Type.String(),
  status: RequestStatusSchema,
  exercise: Type.Boolean(),
  severity: oneOf(SEVERITIES),
  tlp: TlpSchema,
  incidentClass: Type.String(),
  priority: Type.Integer(),
  createdAt: TimestampSchema,
  submittedAt: Nullable(TimestampSchema),
  nextDeadline: Nullable(Type.Object({ kind: oneOf(DEADLINE_KINDS), dueAt: TimestampSchema })),
  version: Type.Integer(),
  mirroredFrom: CopyFieldsSchema.mirroredFrom,
  can: RequestCanSchema,
});
export type RequestSummary = Static<typeof RequestSummarySchema>;

export const RequestListSchema = Type.Object({
  items: Type.Array(RequestSummarySchema),
  total: Type.Integer({ description: 'how many match the filters (that you may see)' }),
  nextCursor: Nullable(Type.String()),
});
export type RequestList = Static<typeof RequestListSchema>;

export const RequestListQuerySchema = Type.Object(
  {
    status: Type.Optional(Type.Array(RequestStatusSchema, { maxItems: REQUEST_STATUSES.length })),
    party: Type.Optional(PartyCodeSchema),
    exercise: Type.Optional(Type.Boolean()),
    severity: Type.Optional(oneOf(SEVERITIES)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 300 })),
  },
  { additionalProperties: false },
);
export type RequestListQuery = Static<typeof RequestListQuerySchema>;

export const RequestStatsSchema = Type.Object({
  real: Type.Object({
    total: Type.Integer(),
    byStatus: Type.Record(Type.String(), Type.Integer()),
    overdueDeadlines: Type.Integer(),
  }),
  exercise: Type.Object({
    total: Type.Integer(),
    byStatus: Type.Record(Type.String(), Type.Integer()),
    overdueDeadlines: Type.Integer(),
  }),
});
export type RequestStats = Static<typeof RequestStatsSchema>;

export const RequestTimelineSchema = Type.Object({ items: Type.Array(TimelineEntrySchema) });
export type RequestTimeline = Static<typeof RequestTimelineSchema>;
export type TimelineEntry = Static<typeof TimelineEntrySchema>;

export const RequestIdParamsSchema = Type.Object({ id: UuidSchema }, { additionalProperties: false });

export const NewVoteSchema = Type.Object(
  {
    vote: oneOf(VOTES),
    comment: Type.Optional(
      Type.String({
        maxLength: 2000,
        description:
          "the vote's reason, recorded with the vote, on the request's timeline and in the audit log; required for a decline (a 400 naming body/comment without one)",
      }),
    ),
  },
  { additionalProperties: false },
);
export type NewVote = Static<typeof NewVoteSchema>;

const REASON_RECORDED = "recorded on the request's timeline and in the audit log";

export const TransitionBodySchema = Type.Object(
  {
    reason: Type.Optional(Type.String({ maxLength: 2000, description: `why, optional; ${REASON_RECORDED}` })),
  },
  { additionalProperties: false },
);
export type TransitionBody = Static<typeof TransitionBodySchema>;

/** A withdrawal ends the request for good: the requesting party says why. */
export const WithdrawBodySchema = Type.Object(
  {
    reason: Type.String({
      maxLength: 2000,
      description: `why the request is withdrawn, required and not blank (a 400 naming body/reason without one); ${REASON_RECORDED}`,
    }),
  },
  { additionalProperties: false },
);
export type WithdrawBody = Static<typeof WithdrawBodySchema>;

export const SubmitBodySchema = Type.Object(
  {
    note: Type.Optional(
      Type.String({
        maxLength: 2000,
        description: `a note to the council with the submission, optional; ${REASON_RECORDED}`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type SubmitBody = Static<typeof SubmitBodySchema>;

export const ReportBodySchema = Type.Object(
  {
    summary: Type.String({ minLength: 1, maxLength: 20000, description: 'the post-action report' }),
    lessonsLearned: Type.Optional(Type.String({ maxLength: 20000 })),
  },
  { additionalProperties: false },
);
export type ReportBody = Static<typeof ReportBodySchema>;

export const DeadlineParamsSchema = Type.Object(
  {
    id: UuidSchema,
    kind: oneOf(['nis2_early_warning', 'nis2_notification', 'nis2_final_report'] as const),
  },
  { additionalProperties: false },
);

export const Nis2FilingSchema = Type.Object(
  {
    filedAt: Type.String({
      ...TimestampSchema,
      description:
        'when the entity filed the report with its CSIRT or competent authority (not when you record it): not in the future, not before awareAt, and a final report not before the incident notification',
    }),
    timeZone: Type.Optional(
      Type.String({
        maxLength: 64,
        description:
          "the IANA time zone in which NIS2's month for the final report is counted, from the incident notification's filing; by default the zone of the capital of the request's location/country",
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      { filedAt: '2026-03-02T14:00:00Z' },
      { filedAt: '2026-03-03T09:15:00+02:00', timeZone: 'Europe/Vilnius' },
    ],
  },
);
export type Nis2Filing = Static<typeof Nis2FilingSchema>;

/** What the live stream and webhooks carry. */
export const NotificationSchema = Type.Object({
  seq: Type.Integer(),
  at: TimestampSchema,
  type: Type.String({
    description: 'e.g. request.submitted, request.vote, request.decision, deadline.warning',
  }),
  requestId: Nullable(UuidSchema),
  caseId: Type.Optional(Nullable(UuidSchema)),
  exercise: Type.Boolean(),
  data: Type.Record(Type.String(), Type.Unknown()),
});
export type Notification = Static<typeof NotificationSchema>;

export const WebhookSchema = Type.Object({
  id: UuidSchema,
  party: PartyCodeSchema,
  url: Type.String(),
  description: Nullable(Type.String()),
  createdAt: TimestampSchema,
  createdBy: Type.String(),
  disabledAt: Nullable(TimestampSchema),
  failing: Type.Integer({ description: 'deliveries that failed for good' }),
  exercises: Type.Boolean({
    description:
      'receives the events of exercise requests too (each marked exercise: true); else real events only',
  }),
});
export const NewWebhookSchema = Type.Object(
  {
    url: Type.String({ maxLength: 2000, pattern: '^https?://', description: 'an http(s) URL' }),
    party: Type.Optional(PartyCodeSchema),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    exercises: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'also receive the events of exercise requests (each marked exercise: true); false: real events only',
      }),
    ),
  },
  { additionalProperties: false },
);
export type NewWebhook = Static<typeof NewWebhookSchema>;
export const CreatedWebhookSchema = Type.Object({
  webhook: WebhookSchema,
  secret: Type.String({ description: 'the HMAC-SHA256 key: shown once' }),
});
export const WebhookListSchema = Type.Object({ items: Type.Array(WebhookSchema) });
export const DeliverySchema = Type.Object({
  id: UuidSchema,
  webhookId: UuidSchema,
  party: PartyCodeSchema,
  url: Type.String(),
  notificationSeq: Type.Integer(),
  type: Type.String(),
  exercise: Type.Boolean({ description: 'the event is of an exercise' }),
  state: oneOf(['pending', 'delivered', 'failed'] as const),
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(TimestampSchema),
  lastError: Nullable(
    Type.String({
      description:
        'why the last attempt failed, as a class only: refused_address (not sent, the host is not public), unreachable (no HTTP answer in time), http_3xx (redirects are not followed), http_4xx, http_5xx; or "the webhook was disabled"',
    }),
  ),
  lastStatus: Nullable(Type.Integer({ description: 'the HTTP status of a successful delivery' })),
  deliveredAt: Nullable(TimestampSchema),
  createdAt: TimestampSchema,
});
export const DeliveryListSchema = Type.Object({
  items: Type.Array(DeliverySchema),
  nextCursor: Nullable(Type.String()),
});
export const DeliveryQuerySchema = Type.Object(
  {
    state: Type.Optional(oneOf(['pending', 'delivered', 'failed'] as const)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type DeliveryQuery = Static<typeof DeliveryQuerySchema>;
export const IdParamsSchema = Type.Object({ id: UuidSchema }, { additionalProperties: false });
