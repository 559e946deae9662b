import type { Role } from '@vytis/contracts';
import { type ExpressionBuilder, sql } from 'kysely';
import {
  type CaseViewer,
  casesVisibleTo,
  type RequestViewer,
  requestsVisibleTo,
} from '../../access/policy.ts';
import type { Database } from '../../platform/db/schema.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';

// ---- the dispatcher's cursor and what it reads

/**
 * The dispatcher's turn: the cursor row, locked for this transaction. Null when another process
 * holds it (it is dispatching; skipped, not waited for).
 */
export async function claimCursor(trx: Tx): Promise<number | null> {
  const row = await trx
    .selectFrom('inbox_cursor')
    .select('seq')
    .where('id', '=', 1)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
  return row ? Number(row.seq) : null;
}

export async function moveCursor(trx: Tx, seq: number) {
  await trx.updateTable('inbox_cursor').set({ seq }).where('id', '=', 1).execute();
}

export async function eventsAfter(db: Executor, afterSeq: number, limit: number) {
  const rows = await db
    .selectFrom('notifications')
    .leftJoin('requests', 'requests.id', 'notifications.request_id')
    .leftJoin('cases', 'cases.id', 'notifications.case_id')
    .where('notifications.seq', '>', afterSeq)
    .select([
      'notifications.seq',
      'notifications.at',
      'notifications.type',
      'notifications.request_id',
      'notifications.case_id',
      'notifications.data',
      'requests.title as request_title',
      'requests.party_code as request_party',
      'requests.council as request_council',
      'cases.title as case_title',
      sql<boolean>`coalesce(requests.exercise, cases.exercise, false)`.as('exercise'),
    ])
    .orderBy('notifications.seq')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
}
export type EventRow = Awaited<ReturnType<typeof eventsAfter>>[number];

export interface Person {
  id: string;
  name: string;
  party_code: string;
  roles: Role[];
}

const people = (db: Executor) =>
  db
    .selectFrom('users')
    .where('users.disabled_at', 'is', null)
    .select(['users.id', 'users.name', 'users.party_code', 'users.roles']);

/** Active users with one of `roles`, of one of `parties` (all parties when null). */
export async function usersWithRole(
  db: Executor,
  roles: Role[],
  parties: string[] | null,
): Promise<Person[]> {
  if (parties !== null && parties.length === 0) return [];
  let query = people(db).where(sql<boolean>`users.roles && array[${sql.join(roles)}]::text[]`);
  if (parties !== null) query = query.where('users.party_code', 'in', parties);
  return (await query.execute()) as Person[];
}

export async function usersById(db: Executor, ids: string[]): Promise<Person[]> {
  if (ids.length === 0) return [];
  return (await people(db).where('users.id', 'in', ids).execute()) as Person[];
}

export async function responderUser(db: Executor, responderId: string): Promise<string | null> {
  const row = await db
    .selectFrom('responders')
    .select('user_id')
    .where('id', '=', responderId)
    .executeTakeFirst();
  return row?.user_id ?? null;
}

export async function deploymentOf(db: Executor, deploymentId: string) {
  return db
    .selectFrom('deployments')
    .select(['id', 'host_party', 'status'])
    .where('id', '=', deploymentId)
    .executeTakeFirst();
}

/** The home parties of the members still waiting for their release (one member, if named). */
export async function pendingMemberParties(db: Executor, deploymentId: string, responderId?: string) {
  let query = db
    .selectFrom('deployment_members')
    .select('party_code')
    .distinct()
    .where('deployment_id', '=', deploymentId)
    .where('status', '=', 'pending');
  if (responderId) query = query.where('responder_id', '=', responderId);
  return (await query.execute()).map((r) => r.party_code);
}

export async function taskAssignee(db: Executor, caseId: string, taskId: string) {
  const row = await db
    .selectFrom('case_tasks')
    .select('assignee_id')
    .where('case_id', '=', caseId)
    .where('id', '=', taskId)
    .executeTakeFirst();
  return row?.assignee_id ?? null;
}

// ---- choices and contact

export async function settingsOf(db: Executor, userIds: string[]) {
  if (userIds.length === 0) return [];
  return db
    .selectFrom('notification_settings')
    .select(['user_id', 'kind', 'in_app', 'email'])
    .where('user_id', 'in', userIds)
    .execute();
}

export async function saveSetting(
  trx: Tx,
  row: { user_id: string; kind: string; in_app: boolean; email: boolean; updated_at: Date },
) {
  await trx
    .insertInto('notification_settings')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['user_id', 'kind'])
        .doUpdateSet({ in_app: row.in_app, email: row.email, updated_at: row.updated_at }),
    )
    .execute();
}

export async function emailsOf(db: Executor, userIds: string[]) {
  if (userIds.length === 0) return new Map<string, string>();
  const rows = await db
    .selectFrom('user_contact')
    .select(['user_id', 'email'])
    .where('user_id', 'in', userIds)
    .where('email', 'is not', null)
    .execute();
  return new Map(rows.map((r) => [r.user_id, r.email!]));
}

export async function saveEmail(trx: Tx, userId: string, email: string | null, at: Date) {
  await trx
    .insertInto('user_contact')
    .values({ user_id: userId, email, updated_at: at })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ email, updated_at: at }))
    .execute();
}

export async function userExists(db: Executor, userId: string) {
  const row = await db.selectFrom('users').select(['id', 'name']).where('id', '=', userId).executeTakeFirst();
  return row ?? null;
}

// ---- the inbox

export async function insertItems(
  trx: Tx,
  rows: {
    user_id: string;
    seq: number;
    kind: string;
    at: Date;
    title: string;
    href: string;
    request_id: string | null;
    case_id: string | null;
    exercise: boolean;
    created_at: Date;
  }[],
) {
  if (rows.length === 0) return;
  // Unique per person and event: a dispatch repeated after a crash adds nothing.
  await trx
    .insertInto('inbox_items')
    .values(rows)
    .onConflict((oc) => oc.columns(['user_id', 'seq']).doNothing())
    .execute();
}

/** Who reads their inbox: an item about something they may no longer see is not shown, nor counted. */
export interface InboxReader {
  requests: RequestViewer;
  cases: CaseViewer;
}

/** The item's request and case, if it has them, are visible to the reader now (the one policy). */
function stillVisibleTo(reader: InboxReader) {
  return (eb: ExpressionBuilder<Database, 'inbox_items'>) =>
    eb.and([
      eb.or([
        eb('inbox_items.request_id', 'is', null),
        eb.exists(
          eb
            .selectFrom('requests')
            .select('requests.id')
            .whereRef('requests.id', '=', 'inbox_items.request_id')
            .where(requestsVisibleTo(reader.requests)),
        ),
      ]),
      eb.or([
        eb('inbox_items.case_id', 'is', null),
        eb.exists(
          eb
            .selectFrom('cases')
            .select('cases.id')
            .whereRef('cases.id', '=', 'inbox_items.case_id')
            .where(casesVisibleTo(reader.cases)),
        ),
      ]),
    ]);
}

export async function listItems(
  db: Executor,
  userId: string,
  reader: InboxReader,
  filter: { unread: boolean; beforeSeq: number | null; limit: number },
) {
  let query = db
    .selectFrom('inbox_items')
    .selectAll()
    .where('user_id', '=', userId)
    .where(stillVisibleTo(reader))
    .orderBy('seq', 'desc')
    .limit(filter.limit);
  if (filter.unread) query = query.where('read_at', 'is', null);
  if (filter.beforeSeq !== null) query = query.where('seq', '<', filter.beforeSeq);
  return (await query.execute()).map((row) => ({ ...row, seq: Number(row.seq) }));
}

export async function unreadCount(db: Executor, userId: string, reader: InboxReader) {
  const row = await db
    .selectFrom('inbox_items')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', userId)
    .where(stillVisibleTo(reader))
    .where('read_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Marks the person's own unread items read (all, or those of `ids`); returns the ids marked. */
export async function markRead(trx: Tx, userId: string, ids: string[] | 'all', at: Date) {
  let query = trx
    .updateTable('inbox_items')
    .set({ read_at: at })
    .where('user_id', '=', userId)
    .where('read_at', 'is', null);
  if (ids !== 'all') query = query.where('id', 'in', ids);
  return (await query.returning('id').execute()).map((r) => r.id);
}

// ---- the mail outbox

export async function queueMails(
  trx: Tx,
  rows: {
    user_id: string;
    seq: number;
    kind: string;
    to_address: string;
    subject: string;
    text_body: string;
    html_body: string;
    next_attempt_at: Date;
    created_at: Date;
  }[],
) {
  if (rows.length === 0) return;
  await trx
    .insertInto('mail_outbox')
    .values(rows)
    .onConflict((oc) => oc.columns(['user_id', 'seq']).doNothing())
    .execute();
}

/**
 * Leases due mails to this process: a lease that runs out (a process that died mid-send) makes the
 * mail due again, and a leased one is skipped by the other processes.
 */
export async function leaseDueMails(trx: Tx, now: Date, leaseUntil: Date, limit: number) {
  const due = trx
    .selectFrom('mail_outbox')
    .select('id')
    .where('state', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .orderBy('next_attempt_at')
    .limit(limit)
    .forUpdate()
    .skipLocked();
  return trx
    .updateTable('mail_outbox')
    .set((eb) => ({ lease_until: leaseUntil, attempts: eb('attempts', '+', 1) }))
    .where('id', 'in', due)
    .returningAll()
    .execute();
}

export async function mailSent(db: Executor, id: string, at: Date) {
  await db
    .updateTable('mail_outbox')
    .set({ state: 'sent', sent_at: at, lease_until: null, last_error: null, next_attempt_at: null })
    .where('id', '=', id)
    .execute();
}

export async function mailFailed(db: Executor, id: string, error: string, nextAttemptAt: Date | null) {
  await db
    .updateTable('mail_outbox')
    .set({
      state: nextAttemptAt ? 'pending' : 'failed',
      last_error: error.slice(0, 1000),
      next_attempt_at: nextAttemptAt,
      lease_until: null,
    })
    .where('id', '=', id)
    .execute();
}
