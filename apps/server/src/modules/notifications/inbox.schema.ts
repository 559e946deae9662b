import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** 0020_notifications: the tables of each person's notifications. */
export interface InboxTables {
  inbox_cursor: InboxCursorTable;
  inbox_items: InboxItemsTable;
  notification_settings: NotificationSettingsTable;
  user_contact: UserContactTable;
  mail_outbox: MailOutboxTable;
}

/** The last event the dispatcher handled (one row). */
export interface InboxCursorTable {
  id: number;
  seq: number;
}

export interface InboxItemsTable {
  id: Generated<string>;
  user_id: string;
  /** The event (`notifications.seq`) it comes from: one item per person and event. */
  seq: number;
  kind: string;
  at: Timestamp;
  title: string;
  href: string;
  request_id: string | null;
  case_id: string | null;
  exercise: boolean;
  read_at: Timestamp | null;
  created_at: Timestamp;
}

/** A person's choice for one kind; without a row, the kind's default. */
export interface NotificationSettingsTable {
  user_id: string;
  kind: string;
  in_app: boolean;
  email: boolean;
  updated_at: Timestamp;
}

export interface UserContactTable {
  user_id: string;
  email: string | null;
  updated_at: Timestamp;
}

export interface MailOutboxTable {
  id: Generated<string>;
  user_id: string;
  seq: number;
  kind: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
  state: Generated<string>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp | null;
  lease_until: Timestamp | null;
  last_error: string | null;
  sent_at: Timestamp | null;
  created_at: Timestamp;
}
