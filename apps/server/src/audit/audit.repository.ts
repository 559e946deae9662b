import { sql } from 'kysely';
import { LOCKS, lockForTransaction } from '../platform/db/locks.ts';
import type { AuditEventRow } from '../platform/db/schema.ts';
import type { Executor, Tx } from '../platform/db/transaction.ts';
import type { EnvelopeParts } from './audit.chain.ts';

/** Adds events to the caller's transaction, to be placed in the chain after it commits. */
export async function insertPending(trx: Tx, events: readonly EnvelopeParts[]): Promise<void> {
  for (let i = 0; i < events.length; i += 5000) {
    await trx
      .insertInto('audit_pending')
      .values(events.slice(i, i + 5000).map(({ head, middle, tail }) => ({ head, middle, tail })))
      .execute();
  }
}

/** One sealer at a time, held until commit; a waiter's next statement sees what its turn left. */
export async function takeSealerTurn(trx: Tx): Promise<void> {
  await lockForTransaction(trx, LOCKS.auditSealer);
}

/**
 * The oldest committed pending events. Ids are taken at insert and transactions commit in any
 * order, so a lower id may commit after a higher one was sealed: it is simply placed later.
 */
export async function oldestPending(trx: Tx, limit: number) {
  return trx
    .selectFrom('audit_pending')
    .select(['id', 'head', 'middle', 'tail'])
    .orderBy('id')
    .limit(limit)
    .execute();
}

export async function deletePending(trx: Tx, ids: readonly number[]): Promise<void> {
  await sql`delete from audit_pending where id = any(${ids}::bigint[])`.execute(trx);
}

export async function pendingCount(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('audit_pending')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Takes the chain's turn for `count` events: returns the head they follow. Held until commit. */
export async function claimHead(trx: Tx, count: number): Promise<{ seq: number; hash: string }> {
  const result = await sql<{ seq: number; hash: string }>`
    update audit_head set seq = seq + ${count}::int where id = 1 returning seq - ${count}::int as seq, hash`.execute(
    trx,
  );
  return result.rows[0]!;
}

/** Writes events claimed with claimHead, and moves the head's hash to the last of them. */
export async function insertClaimed(trx: Tx, rows: AuditEventRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    await trx
      .insertInto('audit_events')
      .values(rows.slice(i, i + 5000))
      .execute();
  }
  await trx
    .updateTable('audit_head')
    .set({ hash: rows.at(-1)!.hash })
    .where('id', '=', 1)
    .execute();
}

export async function head(db: Executor): Promise<{ seq: number; hash: string }> {
  return db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
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

// Expressions the migration indexes; keep them identical to use the indexes.
const ACTION = sql<string>`(envelope::jsonb ->> 'action')`;
const ACTOR_NAME = sql<string>`(envelope::jsonb -> 'actor' ->> 'name')`;
const OBJECT_TYPE = sql<string>`(envelope::jsonb -> 'object' ->> 'type')`;
const OBJECT_ID = sql<string>`(envelope::jsonb -> 'object' ->> 'id')`;
// ISO 8601 UTC timestamps of one fixed format sort as text in time order.
const AT = sql<string>`(envelope::jsonb ->> 'at')`;

export async function pageEvents(
  db: Executor,
  filter: EventFilter,
  order: 'asc' | 'desc',
  limit: number,
): Promise<AuditEventRow[]> {
  let query = db.selectFrom('audit_events').selectAll();
  if (filter.afterSeq !== undefined) query = query.where('seq', '>', filter.afterSeq);
  if (filter.beforeSeq !== undefined) query = query.where('seq', '<', filter.beforeSeq);
  if (filter.action) query = query.where(ACTION, '=', filter.action);
  if (filter.actorName) query = query.where(ACTOR_NAME, '=', filter.actorName);
  if (filter.objectType) query = query.where(OBJECT_TYPE, '=', filter.objectType);
  if (filter.objectId) query = query.where(OBJECT_ID, '=', filter.objectId);
  if (filter.since) query = query.where(AT, '>=', filter.since.toISOString());
  if (filter.until) query = query.where(AT, '<', filter.until.toISOString());
  return query.orderBy('seq', order).limit(limit).execute();
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

export async function latestCheckpointSignedBy(db: Executor, keyId: string) {
  return db
    .selectFrom('audit_checkpoints')
    .selectAll()
    .where('key_id', '=', keyId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function listCheckpoints(db: Executor, limit?: number) {
  let query = db.selectFrom('audit_checkpoints').selectAll().orderBy('id', 'desc');
  if (limit) query = query.limit(limit);
  return query.execute();
}
