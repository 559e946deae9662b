import { type Static, Type } from 'typebox';
import { oneOf, PartyCodeSchema, pageQuery, TimestampSchema, UuidSchema } from './common.ts';
import { PapSchema, SEVERITIES, TlpSchema } from './requests.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const text = (maxLength: number, description?: string) =>
  Type.String({ maxLength, ...(description ? { description } : {}) });

/**
 * Whether exercise data is wanted where real data is read: `exclude` (real only, the default),
 * `include` (both, each marked) or `only` (exercises only).
 */
export const EXERCISE_SCOPES = ['exclude', 'include', 'only'] as const;
export type ExerciseScope = (typeof EXERCISE_SCOPES)[number];

export const CASE_STATUSES = ['open', 'in-progress', 'contained', 'resolved', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
export const TASK_STATUSES = ['todo', 'in-progress', 'done', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const PersonSchema = Type.Object({ id: UuidSchema, name: Type.String(), party: Type.String() });
export type Person = Static<typeof PersonSchema>;

const SharesFields = {
  parties: Type.Array(PartyCodeSchema, {
    maxItems: 60,
    uniqueItems: true,
    description: 'parties the case is shared with (AMBER, AMBER+STRICT; GREEN beyond the community)',
  }),
  groups: Type.Array(UuidSchema, { maxItems: 20, uniqueItems: true, description: 'sharing groups' }),
  recipients: Type.Array(UuidSchema, {
    maxItems: 200,
    uniqueItems: true,
    description: 'named people (user ids): the only readers of RED, besides whoever created it',
  }),
};

export const NewCaseSchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 300 }),
    description: Type.Optional(text(100_000, 'Markdown; rendered as text-safe Markdown, never as HTML')),
    incidentClass: Type.String({
      maxLength: 120,
      description: 'an RSIT machine tag, e.g. rsit:malicious-code="ransomware"',
    }),
    severity: oneOf(SEVERITIES),
    status: Type.Optional(oneOf(CASE_STATUSES)),
    tlp: TlpSchema,
    pap: PapSchema,
    requestId: Type.Optional(UuidSchema),
    deploymentId: Type.Optional(UuidSchema),
    assignees: Type.Optional(Type.Array(UuidSchema, { maxItems: 50, uniqueItems: true })),
    shares: Type.Optional(Type.Partial(Type.Object(SharesFields), { additionalProperties: false })),
    exercise: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type NewCase = Static<typeof NewCaseSchema>;

export const CasePatchSchema = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    description: Type.Optional(text(100_000)),
    incidentClass: Type.Optional(Type.String({ maxLength: 120 })),
    severity: Type.Optional(oneOf(SEVERITIES)),
    status: Type.Optional(oneOf(CASE_STATUSES)),
    pap: Type.Optional(PapSchema),
    assignees: Type.Optional(Type.Array(UuidSchema, { maxItems: 50, uniqueItems: true })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type CasePatch = Static<typeof CasePatchSchema>;

export const CaseSharesSchema = Type.Object({
  tlp: TlpSchema,
  ownerParty: Type.String(),
  parties: Type.Array(Type.String()),
  groups: Type.Array(
    Type.Object({
      id: UuidSchema,
      name: Type.String(),
      parties: Type.Array(Type.String()),
      retired: Type.Boolean({ description: 'the group is retired: its members are frozen' }),
    }),
  ),
  recipients: Type.Array(PersonSchema),
  version: Type.Integer(),
  can: Type.Object(
    { change: Type.Boolean({ description: "narrow or relax the case's label and audiences" }) },
    { description: 'what the caller may do to this sharing (the server enforces the same rule)' },
  ),
});
export type CaseShares = Static<typeof CaseSharesSchema>;

/** Why a label was changed: recorded in the audit log, and in the case's timeline where all its readers may read it. */
const ReasonSchema = Type.String({
  minLength: 1,
  maxLength: 2000,
  description: 'why: recorded in the audit log and (where every reader of the case may read it) its timeline',
});

export const SharesUpdateSchema = Type.Object(
  {
    tlp: Type.Optional(TlpSchema),
    ...Type.Partial(Type.Object(SharesFields)).properties,
    reason: Type.Optional(ReasonSchema),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description:
      "Replaces the label and audiences given: for the owner party's workers only, narrowing or relaxing. A party the case is shared with narrows only its own items.",
  },
);
export type SharesUpdate = Static<typeof SharesUpdateSchema>;

const flag = (description: string) => Type.Boolean({ description });

/** What the caller may do with a case: computed by the rule the server enforces (`casePermissions`). */
export const CasePermissionsSchema = Type.Object(
  {
    edit: flag("change its words, severity, PAP and assignees (the case's own party)"),
    changeStatus: flag('move its status (its own party and its assignees)'),
    relabel: flag('narrow or relax its label and audiences (its own party): PUT …/shares'),
    addNote: flag('add a note'),
    addTask: flag('add a task'),
    addObservable: flag('add or import observables'),
    addEvidence: flag('upload evidence'),
    addTimelineEntry: flag('record something that happened'),
    exportStix: flag('download it as a STIX bundle (not RED; AMBER+STRICT only its own party)'),
    exportMisp: flag('download it as a MISP event (not RED; AMBER+STRICT only its own party)'),
  },
  { description: 'what you may do with this case (the server enforces the same rule)' },
);
export type CasePermissions = Static<typeof CasePermissionsSchema>;

/** What the caller may do with an item that has a label of its own (an observable, a note). */
export const ItemPermissionsSchema = Type.Object(
  {
    edit: flag('change it (comment, detection flag, first/last seen, tags)'),
    relabel: flag("narrow its label (the case's own party, or the party it came from)"),
    relax: flag('relax its label (only the party it came from)'),
    delete: flag("remove it (the case's own party, or the party it came from)"),
  },
  { description: 'what you may do with this item (the server enforces the same rule)' },
);
export type ItemPermissions = Static<typeof ItemPermissionsSchema>;

export const CaseSchema = Type.Object({
  id: UuidSchema,
  title: Type.String(),
  description: Type.String(),
  incidentClass: Type.String(),
  severity: oneOf(SEVERITIES),
  status: oneOf(CASE_STATUSES),
  tlp: TlpSchema,
  pap: PapSchema,
  ownerParty: Type.String(),
  mirroredFrom: Type.Optional(
    Nullable(
      Type.String({
        description:
          "the party whose node this is a read-only copy from (federation); absent or null: this node's own",
      }),
    ),
  ),
  createdBy: Type.String(),
  requestId: Nullable(UuidSchema),
  deploymentId: Nullable(UuidSchema),
  assignees: Type.Array(PersonSchema),
  exercise: Type.Boolean(),
  counts: Type.Object(
    {
      tasks: Type.Integer(),
      openTasks: Type.Integer(),
      observables: Type.Integer(),
      notes: Type.Integer(),
      timeline: Type.Integer(),
      evidence: Type.Integer(),
    },
    {
      description:
        'what you may see of the case; observables, notes and evidence are counted up to 10001 (10001: more than 10000)',
    },
  ),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  version: Type.Integer(),
  can: CasePermissionsSchema,
});
export type Case = Static<typeof CaseSchema>;

export const CaseListQuerySchema = Type.Object(
  {
    status: Type.Optional(oneOf(CASE_STATUSES)),
    tlp: Type.Optional(TlpSchema),
    ownerParty: Type.Optional(PartyCodeSchema),
    requestId: Type.Optional(UuidSchema),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'words in the title' })),
    ...pageQuery,
  },
  { additionalProperties: false },
);
export type CaseListQuery = Static<typeof CaseListQuerySchema>;

export const CaseListSchema = Type.Object({
  items: Type.Array(CaseSchema),
  total: Type.Integer({ description: 'cases you may see that match' }),
  nextCursor: Nullable(Type.String()),
});
export type CaseList = Static<typeof CaseListSchema>;

export const CaseParamsSchema = Type.Object({ id: UuidSchema }, { additionalProperties: false });
export const CaseItemParamsSchema = Type.Object(
  { id: UuidSchema, itemId: UuidSchema },
  { additionalProperties: false },
);

/** A task's clock: `overdue` once its due time passed unfinished, `due-soon` within a day. */
export const TaskSchema = Type.Object({
  id: UuidSchema,
  caseId: UuidSchema,
  title: Type.String(),
  description: Type.String(),
  status: oneOf(TASK_STATUSES),
  assignee: Nullable(PersonSchema),
  dueAt: Nullable(TimestampSchema),
  clock: oneOf(['none', 'running', 'due-soon', 'overdue', 'met', 'missed'] as const),
  createdBy: Type.String(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  version: Type.Integer(),
  can: Type.Object(
    {
      edit: flag('change its title, description, assignee and due time (those who work on the case)'),
      changeStatus: flag('move its status (those who work on the case, and its assignee)'),
    },
    { description: 'what you may do with this task (the server enforces the same rule)' },
  ),
});
export type Task = Static<typeof TaskSchema>;
export const NewTaskSchema = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 300 }),
    description: Type.Optional(text(20_000)),
    assignee: Type.Optional(UuidSchema),
    dueAt: Type.Optional(TimestampSchema),
  },
  { additionalProperties: false },
);
export type NewTask = Static<typeof NewTaskSchema>;
export const TaskPatchSchema = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    description: Type.Optional(text(20_000)),
    status: Type.Optional(oneOf(TASK_STATUSES)),
    assignee: Type.Optional(Nullable(UuidSchema)),
    dueAt: Type.Optional(Nullable(TimestampSchema)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type TaskPatch = Static<typeof TaskPatchSchema>;

export const NoteSchema = Type.Object({
  id: UuidSchema,
  caseId: UuidSchema,
  body: Type.String({ description: 'Markdown' }),
  tlp: TlpSchema,
  originParty: Type.String(),
  mirroredFrom: Type.Optional(
    Nullable(
      Type.String({
        description:
          "the party whose node this is a read-only copy from (federation); absent or null: this node's own",
      }),
    ),
  ),
  createdBy: Type.String(),
  createdAt: TimestampSchema,
  can: ItemPermissionsSchema,
});
export type Note = Static<typeof NoteSchema>;
export const NotePatchSchema = Type.Object(
  { tlp: TlpSchema, reason: Type.Optional(ReasonSchema) },
  { additionalProperties: false },
);
export type NotePatch = Static<typeof NotePatchSchema>;
export const NewNoteSchema = Type.Object(
  { body: Type.String({ minLength: 1, maxLength: 100_000 }), tlp: Type.Optional(TlpSchema) },
  { additionalProperties: false },
);
export type NewNote = Static<typeof NewNoteSchema>;

/** `happenedAt` is when it happened (as told); `recordedAt` when it was written down here. */
export const CaseTimelineEntrySchema = Type.Object({
  id: UuidSchema,
  caseId: UuidSchema,
  happenedAt: TimestampSchema,
  recordedAt: TimestampSchema,
  text: Type.String(),
  recordedBy: Type.String(),
});
export type CaseTimelineEntry = Static<typeof CaseTimelineEntrySchema>;
export const NewCaseTimelineEntrySchema = Type.Object(
  { happenedAt: TimestampSchema, text: Type.String({ minLength: 1, maxLength: 5000 }) },
  { additionalProperties: false },
);
export type NewCaseTimelineEntry = Static<typeof NewCaseTimelineEntrySchema>;

/** The MISP warning lists a value is on: known-benign values that make poor indicators. */
export const WarningsSchema = Type.Array(Type.String(), {
  description:
    'the names of the MISP warning lists the value is on (public resolvers, top domains, private and reserved ranges, …); [] when none',
});
export const ObservableSchema = Type.Object({
  id: UuidSchema,
  caseId: UuidSchema,
  type: Type.String({ description: 'a MISP attribute type' }),
  category: Type.String({ description: 'its MISP default category' }),
  value: Type.String({ description: 'normalised (refanged, canonical)' }),
  tlp: TlpSchema,
  toIds: Type.Boolean(),
  comment: Type.String(),
  firstSeen: Nullable(TimestampSchema),
  lastSeen: Nullable(TimestampSchema),
  sightings: Type.Integer(),
  originParty: Type.String(),
  mirroredFrom: Type.Optional(
    Nullable(
      Type.String({
        description:
          "the party whose node this is a read-only copy from (federation); absent or null: this node's own",
      }),
    ),
  ),
  createdBy: Type.String(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  version: Type.Integer(),
  exercise: Type.Boolean({ description: 'its case is an exercise' }),
  warnings: WarningsSchema,
  tags: Type.Array(Type.String(), { description: "analysts' tags, sorted" }),
  can: ItemPermissionsSchema,
});
export type Observable = Static<typeof ObservableSchema>;
/** An analyst's tag: words, a MISP machine tag (`tlp:amber`, `kill-chain:delivery`), up to 64 characters. */
export const TagSchema = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[^\\s,][^,]*$',
  description: 'a tag (no commas, not starting with a space), up to 64 characters',
});
const TagsSchema = Type.Array(TagSchema, { maxItems: 32, uniqueItems: true });
export const NewObservableSchema = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 64, description: 'a MISP attribute type, e.g. ip-dst' }),
    value: Type.String({ minLength: 1, maxLength: 4096, description: 'defanged values are refanged' }),
    tlp: Type.Optional(TlpSchema),
    toIds: Type.Optional(Type.Boolean()),
    comment: Type.Optional(text(2000)),
    firstSeen: Type.Optional(TimestampSchema),
    lastSeen: Type.Optional(TimestampSchema),
  },
  { additionalProperties: false },
);
export type NewObservable = Static<typeof NewObservableSchema>;
export const ObservablePatchSchema = Type.Object(
  {
    tlp: Type.Optional(TlpSchema),
    toIds: Type.Optional(Type.Boolean()),
    comment: Type.Optional(text(2000)),
    firstSeen: Type.Optional(Nullable(TimestampSchema)),
    lastSeen: Type.Optional(Nullable(TimestampSchema)),
    tags: Type.Optional(TagsSchema),
    reason: Type.Optional(ReasonSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ObservablePatch = Static<typeof ObservablePatchSchema>;
export const OBSERVABLE_SORTS = ['type', 'value', 'firstSeen', 'lastSeen', 'tlp'] as const;
export type ObservableSort = (typeof OBSERVABLE_SORTS)[number];
/** The most rows a warning-list filter looks through (warning lists are checked in the node, not in SQL). */
export const WARNINGLIST_FILTER_SCAN = 20_000;
export const ObservableListQuerySchema = Type.Object(
  {
    type: Type.Optional(Type.String({ maxLength: 64 })),
    tlp: Type.Optional(TlpSchema),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'part of the value' })),
    tag: Type.Optional(TagSchema),
    warninglisted: Type.Optional(
      oneOf(
        ['only', 'exclude'] as const,
        `only: values on a MISP warning list; exclude: the others (looks through at most ${WARNINGLIST_FILTER_SCAN} matching rows: narrow the other filters first)`,
      ),
    ),
    sort: Type.Optional(
      oneOf(
        OBSERVABLE_SORTS,
        'type (the default: type, then value), value, firstSeen, lastSeen or tlp (label)',
      ),
    ),
    order: Type.Optional(oneOf(['asc', 'desc'] as const, 'asc (the default) or desc; no date sorts last')),
    offset: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 100_000, description: 'rows to skip (a page number × limit)' }),
    ),
    ...pageQuery,
  },
  { additionalProperties: false },
);
export type ObservableListQuery = Static<typeof ObservableListQuerySchema>;
export const ObservableListSchema = Type.Object({
  items: Type.Array(ObservableSchema),
  total: Type.Integer(),
  nextCursor: Nullable(Type.String()),
});
export const OBSERVABLE_BULK_ACTIONS = ['relabel', 'delete', 'tag', 'untag'] as const;
export type ObservableBulkAction = (typeof OBSERVABLE_BULK_ACTIONS)[number];
export const ObservableBulkSchema = Type.Object(
  {
    action: oneOf(OBSERVABLE_BULK_ACTIONS),
    ids: Type.Array(UuidSchema, { minItems: 1, maxItems: 1000, uniqueItems: true }),
    tlp: Type.Optional(TlpSchema),
    tags: Type.Optional(Type.Array(TagSchema, { minItems: 1, maxItems: 32, uniqueItems: true })),
    reason: Type.Optional(ReasonSchema),
  },
  {
    additionalProperties: false,
    description:
      'relabel needs tlp, tag and untag need tags. Acts in one transaction on the items you may change; each id is answered.',
    examples: [
      {
        action: 'relabel',
        ids: ['7b1e3f60-1c1a-4e52-9f55-0d2f7c6b9a11'],
        tlp: 'amber+strict',
        reason: 'EE asked',
      },
    ],
  },
);
export type ObservableBulk = Static<typeof ObservableBulkSchema>;
export const ObservableBulkResultSchema = Type.Object({
  action: oneOf(OBSERVABLE_BULK_ACTIONS),
  done: Type.Integer({ description: 'items acted on' }),
  results: Type.Array(
    Type.Object({
      id: UuidSchema,
      outcome: oneOf(
        ['done', 'not-found', 'refused'] as const,
        'done; not-found (no item you may see has this id); refused (you see it but may not do this: `message` says why)',
      ),
      message: Type.Optional(Type.String()),
    }),
  ),
});
export type ObservableBulkResult = Static<typeof ObservableBulkResultSchema>;

export const SightingSchema = Type.Object(
  { at: Type.Optional(TimestampSchema), source: Type.Optional(text(200)) },
  { additionalProperties: false },
);

/** Where a value is also seen — only where the viewer may see the other side. */
export const CorrelationSchema = Type.Object({
  observableId: UuidSchema,
  caseId: UuidSchema,
  caseTitle: Type.String(),
  ownerParty: Type.String(),
  type: Type.String(),
  value: Type.String(),
  tlp: TlpSchema,
  toIds: Type.Boolean(),
  sightings: Type.Integer(),
  firstSeen: Nullable(TimestampSchema),
  lastSeen: Nullable(TimestampSchema),
  exercise: Type.Boolean({ description: 'the other case is an exercise' }),
  warnings: WarningsSchema,
});
export type Correlation = Static<typeof CorrelationSchema>;
const correlationListFields = {
  items: Type.Array(CorrelationSchema),
  overCorrelating: Type.Boolean({
    description: 'the value is in more places than the cap (e.g. a public resolver); only the cap are listed',
  }),
  cap: Type.Integer(),
  exercises: oneOf(
    EXERCISE_SCOPES,
    'which cases were searched: real ones (exclude), both (include) or exercises (only)',
  ),
};
export const CorrelationListSchema = Type.Object({
  ...correlationListFields,
  warnings: WarningsSchema,
  warninglisted: Type.Boolean({
    description:
      'the value is on a warning list (`warnings`), so its correlations were left out (`items` is empty): ask with warninglisted=include to see them',
  }),
});
export type CorrelationList = Static<typeof CorrelationListSchema>;
export const WARNINGLISTED_SCOPES = ['exclude', 'include'] as const;
export type WarninglistedScope = (typeof WARNINGLISTED_SCOPES)[number];
export const CorrelationQuerySchema = Type.Object(
  {
    exercise: Type.Optional(
      oneOf(
        EXERCISE_SCOPES,
        'from a real case: exclude (the default) keeps exercises out, include or only asks for them. An exercise case correlates only with exercises: only (the default), nothing else',
      ),
    ),
    warninglisted: Type.Optional(
      oneOf(
        WARNINGLISTED_SCOPES,
        'a value on a warning list does not correlate: exclude (the default) lists nothing for it, include lists its correlations all the same',
      ),
    ),
  },
  { additionalProperties: false },
);
export const LookupQuerySchema = Type.Object(
  {
    value: Type.String({ minLength: 1, maxLength: 4096 }),
    exercise: Type.Optional(
      oneOf(
        EXERCISE_SCOPES,
        'exclude (the default): real cases only; include: exercises too, marked; only: exercises only',
      ),
    ),
  },
  { additionalProperties: false },
);
export const ObservableExportQuerySchema = Type.Object(
  {
    format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], { default: 'csv' })),
    exercise: Type.Optional(
      oneOf(
        EXERCISE_SCOPES,
        'an exercise case is exported only when asked for: include (or only); a real case with exclude (the default) or include',
      ),
    ),
    mine: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "only what your party contributed to the case (observables whose originParty is yours), whatever the case's own label: what a party originated is its own to pass on",
      }),
    ),
    ids: Type.Optional(
      Type.Array(UuidSchema, {
        minItems: 1,
        // 200 ids fill about 8 KB of the request line: within what proxies in front of a node take.
        maxItems: 200,
        description:
          'only these observables (those selected on a page, repeated as ids=…&ids=…; at most 200); any you may not pass on, or that are not in the case, are left out as the rest of the export leaves them',
      }),
    ),
  },
  { additionalProperties: false },
);
export const LookupResultSchema = Type.Object({
  query: Type.String(),
  candidates: Type.Array(Type.String(), { description: 'the normalised forms searched for' }),
  ...correlationListFields,
  warnings: Type.Array(Type.String(), {
    description:
      'the warning lists any of the candidates is on, under any type a list applies to; a lookup lists its places all the same, each with its own `warnings`',
  }),
});

export const EVIDENCE_CUSTODY_ACTIONS = ['upload', 'download', 'transfer'] as const;
export const CustodyEntrySchema = Type.Object({
  at: TimestampSchema,
  action: oneOf(EVIDENCE_CUSTODY_ACTIONS),
  actor: Type.String(),
  party: Nullable(Type.String()),
  custodian: Type.String({ description: 'who holds the evidence after this step' }),
  sha256: Type.String(),
  note: Type.String(),
});
export const EvidenceSchema = Type.Object({
  id: UuidSchema,
  caseId: UuidSchema,
  filename: Type.String({ description: 'as given; never used as a path' }),
  mediaType: Type.String(),
  size: Type.Integer(),
  sha256: Type.String(),
  tlp: TlpSchema,
  custodian: Type.String(),
  originParty: Type.String(),
  mirroredFrom: Type.Optional(
    Nullable(
      Type.String({
        description:
          "the party whose node this is a read-only copy from (federation); absent or null: this node's own",
      }),
    ),
  ),
  createdBy: Type.String(),
  createdAt: TimestampSchema,
  custody: Type.Optional(Type.Array(CustodyEntrySchema)),
});
export type Evidence = Static<typeof EvidenceSchema>;
export const EvidenceUploadQuerySchema = Type.Object(
  {
    filename: Type.String({ minLength: 1, maxLength: 255 }),
    tlp: Type.Optional(TlpSchema),
    note: Type.Optional(text(2000)),
  },
  { additionalProperties: false },
);
export const EvidenceTransferSchema = Type.Object(
  {
    custodian: Type.String({ minLength: 1, maxLength: 200, description: 'who takes custody' }),
    note: Type.Optional(text(2000)),
  },
  { additionalProperties: false },
);

export const BulkQuerySchema = Type.Object(
  {
    caseId: UuidSchema,
    partial: Type.Optional(Type.Boolean({ default: false })),
    type: Type.Optional(
      Type.String({ maxLength: 64, description: 'the type of every line of a plain list' }),
    ),
    tlp: Type.Optional(TlpSchema),
  },
  { additionalProperties: false },
);
export type BulkQuery = Static<typeof BulkQuerySchema>;
const WarninglistedCountSchema = Type.Integer({
  description:
    'values of the file on a MISP warning list (counted once however often they come, whether new or held already): they are kept, flagged, and do not correlate by default',
});
export const LineProblemSchema = Type.Object({ line: Type.Integer(), message: Type.String() });
export const BulkResultSchema = Type.Object({
  imported: Type.Integer(),
  duplicates: Type.Integer(),
  rejected: Type.Integer(),
  problems: Type.Array(LineProblemSchema, { description: 'the first 100 rejected lines' }),
  warninglisted: WarninglistedCountSchema,
});
export type BulkResult = Static<typeof BulkResultSchema>;

export const SharingGroupSchema = Type.Object({
  id: UuidSchema,
  name: Type.String(),
  ownerParty: Type.String(),
  parties: Type.Array(Type.String()),
  createdAt: TimestampSchema,
  retiredAt: Type.Union([TimestampSchema, Type.Null()], {
    description:
      'when it was retired: no longer offered for new shares, its members frozen; the cases already shared with it keep that audience',
  }),
  version: Type.Integer(),
  can: Type.Object(
    { change: Type.Boolean({ description: 'rename it, change its members, retire it (its own party)' }) },
    { description: 'what the caller may do to this group (the server enforces the same rule)' },
  ),
});
export type SharingGroup = Static<typeof SharingGroupSchema>;
const sharingGroupFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  parties: Type.Array(PartyCodeSchema, { minItems: 1, maxItems: 60, uniqueItems: true }),
};
export const NewSharingGroupSchema = Type.Object(sharingGroupFields, {
  additionalProperties: false,
  examples: [{ name: 'Baltic CSIRTs', parties: ['EE', 'LT', 'LV'] }],
});
export type NewSharingGroup = Static<typeof NewSharingGroupSchema>;
export const SharingGroupPatchSchema = Type.Object(
  { name: Type.Optional(sharingGroupFields.name), parties: Type.Optional(sharingGroupFields.parties) },
  {
    additionalProperties: false,
    minProperties: 1,
    description:
      "Renames the group or replaces its members (its own party's workers). The group's own party's cases shared with it follow the new members; another party's cases keep exactly the parties they had (their share of the group becomes shares with those parties), since only a case's own party changes its audience.",
    examples: [{ parties: ['EE', 'FI', 'LT', 'LV'] }, { name: 'Baltic and Nordic CSIRTs' }],
  },
);
export type SharingGroupPatch = Static<typeof SharingGroupPatchSchema>;
export const SharingGroupListQuerySchema = Type.Object(
  {
    retired: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'list retired groups too (they are not offered for new shares)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The evidence of a case you may see, oldest first, without custody (ask for one item to see it). */
export const EvidenceListSchema = Type.Object({ items: Type.Array(EvidenceSchema) });
export type EvidenceList = Static<typeof EvidenceListSchema>;
export type EvidenceUploadQuery = Static<typeof EvidenceUploadQuerySchema>;
export type EvidenceTransfer = Static<typeof EvidenceTransferSchema>;
export type CustodyEntry = Static<typeof CustodyEntrySchema>;

/** What a STIX bundle brought into a case (POST /cases/{id}/stix). */
export const StixImportResultSchema = Type.Object({
  objects: Type.Integer({ description: 'objects in the bundle' }),
  imported: Type.Integer({ description: 'observables added' }),
  duplicates: Type.Integer({ description: 'observables the case (or the bundle) had already' }),
  rejected: Type.Integer({ description: 'objects refused' }),
  warninglisted: WarninglistedCountSchema,
  problems: Type.Array(LineProblemSchema, {
    description:
      'the first 100 refused objects: `line` is the index in `objects`, the message starts with the id',
  }),
  intelligence: Type.Object({
    added: Type.Integer(),
    updated: Type.Integer({ description: 'replaced by a later version (`modified`)' }),
    unchanged: Type.Integer({ description: 'held already in the same version' }),
    older: Type.Integer({ description: 'older than the version held: ignored' }),
  }),
});
export type StixImportResult = Static<typeof StixImportResultSchema>;

export const IntelObjectSchema = Type.Object({
  id: UuidSchema,
  caseId: UuidSchema,
  stixId: Type.String(),
  type: Type.String({ description: 'the STIX type: threat-actor, malware, relationship, x-…' }),
  name: Nullable(Type.String()),
  modified: Nullable(TimestampSchema),
  sourceRef: Nullable(Type.String()),
  targetRef: Nullable(Type.String()),
  relationshipType: Nullable(
    Type.String({ description: 'a relationship’s type: uses, indicates, mitigates…' }),
  ),
  tlp: TlpSchema,
  originParty: Type.String(),
  mirroredFrom: Type.Optional(
    Nullable(
      Type.String({
        description:
          "the party whose node this is a read-only copy from (federation); absent or null: this node's own",
      }),
    ),
  ),
  createdBy: Type.String(),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
});
export type IntelObject = Static<typeof IntelObjectSchema>;

export const IntelListQuerySchema = Type.Object(
  { type: Type.Optional(Type.String({ maxLength: 250, pattern: '^[a-z0-9-]+$' })), ...pageQuery },
  { additionalProperties: false },
);
export type IntelListQuery = Static<typeof IntelListQuerySchema>;
export const IntelListSchema = Type.Object({
  items: Type.Array(IntelObjectSchema),
  nextCursor: Nullable(Type.String()),
});
export type IntelList = Static<typeof IntelListSchema>;

export const IntelRelationshipSchema = Type.Object({
  relationship: IntelObjectSchema,
  direction: oneOf(['out', 'in'] as const, 'out: this object is the source; in: the target'),
  other: Type.Object({
    stixId: Type.String(),
    type: Nullable(Type.String()),
    name: Nullable(Type.String()),
  }),
});
export const IntelObjectDetailSchema = Type.Object({
  item: IntelObjectSchema,
  object: Type.Object({}, { additionalProperties: true, description: 'the STIX object as received' }),
  relationships: Type.Array(IntelRelationshipSchema),
});
export type IntelObjectDetail = Static<typeof IntelObjectDetailSchema>;
