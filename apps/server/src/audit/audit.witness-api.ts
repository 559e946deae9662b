import { type Static, type TSchema, Type } from 'typebox';
import Value from 'typebox/value';

/**
 * What nodes show each other about their audit logs (GET /federation/v1/checkpoints, /consistency,
 * /cosignatures): the routes answer with these schemas, and a witness checks a peer's answer against
 * the very same ones before it reads a field of it. Only hashes and signatures: never an event.
 */

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$', maxLength: 64 });
const Party = Type.String({ pattern: '^[A-Z][A-Z0-9_-]{1,31}$', description: 'a party code, e.g. LT' });
const Signature = Type.String({ pattern: '^[A-Za-z0-9_-]{1,200}$', description: 'Ed25519, base64url' });
const KeyId = Type.String({ minLength: 1, maxLength: 100 });
const Time = Type.String({ format: 'date-time', maxLength: 40 });
const Size = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** A checkpoint as its signer signed it: enough to check the signature anywhere. */
export const SignedTreeHeadSchema = Type.Object(
  {
    size: Size,
    head: Hex64,
    root: Type.Union([Hex64, Type.Null()], {
      description: 'RFC 9162 tree head of the first `size` events; null on checkpoints older than the tree',
    }),
    signedAt: Time,
    keyId: KeyId,
    signature: Signature,
  },
  {
    additionalProperties: false,
    description:
      'Signed over {"head","keyId","root","signedAt","size"} (RFC 8785 order, no spaces; no "root" key when null)',
  },
);

export const CosignatureSchema = Type.Object(
  {
    subject: Party,
    subjectKeyId: KeyId,
    size: Size,
    root: Hex64,
    checkpoint: SignedTreeHeadSchema,
    witness: Party,
    witnessKeyId: KeyId,
    cosignedAt: Time,
    signature: Type.String({
      pattern: '^[A-Za-z0-9_-]{1,200}$',
      description:
        'Ed25519 of the witness over {"cosignedAt","root","size","subject","subjectKeyId","type":"vytis-audit-cosignature/1","witness"}',
    }),
  },
  { additionalProperties: false },
);

export const CheckpointsQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    before: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'cursor: the `id` of the last item seen',
      }),
    ),
  },
  { additionalProperties: false },
);

export const CheckpointsAnswerSchema = Type.Object(
  {
    party: Type.Union([Party, Type.Null()]),
    keyId: KeyId,
    items: Type.Array(
      Type.Object(
        {
          id: Type.Integer({ minimum: 1 }),
          ...SignedTreeHeadSchema.properties,
          cosignatures: Type.Array(
            Type.Object(
              { witness: Party, witnessKeyId: KeyId, cosignedAt: Time, signature: Signature },
              { additionalProperties: false },
            ),
            { maxItems: 100 },
          ),
        },
        { additionalProperties: false },
      ),
      { maxItems: 100 },
    ),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);

export const ConsistencyQuerySchema = Type.Object(
  {
    first: Type.String({ maxLength: 20, description: 'the smaller tree size, at least 1' }),
    second: Type.String({ maxLength: 20, description: 'the larger tree size, at most the log’s size' }),
  },
  { additionalProperties: false },
);

export const ConsistencyAnswerSchema = Type.Object(
  {
    first: Size,
    second: Size,
    secondRoot: Hex64,
    proof: Type.Array(Hex64, { maxItems: 128, description: 'RFC 9162 §2.1.4 PROOF(first, D[second])' }),
  },
  { additionalProperties: false },
);

export const CosignaturesQuerySchema = Type.Object(
  {
    subject: Party,
    after: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'only cosignatures of larger sizes',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 100 })),
    order: Type.Optional(
      Type.Union([Type.Literal('asc'), Type.Literal('desc')], {
        default: 'asc',
        description: 'by size: asc from `after` on, or desc for the newest (`limit=1`: the newest alone)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const CosignaturesAnswerSchema = Type.Object(
  {
    witness: Type.Union([Party, Type.Null()]),
    items: Type.Array(CosignatureSchema, { maxItems: 100 }),
  },
  { additionalProperties: false },
);

export type SignedTreeHead = Static<typeof SignedTreeHeadSchema>;
export type Cosignature = Static<typeof CosignatureSchema>;
export type CheckpointsAnswer = Static<typeof CheckpointsAnswerSchema>;
export type ConsistencyAnswer = Static<typeof ConsistencyAnswerSchema>;
export type CosignaturesAnswer = Static<typeof CosignaturesAnswerSchema>;

/** What a witness signs: that `witness` saw `subject`'s signed tree head of `size` with `root`. */
export function cosignatureStatement(c: {
  subject: string;
  subjectKeyId: string;
  size: number;
  root: string;
  witness: string;
  cosignedAt: string;
}): string {
  return `{"cosignedAt":${JSON.stringify(c.cosignedAt)},"root":${JSON.stringify(c.root)},"size":${c.size},"subject":${JSON.stringify(c.subject)},"subjectKeyId":${JSON.stringify(c.subjectKeyId)},"type":"vytis-audit-cosignature/1","witness":${JSON.stringify(c.witness)}}`;
}

/** A peer's answer, checked against its schema; otherwise an error naming the first problem. */
export function checkAnswer<T>(schema: TSchema, value: unknown, what: string): T {
  if (Value.Check(schema, value)) return value as T;
  const first = [...Value.Errors(schema, value)][0];
  throw new Error(
    `${what} is malformed: ${first ? `${first.instancePath || '/'} ${first.message}` : 'does not match its schema'}`,
  );
}
