import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { TLPS, type Tlp } from '@vytis/contracts';
import type { CaseViewer } from '../../access/policy.ts';
import type { Executor } from '../../platform/db/transaction.ts';
import {
  type CompanionFixed,
  giveWay,
  type ImportCompanion,
  type ImportFile,
  ImportRowsBuilder,
} from '../indicators/observables.service.ts';
import * as intel from './intel.repository.ts';
import { BundleError, DEFAULT_BUNDLE_LIMITS, readBundleObjects } from './stix-bundle-reader.ts';
import {
  type MarkingMeaning,
  markingMeaning,
  objectProblem,
  planObject,
  SCO_TYPES,
  wellKnownMarking,
} from './stix-import-mapping.ts';
import { VYTIS_CASE_SOURCE } from './stix-mapping.ts';
import { OWN_MARKING_IDS } from './stix-markings.ts';

/** Objects read between two turns of the event loop: parsing is CPU work on the thread that answers everyone. */
const OBJECTS_PER_TURN = 200;
const MAX_COMMENT = 2000;
/** The references that must lead somewhere: a relationship's and a sighting's ends. */
const ENDS = ['source_ref', 'target_ref', 'sighting_of_ref'] as const;

export interface IntelCounts {
  /** New objects kept. */
  added: number;
  /** Copies replaced by a later version (`modified`). */
  updated: number;
  /** Already held in that version. */
  unchanged: number;
  /** Older than the copy held: ignored. */
  older: number;
}

export interface BundleReadOptions {
  partial: boolean;
  /** The case's label, for objects without a marking of their own. */
  intoExercise: boolean;
  /** Where an object may point into the case: its intelligence objects the importer sees. */
  db: Executor;
  /** The ids of the parties' identities Vytis writes (`identityId`). */
  partyIdentityIds: ReadonlySet<string>;
  viewer: CaseViewer;
  caseId: string;
  onProgress?: ((progress: { bytes: number; lines: number }) => void) | undefined;
  othersWaiting?: (() => boolean) | undefined;
}

const STRICTNESS: Record<Tlp, number> = { clear: 0, green: 1, amber: 2, 'amber+strict': 3, red: 4 };
const stricter = (a: Tlp | null, b: Tlp) => (a === null || STRICTNESS[b] > STRICTNESS[a] ? b : a);

/**
 * A STIX 2.1 bundle, read and checked with no transaction open, into what an import writes: its
 * observables (indicators with simple patterns, cyber-observables, observed data) and, as the
 * import's companion, its other objects kept as the case's intelligence objects. Two passes over the
 * received file: the first learns the bundle's marking definitions, cyber-observables and ids
 * (memory: ids, and the cyber-observables that observed-data may name); the second plans each
 * object. A bundle that is not one (bad JSON, STIX 2.0, too deep…) is an error for the whole;
 * a bad object is refused by its id and reason, and without `partial` nothing is written.
 */
export async function readStixBundle(
  input: Readable,
  options: BundleReadOptions,
): Promise<ImportFile & { intel: IntelCounts }> {
  const path = (input as fs.ReadStream).path;
  if (typeof path !== 'string') throw new Error('a bundle is read from a file');
  input.destroy();

  // Pass 1: markings, cyber-observables, ids.
  const markings = new Map<string, MarkingMeaning>();
  const scos = new Map<string, Record<string, unknown>>();
  const ids = new Set<string>();
  const becomeObservables = new Set<string>();
  const links: { id: string; type: unknown; from: unknown; to: unknown }[] = [];
  let objects = 0;
  for await (const { object } of objectsOf(path)) {
    objects++;
    if (typeof object.id !== 'string') continue;
    const objectId = idOf(object.id);
    ids.add(objectId);
    if (object.type === 'marking-definition') markings.set(objectId, markingMeaning(object));
    else if (SCO_TYPES.has(object.type)) scos.set(objectId, object);
    if (object.type === 'indicator' || SCO_TYPES.has(object.type)) {
      if (planObject(object, () => undefined).kind === 'observables') becomeObservables.add(objectId);
    } else if (object.type === 'relationship' || object.type === 'sighting') {
      const [from, to] = [idOf(object.source_ref ?? object.sighting_of_ref), idOf(object.target_ref)];
      links.push({ id: objectId, type: object.relationship_type, from, to });
    }
    if (objects % OBJECTS_PER_TURN === 0) await giveWay(options.othersWaiting);
  }

  // An indicator's `based-on` link to its own cyber-observable says nothing an observable does not
  // (every export writes it again). Any other link to an object that becomes an observable keeps
  // that object as well, so the link still leads somewhere when the case is exported.
  const derivable = new Set<string>();
  const linkedTo = new Set<string>();
  for (const link of links) {
    const ends = [link.from, link.to].filter((end): end is string => typeof end === 'string');
    if (link.type === 'based-on' && ends.length === 2 && ends.every((end) => becomeObservables.has(end))) {
      derivable.add(link.id);
    } else {
      for (const end of ends) linkedTo.add(end);
    }
  }

  // The objects' texts wait in a file, not in memory: a bundle of any size holds its ids and a few
  // fields per object here, and each part of the write reads the texts it stores.
  const texts = new TextSpool();
  try {
    // Pass 2: each object planned; in-file versions of one id: the latest is kept.
    const rows = new ImportRowsBuilder(options.partial);
    const kept = new Map<string, HeldDraft>();
    const pointingOut: { index: number; id: string; refs: string[] }[] = [];
    let bytes = 0;
    let index = -1;
    for await (const { index: at, object, text } of objectsOf(path, (n) => {
      bytes += n;
    })) {
      index = at;
      if (at % OBJECTS_PER_TURN === 0) {
        options.onProgress?.({ bytes, lines: at });
        await giveWay(options.othersWaiting);
      }
      const id = typeof object.id === 'string' ? object.id : undefined;
      const problem = objectProblem(object);
      if (problem) {
        rows.refuse(at, problem, id);
        continue;
      }
      const stixId = idOf(id!);
      const label = labelOf(object, markings);
      if ('refused' in label) {
        rows.refuse(at, label.refused, stixId);
        continue;
      }
      if (!options.intoExercise && Array.isArray(object.labels) && object.labels.includes('exercise')) {
        rows.refuse(
          at,
          'comes from an exercise (label exercise): import it into an exercise case only',
          stixId,
        );
        continue;
      }
      const plan = planObject(object, (ref) => scos.get(idOf(ref)));
      if (plan.kind === 'refused') {
        rows.refuse(at, plan.reason, stixId);
        continue;
      }
      if (plan.kind === 'skip' || derivable.has(stixId) || isVytisCase(object)) continue;
      // What Vytis writes in every export (its parties' identities, its TLP and PAP markings) is its
      // own: a bundle may name them but never replaces them.
      if (OWN_MARKING_IDS.has(stixId) || (object.type === 'identity' && options.partyIdentityIds.has(stixId)))
        continue;
      // A TLP marking definition is Vytis's own vocabulary (every export writes them again); any
      // other marking definition is kept, so objects that name it export with it.
      if (plan.kind === 'marking' && markings.get(stixId)?.kind === 'tlp') continue;
      if (plan.kind === 'marking' && markings.get(stixId)?.kind === 'classified') continue;
      if (plan.kind === 'observables') {
        const comment = commentOf(object);
        for (const draft of plan.observables) {
          rows.add(
            at,
            {
              type: draft.type,
              value: draft.value,
              comment: draft.comment ?? comment,
              ...(label.tlp ? { tlp: label.tlp } : {}),
            },
            stixId,
          );
        }
        if (!plan.keepAsIntel && !linkedTo.has(stixId)) continue;
      }
      const ends = ENDS.map((key) => object[key])
        .filter((ref): ref is string => typeof ref === 'string')
        .map((ref) => idOf(ref));
      if (ends.includes(stixId)) {
        rows.refuse(at, 'refers to itself', stixId);
        continue;
      }
      const outside = ends.filter((ref) => !ids.has(ref));
      if (outside.length > 0) pointingOut.push({ index: at, id: stixId, refs: outside });
      const draft = {
        index: at,
        stixId,
        type: object.type,
        name: typeof object.name === 'string' ? object.name.slice(0, 1000) : null,
        modified: timeOf(object.modified ?? object.created),
        sourceRef:
          typeof object.source_ref === 'string'
            ? idOf(object.source_ref)
            : typeof object.sighting_of_ref === 'string'
              ? idOf(object.sighting_of_ref)
              : null,
        targetRef: typeof object.target_ref === 'string' ? idOf(object.target_ref) : null,
        relationshipType:
          typeof object.relationship_type === 'string' ? object.relationship_type.slice(0, 250) : null,
        text: texts.put(text),
        tlp: label.tlp,
      };
      const earlier = kept.get(stixId);
      if (!earlier || (draft.modified?.getTime() ?? 0) > (earlier.modified?.getTime() ?? 0))
        kept.set(stixId, draft);
    }
    objects = index + 1;

    // Ends that are not in the bundle must be in the case already, as far as the importer sees.
    if (pointingOut.length > 0) {
      const wanted = [...new Set(pointingOut.flatMap((p) => p.refs))];
      const known = new Set<string>();
      for (let i = 0; i < wanted.length; i += 1000) {
        for (const id of await intel.visibleStixIds(
          options.db,
          options.viewer,
          options.caseId,
          wanted.slice(i, i + 1000),
        ))
          known.add(id);
      }
      for (const { index: at, id, refs } of pointingOut) {
        const dangling = refs.filter((ref) => !known.has(ref));
        if (dangling.length === 0) continue;
        rows.refuse(
          at,
          `refers to ${dangling.join(', ')}, which is neither in the bundle nor in the case`,
          id,
        );
        kept.delete(id);
      }
    }
    options.onProgress?.({ bytes, lines: objects });
    const drafts = [...kept.values()].sort((a, b) => a.index - b.index);
    const counts: IntelCounts = { added: 0, updated: 0, unchanged: 0, older: 0 };
    const companion = intelCompanion(drafts, texts, options.viewer, counts);
    return Object.assign(
      rows.file({ lines: objects, bytes, unit: 'object', companion, cleanup: () => texts.remove() }),
      { intel: counts },
    );
  } catch (error) {
    texts.remove();
    throw error;
  }
}

/**
 * The objects of the received file: a bundle's, or a lone STIX object as a bundle of one (the OASIS
 * examples hold one such file). Either way through the streaming reader and its limits.
 */
async function* objectsOf(path: string, onBytes?: (n: number) => void) {
  const source = fs.createReadStream(path);
  if (onBytes) source.on('data', (chunk) => onBytes(chunk.length));
  if (isLoneObject(path)) {
    yield* readBundleObjects(
      (async function* () {
        yield `{"type":"bundle","id":"bundle--${crypto.randomUUID()}","objects":[`;
        yield* source;
        yield ']}';
      })(),
    );
  } else {
    yield* readBundleObjects(source);
  }
}

/** Whether the file is one STIX object that is not a bundle (small files only: one object's size). */
function isLoneObject(path: string): boolean {
  if (fs.statSync(path).size > DEFAULT_BUNDLE_LIMITS.maxObjectBytes) return false;
  try {
    const top = JSON.parse(fs.readFileSync(path, 'utf8')) as unknown;
    return (
      typeof top === 'object' &&
      top !== null &&
      !Array.isArray(top) &&
      typeof (top as { type?: unknown }).type === 'string' &&
      (top as { type: string }).type !== 'bundle' &&
      typeof (top as { id?: unknown }).id === 'string'
    );
  } catch {
    // Not JSON: the streaming reader says where.
    return false;
  }
}

/**
 * Writes the bundle's intelligence objects with the import: new ids in its parts; later versions of
 * copies the importer's party holds replace them in its last part only, so a failed import (whose
 * added rows are deleted again) never leaves a copy replaced.
 */
function intelCompanion(
  drafts: HeldDraft[],
  texts: TextSpool,
  viewer: CaseViewer,
  counts: IntelCounts,
): ImportCompanion {
  const replacements: { rowId: string; draft: HeldDraft }[] = [];
  const withText = (draft: HeldDraft): intel.IntelDraft => ({ ...draft, text: texts.get(draft.text) });
  return {
    count: drafts.length,
    async write(trx, from, to, fixed: CompanionFixed) {
      const part = drafts.slice(from, to);
      const held = await intel.partyCopies(
        trx,
        viewer,
        fixed.caseId,
        fixed.originParty,
        part.map((d) => d.stixId),
      );
      const fresh: intel.IntelDraft[] = [];
      for (const draft of part) {
        // The copy of the importer's party that the importer sees; one they cannot see (a
        // colleague's RED one) is not theirs to replace or to learn of: they get a copy of their own.
        const copy = held.get(draft.stixId);
        if (!copy) {
          fresh.push(withText(draft));
        } else {
          const held = copy.modified?.getTime() ?? 0;
          const came = draft.modified?.getTime() ?? 0;
          if (came > held) replacements.push({ rowId: copy.id, draft });
          else if (came === held) counts.unchanged++;
          else counts.older++;
        }
      }
      const added = await intel.insertIntel(trx, fresh, fixed);
      counts.added += added;
      return added;
    },
    async finish(trx, fixed) {
      for (const { rowId, draft } of replacements)
        await intel.replaceIntel(trx, rowId, withText(draft), fixed);
      counts.updated += replacements.length;
      return replacements.length;
    },
  };
}

/** An intelligence object waiting to be written: its text is in the import's TextSpool. */
type HeldDraft = Omit<intel.IntelDraft, 'text'> & { index: number; text: { at: number; length: number } };

/** Texts written once to a private temporary file and read back by position. */
class TextSpool {
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-stix-'));
  private readonly fd = fs.openSync(path.join(this.dir, 'objects'), 'w+', 0o600);
  private end = 0;

  put(text: string) {
    const bytes = Buffer.from(text, 'utf8');
    fs.writeSync(this.fd, bytes, 0, bytes.length, this.end);
    const at = this.end;
    this.end += bytes.length;
    return { at, length: bytes.length };
  }

  get({ at, length }: { at: number; length: number }): string {
    const bytes = Buffer.alloc(length);
    fs.readSync(this.fd, bytes, 0, length, at);
    return bytes.toString('utf8');
  }

  remove() {
    fs.closeSync(this.fd);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * An id as Vytis matches it: its UUID is hexadecimal, which the specification writes in lower case
 * and some producers in upper; the object itself keeps the id as it came.
 */
function idOf(id: string): string;
function idOf(id: unknown): unknown;
function idOf(id: unknown): unknown {
  return typeof id === 'string' ? id.toLowerCase() : id;
}

/** A Vytis case's own grouping: the case it is imported into stands for it. */
function isVytisCase(object: Record<string, unknown>): boolean {
  return (
    object.type === 'grouping' &&
    Array.isArray(object.external_references) &&
    object.external_references.some(
      (ref) => (ref as { source_name?: unknown } | null)?.source_name === VYTIS_CASE_SOURCE,
    )
  );
}

/** The object's own TLP (the strictest of its markings), or a refusal of classified data. */
function labelOf(
  object: Record<string, unknown>,
  markings: Map<string, MarkingMeaning>,
): { tlp: Tlp | null } | { refused: string } {
  const refs = Array.isArray(object.object_marking_refs) ? object.object_marking_refs : [];
  const granular = Array.isArray(object.granular_markings)
    ? object.granular_markings.map((g) => (g as { marking_ref?: unknown })?.marking_ref)
    : [];
  let tlp: Tlp | null = null;
  for (const ref of [...refs, ...granular]) {
    if (typeof ref !== 'string') continue;
    const meaning = markings.get(idOf(ref)) ?? wellKnownMarking(idOf(ref));
    if (!meaning) continue;
    if (meaning.kind === 'classified') {
      return {
        refused: `is marked ${meaning.name} (${ref}): classified information is not held in Vytis; share it through your accredited channels`,
      };
    }
    if (meaning.kind === 'tlp' && (TLPS as readonly string[]).includes(meaning.tlp))
      tlp = stricter(tlp, meaning.tlp);
  }
  return { tlp };
}

function commentOf(object: Record<string, unknown>): string | undefined {
  const text = [object.name, object.description].filter((t): t is string => typeof t === 'string').join(': ');
  if (!text) return undefined;
  const clean = text.replaceAll('\u0000', '');
  return clean.length > MAX_COMMENT ? `${clean.slice(0, MAX_COMMENT - 1)}…` : clean;
}

function timeOf(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at;
}

export { BundleError };
