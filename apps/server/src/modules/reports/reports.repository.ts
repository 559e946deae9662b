import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import { type CaseViewer, casesVisibleTo, passableOnward } from '../../access/policy.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';
import { tlpRank } from '../cases/cases.repository.ts';
import type { ReportsTable } from './reports.schema.ts';

export type ReportRow = Selectable<ReportsTable>;

/** The most cases a report lists: a request worked in more is summarised by this many. */
export const REPORT_CASES_MAX = 200;
/** The most indicators the NIS2 notification's draft lists. */
export const REPORT_IOCS_MAX = 200;

export function find(db: Executor, requestId: string, kind: string) {
  return db
    .selectFrom('reports')
    .selectAll()
    .where('request_id', '=', requestId)
    .where('kind', '=', kind)
    .executeTakeFirst();
}

export function findAll(db: Executor, requestId: string, kinds: readonly string[]) {
  return db
    .selectFrom('reports')
    .selectAll()
    .where('request_id', '=', requestId)
    .where('kind', 'in', [...kinds])
    .execute();
}

export function lock(trx: Tx, requestId: string, kind: string) {
  return trx
    .selectFrom('reports')
    .selectAll()
    .where('request_id', '=', requestId)
    .where('kind', '=', kind)
    .forUpdate()
    .executeTakeFirst();
}

export function insert(trx: Tx, row: Insertable<ReportsTable>) {
  return trx.insertInto('reports').values(row).returningAll().executeTakeFirstOrThrow();
}

export function update(trx: Tx, id: string, changes: Updateable<ReportsTable>) {
  return trx
    .updateTable('reports')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * The cases working a request that a report may draw on for the viewer, oldest first: those they
 * see and may pass on — never a RED case (its named people only), an AMBER+STRICT one only from
 * their own party. One more than REPORT_CASES_MAX, to say there are more.
 */
export function casesOfRequest(db: Executor, viewer: CaseViewer, requestId: string) {
  const own = viewer.actor.party;
  return db
    .selectFrom('cases')
    .select(['cases.id', 'cases.title', 'cases.tlp', 'cases.status', 'cases.owner_party'])
    .where('cases.request_id', '=', requestId)
    .where(casesVisibleTo(viewer))
    .where('cases.tlp', '<>', 'red')
    .where((eb) =>
      own
        ? eb.or([eb('cases.tlp', '<>', 'amber+strict'), eb('cases.owner_party', '=', own)])
        : eb('cases.tlp', '<>', 'amber+strict'),
    )
    .orderBy('cases.created_at')
    .orderBy('cases.id')
    .limit(REPORT_CASES_MAX + 1)
    .execute();
}

/** How many of `ids` the viewer sees: a report drawn from cases is read only by who sees them all. */
export async function countVisibleCases(db: Executor, viewer: CaseViewer, ids: readonly string[]) {
  if (ids.length === 0) return 0;
  const row = await db
    .selectFrom('cases')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('cases.id', 'in', [...ids])
    .where(casesVisibleTo(viewer))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * The indicators a report may count or list: those the viewer may pass on (never RED, nor another
 * party's AMBER+STRICT), and only those labelled no stricter than their case, so that whoever reads
 * the case may read them too — a count in a frozen report then tells nobody about an item hidden
 * from them.
 */
function reportableIndicators(db: Executor, viewer: CaseViewer, caseIds: readonly string[]) {
  return db
    .selectFrom('observables')
    .innerJoin('cases', 'cases.id', 'observables.case_id')
    .where('observables.case_id', 'in', [...caseIds])
    .where(passableOnward(viewer, 'observables'))
    .where((eb) => eb(tlpRank(sql.ref('observables.tlp')), '<=', tlpRank(sql.ref('cases.tlp'))));
}

export async function indicatorCounts(db: Executor, viewer: CaseViewer, caseIds: readonly string[]) {
  if (caseIds.length === 0) return [];
  const rows = await reportableIndicators(db, viewer, caseIds)
    .select(['observables.case_id', 'observables.tlp'])
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .groupBy(['observables.case_id', 'observables.tlp'])
    .execute();
  return rows.map((r) => ({ caseId: r.case_id, tlp: r.tlp, n: Number(r.n) }));
}

/** Indicators for the NIS2 notification's draft: the ones marked for detection first, then the newest. */
export function indicatorsForNis2(db: Executor, viewer: CaseViewer, caseIds: readonly string[]) {
  if (caseIds.length === 0) return Promise.resolve([]);
  return reportableIndicators(db, viewer, caseIds)
    .select(['observables.type', 'observables.value', 'observables.tlp'])
    .orderBy('observables.to_ids', 'desc')
    .orderBy('observables.created_at', 'desc')
    .orderBy('observables.id')
    .limit(REPORT_IOCS_MAX)
    .execute();
}

/** Skills of responders, by id (the team's table names skills only where the reader sees the person). */
export async function responderSkills(db: Executor, ids: readonly string[]) {
  if (ids.length === 0) return new Map<string, string[]>();
  const rows = await db
    .selectFrom('responders')
    .select(['id', 'skills'])
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, (r.skills as { skill: string }[]).map((s) => s.skill)]));
}
