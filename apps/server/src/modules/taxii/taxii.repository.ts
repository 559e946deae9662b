import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import { sql } from 'kysely';
import { type CaseViewer, passableOnward } from '../../access/policy.ts';
import type { Database } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/transaction.ts';

/** Which rows a collection holds, before the viewer's policy. */
export type CollectionScope =
  | { kind: 'all' }
  | { kind: 'community' }
  | { kind: 'case'; caseId: string }
  /** Observables of these (normalised) values, in real cases, exercises or both: a lookup. */
  | { kind: 'values'; values: string[]; exercise: 'exclude' | 'include' | 'only' };

/** The TAXII filters, already parsed (see taxii.service.ts). */
export interface ObjectFilter {
  /** date_added strictly after (added_after). */
  addedAfter: string | null;
  /** The keyset: the (date_added, row id) of the last row of the previous page. */
  after: { added: string; id: string } | null;
  /** null: both; otherwise which observable objects (indicator, vulnerability) are asked for. */
  observableKinds: { indicator: boolean; vulnerability: boolean };
  /** null: every type; otherwise the intelligence types asked for (may be empty). */
  intelTypes: string[] | null;
  /** null: any; otherwise observable row ids, and intelligence STIX ids. */
  observableIds: string[] | null;
  intelIds: string[] | null;
  /** null: any version; otherwise the versions (`modified`) asked for. */
  versions: string[] | null;
  limit: number;
}

// date_added as TAXII writes it: UTC, to the microsecond the database keeps, so a page ends exactly.
const ADDED = (column: string) =>
  sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const COMMUNITY_LABELS = ['clear', 'green'];

function scoped<T extends 'observables' | 'case_intel_objects'>(table: T, scope: CollectionScope) {
  return (eb: ExpressionBuilder<Database, 'cases' | T>): Expression<SqlBool> => {
    const ref = (column: string) => sql.ref(`${table}.${column}`);
    if (scope.kind === 'case') return sql<SqlBool>`${ref('case_id')} = ${scope.caseId}`;
    if (scope.kind === 'values') {
      if (table !== 'observables' || scope.values.length === 0) return sql<SqlBool>`false`;
      const values = sql<SqlBool>`${ref('value')} in (${sql.join(scope.values)})`;
      if (scope.exercise === 'include') return values;
      return eb.and([values, sql<SqlBool>`cases.exercise = ${scope.exercise === 'only'}`]);
    }
    // The force-wide collections hold real work only: exercises stay in their own cases.
    const real = sql<SqlBool>`cases.exercise = false`;
    if (scope.kind === 'all') return real;
    return eb.and([
      real,
      sql<SqlBool>`${ref('tlp')} in (${sql.join(COMMUNITY_LABELS)})`,
      sql<SqlBool>`cases.tlp in (${sql.join(COMMUNITY_LABELS)})`,
    ]);
  };
}

const keysetAfter = (table: string, filter: ObjectFilter) => {
  const conditions = [];
  if (filter.addedAfter)
    conditions.push(sql<SqlBool>`${sql.ref(`${table}.updated_at`)} > ${filter.addedAfter}::timestamptz`);
  if (filter.after) {
    conditions.push(
      sql<SqlBool>`(${sql.ref(`${table}.updated_at`)}, ${sql.ref(`${table}.id`)}) > (${filter.after.added}::timestamptz, ${filter.after.id}::uuid)`,
    );
  }
  return conditions;
};

/** A page (limit + 1 rows) of the observables of a collection the viewer may pass on, oldest added first. */
export async function observablePage(
  db: Executor,
  viewer: CaseViewer,
  scope: CollectionScope,
  filter: ObjectFilter,
) {
  const { indicator, vulnerability } = filter.observableKinds;
  if ((!indicator && !vulnerability) || filter.observableIds?.length === 0) return [];
  let query = db
    .selectFrom('observables')
    .innerJoin('cases', 'cases.id', 'observables.case_id')
    .select([
      'observables.id',
      'observables.case_id',
      'observables.type',
      'observables.category',
      'observables.value',
      'observables.tlp',
      'observables.to_ids',
      'observables.comment',
      'observables.first_seen',
      'observables.last_seen',
      'observables.sightings',
      'observables.origin_party',
      'observables.created_by',
      'observables.version',
      'observables.created_at',
      'observables.updated_at',
      ADDED('observables.updated_at').as('added'),
      'cases.title as case_title',
      'cases.description as case_description',
      'cases.incident_class as case_incident_class',
      'cases.tlp as case_tlp',
      'cases.pap as case_pap',
      'cases.owner_party as case_owner_party',
      'cases.exercise as case_exercise',
      'cases.created_at as case_created_at',
      'cases.updated_at as case_updated_at',
    ])
    .where(scoped('observables', scope))
    .where(passableOnward(viewer, 'observables'));
  if (!indicator) query = query.where('observables.type', '=', 'vulnerability');
  if (!vulnerability) query = query.where('observables.type', '<>', 'vulnerability');
  if (filter.observableIds) query = query.where('observables.id', 'in', filter.observableIds);
  if (filter.versions)
    query = query.where(
      'observables.updated_at',
      'in',
      filter.versions.map((v) => new Date(v)),
    );
  for (const condition of keysetAfter('observables', filter)) query = query.where(condition);
  return query
    .orderBy('observables.updated_at')
    .orderBy('observables.id')
    .limit(filter.limit + 1)
    .execute();
}

/** A page (limit + 1 rows) of the intelligence objects of a collection the viewer may pass on. */
export async function intelPage(
  db: Executor,
  viewer: CaseViewer,
  scope: CollectionScope,
  filter: ObjectFilter,
) {
  if (filter.intelTypes?.length === 0 || filter.intelIds?.length === 0) return [];
  let query = db
    .selectFrom('case_intel_objects')
    .innerJoin('cases', 'cases.id', 'case_intel_objects.case_id')
    .select([
      'case_intel_objects.id',
      'case_intel_objects.stix_id',
      'case_intel_objects.stix_type',
      'case_intel_objects.stix_modified',
      // The text is read for the rows a page keeps, once their sizes say how many fit.
      sql<number>`octet_length(case_intel_objects.object)`.as('bytes'),
      'case_intel_objects.tlp',
      'case_intel_objects.created_at',
      ADDED('case_intel_objects.updated_at').as('added'),
    ])
    .where(scoped('case_intel_objects', scope))
    .where(passableOnward(viewer, 'case_intel_objects'));
  if (filter.intelTypes) query = query.where('case_intel_objects.stix_type', 'in', filter.intelTypes);
  if (filter.intelIds) query = query.where('case_intel_objects.stix_id', 'in', filter.intelIds);
  if (filter.versions) {
    query = query.where(
      'case_intel_objects.stix_modified',
      'in',
      filter.versions.map((v) => new Date(v)),
    );
  }
  for (const condition of keysetAfter('case_intel_objects', filter)) query = query.where(condition);
  return query
    .orderBy('case_intel_objects.updated_at')
    .orderBy('case_intel_objects.id')
    .limit(filter.limit + 1)
    .execute();
}

/** The texts of the intelligence objects a page keeps. */
export async function intelTexts(db: Executor, ids: string[]) {
  if (ids.length === 0) return new Map<string, string>();
  const rows = await db
    .selectFrom('case_intel_objects')
    .select(['id', 'object'])
    .where('id', 'in', ids)
    .execute();
  return new Map(rows.map((row) => [row.id, row.object]));
}

export type ObservablePageRow = Awaited<ReturnType<typeof observablePage>>[number];
export type IntelPageRow = Awaited<ReturnType<typeof intelPage>>[number];

export async function saveStatus(
  db: Executor,
  row: { id: string; userId: string; collectionId: string; status: string; at: Date },
) {
  await db
    .insertInto('taxii_statuses')
    .values({
      id: row.id,
      user_id: row.userId,
      collection_id: row.collectionId,
      status: row.status,
      created_at: row.at,
    })
    .execute();
}

/** A status its requester asked for: anyone else's is absent. */
export async function findStatus(db: Executor, id: string, userId: string) {
  return db
    .selectFrom('taxii_statuses')
    .select(['status'])
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}
