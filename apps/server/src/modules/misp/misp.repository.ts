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

/** An attribute or object of an event, as stored in a part (`e`: the element as received). */
export interface StoredElement {
  /** a(ttribute) or o(bject). */
  k: 'a' | 'o';
  u: string;
  /** The object an attribute belongs to. */
  o?: string;
  /** Its place in the event. */
  p: number;
  /** MISP's timestamp of it. */
  ts?: number;
  /** The observable it made (normalised type and value), if any. */
  t?: string;
  v?: string;
  e: Record<string, unknown>;
}

/** A part to write: elements of one label, with their JSON text already joined. */
export interface PartDraft {
  eventId: string;
  position: number;
  /** JSON text of a list of StoredElement. */
  elements: string;
  attributes: number;
  objects: number;
  tlp: Tlp;
  /** Whose part it is (its elements' creator, whom RED lets in): else the importer. */
  createdById?: string | null;
}

/**
 * The importer's party's copy of an event in the case that the importer reads (each party keeps its
 * own; one the importer cannot read is as if absent, and never confirmed). Called under the case's
 * row lock, which every writer of MISP events holds.
 */
export async function heldEventCopy(
  trx: Tx,
  viewer: CaseViewer,
  caseId: string,
  party: string,
  uuid: string,
) {
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
    .set({
      info: draft.info,
      event: draft.text,
      timestamp: draft.timestamp,
      tlp: draft.tlp,
      updated_at: fixed.at,
    })
    .where('id', '=', rowId)
    .execute();
}

/** The parts of an event copy the importer reads (to merge a later version into). */
export async function visibleHeldParts(trx: Tx, viewer: CaseViewer, caseId: string, eventId: string) {
  return trx
    .selectFrom('misp_event_parts')
    .innerJoin('cases', 'cases.id', 'misp_event_parts.case_id')
    .select([
      'misp_event_parts.id',
      'misp_event_parts.elements',
      'misp_event_parts.tlp',
      'misp_event_parts.created_by_id',
    ])
    .where('misp_event_parts.case_id', '=', caseId)
    .where('misp_event_parts.event_id', '=', eventId)
    .where(caseItemsVisibleTo(viewer, 'misp_event_parts'))
    .orderBy('misp_event_parts.position')
    .execute();
}

export async function deletePartsById(trx: Tx, ids: string[]) {
  if (ids.length === 0) return;
  await trx.deleteFrom('misp_event_parts').where('id', 'in', ids).execute();
}

/**
 * Narrows the party's observable of this value in the case to `tlp` when it is looser: a later
 * version of an event labelled it more strictly. Returns the ids of those it narrowed.
 */
export async function narrowObservable(
  trx: Tx,
  change: { caseId: string; party: string; type: string; value: string; tlp: Tlp; looser: Tlp[]; at: Date },
) {
  if (change.looser.length === 0) return [];
  return trx
    .updateTable('observables')
    .set((eb) => ({ tlp: change.tlp, updated_at: change.at, version: eb('version', '+', 1) }))
    .where('case_id', '=', change.caseId)
    .where('origin_party', '=', change.party)
    .where('type', '=', change.type)
    .where('value', '=', change.value)
    .where('tlp', 'in', change.looser)
    .returning('id')
    .execute()
    .then((rows) => rows.map((row) => row.id));
}

export async function insertParts(trx: Tx, parts: PartDraft[], fixed: CompanionFixed): Promise<number> {
  if (parts.length === 0) return 0;
  await trx
    .insertInto('misp_event_parts')
    .values(
      parts.map((part) => ({
        id: crypto.randomUUID(),
        case_id: fixed.caseId,
        event_id: part.eventId,
        position: part.position,
        elements: part.elements,
        attributes: part.attributes,
        objects: part.objects,
        tlp: part.tlp,
        origin_party: fixed.originParty,
        created_by_id: part.createdById === undefined ? fixed.createdById : part.createdById,
        created_at: fixed.at,
        updated_at: fixed.at,
        import_id: fixed.importId,
      })),
    )
    .execute();
  return parts.length;
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

/** The parts of these events the viewer may pass on (or sees). */
export async function visibleParts(
  db: Executor,
  viewer: CaseViewer,
  caseId: string,
  eventIds: string[],
  passable: boolean,
) {
  if (eventIds.length === 0) return [];
  return db
    .selectFrom('misp_event_parts')
    .innerJoin('cases', 'cases.id', 'misp_event_parts.case_id')
    .select(['misp_event_parts.event_id', 'misp_event_parts.elements'])
    .where('misp_event_parts.case_id', '=', caseId)
    .where('misp_event_parts.event_id', 'in', eventIds)
    .where(
      passable ? passableOnward(viewer, 'misp_event_parts') : caseItemsVisibleTo(viewer, 'misp_event_parts'),
    )
    .orderBy('misp_event_parts.event_id')
    .orderBy('misp_event_parts.position')
    .execute();
}

/** Per event: how many attributes and objects the viewer sees. */
export async function partCounts(db: Executor, viewer: CaseViewer, caseId: string) {
  return db
    .selectFrom('misp_event_parts')
    .innerJoin('cases', 'cases.id', 'misp_event_parts.case_id')
    .select([
      'misp_event_parts.event_id',
      sql<number>`sum(misp_event_parts.attributes)`.as('attributes'),
      sql<number>`sum(misp_event_parts.objects)`.as('objects'),
    ])
    .where('misp_event_parts.case_id', '=', caseId)
    .where(caseItemsVisibleTo(viewer, 'misp_event_parts'))
    .groupBy('misp_event_parts.event_id')
    .execute();
}

/** The viewer's parts that hold galaxy clusters (to list an event's clusters). */
export async function partsWithGalaxies(db: Executor, viewer: CaseViewer, caseId: string) {
  return db
    .selectFrom('misp_event_parts')
    .innerJoin('cases', 'cases.id', 'misp_event_parts.case_id')
    .select(['misp_event_parts.event_id', 'misp_event_parts.elements'])
    .where('misp_event_parts.case_id', '=', caseId)
    .where('misp_event_parts.elements', 'like', '%"GalaxyCluster":[{%')
    .where(caseItemsVisibleTo(viewer, 'misp_event_parts'))
    .execute();
}

/** The real cases the viewer sees (a feed's candidates), oldest first. */
export async function visibleRealCases(db: Executor, viewer: CaseViewer) {
  return db
    .selectFrom('cases')
    .selectAll('cases')
    .where('cases.exercise', '=', false)
    .where(casesVisibleTo(viewer))
    .orderBy('cases.created_at')
    .orderBy('cases.id')
    .execute();
}

/** The events of these cases the viewer may pass on, oldest first. */
export async function passableEventsOf(db: Executor, viewer: CaseViewer, caseIds: string[]) {
  if (caseIds.length === 0) return [];
  return db
    .selectFrom('misp_events')
    .innerJoin('cases', 'cases.id', 'misp_events.case_id')
    .selectAll('misp_events')
    .where('misp_events.case_id', 'in', caseIds)
    .where(passableOnward(viewer, 'misp_events'))
    .orderBy('misp_events.created_at')
    .orderBy('misp_events.id')
    .execute();
}

/** Per case: when an observable the viewer may pass on last changed. */
export async function latestPassableObservables(db: Executor, viewer: CaseViewer, caseIds: string[]) {
  if (caseIds.length === 0) return new Map<string, Date>();
  const rows = await db
    .selectFrom('observables')
    .innerJoin('cases', 'cases.id', 'observables.case_id')
    .select(['observables.case_id', sql<Date>`max(observables.updated_at)`.as('latest')])
    .where('observables.case_id', 'in', caseIds)
    .where(passableOnward(viewer, 'observables'))
    .groupBy('observables.case_id')
    .execute();
  return new Map(rows.map((row) => [row.case_id, new Date(row.latest)]));
}
