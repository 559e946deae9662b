import type { DatabaseKind } from '../platform/db/database.ts';

/**
 * What a `vytis backup` archive holds: a gzipped tar whose members are the database as one
 * NDJSON file per table (each line PostgreSQL's own `to_json` of a row, so every type round-trips
 * through its text form), the sequences, the node's key files and the evidence files, and last
 * the manifest, which lists every other member with its size and SHA-256.
 */
export const BACKUP_FORMAT = 'vytis-backup';
export const BACKUP_FORMAT_VERSION = 1;

export const MANIFEST_MEMBER = 'manifest.json';
export const TABLES_PREFIX = 'database/tables/';
export const SEQUENCES_MEMBER = 'database/sequences.json';
export const KEYS_PREFIX = 'keys/';
export const EVIDENCE_PREFIX = 'evidence/';
/** The node's own copy of its signed checkpoints, outside the database. */
export const CHECKPOINTS_MEMBER = 'audit-checkpoints.jsonl';

export interface BackupMember {
  path: string;
  size: number;
  sha256: string;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: typeof BACKUP_FORMAT_VERSION;
  createdAt: string;
  /** The Node.js that wrote it. */
  nodejs: string;
  /** The engine it was taken from; a backup restores into either. */
  engine: DatabaseKind;
  /** The schema it was taken at: the migrations applied, in order. */
  migrations: string[];
  /** The node key's id (RFC 7638 thumbprint), or null when the data directory had none. */
  keyId: string | null;
  /** Rows per table. */
  tables: Record<string, number>;
  evidenceFiles: number;
  /**
   * Evidence items whose content is in neither the archive's database (on PostgreSQL, whole in
   * evidence_chunks) nor a file of the evidence directory: kept on another process's disk, or lost.
   */
  evidenceWithoutFile: string[];
  members: BackupMember[];
}

/** The name a table's rows have in the archive. */
export const tableMember = (table: string) => `${TABLES_PREFIX}${table}.ndjson`;

/** Kysely's own bookkeeping: restore recreates it by running the migrations. */
export const isMigratorTable = (table: string) =>
  table === 'kysely_migration' || table === 'kysely_migration_lock';

const MEMBER_NAME =
  /^(database\/tables\/[a-z_][a-z0-9_]*\.ndjson|database\/sequences\.json|keys\/[A-Za-z0-9._-]+|evidence\/[0-9a-f-]{36}|audit-checkpoints\.jsonl)$/;

/** Only names the backup writes are accepted: nothing can point outside the target directory. */
export const isKnownMemberName = (name: string) => MEMBER_NAME.test(name) && !name.includes('..');

/** What the node tells the CLI at the end of a backup it streamed: an HTTP trailer, small. */
export const BACKUP_TRAILER = 'x-vytis-backup';

export interface BackupOutcome {
  summary?: BackupSummary;
  error?: string;
}

export interface BackupSummary {
  engine: string;
  tables: number;
  rows: number;
  evidenceFiles: number;
  evidenceWithoutFile: number;
  keyId: string | null;
}

export const summaryOf = (manifest: BackupManifest): BackupSummary => ({
  engine: manifest.engine,
  tables: Object.keys(manifest.tables).filter((t) => !isMigratorTable(t)).length,
  rows: Object.entries(manifest.tables)
    .filter(([t]) => !isMigratorTable(t))
    .reduce((sum, [, n]) => sum + n, 0),
  evidenceFiles: manifest.evidenceFiles,
  evidenceWithoutFile: manifest.evidenceWithoutFile.length,
  keyId: manifest.keyId,
});
