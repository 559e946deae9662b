import { type Static, Type } from 'typebox';
import { TimestampSchema } from './common.ts';

export const AuditEventSchema = Type.Object({
  seq: Type.Integer(),
  at: TimestampSchema,
  actor: Type.Object({
    type: Type.String(),
    id: Type.Union([Type.String(), Type.Null()]),
    name: Type.String(),
    party: Type.Union([Type.String(), Type.Null()]),
  }),
  action: Type.String(),
  object: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
  summary: Type.Unknown(),
  requestId: Type.Union([Type.String(), Type.Null()]),
  prevHash: Type.String(),
  hash: Type.String(),
  text: Type.String({
    description:
      'what happened, in words (e.g. "lt.poc (LT) withdrew request \'Ransomware at …\' (reason: …)"); derived on read',
  }),
});
export type AuditEvent = Static<typeof AuditEventSchema>;

export const AuditPageSchema = Type.Object({
  items: Type.Array(AuditEventSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as ?cursor= for the next page' }),
});

export const AuditQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(
      // At most 15 digits: a sequence number fits int8 and a JS number exactly, so a forged one is a 400.
      Type.String({ pattern: '^\\d{1,15}$', description: 'sequence number to continue after' }),
    ),
    action: Type.Optional(Type.String({ maxLength: 100 })),
    actor: Type.Optional(Type.String({ maxLength: 100, description: 'actor name' })),
    objectType: Type.Optional(Type.String({ maxLength: 100 })),
    objectId: Type.Optional(Type.String({ maxLength: 200 })),
    since: Type.Optional(TimestampSchema),
    until: Type.Optional(TimestampSchema),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuerySchema>;

export const AUDIT_EXPORT_FORMATS = ['csv', 'ndjson'] as const;
/** The most events one export holds: a longer range is exported in parts (narrow since/until). */
export const AUDIT_EXPORT_MAX = 100_000;

const { limit: _limit, cursor: _cursor, order: _order, ...auditFilters } = AuditQuerySchema.properties;
export const AuditExportQuerySchema = Type.Object(
  {
    format: Type.Union([Type.Literal('csv'), Type.Literal('ndjson')], {
      description: 'csv: one row per event with a header; ndjson: one JSON event per line',
    }),
    ...auditFilters,
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: AUDIT_EXPORT_MAX,
        default: 10_000,
        description: 'at most this many events, oldest first',
      }),
    ),
  },
  { additionalProperties: false },
);
export type AuditExportQuery = Static<typeof AuditExportQuerySchema>;

export const AuditActionListSchema = Type.Object({
  items: Type.Array(Type.Object({ action: Type.String(), count: Type.Integer() }), {
    description: 'every action the log holds, by name',
  }),
});
export type AuditActionList = Static<typeof AuditActionListSchema>;

/** RFC 9162 Merkle tree head over the chain's first `size` events (0018_audit_witness). */
const RootSchema = Type.Optional(
  Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()], {
    description:
      'RFC 9162 Merkle tree head of the first `size` events (hex), signed with the head: the signed payload is {"head","keyId","root","signedAt","size"}; absent or null on checkpoints signed before the tree',
  }),
);

export const CheckpointSchema = Type.Object({
  id: Type.Integer(),
  size: Type.Integer(),
  head: Type.String(),
  signedAt: TimestampSchema,
  keyId: Type.String(),
  signature: Type.String({
    description:
      'Ed25519 over the canonical JSON {head, keyId, root, signedAt, size} ({head, keyId, signedAt, size} before the tree)',
  }),
  root: RootSchema,
  signatureStatus: Type.Optional(
    Type.Union([Type.Literal('valid'), Type.Literal('invalid'), Type.Literal('other_key')], {
      description:
        "in listings: whether the signature holds under this node's key (other_key: signed with a key this node does not hold now)",
    }),
  ),
});
export type Checkpoint = Static<typeof CheckpointSchema>;

export const CheckpointListSchema = Type.Object({ items: Type.Array(CheckpointSchema) });

export const VerifyProblemSchema = Type.Object({
  code: Type.Union(
    [
      Type.Literal('chain_broken'),
      Type.Literal('checkpoint_invalid'),
      Type.Literal('events_missing'),
      Type.Literal('history_rewritten'),
      Type.Literal('checkpoints_deleted'),
      Type.Literal('external_unreadable'),
      Type.Literal('external_bad_signature'),
      Type.Literal('external_unknown_key'),
      Type.Literal('checkpoints_stale'),
      Type.Literal('checkpoints_gap'),
      Type.Literal('checkpoint_file_missing'),
      Type.Literal('tree_mismatch'),
    ],
    { description: 'what kind of problem' },
  ),
  seq: Type.Union([Type.Integer(), Type.Null()], { description: 'the first event it concerns, if any' }),
  message: Type.String(),
});

export const VerifyResultSchema = Type.Object({
  ok: Type.Boolean(),
  events: Type.Integer(),
  checkpoints: Type.Integer({ description: 'signed checkpoints in the database' }),
  externalCheckpoints: Type.Integer({
    description:
      "checkpoints kept outside the database (the node's checkpoint file, --checkpoints) that were checked",
  }),
  newestCheckpointAt: Type.Union([TimestampSchema, Type.Null()]),
  firstBadSeq: Type.Union([Type.Integer(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'the first problem, or null when ok' }),
  problems: Type.Array(VerifyProblemSchema, { description: 'every problem found, the earliest event first' }),
  tree: Type.Union([Type.Object({ size: Type.Integer(), root: Type.String() }), Type.Null()], {
    description: 'the Merkle tree the node keeps over the chain, when it matches the chain',
  }),
  cosignatures: Type.Array(
    Type.Object({
      witness: Type.String({ description: 'the party of the peer that cosigned' }),
      count: Type.Integer(),
      newestSize: Type.Integer(),
      newestAt: Type.String({ format: 'date-time' }),
    }),
    { description: "cosignatures peers gave this node's checkpoints, per witness" },
  ),
});

export const SignedCheckpointSchema = Type.Object(
  {
    size: Type.Integer({ minimum: 0, description: 'events in the chain when signed' }),
    head: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'hash of event `size` (64 zeros when 0)' }),
    signedAt: TimestampSchema,
    keyId: Type.String({ description: 'RFC 7638 thumbprint of the signing key' }),
    signature: Type.String({
      description:
        'Ed25519 (base64url) over the UTF-8 bytes of {"head":…,"keyId":…,"signedAt":…,"size":…}: exactly these keys in this order, no spaces, signedAt as ISO 8601 with milliseconds',
    }),
    publicKey: Type.Object(
      { kty: Type.Literal('OKP'), crv: Type.Literal('Ed25519'), x: Type.String(), kid: Type.String() },
      { description: 'the signing key as a JWK; pin it (GET /node/keys) rather than trust it from here' },
    ),
    root: RootSchema,
  },
  {
    description:
      'A signed checkpoint, self-contained: store it and check later that the chain still holds it',
  },
);
export type AuditVerifyResult = Static<typeof VerifyResultSchema>;
