import {
  type Expression,
  type ExpressionBuilder,
  type Insertable,
  type Selectable,
  sql,
  type Updateable,
} from 'kysely';
import {
  type CaseViewer,
  caseItemsVisibleTo,
  caseSharedWithParty,
  casesVisibleTo,
  sharingGroupsVisibleTo,
  usersVisibleTo,
} from '../../access/policy.ts';
import type { Actor } from '../../context.ts';
import type {
  CaseNotesTable,
  CasesTable,
  CaseTasksTable,
  CaseTimelineTable,
  Database,
  SharingGroupsTable,
} from '../../platform/db/schema.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';

export type CaseRow = Selectable<CasesTable>;
export type SharingGroupRow = Selectable<SharingGroupsTable>;

export async function insertCase(trx: Tx, row: Insertable<CasesTable>) {
  return trx.insertInto('cases').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findVisible(db: Executor, viewer: CaseViewer, id: string) {
  return db
    .selectFrom('cases')
    .selectAll()
    .where('cases.id', '=', id)
    .where(casesVisibleTo(viewer))
    .executeTakeFirst();
}

/** The case, locked for a change, if the viewer may see it. */
export async function lockVisible(trx: Tx, viewer: CaseViewer, id: string, mode: 'update' | 'share') {
  const query = trx.selectFrom('cases').selectAll().where('cases.id', '=', id).where(casesVisibleTo(viewer));
  return (mode === 'update' ? query.forNoKeyUpdate() : query.forShare()).executeTakeFirst();
}

/** TLP 2.0 labels from the widest audience to the narrowest, as a number SQL can compare. */
export const tlpRank = (label: Expression<unknown>) =>
  sql<number>`(case ${label} when 'clear' then 0 when 'green' then 1 when 'amber' then 2 when 'amber+strict' then 3 else 4 end)`;

const TOUCH_EVERY = sql`interval '1 second'`;

/**
 * See CasesService.touch. 'touched' when it was; 'busy' when writers hold the case (it was not
 * touched, and may need to be); 'done' when it needs no touch.
 */
export async function touchCase(
  db: Executor,
  caseId: string,
  itemTlp: string | null,
  at: Date,
): Promise<'touched' | 'done' | 'busy'> {
  const due = sql<boolean>`updated_at < ${at}::timestamptz - ${TOUCH_EVERY}`;
  const shown =
    itemTlp === null
      ? sql<boolean>`true`
      : sql<boolean>`${tlpRank(sql.lit(itemTlp))} <= ${tlpRank(sql.ref('tlp'))}`;
  const result = await sql<{ touched: boolean }>`
    with free as (
      select id from cases where id = ${caseId} and ${due} and ${shown} for no key update skip locked
    ), touched as (
      update cases set updated_at = ${at} where id in (select id from free) returning id
    )
    select exists (select 1 from touched) as touched,
           exists (select 1 from cases where id = ${caseId} and ${due} and ${shown}) as wanted`.execute(db);
  const row = result.rows[0] as { touched: boolean; wanted: boolean } | undefined;
  if (row?.touched) return 'touched';
  return row?.wanted ? 'busy' : 'done';
}

export async function updateCase(trx: Tx, id: string, changes: Updateable<CasesTable>) {
  return trx
    .updateTable('cases')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface CaseFilter {
  status?: string | undefined;
  tlp?: string | undefined;
  ownerParty?: string | undefined;
  requestId?: string | undefined;
  q?: string | undefined;
}

function filtered(db: Executor, viewer: CaseViewer, filter: CaseFilter) {
  let query = db.selectFrom('cases').where(casesVisibleTo(viewer));
  if (filter.status) query = query.where('cases.status', '=', filter.status);
  if (filter.tlp) query = query.where('cases.tlp', '=', filter.tlp);
  if (filter.ownerParty) query = query.where('cases.owner_party', '=', filter.ownerParty);
  if (filter.requestId) query = query.where('cases.request_id', '=', filter.requestId);
  if (filter.q) {
    const pattern = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where('cases.title', 'ilike', pattern);
  }
  return query;
}

/** Most recently changed first. */
export async function listVisible(
  db: Executor,
  viewer: CaseViewer,
  filter: CaseFilter,
  after: { updatedAt: Date; id: string } | null,
  limit: number,
) {
  let query = filtered(db, viewer, filter).selectAll('cases');
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('cases.updated_at', '<', after.updatedAt),
        eb.and([eb('cases.updated_at', '=', after.updatedAt), eb('cases.id', '<', after.id)]),
      ]),
    );
  }
  return query.orderBy('cases.updated_at', 'desc').orderBy('cases.id', 'desc').limit(limit).execute();
}

export async function countVisible(db: Executor, viewer: CaseViewer, filter: CaseFilter) {
  const row = await filtered(db, viewer, filter)
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface ItemCounts {
  tasks: number;
  openTasks: number;
  observables: number;
  notes: number;
  timeline: number;
  evidence: number;
}

/** What the viewer may see of each case: counts of items filtered by the same policy. */
export async function itemCounts(db: Executor, viewer: CaseViewer, caseIds: readonly string[]) {
  const counts = new Map<string, ItemCounts>();
  if (caseIds.length === 0) return counts;
  // One statement for a whole page (each statement is a round trip and, on a server, a plan), and
  // the ids as one array parameter so the text stays the same whatever the page's size.
  const rows = await db
    .selectFrom('cases as outer')
    .where(sql<boolean>`${sql.ref('outer.id')} = any(${[...caseIds]}::uuid[])`)
    .select((eb) => [
      'outer.id as case_id',
      eb
        .selectFrom('case_tasks')
        .whereRef('case_tasks.case_id', '=', 'outer.id')
        .select((inner) => inner.fn.countAll<number | string>().as('n'))
        .as('tasks'),
      eb
        .selectFrom('case_tasks')
        .whereRef('case_tasks.case_id', '=', 'outer.id')
        .where('case_tasks.status', 'in', ['todo', 'in-progress'])
        .select((inner) => inner.fn.countAll<number | string>().as('n'))
        .as('open_tasks'),
      eb
        .selectFrom('case_timeline')
        .whereRef('case_timeline.case_id', '=', 'outer.id')
        .select((inner) => inner.fn.countAll<number | string>().as('n'))
        .as('timeline'),
      cappedCount(eb, viewer, 'observables').as('observables'),
      cappedCount(eb, viewer, 'case_notes').as('notes'),
      cappedCount(eb, viewer, 'evidence').as('evidence'),
    ])
    .execute();
  for (const row of rows) {
    counts.set(row.case_id, {
      tasks: Number(row.tasks ?? 0),
      openTasks: Number(row.open_tasks ?? 0),
      observables: Number(row.observables ?? 0),
      notes: Number(row.notes ?? 0),
      timeline: Number(row.timeline ?? 0),
      evidence: Number(row.evidence ?? 0),
    });
  }
  return counts;
}

/**
 * Counts stop at COUNT_CAP + 1: counting a million indicators through the policy on every read of
 * a case would cost seconds, and nobody reads "1,000,000" differently from "more than 10,000".
 */
export const COUNT_CAP = 10_000;

/** The items of `table` in the outer query's case that the viewer may read, up to the cap. */
function cappedCount(
  eb: ExpressionBuilder<Database & { outer: Database['cases'] }, 'outer'>,
  viewer: CaseViewer,
  table: 'observables' | 'case_notes' | 'evidence',
) {
  return eb
    .selectFrom(
      eb
        .selectFrom(table)
        .innerJoin('cases', 'cases.id', `${table}.case_id`)
        .whereRef('cases.id', '=', 'outer.id')
        .where(caseItemsVisibleTo(viewer, table))
        .select(sql<number>`1`.as('one'))
        .limit(COUNT_CAP + 1)
        .as('capped'),
    )
    .select((inner) => inner.fn.countAll<number | string>().as('n'));
}

// Audiences: parties, sharing groups, named people and assignees.

export async function audienceOf(db: Executor, caseId: string) {
  const [parties, groups, recipients, assignees] = await Promise.all([
    db
      .selectFrom('case_shares')
      .select('party_code')
      .where('case_id', '=', caseId)
      .orderBy('party_code')
      .execute(),
    db
      .selectFrom('case_group_shares')
      .innerJoin('sharing_groups', 'sharing_groups.id', 'case_group_shares.group_id')
      .select(['sharing_groups.id', 'sharing_groups.name', 'sharing_groups.retired_at'])
      .where('case_group_shares.case_id', '=', caseId)
      .orderBy('sharing_groups.name')
      .execute(),
    peopleOf(db, 'case_recipients', [caseId]),
    peopleOf(db, 'case_assignees', [caseId]),
  ]);
  const members = await groupMembers(
    db,
    groups.map((g) => g.id),
  );
  return {
    parties: parties.map((p) => p.party_code),
    groups: groups.map((g) => ({
      id: g.id,
      name: g.name,
      parties: members.get(g.id) ?? [],
      retired: g.retired_at !== null,
    })),
    recipients,
    assignees,
  };
}

export async function groupMembers(db: Executor, groupIds: readonly string[]) {
  const members = new Map<string, string[]>();
  if (groupIds.length === 0) return members;
  const rows = await db
    .selectFrom('sharing_group_members')
    .select(['group_id', 'party_code'])
    .where('group_id', 'in', [...groupIds])
    .orderBy('party_code')
    .execute();
  for (const row of rows) members.set(row.group_id, [...(members.get(row.group_id) ?? []), row.party_code]);
  return members;
}

export async function peopleOf(
  db: Executor,
  table: 'case_recipients' | 'case_assignees',
  caseIds: readonly string[],
) {
  if (caseIds.length === 0) return [];
  return db
    .selectFrom(table)
    .innerJoin('users', 'users.id', `${table}.user_id`)
    .select([`${table}.case_id as caseId`, 'users.id', 'users.name', 'users.party_code as party'])
    .where(`${table}.case_id`, 'in', [...caseIds])
    .orderBy('users.name')
    .execute();
}

export async function replaceParties(trx: Tx, caseId: string, parties: readonly string[]) {
  await trx.deleteFrom('case_shares').where('case_id', '=', caseId).execute();
  if (parties.length > 0) {
    await trx
      .insertInto('case_shares')
      .values(parties.map((party_code) => ({ case_id: caseId, party_code })))
      .execute();
  }
}

export async function replaceGroups(trx: Tx, caseId: string, groups: readonly string[]) {
  await trx.deleteFrom('case_group_shares').where('case_id', '=', caseId).execute();
  if (groups.length > 0) {
    await trx
      .insertInto('case_group_shares')
      .values(groups.map((group_id) => ({ case_id: caseId, group_id })))
      .execute();
  }
}

export async function replacePeople(
  trx: Tx,
  table: 'case_recipients' | 'case_assignees',
  caseId: string,
  userIds: readonly string[],
) {
  await trx.deleteFrom(table).where('case_id', '=', caseId).execute();
  if (userIds.length > 0) {
    await trx
      .insertInto(table)
      .values(userIds.map((user_id) => ({ case_id: caseId, user_id })))
      .execute();
  }
}

/** Whether the user's party is among the case's audience by party (directly or by a group). */
export async function partyShared(db: Executor, caseId: string, party: string) {
  const row = await db
    .selectFrom('cases')
    .select((eb) => sql<boolean>`${caseSharedWithParty(party)(eb)}`.as('shared'))
    .where('cases.id', '=', caseId)
    .executeTakeFirst();
  return Boolean(row?.shared);
}

export async function isPerson(
  db: Executor,
  table: 'case_recipients' | 'case_assignees',
  caseId: string,
  userId: string,
) {
  const row = await db
    .selectFrom(table)
    .select('user_id')
    .where('case_id', '=', caseId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function existingUsers(db: Executor, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .selectFrom('users')
    .select(['id', 'party_code'])
    .where('id', 'in', [...ids])
    .execute();
}

/**
 * A user as the access policy sees them, to ask what they may see, and whether `caller` may see
 * that user at all (`usersVisibleTo`), which decides what may be told about them.
 */
export async function userAsActor(db: Executor, id: string, caller: Actor) {
  return db
    .selectFrom('users')
    .select(['id', 'name', 'party_code', 'roles', 'disabled_at'])
    .select((eb) => sql<boolean>`${usersVisibleTo(caller)(eb)}`.as('visible_to_caller'))
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function existingParties(db: Executor, codes: readonly string[]) {
  if (codes.length === 0) return [];
  const rows = await db
    .selectFrom('parties')
    .select('code')
    .where('code', 'in', [...codes])
    .execute();
  return rows.map((r) => r.code);
}

// Tasks, notes and the timeline.

export async function insertTask(trx: Tx, row: Insertable<CaseTasksTable>) {
  return trx.insertInto('case_tasks').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function lockTask(trx: Tx, caseId: string, taskId: string) {
  return trx
    .selectFrom('case_tasks')
    .selectAll()
    .where('case_id', '=', caseId)
    .where('id', '=', taskId)
    .forUpdate()
    .executeTakeFirst();
}

export async function updateTask(trx: Tx, id: string, changes: Updateable<CaseTasksTable>) {
  return trx
    .updateTable('case_tasks')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function tasksOf(db: Executor, caseId: string) {
  return db
    .selectFrom('case_tasks')
    .leftJoin('users', 'users.id', 'case_tasks.assignee_id')
    .selectAll('case_tasks')
    .select(['users.name as assignee_name', 'users.party_code as assignee_party'])
    .where('case_tasks.case_id', '=', caseId)
    .orderBy('case_tasks.created_at')
    .orderBy('case_tasks.id')
    .execute();
}

export async function insertNote(trx: Tx, row: Insertable<CaseNotesTable>) {
  return trx.insertInto('case_notes').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function notesVisible(db: Executor, viewer: CaseViewer, caseId: string) {
  return db
    .selectFrom('case_notes')
    .innerJoin('cases', 'cases.id', 'case_notes.case_id')
    .selectAll('case_notes')
    .where('cases.id', '=', caseId)
    .where(caseItemsVisibleTo(viewer, 'case_notes'))
    .orderBy('case_notes.created_at')
    .orderBy('case_notes.id')
    .execute();
}

/** A note of the case the viewer may see, locked for a change of its label. */
export async function lockNoteVisible(trx: Tx, viewer: CaseViewer, caseId: string, noteId: string) {
  return trx
    .selectFrom('case_notes')
    .innerJoin('cases', 'cases.id', 'case_notes.case_id')
    .selectAll('case_notes')
    .where('cases.id', '=', caseId)
    .where('case_notes.id', '=', noteId)
    .where(caseItemsVisibleTo(viewer, 'case_notes'))
    .forUpdate(['case_notes'])
    .executeTakeFirst();
}

export async function updateNoteTlp(trx: Tx, noteId: string, tlp: string) {
  return trx
    .updateTable('case_notes')
    .set({ tlp })
    .where('id', '=', noteId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertTimelineEntry(trx: Tx, row: Insertable<CaseTimelineTable>) {
  return trx.insertInto('case_timeline').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Who created a labelled item and the party it came from: with its label, who its events reach. */
export async function itemAuthor(db: Executor, table: 'observables' | 'case_notes' | 'evidence', id: string) {
  return db
    .selectFrom(table)
    .select(['created_by_id', 'origin_party'])
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function timelineOf(db: Executor, caseId: string) {
  return db
    .selectFrom('case_timeline')
    .selectAll()
    .where('case_id', '=', caseId)
    .orderBy('happened_at')
    .orderBy('recorded_at')
    .execute();
}

// Sharing groups.

export async function insertGroup(
  trx: Tx,
  group: { id: string; name: string; owner_party: string; created_at: Date; created_by: string },
  parties: readonly string[],
) {
  const row = await trx.insertInto('sharing_groups').values(group).returningAll().executeTakeFirstOrThrow();
  await trx
    .insertInto('sharing_group_members')
    .values(parties.map((party_code) => ({ group_id: group.id, party_code })))
    .execute();
  return row;
}

/**
 * Sharing groups are seen by their owner party and their members; retired ones (no longer offered
 * for new shares) only when asked for.
 */
export async function groupsVisible(db: Executor, party: string | null, id?: string, includeRetired = true) {
  let query = db.selectFrom('sharing_groups').selectAll().where(sharingGroupsVisibleTo(party));
  if (!includeRetired) query = query.where('sharing_groups.retired_at', 'is', null);
  if (id) query = query.where('sharing_groups.id', '=', id);
  return query.orderBy('sharing_groups.name').execute();
}

export async function lockGroup(trx: Tx, id: string) {
  return trx.selectFrom('sharing_groups').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function updateGroup(
  trx: Tx,
  id: string,
  changes: { name?: string; retired_at?: Date; retired_by?: string },
) {
  return trx
    .updateTable('sharing_groups')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function replaceGroupMembers(trx: Tx, groupId: string, parties: readonly string[]) {
  await trx.deleteFrom('sharing_group_members').where('group_id', '=', groupId).execute();
  await trx
    .insertInto('sharing_group_members')
    .values(parties.map((party_code) => ({ group_id: groupId, party_code })))
    .execute();
}

/**
 * Locks, for a change, the cases of parties other than `ownerParty` shared with the group, in the
 * order of their ids (every writer of several cases takes them in that order). Call with the
 * group's row locked: a case is shared with a group only under a lock of the group's row
 * (`lockGroupsForSharing`, or the foreign key's), so the set cannot grow meanwhile. Copies from
 * other nodes are left out: their audience is their own node's to keep (it resolves its cases when
 * the group's change reaches it), and they are read-only here.
 */
export async function lockCasesOfOthersSharedWithGroup(trx: Tx, groupId: string, ownerParty: string) {
  const rows = await trx
    .selectFrom('cases')
    .select('cases.id')
    .where('cases.owner_party', '<>', ownerParty)
    .where('cases.mirrored_from', 'is', null)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('case_group_shares as g')
          .select('g.case_id')
          .whereRef('g.case_id', '=', 'cases.id')
          .where('g.group_id', '=', groupId),
      ),
    )
    .orderBy('cases.id')
    .forNoKeyUpdate()
    .execute();
  return rows.map((r) => r.id);
}

/**
 * The cases `caseIds` (locked by the caller) keep exactly the audience they have: their share of
 * the group becomes shares with its current members, and each is a new version of the case (so an
 * update based on the version before, which still named the group, is refused as stale). Returns
 * the cases that were shared with the group.
 */
export async function resolveGroupShares(trx: Tx, groupId: string, caseIds: readonly string[], at: Date) {
  if (caseIds.length === 0) return [];
  const ids = [...caseIds];
  await sql`insert into case_shares (case_id, party_code)
    select g.case_id, m.party_code from case_group_shares g
      join sharing_group_members m on m.group_id = g.group_id
    where g.group_id = ${groupId} and g.case_id = any(${ids}::uuid[])
    on conflict do nothing`.execute(trx);
  const resolved = await sql<{ case_id: string }>`delete from case_group_shares g
    where g.group_id = ${groupId} and g.case_id = any(${ids}::uuid[])
    returning g.case_id`.execute(trx);
  const resolvedIds = resolved.rows.map((r) => r.case_id).sort();
  if (resolvedIds.length > 0) {
    await trx
      .updateTable('cases')
      .set((eb) => ({ version: eb('version', '+', 1), updated_at: at }))
      .where(sql<boolean>`id = any(${resolvedIds}::uuid[])`)
      .execute();
  }
  return resolvedIds;
}

/**
 * Locks the groups a case is being shared with `FOR SHARE` (in the order of their ids), before the
 * case itself, and says which are retired: a group cannot be retired or change its members between
 * this check and the share's commit. Groups are locked before cases by every writer that locks
 * both (a member change locks its group, then the cases it resolves).
 */
export async function lockGroupsForSharing(trx: Tx, groupIds: readonly string[]) {
  if (groupIds.length === 0) return { retired: [] as string[] };
  const rows = await trx
    .selectFrom('sharing_groups')
    .select(['id', 'retired_at'])
    .where('id', 'in', [...groupIds])
    .orderBy('id')
    .forShare()
    .execute();
  return { retired: rows.filter((r) => r.retired_at !== null).map((r) => r.id) };
}

/** Which of `groupIds` are retired. */
export async function retiredGroups(db: Executor, groupIds: readonly string[]) {
  if (groupIds.length === 0) return [];
  const rows = await db
    .selectFrom('sharing_groups')
    .select('id')
    .where('id', 'in', [...groupIds])
    .where('retired_at', 'is not', null)
    .execute();
  return rows.map((r) => r.id);
}
