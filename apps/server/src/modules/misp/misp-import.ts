import { Buffer, isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { Tlp } from '@vytis/contracts';
import type { CaseViewer } from '../../access/policy.ts';
import { AppError } from '../../errors.ts';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../http/json-body.ts';
import { findUnstorable } from '../../http/storable-text.ts';
import type { Tx } from '../../platform/db/transaction.ts';
import { MAX_VALUE_BYTES, normaliseObservable, OBSERVABLE_TYPES } from '../indicators/observable-types.ts';
import {
  type CompanionFixed,
  giveWay,
  type ImportCompanion,
  type ImportFile,
  ImportRowsBuilder,
} from '../indicators/observables.service.ts';
import { type ItemLabel, relabelItemEvents } from '../notifications/notifications.repository.ts';
import * as repo from './misp.repository.ts';
import {
  attributeJson,
  eventProblems,
  type MispAttribute,
  type MispEvent,
  type MispObject,
  objectJson,
  parseMispEvents,
  tlpOfAttribute,
  tlpOfEvent,
  tlpOfObject,
  toMispEventJson,
} from './misp-event.ts';

/** The whole body is not MISP event JSON Vytis reads: one 400 naming why. */
export class MispFileError extends Error {}

/**
 * Free-text types: a long value (a report pasted into a `text` attribute) is kept as the event's,
 * but is not an observable — nobody looks up or correlates a page of prose.
 */
const FREE_TEXT_TYPES = new Set([
  'text',
  'comment',
  'other',
  'anonymised',
  'pattern-in-file',
  'pattern-in-traffic',
  'pattern-in-memory',
  'yara',
  'sigma',
  'snort',
  'bro',
  'zeek',
  'stix2-pattern',
]);

/** Elements read between two turns of the event loop. */
const ELEMENTS_PER_TURN = 500;

const KNOWN_TYPES = new Set(OBSERVABLE_TYPES);

export interface MispCounts {
  events: { read: number; added: number; updated: number; unchanged: number };
  elements: { added: number; updated: number; unchanged: number };
}

/** One event, or one of its attributes or objects, ready to write. */
type Draft =
  | { kind: 'event'; uuid: string; info: string; text: string; timestamp: number | null; tlp: Tlp }
  | {
      kind: 'attribute' | 'object';
      /** Index of its event's draft. */
      event: number;
      uuid: string;
      objectUuid: string | null;
      position: number;
      text: string;
      obsType: string | null;
      obsValue: string | null;
      timestamp: number | null;
      tlp: Tlp;
    };

export interface MispReadOptions {
  partial: boolean;
  intoExercise: boolean;
  /** The label of what names none (no `tlp:` tag, no distribution). */
  unlabelled: Tlp;
  viewer: CaseViewer;
  /** The node's time, Unix seconds. */
  now: number;
  counts: MispCounts;
  onProgress?: ((progress: { bytes: number; lines: number }) => void) | undefined;
  othersWaiting?: (() => boolean) | undefined;
}

/**
 * The largest MISP file read: it is parsed whole, which takes about fourteen times its size in
 * memory (an event of 100,000 attributes is some 35 MiB).
 */
export const MISP_MAX_BYTES = 64 * 1024 * 1024;
/** How far ahead of the node's clock an event's timestamp may be (clocks differ; the year 9999 does not). */
const FUTURE_SLACK_SECONDS = 24 * 60 * 60;
// A NUL or a lone surrogate can only come as a \u escape (the bytes are valid UTF-8): when the text
// has none, nothing in it needs the walk that names where.
const MAYBE_UNSTORABLE = /\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

async function readAll(input: Readable): Promise<Buffer> {
  // A file on disk (the import's spool, or the CLI's file) is read in one go, not chunk by chunk.
  if (input instanceof fs.ReadStream && typeof input.path === 'string') {
    const size = (await fs.promises.stat(input.path)).size;
    if (size > MISP_MAX_BYTES) throw tooLarge();
    input.destroy();
    return fs.promises.readFile(input.path);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    size += (chunk as Buffer).length;
    if (size > MISP_MAX_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const tooLarge = () =>
  new AppError(
    'payload_too_large',
    `a MISP file is read whole, so at most ${MISP_MAX_BYTES / 1024 / 1024} MiB: split the events into several files`,
  );

/**
 * Reads MISP event JSON (already received in full, bounded) into an import: attributes Vytis can
 * use become observables (normalised), and every event, attribute and object is kept as received
 * for the export (`misp_events`, `misp_elements`, written by the companion in the import's parts).
 * Problems are named by their path in the file (`Event.Attribute[3].type`); without `partial` any
 * problem writes nothing, with it the refused attribute or object is left out.
 */
export async function readMispFile(input: Readable, options: MispReadOptions): Promise<ImportFile> {
  const bytes = await readAll(input);
  if (!isUtf8(bytes)) throw new MispFileError('it is not UTF-8 text');
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new MispFileError(`it nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MispFileError(`it is not JSON (${(error as Error).message})`);
  }
  const unstorable = MAYBE_UNSTORABLE.test(text) ? findUnstorable(json, '') : null;
  text = '';
  if (unstorable !== null) {
    throw new MispFileError(
      `${unstorable || 'the document'} holds a NUL character or an unpaired surrogate, which cannot be stored`,
    );
  }
  const parsed = parseMispEvents(json);
  json = undefined;
  if ('error' in parsed) throw new MispFileError(parsed.error);
  const { events } = parsed;
  options.counts.events.read = events.length;

  const rows = new ImportRowsBuilder(options.partial);
  const drafts: Draft[] = [];
  let line = 0;
  let sinceTurn = 0;
  for (const [eventIndex, event] of events.entries()) {
    const prefix = events.length > 1 ? `[${eventIndex}]` : '';
    const refused = refusedElements(event, prefix);
    const eventProblem = refused.get('event');
    if (eventProblem) {
      rows.refuse(++line, eventProblem, `${prefix}Event`);
      continue;
    }
    if (event.timestamp !== undefined && event.timestamp > options.now + FUTURE_SLACK_SECONDS) {
      rows.refuse(
        ++line,
        `${prefix}Event.timestamp: ${event.timestamp} is in the future (the node's clock says ${options.now}); a timestamp decides which version is later, so it must be true`,
        `${prefix}Event`,
      );
      continue;
    }
    if (exerciseEvent(event) && !options.intoExercise) {
      rows.refuse(
        ++line,
        'comes from an exercise (tag vytis:exercise): import it into an exercise case only',
        `${prefix}Event`,
      );
      continue;
    }
    const eventTlp = tlpOfEvent(event, options.unlabelled);
    const eventDraft = drafts.length;
    drafts.push({
      kind: 'event',
      uuid: event.uuid,
      info: event.info,
      text: JSON.stringify(eventHeaderJson(event)),
      timestamp: event.timestamp ?? null,
      tlp: eventTlp,
    });
    let position = 0;
    const addAttribute = (
      attribute: MispAttribute,
      path: string,
      objectUuid: string | null,
      underTlp: Tlp,
    ) => {
      line++;
      const problem = refused.get(path);
      if (problem) {
        rows.refuse(line, problem, path);
        return;
      }
      const tlp = tlpOfAttribute(attribute, underTlp);
      let obsType: string | null = null;
      let obsValue: string | null = null;
      if (attribute.deleted) {
        // Not an observable, but its value is the event's: the export must not offer it again as the case's own.
        const normalised = normaliseObservable(attribute.type, attribute.value);
        if (normalised.ok) {
          obsType = normalised.observable.type;
          obsValue = normalised.observable.value;
        }
      } else if (!tooLongFreeText(attribute)) {
        const normalised = normaliseObservable(attribute.type, attribute.value);
        const refusedBefore = rows.refused;
        rows.add(
          line,
          {
            type: attribute.type,
            value: attribute.value,
            comment: attribute.comment?.slice(0, 2000),
            tlp,
            toIds: attribute.toIds,
          },
          path,
          normalised,
        );
        if (!normalised.ok || rows.refused > refusedBefore) return;
        obsType = normalised.observable.type;
        obsValue = normalised.observable.value;
      }
      drafts.push({
        kind: 'attribute',
        event: eventDraft,
        uuid: attribute.uuid,
        objectUuid,
        position: position++,
        text: JSON.stringify(attributeJson(attribute)),
        obsType,
        obsValue,
        timestamp: attribute.timestamp ?? null,
        tlp,
      });
    };
    for (const [i, attribute] of event.attributes.entries()) {
      addAttribute(attribute, `${prefix}Event.Attribute[${i}]`, null, eventTlp);
      if (++sinceTurn === ELEMENTS_PER_TURN) {
        sinceTurn = 0;
        await giveWay(options.othersWaiting);
      }
    }
    for (const [i, object] of event.objects.entries()) {
      const path = `${prefix}Event.Object[${i}]`;
      line++;
      const problem = refused.get(path);
      if (problem) {
        rows.refuse(line, problem, path);
        continue;
      }
      const objectTlp = tlpOfObject(object, eventTlp);
      drafts.push({
        kind: 'object',
        event: eventDraft,
        uuid: object.uuid,
        objectUuid: null,
        position: position++,
        text: JSON.stringify(objectJson({ ...object, attributes: [] })),
        obsType: null,
        obsValue: null,
        timestamp: object.timestamp ?? null,
        tlp: objectTlp,
      });
      for (const [j, attribute] of object.attributes.entries()) {
        addAttribute(attribute, `${path}.Attribute[${j}]`, object.uuid, objectTlp);
      }
      if (++sinceTurn >= ELEMENTS_PER_TURN) {
        sinceTurn = 0;
        await giveWay(options.othersWaiting);
      }
    }
  }
  options.onProgress?.({ bytes: bytes.length, lines: line });
  const companion = rows.failing ? undefined : elementsCompanion(drafts, options);
  return rows.file({ lines: line, bytes: bytes.length, unit: 'object', ...(companion ? { companion } : {}) });
}

const tooLongFreeText = (attribute: MispAttribute) =>
  FREE_TEXT_TYPES.has(attribute.type) && Buffer.byteLength(attribute.value) > MAX_VALUE_BYTES;

const exerciseEvent = (event: MispEvent) =>
  event.tags.some((tag) => tag.name.trim().toLowerCase() === 'vytis:exercise');

/**
 * The event's problems, by what they refuse: `event` (the event itself: its uuid, its info), or
 * the attribute or object at a path (an object's reference or attribute refuses the object: an
 * object is kept whole or not at all). The message names the path of the problem itself.
 */
function refusedElements(event: MispEvent, prefix: string): Map<string, string> {
  const refused = new Map<string, string>();
  for (const problem of eventProblems(event, (type) => KNOWN_TYPES.has(type))) {
    const match = /^Event\.(?:Attribute\[\d+\]|Object\[\d+\])/.exec(problem.path);
    const key = match ? `${prefix}${match[0]}` : 'event';
    if (!refused.has(key)) refused.set(key, `${prefix}${problem.path}: ${problem.message}`);
    // An object's attribute refuses that attribute (named) and with it its object.
    const inObject = /^Event\.Object\[\d+\]\.Attribute\[\d+\]/.exec(problem.path);
    if (inObject && !refused.has(`${prefix}${inObject[0]}`)) {
      refused.set(`${prefix}${inObject[0]}`, `${prefix}${problem.path}: ${problem.message}`);
    }
  }
  return refused;
}

/** The event's own fields in MISP's shape, without its attributes and objects (kept as elements). */
export function eventHeaderJson(event: MispEvent): Record<string, unknown> {
  const { Event } = toMispEventJson({ ...event, attributes: [], objects: [] });
  const { Attribute: _attributes, Object: _objects, ...header } = Event as Record<string, unknown>;
  return header;
}

/** Elements in one stored part, and its text at most (a part is one row: a few hundred elements). */
const PART_ELEMENTS = 500;
const PART_CHARS = 1 << 20;

type ElementDraft = Extract<Draft, { kind: 'attribute' | 'object' }>;

/** An element's stored record (see StoredElement), its JSON text given as received. */
function recordText(draft: ElementDraft): string {
  const meta: Omit<repo.StoredElement, 'e'> = {
    k: draft.kind === 'object' ? 'o' : 'a',
    u: draft.uuid,
    p: draft.position,
    ...(draft.objectUuid ? { o: draft.objectUuid } : {}),
    ...(draft.timestamp !== null ? { ts: draft.timestamp } : {}),
    ...(draft.obsType !== null ? { t: draft.obsType, v: draft.obsValue! } : {}),
  };
  return `${JSON.stringify(meta).slice(0, -1)},"e":${draft.text}}`;
}

/**
 * Gathers elements into parts: consecutive elements of one event copy and one label, a part ending
 * at PART_ELEMENTS or PART_CHARS.
 */
class PartsBuilder {
  readonly done: repo.PartDraft[] = [];
  private open: {
    eventId: string;
    tlp: Tlp;
    createdById: string | null | undefined;
    texts: string[];
    chars: number;
    position: number;
    attributes: number;
    objects: number;
  } | null = null;

  /** `createdById` undefined: the importer's. */
  add(
    eventId: string,
    tlp: Tlp,
    position: number,
    kind: 'a' | 'o',
    text: string,
    createdById?: string | null,
  ) {
    const open = this.open;
    if (
      !open ||
      open.eventId !== eventId ||
      open.tlp !== tlp ||
      open.createdById !== createdById ||
      open.texts.length >= PART_ELEMENTS ||
      open.chars + text.length > PART_CHARS
    ) {
      this.close();
      this.open = { eventId, tlp, createdById, texts: [], chars: 0, position, attributes: 0, objects: 0 };
    }
    const part = this.open!;
    part.texts.push(text);
    part.chars += text.length;
    if (kind === 'a') part.attributes++;
    else part.objects++;
  }

  close() {
    const open = this.open;
    if (!open) return;
    this.done.push({
      eventId: open.eventId,
      position: open.position,
      elements: `[${open.texts.join(',')}]`,
      attributes: open.attributes,
      objects: open.objects,
      tlp: open.tlp,
      ...(open.createdById !== undefined ? { createdById: open.createdById } : {}),
    });
    this.open = null;
  }

  /** The parts closed so far, taken out. */
  drain(): repo.PartDraft[] {
    return this.done.splice(0);
  }
}

/**
 * Writes the drafts in the import's parts. An event the importer's party holds (a copy the
 * importer reads) is unchanged when its `timestamp` is not later. A later one replaces its fields
 * and those of its attributes and objects whose own timestamp moved (or whose text changed) and adds
 * the new ones, in the import's last part, so that a failed import never leaves an event half
 * updated. Nothing is removed: as in MISP, an attribute goes away by being marked deleted.
 */
function elementsCompanion(drafts: Draft[], options: MispReadOptions): ImportCompanion {
  type EventState =
    | { mode: 'new'; rowId: string }
    | { mode: 'unchanged' }
    | { mode: 'update'; rowId: string; draft: number; incoming: ElementDraft[] };
  const states = new Map<number, EventState>();
  const updates: Extract<EventState, { mode: 'update' }>[] = [];
  const { counts } = options;
  return {
    count: drafts.length,
    async write(trx: Tx, from: number, to: number, fixed: CompanionFixed) {
      let written = 0;
      const parts = new PartsBuilder();
      for (let i = from; i < to; i++) {
        const draft = drafts[i]!;
        if (draft.kind === 'event') {
          const held = await repo.heldEventCopy(
            trx,
            options.viewer,
            fixed.caseId,
            fixed.originParty,
            draft.uuid,
          );
          if (!held) {
            states.set(i, { mode: 'new', rowId: await repo.insertEvent(trx, draft, fixed) });
            counts.events.added++;
            written++;
          } else if (
            draft.timestamp === null ||
            (held.timestamp !== null && held.timestamp >= draft.timestamp)
          ) {
            states.set(i, { mode: 'unchanged' });
            counts.events.unchanged++;
          } else {
            const state = { mode: 'update' as const, rowId: held.id, draft: i, incoming: [] };
            states.set(i, state);
            updates.push(state);
            counts.events.updated++;
          }
          continue;
        }
        const state = states.get(draft.event)!;
        if (state.mode === 'unchanged') counts.elements.unchanged++;
        else if (state.mode === 'update') state.incoming.push(draft);
        else {
          parts.add(
            state.rowId,
            draft.tlp,
            draft.position,
            draft.kind === 'object' ? 'o' : 'a',
            recordText(draft),
          );
          counts.elements.added++;
        }
      }
      parts.close();
      written += await repo.insertParts(trx, parts.drain(), fixed);
      return written;
    },
    async finish(trx: Tx, fixed: CompanionFixed) {
      let changed = 0;
      const narrowed: ItemLabel[] = [];
      for (const update of updates) {
        changed += await mergeLaterVersion(
          trx,
          options.viewer,
          update.rowId,
          update.incoming,
          counts,
          fixed,
          narrowed,
        );
        await repo.updateEvent(
          trx,
          update.rowId,
          drafts[update.draft] as Extract<Draft, { kind: 'event' }>,
          fixed,
        );
      }
      // The narrowed observables' past events narrow with them, as a relabel's do: all at once.
      await relabelItemEvents(trx, fixed.caseId, narrowed);
      return changed;
    },
  };
}

const STRICTNESS: Record<Tlp, number> = { clear: 0, green: 1, amber: 2, 'amber+strict': 3, red: 4 };

/**
 * A later version of an event into the copy held, as far as the importer sees it: each element
 * held in a part the importer reads stays (with its creator), replaced by the incoming one of its
 * uuid when that one's timestamp is later, its text differs or its label does; new ones are added;
 * those parts are written again. Parts the importer cannot read (a colleague's RED attributes) are
 * left as they are, and an incoming uuid among them is added as the importer's own, so nothing
 * tells them apart from absent. A label narrowed by the new version narrows the observables those
 * attributes made (the importer's party's), so what was shared more widely is shared no longer;
 * their ids and new labels are added to `narrowedItems`, for their events. How many parts were
 * written.
 */
async function mergeLaterVersion(
  trx: Tx,
  viewer: CaseViewer,
  eventId: string,
  incoming: ElementDraft[],
  counts: MispCounts,
  fixed: CompanionFixed,
  narrowedItems: ItemLabel[],
): Promise<number> {
  interface Held {
    position: number;
    tlp: Tlp;
    kind: 'a' | 'o';
    text: string;
    createdById?: string | null;
    timestamp?: number | undefined;
    element?: string;
  }
  const merged = new Map<string, Held>();
  const parts = await repo.visibleHeldParts(trx, viewer, fixed.caseId, eventId);
  for (const part of parts) {
    for (const stored of JSON.parse(part.elements) as repo.StoredElement[]) {
      merged.set(stored.u, {
        position: stored.p,
        tlp: part.tlp as Tlp,
        kind: stored.k,
        text: JSON.stringify(stored),
        createdById: part.created_by_id,
        timestamp: stored.ts,
        element: JSON.stringify(stored.e),
      });
    }
  }
  const narrowed: { type: string; value: string; tlp: Tlp }[] = [];
  for (const draft of incoming) {
    const held = merged.get(draft.uuid);
    if (held) {
      const later =
        draft.timestamp !== null && (held.timestamp === undefined || draft.timestamp > held.timestamp);
      if (!later && held.element === draft.text && held.tlp === draft.tlp) {
        counts.elements.unchanged++;
        continue;
      }
      counts.elements.updated++;
      if (STRICTNESS[draft.tlp] > STRICTNESS[held.tlp] && draft.obsType !== null) {
        narrowed.push({ type: draft.obsType, value: draft.obsValue!, tlp: draft.tlp });
      }
    } else counts.elements.added++;
    merged.set(draft.uuid, {
      position: draft.position,
      tlp: draft.tlp,
      kind: draft.kind === 'object' ? 'o' : 'a',
      text: recordText(draft),
    });
  }
  const builder = new PartsBuilder();
  for (const element of [...merged.values()].sort((a, b) => a.position - b.position)) {
    builder.add(eventId, element.tlp, element.position, element.kind, element.text, element.createdById);
  }
  builder.close();
  await repo.deletePartsById(
    trx,
    parts.map((part) => part.id),
  );
  for (const { type, value, tlp } of narrowed) {
    const looser = (Object.keys(STRICTNESS) as Tlp[]).filter((label) => STRICTNESS[label] < STRICTNESS[tlp]);
    const ids = await repo.narrowObservable(trx, {
      caseId: fixed.caseId,
      party: fixed.originParty,
      type,
      value,
      tlp,
      looser,
      at: fixed.at,
    });
    for (const itemId of ids) narrowedItems.push({ itemId, tlp });
  }
  return repo.insertParts(trx, builder.drain(), fixed);
}

export type { MispObject };
