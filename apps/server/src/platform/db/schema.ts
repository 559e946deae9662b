import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { AuditWitnessTables } from '../../audit/audit-witness.schema.ts';
import type { Actor } from '../../context.ts';
import type { FederationTables } from '../../modules/federation/federation.schema.ts';
// Notifications (issue 18): each person's inbox, choices, contact and mail outbox.
import type { InboxTables } from '../../modules/notifications/inbox.schema.ts';
import type { ReportsTables } from '../../modules/reports/reports.schema.ts';

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
  /** 0006_accounts: the confirmed TOTP secret (base32); null when the user has no second factor. */
  mfa_secret: ColumnType<string | null, string | null | undefined, string | null>;
  /** A secret being enrolled, until its first code confirms it. */
  mfa_pending_secret: ColumnType<string | null, string | null | undefined, string | null>;
  /** The last TOTP time step accepted: a code is never accepted twice. */
  mfa_last_step: ColumnType<number | null, number | null | undefined, number | null>;
  mfa_enabled_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface UserRecoveryCodesTable {
  user_id: string;
  code_hash: string;
  created_at: Timestamp;
  used_at: Timestamp | null;
}

export interface LoginChallengesTable {
  id: string;
  user_id: string;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  failures: Generated<number>;
  used_at: Timestamp | null;
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

/** 0014_calendar_feeds: secret duty calendar URLs; only the secret's hash is kept. */
export interface CalendarFeedsTable {
  id: string;
  user_id: string;
  token_hash: string;
  kind: string;
  target: string;
  label: string | null;
  created_at: Timestamp;
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

/** Events recorded but not yet placed in the chain: a sealer places them right after commit. */
export interface AuditPendingTable {
  id: Generated<number>;
  head: string;
  middle: string;
  tail: string;
}

export interface AuditCheckpointsTable {
  id: Generated<number>;
  size: number;
  head: string;
  signed_at: Timestamp;
  key_id: string;
  signature: string;
  /** 0018_audit_witness: MTH of the first `size` leaves (hex), signed with the head; null on older checkpoints. */
  root: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface Database extends FederationTables, AuditWitnessTables, InboxTables, ReportsTables {
  parties: PartiesTable;
  party_statuses: PartyStatusesTable;
  frameworks: FrameworksTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  calendar_feeds: CalendarFeedsTable;
  sessions: SessionsTable;
  user_recovery_codes: UserRecoveryCodesTable;
  login_challenges: LoginChallengesTable;
  audit_events: AuditEventsTable;
  event_stream_claims: EventStreamClaimsTable;
  rate_limit_windows: RateLimitWindowsTable;
  login_attempts: LoginAttemptsTable;
  sealing_keys: SealingKeysTable;
  denial_windows: DenialWindowsTable;
  audit_head: AuditHeadTable;
  audit_pending: AuditPendingTable;
  audit_checkpoints: AuditCheckpointsTable;
  requests: RequestsTable;
  request_timeline: RequestTimelineTable;
  council_votes: CouncilVotesTable;
  deadlines: DeadlinesTable;
  notifications: NotificationsTable;
  notifications_pending: NotificationsPendingTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  responders: RespondersTable;
  responder_unavailability: ResponderUnavailabilityTable;
  duty_rotations: DutyRotationsTable;
  team_proposals: TeamProposalsTable;
  deployments: DeploymentsTable;
  deployment_members: DeploymentMembersTable;
  pass_revocations: PassRevocationsTable;
  cases: CasesTable;
  case_shares: { case_id: string; party_code: string };
  sharing_groups: SharingGroupsTable;
  sharing_group_members: { group_id: string; party_code: string };
  case_group_shares: { case_id: string; group_id: string };
  case_recipients: { case_id: string; user_id: string };
  case_assignees: { case_id: string; user_id: string };
  case_tasks: CaseTasksTable;
  case_notes: CaseNotesTable;
  case_intel_objects: CaseIntelObjectsTable;
  taxii_statuses: TaxiiStatusesTable;
  misp_events: MispEventsTable;
  misp_event_parts: MispEventPartsTable;
  misp_feeds: MispFeedsTable;
  misp_feed_events: MispFeedEventsTable;
  case_timeline: CaseTimelineTable;
  observables: ObservablesTable;
  observable_imports: ObservableImportsTable;
  evidence: EvidenceTable;
  evidence_custody: EvidenceCustodyTable;
  evidence_chunks: EvidenceChunksTable;
  evidence_files_to_adopt: EvidenceFilesToAdoptTable;
}

export type UserRow = Selectable<UsersTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type NewAuditEventRow = Insertable<AuditEventsTable>;

export interface RequestsTable {
  id: string;
  party_code: string;
  status: string;
  version: number;
  exercise: boolean;
  title: string;
  severity: string;
  tlp: string;
  incident_class: string;
  /** The request's template fields as sent (validated); title, severity, tlp… are copied out for SQL. */
  fields: ColumnType<unknown, string, string>;
  priority_score: number;
  priority: ColumnType<unknown, string, string>;
  eligibility: ColumnType<unknown, string | null, string | null>;
  council: ColumnType<unknown, string | null, string | null>;
  decision: ColumnType<unknown, string | null, string | null>;
  report: ColumnType<unknown, string | null, string | null>;
  created_at: Timestamp;
  created_by: string;
  submitted_at: Timestamp | null;
  updated_at: Timestamp;
  /** The party whose node this row is a read-only copy from (null: this node's own), at its feed version. */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
  /** A copy its origin no longer shows this node; kept (hidden) while this node's own work refers to it. */
  mirror_retracted: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface RequestTimelineTable {
  id: Generated<number>;
  request_id: string;
  at: Timestamp;
  kind: string;
  actor: string;
  party: string | null;
  from_status: string | null;
  to_status: string | null;
  party_only: boolean;
  detail: ColumnType<unknown, string, string>;
  /** The party whose node this row is a read-only copy from (null: this node's own), at its feed version. */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
  /** On a copy, the entry's id on its origin's node. */
  origin_id: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface CouncilVotesTable {
  request_id: string;
  party_code: string;
  vote: string;
  comment: string | null;
  cast_by: string;
  cast_at: Timestamp;
  /** The party whose node this row is a read-only copy from (null: this node's own), at its feed version. */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface DeadlinesTable {
  id: string;
  request_id: string;
  kind: string;
  due_at: Timestamp;
  warn_at: Timestamp;
  state: string;
  warned_at: Timestamp | null;
  escalated_at: Timestamp | null;
  met_at: Timestamp | null;
  /** The party whose node this row is a read-only copy from (null: this node's own), at its feed version. */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface NotificationsTable {
  seq: Generated<number>;
  at: Timestamp;
  type: string;
  request_id: string | null;
  party_only: boolean;
  data: ColumnType<unknown, string, string>;
  case_id: ColumnType<string | null, string | null | undefined, never>;
  /** An item's own label, for events about it; null: the case's label decides. */
  tlp: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0008_observable_copies: who created the event's item, and its originating party (its audience). */
  item_created_by_id: ColumnType<string | null, string | null | undefined, never>;
  item_origin_party: ColumnType<string | null, string | null | undefined, never>;
}

/** Published but not yet numbered: a sequencer gives them their `seq` right after commit. */
export interface NotificationsPendingTable extends Omit<NotificationsTable, 'seq' | 'tlp'> {
  id: Generated<number>;
  tlp: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface WebhooksTable {
  id: string;
  party_code: string;
  url: string;
  secret: string;
  description: string | null;
  created_at: Timestamp;
  created_by: string;
  disabled_at: Timestamp | null;
  /** Receives the events of exercises too (marked); real events only when false. */
  exercises: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  notification_seq: number;
  state: string;
  attempts: number;
  next_attempt_at: Timestamp | null;
  lease_until: Timestamp | null;
  last_error: string | null;
  last_status: number | null;
  delivered_at: Timestamp | null;
  created_at: Timestamp;
}

export interface RespondersTable {
  id: string;
  party_code: string;
  name: string;
  affiliation: string;
  skills: ColumnType<unknown, string, string>;
  languages: string[];
  clearance: string;
  base: ColumnType<unknown, string, string>;
  readiness: ColumnType<unknown, string, string>;
  /** 'YYYY-MM-DD' */
  travel_documents_until: string | null;
  user_id: string | null;
  created_at: Timestamp;
  created_by: string;
  updated_at: Timestamp;
  version: number;
  /** The party whose node this row is a read-only copy from (null: this node's own), at its feed version. */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface ResponderUnavailabilityTable {
  id: string;
  responder_id: string;
  starts_at: Timestamp;
  ends_at: Timestamp;
  kind: string;
  note: string | null;
  /** The party whose node this row is a read-only copy from (null: this node's own), at its feed version. */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface DutyRotationsTable {
  id: string;
  party_code: string;
  name: string;
  time_zone: string;
  /** 'YYYY-MM-DD', a local date in time_zone */
  starts_on: string;
  /** 'HH:MM', local time in time_zone */
  shift_start: string;
  shift_hours: number;
  shift_days: number;
  responder_ids: ColumnType<unknown, string, string>;
  created_at: Timestamp;
  created_by: string;
  version: number;
}

export interface TeamProposalsTable {
  id: string;
  request_id: string;
  status: string;
  feasible: boolean;
  solution: ColumnType<unknown, string, string>;
  excluded_ids: ColumnType<unknown, string, string>;
  created_at: Timestamp;
  created_by: string;
}

export interface DeploymentsTable {
  id: string;
  request_id: string;
  proposal_id: string;
  host_party: string;
  status: string;
  mode: string;
  window_from: Timestamp;
  window_to: Timestamp;
  acceptance: ColumnType<unknown, string | null, string | null>;
  created_at: Timestamp;
  created_by: string;
  updated_at: Timestamp;
  version: number;
  /** The party whose node this row is a read-only copy from (null: this node's own), at its feed version. */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface DeploymentMembersTable {
  deployment_id: string;
  responder_id: string;
  party_code: string;
  status: string;
  reasons: ColumnType<unknown, string, string>;
  decided_by: string | null;
  decided_at: Timestamp | null;
  decision_reason: string | null;
  pass_id: string | null;
  pass_issued_at: Timestamp | null;
  /** The party whose node this row is a read-only copy from (null: this node's own), at its feed version. */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
  /** On a copy, the pass the coordinating node signed for this member (home and host only). */
  pass_token: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface PassRevocationsTable {
  pass_id: string;
  deployment_id: string;
  responder_id: string;
  revoked_at: Timestamp;
  revoked_by: string;
  reason: string | null;
}

export interface CasesTable {
  id: string;
  owner_party: string;
  title: string;
  description: string;
  incident_class: string;
  severity: string;
  status: string;
  tlp: string;
  pap: string;
  request_id: string | null;
  deployment_id: string | null;
  exercise: boolean;
  created_by_id: string | null;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: number;
  /** 0017_federation: the party whose node this row is a read-only copy from (null: this node's own). */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0017_federation: the origin's version of the copy (its feed sequence). */
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
  /** 0017_federation: a copy its origin withdrew from this node's party: kept for what was added to it here, shown to nobody. */
  mirror_retracted: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface SharingGroupsTable {
  id: string;
  name: string;
  owner_party: string;
  created_at: Timestamp;
  created_by: string;
  /** 0013_sharing_group_changes: bumped by every edit (If-Match). */
  version: ColumnType<number, number | undefined, number>;
  /** Retired: no longer offered for new shares; the cases already shared with it keep it. */
  retired_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  retired_by: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0017_federation: the party whose node this row is a read-only copy from (null: this node's own). */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0017_federation: the origin's version of the copy (its feed sequence). */
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface CaseTasksTable {
  id: string;
  case_id: string;
  title: string;
  description: string;
  status: string;
  assignee_id: string | null;
  due_at: Timestamp | null;
  done_at: Timestamp | null;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: number;
  /** 0017_federation: the party whose node this row is a read-only copy from (null: this node's own). */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0017_federation: the origin's version of the copy (its feed sequence). */
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface CaseNotesTable {
  id: string;
  case_id: string;
  body: string;
  tlp: string;
  origin_party: string;
  created_by_id: string | null;
  created_by: string;
  created_at: Timestamp;
  /** 0017_federation: the party whose node this row is a read-only copy from (null: this node's own). */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0017_federation: the origin's version of the copy (its feed sequence). */
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface CaseIntelObjectsTable {
  id: string;
  case_id: string;
  stix_id: string;
  stix_type: string;
  name: string | null;
  stix_modified: Timestamp | null;
  source_ref: string | null;
  target_ref: string | null;
  /** A relationship's `relationship_type` (a sighting's: null). */
  relationship_type: string | null;
  /** The STIX object as received, JSON text. */
  object: string;
  tlp: string;
  origin_party: string;
  created_by_id: string | null;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  import_id: string | null;
  /** 0017_federation: the party whose node this row is a read-only copy from (null: this node's own). */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0017_federation: the origin's version of the copy (its feed sequence). */
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
}

/** A MISP event of a case: its own fields as JSON text (without attributes and objects). */
export interface MispEventsTable {
  id: string;
  case_id: string;
  uuid: string;
  info: string;
  event: string;
  timestamp: number | null;
  tlp: string;
  origin_party: string;
  created_by_id: string | null;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  import_id: string | null;
  /** 0017_federation: the party whose node this row is a read-only copy from (null: this node's own). */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0017_federation: the origin's version of the copy (its feed sequence). */
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
}

/** Attributes and objects of a MISP event, up to a few hundred of one label: a JSON list of elements. */
export interface MispEventPartsTable {
  id: string;
  case_id: string;
  event_id: string;
  position: number;
  elements: string;
  attributes: number;
  objects: number;
  tlp: string;
  origin_party: string;
  created_by_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  import_id: string | null;
  /** 0017_federation: the party whose node this row is a read-only copy from (null: this node's own). */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0017_federation: the origin's version of the copy (its feed sequence). */
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface MispFeedsTable {
  id: string;
  name: string;
  url: string;
  case_id: string;
  owner_id: string;
  header_name: string | null;
  header_value: string | null;
  enabled: boolean;
  interval_minutes: number;
  created_at: Timestamp;
  next_pull_at: Timestamp;
  last_run_at: Timestamp | null;
  last_ok_at: Timestamp | null;
  last_result: string | null;
  last_error: string | null;
  version: number;
}

export interface MispFeedEventsTable {
  feed_id: string;
  event_uuid: string;
  timestamp: number;
  pulled_at: Timestamp;
}

export interface TaxiiStatusesTable {
  id: string;
  user_id: string;
  collection_id: string;
  /** The status resource as answered, JSON text. */
  status: string;
  created_at: Timestamp;
}

export interface CaseTimelineTable {
  id: string;
  case_id: string;
  happened_at: Timestamp;
  recorded_at: Timestamp;
  text: string;
  recorded_by: string;
  /** 0017_federation: the party whose node this row is a read-only copy from (null: this node's own). */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0017_federation: the origin's version of the copy (its feed sequence). */
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
}

/**
 * One row per (case, type, value, creator) (0008_observable_copies): a value someone else holds in
 * the case under a label the caller cannot read is stored again as the caller's own copy.
 */
export interface ObservablesTable {
  id: string;
  case_id: string;
  type: string;
  category: string;
  value: string;
  tlp: string;
  to_ids: boolean;
  comment: string;
  first_seen: Timestamp | null;
  last_seen: Timestamp | null;
  sightings: number;
  origin_party: string;
  created_by_id: string | null;
  created_by: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  version: number;
  /** The bulk import that wrote the row (null for one added alone): see `observable_imports`. */
  import_id: string | null;
  /** 0017_federation: the party whose node this row is a read-only copy from (null: this node's own). */
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0017_federation: the origin's version of the copy (its feed sequence). */
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
  /** 0021_analyst_tools: analysts' tags, sorted, this node's own (not in the federation's feed). */
  tags: ColumnType<string[], string[] | undefined, string[]>;
}

/** A bulk import: `running` until its last part commits (`done`), or `failed` and rolled back. */
export interface ObservableImportsTable {
  id: string;
  case_id: string;
  status: 'running' | 'done' | 'failed';
  started_by_id: string | null;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
  /** When it was done, or when the last row of a failed one was gone. */
  finished_at: Timestamp | null;
}

export interface EvidenceTable {
  id: string;
  case_id: string;
  filename: string;
  media_type: string;
  size: ColumnType<number, number, number>;
  sha256: string;
  tlp: string;
  custodian: string;
  origin_party: string;
  created_by_id: string | null;
  created_by: string;
  created_at: Timestamp;
}

/** Evidence content on PostgreSQL, piece by piece (0007). */
export interface EvidenceChunksTable {
  evidence_id: string;
  seq: number;
  data: Buffer;
  stored_at: Timestamp;
}

/** Items recorded before evidence moved into the database, whose file is still to be taken in. */
export interface EvidenceFilesToAdoptTable {
  evidence_id: string;
}

export interface EvidenceCustodyTable {
  id: Generated<number>;
  evidence_id: string;
  at: Timestamp;
  action: string;
  actor: string;
  party: string | null;
  custodian: string;
  sha256: string;
  note: string;
}

/** A live event stream held open by a user, on whichever process serves it (0023). */
export interface EventStreamClaimsTable {
  id: string;
  /** The user: their id (or name, for an actor without one). */
  holder: string;
  claimed_at: Timestamp;
  /** Moved on by the serving process while the stream is open; an old one's process is gone. */
  seen_at: Timestamp;
}

/** Attempts counted by a rate limit, per route and source, over all processes (0023). */
export interface RateLimitWindowsTable {
  key: string;
  started_at: Timestamp;
  ends_at: Timestamp;
  hits: number;
}

/** A failed login (or one under way) from a client address, over all processes (0023). */
export interface LoginAttemptsTable {
  id: string;
  address: string;
  at: Timestamp;
}

export interface DenialWindowsTable {
  key: string;
  started_at: Timestamp;
  ends_at: Timestamp;
  written: number;
  written_by_route: ColumnType<Record<string, number>, string, string>;
  counted: number;
  statuses: ColumnType<Record<string, number>, string, string>;
  routes: ColumnType<string[], string, string>;
  actor: ColumnType<Actor, string, string>;
  last_written: boolean;
}

export interface SealingKeysTable {
  purpose: string;
  fingerprint: string;
  created_at: Timestamp;
}
