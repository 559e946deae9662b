import { type RawBuilder, sql } from 'kysely';
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
import { integerArray } from '../platform/db/array-literals.ts';
import { LOCKS, lockForTransaction } from '../platform/db/locks.ts';
import type { AuditEventRow } from '../platform/db/schema.ts';
import type { Executor, Tx } from '../platform/db/transaction.ts';
import type { EnvelopeParts } from './audit.chain.ts';
import type { StoredNode } from './audit.tree.repository.ts';

/** Adds events to the caller's transaction, to be placed in the chain after it commits. */
export async function insertPending(trx: Tx, events: readonly EnvelopeParts[]): Promise<void> {
  for (let i = 0; i < events.length; i += 5000) {
    const part = events.slice(i, i + 5000).map(({ head, middle, tail }) => ({ head, middle, tail }));
    await sql`
      insert into audit_pending (head, middle, tail)
      select p.head, p.middle, p.tail
      from rows from (json_to_recordset(${JSON.stringify(part)}::json) as (head text, middle text, tail text))
           with ordinality as p(head, middle, tail, n)
      order by p.n`.execute(trx);
  }
}

/**
 * `insertPending` as a part of the caller's statement (for its WITH clause): each event is written
 * only if its key is among those `kept` selects (text) in that statement, in the order given.
 */
export function insertPendingWithin(
  events: readonly (EnvelopeParts & { key: string })[],
  kept: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const rows = events.map(({ key, head, middle, tail }) => ({ key, head, middle, tail }));
  return sql`
    insert into audit_pending (head, middle, tail)
    select p.head, p.middle, p.tail
    from rows from (json_to_recordset(${JSON.stringify(rows)}::json) as (key text, head text, middle text, tail text))
         with ordinality as p(key, head, middle, tail, n)
    where p.key in (${kept})
    order by p.n`;
}

/** One sealer at a time, held until commit; a waiter's next statement sees what its turn left. */
export async function takeSealerTurn(trx: Tx): Promise<void> {
  await lockForTransaction(trx, LOCKS.auditSealer);
}

export async function pendingCount(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('audit_pending')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Places sealed events in the chain in one statement: the events, the tree's completed subtrees and
 * its new state (with `tree`), the head moved to the last of them, and their pending rows gone.
 * The caller holds the sealer's turn and read the head in it (`sealerView`).
 */
export async function placeSealed(
  trx: Tx,
  rows: readonly AuditEventRow[],
  pendingIds: readonly number[],
  tree?: { size: number; frontier: string; nodes: readonly StoredNode[] },
): Promise<void> {
  const last = rows.at(-1)!;
  const nodes = tree?.nodes ?? [];
  await sql`
    with events as (
      insert into audit_events (seq, envelope, hash)
      select * from json_to_recordset(${JSON.stringify(rows)}::json) as r(seq bigint, envelope text, hash text)
    ), nodes as (
      insert into audit_tree_nodes (level, idx, hash)
      select * from json_to_recordset(${JSON.stringify(nodes)}::json) as r(level smallint, idx bigint, hash text)
      on conflict (level, idx) do update set hash = excluded.hash
    ), tree as (
      update audit_tree_state set size = ${tree?.size ?? 0}::bigint, frontier = ${tree?.frontier ?? ''}
      where id = 1 and ${tree !== undefined}::boolean
    ), placed as (
      delete from audit_pending where id = any(${integerArray(pendingIds)}::bigint[])
    )
    update audit_head set seq = ${last.seq}::bigint, hash = ${last.hash} where id = 1`.execute(trx);
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
