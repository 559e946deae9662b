import { type Insertable, sql } from 'kysely';
import type { CaseViewer } from '../../access/policy.ts';
import { casesVisibleTo } from '../../access/policy.ts';
import type { Database } from '../../platform/db/schema.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';
import { deletePendingOfCase } from '../notifications/notifications.repository.ts';

/** A feed with its owner's name and how many events it has pulled. */
function feedsWithOwner(db: Executor) {
  return db
    .selectFrom('misp_feeds')
    .innerJoin('users', 'users.id', 'misp_feeds.owner_id')
    .selectAll('misp_feeds')
    .select('users.name as owner_name')
    .select((eb) =>
      eb
        .selectFrom('misp_feed_events')
        .whereRef('misp_feed_events.feed_id', '=', 'misp_feeds.id')
        .select(eb.fn.countAll<number>().as('n'))
        .as('event_count'),
    );
}

export type FeedRow = Awaited<ReturnType<typeof listVisibleFeeds>>[number];

/** The feeds of the cases the viewer sees, by name. */
export async function listVisibleFeeds(db: Executor, viewer: CaseViewer, id?: string) {
  let query = feedsWithOwner(db)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('cases')
          .select(sql.lit(1).as('one'))
          .whereRef('cases.id', '=', 'misp_feeds.case_id')
          .where(casesVisibleTo(viewer)),
      ),
    )
    .orderBy('misp_feeds.name');
  if (id) query = query.where('misp_feeds.id', '=', id);
  return query.execute();
}

/** Any feed by id, whoever may see it (the node's scheduled pulls). */
export async function findFeed(db: Executor, id: string) {
  return feedsWithOwner(db).where('misp_feeds.id', '=', id).executeTakeFirst();
}

/** Whether the owner has a feed of that name already (names are each owner's own). */
export async function feedNameTaken(db: Executor, ownerId: string, name: string) {
  return Boolean(
    await db
      .selectFrom('misp_feeds')
      .select('id')
      .where('owner_id', '=', ownerId)
      .where('name', '=', name)
      .executeTakeFirst(),
  );
}

/** Feeds of that name: the owner's own when given, else anyone's (the command line names feeds). */
export async function feedsNamed(db: Executor, name: string, ownerId?: string) {
  let query = feedsWithOwner(db).where('misp_feeds.name', '=', name);
  if (ownerId) query = query.where('misp_feeds.owner_id', '=', ownerId);
  return query.orderBy('users.name').execute();
}

/**
 * Removes a case opened for a feed that could then not be added, with what opening it wrote: its
 * (empty) audience and the event announcing it. The case was never shown to anyone but its
 * opener, who is told it was not kept. Cases have no removal of their own (`CasesService.create`
 * takes no transaction to share).
 */
export async function removeOpenedCase(trx: Tx, caseId: string) {
  for (const table of ['case_shares', 'case_group_shares', 'case_recipients', 'case_assignees'] as const)
    await trx.deleteFrom(table).where('case_id', '=', caseId).execute();
  await deletePendingOfCase(trx, caseId);
  await trx.deleteFrom('notifications').where('case_id', '=', caseId).execute();
  await trx.deleteFrom('cases').where('id', '=', caseId).execute();
}

export async function insertFeed(trx: Tx, row: Insertable<Database['misp_feeds']>) {
  await trx.insertInto('misp_feeds').values(row).execute();
}

export async function lockFeed(trx: Tx, id: string) {
  return trx.selectFrom('misp_feeds').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateFeed(
  trx: Tx,
  id: string,
  patch: { enabled?: boolean; interval_minutes?: number; next_pull_at?: Date },
) {
  await trx
    .updateTable('misp_feeds')
    .set({ ...patch, version: sql<number>`version + 1` })
    .where('id', '=', id)
    .execute();
}

export async function deleteFeed(trx: Tx, id: string) {
  await trx.deleteFrom('misp_feed_events').where('feed_id', '=', id).execute();
  await trx.deleteFrom('misp_feeds').where('id', '=', id).execute();
}

/** Every event's timestamp as last pulled: one query, compared with the manifest in memory. */
export async function pulledTimestamps(db: Executor, feedId: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('misp_feed_events')
    .select(['event_uuid', 'timestamp'])
    .where('feed_id', '=', feedId)
    .execute();
  return new Map(rows.map((r) => [r.event_uuid, Number(r.timestamp)]));
}

/** Records what a run pulled, in parts (a first pull of a large feed is thousands of rows). */
export async function recordPulled(
  trx: Tx,
  feedId: string,
  events: readonly { uuid: string; timestamp: number }[],
  at: Date,
) {
  for (let i = 0; i < events.length; i += 1000) {
    const part = events.slice(i, i + 1000);
    await trx
      .insertInto('misp_feed_events')
      .values(
        part.map((e) => ({ feed_id: feedId, event_uuid: e.uuid, timestamp: e.timestamp, pulled_at: at })),
      )
      .onConflict((oc) =>
        oc.columns(['feed_id', 'event_uuid']).doUpdateSet((eb) => ({
          timestamp: eb.ref('excluded.timestamp'),
          pulled_at: eb.ref('excluded.pulled_at'),
        })),
      )
      .execute();
  }
}

export async function recordRun(
  trx: Tx,
  id: string,
  run: {
    last_run_at: Date;
    last_ok_at?: Date;
    last_result: string;
    last_error: string | null;
    next_pull_at: Date;
  },
) {
  await trx
    .updateTable('misp_feeds')
    .set({ ...run, version: sql<number>`version + 1` })
    .where('id', '=', id)
    .execute();
}

/** Enabled feeds whose pull is due, oldest due first. */
export async function dueFeeds(db: Executor, now: Date, limit: number) {
  return (
    db
      .selectFrom('misp_feeds')
      .select(['id', 'next_pull_at'])
      .where('enabled', '=', true)
      .where('next_pull_at', '<=', now)
      // Longest waiting first, then by id: a round takes feeds in turn, none jumping the queue.
      .orderBy('next_pull_at')
      .orderBy('id')
      .limit(limit)
      .execute()
  );
}

/**
 * Claims a due feed for this process by moving its next pull on, if it is still due as read: of
 * processes sharing the database, only one claims it.
 */
export async function claimDue(db: Executor, id: string, wasDueAt: Date, until: Date) {
  const result = await db
    .updateTable('misp_feeds')
    .set({ next_pull_at: until })
    .where('id', '=', id)
    .where('enabled', '=', true)
    .where('next_pull_at', '=', wasDueAt)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
