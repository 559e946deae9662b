import { type Static, Type } from 'typebox';
import { oneOf, PartyCodeSchema, TimestampSchema, UuidSchema } from './common.ts';
import { DeadlineSchema, TlpSchema } from './requests.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

/**
 * The reports Vytis drafts from its record: the force's post-action report on a request (Cyber
 * Solidarity Act), and the affected entity's NIS2 reports (Directive (EU) 2022/2555, art. 23(4)):
 * early warning (a), incident notification (b), intermediate report on request (c), final report
 * (d), and the progress report when the incident is still ongoing at the final report's time (e).
 */
export const NIS2_REPORT_KINDS = [
  'nis2_early_warning',
  'nis2_notification',
  'nis2_intermediate',
  'nis2_final_report',
  'nis2_progress',
] as const;
export type Nis2ReportKind = (typeof NIS2_REPORT_KINDS)[number];
export const REPORT_KINDS = ['post_action', ...NIS2_REPORT_KINDS] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export const REPORT_FORMATS = ['pdf', 'markdown', 'json', 'stix'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/**
 * The longest text one field of a report takes, in characters and in lines; a longer paste is
 * refused with its field named. (The lines bound the time a PDF takes to lay out.)
 */
export const REPORT_TEXT_MAX = 20_000;
export const REPORT_TEXT_LINES_MAX = 1_000;
/** The largest body a report's edit takes: beyond it the answer is 413, before anything is read. */
export const REPORT_BODY_LIMIT = 512 * 1024;

/**
 * What a report shows, in the order it shows it: the blocks that the PDF, the Markdown and the web
 * app's preview all lay out the same way. Every string in it is plain text (never markup): a
 * renderer escapes it for its format.
 */
export const ReportBlockSchema = Type.Union([
  Type.Object({ type: Type.Literal('heading'), text: Type.String() }),
  Type.Object({
    type: Type.Literal('fields'),
    rows: Type.Array(Type.Object({ label: Type.String(), value: Type.String() })),
  }),
  Type.Object({
    type: Type.Literal('table'),
    columns: Type.Array(Type.String()),
    rows: Type.Array(Type.Array(Type.String())),
    note: Type.Optional(Type.String({ description: 'e.g. "… and 40 more entries"' })),
  }),
  Type.Object({
    type: Type.Literal('text'),
    title: Type.String(),
    text: Type.String({ description: "an author's text; empty when nobody has written it yet" }),
  }),
]);
export type ReportBlock = Static<typeof ReportBlockSchema>;

/** Who vouches for a submitted report: the node, by its Ed25519 key, over the report's SHA-256. */
export const ReportSignatureSchema = Type.Object({
  party: Nullable(PartyCodeSchema),
  nodeUrl: Type.String(),
  keyId: Type.String({ description: "the node key's RFC 7638 thumbprint" }),
  sha256: Type.String({ description: "hex SHA-256 of the submitted report's canonical JSON (RFC 8785)" }),
  signature: Type.String({ description: 'base64url Ed25519 signature of the sha256 text, by the node key' }),
  submittedAt: TimestampSchema,
  submittedBy: Type.String(),
});
export type ReportSignature = Static<typeof ReportSignatureSchema>;

/** A report laid out for a reader: what the PDF and Markdown files are made from. */
export const ReportLayoutSchema = Type.Object({
  title: Type.String(),
  subtitle: Type.String(),
  tlp: TlpSchema,
  status: oneOf(['draft', 'submitted'] as const),
  requestId: UuidSchema,
  preparedAt: TimestampSchema,
  blocks: Type.Array(ReportBlockSchema),
  signature: Nullable(ReportSignatureSchema),
});
export type ReportLayout = Static<typeof ReportLayoutSchema>;

export const ReportFieldSchema = Type.Object({
  key: Type.String(),
  label: Type.String(),
  help: Type.String({ description: 'what the field is for, and where NIS2 asks for it' }),
  type: oneOf(['text', 'yesno', 'choice'] as const),
  choices: Type.Optional(Type.Array(Type.String())),
  value: Type.Union([Type.String(), Type.Boolean(), Type.Null()]),
  prefilled: Type.Boolean({ description: 'the value is drafted from the record, not yet edited by anyone' }),
  source: Nullable(
    Type.Object({
      label: Type.String(),
      href: Type.String({ description: "the web app's path of the record the draft came from" }),
    }),
  ),
});
export type ReportField = Static<typeof ReportFieldSchema>;

export const ReportSchema = Type.Object({
  requestId: UuidSchema,
  kind: oneOf(REPORT_KINDS),
  title: Type.String(),
  status: oneOf(['draft', 'submitted'] as const),
  version: Type.Integer({ description: '0 until someone saves the draft; each save adds one (If-Match)' }),
  tlp: TlpSchema,
  minimumTlp: TlpSchema,
  fields: Type.Array(ReportFieldSchema),
  layout: ReportLayoutSchema,
  clock: Nullable(DeadlineSchema),
  updatedAt: Nullable(TimestampSchema),
  updatedBy: Nullable(Type.String()),
  submittedTo: Nullable(
    Type.String({ description: 'NIS2: the CSIRT or competent authority it was filed with' }),
  ),
  filedAt: Nullable(TimestampSchema),
  signature: Nullable(ReportSignatureSchema),
  can: Type.Object({
    edit: Type.Boolean({ description: 'the caller may save the draft (PUT, If-Match)' }),
    submit: Type.Boolean({ description: 'the caller may submit it now, which freezes it' }),
  }),
});
export type Report = Static<typeof ReportSchema>;

export const ReportListSchema = Type.Object({ items: Type.Array(ReportSchema) });
export type ReportList = Static<typeof ReportListSchema>;

/**
 * One type list, not a union: the API coerces query-style scalars, and a union's string branch
 * would turn `false` and `null` into text before the other branches were tried.
 */
const ReportValueSchema = Type.Unsafe<string | boolean | null>({
  type: ['string', 'boolean', 'null'],
  maxLength: REPORT_TEXT_MAX,
  description: `text (at most ${REPORT_TEXT_MAX} characters and ${REPORT_TEXT_LINES_MAX} lines), true or false; null returns a text or choice field to the draft from the record, and sets a yes/no field to not known`,
});

export const ReportEditSchema = Type.Object(
  {
    tlp: Type.Optional(TlpSchema),
    values: Type.Record(Type.String({ pattern: '^[a-zA-Z]{1,40}$' }), ReportValueSchema, {
      maxProperties: 40,
      description: 'the fields to change, by key; a key this kind of report does not have is a 400 naming it',
    }),
  },
  { additionalProperties: false },
);
export type ReportEdit = Static<typeof ReportEditSchema>;

export const PostActionSubmitSchema = Type.Object({}, { additionalProperties: false });

export const Nis2SubmitSchema = Type.Object(
  {
    filedAt: Type.String({
      ...TimestampSchema,
      description: 'when the entity filed it: not in the future, not before awareAt',
    }),
    submittedTo: Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '[^\\s\\u200B-\\u200D\\u2060\\uFEFF]',
      description: 'the CSIRT or competent authority it was filed with, e.g. "CERT-RO"',
    }),
    timeZone: Type.Optional(
      Type.String({
        maxLength: 64,
        description: "the incident notification only: the IANA zone of the final report's month",
      }),
    ),
  },
  { additionalProperties: false },
);
export type Nis2Submit = Static<typeof Nis2SubmitSchema>;

export const ReportParamsSchema = Type.Object({ id: UuidSchema }, { additionalProperties: false });
export const Nis2ReportParamsSchema = Type.Object(
  { id: UuidSchema, kind: oneOf(NIS2_REPORT_KINDS) },
  { additionalProperties: false },
);
export const ReportFileQuerySchema = Type.Object(
  { format: oneOf(REPORT_FORMATS, 'pdf, markdown, json, or stix (the post-action report only)') },
  { additionalProperties: false },
);
