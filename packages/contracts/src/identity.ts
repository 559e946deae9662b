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

export const TokenListSchema = Type.Object({ items: Type.Array(TokenSchema) });

export const NewTokenSchema = Type.Object(
  {
    label: Type.Optional(Type.String({ maxLength: 200 })),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 })),
  },
  { additionalProperties: false },
);

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
});
