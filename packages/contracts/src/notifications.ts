// Each person's notifications (issue 18): the events addressed to them, in the app and by e-mail.
import { type Static, Type } from 'typebox';
import { oneOf, TimestampSchema, UuidSchema } from './common.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

/** What a notification is about; each person chooses, per kind, in the app and by e-mail. */
export const NOTIFICATION_KINDS = [
  'vote.opened',
  'release.asked',
  'acceptance.asked',
  'decision.made',
  'request.submitted',
  'clock.warning',
  'clock.overdue',
  'task.assigned',
  'pass.issued',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export const NotificationKindSchema = oneOf(NOTIFICATION_KINDS);

export const InboxItemSchema = Type.Object({
  id: UuidSchema,
  kind: NotificationKindSchema,
  title: Type.String({ description: 'what happened, in words' }),
  href: Type.String({ description: "the object's page in the web app, e.g. /requests/…" }),
  at: TimestampSchema,
  read: Type.Boolean(),
  exercise: Type.Boolean(),
  requestId: Nullable(UuidSchema),
  caseId: Nullable(UuidSchema),
});
export type InboxItem = Static<typeof InboxItemSchema>;

export const InboxQuerySchema = Type.Object(
  {
    unread: Type.Optional(Type.Boolean({ description: 'true: only the unread ones' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(
      Type.String({ maxLength: 40, pattern: '^[0-9]{1,15}$', description: 'nextCursor of the page before' }),
    ),
  },
  { additionalProperties: false },
);
export type InboxQuery = Static<typeof InboxQuerySchema>;

export const InboxPageSchema = Type.Object({
  items: Type.Array(InboxItemSchema),
  unreadCount: Type.Integer({ minimum: 0 }),
  nextCursor: Nullable(Type.String()),
});
export type InboxPage = Static<typeof InboxPageSchema>;

export const MarkReadSchema = Type.Union([
  Type.Object(
    { ids: Type.Array(UuidSchema, { minItems: 1, maxItems: 500 }) },
    { additionalProperties: false },
  ),
  Type.Object({ all: Type.Literal(true) }, { additionalProperties: false }),
]);
export type MarkRead = Static<typeof MarkReadSchema>;

export const MarkedReadSchema = Type.Object({
  marked: Type.Integer({ minimum: 0, description: 'how many were unread and are read now' }),
  unreadCount: Type.Integer({ minimum: 0 }),
});
export type MarkedRead = Static<typeof MarkedReadSchema>;

export const KindSettingSchema = Type.Object(
  {
    kind: NotificationKindSchema,
    inApp: Type.Boolean(),
    email: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type KindSetting = Static<typeof KindSettingSchema>;

export const EmailAddressSchema = Type.String({ format: 'email', maxLength: 254 });

export const NotificationSettingsSchema = Type.Object({
  email: Nullable(EmailAddressSchema),
  /** Whether this node sends e-mail at all (VYTIS_SMTP_URL is set). */
  mailConfigured: Type.Boolean(),
  /** The kinds that can be addressed to someone with my roles. */
  kinds: Type.Array(
    Type.Object({
      kind: NotificationKindSchema,
      label: Type.String({ description: 'the kind in words' }),
      inApp: Type.Boolean(),
      email: Type.Boolean(),
      /** Whether the choice is the default (nothing chosen yet). */
      isDefault: Type.Boolean(),
    }),
  ),
});
export type NotificationSettings = Static<typeof NotificationSettingsSchema>;

export const NotificationSettingsUpdateSchema = Type.Object(
  {
    email: Type.Optional(Nullable(EmailAddressSchema)),
    kinds: Type.Optional(Type.Array(KindSettingSchema, { maxItems: NOTIFICATION_KINDS.length })),
  },
  { additionalProperties: false },
);
export type NotificationSettingsUpdate = Static<typeof NotificationSettingsUpdateSchema>;

/** An admin sets someone's address (PUT /users/:id/email). */
export const UserEmailSchema = Type.Object(
  { email: Nullable(EmailAddressSchema) },
  { additionalProperties: false },
);
export type UserEmail = Static<typeof UserEmailSchema>;
