import type { ExerciseScope, SearchKind } from '@vytis/contracts';
import {
  type Compilable,
  type Expression,
  type ExpressionBuilder,
  type RawBuilder,
  type SqlBool,
  sql,
} from 'kysely';
import {
  type CaseViewer,
  caseItemsVisibleTo,
  casesVisibleTo,
  type RequestViewer,
  requestsVisibleTo,
  respondersVisibleTo,
} from '../../access/policy.ts';
import type { Database } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/transaction.ts';

/** The MISP types whose values are URLs, whose host a domain or an IP is related to. */
export const URL_TYPES = ['url', 'link'] as const;

// The host of a stored URL (WHATWG-serialised: scheme and host lower case, an IPv6 host in brackets).
const URL_HOST = '^[a-z][a-z0-9+.-]*://(?:[^/?#@]*@)?(\\[[^]/?#]*\\]|[^/?#:]+)';
const urlHost = sql<string>`substring(observables.value from ${URL_HOST})`;

function inExercises(exercises: ExerciseScope) {
  return (eb: ExpressionBuilder<Database, 'cases'>): Expression<SqlBool> =>
    exercises === 'include' ? eb.lit(true) : eb('cases.exercise', '=', exercises === 'only');
}

/**
 * Where each of `values` is stored, as far as the viewer may see: at most `perValue` places per
 * value (the caller asks for one more than it shows, to know whether a value over-correlates). One
 * statement for the whole list: a probe of the value index per value, the policy judged only on the
 * rows it finds.
 */
export async function placesOf(
  db: Executor,
  viewer: CaseViewer,
  values: readonly string[],
  exercises: ExerciseScope,
  perValue: number,
) {
  if (values.length === 0) return [];
  const places = db
    .selectFrom('observables')
    .innerJoin('cases', 'cases.id', 'observables.case_id')
    .where(sql<boolean>`observables.value = v.probe`)
    .where(caseItemsVisibleTo(viewer, 'observables'))
    .where(inExercises(exercises))
    .select([
      'observables.id',
      'observables.case_id',
      'observables.type',
      'observables.value',
      'observables.tlp',
      'observables.to_ids',
      'observables.sightings',
      'observables.first_seen',
      'observables.last_seen',
      'observables.created_at',
      'cases.title as case_title',
      'cases.owner_party as case_owner',
      'cases.exercise as case_exercise',
    ])
    .limit(perValue);
  const result = await sql<PlaceRow>`
    select v.probe, o.* from unnest(${[...values]}::text[]) as v(probe)
    cross join lateral (${places}) as o`.execute(db);
  return result.rows;
}

export interface PlaceRow {
  probe: string;
  id: string;
  case_id: string;
  type: string;
  value: string;
  tlp: string;
  to_ids: boolean;
  sightings: number;
  first_seen: Date | null;
  last_seen: Date | null;
  created_at: Date;
  case_title: string;
  case_owner: string;
  case_exercise: boolean;
}

/** How many places (at most `cap`) the viewer may see each of `values` in; absent values are left out. */
export async function placeCounts(
  db: Executor,
  viewer: CaseViewer,
  values: readonly string[],
  exercises: ExerciseScope,
  cap: number,
) {
  if (values.length === 0) return new Map<string, number>();
  const places = db
    .selectFrom('observables')
    .innerJoin('cases', 'cases.id', 'observables.case_id')
    .where(sql<boolean>`observables.value = v.probe`)
    .where(caseItemsVisibleTo(viewer, 'observables'))
    .where(inExercises(exercises))
    .select(sql<number>`1`.as('one'))
    .limit(cap);
  const result = await sql<{ probe: string; n: number | string }>`
    select v.probe, (select count(*) from (${places}) as p) as n
    from unnest(${[...values]}::text[]) as v(probe)`.execute(db);
  return new Map(result.rows.filter((row) => Number(row.n) > 0).map((row) => [row.probe, Number(row.n)]));
}

/**
 * The URLs the viewer may see whose host is one of `hosts` (a domain, or an IP as a URL writes it),
 * at most `perHost` per host: one pass over the URLs the viewer may see.
 */
export async function urlsOnHosts(
  db: Executor,
  viewer: CaseViewer,
  hosts: readonly string[],
  exercises: ExerciseScope,
  perHost: number,
) {
  if (hosts.length === 0) return [];
  const found = db
    .selectFrom('observables')
    .innerJoin('cases', 'cases.id', 'observables.case_id')
    .where('observables.type', 'in', [...URL_TYPES])
    .where(sql<boolean>`${urlHost} = any(${[...hosts]}::text[])`)
    .where(caseItemsVisibleTo(viewer, 'observables'))
    .where(inExercises(exercises))
    .select([urlHost.as('host'), 'observables.value'])
    .distinct();
  const result = await sql<{ host: string; value: string }>`
    select host, value from (
      select f.host, f.value, row_number() over (partition by f.host order by f.value) as n
      from (${found}) as f) as ranked
    where n <= ${perHost}`.execute(db);
  return result.rows;
}

/**
 * The explicit pairs (`domain|ip` observables) the viewer may see of any of `domains` or `ips`, at
 * most `perValue` per domain and per IP.
 */
export async function domainIpPairs(
  db: Executor,
  viewer: CaseViewer,
  domains: readonly string[],
  ips: readonly string[],
  exercises: ExerciseScope,
  perValue: number,
) {
  if (domains.length === 0 && ips.length === 0) return [];
  const domainPart = sql<string>`split_part(observables.value, '|', 1)`;
  const ipPart = sql<string>`split_part(observables.value, '|', 2)`;
  const found = db
    .selectFrom('observables')
    .innerJoin('cases', 'cases.id', 'observables.case_id')
    .where('observables.type', '=', 'domain|ip')
    .where(
      sql<boolean>`(${domainPart} = any(${[...domains]}::text[]) or ${ipPart} = any(${[...ips]}::text[]))`,
    )
    .where(caseItemsVisibleTo(viewer, 'observables'))
    .where(inExercises(exercises))
    .select([domainPart.as('domain'), ipPart.as('ip')])
    .distinct();
  const result = await sql<{ domain: string; ip: string }>`
    select domain, ip from (
      select f.domain, f.ip,
             row_number() over (partition by f.domain order by f.ip) as by_domain,
             row_number() over (partition by f.ip order by f.domain) as by_ip
      from (${found}) as f) as ranked
    where by_domain <= ${perValue} or by_ip <= ${perValue}`.execute(db);
  return result.rows;
}

// ---------------------------------------------------------------------------------------------
// Global search

export const MATCHES = ['exact', 'prefix', 'contains'] as const;

/** One hit, as every kind's query selects it (the same columns, for the union). */
export interface HitRow {
  kind: SearchKind;
  id: string;
  title: string;
  detail: string;
  case_id: string | null;
  exercise: boolean;
  at: Date;
  /** `at` to the microsecond, for the cursor. */
  at_key: string;
  /** 0 exact, 1 prefix, 2 contains. */
  rank: number;
}

/** Where the previous page ended, in the search's order (rank, newest first, kind, id). */
export interface HitKey {
  rank: number;
  at: string;
  kind: SearchKind;
  id: string;
}

export interface SearchTerms {
  /** The query as typed, trimmed. */
  q: string;
  /** What an observable's value would be stored as (refanged, normalised): an exact match. */
  values: readonly string[];
  /** The query as an id, when it is one. */
  id: string | null;
  /** The query refanged ("c2[.]example" as "c2.example"), when that differs: values contain it too. */
  refanged: string | null;
}

export interface SearchViewers {
  cases: CaseViewer;
  requests: RequestViewer;
  /** Whether responders are searched at all (PoCs, coordinators, admins). */
  responders: boolean;
}

/** A time as the cursor keeps it: UTC, to the microsecond the database stores. */
const atKey = (column: string) =>
  sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('at_key');

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * One page of what the viewer may see that matches: each kind's statement filtered by its policy
 * and bounded to a page (so a query that matches everything costs a top-N pass over each table),
 * then merged in one order.
 */
export async function search(
  db: Executor,
  viewers: SearchViewers,
  terms: SearchTerms,
  kinds: readonly SearchKind[],
  after: HitKey | null,
  limit: number,
): Promise<HitRow[]> {
  const contains = `%${escapeLike(terms.q)}%`;
  const prefix = `${escapeLike(terms.q)}%`;
  const lowerQ = terms.q.toLowerCase();
  const byId = (column: string): RawBuilder<boolean> =>
    terms.id ? sql<boolean>`${sql.ref(column)} = ${terms.id}::uuid` : sql<boolean>`false`;
  const text = (column: string): RawBuilder<string> => sql<string>`${sql.ref(column)}`;
  /** 0 when `exact`, 1 when one of `texts` starts with the query, else 2. */
  const rank = (exact: RawBuilder<boolean>, texts: RawBuilder<string>[]) =>
    sql<number>`(case when ${exact} then 0 when ${sql.join(
      texts.map((t) => sql`${t} ilike ${prefix}`),
      sql` or `,
    )} then 1 else 2 end)`;
  const matches = (exact: RawBuilder<boolean>, texts: RawBuilder<string>[]) =>
    sql<boolean>`(${exact} or ${sql.join(
      texts.map((t) => sql`${t} ilike ${contains}`),
      sql` or `,
    )})`;
  /** After the previous page's last hit, in the order (rank, at desc, kind, id). */
  const keyset = (r: RawBuilder<number>, atColumn: string, kind: SearchKind, idColumn: string) => {
    if (!after) return sql<boolean>`true`;
    const at = sql.ref(atColumn);
    const id = sql<string>`${sql.ref(idColumn)}::text`;
    const later = sql<boolean>`(${kind} > ${after.kind} or (${kind} = ${after.kind} and ${id} > ${after.id}))`;
    return sql<boolean>`(${r} > ${after.rank} or (${r} = ${after.rank} and (${at} < ${after.at}::timestamptz
      or (${at} = ${after.at}::timestamptz and ${later}))))`;
  };
  const page = limit + 1;
  const statements: Compilable[] = [];

  if (kinds.includes('request')) {
    const texts = [text('requests.title'), sql<string>`(requests.fields -> 'affectedEntity' ->> 'name')`];
    const exact = sql<boolean>`(${byId('requests.id')} or lower(requests.title) = ${lowerQ})`;
    const r = rank(exact, texts);
    statements.push(
      db
        .selectFrom('requests')
        .where(requestsVisibleTo(viewers.requests))
        .where(matches(exact, texts))
        .where(keyset(r, 'requests.updated_at', 'request', 'requests.id'))
        .select([
          sql<string>`'request'::text`.as('kind'),
          sql<string>`requests.id::text`.as('id'),
          'requests.title as title',
          sql<string>`concat_ws(' · ', requests.fields -> 'affectedEntity' ->> 'name', requests.party_code, replace(requests.status, '_', ' '))`.as(
            'detail',
          ),
          sql<string | null>`null::text`.as('case_id'),
          'requests.exercise as exercise',
          'requests.updated_at as at',
          atKey('requests.updated_at'),
          r.as('rank'),
        ])
        .orderBy('rank')
        .orderBy('at', 'desc')
        .orderBy('id')
        .limit(page),
    );
  }
  if (kinds.includes('case')) {
    const texts = [text('cases.title'), text('cases.description')];
    const exact = sql<boolean>`(${byId('cases.id')} or lower(cases.title) = ${lowerQ})`;
    const r = rank(exact, [texts[0]!]);
    statements.push(
      db
        .selectFrom('cases')
        .where(casesVisibleTo(viewers.cases))
        .where(matches(exact, texts))
        .where(keyset(r, 'cases.updated_at', 'case', 'cases.id'))
        .select([
          sql<string>`'case'::text`.as('kind'),
          sql<string>`cases.id::text`.as('id'),
          'cases.title as title',
          sql<string>`concat_ws(' · ', cases.owner_party, cases.status, upper(cases.tlp))`.as('detail'),
          sql<string | null>`cases.id::text`.as('case_id'),
          'cases.exercise as exercise',
          'cases.updated_at as at',
          atKey('cases.updated_at'),
          r.as('rank'),
        ])
        .orderBy('rank')
        .orderBy('at', 'desc')
        .orderBy('id')
        .limit(page),
    );
  }
  if (kinds.includes('observable')) {
    const exact = sql<boolean>`(${byId('observables.id')} or observables.value = any(${[...terms.values, terms.q]}::text[]))`;
    const texts = [text('observables.value')];
    const refangedToo = terms.refanged
      ? sql<boolean>`observables.value ilike ${`%${escapeLike(terms.refanged)}%`}`
      : sql<boolean>`false`;
    const refangedPrefix = terms.refanged
      ? sql<boolean>`observables.value ilike ${`${escapeLike(terms.refanged)}%`}`
      : sql<boolean>`false`;
    const r = sql<number>`(case when ${exact} then 0 when observables.value ilike ${prefix} or ${refangedPrefix} then 1 else 2 end)`;
    statements.push(
      db
        .selectFrom('observables')
        .innerJoin('cases', 'cases.id', 'observables.case_id')
        .where(caseItemsVisibleTo(viewers.cases, 'observables'))
        .where(sql<boolean>`(${matches(exact, texts)} or ${refangedToo})`)
        .where(keyset(r, 'observables.updated_at', 'observable', 'observables.id'))
        .select([
          sql<string>`'observable'::text`.as('kind'),
          sql<string>`observables.id::text`.as('id'),
          'observables.value as title',
          sql<string>`concat_ws(' · ', observables.type, cases.title)`.as('detail'),
          sql<string | null>`cases.id::text`.as('case_id'),
          'cases.exercise as exercise',
          'observables.updated_at as at',
          atKey('observables.updated_at'),
          r.as('rank'),
        ])
        .orderBy('rank')
        .orderBy('at', 'desc')
        .orderBy('id')
        .limit(page),
    );
  }
  if (kinds.includes('task')) {
    const texts = [text('case_tasks.title'), text('case_tasks.description')];
    const exact = sql<boolean>`(${byId('case_tasks.id')} or lower(case_tasks.title) = ${lowerQ})`;
    const r = rank(exact, [texts[0]!]);
    statements.push(
      db
        .selectFrom('case_tasks')
        .innerJoin('cases', 'cases.id', 'case_tasks.case_id')
        .where(casesVisibleTo(viewers.cases))
        .where(matches(exact, texts))
        .where(keyset(r, 'case_tasks.updated_at', 'task', 'case_tasks.id'))
        .select([
          sql<string>`'task'::text`.as('kind'),
          sql<string>`case_tasks.id::text`.as('id'),
          'case_tasks.title as title',
          sql<string>`concat_ws(' · ', replace(case_tasks.status, '-', ' '), cases.title)`.as('detail'),
          sql<string | null>`cases.id::text`.as('case_id'),
          'cases.exercise as exercise',
          'case_tasks.updated_at as at',
          atKey('case_tasks.updated_at'),
          r.as('rank'),
        ])
        .orderBy('rank')
        .orderBy('at', 'desc')
        .orderBy('id')
        .limit(page),
    );
  }
  if (kinds.includes('note')) {
    const texts = [text('case_notes.body')];
    const exact = byId('case_notes.id');
    const r = rank(exact, texts);
    statements.push(
      db
        .selectFrom('case_notes')
        .innerJoin('cases', 'cases.id', 'case_notes.case_id')
        .where(caseItemsVisibleTo(viewers.cases, 'case_notes'))
        .where(matches(exact, texts))
        .where(keyset(r, 'case_notes.created_at', 'note', 'case_notes.id'))
        .select([
          sql<string>`'note'::text`.as('kind'),
          sql<string>`case_notes.id::text`.as('id'),
          sql<string>`left(case_notes.body, 200)`.as('title'),
          sql<string>`concat_ws(' · ', case_notes.created_by, cases.title)`.as('detail'),
          sql<string | null>`cases.id::text`.as('case_id'),
          'cases.exercise as exercise',
          'case_notes.created_at as at',
          atKey('case_notes.created_at'),
          r.as('rank'),
        ])
        .orderBy('rank')
        .orderBy('at', 'desc')
        .orderBy('id')
        .limit(page),
    );
  }
  if (kinds.includes('responder') && viewers.responders) {
    const texts = [text('responders.name'), text('responders.affiliation')];
    const exact = sql<boolean>`(${byId('responders.id')} or lower(responders.name) = ${lowerQ})`;
    const r = rank(exact, [texts[0]!]);
    statements.push(
      db
        .selectFrom('responders')
        .where(respondersVisibleTo(viewers.cases.actor))
        .where(matches(exact, texts))
        .where(keyset(r, 'responders.updated_at', 'responder', 'responders.id'))
        .select([
          sql<string>`'responder'::text`.as('kind'),
          sql<string>`responders.id::text`.as('id'),
          'responders.name as title',
          sql<string>`concat_ws(' · ', responders.party_code, responders.affiliation)`.as('detail'),
          sql<string | null>`null::text`.as('case_id'),
          sql<boolean>`false`.as('exercise'),
          'responders.updated_at as at',
          atKey('responders.updated_at'),
          r.as('rank'),
        ])
        .orderBy('rank')
        .orderBy('at', 'desc')
        .orderBy('id')
        .limit(page),
    );
  }
  if (statements.length === 0) return [];
  // Each statement is bounded on its own; the union is at most (limit + 1) rows per kind.
  const union = sql.join(
    statements.map((statement) => sql`(${statement})`),
    sql` union all `,
  );
  const result = await sql<HitRow>`
    select * from (${union}) as hits
    order by rank, at desc, kind, id
    limit ${limit + 1}`.execute(db);
  return result.rows.map((row) => ({ ...row, rank: Number(row.rank) }));
}
