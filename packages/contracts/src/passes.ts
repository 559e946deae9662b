import { type Static, Type } from 'typebox';
import { oneOf, TimestampSchema, UuidSchema } from './common.ts';

const EXAMPLE_PASS_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

/**
 * The revocation list as the node publishes it, to anyone (hosts fetch it without an account).
 * `signed` is what to trust: a compact JWS (EdDSA, typ `vytis-revocations+jwt`) signed with the
 * node key, verifiable with GET /node/keys; `revoked` and `updatedAt` repeat its payload for
 * convenience.
 */
export const SignedRevocationListSchema = Type.Object(
  {
    revoked: Type.Array(UuidSchema, { description: 'the revoked pass ids (jti)' }),
    updatedAt: Type.Union([TimestampSchema, Type.Null()], {
      description: 'the time of the latest revocation; null when none yet',
    }),
    issuedAt: TimestampSchema,
    keyId: Type.String({ description: 'the node key that signed it (kid in GET /node/keys)' }),
    signed: Type.String({
      description:
        'compact JWS, header {"alg":"EdDSA","kid":<keyId>,"typ":"vytis-revocations+jwt"}, payload ' +
        '{"iss":"vytis:<keyId>","iat":<seconds>,"revoked":[…],"updatedAt":<time or null>}. ' +
        'Save the whole response and give it to `vytis pass verify --revoked FILE`, or let ' +
        '`vytis pass verify --node URL` fetch it.',
    }),
  },
  {
    examples: [
      {
        revoked: [EXAMPLE_PASS_ID],
        updatedAt: '2027-03-28T09:15:00.000Z',
        issuedAt: '2027-03-28T10:00:00.000Z',
        keyId: 'oFV2nBq8u7f1Yq3eL0n4c8KZkQ9hX2mJr5tW6aD1sE0',
        signed: 'eyJhbGciOiJFZERTQSJ9.eyJyZXZva2VkIjpbXX0.c2lnbmF0dXJl',
      },
    ],
  },
);
export type SignedRevocationList = Static<typeof SignedRevocationListSchema>;

export const PassVerifyBodySchema = Type.Object(
  {
    token: Type.String({
      minLength: 1,
      maxLength: 16_384,
      description: 'the pass: its compact JWS, or the text of its QR code',
    }),
  },
  { additionalProperties: false },
);
export type PassVerifyBody = Static<typeof PassVerifyBodySchema>;

export const PASS_VERDICTS = [
  'valid',
  'revoked',
  'expired',
  'not-yet-valid',
  'unknown-signer',
  'invalid',
] as const;
export type PassVerdict = (typeof PASS_VERDICTS)[number];

/** What a host at the door learns of a pass: the verdict, who signed it, and (when signed) who it is for. */
export const PassVerificationSchema = Type.Object({
  verdict: oneOf(
    PASS_VERDICTS,
    'valid; revoked (on the signer’s revocation list); expired or not-yet-valid (outside its window); ' +
      'unknown-signer (not signed by this node nor a peer it trusts); invalid (malformed, altered, wrong algorithm)',
  ),
  reason: Type.String({ description: 'the verdict in a sentence' }),
  signer: Type.Union([
    Type.Object({
      kind: oneOf(['this-node', 'peer'] as const),
      party: Type.Union([Type.String(), Type.Null()], {
        description: 'the peer’s party; null for this node',
      }),
      keyId: Type.String(),
    }),
    Type.Null(),
  ]),
  claims: Type.Union(
    [
      Type.Object({
        passId: UuidSchema,
        responderId: Type.String(),
        responderName: Type.String(),
        homeParty: Type.String(),
        hostParty: Type.String(),
        deploymentId: Type.String(),
        requestId: Type.String(),
        window: Type.Object({ from: TimestampSchema, to: TimestampSchema }),
        skills: Type.Array(Type.Object({ skill: Type.String(), level: Type.Integer() })),
        exercise: Type.Boolean(),
        issuedAt: TimestampSchema,
        expiresAt: TimestampSchema,
      }),
      Type.Null(),
    ],
    { description: 'the pass’s claims once its signature holds (also when revoked or expired); else null' },
  ),
  revocation: Type.Object({
    checked: Type.Boolean({ description: 'false: no revocation list of the signer was at hand' }),
    note: Type.String({ description: 'what the revocation check rested on' }),
  }),
});
export type PassVerification = Static<typeof PassVerificationSchema>;
