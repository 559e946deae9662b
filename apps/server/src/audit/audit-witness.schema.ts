import type { ColumnType, Generated } from 'kysely';

/** Tables of 0018_audit_witness, as Kysely sees them. */
export interface AuditWitnessTables {
  /** Complete subtrees of level ≥ TREE_STORED_LEVEL: hash (hex) of leaves idx·2^level … */
  audit_tree_nodes: { level: number; idx: number; hash: string };
  /** One row: the tree's size and right frontier (hex hashes, largest subtree first, space separated). */
  audit_tree_state: { id: number; size: number; frontier: string };
  audit_cosignatures: AuditCosignaturesTable;
  audit_fork_evidence: AuditForkEvidenceTable;
}

export interface AuditCosignaturesTable {
  id: Generated<number>;
  /** `given`: this node cosigned a peer's checkpoint; `received`: a peer cosigned this node's. */
  kind: 'given' | 'received';
  subject_party: string;
  subject_key_id: string;
  size: number;
  root: string;
  /** The subject's signed checkpoint the cosignature is about (JSON text). */
  checkpoint: string;
  witness_party: string;
  witness_key_id: string;
  /** Ed25519 (base64url) of the witness over the cosignature statement. */
  signature: string;
  cosigned_at: Date;
  recorded_at: ColumnType<Date, Date | undefined, Date>;
}

export interface AuditForkEvidenceTable {
  id: Generated<number>;
  subject_party: string;
  size: number;
  /** Two signed statements (JSON text) about the subject's log that cannot both be true. */
  first: string;
  second: string;
  /** How they contradict each other, in words. */
  how: string;
  /** The peer whose answer showed it (the subject itself, or a witness). */
  detected_via: string;
  detected_at: Date;
}
