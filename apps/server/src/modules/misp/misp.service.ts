import type { Readable } from 'node:stream';
import type {
  ExerciseScope,
  MispEventList,
  MispEventSummary,
  MispImportResult,
  Observable,
  Pap,
  Tlp,
} from '@vytis/contracts';
import type { Kysely } from 'kysely';
import { casePassableOnward } from '../../access/policy.ts';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import { forbidden, invalidInput, notFound } from '../../errors.ts';
import type { Database } from '../../platform/db/schema.ts';
import type { CasesService } from '../cases/cases.service.ts';
import type { ObservablesService } from '../indicators/observables.service.ts';
import { uuidV5, VYTIS_NAMESPACE } from '../stix/stix-ids.ts';
import * as repo from './misp.repository.ts';
import { attributeJson, type MispAttribute, papOf, rsitOf } from './misp-event.ts';
import { type MispCounts, MispFileError, readMispFile } from './misp-import.ts';

export interface MispImportOptions {
  partial: boolean;
  /** The label of what names none (no tag, no distribution): else the case's. */
  tlp?: Tlp | undefined;
  onProgress?: (progress: { bytes: number; lines: number }) => void;
  othersWaiting?: () => boolean;
}

export interface MispExportOptions {
  /** One imported event alone, by its uuid (else the case's event: see exportCase). */
  event?: string | undefined;
  exercise?: ExerciseScope | undefined;
}

/** What a feed's manifest says of one event (MISP's manifest.json entry). */
export interface MispFeedEntry {
  caseId: string;
  uuid: string;
  info: string;
  date: string;
  threatLevelId: number;
  analysis: number;
  timestamp: number;
  orgc: { name: string; uuid: string };
  tags: { name: string; colour?: string }[];
}

export interface MispDeps {
  db: Kysely<Database>;
  clock: Clock;
  cases: CasesService;
  observables: ObservablesService;
}

type Json = Record<string, unknown>;
type CaseRow = Awaited<ReturnType<CasesService['visibleCase']>>;

/** TLP as MISP's distribution (the inverse of DISTRIBUTION_TLP; RED and AMBER+STRICT: this organisation only). */
const TLP_DISTRIBUTION: Record<Tlp, number> = { red: 0, 'amber+strict': 0, amber: 1, green: 2, clear: 3 };
const SEVERITY_THREAT_LEVEL: Record<string, number> = { critical: 1, high: 1, medium: 2, low: 3 };
const STATUS_ANALYSIS: Record<string, number> = {
  open: 0,
  'in-progress': 1,
  contained: 1,
  resolved: 2,
  closed: 2,
};
const THREAT_LEVELS = ['high', 'medium', 'low', 'undefined'];
const ANALYSES = ['initial', 'ongoing', 'completed'];

const tlpTag = (tlp: Tlp) => ({ name: `tlp:${tlp}` });
const seconds = (at: Date) => Math.floor(at.getTime() / 1000);

/** The uuid of a case's own MISP event, the same on every export and every node. */
export const caseEventUuid = (caseId: string) => uuidV5(VYTIS_NAMESPACE, `misp-event:${caseId}`);
/** A party as a MISP organisation. */
export const partyOrg = (code: string) => ({ name: code, uuid: uuidV5(VYTIS_NAMESPACE, `misp-org:${code}`) });

/**
 * MISP events in and out of a case, under the access policy. An import keeps every event,
 * attribute and object as received and makes observables of the attributes Vytis can use; an
 * export gives them back (only what the viewer may pass on), with the case's other observables as
 * attributes of their own.
 */
export class MispService {
  constructor(private readonly deps: MispDeps) {}

  /**
   * MISP event JSON (`{"Event"}`, `{"response": [...]}`, a list) into a case, as a bulk import
   * (received in full, read with no transaction open, written in parts, all-or-nothing).
   */
  async importEvents(
    ctx: Ctx,
    caseId: string,
    source: Readable,
    options: MispImportOptions,
  ): Promise<MispImportResult> {
    const theCase = await this.deps.cases.visibleCase(ctx, caseId);
    const viewer = this.deps.cases.viewer(ctx);
    const counts: MispCounts = {
      events: { read: 0, added: 0, updated: 0, unchanged: 0 },
      elements: { added: 0, updated: 0, unchanged: 0 },
    };
    const result = await this.deps.observables.importWith(
      ctx,
      caseId,
      source,
      {
        format: 'misp',
        tlp: options.tlp,
        partial: options.partial,
        onProgress: options.onProgress,
        othersWaiting: options.othersWaiting,
      },
      (input, intoExercise) =>
        readMispFile(input, {
          partial: options.partial,
          intoExercise,
          unlabelled: options.tlp ?? (theCase.tlp as Tlp),
          viewer,
          now: seconds(this.deps.clock.now()),
          counts,
          onProgress: options.onProgress,
          othersWaiting: options.othersWaiting,
        }).catch((error: unknown) => {
          if (error instanceof MispFileError) {
            throw invalidInput(`the body is not MISP event JSON Vytis can read: ${error.message}`, [
              { field: 'body', message: error.message },
            ]);
          }
          throw error;
        }),
    );
    return { ...counts, ...result };
  }

  /**
   * The case as one MISP event (`{"Event": …}`) of what the viewer may pass on. A case holding one
   * MISP event gives that event back (its uuid, info, tags, galaxies…) with the case's other
   * observables added as attributes; a case holding none or several is its own event (a uuid of
   * the case's, its title as info, its label and PAP as tags) with every event's attributes and
   * objects. `event` asks for one imported event alone, exactly as imported.
   */
  async exportCase(ctx: Ctx, caseId: string, options: MispExportOptions = {}): Promise<{ Event: Json }> {
    const row = await this.deps.cases.visibleCase(ctx, caseId);
    const viewer = this.deps.cases.viewer(ctx);
    if (!casePassableOnward(viewer, row)) {
      throw forbidden(
        `case ${caseId} is TLP:${row.tlp.toUpperCase()}: ${row.tlp === 'red' ? 'what is RED is never passed on' : 'AMBER+STRICT is passed on only by its own party'}, so it cannot be exported`,
      );
    }
    // Judges the exercise scope (and refuses a mismatch) before anything is read.
    const { rows: observables } = await this.deps.observables.passable(
      ctx,
      caseId,
      options.exercise ?? 'exclude',
    );
    const db = this.deps.db;
    const [events, latest] = await Promise.all([
      repo.visibleEvents(db, viewer, caseId, true),
      repo.latestPassableObservables(db, viewer, [caseId]),
    ]);
    let chosen: repo.EventRow[];
    if (options.event !== undefined) {
      const wanted = options.event.toLowerCase();
      const match = events.find((event) => event.uuid === wanted);
      if (!match) throw notFound(`MISP event ${options.event} in case ${caseId}`);
      chosen = [match];
    } else {
      chosen = eventsGiven(events, row.owner_party, viewer.actor.party);
    }
    const eventIds = chosen.map((event) => event.id);
    const parts = await repo.visibleParts(db, viewer, caseId, eventIds, true);
    const { attributes, objects, values } = assembleElements(parts, eventIds);
    if (options.event === undefined) {
      for await (const observable of observables) {
        if (!values.has(`${observable.type}\n${observable.value}`))
          attributes.push(nativeAttribute(observable));
      }
    }
    const header =
      options.event !== undefined
        ? markedAsExercise(JSON.parse(chosen[0]!.event) as Json, row.exercise)
        : eventHeader(row, chosen, latest.get(caseId) ?? null);
    return { Event: { ...header, Attribute: attributes, Object: objects } };
  }

  /** The case's MISP events the viewer sees, with their tags and galaxies. */
  async listEvents(ctx: Ctx, caseId: string): Promise<MispEventList> {
    await this.deps.cases.visibleCase(ctx, caseId);
    const viewer = this.deps.cases.viewer(ctx);
    const db = this.deps.db;
    const [events, counts, withGalaxies] = await Promise.all([
      repo.visibleEvents(db, viewer, caseId, false),
      repo.partCounts(db, viewer, caseId),
      repo.partsWithGalaxies(db, viewer, caseId),
    ]);
    const countOf = new Map(counts.map((c) => [c.event_id, c]));
    const attributeGalaxies = new Map<string, Json[]>();
    for (const part of withGalaxies) {
      const galaxies = attributeGalaxies.get(part.event_id) ?? [];
      for (const stored of JSON.parse(part.elements) as repo.StoredElement[]) {
        if (stored.k === 'a' && Array.isArray(stored.e.Galaxy)) galaxies.push(...(stored.e.Galaxy as Json[]));
      }
      attributeGalaxies.set(part.event_id, galaxies);
    }
    return {
      items: events.map((event) =>
        presentEvent(event, countOf.get(event.id), attributeGalaxies.get(event.id) ?? []),
      ),
    };
  }

  /**
   * One entry per real case the viewer may pass on: its event's header as `exportCase` writes it
   * (so the manifest's timestamp is the event's), from three queries whatever the number of cases —
   * never an export of each.
   */
  async feedIndex(ctx: Ctx): Promise<MispFeedEntry[]> {
    const viewer = this.deps.cases.viewer(ctx);
    const db = this.deps.db;
    const cases = (await repo.visibleRealCases(db, viewer)).filter((row) => casePassableOnward(viewer, row));
    const ids = cases.map((row) => row.id);
    const [events, latest] = await Promise.all([
      repo.passableEventsOf(db, viewer, ids),
      repo.latestPassableObservables(db, viewer, ids),
    ]);
    const eventsOf = new Map<string, repo.EventRow[]>();
    for (const event of events) eventsOf.set(event.case_id, [...(eventsOf.get(event.case_id) ?? []), event]);
    return cases.map((row) =>
      feedEntry(
        row.id,
        eventHeader(
          row,
          eventsGiven(eventsOf.get(row.id) ?? [], row.owner_party, viewer.actor.party),
          latest.get(row.id) ?? null,
        ),
      ),
    );
  }
}

/**
 * The events a case's export holds: its one event, or all. Of several copies of one uuid (each
 * party keeps its own) the case owner's is the case's event, else the viewer's party's, else the
 * first: another party's copy never stands in for the owner's.
 */
function eventsGiven(
  events: repo.EventRow[],
  ownerParty: string,
  viewerParty: string | null,
): repo.EventRow[] {
  if (new Set(events.map((event) => event.uuid)).size !== 1) return events;
  const preferred =
    events.find((event) => event.origin_party === ownerParty) ??
    events.find((event) => event.origin_party === viewerParty) ??
    events[0]!;
  return [preferred];
}

/** An exercise's event says so (`vytis:exercise`), so it never passes for real where it is imported. */
function markedAsExercise(header: Json, exercise: boolean): Json {
  if (!exercise) return header;
  const tags = Array.isArray(header.Tag) ? (header.Tag as Json[]) : [];
  if (tags.some((tag) => tag.name === 'vytis:exercise')) return header;
  return { ...header, Tag: [...tags, { name: 'vytis:exercise' }] };
}

/**
 * The fields of a case's exported event. One event: as imported, its timestamp moved to the
 * latest change of the case's observables made after it (news to a feed's readers). None or
 * several: the case's own event, as of the latest change to the case, its events or observables.
 */
function eventHeader(row: CaseRow, events: repo.EventRow[], latestObservable: Date | null): Json {
  if (events.length === 1) {
    const event = events[0]!;
    const header = JSON.parse(event.event) as Json;
    if (latestObservable && latestObservable > event.updated_at) {
      header.timestamp = String(Math.max(Number(header.timestamp ?? 0), seconds(latestObservable)));
    }
    return markedAsExercise(header, row.exercise);
  }
  return caseEventHeader(row, [
    row.updated_at,
    ...events.map((event) => event.updated_at),
    ...(latestObservable ? [latestObservable] : []),
  ]);
}

/** A manifest entry, as MISP's feed generator writes it. */
function feedEntry(caseId: string, event: Json): MispFeedEntry {
  const orgc = (event.Orgc ?? {}) as Json;
  const tags = Array.isArray(event.Tag) ? (event.Tag as Json[]) : [];
  return {
    caseId,
    uuid: String(event.uuid),
    info: String(event.info ?? ''),
    date: String(event.date ?? ''),
    threatLevelId: Number(event.threat_level_id ?? 4),
    analysis: Number(event.analysis ?? 0),
    timestamp: Number(event.timestamp ?? 0),
    orgc: { name: String(orgc.name ?? ''), uuid: String(orgc.uuid ?? '') },
    tags: tags.map((tag) => ({
      name: String(tag.name),
      ...(typeof tag.colour === 'string' ? { colour: tag.colour } : {}),
    })),
  };
}

/**
 * Attributes and objects from their stored parts, in their order (events as listed): an object's
 * attributes go into it (an attribute whose object the viewer may not see goes with it), and a
 * reference to what is not given is left out, so the export names no uuid it does not carry.
 */
function assembleElements(parts: Awaited<ReturnType<typeof repo.visibleParts>>, eventIds: string[]) {
  const order = new Map(eventIds.map((id, i) => [id, i]));
  const elements = parts
    .flatMap((part) =>
      (JSON.parse(part.elements) as repo.StoredElement[]).map((stored) => ({
        event: order.get(part.event_id)!,
        stored,
      })),
    )
    .sort((a, b) => a.event - b.event || a.stored.p - b.stored.p)
    .map(({ stored }) => stored);
  const attributes: Json[] = [];
  const objects: Json[] = [];
  const objectByUuid = new Map<string, Json & { Attribute: Json[] }>();
  const values = new Set<string>();
  const given = new Set<string>();
  for (const stored of elements) {
    if (stored.k !== 'o') continue;
    const object = { ...stored.e, Attribute: [] as Json[] };
    objectByUuid.set(stored.u, object);
    objects.push(object);
    given.add(stored.u);
  }
  for (const stored of elements) {
    if (stored.k !== 'a') continue;
    if (stored.o !== undefined) {
      const object = objectByUuid.get(stored.o);
      if (!object) continue;
      object.Attribute.push(stored.e);
    } else attributes.push(stored.e);
    given.add(stored.u);
    if (stored.t !== undefined) values.add(`${stored.t}\n${stored.v}`);
  }
  for (const object of objects) {
    const references = object.ObjectReference;
    if (Array.isArray(references)) {
      object.ObjectReference = references.filter(
        (reference) =>
          typeof (reference as Json).referenced_uuid !== 'string' ||
          given.has(((reference as Json).referenced_uuid as string).toLowerCase()),
      );
    }
  }
  return { attributes, objects, values };
}

/** An observable that came from no MISP event, as an attribute: its own id is its uuid. */
function nativeAttribute(observable: Observable): Json {
  const attribute: MispAttribute = {
    uuid: observable.id,
    type: observable.type,
    category: observable.category,
    value: observable.value,
    toIds: observable.toIds,
    ...(observable.comment ? { comment: observable.comment } : {}),
    ...(observable.firstSeen ? { firstSeen: observable.firstSeen } : {}),
    ...(observable.lastSeen ? { lastSeen: observable.lastSeen } : {}),
    distribution: TLP_DISTRIBUTION[observable.tlp],
    timestamp: seconds(new Date(observable.updatedAt)),
    tags: [{ ...tlpTag(observable.tlp), extra: {} }],
    sightings: [],
    galaxies: [],
    extra: {},
  };
  return attributeJson(attribute);
}

/** A case's own event: the case's fields in MISP's shape. */
function caseEventHeader(row: CaseRow, times: Date[]): Json {
  const latest = new Date(Math.max(...times.map((time) => time.getTime())));
  const tags: Json[] = [tlpTag(row.tlp as Tlp), { name: `PAP:${(row.pap as Pap).toUpperCase()}` }];
  if (row.exercise) tags.push({ name: 'vytis:exercise' });
  return {
    date: row.created_at.toISOString().slice(0, 10),
    threat_level_id: String(SEVERITY_THREAT_LEVEL[row.severity] ?? 4),
    info: row.title,
    published: false,
    uuid: caseEventUuid(row.id),
    analysis: String(STATUS_ANALYSIS[row.status] ?? 0),
    timestamp: String(seconds(latest)),
    distribution: String(TLP_DISTRIBUTION[row.tlp as Tlp]),
    Orgc: partyOrg(row.owner_party),
    Galaxy: [],
    Tag: tags,
  };
}

function presentEvent(
  event: repo.EventRow,
  counts: { attributes: number; objects: number } | undefined,
  attributeGalaxies: Json[],
): MispEventSummary {
  const header = JSON.parse(event.event) as Json;
  const str = (value: unknown) => (typeof value === 'string' ? value : null);
  const tags = Array.isArray(header.Tag)
    ? (header.Tag as Json[]).map((tag) => ({ name: String(tag.name), colour: str(tag.colour) }))
    : [];
  const galaxies = [...(Array.isArray(header.Galaxy) ? (header.Galaxy as Json[]) : []), ...attributeGalaxies];
  const clusters = new Map<string, MispEventSummary['galaxies'][number]>();
  for (const galaxy of galaxies) {
    for (const cluster of Array.isArray(galaxy.GalaxyCluster) ? (galaxy.GalaxyCluster as Json[]) : []) {
      const tagName = String(cluster.tag_name ?? '');
      if (clusters.has(tagName)) continue;
      clusters.set(tagName, {
        galaxy: String(galaxy.name ?? ''),
        type: String(galaxy.type ?? ''),
        value: String(cluster.value ?? ''),
        tagName,
        description: str(cluster.description),
      });
    }
  }
  const level = (list: string[], value: unknown, offset: number) =>
    typeof value === 'string' && /^\d$/.test(value) ? (list[Number(value) - offset] ?? null) : null;
  const orgc = header.Orgc as Json | undefined;
  return {
    id: event.id,
    uuid: event.uuid,
    info: event.info,
    date: str(header.date),
    threatLevel: level(THREAT_LEVELS, header.threat_level_id, 1),
    analysis: level(ANALYSES, header.analysis, 0),
    orgc: orgc ? str(orgc.name) : null,
    timestamp: event.timestamp === null ? null : new Date(event.timestamp * 1000).toISOString(),
    tlp: event.tlp as Tlp,
    pap: papOf(tags.map((tag) => ({ name: tag.name, extra: {} }))) ?? null,
    rsit: rsitOf(tags.map((tag) => ({ name: tag.name, extra: {} }))),
    originParty: event.origin_party,
    tags,
    galaxies: [...clusters.values()],
    attributes: Number(counts?.attributes ?? 0),
    objects: Number(counts?.objects ?? 0),
    createdBy: event.created_by,
    createdAt: event.created_at.toISOString(),
    updatedAt: event.updated_at.toISOString(),
  };
}
