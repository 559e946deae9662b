import type { ExpressionBuilder, Insertable, Updateable } from 'kysely';
import { type RequestViewer, requestsVisibleTo } from '../../access/policy.ts';
import type {
  CouncilVotesTable,
  Database,
  DeadlinesTable,
  RequestsTable,
  RequestTimelineTable,
} from '../../platform/db/schema.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';

export async function insertRequest(trx: Tx, row: Insertable<RequestsTable>) {
  return trx.insertInto('requests').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findVisible(db: Executor, viewer: RequestViewer, id: string) {
  return db
    .selectFrom('requests')
    .selectAll()
    .where('id', '=', id)
    .where(requestsVisibleTo(viewer))
    .executeTakeFirst();
}

/** The row, locked for the rest of the transaction, if the viewer may see it. */
export async function lockVisible(trx: Tx, viewer: RequestViewer, id: string) {
  return trx
    .selectFrom('requests')
    .selectAll()
    .where('id', '=', id)
    .where(requestsVisibleTo(viewer))
    .forUpdate()
    .executeTakeFirst();
}

export async function find(db: Executor, id: string) {
  return db.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** For the node's own work (the scheduler), which sees everything. */
export async function lock(trx: Tx, id: string) {
  return trx.selectFrom('requests').selectAll().where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
}

export async function updateRequest(trx: Tx, id: string, changes: Updateable<RequestsTable>) {
  return trx
    .updateTable('requests')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface ListFilter {
  status?: readonly string[] | undefined;
  party?: string | undefined;
  exercise?: boolean | undefined;
  severity?: string | undefined;
}

function filtered(db: Executor, viewer: RequestViewer, filter: ListFilter) {
  let query = db.selectFrom('requests').where(requestsVisibleTo(viewer));
  if (filter.status?.length) query = query.where('requests.status', 'in', [...filter.status]);
  if (filter.party) query = query.where('requests.party_code', '=', filter.party);
  if (filter.exercise !== undefined) query = query.where('requests.exercise', '=', filter.exercise);
  if (filter.severity) query = query.where('requests.severity', '=', filter.severity);
  return query;
}

export interface BoardCursor {
  score: number;
  createdAt: string;
  id: string;
}

/** The board: highest priority first, then the oldest, then by id so pages never overlap. */
export async function listVisible(
  db: Executor,
  viewer: RequestViewer,
  filter: ListFilter,
  after: BoardCursor | null,
  limit: number,
) {
  let query = filtered(db, viewer, filter).selectAll('requests');
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('requests.priority_score', '<', after.score),
        eb.and([
          eb('requests.priority_score', '=', after.score),
          eb.or([
            eb('requests.created_at', '>', new Date(after.createdAt)),
            eb.and([
              eb('requests.created_at', '=', new Date(after.createdAt)),
              eb('requests.id', '>', after.id),
            ]),
          ]),
        ]),
      ]),
    );
  }
  return query
    .orderBy('requests.priority_score', 'desc')
    .orderBy('requests.created_at', 'asc')
    .orderBy('requests.id', 'asc')
    .limit(limit)
    .execute();
}

export async function countVisible(db: Executor, viewer: RequestViewer, filter: ListFilter) {
  const row = await filtered(db, viewer, filter)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function countByStatus(db: Executor, viewer: RequestViewer) {
  return db
    .selectFrom('requests')
    .where(requestsVisibleTo(viewer))
    .select(['exercise', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['exercise', 'status'])
    .execute();
}

export async function countOverdue(db: Executor, viewer: RequestViewer) {
  return db
    .selectFrom('deadlines')
    .innerJoin('requests', 'requests.id', 'deadlines.request_id')
    .where(requestsVisibleTo(viewer))
    .where('deadlines.state', '=', 'overdue')
    .select(['requests.exercise', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('requests.exercise')
    .execute();
}

export async function insertTimeline(trx: Tx, row: Insertable<RequestTimelineTable>) {
  await trx.insertInto('request_timeline').values(row).execute();
}

export async function timeline(db: Executor, requestId: string, withPartyOnly: boolean) {
  let query = db.selectFrom('request_timeline').selectAll().where('request_id', '=', requestId);
  if (!withPartyOnly) query = query.where('party_only', '=', false);
  return query.orderBy('id').execute();
}

export async function upsertVote(trx: Tx, row: Insertable<CouncilVotesTable>) {
  await trx
    .insertInto('council_votes')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['request_id', 'party_code']).doUpdateSet({
        vote: row.vote,
        comment: row.comment ?? null,
        cast_by: row.cast_by,
        cast_at: row.cast_at,
      }),
    )
    .execute();
}

export async function votes(db: Executor, requestId: string) {
  return db
    .selectFrom('council_votes')
    .selectAll()
    .where('request_id', '=', requestId)
    .orderBy('party_code')
    .execute();
}

export async function insertDeadlines(trx: Tx, rows: Insertable<DeadlinesTable>[]) {
  if (rows.length > 0) await trx.insertInto('deadlines').values(rows).execute();
}

export async function deadlines(db: Executor, requestIds: readonly string[]) {
  if (requestIds.length === 0) return [];
  return db
    .selectFrom('deadlines')
    .selectAll()
    .where('request_id', 'in', [...requestIds])
    .orderBy('due_at')
    .execute();
}

const OPEN_STATES = ['running', 'warned', 'overdue'];

/** Marks open clocks of these kinds met; returns the ones it changed. */
export async function meetDeadlines(trx: Tx, requestId: string, kinds: readonly string[], at: Date) {
  if (kinds.length === 0) return [];
  return trx
    .updateTable('deadlines')
    .set({ state: 'met', met_at: at })
    .where('request_id', '=', requestId)
    .where('kind', 'in', [...kinds])
    .where('state', 'in', OPEN_STATES)
    .returningAll()
    .execute();
}

export async function cancelDeadlines(trx: Tx, requestId: string, kinds: readonly string[]) {
  if (kinds.length === 0) return [];
  return trx
    .updateTable('deadlines')
    .set({ state: 'cancelled' })
    .where('request_id', '=', requestId)
    .where('kind', 'in', [...kinds])
    .where('state', 'in', OPEN_STATES)
    .returningAll()
    .execute();
}

const isDue = (step: 'warn' | 'escalate', now: Date) => (eb: ExpressionBuilder<Database, 'deadlines'>) =>
  step === 'warn'
    ? eb.and([eb('state', '=', 'running'), eb('warn_at', '<=', now), eb('due_at', '>', now)])
    : eb.and([eb('state', 'in', ['running', 'warned']), eb('due_at', '<=', now)]);

/** Clocks whose moment has come, oldest first; read without locks (see fireClock). */
export async function dueClocks(db: Executor, step: 'warn' | 'escalate', now: Date, limit: number) {
  return db
    .selectFrom('deadlines')
    .select(['id', 'request_id', 'kind', 'due_at'])
    .where(isDue(step, now))
    .orderBy(step === 'warn' ? 'warn_at' : 'due_at')
    .limit(limit)
    .execute();
}

/**
 * Moves one clock to warned or overdue if it is still due, returning it; undefined when another
 * process fired it first. Callers lock the request before, as every writer does, so locks are
 * always taken request first, then clocks.
 */
export async function fireClock(trx: Tx, id: string, step: 'warn' | 'escalate', now: Date) {
  return trx
    .updateTable('deadlines')
    .set(step === 'warn' ? { state: 'warned', warned_at: now } : { state: 'overdue', escalated_at: now })
    .where('id', '=', id)
    .where(isDue(step, now))
    .returningAll()
    .executeTakeFirst();
}
