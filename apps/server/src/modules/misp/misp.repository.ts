import crypto from 'node:crypto';
import type { Tlp } from '@vytis/contracts';
import { sql } from 'kysely';
import { type CaseViewer, caseItemsVisibleTo, casesVisibleTo, passableOnward } from '../../access/policy.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';
import type { CompanionFixed } from '../indicators/observables.service.ts';

export interface EventDraft {
  uuid: string;
  info: string;
  /** The event's own fields, MISP JSON text. */
  text: string;
  timestamp: number | null;
  tlp: Tlp;
}

export interface ElementDraft {
  kind: 'attribute' | 'object';
  uuid: string;
  objectUuid: string | null;
  position: number;
  text: string;
  obsType: string | null;
  obsValue: string | null;
  timestamp: number | null;
  tlp: Tlp;
}

export interface ElementInsert extends ElementDraft {
  eventId: string;
}

export interface HeldElement {
  id: string;
  timestamp: number | null;
  element: string;
}

/**
 * The importer's party's copy of an event in the case that the importer reads (each party keeps its
 * own; one the importer cannot read is as if absent, and never confirmed). Called under the case's
 * row lock, which every writer of MISP events holds.
 */
export async function heldEventCopy(trx: Tx, viewer: CaseViewer, caseId: string, party: string, uuid: string) {
  return trx
    .selectFrom('misp_events')
    .innerJoin('cases', 'cases.id', 'misp_events.case_id')
    .select(['misp_events.id', 'misp_events.timestamp'])
    .where('misp_events.case_id', '=', caseId)
    .where('misp_events.origin_party', '=', party)
    .where('misp_events.uuid', '=', uuid)
    .where(caseItemsVisibleTo(viewer, 'misp_events'))
    .orderBy('misp_events.created_at')
    .limit(1)
    .executeTakeFirst();
}

export async function insertEvent(trx: Tx, draft: EventDraft, fixed: CompanionFixed): Promise<string> {
  const id = crypto.randomUUID();
  await trx
    .insertInto('misp_events')
    .values({
      id,
      case_id: fixed.caseId,
      uuid: draft.uuid,
      info: draft.info,
      event: draft.text,
      timestamp: draft.timestamp,
      tlp: draft.tlp,
      origin_party: fixed.originParty,
      created_by_id: fixed.createdById,
      created_by: fixed.createdBy,
      created_at: fixed.at,
      updated_at: fixed.at,
      import_id: fixed.importId,
    })
    .execute();
  return id;
}

/** A later version of the event: its fields replaced; its row keeps its id and first importer. */
export async function updateEvent(trx: Tx, rowId: string, draft: EventDraft, fixed: CompanionFixed) {
  await trx
    .updateTable('misp_events')
    .set({ info: draft.info, event: draft.text, timestamp: draft.timestamp, tlp: draft.tlp, updated_at: fixed.at })
    .where('id', '=', rowId)
    .execute();
}

/** The elements an event copy holds, by uuid. */
export async function heldElements(trx: Tx, eventId: string): Promise<Map<string, HeldElement>> {
  const rows = await trx
    .selectFrom('misp_elements')
    .select(['id', 'uuid', 'timestamp', 'element'])
    .where('event_id', '=', eventId)
    .execute();
  return new Map(rows.map((row) => [row.uuid, { id: row.id, timestamp: row.timestamp, element: row.element }]));
}

export async function insertElements(trx: Tx, drafts: ElementInsert[], fixed: CompanionFixed): Promise<number> {
  if (drafts.length === 0) return 0;
  await trx
    .insertInto('misp_elements')
    .values(
      drafts.map((draft) => ({
        id: crypto.randomUUID(),
        case_id: fixed.caseId,
        event_id: draft.eventId,
        kind: draft.kind,
        uuid: draft.uuid,
        object_uuid: draft.objectUuid,
        position: draft.position,
        element: draft.text,
        obs_type: draft.obsType,
        obs_value: draft.obsValue,
        timestamp: draft.timestamp,
        tlp: draft.tlp,
        origin_party: fixed.originParty,
        created_by_id: fixed.createdById,
        created_at: fixed.at,
        updated_at: fixed.at,
        import_id: fixed.importId,
      })),
    )
    .execute();
  return drafts.length;
}

export async function updateElement(trx: Tx, rowId: string, draft: ElementDraft, fixed: CompanionFixed) {
  await trx
    .updateTable('misp_elements')
    .set({
      object_uuid: draft.objectUuid,
      position: draft.position,
      element: draft.text,
      obs_type: draft.obsType,
      obs_value: draft.obsValue,
      timestamp: draft.timestamp,
      tlp: draft.tlp,
      updated_at: fixed.at,
    })
    .where('id', '=', rowId)
    .execute();
}

/** Events of the case the viewer may pass on (`passable`) or sees, oldest first. */
export async function visibleEvents(db: Executor, viewer: CaseViewer, caseId: string, passable: boolean) {
  return db
    .selectFrom('misp_events')
    .innerJoin('cases', 'cases.id', 'misp_events.case_id')
    .selectAll('misp_events')
    .where('misp_events.case_id', '=', caseId)
    .where(passable ? passableOnward(viewer, 'misp_events') : caseItemsVisibleTo(viewer, 'misp_events'))
    .orderBy('misp_events.created_at')
    .orderBy('misp_events.id')
    .execute();
}

export type EventRow = Awaited<ReturnType<typeof visibleEvents>>[number];

/** The elements of these events the viewer may pass on (or sees), in their order. */
export async function visibleElements(
  db: Executor,
  viewer: CaseViewer,
  caseId: string,
  eventIds: string[],
  passable: boolean,
) {
  if (eventIds.length === 0) return [];
  return db
    .selectFrom('misp_elements')
    .innerJoin('cases', 'cases.id', 'misp_elements.case_id')
    .select([
      'misp_elements.event_id',
      'misp_elements.kind',
      'misp_elements.uuid',
      'misp_elements.object_uuid',
      'misp_elements.element',
      'misp_elements.obs_type',
      'misp_elements.obs_value',
      'misp_elements.updated_at',
    ])
    .where('misp_elements.case_id', '=', caseId)
    .where('misp_elements.event_id', 'in', eventIds)
    .where(passable ? passableOnward(viewer, 'misp_elements') : caseItemsVisibleTo(viewer, 'misp_elements'))
    .orderBy('misp_elements.event_id')
    .orderBy('misp_elements.position')
    .execute();
}

/** Per event: how many attributes and objects the viewer sees, and the galaxies of its attributes' text. */
export async function elementCounts(db: Executor, viewer: CaseViewer, caseId: string) {
  return db
    .selectFrom('misp_elements')
    .innerJoin('cases', 'cases.id', 'misp_elements.case_id')
    .select([
      'misp_elements.event_id',
      sql<number>`count(*) filter (where misp_elements.kind = 'attribute')`.as('attributes'),
      sql<number>`count(*) filter (where misp_elements.kind = 'object')`.as('objects'),
    ])
    .where('misp_elements.case_id', '=', caseId)
    .where(caseItemsVisibleTo(viewer, 'misp_elements'))
    .groupBy('misp_elements.event_id')
    .execute();
}

/** Attribute texts of the viewer's elements that carry galaxies (to list an event's clusters). */
export async function elementsWithGalaxies(db: Executor, viewer: CaseViewer, caseId: string) {
  return db
    .selectFrom('misp_elements')
    .innerJoin('cases', 'cases.id', 'misp_elements.case_id')
    .select(['misp_elements.event_id', 'misp_elements.element'])
    .where('misp_elements.case_id', '=', caseId)
    .where('misp_elements.kind', '=', 'attribute')
    .where('misp_elements.element', 'like', '%"GalaxyCluster":[{%')
    .where(caseItemsVisibleTo(viewer, 'misp_elements'))
    .execute();
}

/** The real cases the viewer sees (a feed's candidates), oldest first. */
export async function visibleRealCases(db: Executor, viewer: CaseViewer) {
  return db
    .selectFrom('cases')
    .select(['cases.id', 'cases.tlp', 'cases.owner_party'])
    .where('cases.exercise', '=', false)
    .where(casesVisibleTo(viewer))
    .orderBy('cases.created_at')
    .orderBy('cases.id')
    .execute();
}

/** Which of these cases hold a MISP event by this uuid that the viewer may pass on. */
export async function casesWithEvent(db: Executor, viewer: CaseViewer, uuid: string) {
  const rows = await db
    .selectFrom('misp_events')
    .innerJoin('cases', 'cases.id', 'misp_events.case_id')
    .select('misp_events.case_id')
    .where('misp_events.uuid', '=', uuid)
    .where('cases.exercise', '=', false)
    .where(passableOnward(viewer, 'misp_events'))
    .execute();
  return new Set(rows.map((row) => row.case_id));
}
