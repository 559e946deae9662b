import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import type { Tlp } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import { casesVisibleTo } from '../../access/policy.ts';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import { AppError, invalidInput, notFound } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/cursor.ts';
import type { Database } from '../../platform/db/schema.ts';
import { CaseAccess } from '../cases/case-access.ts';
import type { CasesService } from '../cases/cases.service.ts';
import { presentObservable } from '../indicators/observables.service.ts';
import type { StixService } from '../stix/stix.service.ts';
import { uuidV5, VYTIS_NAMESPACE } from '../stix/stix-ids.ts';
import { mapObservable, observableOfSdoId, type StixObject } from '../stix/stix-mapping.ts';
import { markedAsKept, type Pap } from '../stix/stix-markings.ts';
import * as repo from './taxii.repository.ts';

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';
/** The one API root of a node. */
export const API_ROOT = 'api';
/** The most objects one page holds, and the default. */
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;
/** Case collections listed (the most recently active the caller sees); any other is reached by id. */
const CASE_COLLECTIONS_LISTED = 100;

export const ALL_COLLECTION = uuidV5(VYTIS_NAMESPACE, 'taxii-collection:all');
export const COMMUNITY_COLLECTION = uuidV5(VYTIS_NAMESPACE, 'taxii-collection:community');

export interface TaxiiDeps {
  db: Kysely<Database>;
  clock: Clock;
  cases: CasesService;
  stix: StixService;
}

export interface Collection {
  id: string;
  title: string;
  description: string;
  can_read: boolean;
  can_write: boolean;
  media_types: string[];
}

/** The query parameters of the objects, manifest and versions endpoints, as sent. */
export interface ObjectQuery {
  added_after?: string | undefined;
  limit?: number | undefined;
  next?: string | undefined;
  'match[id]'?: string | undefined;
  'match[type]'?: string | undefined;
  'match[version]'?: string | undefined;
  'match[spec_version]'?: string | undefined;
}

/** One object of a page, with what the manifest and headers say of it. */
interface PagedObject {
  object: StixObject;
  added: string;
  version: string;
}

export interface ObjectPage {
  items: PagedObject[];
  more: boolean;
  next: string | null;
  /** date_added of the first and last rows read for the page (also when none of them mapped). */
  firstAdded: string | null;
  lastAdded: string | null;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const STIX_ID =
  /^[a-z][a-z0-9-]{0,249}--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/**
 * The most bytes of objects one page holds (its first object always goes, whatever its size): a
 * page of large custom objects ends early, with `more`, instead of filling the node's memory.
 */
export const PAGE_BYTES = 8 * 1024 * 1024;
/** What an observable's indicator takes in a page, about: they are small. */
const OBSERVABLE_BYTES = 1024;
const STIX_TYPE = /^[a-z][a-z0-9-]{0,249}$/;

function list(value: string | undefined): string[] | null {
  if (value === undefined) return null;
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** A real instant written as TAXII does (no 30 February: JavaScript would roll it over, PostgreSQL refuses it). */
export function isTimestamp(value: string): boolean {
  if (!TIMESTAMP.test(value) || value < '1000' || value >= '9999') return false;
  const at = new Date(value);
  return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 19) === value.slice(0, 19);
}

function timestampParam(name: string, value: string): string {
  // A TAXII timestamp, in a year the database keeps; nanoseconds are cut to what it holds.
  if (!isTimestamp(value)) {
    throw invalidInput(`${name} must be a UTC timestamp such as 2026-12-06T10:00:00.000Z`, [
      { field: `querystring/${name}`, message: 'not a timestamp' },
    ]);
  }
  return value.replace(/(\.\d{6})\d+Z$/, '$1Z');
}

/**
 * TAXII 2.1 over Vytis: collections of what a user may pass on (the same rule as a STIX export: no
 * RED, AMBER+STRICT only to its own party), each filtered in SQL by the one access policy, so two
 * users asking the same collection each get what they may see, and its paging, `more` and
 * headers are computed over that alone. Objects are the observables (as indicators, or for a CVE a
 * vulnerability) and the intelligence objects of cases; their date added is when their current
 * version was stored, their version their `modified`. A node keeps the latest version of each.
 */
export class TaxiiService {
  constructor(private readonly deps: TaxiiDeps) {}

  /** The collections the caller may read: everything, the community's CLEAR and GREEN, and their cases. */
  async collections(ctx: Ctx): Promise<Collection[]> {
    const viewer = this.deps.cases.viewer(ctx);
    const rows = await this.deps.db
      .selectFrom('cases')
      .selectAll()
      .where(casesVisibleTo(viewer))
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(CASE_COLLECTIONS_LISTED)
      .execute();
    const cases: Collection[] = [];
    for (const row of rows) cases.push(await this.caseCollection(ctx, row));
    return [...this.forceCollections(), ...cases];
  }

  async collection(ctx: Ctx, id: string): Promise<Collection> {
    const force = this.forceCollections().find((c) => c.id === id);
    if (force) return force;
    const row = await this.visibleCaseRow(ctx, id);
    return this.caseCollection(ctx, row);
  }

  async objects(ctx: Ctx, collectionId: string, query: ObjectQuery): Promise<ObjectPage> {
    const scope = await this.scopeOf(ctx, collectionId);
    return this.page(ctx, scope, query);
  }

  /** One object by id (every version the node holds: its latest), as `match[version]` allows. */
  async object(ctx: Ctx, collectionId: string, objectId: string, query: ObjectQuery): Promise<ObjectPage> {
    if (!STIX_ID.test(objectId)) throw notFound(`object ${objectId}`);
    const scope = await this.scopeOf(ctx, collectionId);
    const page = await this.page(ctx, scope, { ...query, 'match[id]': objectId });
    // An object the caller may not see is absent, exactly like one that does not exist.
    if (page.items.length === 0 && !query['match[version]'] && !query.added_after && !query.next) {
      throw notFound(`object ${objectId} in collection ${collectionId}`);
    }
    // Parties' copies may stand at different versions: `last` (the default) is the newest of them,
    // `first` the oldest, `all` every one.
    const words = list(query['match[version]']) ?? ['last'];
    if (words.includes('all') || page.items.length < 2) return page;
    const versions = page.items.map((item) => item.version).sort();
    const wanted = new Set<string>();
    if (words.includes('last')) wanted.add(versions.at(-1)!);
    if (words.includes('first')) wanted.add(versions[0]!);
    if (wanted.size === 0) return page;
    return { ...page, items: page.items.filter((item) => wanted.has(item.version)) };
  }

  /** The `status` resource of an add-objects request the caller made. */
  async status(ctx: Ctx, id: string): Promise<Record<string, unknown>> {
    const row = ctx.actor.id ? await repo.findStatus(this.deps.db, id, ctx.actor.id) : undefined;
    if (!row) throw notFound(`status ${id}`);
    return JSON.parse(row.status) as Record<string, unknown>;
  }

  /**
   * Adds the envelope's objects to a case's collection: a STIX import of them (partial: each object
   * succeeds or fails on its own), answered with a complete status resource.
   */
  async add(ctx: Ctx, collectionId: string, objects: unknown[]): Promise<Record<string, unknown>> {
    const scope = await this.scopeOf(ctx, collectionId);
    if (scope.kind !== 'case') {
      throw new AppError(
        'forbidden',
        'this collection is read-only: add objects to the collection of a case',
      );
    }
    const requestTimestamp = this.deps.clock.now().toISOString();
    // The objects go through the import exactly as a bundle would; what is not an object at all
    // fails on its own, as any other bad object does, and leaves the rest to go in.
    const isObject = (o: unknown) => typeof o === 'object' && o !== null && !Array.isArray(o);
    const positions = objects.flatMap((o, index) => (isObject(o) ? [index] : []));
    const bundle = JSON.stringify({
      type: 'bundle',
      id: `bundle--${crypto.randomUUID()}`,
      objects: positions.map((index) => objects[index]),
    });
    const imported = await this.deps.stix.importBundle(ctx, scope.caseId, Readable.from([bundle]), {
      partial: true,
    });
    const result = { ...imported, rejected: imported.rejected + (objects.length - positions.length) };
    const failedIndexes = new Map(imported.problems.map((p) => [positions[p.line]!, p.message]));
    objects.forEach((o, index) => {
      if (!isObject(o)) failedIndexes.set(index, 'is not a STIX object (a JSON object)');
    });
    // The import names the first refused objects only: past them, which others failed is unknown,
    // and the status then gives counts with the failures it knows and no list of successes.
    const everyFailureNamed = result.rejected <= failedIndexes.size;
    const successes: { id: string; version: string }[] = [];
    const failures: { id: string; version: string; message: string }[] = [];
    objects.forEach((object, index) => {
      const o = (object ?? {}) as { id?: unknown; modified?: unknown; created?: unknown };
      // Status details name an object by id and version; one without a STIX id is only counted.
      if (typeof o.id !== 'string' || !STIX_ID.test(o.id)) return;
      const stated = typeof o.modified === 'string' ? o.modified : o.created;
      const version = typeof stated === 'string' && isTimestamp(stated) ? stated : requestTimestamp;
      const message = failedIndexes.get(index);
      if (message !== undefined) failures.push({ id: o.id, version, message });
      else if (everyFailureNamed) successes.push({ id: o.id, version });
    });
    const status = {
      id: crypto.randomUUID(),
      status: 'complete',
      request_timestamp: requestTimestamp,
      total_count: objects.length,
      success_count: objects.length - result.rejected,
      ...(everyFailureNamed ? { successes } : {}),
      failure_count: result.rejected,
      failures,
      pending_count: 0,
    };
    await repo.saveStatus(this.deps.db, {
      id: status.id,
      userId: ctx.actor.id!,
      collectionId,
      status: JSON.stringify(status),
      at: this.deps.clock.now(),
    });
    return status;
  }

  private forceCollections(): Collection[] {
    return [
      {
        id: ALL_COLLECTION,
        title: 'Everything you may pass on',
        description:
          'The indicators and intelligence objects of every real case you see, as you may pass them on (no RED; AMBER+STRICT only from your own party). Exercises are in their own cases only.',
        can_read: true,
        can_write: false,
        media_types: [STIX_MEDIA_TYPE],
      },
      {
        id: COMMUNITY_COLLECTION,
        title: 'Community: CLEAR and GREEN',
        description:
          'What is labelled TLP:CLEAR or TLP:GREEN, in real cases labelled so as well, that you see: for the tools of your community.',
        can_read: true,
        can_write: false,
        media_types: [STIX_MEDIA_TYPE],
      },
    ];
  }

  private async caseCollection(ctx: Ctx, row: Awaited<ReturnType<TaxiiService['visibleCaseRow']>>) {
    const access = await CaseAccess.of(this.deps.db, ctx, row);
    return {
      id: row.id,
      title: `${row.exercise ? '[exercise] ' : ''}${row.title}`,
      description: `Case ${row.id} of ${row.owner_party}, TLP:${row.tlp.toUpperCase()}: its indicators and intelligence objects you may pass on.${access.isContributor ? ' You may add objects to it.' : ''}`,
      can_read: true,
      can_write: access.isContributor,
      media_types: [STIX_MEDIA_TYPE],
    } satisfies Collection;
  }

  private async visibleCaseRow(ctx: Ctx, id: string) {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    if (!uuid.test(id)) throw notFound(`collection ${id}`);
    try {
      return await this.deps.cases.visibleCase(ctx, id);
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') throw notFound(`collection ${id}`);
      throw error;
    }
  }

  private async scopeOf(ctx: Ctx, collectionId: string): Promise<repo.CollectionScope> {
    if (collectionId === ALL_COLLECTION) return { kind: 'all' };
    if (collectionId === COMMUNITY_COLLECTION) return { kind: 'community' };
    const row = await this.visibleCaseRow(ctx, collectionId);
    return { kind: 'case', caseId: row.id };
  }

  private filterOf(query: ObjectQuery): repo.ObjectFilter | null {
    const limit = query.limit ?? DEFAULT_PAGE;
    const specVersions = list(query['match[spec_version]']);
    // Every object here is STIX 2.1: a client asking for other versions only gets nothing.
    if (specVersions && !specVersions.includes('2.1')) return null;
    const types = list(query['match[type]']);
    for (const type of types ?? []) {
      if (!STIX_TYPE.test(type)) {
        throw invalidInput(
          `match[type] names STIX types such as indicator,malware; ${type.slice(0, 60)} is not one`,
          [{ field: 'querystring/match[type]', message: 'not a STIX type' }],
        );
      }
    }
    // Ids are matched as stored: lower case (see stix-import.ts).
    const ids = list(query['match[id]'])?.map((id) => id.toLowerCase()) ?? null;
    for (const id of ids ?? []) {
      if (!STIX_ID.test(id)) {
        throw invalidInput(
          `match[id] names STIX ids such as indicator--<uuid>; ${id.slice(0, 80)} is not one`,
          [{ field: 'querystring/match[id]', message: 'not a STIX id' }],
        );
      }
    }
    const versionWords = list(query['match[version]']) ?? ['last'];
    const versions = versionWords.some((v) => v === 'last' || v === 'first' || v === 'all')
      ? null
      : versionWords.map((v) => timestampParam('match[version]', v));
    const observableIds = ids?.flatMap((id) => {
      const of = observableOfSdoId(id);
      return of ? [of.observableId] : [];
    });
    let after: { added: string; id: string } | null = null;
    if (query.next) {
      const [added, id] = decodeCursor<[string, string]>(query.next, ['text', 'uuid']);
      if (!isTimestamp(added)) {
        throw invalidInput('next is not one this server gave out', [
          { field: 'querystring/next', message: 'unknown' },
        ]);
      }
      after = { added, id };
    }
    return {
      addedAfter: query.added_after ? timestampParam('added_after', query.added_after) : null,
      after,
      observableKinds: {
        indicator: !types || types.includes('indicator'),
        vulnerability: !types || types.includes('vulnerability'),
      },
      intelTypes: types,
      observableIds: ids ? (observableIds ?? []) : null,
      intelIds: ids,
      versions,
      limit: Math.min(MAX_PAGE, Math.max(1, limit)),
    };
  }

  private async page(ctx: Ctx, scope: repo.CollectionScope, query: ObjectQuery): Promise<ObjectPage> {
    const filter = this.filterOf(query);
    if (!filter) return { items: [], more: false, next: null, firstAdded: null, lastAdded: null };
    const viewer = this.deps.cases.viewer(ctx);
    const [observables, intel] = await Promise.all([
      repo.observablePage(this.deps.db, viewer, scope, filter),
      repo.intelPage(this.deps.db, viewer, scope, filter),
    ]);
    // Both lists are ordered by (date added, row id): merged, the first `limit` make the page.
    type Row =
      | { kind: 'observable'; row: repo.ObservablePageRow }
      | { kind: 'intel'; row: repo.IntelPageRow };
    const rows: Row[] = [
      ...observables.map((row) => ({ kind: 'observable' as const, row })),
      ...intel.map((row) => ({ kind: 'intel' as const, row })),
    ].sort((a, b) =>
      a.row.added === b.row.added ? (a.row.id < b.row.id ? -1 : 1) : a.row.added < b.row.added ? -1 : 1,
    );
    // A page ends at `limit` objects or PAGE_BYTES of them, whichever comes first.
    const taken: Row[] = [];
    let bytes = 0;
    for (const entry of rows.slice(0, filter.limit)) {
      const size = entry.kind === 'observable' ? OBSERVABLE_BYTES : entry.row.bytes;
      if (taken.length > 0 && bytes + size > PAGE_BYTES) break;
      taken.push(entry);
      bytes += size;
    }
    const more = rows.length > taken.length;
    const texts = await repo.intelTexts(
      this.deps.db,
      taken.flatMap((entry) => (entry.kind === 'intel' ? [entry.row.id] : [])),
    );
    const asked = filter.intelIds ? new Set(filter.intelIds) : null;
    // Each party keeps its own copy of an object: the same id in the same version is served once.
    const served = new Set<string>();
    const items: PagedObject[] = [];
    for (const entry of taken) {
      const item =
        entry.kind === 'observable'
          ? observableObject(entry.row)
          : intelObject(entry.row, texts.get(entry.row.id) ?? '{}');
      if (!item) continue;
      // match[id] names one kind of object: vulnerability--<id of an address> is not its indicator.
      if (asked && !asked.has(item.object.id.toLowerCase())) continue;
      const key = `${item.object.id} ${item.version}`;
      if (served.has(key)) continue;
      served.add(key);
      items.push(item);
    }
    const last = taken.at(-1);
    return {
      items,
      more,
      next: more && last ? encodeCursor([last.row.added, last.row.id]) : null,
      firstAdded: taken[0]?.row.added ?? null,
      lastAdded: last?.row.added ?? null,
    };
  }
}

/** An observable as its indicator (or vulnerability); a type STIX has no equivalent for maps to none. */
function observableObject(row: repo.ObservablePageRow): PagedObject | null {
  const object = mappedObservableOf(row)?.objects[0];
  if (!object) return null;
  return { object, added: row.added, version: String(object.modified) };
}

/** An observable row of a page, with its case's columns, as STIX (see mapObservable). */
export function mappedObservableOf(row: repo.ObservablePageRow) {
  return mapObservable(presentObservable(row, row.case_exercise), {
    id: row.case_id,
    title: row.case_title,
    description: row.case_description,
    incidentClass: row.case_incident_class,
    tlp: row.case_tlp as Tlp,
    pap: row.case_pap as Pap,
    ownerParty: row.case_owner_party,
    exercise: row.case_exercise,
    createdAt: row.case_created_at.toISOString(),
    updatedAt: row.case_updated_at.toISOString(),
  });
}

function intelObject(row: repo.IntelPageRow, text: string): PagedObject {
  const object = JSON.parse(text) as StixObject;
  const marked = markedAsKept(object, row.tlp as Tlp);
  // An object without `modified` or `created` is versioned by when it came (as stored).
  const version =
    typeof object.modified === 'string'
      ? object.modified
      : typeof object.created === 'string'
        ? object.created
        : (row.stix_modified ?? row.created_at).toISOString();
  return { object: marked, added: row.added, version };
}
