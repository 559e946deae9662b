import fs from 'node:fs';
import type { Pap, Tlp } from '@vytis/contracts';
import { rsitProblem } from '../requests/taxonomy.ts';

/**
 * MISP event JSON in and out: pure functions, no database and no HTTP (issue 12).
 *
 * `parseMispEvents` reads what MISP, PyMISP and MISP feeds write into `MispEvent`, a typed model
 * with MISP's numbers as numbers, booleans as booleans and uuids in lower case; `toMispEventJson`
 * writes it back in MISP's own shapes (ids, enums and timestamps as strings, `to_ids` a boolean).
 * Nothing is lost: every field the model does not name — MISP's local ids, `ShadowAttribute`,
 * `RelatedEvent`, a galaxy's icon… — and every named field whose value cannot be read (a timestamp
 * "yesterday", an `Attribute` that is not a list) is kept verbatim in the `extra` of its level and
 * written back as it came, so that parse → toMispEventJson → parse is the identity and
 * `eventProblems` can say what was wrong. A JSON `null` counts as absent.
 */

// ---------------------------------------------------------------------------------------------
// Model

/** Fields of a level that the model does not name, or could not read, exactly as received. */
export type Extra = Record<string, unknown>;

export interface MispOrg {
  name: string;
  uuid: string;
  extra: Extra;
}

export interface MispTag {
  name: string;
  colour?: string;
  exportable?: boolean;
  /** A local tag is not synchronised to other MISP instances. */
  local?: boolean;
  extra: Extra;
}

export interface MispGalaxyCluster {
  uuid: string;
  type: string;
  value: string;
  tagName: string;
  description?: string;
  /** The cluster's metadata (synonyms, refs, country, …) as MISP gives it. */
  meta?: Record<string, unknown>;
  /** authors, source, version, collection_uuid, relations, …: the rest of the cluster object. */
  extra: Extra;
}

export interface MispGalaxy {
  uuid: string;
  name: string;
  type: string;
  namespace?: string;
  description?: string;
  version?: string;
  clusters: MispGalaxyCluster[];
  extra: Extra;
}

export interface MispSighting {
  uuid: string;
  /** Unix seconds. */
  dateSighting?: number;
  /** 0 sighting, 1 false positive, 2 expiration. */
  type?: number;
  source?: string;
  org?: MispOrg;
  extra: Extra;
}

export interface MispAttribute {
  /** Lower case; '' when the event gives none. */
  uuid: string;
  type: string;
  category?: string;
  value: string;
  /** Absent when the event leaves it to MISP's default for the type. */
  toIds?: boolean;
  comment?: string;
  /** ISO 8601, as MISP writes it (microseconds and offset kept). */
  firstSeen?: string;
  lastSeen?: string;
  disableCorrelation?: boolean;
  deleted?: boolean;
  /** 0 your organisation, 1 this community, 2 connected communities, 3 all, 4 sharing group, 5 inherit. */
  distribution?: number;
  sharingGroupId?: number;
  /** Unix seconds. */
  timestamp?: number;
  /** Only for an object's attributes: its role in the object (e.g. "ip", "filename"). */
  objectRelation?: string;
  /** Base64 content of a malware-sample or attachment. */
  data?: string;
  tags: MispTag[];
  sightings: MispSighting[];
  galaxies: MispGalaxy[];
  extra: Extra;
}

export interface MispObjectReference {
  uuid: string;
  /** The attribute or object referred to (lower case). */
  referencedUuid: string;
  relationshipType: string;
  comment?: string;
  timestamp?: number;
  deleted?: boolean;
  extra: Extra;
}

export interface MispObject {
  uuid: string;
  name: string;
  metaCategory?: string;
  templateUuid?: string;
  templateVersion?: string;
  description?: string;
  comment?: string;
  firstSeen?: string;
  lastSeen?: string;
  distribution?: number;
  sharingGroupId?: number;
  timestamp?: number;
  deleted?: boolean;
  attributes: MispAttribute[];
  references: MispObjectReference[];
  extra: Extra;
}

export interface MispEvent {
  uuid: string;
  info: string;
  /** YYYY-MM-DD. */
  date?: string;
  /** 1 high, 2 medium, 3 low, 4 undefined. */
  threatLevelId?: number;
  /** 0 initial, 1 ongoing, 2 completed. */
  analysis?: number;
  timestamp?: number;
  publishTimestamp?: number;
  published?: boolean;
  /** 0–4, as for attributes (5, inherit, is for attributes and objects only). */
  distribution?: number;
  sharingGroupId?: number;
  /** The organisation that holds this copy. */
  org?: MispOrg;
  /** The organisation that created the event. */
  orgc?: MispOrg;
  tags: MispTag[];
  galaxies: MispGalaxy[];
  attributes: MispAttribute[];
  objects: MispObject[];
  extra: Extra;
}

// ---------------------------------------------------------------------------------------------
// Reading

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads the named fields of one level off a copy of it: a field read is taken off `extra`, a field
 * absent or null is taken off too, and a field that cannot be read stays there verbatim.
 */
class FieldReader {
  readonly extra: Extra;
  constructor(source: Json) {
    this.extra = { ...source };
  }

  private take<T>(key: string, read: (value: unknown) => T | undefined): T | undefined {
    if (!Object.hasOwn(this.extra, key)) return undefined;
    const raw = this.extra[key];
    if (raw === null) {
      delete this.extra[key];
      return undefined;
    }
    const value = read(raw);
    if (value !== undefined) delete this.extra[key];
    return value;
  }

  str(key: string): string | undefined {
    return this.take(key, (v) => (typeof v === 'string' ? v : undefined));
  }

  uuid(key = 'uuid'): string {
    return this.str(key)?.trim().toLowerCase() ?? '';
  }

  /** A non-negative integer, as MISP writes it (a string of digits) or as a number. */
  int(key: string): number | undefined {
    return this.take(key, readInt);
  }

  bool(key: string): boolean | undefined {
    return this.take(key, readBool);
  }

  record(key: string): Json | undefined {
    return this.take(key, (v) => (isRecord(v) ? v : undefined));
  }

  /** A list of objects; a list with anything else in it stays in `extra` whole. */
  list<T>(key: string, read: (item: Json) => T): T[] {
    return (
      this.take(key, (v) =>
        Array.isArray(v) && v.every(isRecord) ? v.map((item) => read(item)) : undefined,
      ) ?? []
    );
  }
}

function readInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}

function readBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === '1' || value === 'true') return true;
  if (value === 0 || value === '0' || value === 'false') return false;
  return undefined;
}

function readOrg(source: Json): MispOrg {
  const r = new FieldReader(source);
  return { name: r.str('name') ?? '', uuid: r.uuid(), extra: r.extra };
}

function readTag(source: Json): MispTag {
  const r = new FieldReader(source);
  return {
    name: r.str('name') ?? '',
    colour: r.str('colour'),
    exportable: r.bool('exportable'),
    local: r.bool('local'),
    extra: r.extra,
  };
}

function readCluster(source: Json): MispGalaxyCluster {
  const r = new FieldReader(source);
  return {
    uuid: r.uuid(),
    type: r.str('type') ?? '',
    value: r.str('value') ?? '',
    tagName: r.str('tag_name') ?? '',
    description: r.str('description'),
    meta: r.record('meta'),
    extra: r.extra,
  };
}

function readGalaxy(source: Json): MispGalaxy {
  const r = new FieldReader(source);
  return {
    uuid: r.uuid(),
    name: r.str('name') ?? '',
    type: r.str('type') ?? '',
    namespace: r.str('namespace'),
    description: r.str('description'),
    version: r.str('version'),
    clusters: r.list('GalaxyCluster', readCluster),
    extra: r.extra,
  };
}

function readSighting(source: Json): MispSighting {
  const r = new FieldReader(source);
  const org = r.record('Organisation');
  return {
    uuid: r.uuid(),
    dateSighting: r.int('date_sighting'),
    type: r.int('type'),
    source: r.str('source'),
    org: org && readOrg(org),
    extra: r.extra,
  };
}

function readAttribute(source: Json): MispAttribute {
  const r = new FieldReader(source);
  return {
    uuid: r.uuid(),
    type: r.str('type') ?? '',
    category: r.str('category'),
    value: r.str('value') ?? '',
    toIds: r.bool('to_ids'),
    comment: r.str('comment'),
    firstSeen: r.str('first_seen'),
    lastSeen: r.str('last_seen'),
    disableCorrelation: r.bool('disable_correlation'),
    deleted: r.bool('deleted'),
    distribution: r.int('distribution'),
    sharingGroupId: r.int('sharing_group_id'),
    timestamp: r.int('timestamp'),
    objectRelation: r.str('object_relation'),
    data: r.str('data'),
    tags: r.list('Tag', readTag),
    sightings: r.list('Sighting', readSighting),
    galaxies: r.list('Galaxy', readGalaxy),
    extra: r.extra,
  };
}

function readReference(source: Json): MispObjectReference {
  const r = new FieldReader(source);
  return {
    uuid: r.uuid(),
    referencedUuid: r.uuid('referenced_uuid'),
    relationshipType: r.str('relationship_type') ?? '',
    comment: r.str('comment'),
    timestamp: r.int('timestamp'),
    deleted: r.bool('deleted'),
    extra: r.extra,
  };
}

function readObject(source: Json): MispObject {
  const r = new FieldReader(source);
  return {
    uuid: r.uuid(),
    name: r.str('name') ?? '',
    metaCategory: r.str('meta-category'),
    templateUuid: r.str('template_uuid'),
    templateVersion: r.str('template_version'),
    description: r.str('description'),
    comment: r.str('comment'),
    firstSeen: r.str('first_seen'),
    lastSeen: r.str('last_seen'),
    distribution: r.int('distribution'),
    sharingGroupId: r.int('sharing_group_id'),
    timestamp: r.int('timestamp'),
    deleted: r.bool('deleted'),
    attributes: r.list('Attribute', readAttribute),
    references: r.list('ObjectReference', readReference),
    extra: r.extra,
  };
}

function readEvent(source: Json): MispEvent {
  const r = new FieldReader(source);
  const org = r.record('Org');
  const orgc = r.record('Orgc');
  return {
    uuid: r.uuid(),
    info: r.str('info') ?? '',
    date: r.str('date'),
    threatLevelId: r.int('threat_level_id'),
    analysis: r.int('analysis'),
    timestamp: r.int('timestamp'),
    publishTimestamp: r.int('publish_timestamp'),
    published: r.bool('published'),
    distribution: r.int('distribution'),
    sharingGroupId: r.int('sharing_group_id'),
    org: org && readOrg(org),
    orgc: orgc && readOrg(orgc),
    tags: r.list('Tag', readTag),
    galaxies: r.list('Galaxy', readGalaxy),
    attributes: r.list('Attribute', readAttribute),
    objects: r.list('Object', readObject),
    extra: r.extra,
  };
}

const EXPECTED =
  'expected a MISP event: {"Event": {…}}, {"response": [{"Event": {…}}, …]}, a list of those, or a bare event object (with info, uuid, Attribute, …)';

// Keys of which at least one marks an object as a bare MISP event (PyMISP's to_dict without the wrapper).
const BARE_EVENT_KEYS = ['uuid', 'info', 'Attribute', 'Object', 'Orgc', 'threat_level_id'];

/**
 * The MISP events in a parsed JSON document: `{"Event": {…}}`, `{"response": [{"Event": …}, …]}` (a
 * REST search), a list of those, or a bare event object. Anything else is refused, saying what was
 * expected and where. The events are not checked here: see `eventProblems`.
 */
export function parseMispEvents(json: unknown): { events: MispEvent[] } | { error: string } {
  const events: MispEvent[] = [];
  // A list may hold events (wrapped or bare), not lists; `response` is MISP's REST wrapper, outermost only.
  const visit = (
    value: unknown,
    where: string,
    outermost: boolean,
    listAllowed: boolean,
  ): string | undefined => {
    if (Array.isArray(value)) {
      if (!listAllowed) return `${where}: a list inside a list; ${EXPECTED}`;
      for (const [i, item] of value.entries()) {
        const error = visit(item, `${where}[${i}]`, false, false);
        if (error) return error;
      }
      return undefined;
    }
    if (!isRecord(value)) return `${where}: ${describe(value)}; ${EXPECTED}`;
    if (Object.hasOwn(value, 'Event')) {
      if (!isRecord(value.Event)) return `${where}.Event: ${describe(value.Event)}; expected an event object`;
      events.push(readEvent(value.Event));
      return undefined;
    }
    if (outermost && Object.hasOwn(value, 'response')) {
      const response = value.response;
      if (Array.isArray(response) || isRecord(response))
        return visit(response, `${where}.response`, false, true);
      return `${where}.response: ${describe(response)}; expected a list of {"Event": {…}}`;
    }
    if (BARE_EVENT_KEYS.some((key) => Object.hasOwn(value, key))) {
      events.push(readEvent(value));
      return undefined;
    }
    const keys = Object.keys(value).slice(0, 5);
    return `${where}: an object with ${keys.length ? `keys ${keys.join(', ')}` : 'no keys'}; ${EXPECTED}`;
  };
  const error = visit(json, 'document', true, true);
  return error ? { error } : { events };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'a string';
  return `a ${typeof value}`;
}

// ---------------------------------------------------------------------------------------------
// Writing

const str = (n: number | undefined) => (n === undefined ? undefined : String(n));

// Extra first, then the named fields: MISP's local ids lead, as in MISP's own output. A named field
// that could not be read (undefined, or an empty list, in the model) sits in `extra`, and its raw
// value is what is written.
function level(extra: Extra, fields: Record<string, unknown>): Json {
  const out: Json = { ...extra };
  for (const [key, value] of Object.entries(fields))
    if (value !== undefined && !Object.hasOwn(extra, key)) out[key] = value;
  return out;
}

const orgJson = (org: MispOrg) => level(org.extra, { name: org.name, uuid: org.uuid || undefined });

const tagJson = (tag: MispTag) =>
  level(tag.extra, { name: tag.name, colour: tag.colour, exportable: tag.exportable, local: tag.local });

const clusterJson = (cluster: MispGalaxyCluster) =>
  level(cluster.extra, {
    uuid: cluster.uuid,
    type: cluster.type,
    value: cluster.value,
    tag_name: cluster.tagName,
    description: cluster.description,
    meta: cluster.meta,
  });

/** A galaxy with its clusters, in MISP's shape (also for storing a cluster as JSON). */
export const galaxyJson = (galaxy: MispGalaxy) =>
  level(galaxy.extra, {
    uuid: galaxy.uuid,
    name: galaxy.name,
    type: galaxy.type,
    namespace: galaxy.namespace,
    description: galaxy.description,
    version: galaxy.version,
    GalaxyCluster: galaxy.clusters.map(clusterJson),
  });

const sightingJson = (sighting: MispSighting) =>
  level(sighting.extra, {
    uuid: sighting.uuid,
    date_sighting: str(sighting.dateSighting),
    type: str(sighting.type),
    source: sighting.source,
    Organisation: sighting.org && orgJson(sighting.org),
  });

const nonEmpty = <T>(list: T[], write: (item: T) => Json) => (list.length ? list.map(write) : undefined);

/** An attribute in MISP's shape (also how an element is stored). */
export const attributeJson = (attribute: MispAttribute) =>
  level(attribute.extra, {
    type: attribute.type,
    category: attribute.category,
    to_ids: attribute.toIds,
    uuid: attribute.uuid,
    distribution: str(attribute.distribution),
    sharing_group_id: str(attribute.sharingGroupId),
    timestamp: str(attribute.timestamp),
    comment: attribute.comment,
    deleted: attribute.deleted,
    disable_correlation: attribute.disableCorrelation,
    object_relation: attribute.objectRelation,
    first_seen: attribute.firstSeen,
    last_seen: attribute.lastSeen,
    value: attribute.value,
    data: attribute.data,
    Galaxy: attribute.galaxies.map(galaxyJson),
    Tag: nonEmpty(attribute.tags, tagJson),
    Sighting: nonEmpty(attribute.sightings, sightingJson),
  });

const referenceJson = (reference: MispObjectReference) =>
  level(reference.extra, {
    uuid: reference.uuid,
    timestamp: str(reference.timestamp),
    referenced_uuid: reference.referencedUuid,
    relationship_type: reference.relationshipType,
    comment: reference.comment,
    deleted: reference.deleted,
  });

/** An object in MISP's shape, with its attributes. */
export const objectJson = (object: MispObject) =>
  level(object.extra, {
    name: object.name,
    'meta-category': object.metaCategory,
    description: object.description,
    template_uuid: object.templateUuid,
    template_version: object.templateVersion,
    uuid: object.uuid,
    timestamp: str(object.timestamp),
    distribution: str(object.distribution),
    sharing_group_id: str(object.sharingGroupId),
    comment: object.comment,
    deleted: object.deleted,
    first_seen: object.firstSeen,
    last_seen: object.lastSeen,
    ObjectReference: object.references.map(referenceJson),
    Attribute: object.attributes.map(attributeJson),
  });

/**
 * The event as MISP writes it, `{"Event": {…}}`: ids, enums and timestamps as strings, flags as
 * booleans, everything in `extra` given back. `parseMispEvents` of the result gives `event` again.
 */
export function toMispEventJson(event: MispEvent): { Event: Json } {
  return {
    Event: level(event.extra, {
      date: event.date,
      threat_level_id: str(event.threatLevelId),
      info: event.info,
      published: event.published,
      uuid: event.uuid,
      analysis: str(event.analysis),
      timestamp: str(event.timestamp),
      distribution: str(event.distribution),
      publish_timestamp: str(event.publishTimestamp),
      sharing_group_id: str(event.sharingGroupId),
      Org: event.org && orgJson(event.org),
      Orgc: event.orgc && orgJson(event.orgc),
      Attribute: event.attributes.map(attributeJson),
      Object: event.objects.map(objectJson),
      Galaxy: event.galaxies.map(galaxyJson),
      Tag: event.tags.map(tagJson),
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// Problems

interface DescribeTypes {
  result: { categories: string[]; category_type_mappings: Record<string, string[]> };
}

// MISP's own table of which categories allow which types, copied beside the code.
const DESCRIBE_TYPES = (
  JSON.parse(
    fs.readFileSync(new URL('../../../data/misp/describeTypes.json', import.meta.url), 'utf8'),
  ) as DescribeTypes
).result;
const CATEGORIES_OF_TYPE = new Map<string, string[]>();
for (const [category, types] of Object.entries(DESCRIBE_TYPES.category_type_mappings))
  for (const type of types) CATEGORIES_OF_TYPE.set(type, [...(CATEGORIES_OF_TYPE.get(type) ?? []), category]);
const CATEGORIES = new Set(DESCRIBE_TYPES.categories);

export interface MispProblem {
  /** Where, as a path into the MISP JSON: `Event.Object[2].ObjectReference[0].referenced_uuid`. */
  path: string;
  message: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Unix seconds up to the end of year 9999.
const MAX_UNIX_SECONDS = 253_402_300_799;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

// What each named field must be, to say why one could not be read (it then sits in `extra`).
const WHAT_IS_EXPECTED: Record<string, string> = {
  uuid: 'a uuid string',
  referenced_uuid: 'a uuid string',
  timestamp: 'Unix seconds (a string of digits)',
  publish_timestamp: 'Unix seconds (a string of digits)',
  date_sighting: 'Unix seconds (a string of digits)',
  distribution: 'a distribution level, 0 to 5',
  sharing_group_id: 'a sharing group id (a string of digits)',
  threat_level_id: 'a threat level, 1 to 4',
  analysis: 'an analysis level, 0 to 2',
  to_ids: 'true or false',
  deleted: 'true or false',
  disable_correlation: 'true or false',
  published: 'true or false',
  exportable: 'true or false',
  local: 'true or false',
  Attribute: 'a list of attribute objects',
  Object: 'a list of object objects',
  ObjectReference: 'a list of reference objects',
  Tag: 'a list of tag objects',
  Galaxy: 'a list of galaxy objects',
  GalaxyCluster: 'a list of cluster objects',
  Sighting: 'a list of sighting objects',
  Org: 'an organisation object',
  Orgc: 'an organisation object',
  Organisation: 'an organisation object',
  meta: 'an object',
};
const STRING_FIELDS = [
  'info',
  'date',
  'type',
  'category',
  'value',
  'comment',
  'first_seen',
  'last_seen',
  'object_relation',
  'data',
  'name',
  'meta-category',
  'template_uuid',
  'template_version',
  'description',
  'relationship_type',
  'colour',
  'tag_name',
  'namespace',
  'version',
  'source',
];
for (const key of STRING_FIELDS) WHAT_IS_EXPECTED[key] ??= 'a string';

/**
 * What is wrong with an event, each with its place in the MISP JSON: named fields that could not be
 * read, missing or malformed uuids (and one uuid used twice), attribute types that `knownTypes`
 * refuses, categories describeTypes does not allow for the type, object attributes without an
 * `object_relation`, object references to a uuid that is neither an attribute nor an object of the
 * event, out-of-range enums and timestamps, and first_seen/last_seen that are not ISO 8601 or in the
 * wrong order. An empty list means the event can be imported as it is.
 */
export function eventProblems(event: MispEvent, knownTypes: (type: string) => boolean): MispProblem[] {
  const problems: MispProblem[] = [];
  const add = (path: string, message: string) => {
    problems.push({ path, message });
  };

  const unread = (path: string, extra: Extra, keys: readonly string[]) => {
    for (const key of keys)
      if (Object.hasOwn(extra, key) && WHAT_IS_EXPECTED[key])
        add(`${path}.${key}`, `${JSON.stringify(extra[key])?.slice(0, 80)} is not ${WHAT_IS_EXPECTED[key]}`);
  };
  const seen = new Map<string, string>();
  const uuid = (path: string, value: string, required: boolean, registry = false) => {
    if (!value) {
      if (required) add(`${path}.uuid`, 'missing uuid');
      return;
    }
    if (!UUID.test(value)) add(`${path}.uuid`, `"${value}" is not a uuid`);
    if (!registry) return;
    const first = seen.get(value);
    if (first) add(`${path}.uuid`, `uuid ${value} is also that of ${first}`);
    else seen.set(value, path);
  };
  const unixSeconds = (path: string, value: number | undefined) => {
    if (value !== undefined && value > MAX_UNIX_SECONDS)
      add(path, `${value} is not Unix seconds (it is after the year 9999)`);
  };
  const range = (path: string, value: number | undefined, min: number, max: number, what: string) => {
    if (value !== undefined && (value < min || value > max)) add(path, `${value} is not ${what}`);
  };
  const seenWindow = (path: string, first: string | undefined, last: string | undefined) => {
    for (const [key, value] of [
      ['first_seen', first],
      ['last_seen', last],
    ] as const)
      if (value !== undefined && !isIsoDateTime(value))
        add(`${path}.${key}`, `"${value}" is not an ISO 8601 time`);
    if (first && last && isIsoDateTime(first) && isIsoDateTime(last) && Date.parse(first) > Date.parse(last))
      add(`${path}.last_seen`, `last_seen ${last} is before first_seen ${first}`);
  };
  const tags = (path: string, list: MispTag[], extra: Extra) => {
    unread(path, extra, ['Tag']);
    list.forEach((tag, i) => {
      if (!tag.name) add(`${path}.Tag[${i}].name`, 'a tag without a name');
      unread(`${path}.Tag[${i}]`, tag.extra, ['name', 'colour', 'exportable', 'local']);
    });
  };
  const galaxies = (path: string, list: MispGalaxy[], extra: Extra) => {
    unread(path, extra, ['Galaxy']);
    list.forEach((galaxy, i) => {
      const at = `${path}.Galaxy[${i}]`;
      uuid(at, galaxy.uuid, false);
      unread(at, galaxy.extra, [
        'uuid',
        'name',
        'type',
        'namespace',
        'description',
        'version',
        'GalaxyCluster',
      ]);
      galaxy.clusters.forEach((cluster, j) => {
        const clusterAt = `${at}.GalaxyCluster[${j}]`;
        uuid(clusterAt, cluster.uuid, false);
        unread(clusterAt, cluster.extra, ['uuid', 'type', 'value', 'tag_name', 'description', 'meta']);
      });
    });
  };
  const attribute = (path: string, a: MispAttribute, inObject: boolean) => {
    uuid(path, a.uuid, true, true);
    unread(path, a.extra, [
      'uuid',
      'type',
      'category',
      'value',
      'to_ids',
      'comment',
      'first_seen',
      'last_seen',
      'disable_correlation',
      'deleted',
      'distribution',
      'sharing_group_id',
      'timestamp',
      'object_relation',
      'data',
      'Sighting',
    ]);
    if (!a.type) add(`${path}.type`, 'missing attribute type');
    else if (!knownTypes(a.type)) add(`${path}.type`, `unknown MISP attribute type "${a.type}"`);
    if (a.category !== undefined && a.type) {
      const allowed = CATEGORIES_OF_TYPE.get(a.type);
      if (!CATEGORIES.has(a.category)) add(`${path}.category`, `unknown MISP category "${a.category}"`);
      else if (allowed && !allowed.includes(a.category))
        add(
          `${path}.category`,
          `category "${a.category}" does not allow type "${a.type}" (it belongs in ${allowed.join(', ')})`,
        );
    }
    if (!a.value) add(`${path}.value`, 'missing value');
    if (inObject && !a.objectRelation)
      add(`${path}.object_relation`, 'an object attribute without object_relation');
    range(`${path}.distribution`, a.distribution, 0, 5, 'a distribution level, 0 to 5');
    unixSeconds(`${path}.timestamp`, a.timestamp);
    seenWindow(path, a.firstSeen, a.lastSeen);
    tags(path, a.tags, a.extra);
    galaxies(path, a.galaxies, a.extra);
    a.sightings.forEach((s, i) => {
      const at = `${path}.Sighting[${i}]`;
      uuid(at, s.uuid, false);
      unread(at, s.extra, ['uuid', 'date_sighting', 'type', 'source', 'Organisation']);
      unixSeconds(`${at}.date_sighting`, s.dateSighting);
      range(`${at}.type`, s.type, 0, 2, 'a sighting type (0 sighting, 1 false positive, 2 expiration)');
    });
  };

  uuid('Event', event.uuid, true);
  unread('Event', event.extra, [
    'uuid',
    'info',
    'date',
    'threat_level_id',
    'analysis',
    'timestamp',
    'publish_timestamp',
    'published',
    'distribution',
    'sharing_group_id',
    'Org',
    'Orgc',
    'Attribute',
    'Object',
  ]);
  if (event.date !== undefined && !isIsoDate(event.date))
    add('Event.date', `"${event.date}" is not a date (YYYY-MM-DD)`);
  range('Event.threat_level_id', event.threatLevelId, 1, 4, 'a threat level, 1 to 4');
  range('Event.analysis', event.analysis, 0, 2, 'an analysis level, 0 to 2');
  range('Event.distribution', event.distribution, 0, 4, 'an event distribution level, 0 to 4');
  unixSeconds('Event.timestamp', event.timestamp);
  unixSeconds('Event.publish_timestamp', event.publishTimestamp);
  for (const [key, org] of [
    ['Org', event.org],
    ['Orgc', event.orgc],
  ] as const)
    if (org) {
      uuid(`Event.${key}`, org.uuid, false);
      unread(`Event.${key}`, org.extra, ['name', 'uuid']);
    }
  tags('Event', event.tags, event.extra);
  galaxies('Event', event.galaxies, event.extra);
  event.attributes.forEach((a, i) => {
    attribute(`Event.Attribute[${i}]`, a, false);
  });
  event.objects.forEach((object, i) => {
    const path = `Event.Object[${i}]`;
    uuid(path, object.uuid, true, true);
    unread(path, object.extra, [
      'uuid',
      'name',
      'meta-category',
      'template_uuid',
      'template_version',
      'description',
      'comment',
      'first_seen',
      'last_seen',
      'distribution',
      'sharing_group_id',
      'timestamp',
      'deleted',
      'Attribute',
      'ObjectReference',
    ]);
    if (!object.name) add(`${path}.name`, 'an object without a name');
    range(`${path}.distribution`, object.distribution, 0, 5, 'a distribution level, 0 to 5');
    unixSeconds(`${path}.timestamp`, object.timestamp);
    seenWindow(path, object.firstSeen, object.lastSeen);
    object.attributes.forEach((a, j) => {
      attribute(`${path}.Attribute[${j}]`, a, true);
    });
  });
  // References last, once every attribute and object uuid of the event is known.
  event.objects.forEach((object, i) => {
    object.references.forEach((reference, j) => {
      const path = `Event.Object[${i}].ObjectReference[${j}]`;
      uuid(path, reference.uuid, true, true);
      unread(path, reference.extra, [
        'uuid',
        'referenced_uuid',
        'relationship_type',
        'comment',
        'timestamp',
        'deleted',
      ]);
      if (!reference.relationshipType)
        add(`${path}.relationship_type`, 'a reference without a relationship_type');
      unixSeconds(`${path}.timestamp`, reference.timestamp);
      if (!reference.referencedUuid)
        add(`${path}.referenced_uuid`, 'a reference to nothing (no referenced_uuid)');
      else if (
        !seen.has(reference.referencedUuid) ||
        seen.get(reference.referencedUuid)!.includes('ObjectReference')
      )
        add(
          `${path}.referenced_uuid`,
          `refers to ${reference.referencedUuid}, which is neither an attribute nor an object of this event`,
        );
    });
  });
  return problems;
}

function isIsoDate(text: string): boolean {
  const match = ISO_DATE.exec(text);
  if (!match) return false;
  const [, y, m, d] = match.map(Number) as [number, number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function isIsoDateTime(text: string): boolean {
  return ISO_DATE_TIME.test(text) && !Number.isNaN(Date.parse(text.replace(' ', 'T')));
}

// ---------------------------------------------------------------------------------------------
// TLP, PAP, RSIT

const STRICTNESS: Record<Tlp, number> = { clear: 0, green: 1, amber: 2, 'amber+strict': 3, red: 4 };
const stricter = (a: Tlp, b: Tlp): Tlp => (STRICTNESS[b] > STRICTNESS[a] ? b : a);

/**
 * MISP's distribution levels as TLP (Vytis's documented mapping). 0 "your organisation only" is
 * AMBER+STRICT (the recipient's organisation, no further); 1 "this community" is AMBER; 2
 * "connected communities" is GREEN (a community wider than one's own); 3 "all communities" is CLEAR.
 * 4, a sharing group, is a named list of organisations that TLP cannot name: the event's own TLP tag
 * says who that audience is, and without one it is AMBER. 5, "inherit", takes the event's (or the
 * object's) TLP. Where there is no distribution, the tags alone decide; with no `tlp:` tag either, an
 * event is AMBER (MISP's usual default distribution, 1) and an attribute or object inherits.
 */
export const DISTRIBUTION_TLP: Readonly<Record<0 | 1 | 2 | 3 | 4, Tlp>> = Object.freeze({
  0: 'amber+strict',
  1: 'amber',
  2: 'green',
  3: 'clear',
  4: 'amber',
});

const TLP_TAG = /^tlp:(white|clear|green|amber|amber\+strict|red)$/;

/** The strictest `tlp:` label among the tags (tlp:white is TLP 1.0's name for clear); undefined if none. */
export function tlpOfTags(tags: readonly MispTag[]): Tlp | undefined {
  let tlp: Tlp | undefined;
  for (const tag of tags) {
    const match = TLP_TAG.exec(tag.name.trim().toLowerCase());
    if (!match) continue;
    const level = match[1] === 'white' ? 'clear' : (match[1] as Tlp);
    tlp = tlp ? stricter(tlp, level) : level;
  }
  return tlp;
}

/** TLP from tags and distribution, the stricter winning; `inherited` is what distribution 5 (or none) means here. */
function tlpOf(tags: readonly MispTag[], distribution: number | undefined, inherited: Tlp): Tlp {
  const tagged = tlpOfTags(tags);
  let distributed: Tlp;
  // No distribution (a feed's events often have none) says nothing: the tags decide, else `inherited`.
  if (distribution === undefined) return tagged ?? inherited;
  if (distribution === 5) distributed = inherited;
  else if (distribution === 4) distributed = tagged ?? DISTRIBUTION_TLP[4];
  // A level MISP does not have (eventProblems names it) is taken at its strictest.
  else distributed = DISTRIBUTION_TLP[distribution as 0 | 1 | 2 | 3] ?? 'red';
  return tagged ? stricter(tagged, distributed) : distributed;
}

/**
 * The event's TLP: the stricter of its `tlp:` tags and its distribution (see DISTRIBUTION_TLP);
 * `unlabelled` when it has neither.
 */
export function tlpOfEvent(event: MispEvent, unlabelled: Tlp = DISTRIBUTION_TLP[1]): Tlp {
  // 5 (inherit) means nothing on an event: taken as no distribution.
  return tlpOf(event.tags, event.distribution === 5 ? undefined : event.distribution, unlabelled);
}

/**
 * An object's TLP, never less strict than its event's: in MISP an object is only ever seen with its
 * event, whatever its own distribution says.
 */
export function tlpOfObject(object: MispObject, eventTlp: Tlp): Tlp {
  return stricter(eventTlp, tlpOf([], object.distribution, eventTlp));
}

/**
 * An attribute's TLP: the stricter of its own `tlp:` tags, its distribution, and the TLP it lives
 * under (`eventTlp`: the event's, or for an object's attribute the object's from `tlpOfObject`).
 */
export function tlpOfAttribute(attribute: MispAttribute, eventTlp: Tlp): Tlp {
  return stricter(eventTlp, tlpOf(attribute.tags, attribute.distribution, eventTlp));
}

const PAP_STRICTNESS: Record<Pap, number> = { clear: 0, green: 1, amber: 2, red: 3 };
const PAP_TAG = /^pap:(white|clear|green|amber|red)$/;

/** The strictest `PAP:` label among the tags (PAP:WHITE is the old name of clear); undefined if none. */
export function papOf(tags: readonly MispTag[]): Pap | undefined {
  let pap: Pap | undefined;
  for (const tag of tags) {
    const match = PAP_TAG.exec(tag.name.trim().toLowerCase());
    if (!match) continue;
    const level = match[1] === 'white' ? 'clear' : (match[1] as Pap);
    if (!pap || PAP_STRICTNESS[level] > PAP_STRICTNESS[pap]) pap = level;
  }
  return pap;
}

/** The tags that are RSIT machine tags of the taxonomy (e.g. `rsit:malicious-code="infected-system"`), in order, once each. */
export function rsitOf(tags: readonly MispTag[]): string[] {
  return [...new Set(tags.map((tag) => tag.name.trim()).filter((name) => rsitProblem(name) === null))];
}
