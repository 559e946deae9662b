import { Type } from 'typebox';
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
});

export const AuditPageSchema = Type.Object({
  items: Type.Array(AuditEventSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as ?cursor= for the next page' }),
});

export const AuditQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(
      Type.String({ pattern: '^\\d+$', description: 'sequence number to continue after' }),
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

export const CheckpointSchema = Type.Object({
  id: Type.Integer(),
  size: Type.Integer(),
  head: Type.String(),
  signedAt: TimestampSchema,
  keyId: Type.String(),
  signature: Type.String({ description: 'Ed25519 over the canonical JSON {head, keyId, signedAt, size}' }),
});

export const CheckpointListSchema = Type.Object({ items: Type.Array(CheckpointSchema) });

export const VerifyResultSchema = Type.Object({
  ok: Type.Boolean(),
  events: Type.Integer(),
  checkpoints: Type.Integer(),
  firstBadSeq: Type.Union([Type.Integer(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
});
