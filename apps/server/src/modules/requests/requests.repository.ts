import { type ExpressionBuilder, type Insertable, sql, type Updateable } from 'kysely';
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
    .forNoKeyUpdate()
    .executeTakeFirst();
}

export async function find(db: Executor, id: string) {
  return db.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** For the node's own work (the scheduler), which sees everything. */
export async function lock(trx: Tx, id: string) {
  return trx
    .selectFrom('requests')
    .selectAll()
    .where('id', '=', id)
    .forNoKeyUpdate()
    .executeTakeFirstOrThrow();
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

/**
 * Clocks of this node's own requests whose moment has come, oldest first; read without locks (see
 * fireClock). A copy's clocks run on the node that speaks for its request, never here.
 */
export async function dueOwnClocks(db: Executor, step: 'warn' | 'escalate', now: Date, limit: number) {
  return db
    .selectFrom('deadlines')
    .select(['id', 'request_id', 'kind', 'due_at'])
    .where('mirrored_from', 'is', null)
    .where(isDue(step, now))
    .orderBy(step === 'warn' ? 'warn_at' : 'due_at')
    .limit(limit)
    .execute();
}

/**
 * Queues every submitted request this node speaks for in the federation's outbox (0019): a change
 * of the registry (who is in the community, who votes) changes which peers may receive it. Nothing
 * when the node is not federated.
 */
export async function touchFederatedRequests(trx: Tx) {
  await trx
    .insertInto('federation_outbox')
    .columns(['object_type', 'object_id'])
    .expression((eb) =>
      eb
        .selectFrom('requests')
        .innerJoin('federation_self', 'federation_self.party', 'requests.party_code')
        .select([eb.val('request').as('object_type'), 'requests.id'])
        .where('requests.mirrored_from', 'is', null)
        .where('requests.submitted_at', 'is not', null),
    )
    .execute();
}

// --- copies of other nodes' requests (Federation II: the request document) ---------------------

/** This node's own submitted requests among `ids` that `viewer` (a peer node as its party's users) may see. */
export async function ownSubmittedVisible(
  db: Executor,
  party: string,
  ids: readonly string[],
  viewer: RequestViewer,
) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('requests')
    .selectAll()
    .where('id', 'in', [...ids])
    .where('mirrored_from', 'is', null)
    .where('party_code', '=', party)
    .where('submitted_at', 'is not', null)
    .where(requestsVisibleTo(viewer))
    .execute();
}

/** The entries of these requests that leave with them: their own (not copies), never those of the draft. */
export async function sharedTimelines(db: Executor, requestIds: readonly string[]) {
  if (requestIds.length === 0) return [];
  return db
    .selectFrom('request_timeline')
    .selectAll()
    .where('request_id', 'in', [...requestIds])
    .where('mirrored_from', 'is', null)
    .where('party_only', '=', false)
    .orderBy('id')
    .execute();
}

export async function votesOf(db: Executor, requestIds: readonly string[]) {
  if (requestIds.length === 0) return [];
  return db
    .selectFrom('council_votes')
    .selectAll()
    .where('request_id', 'in', [...requestIds])
    .orderBy('party_code')
    .execute();
}

/** Who holds each of these ids here: null for this node's own request, else the party it is a copy from. */
export async function requestOrigins(db: Executor, ids: readonly string[]) {
  if (ids.length === 0)
    return new Map<string, { mirrored_from: string | null; mirror_version: number | null }>();
  const rows = await db
    .selectFrom('requests')
    .select(['id', 'mirrored_from', 'mirror_version'])
    .where('id', 'in', [...ids])
    .execute();
  return new Map(
    rows.map((r) => [r.id, { mirrored_from: r.mirrored_from, mirror_version: r.mirror_version }]),
  );
}

/** Clock ids among `ids` that belong to another request than `requestId`. */
export async function clocksOfOtherRequests(db: Executor, requestId: string, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('deadlines')
    .select('id')
    .where('id', 'in', [...ids])
    .where('request_id', '<>', requestId)
    .execute();
}

/**
 * Writes `origin`'s copy of a request at `version` (inserted, or updated where it is an older copy
 * from the same origin); returns whether it was written.
 */
export async function upsertRequestCopy(
  trx: Tx,
  origin: string,
  version: number,
  row: Insertable<RequestsTable>,
): Promise<boolean> {
  const copy = { ...row, mirrored_from: origin, mirror_version: version, mirror_retracted: false };
  const { id: _id, ...changes } = copy;
  const written = await trx
    .insertInto('requests')
    .values(copy)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet(changes)
        .where('requests.mirrored_from', '=', origin)
        .where('requests.mirror_version', '<', version),
    )
    .returning('id')
    .executeTakeFirst();
  return written !== undefined;
}

/** Inserts the copied timeline entries not held yet (by their origin id); returns those inserted, in order. */
export async function insertTimelineCopies(trx: Tx, rows: Insertable<RequestTimelineTable>[]) {
  if (rows.length === 0) return [];
  const inserted = await trx
    .insertInto('request_timeline')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['mirrored_from', 'origin_id']).where('mirrored_from', 'is not', null).doNothing(),
    )
    .returningAll()
    .execute();
  return inserted.sort((a, b) => Number(a.origin_id) - Number(b.origin_id));
}

/** A copy's votes and clocks become exactly the origin's. */
export async function replaceVoteAndClockCopies(
  trx: Tx,
  requestId: string,
  votes: Insertable<CouncilVotesTable>[],
  clocks: Insertable<DeadlinesTable>[],
) {
  await trx.deleteFrom('council_votes').where('request_id', '=', requestId).execute();
  await trx.deleteFrom('deadlines').where('request_id', '=', requestId).execute();
  if (votes.length > 0) await trx.insertInto('council_votes').values(votes).execute();
  if (clocks.length > 0) await trx.insertInto('deadlines').values(clocks).execute();
}

/**
 * Removes `origin`'s copy of a request older than `version`: its copied timeline, votes and clocks
 * go; the row itself goes too unless this node's own work or events refer to it, in which case it is
 * kept, hidden (`mirror_retracted`). Returns whether there was such a copy.
 */
export async function retractRequestCopy(trx: Tx, origin: string, id: string, version: number) {
  const copy = await trx
    .selectFrom('requests')
    .select('id')
    .where('id', '=', id)
    .where('mirrored_from', '=', origin)
    .where('mirror_version', '<', version)
    .forUpdate()
    .executeTakeFirst();
  if (!copy) return false;
  await trx.deleteFrom('council_votes').where('request_id', '=', id).execute();
  await trx.deleteFrom('deadlines').where('request_id', '=', id).execute();
  await trx
    .deleteFrom('request_timeline')
    .where('request_id', '=', id)
    .where('mirrored_from', 'is not', null)
    .execute();
  // Whatever of this node refers to the request (foreign keys to requests.id, and events not yet numbered).
  const referrers = [
    'team_proposals',
    'deployments',
    'cases',
    'notifications',
    'notifications_pending',
    'request_timeline',
  ].map((table) => sql<boolean>`exists (select 1 from ${sql.table(table)} where request_id = ${id})`);
  const { referred } = await sql<{
    referred: boolean;
  }>`select (${sql.join(referrers, sql` or `)}) as referred`
    .execute(trx)
    .then((r) => r.rows[0]!);
  if (referred) {
    await trx
      .updateTable('requests')
      .set({ mirror_retracted: true, mirror_version: version })
      .where('id', '=', id)
      .execute();
  } else {
    await trx.deleteFrom('requests').where('id', '=', id).execute();
  }
  return true;
}
