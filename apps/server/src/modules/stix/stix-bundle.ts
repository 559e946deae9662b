import crypto from 'node:crypto';
import type { Tlp } from '@vytis/contracts';
import {
  type CaseInput,
  identityId,
  mapCase,
  mapNote,
  mapObservable,
  type NoteInput,
  type ObservableInput,
  type PartyInput,
  partyIdentity,
  type StixObject,
} from './stix-mapping.ts';
import { markedAsKept, markingRefs, papMarkingDefinition, tlpMarkingDefinitions } from './stix-markings.ts';

const STRICTNESS: Record<Tlp, number> = { clear: 0, green: 1, amber: 2, 'amber+strict': 3, red: 4 };

export interface CaseBundleInput {
  theCase: CaseInput;
  /** What the viewer may pass on, in any order, read as the bundle is written. */
  observables: AsyncIterable<ObservableInput>;
  notes: AsyncIterable<NoteInput> | Iterable<NoteInput>;
  /** Intelligence objects kept from imported bundles, as received (JSON text), with their labels. */
  intel?: AsyncIterable<{ text: string; tlp: Tlp; originParty: string }>;
  /** The parties named by `created_by_ref`, looked up once at the end. */
  parties: (codes: string[]) => Promise<PartyInput[]>;
  /** A bundle is a transient wrapper (§8): a new random id each time unless one is given. */
  bundleId?: string;
}

export interface BundleStats {
  objects: number;
  /** Observables whose MISP type STIX has no equivalent for, left out. */
  unmapped: number;
}

/** Text is handed out in pieces of about this size. */
const CHUNK = 64 * 1024;

/**
 * A case as one STIX 2.1 bundle, written as it is read: JSON text in pieces, one observable at a
 * time, so memory holds only ids, the cyber-observables (each once, under the strictest label of
 * the observables that name it), and the current piece. Marking definitions, identities and the
 * grouping come last, once everything they cover is known. `stats` is filled in as it goes.
 */
export async function* caseBundle(input: CaseBundleInput, stats: BundleStats = { objects: 0, unmapped: 0 }) {
  const { theCase } = input;
  const refs: string[] = [];
  const tlps = new Set<Tlp>([theCase.tlp, 'clear']);
  const parties = new Set<string>([theCase.ownerParty]);
  const scos = new Map<string, { object: StixObject; tlp: Tlp }>();
  let modified = theCase.updatedAt;
  let buffer = `{"type":"bundle","id":"bundle--${input.bundleId ?? crypto.randomUUID()}","objects":[`;
  let first = true;

  const write = (object: StixObject) => {
    buffer += (first ? '' : ',') + JSON.stringify(object);
    first = false;
    stats.objects++;
  };
  const track = (object: StixObject) => {
    refs.push(object.id);
    const changed = object.modified as string | undefined;
    if (changed && changed > modified) modified = changed;
  };

  for await (const observable of input.observables) {
    const mapped = mapObservable(observable, theCase);
    if (!mapped) {
      stats.unmapped++;
      continue;
    }
    tlps.add(observable.tlp);
    parties.add(observable.originParty);
    for (const object of mapped.objects) {
      track(object);
      write(object);
    }
    for (const object of mapped.scos) {
      const known = scos.get(object.id);
      if (!known) {
        scos.set(object.id, { object, tlp: observable.tlp });
        continue;
      }
      if (STRICTNESS[observable.tlp] > STRICTNESS[known.tlp]) known.tlp = observable.tlp;
      // The same object named by several observables (a domain, and a domain|ip): what each
      // says about it is kept — e.g. every address the domain resolves to.
      mergeRefs(known.object, object, 'resolves_to_refs');
    }
    if (buffer.length >= CHUNK) {
      yield buffer;
      buffer = '';
    }
  }
  for await (const note of input.notes) {
    const object = mapNote(note, theCase);
    tlps.add(note.tlp);
    parties.add(note.originParty);
    track(object);
    write(object);
    if (buffer.length >= CHUNK) {
      yield buffer;
      buffer = '';
    }
  }
  // Each party keeps its own copy of an object: the same id in the same version is written once.
  const keptVersions = new Set<string>();
  for await (const held of input.intel ?? []) {
    const object = JSON.parse(held.text) as StixObject;
    const version = `${object.id} ${String(object.modified ?? object.created ?? '')}`;
    if (keptVersions.has(version)) continue;
    keptVersions.add(version);
    tlps.add(held.tlp);
    const marked = markedAsKept(object, held.tlp);
    track(marked);
    write(marked);
    if (buffer.length >= CHUNK) {
      yield buffer;
      buffer = '';
    }
  }
  for (const { object, tlp } of scos.values()) {
    refs.push(object.id);
    write({ ...object, object_marking_refs: markingRefs(tlp, theCase.pap) });
    if (buffer.length >= CHUNK) {
      yield buffer;
      buffer = '';
    }
  }
  const codes = [...parties].sort();
  const found = new Map((await input.parties(codes)).map((party) => [party.code, party]));
  for (const code of codes) {
    // Every party a row names exists (foreign keys); a missing one would leave a dangling reference.
    const party = found.get(code) ?? { code, name: code, createdAt: theCase.createdAt };
    refs.push(identityId(code));
    write(partyIdentity(party));
  }
  write(mapCase(theCase, refs, modified));
  // AMBER and AMBER+STRICT share TLP 1.0's AMBER: each definition once.
  const definitions = new Map<string, StixObject>();
  for (const tlp of [...tlps].sort((a, b) => STRICTNESS[a] - STRICTNESS[b])) {
    for (const definition of tlpMarkingDefinitions(tlp)) definitions.set(definition.id, definition);
  }
  const pap = papMarkingDefinition(theCase.pap);
  definitions.set(pap.id, pap);
  for (const definition of definitions.values()) write(definition);
  yield `${buffer}]}`;
}

function mergeRefs(into: StixObject, from: StixObject, key: 'resolves_to_refs') {
  const more = from[key] as string[] | undefined;
  if (!more) return;
  const have = (into[key] as string[] | undefined) ?? [];
  into[key] = [...new Set([...have, ...more])];
}
