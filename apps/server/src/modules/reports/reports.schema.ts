import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;

/** 0022_reports: one row per request and kind of report, from its first save. */
export interface ReportsTables {
  reports: ReportsTable;
}

export interface ReportsTable {
  id: string;
  request_id: string;
  kind: string;
  status: 'draft' | 'submitted';
  version: number;
  tlp: string;
  /** What authors wrote, by field key: text, a choice, or yes/no (null: not known). */
  field_values: ColumnType<Record<string, string | boolean | null>, string, string>;
  /** The cases whose facts the last save or the submission drew on: a reader must see them all. */
  source_case_ids: string[];
  /** The submitted document, frozen (canonical JSON's source). */
  document: ColumnType<unknown, string | null, string | null>;
  sha256: string | null;
  signature: string | null;
  key_id: string | null;
  submitted_at: Timestamp | null;
  submitted_by: string | null;
  submitted_to: string | null;
  filed_at: Timestamp | null;
  created_at: Timestamp;
  created_by: string;
  updated_at: Timestamp;
  updated_by: string;
}
