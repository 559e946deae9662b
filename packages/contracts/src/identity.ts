import { type Static, Type } from 'typebox';
import { PartyCodeSchema, RoleSchema, TimestampSchema, UuidSchema } from './common.ts';

export const UserNameSchema = Type.String({
  minLength: 2,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]*$',
  description: 'letters, digits, dot, underscore, @ and hyphen',
});

export const MeSchema = Type.Object({
  id: UuidSchema,
  name: Type.String(),
  party: PartyCodeSchema,
  roles: Type.Array(RoleSchema),
  can: Type.Object(
    { fileRequest: Type.Boolean({ description: "file a request for help (a party's PoC)" }) },
    { description: 'what you may start (the server enforces the same rule)' },
  ),
});
export type Me = Static<typeof MeSchema>;

export const UserSchema = Type.Object({
  id: UuidSchema,
  name: Type.String(),
  party: PartyCodeSchema,
  roles: Type.Array(RoleSchema),
  hasPassword: Type.Boolean(),
  createdAt: TimestampSchema,
  disabledAt: Type.Union([TimestampSchema, Type.Null()]),
  version: Type.Integer(),
  mfa: Type.Boolean({ description: 'whether the user logs in with a TOTP second factor' }),
  can: Type.Object(
    {
      disable: Type.Boolean(),
      enable: Type.Boolean(),
      setRoles: Type.Boolean(),
      resetPassword: Type.Boolean(),
      endSessions: Type.Boolean(),
      resetMfa: Type.Boolean({ description: 'remove their second factor (a lost device)' }),
      grantRoles: Type.Array(RoleSchema, { description: 'the roles the caller may grant or remove here' }),
    },
    { description: 'what the caller may do to this account (the server enforces the same rules)' },
  ),
});
export type User = Static<typeof UserSchema>;

export const UserListSchema = Type.Object({
  items: Type.Array(UserSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const NewUserSchema = Type.Object(
  {
    name: UserNameSchema,
    party: Type.String({ description: 'party code' }),
    roles: Type.Array(RoleSchema, { minItems: 1, uniqueItems: true }),
    password: Type.Optional(Type.String({ minLength: 12, maxLength: 1024 })),
  },
  { additionalProperties: false },
);
export type NewUser = Static<typeof NewUserSchema>;

export const TokenSchema = Type.Object({
  id: UuidSchema,
  userId: UuidSchema,
  label: Type.Union([Type.String(), Type.Null()]),
  createdAt: TimestampSchema,
  expiresAt: TimestampSchema,
  revokedAt: Type.Union([TimestampSchema, Type.Null()]),
  lastUsedAt: Type.Union([TimestampSchema, Type.Null()]),
});
export type Token = Static<typeof TokenSchema>;

export const IssuedTokenSchema = Type.Object({
  token: Type.String({ description: 'shown once; only its hash is stored' }),
  info: TokenSchema,
});
export type IssuedToken = Static<typeof IssuedTokenSchema>;

export const TokenListSchema = Type.Object({ items: Type.Array(TokenSchema) });

export const NewTokenSchema = Type.Object(
  {
    label: Type.Optional(Type.String({ maxLength: 200 })),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 })),
  },
  { additionalProperties: false },
);
export type NewToken = Static<typeof NewTokenSchema>;

export const LoginSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export const SessionSchema = Type.Object({
  user: MeSchema,
  csrfToken: Type.String({ description: 'send back as X-CSRF-Token on every unsafe request' }),
  expiresAt: TimestampSchema,
  mfaEnrolmentRequired: Type.Boolean({
    description:
      'the account must enrol a second factor before doing anything else (VYTIS_REQUIRE_MFA=admins)',
  }),
});
export type Session = Static<typeof SessionSchema>;

/** The first step of a login with a second factor: the password was right, now the code. */
export const MfaChallengeSchema = Type.Object({
  mfaRequired: Type.Literal(true),
  challenge: Type.String({ description: 'send back with the code to POST /session/mfa' }),
  expiresAt: TimestampSchema,
});
export type MfaChallenge = Static<typeof MfaChallengeSchema>;

export const MfaLoginSchema = Type.Object(
  {
    challenge: Type.String({ minLength: 1, maxLength: 200 }),
    code: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'the 6-digit code of the authenticator app, or a recovery code',
    }),
  },
  { additionalProperties: false },
);

const PasswordSchema = Type.String({ minLength: 12, maxLength: 1024 });

export const DisableUserSchema = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500, description: 'kept in the audit log' })) },
  { additionalProperties: false },
);

export const SetRolesSchema = Type.Object(
  { roles: Type.Array(RoleSchema, { minItems: 1, uniqueItems: true }) },
  { additionalProperties: false },
);

export const ResetPasswordSchema = Type.Object({ password: PasswordSchema }, { additionalProperties: false });

export const ChangePasswordSchema = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 1024 }), newPassword: PasswordSchema },
  { additionalProperties: false },
);

export const EndedSessionsSchema = Type.Object({
  sessions: Type.Integer({ description: 'web sessions ended' }),
  tokens: Type.Integer({ description: 'API tokens revoked' }),
});
export type EndedSessions = Static<typeof EndedSessionsSchema>;

export const MfaStatusSchema = Type.Object({
  enabled: Type.Boolean(),
  enrolling: Type.Boolean({ description: 'an enrolment was started and awaits its first code' }),
  required: Type.Boolean({ description: 'this account may not be without a second factor' }),
  recoveryCodesLeft: Type.Integer(),
});
export type MfaStatus = Static<typeof MfaStatusSchema>;

export const MfaBeginSchema = Type.Object(
  { password: Type.String({ minLength: 1, maxLength: 1024, description: 'your current password' }) },
  { additionalProperties: false },
);

export const MfaEnrolmentSchema = Type.Object({
  secret: Type.String({ description: 'base32, for typing into an authenticator app' }),
  uri: Type.String({ description: 'otpauth:// URI (RFC 6238: SHA-1, 30 s, 6 digits)' }),
  qrSvg: Type.String({ description: 'the URI as a QR code, a standalone SVG' }),
});
export type MfaEnrolment = Static<typeof MfaEnrolmentSchema>;

export const MfaCodeSchema = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

export const RecoveryCodesSchema = Type.Object({
  recoveryCodes: Type.Array(Type.String(), { description: 'shown once; each works once' }),
});
export type RecoveryCodes = Static<typeof RecoveryCodesSchema>;
