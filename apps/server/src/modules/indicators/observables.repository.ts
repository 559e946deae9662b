import type { ExerciseScope } from '@vytis/contracts';
import { type Insertable, type RawBuilder, type Selectable, sql, type Updateable } from 'kysely';
import {
  type CaseViewer,
  caseItemsVisibleTo,
  ownContributions,
  passableOnward,
} from '../../access/policy.ts';
import { booleanArray, textArray } from '../../platform/db/array-literals.ts';
import type { ObservablesTable } from '../../platform/db/schema.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';

export type ObservableRow = Selectable<ObservablesTable>;
/** An observable with whether its case is an exercise. */
export type ObservableInCase = ObservableRow & { case_exercise: boolean };

/**
 * Stores an observable; undefined if its creator already holds the value in the case (one row per
 * case, type, value and creator: each person's copy, see `visibleDuplicate`).
 */
export async function insertObservable(trx: Tx, row: Insertable<ObservablesTable>) {
  return trx
    .insertInto('observables')
    .values(row)
    .onConflict((oc) => oc.doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** A row an add writes: what the columns left out get is their default (`asStored`). */
export type AddedRow = Omit<ObservableRow, 'import_id' | 'mirrored_from' | 'mirror_version' | 'tags'>;

/** The row as the table holds it once `row` is inserted. */
export const asStored = (row: AddedRow): ObservableRow => ({
  ...row,
  import_id: null,
  mirrored_from: null,
  mirror_version: null,
  tags: [],
});

/** Every column of an added row, with its type: `satisfies` keeps it in step with `AddedRow`. */
const ADDED_COLUMNS = {
  id: 'uuid',
  case_id: 'uuid',
  type: 'text',
  category: 'text',
  value: 'text',
  tlp: 'text',
  to_ids: 'boolean',
  comment: 'text',
  first_seen: 'timestamptz',
  last_seen: 'timestamptz',
  sightings: 'int',
  origin_party: 'text',
  created_by_id: 'uuid',
  created_by: 'text',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
  version: 'int',
} as const satisfies Record<keyof AddedRow, string>;
const ADDED_COLUMN_LIST = sql.raw(Object.keys(ADDED_COLUMNS).join(', '));
const ADDED_COLUMN_TYPES = sql.raw(
  Object.entries(ADDED_COLUMNS)
    .map(([column, type]) => `${column} ${type}`)
    .join(', '),
);

/**
 * Stores the rows of a batch of adds in one statement, the same text for any number of rows; a row
 * whose creator already holds its value in the case is skipped. `alongside` gives the writes that
 * go with the rows in the same statement (their audit and live events), from a select of the ids
 * (text) of the rows stored. Returns those ids (each such row is then `asStored(row)`: no trigger
 * changes it).
 */
export async function insertObservables(
  trx: Tx,
  rows: readonly AddedRow[],
  alongside: (storedIds: RawBuilder<unknown>) => readonly RawBuilder<unknown>[] = () => [],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const withIt = alongside(sql`select id::text from added`).map(
    (write, k) => sql`, ${sql.id(`alongside_${k}`)} as (${write})`,
  );
  // The rows go as one JSON parameter: the same statement text for any number of rows (prepared
  // once), and JSON.stringify escapes far faster than array literals are written.
  const result = await sql<{ id: string }>`
    with added as (
      insert into observables (${ADDED_COLUMN_LIST})
      select * from json_to_recordset(${JSON.stringify(rows)}::json) as r(${ADDED_COLUMN_TYPES})
      on conflict do nothing
      returning id
    )${sql.join(withIt, sql``)}
    select id from added`.execute(trx);
  return new Set(result.rows.map((row) => row.id));
}

function visibleInCase(db: Executor, viewer: CaseViewer, caseId: string) {
  return db
    .selectFrom('observables')
    .innerJoin('cases', 'cases.id', 'observables.case_id')
    .where('cases.id', '=', caseId)
    .where(caseItemsVisibleTo(viewer, 'observables'));
}

/**
 * The order of the (case, type, value, creator) index. A probe for a value asks for it: that index
 * alone gives it without a sort, so the plan probes it even where the statistics would let another
 * index of the case look as cheap (a table still small when the plan was made), which would read
 * the whole case for every value.
 */
const VALUE_INDEX_ORDER = [
  'observables.case_id',
  'observables.type',
  'observables.value',
  'observables.created_by_id',
] as const;

/**
 * The value in the case as far as the viewer may see it. A value held only under a label the viewer
 * cannot read is no duplicate for them: they store their own copy, and learn nothing.
 */
export async function visibleDuplicate(
  db: Executor,
  viewer: CaseViewer,
  caseId: string,
  type: string,
  value: string,
) {
  let found = visibleInCase(db, viewer, caseId)
    .select('observables.id')
    .where('observables.type', '=', type)
    .where('observables.value', '=', value);
  for (const column of VALUE_INDEX_ORDER) found = found.orderBy(column);
  return found.limit(1).executeTakeFirst();
}

/**
 * `visibleDuplicate` for many values at once, in one statement: of each (type, value) the viewer
 * sees in the case, one row's id (values they see none of are left out).
 */
export async function visibleDuplicates(
  db: Executor,
  viewer: CaseViewer,
  caseId: string,
  values: readonly { type: string; value: string }[],
): Promise<{ type: string; value: string; id: string }[]> {
  if (values.length === 0) return [];
  const result = await duplicateProbe(db, viewer, caseId, values).execute(db);
  return result.rows.filter((row): row is { type: string; value: string; id: string } => row.id !== null);
}

/** The statement of `visibleDuplicates`: for each value, the id of a row of it the viewer sees, or null. */
export function duplicateProbe(
  db: Executor,
  viewer: CaseViewer,
  caseId: string,
  values: readonly { type: string; value: string }[],
) {
  let found = visibleInCase(db, viewer, caseId)
    .select('observables.id')
    .where(sql<boolean>`observables.type = u.type and observables.value = u.value`);
  for (const column of VALUE_INDEX_ORDER) found = found.orderBy(column);
  return sql<{ type: string; value: string; id: string | null }>`
    select u.type, u.value, (${found.limit(1)}) as id
    from unnest(${textArray(values.map((v) => v.type))}::text[],
                ${textArray(values.map((v) => v.value))}::text[]) as u(type, value)`;
}

export async function findVisible(db: Executor, viewer: CaseViewer, caseId: string, id: string) {
  return visibleInCase(db, viewer, caseId)
    .selectAll('observables')
    .select('cases.exercise as case_exercise')
    .where('observables.id', '=', id)
    .executeTakeFirst();
}

/**
 * The row, locked for a change, if the viewer may see it. Only the observable's row: the caller holds
 * the case's row shared, as every writer of its items does, and two writers that each raised it to
 * an update lock would wait on each other (a deadlock).
 */
export async function lockVisible(trx: Tx, viewer: CaseViewer, caseId: string, id: string) {
  return visibleInCase(trx, viewer, caseId)
    .selectAll('observables')
    .where('observables.id', '=', id)
    .forUpdate(['observables'])
    .executeTakeFirst();
}

/** The row of (case, type, value) that `row.created_by_id` holds, inserted as `row` if they hold none; locked. */
export async function ownCopyOf(trx: Tx, row: Insertable<ObservablesTable>) {
  await trx
    .insertInto('observables')
    .values(row)
    .onConflict((oc) => oc.columns(['case_id', 'type', 'value', 'created_by_id']).doNothing())
    .execute();
  return trx
    .selectFrom('observables')
    .selectAll()
    .where('case_id', '=', row.case_id)
    .where('type', '=', row.type)
    .where('value', '=', row.value)
    .where('created_by_id', '=', row.created_by_id!)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

export async function updateObservable(trx: Tx, id: string, changes: Updateable<ObservablesTable>) {
  return trx
    .updateTable('observables')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface ObservableFilter {
  type?: string | undefined;
  tlp?: string | undefined;
  q?: string | undefined;
  tag?: string | undefined;
  /** Only these rows (a warning-list filter, decided in the node). */
  ids?: readonly string[] | undefined;
}

function filtered(db: Executor, viewer: CaseViewer, caseId: string, filter: ObservableFilter) {
  let query = visibleInCase(db, viewer, caseId);
  if (filter.type) query = query.where('observables.type', '=', filter.type);
  if (filter.tlp) query = query.where('observables.tlp', '=', filter.tlp);
  if (filter.q) {
    const pattern = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where('observables.value', 'ilike', pattern);
  }
  if (filter.tag) query = query.where(sql<boolean>`observables.tags @> array[${filter.tag}]::text[]`);
  if (filter.ids) {
    const ids = filter.ids;
    query =
      ids.length === 0 ? query.where(sql<boolean>`false`) : query.where('observables.id', 'in', [...ids]);
  }
  return query;
}

/** How a page is ordered: a column (TLP by strictness), its direction; ties by type, value, id. */
export interface ObservableOrder {
  sort: 'type' | 'value' | 'firstSeen' | 'lastSeen' | 'tlp';
  order: 'asc' | 'desc';
}

const TLP_RANK = sql<number>`case observables.tlp when 'clear' then 0 when 'green' then 1 when 'amber' then 2 when 'amber+strict' then 3 else 4 end`;

/**
 * A page of the filtered list in any order, by offset (`listVisible` pages by cursor in the default
 * order). A missing first or last seen sorts last either way.
 */
export async function pageVisible(
  db: Executor,
  viewer: CaseViewer,
  caseId: string,
  filter: ObservableFilter,
  order: ObservableOrder,
  offset: number,
  limit: number,
) {
  const dir = order.order;
  let query = filtered(db, viewer, caseId, filter).selectAll('observables');
  switch (order.sort) {
    case 'value':
      query = query.orderBy('observables.value', dir);
      break;
    case 'firstSeen':
      query = query.orderBy(sql`observables.first_seen ${sql.raw(dir)} nulls last`);
      break;
    case 'lastSeen':
      query = query.orderBy(sql`observables.last_seen ${sql.raw(dir)} nulls last`);
      break;
    case 'tlp':
      query = query.orderBy(TLP_RANK, dir);
      break;
    case 'type':
      break;
  }
  return query
    .orderBy('observables.type', order.sort === 'type' ? dir : 'asc')
    .orderBy('observables.value', order.sort === 'type' ? dir : 'asc')
    .orderBy('observables.id', order.sort === 'type' ? dir : 'asc')
    .offset(offset)
    .limit(limit)
    .execute();
}

/** Id, type and value of the filtered rows (at most `limit`), to check them against the warning lists. */
export async function valuesVisible(
  db: Executor,
  viewer: CaseViewer,
  caseId: string,
  filter: ObservableFilter,
  limit: number,
) {
  return filtered(db, viewer, caseId, filter)
    .select(['observables.id', 'observables.type', 'observables.value'])
    .limit(limit)
    .execute();
}

/**
 * The rows of `ids` in the case that the viewer may see, for a change (a bulk action): this node's
 * own locked, in the order of their ids; copies from another node read only, as no one here changes
 * them (a sighting holds such a copy while it locks the sighter's own row, which may come first).
 */
export async function lockVisibleMany(trx: Tx, viewer: CaseViewer, caseId: string, ids: readonly string[]) {
  if (ids.length === 0) return [];
  const ofIds = () =>
    visibleInCase(trx, viewer, caseId)
      .selectAll('observables')
      .where('observables.id', 'in', [...ids]);
  const own = await ofIds()
    .where('observables.mirrored_from', 'is', null)
    .orderBy('observables.id')
    .forUpdate(['observables'])
    .execute();
  if (own.length === ids.length) return own;
  const copies = await ofIds().where('observables.mirrored_from', 'is not', null).execute();
  return [...own, ...copies];
}

/** Changes rows of one case at once (a new version each). */
export async function updateMany(
  trx: Tx,
  caseId: string,
  ids: readonly string[],
  changes: Updateable<ObservablesTable>,
) {
  if (ids.length === 0) return;
  await trx
    .updateTable('observables')
    .set((eb) => ({ ...changes, version: eb('version', '+', 1) }))
    .where('case_id', '=', caseId)
    .where('id', 'in', [...ids])
    .execute();
}

/** Sets each row's tags (sorted sets, computed by the caller), a new version each. */
export async function setTags(trx: Tx, caseId: string, tags: ReadonlyMap<string, string[]>, at: Date) {
  for (const [id, rowTags] of tags) {
    await trx
      .updateTable('observables')
      .set((eb) => ({ tags: rowTags, updated_at: at, version: eb('version', '+', 1) }))
      .where('case_id', '=', caseId)
      .where('id', '=', id)
      .execute();
  }
}

/** Removes rows of a case (the federation's outbox records each removal as a retraction). */
export async function deleteMany(trx: Tx, caseId: string, ids: readonly string[]) {
  if (ids.length === 0) return;
  await trx
    .deleteFrom('observables')
    .where('case_id', '=', caseId)
    .where('id', 'in', [...ids])
    .execute();
}

/** Rows after `afterId` in the list's order (type, value, id); an id from another case finds none. */
const afterInListOrder = (afterId: string, caseId: string) =>
  sql<boolean>`(observables.type, observables.value, observables.id) > (select o.type, o.value, o.id from observables o where o.id = ${afterId} and o.case_id = ${caseId})`;

/** By type, then value, then id (copies share a value); `afterId` is the last row of the previous page. */
export async function listVisible(
  db: Executor,
  viewer: CaseViewer,
  caseId: string,
  filter: ObservableFilter,
  afterId: string | null,
  limit: number,
) {
  let query = filtered(db, viewer, caseId, filter).selectAll('observables');
  if (afterId) {
    query = query.where(afterInListOrder(afterId, caseId));
  }
  return query
    .orderBy('observables.type')
    .orderBy('observables.value')
    .orderBy('observables.id')
    .limit(limit)
    .execute();
}

export async function countVisible(
  db: Executor,
  viewer: CaseViewer,
  caseId: string,
  filter: ObservableFilter,
) {
  const row = await filtered(db, viewer, caseId, filter)
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * A page of what the viewer may pass on from a case (for exports), in the list's order; `mine`:
 * only what the viewer's party contributed, which it passes on whatever the case's label.
 */
export async function passablePage(
  db: Executor,
  viewer: CaseViewer,
  caseId: string,
  afterId: string | null,
  limit: number,
  mine = false,
  ids?: readonly string[],
) {
  let query = db
    .selectFrom('observables')
    .innerJoin('cases', 'cases.id', 'observables.case_id')
    .where('cases.id', '=', caseId)
    .where(mine ? ownContributions(viewer, 'observables') : passableOnward(viewer, 'observables'))
    .selectAll('observables');
  if (ids) query = query.where('observables.id', 'in', ids);
  if (afterId) {
    query = query.where(afterInListOrder(afterId, caseId));
  }
  return query
    .orderBy('observables.type')
    .orderBy('observables.value')
    .orderBy('observables.id')
    .limit(limit)
    .execute();
}

/**
 * Where any of `values` is stored, as far as the viewer may see: the rows of other cases (and
 * parties) with the same normalised value, in real cases, exercises or both (`exercises`). At most
 * `limit` rows; the caller asks for one more than the cap to know whether the value over-correlates.
 */
export async function visibleWithValues(
  db: Executor,
  viewer: CaseViewer,
  values: readonly string[],
  excludeId: string | null,
  exercises: ExerciseScope,
  limit: number,
) {
  if (values.length === 0) return [];
  let query = db
    .selectFrom('observables')
    .innerJoin('cases', 'cases.id', 'observables.case_id')
    .where('observables.value', 'in', [...values])
    .where(caseItemsVisibleTo(viewer, 'observables'))
    .selectAll('observables')
    .select([
      'cases.title as case_title',
      'cases.owner_party as case_owner',
      'cases.exercise as case_exercise',
    ]);
  if (exercises !== 'include') query = query.where('cases.exercise', '=', exercises === 'only');
  if (excludeId) query = query.where('observables.id', '<>', excludeId);
  // No ORDER BY: a value in a hundred thousand places would be sorted whole to show twenty. The
  // first `limit` the index yields are enough; the caller orders them.
  // On a server the statement runs prepared (platform/db/prepared-statements.ts): the policy's SQL
  // costs more to plan than to run.
  return query.limit(limit).execute();
}

export interface BulkRows {
  type: string[];
  category: string[];
  value: string[];
  tlp: string[];
  toIds: boolean[];
  comment: string[];
}

/**
 * Plans the rest of the transaction without JIT compilation. The access policy's subqueries make a
 * bulk insert look costly to the planner (its estimate grows with the rows), so PostgreSQL compiled
 * each part's statement with LLVM: about 0.5 s for a statement that runs in 0.1 s.
 */
export async function planWithoutJit(trx: Tx) {
  await sql`set local jit = off`.execute(trx);
}

/** Whether a case holds any observable yet. */
export async function caseHasObservables(db: Executor, caseId: string): Promise<boolean> {
  const row = await db
    .selectFrom('observables')
    .select('id')
    .where('case_id', '=', caseId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * One batch of a bulk import. With `skipExisting`, rows the importer can already see in the case are
 * skipped (the import is idempotent), while a value held there only under a label the importer
 * cannot read is stored as the importer's own copy and counted as new — so the counts say nothing
 * about hidden rows. Without it, the caller knows the case holds none. Either way the caller holds
 * the case's row locked for a change (no key update), which shuts out every other writer of its
 * observables (they take it at least shared), so what is inserted cannot meet a row of the same
 * creator (the unique index): those are all visible to them, and were skipped — a row that is
 * there after all fails the statement. Returns how many were new.
 */
export async function insertBatch(
  trx: Tx,
  viewer: CaseViewer,
  rows: BulkRows,
  fixed: {
    caseId: string;
    originParty: string;
    createdById: string | null;
    createdBy: string;
    at: Date;
    importId: string;
  },
  skipExisting: boolean,
): Promise<number> {
  const fresh = skipExisting ? withoutSeen(rows, await seenAmong(trx, viewer, fixed.caseId, rows)) : rows;
  if (fresh.type.length === 0) return 0;
  // The arrays go as array literals written here: the driver's own encoding of a 5000-element
  // array costs more than the statement's parse on the server. No ON CONFLICT: it would check
  // every row against each unique index once more, for what the lock already rules out.
  const result = await sql`
    insert into observables (id, case_id, type, category, value, tlp, to_ids, comment, first_seen, last_seen,
                             sightings, origin_party, created_by_id, created_by, created_at, updated_at, version,
                             import_id)
    select gen_random_uuid(), ${fixed.caseId}::uuid, u.type, u.category, u.value, u.tlp, u.to_ids, u.comment,
           null, null, 0, ${fixed.originParty}, ${fixed.createdById}::uuid, ${fixed.createdBy},
           ${fixed.at}::timestamptz, ${fixed.at}::timestamptz, 1, ${fixed.importId}::uuid
    from unnest(${textArray(fresh.type)}::text[], ${textArray(fresh.category)}::text[],
                ${textArray(fresh.value)}::text[], ${textArray(fresh.tlp)}::text[],
                ${booleanArray(fresh.toIds)}::boolean[], ${textArray(fresh.comment)}::text[])
         as u(type, category, value, tlp, to_ids, comment)`.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Which of `rows` the viewer already sees in the case, in one statement for the whole batch: for
 * each row a probe of the (case, type, value) index, the policy judged only on the rows it finds.
 */
async function seenAmong(trx: Tx, viewer: CaseViewer, caseId: string, rows: BulkRows) {
  const seen = trx
    .selectFrom('observables')
    .innerJoin('cases', 'cases.id', 'observables.case_id')
    .select(sql<number>`1`.as('one'))
    .where('observables.case_id', '=', caseId)
    .where(sql<boolean>`observables.type = u.type and observables.value = u.value`)
    .where(caseItemsVisibleTo(viewer, 'observables'))
    // OFFSET 0 keeps this a per-row probe of the (case, type, value) index: as a join the planner
    // would judge the policy on every row of the case for every part (quadratic).
    .offset(0);
  const result = await sql<{ type: string; value: string }>`
    select u.type, u.value
    from unnest(${textArray(rows.type)}::text[], ${textArray(rows.value)}::text[]) as u(type, value)
    where exists (${seen})`.execute(trx);
  return result.rows;
}

/** `rows` less those whose type and value are in `seen`. */
function withoutSeen(rows: BulkRows, seen: readonly { type: string; value: string }[]): BulkRows {
  if (seen.length === 0) return rows;
  const known = new Set(seen.map((row) => `${row.type}\u0000${row.value}`));
  const kept: BulkRows = { type: [], category: [], value: [], tlp: [], toIds: [], comment: [] };
  for (let i = 0; i < rows.type.length; i++) {
    if (known.has(`${rows.type[i]}\u0000${rows.value[i]}`)) continue;
    kept.type.push(rows.type[i]!);
    kept.category.push(rows.category[i]!);
    kept.value.push(rows.value[i]!);
    kept.tlp.push(rows.tlp[i]!);
    kept.toIds.push(rows.toIds[i]!);
    kept.comment.push(rows.comment[i]!);
  }
  return kept;
}

/**
 * Opens an import's record in the transaction of its first part (`done` at once when that part is
 * also its last). Its heartbeat is the database's clock, which every process sharing it agrees on.
 */
export async function startImport(
  trx: Tx,
  record: { id: string; caseId: string; startedById: string | null; at: Date; done: boolean },
) {
  await trx
    .insertInto('observable_imports')
    .values({
      id: record.id,
      case_id: record.caseId,
      status: record.done ? 'done' : 'running',
      started_by_id: record.startedById,
      started_at: record.at,
      heartbeat_at: sql<Date>`now()`,
      finished_at: record.done ? sql<Date>`now()` : null,
    })
    .execute();
}

/**
 * A later part of a running import: beats its heart (and, for the last part, marks it done). False
 * if it is no longer running — it was given up for dead and is being rolled back — so the part must
 * write nothing. The row lock taken here orders the part against a concurrent claim.
 */
export async function continueImport(trx: Tx, id: string, done: boolean): Promise<boolean> {
  const row = await trx
    .updateTable('observable_imports')
    .set(
      done
        ? { heartbeat_at: sql<Date>`now()`, status: 'done', finished_at: sql<Date>`now()` }
        : { heartbeat_at: sql<Date>`now()` },
    )
    .where('id', '=', id)
    .where('status', '=', 'running')
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Marks a running import failed, claiming its rollback; false if it was not running. */
export async function failImport(db: Executor, id: string): Promise<boolean> {
  const row = await db
    .updateTable('observable_imports')
    .set({ status: 'failed', heartbeat_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Claims unfinished imports no process is working on — running ones whose process died, and failed
 * ones whose rollback stopped half-way — marking them failed with a fresh heartbeat, so that no
 * other process claims them meanwhile and no part of them can commit any more. An import is
 * abandoned when its heartbeat is older than `staleAfterMs`, or at once (`anyNotLive`) where this
 * process is the database's only writer; imports this process is running (`live`) never are.
 */
export async function claimAbandonedImports(
  db: Executor,
  options: { staleAfterMs: number; anyNotLive: boolean; live: readonly string[]; limit: number },
) {
  const stale = options.anyNotLive
    ? sql<boolean>`true`
    : sql<boolean>`heartbeat_at < now() - make_interval(secs => ${options.staleAfterMs / 1000})`;
  const claimable = db
    .selectFrom('observable_imports')
    .select('id')
    .where('finished_at', 'is', null)
    .where(stale)
    .where(sql<boolean>`not (id = any(${textArray(options.live)}::uuid[]))`)
    .limit(options.limit)
    .forUpdate()
    .skipLocked();
  return db
    .updateTable('observable_imports')
    .set({ status: 'failed', heartbeat_at: sql<Date>`now()` })
    .where('id', 'in', claimable)
    .returning(['id', 'case_id'])
    .execute();
}

/** Takes the case's row lock, as every writer of its observables does. */
export async function lockCaseRow(trx: Tx, caseId: string) {
  await trx.selectFrom('cases').select('id').where('id', '=', caseId).forNoKeyUpdate().execute();
}

/**
 * Deletes up to `limit` rows a failed import wrote (its observables, then the intelligence objects a
 * STIX bundle or the MISP events a file brought with them), and beats its heart; how many went.
 */
export async function deleteImportRows(trx: Tx, importId: string, limit: number): Promise<number> {
  const result = await trx
    .deleteFrom('observables')
    .where(
      'id',
      'in',
      trx.selectFrom('observables').select('id').where('import_id', '=', importId).limit(limit),
    )
    .executeTakeFirst();
  let deleted = Number(result.numDeletedRows);
  // A MISP event's parts before the event (they refer to it).
  for (const table of ['case_intel_objects', 'misp_event_parts', 'misp_events'] as const) {
    if (deleted >= limit) break;
    const companion = await trx
      .deleteFrom(table)
      .where(
        'id',
        'in',
        trx
          .selectFrom(table)
          .select('id')
          .where('import_id', '=', importId)
          .limit(limit - deleted),
      )
      .executeTakeFirst();
    deleted += Number(companion.numDeletedRows);
  }
  await trx
    .updateTable('observable_imports')
    .set({ heartbeat_at: sql<Date>`now()` })
    .where('id', '=', importId)
    .execute();
  return deleted;
}

/** A failed import's last row is gone. */
export async function finishRollback(trx: Tx, importId: string) {
  await trx
    .updateTable('observable_imports')
    .set({ finished_at: sql<Date>`now()` })
    .where('id', '=', importId)
    .execute();
}

// The class of the two-key advisory locks on one value of one case; the one-key locks of
// platform/db/locks.ts are another space and never collide with these.
const VALUE_LOCK_CLASS = 72_750_100;

/** Until commit: one adder at a time of this value to this case (others of the case go on). */
export async function lockValue(trx: Tx, caseId: string, type: string, value: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${VALUE_LOCK_CLASS}::int, hashtext(${`${caseId}/${type}/${value}`}))`.execute(
    trx,
  );
}

/**
 * `lockValue` for many values of a case in one statement, each lock once and in the order of its
 * key: two such batches never wait for each other crosswise, and a single adder holds one lock.
 */
export async function lockValues(
  trx: Tx,
  caseId: string,
  values: readonly { type: string; value: string }[],
): Promise<void> {
  if (values.length === 0) return;
  const names = textArray(values.map((v) => `${caseId}/${v.type}/${v.value}`));
  // OFFSET 0 keeps the sorted keys a subquery of their own: the locks are taken in its order.
  await sql`
    select pg_advisory_xact_lock(${VALUE_LOCK_CLASS}::int, k.key)
    from (select distinct hashtext(name) as key from unnest(${names}::text[]) as name order by key offset 0) as k`.execute(
    trx,
  );
}
