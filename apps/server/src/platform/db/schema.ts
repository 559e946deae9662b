import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Row types of the database, as Kysely sees them. Migrations are the source of truth. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface PartiesTable {
  code: string;
  name: string;
  kind: string;
  created_at: Timestamp;
}

export interface PartyStatusesTable {
  id: Generated<number>;
  party_code: string;
  status: string;
  /** 'YYYY-MM-DD' (UTC day the status takes effect). */
  effective_from: string;
  note: string | null;
  recorded_at: Timestamp;
  recorded_by: string;
}

export interface FrameworksTable {
  version: number;
  effective_from: Timestamp;
  rules: ColumnType<unknown, string, string>;
  note: string | null;
  created_at: Timestamp;
  created_by: string;
}

export interface UsersTable {
  id: string;
  name: string;
  party_code: string;
  roles: string[];
  password_hash: string | null;
  created_at: Timestamp;
  disabled_at: Timestamp | null;
  version: number;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  token_hash: string;
  label: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  token_hash: string;
  csrf_token: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface AuditEventsTable {
  seq: number;
  /** The event's canonical JSON (RFC 8785), byte for byte what was hashed. */
  envelope: string;
  hash: string;
}

export interface AuditHeadTable {
  id: number;
  seq: number;
  prev_hash: string;
  hash: string;
}

export interface AuditCheckpointsTable {
  id: Generated<number>;
  size: number;
  head: string;
  signed_at: Timestamp;
  key_id: string;
  signature: string;
}

export interface Database {
  parties: PartiesTable;
  party_statuses: PartyStatusesTable;
  frameworks: FrameworksTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  audit_head: AuditHeadTable;
  audit_checkpoints: AuditCheckpointsTable;
}

export type UserRow = Selectable<UsersTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type NewAuditEventRow = Insertable<AuditEventsTable>;
