import { type Static, Type } from 'typebox';

/** A string from a fixed list, as a plain JSON Schema `enum` (clear errors, clean OpenAPI). */
export function oneOf<const T extends readonly string[]>(values: T, description?: string) {
  return Type.Unsafe<T[number]>({
    type: 'string',
    enum: [...values],
    ...(description ? { description } : {}),
  });
}

export const ROLES = ['admin', 'coordinator', 'council', 'poc', 'responder', 'analyst', 'auditor'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = oneOf(ROLES);

export const PARTY_STATUSES = ['member', 'observer', 'eu_institution', 'partner', 'external'] as const;
export type PartyStatus = (typeof PARTY_STATUSES)[number];
export const PartyStatusSchema = oneOf(PARTY_STATUSES);

export const PARTY_KINDS = ['state', 'eu_institution', 'csdp_mission'] as const;
export type PartyKind = (typeof PARTY_KINDS)[number];
export const PartyKindSchema = oneOf(PARTY_KINDS);

/** ISO 3166-1 alpha-2 for states, `EU` for EU institutions. */
export const PartyCodeSchema = Type.String({
  pattern: '^[A-Z]{2}$',
  description: 'ISO 3166-1 alpha-2, or EU',
});
export const DateOnlySchema = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}$',
  description: 'YYYY-MM-DD (UTC)',
});
/**
 * An RFC 3339 time. Years 1000–9998 and seconds below 60 only: both databases and JavaScript agree
 * on every such time, whatever its offset, so no stored time can fail to read back.
 */
export const TimestampSchema = Type.String({
  format: 'date-time',
  pattern:
    '^(?:1\\d{3}|[2-8]\\d{3}|9[0-8]\\d{2}|99[0-8]\\d|999[0-8])-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:[0-5]\\d',
});
export const UuidSchema = Type.String({ format: 'uuid' });

export const ErrorBodySchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBodySchema>;

export const pageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
};
