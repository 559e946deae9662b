import { sql } from 'kysely';
import {
  type CaseViewer,
  casesVisibleTo,
  deploymentsVisibleTo,
  type RequestViewer,
  requestsVisibleTo,
  respondersVisibleTo,
  rotationsVisibleTo,
  usersVisibleTo,
} from '../access/policy.ts';
import type { Actor } from '../context.ts';
import { LOCKS, lockForTransaction } from '../platform/db/locks.ts';
import type { AuditEventRow } from '../platform/db/schema.ts';
import type { Executor, Tx } from '../platform/db/transaction.ts';
import type { EnvelopeParts } from './audit.chain.ts';
import type { StoredNode } from './audit.tree.repository.ts';

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

/**
 * Writes events claimed with claimHead, and moves the head's hash to the last of them; with
 * `tree`, the Merkle tree's new state goes in the same statement (its completed subtrees before).
 */
export async function insertClaimed(
  trx: Tx,
  rows: AuditEventRow[],
  tree?: { size: number; frontier: string; nodes: readonly StoredNode[] },
): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    await trx
      .insertInto('audit_events')
      .values(rows.slice(i, i + 5000))
      .execute();
  }
  if (!tree) {
    await trx
      .updateTable('audit_head')
      .set({ hash: rows.at(-1)!.hash })
      .where('id', '=', 1)
      .execute();
    return;
  }
  for (let i = 0; i < tree.nodes.length; i += 5000) {
    await trx
      .insertInto('audit_tree_nodes')
      .values(tree.nodes.slice(i, i + 5000))
      .onConflict((oc) =>
        oc.columns(['level', 'idx']).doUpdateSet((eb) => ({ hash: eb.ref('excluded.hash') })),
      )
      .execute();
  }
  await sql`with tree as (
      update audit_tree_state set size = ${tree.size}::bigint, frontier = ${tree.frontier} where id = 1)
    update audit_head set hash = ${rows.at(-1)!.hash} where id = 1`.execute(trx);
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
  row: {
    size: number;
    head: string;
    root: string | null;
    signed_at: Date;
    key_id: string;
    signature: string;
  },
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

// --- reads for auditors ---------------------------------------------------------------------------

/** Every action the log holds, with how many events of each (the action picker). */
export async function actionCounts(db: Executor): Promise<{ action: string; count: number }[]> {
  const rows = await db
    .selectFrom('audit_events')
    .select([ACTION.as('action'), (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy(ACTION)
    .orderBy(ACTION)
    .execute();
  return rows.map((r) => ({ action: r.action, count: Number(r.count) }));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What events' objects are called (a request's title, a user's name…), by `type:id`, so an
 * auditor reads "withdrew request 'Ransomware at …'". Only for auditors, who read the whole log.
 */
export async function objectTitles(
  db: Executor,
  objects: readonly { type: string; id: string | null }[],
  viewer: { actor: Actor; requests: RequestViewer; cases: CaseViewer },
): Promise<Map<string, string>> {
  const ids = (type: string) => [
    ...new Set(objects.filter((o) => o.type === type && o.id && UUID.test(o.id)).map((o) => o.id!)),
  ];
  const titles = new Map<string, string>();
  const add = (type: string, rows: { id: string; title: string }[]) => {
    for (const row of rows) titles.set(`${type}:${row.id}`, row.title);
  };
  const requests = ids('request');
  const cases = ids('case');
  const deployments = ids('deployment');
  const users = ids('user');
  const responders = ids('responder');
  const rotations = ids('rotation');
  await Promise.all([
    requests.length > 0 &&
      db
        .selectFrom('requests')
        .select(['id', 'title'])
        .where('id', 'in', requests)
        .where(requestsVisibleTo(viewer.requests))
        .execute()
        .then((rows) => add('request', rows)),
    cases.length > 0 &&
      db
        .selectFrom('cases')
        .select(['id', 'title'])
        .where('id', 'in', cases)
        .where(casesVisibleTo(viewer.cases))
        .execute()
        .then((rows) => add('case', rows)),
    deployments.length > 0 &&
      db
        .selectFrom('deployments')
        .innerJoin('requests', 'requests.id', 'deployments.request_id')
        .select(['deployments.id as id', 'requests.title as title'])
        .where('deployments.id', 'in', deployments)
        .where(deploymentsVisibleTo(viewer.actor))
        .where(requestsVisibleTo(viewer.requests))
        .execute()
        .then((rows) => add('deployment', rows)),
    users.length > 0 &&
      db
        .selectFrom('users')
        .select(['id', 'name as title'])
        .where('id', 'in', users)
        .where(usersVisibleTo(viewer.actor))
        .execute()
        .then((rows) => add('user', rows)),
    responders.length > 0 &&
      db
        .selectFrom('responders')
        .select(['id', 'name as title'])
        .where('id', 'in', responders)
        .where(respondersVisibleTo(viewer.actor))
        .execute()
        .then((rows) => add('responder', rows)),
    rotations.length > 0 &&
      db
        .selectFrom('duty_rotations')
        .select(['id', 'name as title'])
        .where('id', 'in', rotations)
        .where(rotationsVisibleTo(viewer.actor))
        .execute()
        .then((rows) => add('rotation', rows)),
  ]);
  return titles;
}
