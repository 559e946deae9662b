import { LOCKS, lockForTransaction } from '../platform/db/locks.ts';
import type { AuditEventRow, NewAuditEventRow } from '../platform/db/schema.ts';
import type { Executor, Tx } from '../platform/db/transaction.ts';

/**
 * Serialises appends across processes sharing one PostgreSQL: held until the transaction ends, so
 * the head we read cannot move before our events commit.
 */
export async function lockChain(trx: Tx): Promise<void> {
  await lockForTransaction(trx, LOCKS.auditChain);
}

export async function head(db: Executor): Promise<{ seq: number; hash: string } | undefined> {
  return db
    .selectFrom('audit_events')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function insertEvents(db: Executor, rows: NewAuditEventRow[]): Promise<void> {
  // Stay well below PostgreSQL's 65535 bind parameters per statement (13 columns a row).
  for (let i = 0; i < rows.length; i += 2000) {
    await db
      .insertInto('audit_events')
      .values(rows.slice(i, i + 2000))
      .execute();
  }
}

export interface EventFilter {
  afterSeq?: number | undefined;
  beforeSeq?: number | undefined;
  action?: string | undefined;
  actorName?: string | undefined;
  objectType?: string | undefined;
  objectId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

export async function pageEvents(
  db: Executor,
  filter: EventFilter,
  order: 'asc' | 'desc',
  limit: number,
): Promise<AuditEventRow[]> {
  let query = db.selectFrom('audit_events').selectAll();
  if (filter.afterSeq !== undefined) query = query.where('seq', '>', filter.afterSeq);
  if (filter.beforeSeq !== undefined) query = query.where('seq', '<', filter.beforeSeq);
  if (filter.action) query = query.where('action', '=', filter.action);
  if (filter.actorName) query = query.where('actor_name', '=', filter.actorName);
  if (filter.objectType) query = query.where('object_type', '=', filter.objectType);
  if (filter.objectId) query = query.where('object_id', '=', filter.objectId);
  if (filter.since) query = query.where('at', '>=', filter.since);
  if (filter.until) query = query.where('at', '<', filter.until);
  return query.orderBy('seq', order).limit(limit).execute();
}

/** For the verifier: the next slice of the chain in order, only the columns that are hashed. */
export async function chainSlice(db: Executor, afterSeq: number, limit: number): Promise<AuditEventRow[]> {
  return db
    .selectFrom('audit_events')
    .selectAll()
    .where('seq', '>', afterSeq)
    .orderBy('seq', 'asc')
    .limit(limit)
    .execute();
}

export async function countEvents(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function hashAt(db: Executor, seq: number): Promise<string | undefined> {
  const row = await db.selectFrom('audit_events').select('hash').where('seq', '=', seq).executeTakeFirst();
  return row?.hash;
}

export async function insertCheckpoint(
  db: Executor,
  row: { size: number; head: string; signed_at: Date; key_id: string; signature: string },
) {
  return db.insertInto('audit_checkpoints').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function latestCheckpoint(db: Executor) {
  return db.selectFrom('audit_checkpoints').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
}

export async function listCheckpoints(db: Executor, limit?: number) {
  let query = db.selectFrom('audit_checkpoints').selectAll().orderBy('id', 'desc');
  if (limit) query = query.limit(limit);
  return query.execute();
}
