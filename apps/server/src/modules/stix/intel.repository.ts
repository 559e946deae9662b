import crypto from 'node:crypto';
import type { Tlp } from '@vytis/contracts';
import { sql } from 'kysely';
import { type CaseViewer, caseItemsVisibleTo, passableOnward } from '../../access/policy.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';

/** An intelligence object as a bundle brought it, ready to store (see migration 0015). */
export interface IntelDraft {
  stixId: string;
  type: string;
  name: string | null;
  modified: Date | null;
  sourceRef: string | null;
  targetRef: string | null;
  relationshipType: string | null;
  /** The object's JSON text, as received. */
  text: string;
  /** Its own TLP marking; null takes the case's label. */
  tlp: Tlp | null;
}

export interface IntelFixed {
  caseId: string;
  originParty: string;
  createdById: string | null;
  createdBy: string;
  at: Date;
  importId: string;
  defaultTlp: Tlp;
}

/**
 * The importer's party's copies of these ids in the case that the importer sees (each party keeps
 * its own; a copy the importer cannot read is as if absent, and never confirmed). Called under the
 * case's row lock, which every writer of intelligence objects holds, so no copy appears meanwhile.
 */
export async function partyCopies(trx: Tx, viewer: CaseViewer, caseId: string, party: string, ids: string[]) {
  if (ids.length === 0) return new Map<string, { id: string; modified: Date | null }>();
  const rows = await trx
    .selectFrom('case_intel_objects')
    .innerJoin('cases', 'cases.id', 'case_intel_objects.case_id')
    .select(['case_intel_objects.id', 'case_intel_objects.stix_id', 'case_intel_objects.stix_modified'])
    .where('case_intel_objects.case_id', '=', caseId)
    .where('case_intel_objects.origin_party', '=', party)
    .where('case_intel_objects.stix_id', 'in', ids)
    .where(caseItemsVisibleTo(viewer, 'case_intel_objects'))
    .orderBy('case_intel_objects.created_at')
    .execute();
  const copies = new Map<string, { id: string; modified: Date | null }>();
  for (const row of rows) {
    if (!copies.has(row.stix_id)) copies.set(row.stix_id, { id: row.id, modified: row.stix_modified });
  }
  return copies;
}

export async function insertIntel(trx: Tx, drafts: IntelDraft[], fixed: IntelFixed): Promise<number> {
  if (drafts.length === 0) return 0;
  const result = await trx
    .insertInto('case_intel_objects')
    .values(
      drafts.map((draft) => ({
        id: crypto.randomUUID(),
        case_id: fixed.caseId,
        stix_id: draft.stixId,
        ...versionColumns(draft, fixed),
        origin_party: fixed.originParty,
        created_by_id: fixed.createdById,
        created_by: fixed.createdBy,
        created_at: fixed.at,
        import_id: fixed.importId,
      })),
    )
    .returning('id')
    .execute();
  return result.length;
}

/** What a version of an object sets: the same for a new copy and for a later version of one. */
function versionColumns(draft: IntelDraft, fixed: IntelFixed) {
  return {
    stix_type: draft.type,
    name: draft.name,
    // An object without `modified` or `created` (a custom one may have neither) is versioned by when it came.
    stix_modified: draft.modified ?? fixed.at,
    source_ref: draft.sourceRef,
    target_ref: draft.targetRef,
    relationship_type: draft.relationshipType,
    object: draft.text,
    tlp: draft.tlp ?? fixed.defaultTlp,
    updated_at: fixed.at,
  };
}

/** A later version replaces the copy (its row keeps its id, its first importer and when it came). */
export async function replaceIntel(trx: Tx, rowId: string, draft: IntelDraft, fixed: IntelFixed) {
  await trx
    .updateTable('case_intel_objects')
    .set(versionColumns(draft, fixed))
    .where('id', '=', rowId)
    .execute();
}

const LISTED = [
  'case_intel_objects.id',
  'case_intel_objects.stix_id',
  'case_intel_objects.stix_type',
  'case_intel_objects.name',
  'case_intel_objects.stix_modified',
  'case_intel_objects.source_ref',
  'case_intel_objects.target_ref',
  'case_intel_objects.relationship_type',
  'case_intel_objects.tlp',
  'case_intel_objects.origin_party',
  'case_intel_objects.created_by',
  'case_intel_objects.created_at',
  'case_intel_objects.updated_at',
] as const;

/** A page of the case's intelligence objects the viewer may see, oldest first (keyset on created_at, id). */
export async function listVisibleIntel(
  db: Executor,
  viewer: CaseViewer,
  caseId: string,
  page: { after: { at: Date; id: string } | null; limit: number; type?: string | undefined },
) {
  let query = db
    .selectFrom('case_intel_objects')
    .innerJoin('cases', 'cases.id', 'case_intel_objects.case_id')
    .select(LISTED)
    .where('case_intel_objects.case_id', '=', caseId)
    .where(caseItemsVisibleTo(viewer, 'case_intel_objects'));
  if (page.type) query = query.where('case_intel_objects.stix_type', '=', page.type);
  if (page.after) {
    const { at, id } = page.after;
    query = query.where(
      sql<boolean>`(case_intel_objects.created_at, case_intel_objects.id) > (${at}, ${id})`,
    );
  }
  return query
    .orderBy('case_intel_objects.created_at')
    .orderBy('case_intel_objects.id')
    .limit(page.limit)
    .execute();
}

export async function findVisibleIntel(db: Executor, viewer: CaseViewer, caseId: string, id: string) {
  return db
    .selectFrom('case_intel_objects')
    .innerJoin('cases', 'cases.id', 'case_intel_objects.case_id')
    .select([...LISTED, 'case_intel_objects.object'])
    .where('case_intel_objects.case_id', '=', caseId)
    .where('case_intel_objects.id', '=', id)
    .where(caseItemsVisibleTo(viewer, 'case_intel_objects'))
    .executeTakeFirst();
}

/** The relationships (and sightings) the viewer sees in the case that start or end at `stixId`. */
export async function visibleRelationshipsOf(
  db: Executor,
  viewer: CaseViewer,
  caseId: string,
  stixId: string,
) {
  return db
    .selectFrom('case_intel_objects')
    .innerJoin('cases', 'cases.id', 'case_intel_objects.case_id')
    .select(LISTED)
    .where('case_intel_objects.case_id', '=', caseId)
    .where((eb) =>
      eb.or([
        eb('case_intel_objects.source_ref', '=', stixId),
        eb('case_intel_objects.target_ref', '=', stixId),
      ]),
    )
    .where(caseItemsVisibleTo(viewer, 'case_intel_objects'))
    .orderBy('case_intel_objects.created_at')
    .orderBy('case_intel_objects.id')
    .limit(1000)
    .execute();
}

/** Names of the objects the viewer sees in the case with these STIX ids (to name a relationship's other end). */
export async function visibleNamesOf(db: Executor, viewer: CaseViewer, caseId: string, stixIds: string[]) {
  if (stixIds.length === 0) return new Map<string, { type: string; name: string | null }>();
  const rows = await db
    .selectFrom('case_intel_objects')
    .innerJoin('cases', 'cases.id', 'case_intel_objects.case_id')
    .select(['case_intel_objects.stix_id', 'case_intel_objects.stix_type', 'case_intel_objects.name'])
    .where('case_intel_objects.case_id', '=', caseId)
    .where('case_intel_objects.stix_id', 'in', stixIds)
    .where(caseItemsVisibleTo(viewer, 'case_intel_objects'))
    .execute();
  return new Map(rows.map((row) => [row.stix_id, { type: row.stix_type, name: row.name }]));
}

/** Which of these STIX ids the viewer sees among the case's intelligence objects (references into the case). */
export async function visibleStixIds(db: Executor, viewer: CaseViewer, caseId: string, stixIds: string[]) {
  return new Set((await visibleNamesOf(db, viewer, caseId, stixIds)).keys());
}

/** The intelligence objects the viewer may pass on, in pages (for the case's STIX export). */
export async function passableIntelPage(
  db: Executor,
  viewer: CaseViewer,
  caseId: string,
  after: { at: Date; id: string } | null,
  limit: number,
) {
  let query = db
    .selectFrom('case_intel_objects')
    .innerJoin('cases', 'cases.id', 'case_intel_objects.case_id')
    .select([
      'case_intel_objects.id',
      'case_intel_objects.object',
      'case_intel_objects.tlp',
      'case_intel_objects.origin_party',
      'case_intel_objects.created_at',
    ])
    .where('case_intel_objects.case_id', '=', caseId)
    .where(passableOnward(viewer, 'case_intel_objects'));
  if (after) {
    query = query.where(
      sql<boolean>`(case_intel_objects.created_at, case_intel_objects.id) > (${after.at}, ${after.id})`,
    );
  }
  return query
    .orderBy('case_intel_objects.created_at')
    .orderBy('case_intel_objects.id')
    .limit(limit)
    .execute();
}
