import { sql } from 'kysely';
import type { Executor, Tx } from '../platform/db/transaction.ts';
import type { AuditCosignaturesTable } from './audit-witness.schema.ts';

/** Cosignatures, given and received, and the evidence of forks: the witnessed audit's rows. */

export type CosignatureRow = {
  id: number;
  kind: 'given' | 'received';
  subject_party: string;
  subject_key_id: string;
  size: number;
  root: string;
  checkpoint: string;
  witness_party: string;
  witness_key_id: string;
  signature: string;
  cosigned_at: Date;
};

export type NewCosignature = Omit<AuditCosignaturesTable, 'id' | 'recorded_at'>;

/** Stores a cosignature; false when one of that witness for that size was already there. */
export async function insertCosignature(trx: Executor, row: NewCosignature): Promise<boolean> {
  const inserted = await trx
    .insertInto('audit_cosignatures')
    .values(row)
    .onConflict((oc) => oc.columns(['kind', 'subject_party', 'witness_party', 'size']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** The newest checkpoint of `subject` this node cosigned. */
export async function newestGiven(db: Executor, subject: string): Promise<CosignatureRow | undefined> {
  return db
    .selectFrom('audit_cosignatures')
    .selectAll()
    .where('kind', '=', 'given')
    .where('subject_party', '=', subject)
    .orderBy('size', 'desc')
    .limit(1)
    .executeTakeFirst() as Promise<CosignatureRow | undefined>;
}

/** What this node holds about `subject` at these sizes (given and received), for comparing. */
export async function heldAt(
  db: Executor,
  subject: string,
  sizes: readonly number[],
): Promise<CosignatureRow[]> {
  if (sizes.length === 0) return [];
  return db
    .selectFrom('audit_cosignatures')
    .selectAll()
    .where('subject_party', '=', subject)
    .where('size', 'in', [...new Set(sizes)])
    .orderBy('id')
    .execute() as Promise<CosignatureRow[]>;
}

export async function listCosignatures(
  db: Executor,
  filter: {
    kind: 'given' | 'received';
    subject: string;
    afterSize?: number;
    witness?: string;
    limit: number;
    /** By size: smallest first (default), or largest first (a witness's newest). */
    order?: 'asc' | 'desc';
  },
): Promise<CosignatureRow[]> {
  let query = db
    .selectFrom('audit_cosignatures')
    .selectAll()
    .where('kind', '=', filter.kind)
    .where('subject_party', '=', filter.subject);
  if (filter.afterSize !== undefined) query = query.where('size', '>', filter.afterSize);
  if (filter.witness !== undefined) query = query.where('witness_party', '=', filter.witness);
  const order = filter.order ?? 'asc';
  return query.orderBy('size', order).orderBy('id', order).limit(filter.limit).execute() as Promise<
    CosignatureRow[]
  >;
}

/** The size after which to ask a witness for more of its cosignatures of this node. */
export async function newestReceivedSize(db: Executor, witness: string): Promise<number> {
  const row = await db
    .selectFrom('audit_cosignatures')
    .select((eb) => eb.fn.max('size').as('size'))
    .where('kind', '=', 'received')
    .where('witness_party', '=', witness)
    .executeTakeFirst();
  return row?.size === null || row?.size === undefined ? 0 : Number(row.size);
}

/** The smallest of the newest `count` sizes of `subject` this node cosigned: where comparing starts. */
export async function comparisonStart(db: Executor, subject: string, count: number): Promise<number> {
  const rows = await db
    .selectFrom('audit_cosignatures')
    .select('size')
    .where('kind', '=', 'given')
    .where('subject_party', '=', subject)
    .orderBy('size', 'desc')
    .limit(count)
    .execute();
  return rows.length === 0 ? 0 : Number(rows.at(-1)!.size);
}

/** Roots peers cosigned for this node's checkpoints, newest first, for the verifier. */
export async function receivedRoots(db: Executor, limit: number) {
  const rows = await db
    .selectFrom('audit_cosignatures')
    .select(['size', 'root', 'witness_party'])
    .where('kind', '=', 'received')
    .orderBy('size', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ size: Number(r.size), root: r.root, witness: r.witness_party }));
}

/** Per witness: how many of this node's checkpoints it cosigned, and the newest. */
export async function receivedSummary(db: Executor) {
  const rows = await sql<{ witness: string; count: number; newest_size: number; newest_at: Date }>`
    select distinct on (witness_party) witness_party as witness,
      count(*) over (partition by witness_party)::int as count,
      size as newest_size, cosigned_at as newest_at
    from audit_cosignatures where kind = 'received'
    order by witness_party, size desc`.execute(db);
  return rows.rows.map((r) => ({
    witness: r.witness,
    count: Number(r.count),
    newestSize: Number(r.newest_size),
    newestAt: new Date(r.newest_at).toISOString(),
  }));
}

/** Received cosignatures of this node's checkpoints at these sizes, for GET /checkpoints. */
export async function receivedAt(db: Executor, sizes: readonly number[]): Promise<CosignatureRow[]> {
  if (sizes.length === 0) return [];
  return db
    .selectFrom('audit_cosignatures')
    .selectAll()
    .where('kind', '=', 'received')
    .where('size', 'in', [...new Set(sizes)])
    .orderBy('witness_party')
    .execute() as Promise<CosignatureRow[]>;
}

/** A page of this node's checkpoints, newest first, before checkpoint id `beforeId`. */
export async function checkpointPage(db: Executor, beforeId: number | undefined, limit: number) {
  let query = db.selectFrom('audit_checkpoints').selectAll();
  if (beforeId !== undefined) query = query.where('id', '<', beforeId);
  return query.orderBy('id', 'desc').limit(limit).execute();
}

export async function insertForkEvidence(
  trx: Tx,
  row: {
    subject_party: string;
    size: number;
    first: string;
    second: string;
    how: string;
    detected_via: string;
    detected_at: Date;
  },
): Promise<number> {
  const inserted = await trx
    .insertInto('audit_fork_evidence')
    .values(row)
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(inserted.id);
}

/** Whether this very contradiction was already kept (an exchange repeated finds it again). */
export async function forkKnown(db: Executor, subject: string, size: number, first: string, second: string) {
  const row = await db
    .selectFrom('audit_fork_evidence')
    .select('id')
    .where('subject_party', '=', subject)
    .where('size', '=', size)
    .where((eb) =>
      eb.or([
        eb.and([eb('first', '=', first), eb('second', '=', second)]),
        eb.and([eb('first', '=', second), eb('second', '=', first)]),
      ]),
    )
    .executeTakeFirst();
  return row !== undefined;
}

export async function forkEvidence(db: Executor, subject: string, limit = 100) {
  return db
    .selectFrom('audit_fork_evidence')
    .selectAll()
    .where('subject_party', '=', subject)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export async function forkCount(db: Executor, subject: string): Promise<number> {
  const row = await db
    .selectFrom('audit_fork_evidence')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('subject_party', '=', subject)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The subjects this node has cosigned, those cosigned most recently first. */
export async function givenSubjects(db: Executor, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('audit_cosignatures')
    .select('subject_party')
    .where('kind', '=', 'given')
    .groupBy('subject_party')
    .orderBy((eb) => eb.fn.max('id'), 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => r.subject_party);
}
