import { type Static, Type } from 'typebox';
import { oneOf, TimestampSchema } from './common.ts';

// Federation (issue 13): this node's identity, its signed descriptor, and the peers it trusts.

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const FEDERATION_PROTOCOL = 'vytis-federation/1';
export const NODE_ROLES = ['coordinator', 'national'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];
export const NodeRoleSchema = oneOf(NODE_ROLES);

/**
 * Something a user did on this node to a read-only copy (a vote, a release, an acceptance…): sent to
 * the node that speaks for the object, which applies it as if the user were there and answers.
 */
export const FORWARDED_STATES = ['pending', 'applied', 'refused'] as const;
export const ForwardedActionSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  kind: Type.String({
    description: 'vote, transition, release, accept, deployment-status, revoke-pass or carry',
  }),
  to: Type.String({ description: 'the party whose node applies it' }),
  state: oneOf(FORWARDED_STATES),
  outcome: Nullable(Type.String({ description: "that node's answer: why it was refused, or what it did" })),
  by: Type.String(),
  at: TimestampSchema,
  decidedAt: Nullable(TimestampSchema),
});
export type ForwardedAction = Static<typeof ForwardedActionSchema>;

/** What a copy says about itself: where it comes from, and what this node sent its origin about it. */
export const CopyFieldsSchema = {
  mirroredFrom: Type.Optional(
    Nullable(
      Type.String({
        description:
          "the party whose node this is a read-only copy from (federation); absent or null: this node's own. Actions on it are sent to that node.",
      }),
    ),
  ),
  forwarded: Type.Optional(
    Type.Array(ForwardedActionSchema, {
      description: 'the latest actions this node sent the origin about this copy, newest first (at most 20)',
    }),
  ),
};

/** A party code as VYTIS_NODE_PARTY takes it. */
export const FederationPartySchema = Type.String({
  pattern: '^[A-Z]{2,8}$',
  description: 'party code in capitals, e.g. LT',
});

/** An RFC 7638 JWK thumbprint (SHA-256, base64url): the key id peers pin. */
export const KeyIdSchema = Type.String({
  pattern: '^[A-Za-z0-9_-]{43}$',
  description: 'RFC 7638 thumbprint of an Ed25519 public key (base64url SHA-256)',
});

/** An Ed25519 public key as a JWK, with its thumbprint as `kid`. */
export const NodeJwkSchema = Type.Object(
  {
    kty: Type.Literal('OKP'),
    crv: Type.Literal('Ed25519'),
    x: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
    kid: KeyIdSchema,
    use: Type.Literal('sig'),
  },
  { additionalProperties: false },
);
export type NodeJwk = Static<typeof NodeJwkSchema>;

export const KeyRotationSchema = Type.Object(
  {
    previousKeyId: KeyIdSchema,
    previousKey: NodeJwkSchema,
    signature: Type.String({
      description:
        'Ed25519 by the previous key (base64url) over the RFC 8785 JSON of {"keyId": <new key id>, "previousKeyId": …, "purpose": "vytis-federation/1 key rotation"}',
    }),
  },
  {
    additionalProperties: false,
    description: 'the node was re-keyed: its previous key names the new one, so peers that pinned it move on',
  },
);
export type KeyRotation = Static<typeof KeyRotationSchema>;

export const NodeDescriptorSchema = Type.Object(
  {
    party: FederationPartySchema,
    url: Type.String({ description: 'where peers reach this node (VYTIS_PUBLIC_URL)' }),
    role: NodeRoleSchema,
    keys: Type.Array(NodeJwkSchema, { minItems: 1, maxItems: 1, description: 'the key the node signs with' }),
    protocol: Type.Literal(FEDERATION_PROTOCOL),
    issuedAt: TimestampSchema,
    rotation: Type.Optional(KeyRotationSchema),
    signature: Type.String({
      description: 'Ed25519 by keys[0] (base64url) over the RFC 8785 JSON of every other field',
    }),
  },
  { additionalProperties: false },
);
export type NodeDescriptor = Static<typeof NodeDescriptorSchema>;

export const PEER_STATUSES = ['active', 'removed'] as const;
export type PeerStatus = (typeof PEER_STATUSES)[number];

export const FederationPeerSchema = Type.Object({
  party: Type.String(),
  url: Type.String(),
  role: NodeRoleSchema,
  keyId: Type.String({ description: 'thumbprint of the key the peer is trusted under' }),
  status: oneOf(PEER_STATUSES),
  addedAt: TimestampSchema,
  addedBy: Type.String(),
  removedAt: Nullable(TimestampSchema),
  cursor: Type.Integer({ description: 'the last sequence of its change feed applied here' }),
  remoteHead: Nullable(Type.Integer({ description: 'its feed head at the last pull' })),
  lag: Nullable(Type.Integer({ description: 'remoteHead - cursor; null until a pull has said' })),
  lastPullAt: Nullable(TimestampSchema),
  lastOkAt: Nullable(TimestampSchema),
  lastError: Nullable(Type.String()),
  lastErrorAt: Nullable(TimestampSchema),
  appliedTotal: Type.Integer(),
  refusedTotal: Type.Integer(),
});
export type FederationPeer = Static<typeof FederationPeerSchema>;

export const FederationNodeSchema = Type.Object({
  party: Nullable(Type.String({ description: 'VYTIS_NODE_PARTY; null: this node is not federated' })),
  role: NodeRoleSchema,
  url: Nullable(Type.String({ description: 'VYTIS_PUBLIC_URL; null: not set' })),
  keyId: Type.String({ description: 'thumbprint of this node’s key: what peers pin' }),
});
export type FederationNode = Static<typeof FederationNodeSchema>;

export const FederationPeerListSchema = Type.Object({
  node: FederationNodeSchema,
  items: Type.Array(FederationPeerSchema),
  can: Type.Object({ manage: Type.Boolean({ description: 'add, remove and pull peers (admins)' }) }),
});
export type FederationPeerList = Static<typeof FederationPeerListSchema>;

export const NewFederationPeerSchema = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2000,
      pattern: '^https?://',
      description: 'the peer node’s base URL; its descriptor is read at /federation/v1/node',
    }),
    party: FederationPartySchema,
    pin: Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'the thumbprint of the peer’s key, agreed out of band (`kid` of its descriptor)',
    }),
  },
  { additionalProperties: false },
);
export type NewFederationPeer = Static<typeof NewFederationPeerSchema>;

export const FederationPeerParamsSchema = Type.Object(
  { party: FederationPartySchema },
  { additionalProperties: false },
);
