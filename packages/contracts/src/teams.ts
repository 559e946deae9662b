import { type Static, Type } from 'typebox';
import { oneOf, PartyCodeSchema, TimestampSchema, UuidSchema } from './common.ts';
import { CopyFieldsSchema } from './federation.ts';
import { SkillSchema } from './requests.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const TeamProposalSchema = Type.Object({
  id: UuidSchema,
  requestId: UuidSchema,
  status: oneOf(['proposed', 'adopted', 'superseded'] as const),
  feasible: Type.Boolean({
    description: 'false: the needs cannot all be met; members is the best partial team',
  }),
  members: Type.Array(
    Type.Object({
      responderId: UuidSchema,
      name: Type.String(),
      party: PartyCodeSchema,
      covers: Type.Array(SkillSchema),
      reasons: Type.Array(Type.String()),
    }),
  ),
  objective: Type.Object({
    startHours: Type.Number({ description: 'hours until the whole team can start' }),
    size: Type.Integer(),
    recentDeployments: Type.Integer(),
    largestParty: Type.Integer(),
  }),
  excluded: Type.Array(Type.Object({ responderId: UuidSchema, name: Type.String(), reason: Type.String() })),
  unmet: Type.Array(
    Type.Object({
      skill: SkillSchema,
      minLevel: Type.Integer(),
      needed: Type.Integer(),
      covered: Type.Integer(),
    }),
  ),
  stats: Type.Object({ candidates: Type.Integer(), afterPruning: Type.Integer(), solveMs: Type.Number() }),
  createdAt: TimestampSchema,
  createdBy: Type.String(),
});
export type TeamProposal = Static<typeof TeamProposalSchema>;

export const DEPLOYMENT_STATUSES = [
  'proposed',
  'released',
  'accepted',
  'en_route',
  'remote',
  'on_site',
  'stood_down',
  'cancelled',
] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const DeploymentSchema = Type.Object({
  id: UuidSchema,
  requestId: UuidSchema,
  proposalId: UuidSchema,
  hostParty: PartyCodeSchema,
  status: oneOf(DEPLOYMENT_STATUSES),
  mode: Type.String(),
  exercise: Type.Boolean({ description: 'the deployment answers an exercise request' }),
  window: Type.Object({ from: TimestampSchema, to: TimestampSchema }),
  members: Type.Array(
    Type.Object({
      responderId: UuidSchema,
      /** Null for a viewer from another home state: they see the place, not the person. */
      name: Nullable(Type.String()),
      party: PartyCodeSchema,
      status: oneOf(['pending', 'released', 'declined', 'replaced'] as const),
      reasons: Type.Array(Type.String()),
      decidedBy: Nullable(Type.String()),
      decidedAt: Nullable(TimestampSchema),
      decisionReason: Nullable(Type.String()),
      passId: Nullable(UuidSchema),
      you: Type.Boolean({ description: 'this member is the viewer (their user is linked to the responder)' }),
      can: Type.Object(
        {
          release: Type.Boolean({ description: "the viewer, their home state's PoC, may release them now" }),
          decline: Type.Boolean({
            description: '… or decline them (with a reason); the team is solved again',
          }),
          pass: Type.Boolean({ description: 'the viewer may open their pass (GET …/passes/:responderId)' }),
          revokePass: Type.Boolean({ description: 'the viewer may revoke their pass (with a reason)' }),
        },
        { description: 'what the viewer may do about this member now, as the node enforces it' },
      ),
    }),
  ),
  acceptance: Nullable(
    Type.Object({
      personnelStatus: Type.String(),
      access: Type.String(),
      liabilityAgreementSha256: Type.String(),
      note: Nullable(Type.String()),
      acceptedAt: TimestampSchema,
      acceptedBy: Type.String(),
    }),
  ),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  version: Type.Integer(),
  can: Type.Object(
    {
      accept: Type.Boolean({ description: "the viewer, the host's PoC, may accept the released team" }),
      move: Type.Boolean({ description: 'the viewer may move the team along (one of `moveTo`)' }),
      moveTo: Type.Array(oneOf(['en_route', 'remote', 'on_site'] as const), {
        description: 'the moves the viewer may make now, fitting the mission’s mode',
      }),
      standDown: Type.Boolean({ description: 'the viewer may stand the team down (ends the passes)' }),
    },
    { description: 'what the viewer may do with this deployment now, as the node enforces it' },
  ),
  ...CopyFieldsSchema,
});
export type Deployment = Static<typeof DeploymentSchema>;

export const ProposalParamsSchema = Type.Object(
  { id: UuidSchema, pid: UuidSchema },
  { additionalProperties: false },
);
export const MemberParamsSchema = Type.Object(
  { id: UuidSchema, responderId: UuidSchema },
  { additionalProperties: false },
);

export const ReleaseBodySchema = Type.Object(
  {
    decision: oneOf(['release', 'decline'] as const),
    reason: Type.Optional(
      Type.String({
        maxLength: 2000,
        description: 'why: required for a decline; recorded in the request’s timeline and the audit log',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ReleaseBody = Static<typeof ReleaseBodySchema>;

export const AcceptanceBodySchema = Type.Object(
  {
    personnelStatus: Type.String({
      minLength: 1,
      maxLength: 2000,
      description: 'the legal status of the team on the territory (e.g. under the MoU, Art. …)',
    }),
    access: Type.String({
      minLength: 1,
      maxLength: 2000,
      description: 'systems and premises access granted',
    }),
    liabilityAgreementSha256: Type.String({
      pattern: '^[0-9a-f]{64}$',
      description: 'SHA-256 (hex) of the signed liability agreement',
    }),
    note: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type AcceptanceBody = Static<typeof AcceptanceBodySchema>;

export const DeploymentStatusBodySchema = Type.Object(
  {
    status: oneOf(['en_route', 'remote', 'on_site', 'stood_down'] as const),
    reason: Type.Optional(
      Type.String({
        maxLength: 2000,
        description: 'why (for a stand-down): recorded in the request’s timeline and the audit log',
      }),
    ),
  },
  { additionalProperties: false },
);
export type DeploymentStatusBody = Static<typeof DeploymentStatusBodySchema>;

export const PassResponseSchema = Type.Object({
  pass: Type.String({
    description: 'a compact JWS (EdDSA) signed with the node key; verify with GET /node/keys',
  }),
  passId: UuidSchema,
  keyId: Type.String(),
  expiresAt: TimestampSchema,
  qrSvg: Type.String({ description: 'the pass as a QR code (SVG)' }),
});
export type PassResponse = Static<typeof PassResponseSchema>;

export const RevocationListSchema = Type.Object({
  revoked: Type.Array(UuidSchema),
  updatedAt: Nullable(TimestampSchema),
});

export const RevokeBodySchema = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: 2000,
      description: 'why the pass is revoked: recorded in the request’s timeline and the audit log',
    }),
  },
  { additionalProperties: false },
);

/** The 409 of an adoption that would book someone twice. */
export const BookingConflictErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ examples: ['conflict'] }),
      message: Type.String(),
      details: Type.Optional(
        Type.Object({
          conflicts: Type.Array(
            Type.Object({
              responderId: UuidSchema,
              name: Type.String(),
              party: PartyCodeSchema,
              clash: oneOf(['deployment', 'unavailable', 'restriction'] as const),
              reason: Type.String({
                examples: [
                  'booked on deployment 0b9e… (request 5d1c…, on site) from 2026-11-24 06:00 to 2026-12-01 18:00 UTC',
                ],
              }),
              deploymentId: Type.Optional(UuidSchema),
              requestId: Type.Optional(UuidSchema),
            }),
          ),
          resolve: Type.Object({
            method: Type.Literal('POST'),
            href: Type.String({ description: 'the re-solve: propose a new team without them' }),
          }),
        }),
      ),
    }),
  },
  {
    description:
      'The team cannot be adopted (a booking clash, or the proposal or request is no longer adoptable); `details` is present for a booking clash',
  },
);
