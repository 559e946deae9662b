import { type RawBuilder, sql } from 'kysely';
import {
  type CaseViewer,
  caseEventsVisibleTo,
  notificationsVisibleTo,
  type RequestViewer,
  requestsVisibleToWebhookParty,
} from '../../access/policy.ts';
import { utcDay } from '../../platform/days.ts';
import { textArray } from '../../platform/db/array-literals.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';

export const EVENTS_CHANNEL = 'vytis_events';

export interface PendingEvent {
  at: Date;
  type: string;
  request_id: string | null;
  party_only: boolean;
  data: string;
  case_id?: string;
  tlp?: string | null;
  item_created_by_id?: string | null;
  item_origin_party?: string | null;
}

/** Events waiting for their numbers, in one statement. */
export async function insertPending(trx: Tx, rows: readonly PendingEvent[]) {
  if (rows.length === 0) return;
  await trx
    .insertInto('notifications_pending')
    .values([...rows])
    .execute();
}

/**
 * Events of a case waiting for their numbers, as a part of the caller's statement (for its WITH
 * clause): each is written only if its key is among those `kept` selects (text) there, in the order
 * given.
 */
export function insertPendingWithin(
  rows: readonly (PendingEvent & { key: string })[],
  kept: RawBuilder<unknown>,
): RawBuilder<unknown> {
  return sql`
    insert into notifications_pending (at, type, request_id, party_only, data, case_id, tlp, item_created_by_id,
                                       item_origin_party)
    select e.at, e.type, e.request_id, e.party_only, e.data::jsonb, e.case_id, e.tlp, e.item_created_by_id,
           e.item_origin_party
    from rows from (json_to_recordset(${JSON.stringify(rows)}::json)
           as (key text, at timestamptz, type text, request_id uuid, party_only boolean, data text, case_id uuid,
               tlp text, item_created_by_id uuid, item_origin_party text))
         with ordinality as e(key, at, type, request_id, party_only, data, case_id, tlp, item_created_by_id,
                              item_origin_party, n)
    where e.key in (${kept})
    order by e.n`;
}

/**
 * Moves the oldest committed pending events into `notifications`, numbered in that order, and
 * returns them numbered; if there were any, the live streams of every process on this database are
 * woken once the transaction commits (a NOTIFY). The caller holds the sequencer's turn.
 */
export async function numberPending(trx: Tx, limit: number) {
  // The NOTIFY rides in the same statement (one round trip less per sequencing): its CTE is
  // evaluated once, through the always-true condition that refers to it.
  const result = await sql<{ seq: number; request_id: string | null; at: Date }>`
    with taken as (
      delete from notifications_pending
      where id in (${pendingLockedInOrder(sql`true`, limit)})
      returning *
    ), numbered as (
      insert into notifications (at, type, request_id, party_only, data, case_id, tlp, item_created_by_id,
                                 item_origin_party)
      select at, type, request_id, party_only, data, case_id, tlp, item_created_by_id, item_origin_party
      from taken order by id
      returning seq, request_id, at
    ), signal as (
      select pg_notify(${EVENTS_CHANNEL}, max(seq)::text) from numbered having count(*) > 0
    )
    select seq, request_id, at from numbered where (select count(*) from signal) >= 0`.execute(trx);
  return result.rows;
}

/**
 * One outbox row per live webhook whose party may see the request (and, for an exercise, that
 * takes exercises), in the event's own transaction.
 */
export async function queueDeliveries(trx: Tx, seq: number, requestId: string, at: Date) {
  await trx
    .insertInto('webhook_deliveries')
    .columns(['id', 'webhook_id', 'notification_seq', 'state', 'attempts', 'next_attempt_at', 'created_at'])
    .expression((eb) =>
      eb
        .selectFrom(['webhooks', 'requests'])
        .where('requests.id', '=', requestId)
        .where('webhooks.disabled_at', 'is', null)
        .where(requestsVisibleToWebhookParty(utcDay(at)))
        // An exercise's events only to the webhooks that opted into exercises.
        .where((eb) => eb.or([eb('requests.exercise', '=', false), eb('webhooks.exercises', '=', true)]))
        .select([
          sql<string>`gen_random_uuid()`.as('id'),
          'webhooks.id as webhook_id',
          sql<number>`${seq}::bigint`.as('notification_seq'),
          sql<string>`'pending'`.as('state'),
          sql<number>`0`.as('attempts'),
          sql<Date>`${at}::timestamptz`.as('next_attempt_at'),
          sql<Date>`${at}::timestamptz`.as('created_at'),
        ]),
    )
    .execute();
}

export async function latestSeq(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('notifications')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}

/** What is said about an event, wherever it goes (a stream, a webhook); needs `requests` joined. */
export const NOTIFICATION_COLUMNS = [
  'notifications.seq',
  'notifications.at',
  'notifications.type',
  'notifications.request_id',
  'notifications.data',
  'requests.exercise',
] as const;

/** The events after `afterSeq` that the viewer may see now (about requests or cases), in order. */
export async function visibleSince(
  db: Executor,
  viewer: RequestViewer,
  caseViewer: CaseViewer,
  afterSeq: number,
  limit: number,
) {
  return db
    .selectFrom('notifications')
    .leftJoin('requests', 'requests.id', 'notifications.request_id')
    .leftJoin('cases', 'cases.id', 'notifications.case_id')
    .where('notifications.seq', '>', afterSeq)
    .where((eb) =>
      eb.or([
        eb.and([
          eb('notifications.request_id', 'is not', null),
          notificationsVisibleTo(viewer)(
            eb as unknown as Parameters<ReturnType<typeof notificationsVisibleTo>>[0],
          ),
        ]),
        eb.and([
          eb('notifications.case_id', 'is not', null),
          caseEventsVisibleTo(caseViewer)(
            eb as unknown as Parameters<ReturnType<typeof caseEventsVisibleTo>>[0],
          ),
        ]),
      ]),
    )
    .select([
      'notifications.seq',
      'notifications.at',
      'notifications.type',
      'notifications.request_id',
      'notifications.case_id',
      'notifications.data',
      sql<boolean>`coalesce(requests.exercise, cases.exercise, false)`.as('exercise'),
    ])
    .orderBy('notifications.seq')
    .limit(limit)
    .execute();
}

/**
 * Pending events that `where` selects, locked for a change in the order they are numbered in (by
 * id), as a subquery of their ids. Every change of pending rows locks them this way, as the
 * sequencer takes them: two such changes never each hold a row the other waits for (a deadlock).
 */
function pendingLockedInOrder(where: RawBuilder<boolean>, limit?: number) {
  const first = limit === undefined ? sql`` : sql`limit ${limit}`;
  return sql`select id from notifications_pending where ${where} order by id ${first} for update`;
}

/** An item of a case and its new label. */
export interface ItemLabel {
  itemId: string;
  tlp: string;
}

/**
 * Gives the past events about items of a case the items' new labels, numbered yet or not, in one
 * statement for each (the last label given for an item counts). A transaction that relabels more
 * than once could lock pending events out of order: it gathers its labels and calls this once.
 */
export async function relabelItemEvents(trx: Tx, caseId: string, labels: readonly ItemLabel[]) {
  if (labels.length === 0) return;
  const latest = new Map(labels.map((label) => [label.itemId, label.tlp]));
  const itemIds = textArray([...latest.keys()]);
  const newLabels = sql`unnest(${itemIds}::text[], ${textArray([...latest.values()])}::text[]) as l(item_id, tlp)`;
  const ofTheItems = sql<boolean>`case_id = ${caseId} and data ->> 'itemId' = any(${itemIds}::text[])`;
  // The pending ones first: an event the sequencer numbers meanwhile has left them once it commits,
  // and is then found among the numbered ones by the second statement (it sees what was committed
  // before it began).
  await sql`update notifications_pending p set tlp = l.tlp from ${newLabels}
            where p.id in (${pendingLockedInOrder(ofTheItems)}) and p.data ->> 'itemId' = l.item_id`.execute(
    trx,
  );
  await sql`update notifications n set tlp = l.tlp from ${newLabels}
            where n.case_id = ${caseId} and n.data ->> 'itemId' = l.item_id`.execute(trx);
}

/** Removes a case's events that are not numbered yet (a case that is not kept). */
export async function deletePendingOfCase(trx: Tx, caseId: string) {
  await sql`delete from notifications_pending
            where id in (${pendingLockedInOrder(sql`case_id = ${caseId}`)})`.execute(trx);
}
