/**
 * What the change feed carries, type by type: the table each type lives in, the columns a version
 * carries (and their kinds, checked on arrival before anything is written), who speaks for it, and
 * the order in which a page is applied (a group before the cases shared with it, a case before its
 * items, a MISP event before its parts).
 *
 * Columns that only mean something on the node that wrote them are not sent: local user ids
 * (creator, assignee), the bulk import a row came with, and links to requests and deployments,
 * which are not federated yet (issue 14). What is mirrored is stored with them empty.
 */

export type ColumnKind = 'uuid' | 'text' | 'time' | 'int' | 'bool' | 'tlp' | 'party';

/** Who speaks for an object: the party in one of its columns, or the owner of its case. */
export type OriginRule = { column: string } | 'case-owner';

export interface FeedType {
  type: FeedObjectType;
  table: FeedTable;
  columns: Readonly<Record<string, ColumnKind>>;
  origin: OriginRule;
  /** The column naming the case the object belongs to (a case: its own id; a group: none). */
  caseColumn: string | null;
  /** Whether it carries its own TLP label (items that do are seen as their label allows, within their case). */
  labelled: boolean;
  order: number;
}

export type FeedTable =
  | 'cases'
  | 'sharing_groups'
  | 'case_tasks'
  | 'case_notes'
  | 'case_timeline'
  | 'observables'
  | 'case_intel_objects'
  | 'misp_events'
  | 'misp_event_parts';

export const FEED_OBJECT_TYPES = [
  'sharing_group',
  'case',
  'case_task',
  'case_note',
  'case_timeline',
  'observable',
  'intel_object',
  'misp_event',
  'misp_event_part',
] as const;
export type FeedObjectType = (typeof FEED_OBJECT_TYPES)[number];

const item = { id: 'uuid', case_id: 'uuid' } as const;

export const FEED_TYPES: Readonly<Record<FeedObjectType, FeedType>> = {
  sharing_group: {
    type: 'sharing_group',
    table: 'sharing_groups',
    columns: {
      id: 'uuid',
      name: 'text',
      owner_party: 'party',
      created_at: 'time',
      created_by: 'text',
      version: 'int',
      retired_at: 'time',
      retired_by: 'text',
    },
    origin: { column: 'owner_party' },
    caseColumn: null,
    labelled: false,
    order: 0,
  },
  case: {
    type: 'case',
    table: 'cases',
    columns: {
      id: 'uuid',
      owner_party: 'party',
      title: 'text',
      description: 'text',
      incident_class: 'text',
      severity: 'text',
      status: 'text',
      tlp: 'tlp',
      pap: 'text',
      exercise: 'bool',
      created_by: 'text',
      created_at: 'time',
      updated_at: 'time',
      version: 'int',
    },
    origin: { column: 'owner_party' },
    caseColumn: 'id',
    labelled: false,
    order: 1,
  },
  case_task: {
    type: 'case_task',
    table: 'case_tasks',
    columns: {
      ...item,
      title: 'text',
      description: 'text',
      status: 'text',
      due_at: 'time',
      done_at: 'time',
      created_by: 'text',
      created_at: 'time',
      updated_at: 'time',
      version: 'int',
    },
    origin: 'case-owner',
    caseColumn: 'case_id',
    labelled: false,
    order: 2,
  },
  case_timeline: {
    type: 'case_timeline',
    table: 'case_timeline',
    columns: { ...item, happened_at: 'time', recorded_at: 'time', text: 'text', recorded_by: 'text' },
    origin: 'case-owner',
    caseColumn: 'case_id',
    labelled: false,
    order: 2,
  },
  case_note: {
    type: 'case_note',
    table: 'case_notes',
    columns: {
      ...item,
      body: 'text',
      tlp: 'tlp',
      origin_party: 'party',
      created_by: 'text',
      created_at: 'time',
    },
    origin: { column: 'origin_party' },
    caseColumn: 'case_id',
    labelled: true,
    order: 2,
  },
  observable: {
    type: 'observable',
    table: 'observables',
    columns: {
      ...item,
      type: 'text',
      category: 'text',
      value: 'text',
      tlp: 'tlp',
      to_ids: 'bool',
      comment: 'text',
      first_seen: 'time',
      last_seen: 'time',
      sightings: 'int',
      origin_party: 'party',
      created_by: 'text',
      created_at: 'time',
      updated_at: 'time',
      version: 'int',
    },
    origin: { column: 'origin_party' },
    caseColumn: 'case_id',
    labelled: true,
    order: 2,
  },
  intel_object: {
    type: 'intel_object',
    table: 'case_intel_objects',
    columns: {
      ...item,
      stix_id: 'text',
      stix_type: 'text',
      name: 'text',
      stix_modified: 'time',
      source_ref: 'text',
      target_ref: 'text',
      relationship_type: 'text',
      object: 'text',
      tlp: 'tlp',
      origin_party: 'party',
      created_by: 'text',
      created_at: 'time',
      updated_at: 'time',
    },
    origin: { column: 'origin_party' },
    caseColumn: 'case_id',
    labelled: true,
    order: 2,
  },
  misp_event: {
    type: 'misp_event',
    table: 'misp_events',
    columns: {
      ...item,
      uuid: 'text',
      info: 'text',
      event: 'text',
      timestamp: 'int',
      tlp: 'tlp',
      origin_party: 'party',
      created_by: 'text',
      created_at: 'time',
      updated_at: 'time',
    },
    origin: { column: 'origin_party' },
    caseColumn: 'case_id',
    labelled: true,
    order: 2,
  },
  misp_event_part: {
    type: 'misp_event_part',
    table: 'misp_event_parts',
    columns: {
      ...item,
      event_id: 'uuid',
      position: 'int',
      elements: 'text',
      attributes: 'int',
      objects: 'int',
      tlp: 'tlp',
      origin_party: 'party',
      created_at: 'time',
      updated_at: 'time',
    },
    origin: { column: 'origin_party' },
    caseColumn: 'case_id',
    labelled: true,
    order: 3,
  },
};

export const isFeedObjectType = (value: unknown): value is FeedObjectType =>
  typeof value === 'string' && (FEED_OBJECT_TYPES as readonly string[]).includes(value);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const TLPS = new Set(['clear', 'green', 'amber', 'amber+strict', 'red']);
/** The largest text a version may carry in one column (MISP parts hold a few hundred elements). */
export const MAX_TEXT_CHARS = 8 * 1024 * 1024;

export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

/**
 * Why a version's data cannot be stored (null: it can), checked before any transaction opens: every
 * column the type names present with a value of its kind, and no other. What PostgreSQL would
 * refuse mid-transaction (a bad time, a NUL, a stray label) is refused here, with its column named.
 */
export function dataProblem(spec: FeedType, data: unknown): string | null {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return 'data is not an object';
  const record = data as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (
      !(key in spec.columns) &&
      !(spec.type === 'case' && key === 'shares') &&
      !(spec.type === 'sharing_group' && key === 'members')
    )
      return `unknown field ${JSON.stringify(key.slice(0, 40))}`;
  }
  for (const [column, kind] of Object.entries(spec.columns)) {
    const value = record[column];
    if (value === undefined) return `${column} is missing`;
    const problem = valueProblem(kind, value);
    if (problem) return `${column} ${problem}`;
  }
  return null;
}

function valueProblem(kind: ColumnKind, value: unknown): string | null {
  if (value === null)
    return kind === 'uuid' || kind === 'tlp' || kind === 'party' ? 'must not be null' : null;
  switch (kind) {
    case 'uuid':
      return isUuid(value) ? null : 'is not a UUID';
    case 'tlp':
      return typeof value === 'string' && TLPS.has(value) ? null : 'is not a TLP label';
    case 'party':
      return typeof value === 'string' && /^[A-Z]{2,8}$/.test(value) ? null : 'is not a party code';
    case 'bool':
      return typeof value === 'boolean' ? null : 'is not true or false';
    case 'int':
      return Number.isSafeInteger(value) ? null : 'is not an integer';
    case 'time':
      return typeof value === 'string' && ISO_TIME.test(value) && Number.isFinite(Date.parse(value))
        ? null
        : 'is not an ISO 8601 time';
    case 'text':
      if (typeof value !== 'string') return 'is not text';
      if (value.length > MAX_TEXT_CHARS) return 'is too long';
      return value.isWellFormed() && !value.includes('\u0000') ? null : 'holds text PostgreSQL cannot store';
  }
}
