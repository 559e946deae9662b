import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * Witnessed audit (issue 13): a Merkle tree over the audit chain (RFC 9162), so peers can check that
 * a node's log only grows, and what they cosign.
 *
 * - `audit_tree_nodes`: the hash of every complete subtree of level ≥ 4 (16 leaves and more), so
 *   that any subtree hash a proof needs is one stored row, or at most 16 event hashes to rehash.
 *   About one row per eight events.
 * - `audit_tree_state`: how many leaves the tree holds and its right frontier (the roots of the
 *   complete subtrees tiling it, largest first, as hex, space separated). The sealer extends both
 *   in the transaction that places events; a chain older than this migration is built by the
 *   sealer too, in bounded batches, from size 0 below.
 * - `audit_checkpoints.root`: the tree head a checkpoint signs with its size and head; null on
 *   checkpoints signed before (they still verify, over what they signed).
 * - `audit_cosignatures`: statements that a witness saw a subject's signed checkpoint and found it
 *   consistent with what it cosigned before: those this node gave (`given`) and those peers gave
 *   this node's checkpoints (`received`). Each keeps the subject's signed checkpoint, so two of
 *   them with different roots for one size are a proof on their own.
 * - `audit_fork_evidence`: two signed statements about one subject's log that cannot both be true.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table audit_tree_nodes (
    level smallint not null,
    idx bigint not null,
    hash text not null,
    primary key (level, idx)
  )`.execute(db);
  await sql`create table audit_tree_state (
    id integer primary key check (id = 1),
    size bigint not null,
    frontier text not null
  )`.execute(db);
  await sql`insert into audit_tree_state (id, size, frontier) values (1, 0, '')`.execute(db);
  await sql`alter table audit_checkpoints add column root text`.execute(db);
  await sql`create table audit_cosignatures (
    id bigserial primary key,
    kind text not null check (kind in ('given', 'received')),
    subject_party text not null,
    subject_key_id text not null,
    size bigint not null,
    root text not null,
    checkpoint text not null,
    witness_party text not null,
    witness_key_id text not null,
    signature text not null,
    cosigned_at timestamptz not null,
    recorded_at timestamptz not null default now(),
    unique (kind, subject_party, witness_party, size)
  )`.execute(db);
  await sql`create index audit_cosignatures_subject on audit_cosignatures (subject_party, kind, size)`.execute(
    db,
  );
  await sql`create table audit_fork_evidence (
    id bigserial primary key,
    subject_party text not null,
    size bigint not null,
    first text not null,
    second text not null,
    how text not null,
    detected_via text not null,
    detected_at timestamptz not null
  )`.execute(db);
  await sql`create index audit_fork_evidence_subject on audit_fork_evidence (subject_party, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table audit_fork_evidence`.execute(db);
  await sql`drop table audit_cosignatures`.execute(db);
  await sql`alter table audit_checkpoints drop column root`.execute(db);
  await sql`drop table audit_tree_state`.execute(db);
  await sql`drop table audit_tree_nodes`.execute(db);
}
