import { type Static, Type } from 'typebox';
import { TimestampSchema, UuidSchema } from './common.ts';

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
