import fs from 'node:fs';
import path from 'node:path';
import { TLPS, type Tlp } from '@vytis/contracts';
import type { ErrorObject } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import { expressionOf } from './stix-mapping.ts';
import { papMarkingId, TLP2_EXTENSION_ID, tlp1MarkingId, tlp2MarkingId } from './stix-markings.ts';
import { type Comparison, type Literal, type Observation, parsePattern } from './stix-pattern.ts';

/**
 * STIX 2.1 objects → what they become in a case: pure functions, no database and no HTTP. The
 * exact inverse of stix-mapping.ts for every MISP type it maps (an indicator Vytis wrote carries
 * `misp:type="…"` in its labels and the stored value as its name, so it comes back as the same
 * observable), and a reading of other producers' indicators and cyber-observables that keeps to
 * what is unambiguous: a pattern that says more than "this value" (MATCHES, !=, FOLLOWEDBY, a
 * property with no MISP type) is kept as intelligence exactly as received, never half-read.
 */

// ---------------------------------------------------------------------------------------------
// Markings

export type MarkingMeaning =
  | { kind: 'tlp'; tlp: Tlp }
  | { kind: 'classified'; name: string }
  | { kind: 'other' };

const WELL_KNOWN = new Map<string, MarkingMeaning>();
for (const tlp of TLPS) WELL_KNOWN.set(tlp2MarkingId(tlp), { kind: 'tlp', tlp });
// TLP 1.0 has one AMBER for AMBER and AMBER+STRICT: it means AMBER (TLPS lists amber first).
for (const tlp of TLPS)
  if (!WELL_KNOWN.has(tlp1MarkingId(tlp))) WELL_KNOWN.set(tlp1MarkingId(tlp), { kind: 'tlp', tlp });
for (const pap of ['clear', 'green', 'amber', 'red'] as const)
  WELL_KNOWN.set(papMarkingId(pap), { kind: 'other' });

/** The well-known marking ids (TLP 1.0 and 2.0, and Vytis's own PAP statements) without needing the definition object in the bundle. */
export function wellKnownMarking(id: string): MarkingMeaning | undefined {
  return WELL_KNOWN.get(id);
}

/** A TLP level as producers write it: "amber", "TLP:AMBER", "white" (1.0's name for clear). */
function tlpLevel(text: unknown): Tlp | undefined {
  if (typeof text !== 'string') return undefined;
  const level = text
    .trim()
    .toLowerCase()
    .replace(/^tlp:\s*/, '');
  const tlp = level === 'white' ? 'clear' : level;
  return (TLPS as readonly string[]).includes(tlp) ? (tlp as Tlp) : undefined;
}

/**
 * Classification markings, as whole words, case-insensitive, anywhere in a marking's name or
 * statement. Only qualified forms are listed here — an EU, NATO or national marking names its
 * system — so that prose such as "keep this secret" is not taken for one. The bare levels
 * (TOP SECRET, SECRET, CONFIDENTIAL, RESTRICTED, CLASSIFIED) count only where the text starts with
 * them (`BARE_LEVEL`), as a classification banner does ("SECRET//REL TO …").
 */
const CLASSIFIED_MARKINGS = [
  // EU classified information (Council Decision 2013/488/EU), in English and French.
  'EU RESTRICTED',
  'RESTREINT UE',
  'EU CONFIDENTIAL',
  'CONFIDENTIEL UE',
  'EU SECRET',
  'SECRET UE',
  'EU TOP SECRET',
  'TRÈS SECRET UE',
  'TRES SECRET UE',
  // NATO (C-M(2002)49).
  'NATO RESTRICTED',
  'NATO CONFIDENTIAL',
  'NATO SECRET',
  'COSMIC TOP SECRET',
  // Germany (VSA).
  'VS-NUR FÜR DEN DIENSTGEBRAUCH',
  'VS-NUR FUER DEN DIENSTGEBRAUCH',
  'VS-NfD',
  'VS-VERTRAULICH',
  'STRENG GEHEIM',
  'GEHEIM',
  // France (IGI 1300).
  'DIFFUSION RESTREINTE',
  'CONFIDENTIEL DÉFENSE',
  'SECRET DÉFENSE',
  'TRÈS SECRET DÉFENSE',
  // Lithuania.
  'RIBOTO NAUDOJIMO',
  'KONFIDENCIALIAI',
  'VISIŠKAI SLAPTAI',
  'SLAPTAI',
  // Latvia.
  'DIENESTA VAJADZĪBĀM',
  'KONFIDENCIĀLI',
  'SEVIŠĶI SLEPENI',
  'SLEPENI',
  // Estonia.
  'PIIRATUD',
  'KONFIDENTSIAALNE',
  'TÄIESTI SALAJANE',
  'SALAJANE',
  // Poland.
  'ZASTRZEŻONE',
  'POUFNE',
  'ŚCIŚLE TAJNE',
  'TAJNE',
  // Finland.
  'KÄYTTÖ RAJOITETTU',
  'LUOTTAMUKSELLINEN',
  'ERITTÄIN SALAINEN',
  'SALAINEN',
];
const wordPattern = (phrase: string) =>
  phrase
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\s*-\s*/g, '\\s*-\\s*')
    .replace(/ /g, '\\s+');
// Longest first, so "NATO SECRET" is named rather than a "SECRET" inside it.
const CLASSIFIED = new RegExp(
  `(?<![\\p{L}\\p{N}])(?:${[...CLASSIFIED_MARKINGS]
    .sort((a, b) => b.length - a.length)
    .map(wordPattern)
    .join('|')})(?![\\p{L}\\p{N}])`,
  'iu',
);
const BARE_LEVEL =
  /^[\s"'([]*(?:classification\s*:\s*)?(top\s+secret|secret|confidential|restricted|classified)(?![\p{L}\p{N}])/iu;

function classification(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const match = CLASSIFIED.exec(text) ?? BARE_LEVEL.exec(text);
  if (!match) return undefined;
  return (match[1] ?? match[0]).replace(/\s+/g, ' ').toUpperCase();
}

/**
 * What a marking-definition means: TLP 2.0 (the published ids, or the extension's `tlp_2_0`), TLP
 * 1.0 (the four ids, or definition_type "tlp"; WHITE → clear), a name that is exactly a TLP label
 * ("TLP:AMBER", as some producers write statement markings); a name or statement that says it is
 * classified (`CLASSIFIED_MARKINGS`) → classified; anything else → other.
 */
export function markingMeaning(definition: Record<string, unknown>): MarkingMeaning {
  const known = typeof definition.id === 'string' ? WELL_KNOWN.get(definition.id) : undefined;
  if (known) return known;
  const extensions = definition.extensions as Record<string, Record<string, unknown>> | undefined;
  const tlp2 = tlpLevel(extensions?.[TLP2_EXTENSION_ID]?.tlp_2_0);
  if (tlp2) return { kind: 'tlp', tlp: tlp2 };
  const body = (definition.definition ?? {}) as Record<string, unknown>;
  if (String(definition.definition_type).toLowerCase() === 'tlp') {
    const tlp1 = tlpLevel(body.tlp ?? body.TLP);
    if (tlp1) return { kind: 'tlp', tlp: tlp1 };
  }
  if (typeof definition.name === 'string' && /^\s*tlp:/i.test(definition.name)) {
    const named = tlpLevel(definition.name);
    if (named) return { kind: 'tlp', tlp: named };
  }
  const name = classification(definition.name) ?? classification(body.statement);
  if (name) return { kind: 'classified', name };
  return { kind: 'other' };
}

// ---------------------------------------------------------------------------------------------
// Plans

export interface ObservableDraft {
  /** A MISP type; the caller normalises type and value with normaliseObservable. */
  type: string;
  value: string;
  comment?: string;
}

export type ImportPlan =
  /** keepAsIntel: the object also says more than its observables hold, and is kept as intelligence too. */
  | { kind: 'observables'; observables: ObservableDraft[]; keepAsIntel: boolean }
  /** Kept as an intelligence object of the case, exactly as received. */
  | { kind: 'intel' }
  | { kind: 'marking' }
  /** Nothing to keep: only an object its creator revoked. */
  | { kind: 'skip'; reason: string }
  | { kind: 'refused'; reason: string };

const SDO_TYPES = [
  'attack-pattern',
  'campaign',
  'course-of-action',
  'grouping',
  'identity',
  'incident',
  'indicator',
  'infrastructure',
  'intrusion-set',
  'location',
  'malware',
  'malware-analysis',
  'note',
  'observed-data',
  'opinion',
  'report',
  'threat-actor',
  'tool',
  'vulnerability',
];
const SRO_TYPES = ['relationship', 'sighting'];
/** The STIX 2.1 cyber-observable types. */
export const SCO_TYPES: ReadonlySet<string> = new Set([
  'artifact',
  'autonomous-system',
  'directory',
  'domain-name',
  'email-addr',
  'email-message',
  'file',
  'ipv4-addr',
  'ipv6-addr',
  'mac-addr',
  'mutex',
  'network-traffic',
  'process',
  'software',
  'url',
  'user-account',
  'windows-registry-key',
  'x509-certificate',
]);
/** Kept as intelligence whatever they say. */
const INTEL_TYPES = new Set([...SDO_TYPES, ...SRO_TYPES, 'language-content', 'extension-definition']);
const CUSTOM_TYPE = /^x-[a-z0-9]+(?:-[a-z0-9]+)*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Resolve = (id: string) => Record<string, unknown> | undefined;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/** What each STIX object becomes in a case. `resolve` finds another object of the bundle by id. */
export function planObject(object: Record<string, unknown>, resolve: Resolve): ImportPlan {
  const { type, id } = object;
  if (typeof type !== 'string' || type === '') return { kind: 'refused', reason: 'the object has no type' };
  if (typeof id !== 'string' || id === '') return { kind: 'refused', reason: `the ${type} has no id` };
  if (type === 'bundle')
    return {
      kind: 'refused',
      reason: `${id} is a bundle inside the bundle; give its objects in the outer bundle`,
    };
  if (type === 'marking-definition') return { kind: 'marking' };
  if (!INTEL_TYPES.has(type) && !SCO_TYPES.has(type) && !CUSTOM_TYPE.test(type))
    return { kind: 'refused', reason: `${id}: unknown object type ${type}; custom types start with x-` };
  if (object.revoked === true) return { kind: 'skip', reason: `${id} was revoked by its creator` };
  if (type === 'indicator') return planIndicator(object);
  if (type === 'observed-data') return planObservedData(object, resolve);
  if (type === 'vulnerability') return planVulnerability(object);
  if (SCO_TYPES.has(type)) {
    const observables = scoDrafts(object, resolve);
    if (observables.length === 0) return { kind: 'intel' };
    return { kind: 'observables', observables, keepAsIntel: saysMore(object, SCO_HELD[type] ?? []) };
  }
  return { kind: 'intel' };
}

/** Properties of any object that an observable of the case stands for (its markings are the caller's). */
const COMMON_HELD = ['type', 'spec_version', 'id', 'object_marking_refs', 'defanged', 'created', 'modified'];
const SCO_HELD: Record<string, string[]> = {
  'ipv4-addr': ['value'],
  'ipv6-addr': ['value'],
  'domain-name': ['value', 'resolves_to_refs'],
  url: ['value'],
  'email-addr': ['value'],
  'email-message': ['is_multipart', 'subject', 'message_id', 'from_ref'],
  file: ['name', 'hashes'],
  mutex: ['name'],
  'mac-addr': ['value'],
  'autonomous-system': ['number'],
  'windows-registry-key': ['key', 'values'],
  'x509-certificate': ['hashes'],
  'network-traffic': ['src_ref', 'dst_ref', 'src_port', 'dst_port', 'protocols'],
};
const INDICATOR_HELD = [
  'created_by_ref',
  'name',
  'description',
  'indicator_types',
  'pattern',
  'pattern_type',
  'pattern_version',
  'valid_from',
  'labels',
  'confidence',
  'lang',
];

/** Whether an object has properties, or labels, beyond those its observables hold. */
function saysMore(object: Record<string, unknown>, held: readonly string[]): boolean {
  for (const key of Object.keys(object)) {
    if (COMMON_HELD.includes(key) || held.includes(key)) continue;
    return true;
  }
  const labels = Array.isArray(object.labels) ? object.labels : [];
  return labels.some((label) => typeof label !== 'string' || !/^misp:|^exercise$/.test(label));
}

const dedupe = (drafts: ObservableDraft[]) => {
  const seen = new Set<string>();
  return drafts.filter((draft) => {
    const key = `${draft.type}\u0000${draft.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

/** The MISP type Vytis's export put in an object's labels. */
function labelledType(object: Record<string, unknown>): string | undefined {
  if (!Array.isArray(object.labels)) return undefined;
  for (const label of object.labels) {
    const match = typeof label === 'string' ? /^misp:type="(.+)"$/.exec(label) : null;
    if (match) return match[1];
  }
  return undefined;
}

const FOREIGN_PATTERN_TYPES = new Set(['snort', 'suricata', 'yara', 'sigma']);

function planIndicator(object: Record<string, unknown>): ImportPlan {
  const { pattern, pattern_type: patternType } = object;
  if (typeof pattern !== 'string')
    return { kind: 'refused', reason: `${object.id}: the indicator has no pattern` };
  const description = text(object.description);
  const name = text(object.name);
  const keepAsIntel = saysMore(object, INDICATOR_HELD);
  if (typeof patternType === 'string' && FOREIGN_PATTERN_TYPES.has(patternType)) {
    const comment = description ?? (name !== undefined && name !== pattern ? name : undefined);
    return {
      kind: 'observables',
      observables: [{ type: patternType, value: pattern, ...(comment ? { comment } : {}) }],
      keepAsIntel,
    };
  }
  if (patternType !== 'stix') return { kind: 'intel' };
  const parsed = parsePattern(pattern);
  if (!parsed.ok) {
    // The parser reads no qualifiers (WITHIN, REPEATS, START/STOP): such a pattern is valid STIX
    // that says more than a list of values, kept as it came.
    if (/^qualifier \w+ at \d+ is not supported/.test(parsed.message)) return { kind: 'intel' };
    return { kind: 'refused', reason: `${object.id}: pattern ${pattern}: ${parsed.message}` };
  }
  const labelled = labelledType(object);
  // Vytis's own export: the labelled type's pattern of the name is this pattern, character for character.
  if (labelled && name !== undefined) {
    const expression = expressionOf(labelled, name);
    if (expression?.kind === 'stix' && expression.pattern === pattern)
      return {
        kind: 'observables',
        observables: [{ type: labelled, value: name, ...(description ? { comment: description } : {}) }],
        keepAsIntel,
      };
  }
  const drafts = observationDrafts(parsed.pattern);
  if (!drafts || drafts.length === 0) return { kind: 'intel' };
  const comment =
    description ?? (name !== undefined && !drafts.some((d) => d.value === name) ? name : undefined);
  return {
    kind: 'observables',
    observables: dedupe(drafts).map((draft) => ({
      type: labelled && sameMeaning(labelled, draft) ? labelled : draft.type,
      value: draft.value,
      ...(comment ? { comment } : {}),
    })),
    keepAsIntel,
  };
}

/**
 * Whether the labelled type says the same of the value as the type read from the pattern (ip-src
 * for an address read as ip-dst): its own pattern reads back as the same draft.
 */
function sameMeaning(labelled: string, draft: ObservableDraft): boolean {
  if (labelled === draft.type) return true;
  const expression = expressionOf(labelled, draft.value);
  if (expression?.kind !== 'stix') return false;
  const parsed = parsePattern(expression.pattern);
  const back = parsed.ok ? observationDrafts(parsed.pattern) : null;
  return back?.length === 1 && back[0]!.type === draft.type && back[0]!.value === draft.value;
}

function planVulnerability(object: Record<string, unknown>): ImportPlan {
  const CVE = /^CVE-\d{4}-\d{4,}$/i;
  const name = text(object.name);
  let cve = name && CVE.test(name.trim()) ? name.trim() : undefined;
  if (!cve && Array.isArray(object.external_references)) {
    for (const reference of object.external_references) {
      if (!isRecord(reference) || String(reference.source_name).toLowerCase() !== 'cve') continue;
      const external = text(reference.external_id)?.trim();
      if (external && CVE.test(external)) {
        cve = external;
        break;
      }
    }
  }
  if (!cve) return { kind: 'intel' };
  const description = text(object.description);
  return {
    kind: 'observables',
    observables: [
      { type: 'vulnerability', value: cve.toUpperCase(), ...(description ? { comment: description } : {}) },
    ],
    keepAsIntel: false,
  };
}

function planObservedData(object: Record<string, unknown>, resolve: Resolve): ImportPlan {
  const drafts: ObservableDraft[] = [];
  if (Array.isArray(object.object_refs)) {
    for (const ref of object.object_refs) {
      const target = typeof ref === 'string' ? resolve(ref) : undefined;
      if (!target)
        return {
          kind: 'refused',
          reason: `${object.id}: object_refs names ${String(ref)}, which is not in the bundle`,
        };
      if (typeof target.type === 'string' && SCO_TYPES.has(target.type))
        drafts.push(...scoDrafts(target, resolve));
    }
  } else if (isRecord(object.objects)) {
    // STIX 2.0's form, deprecated in 2.1: the objects inline, referring to each other by their keys.
    const inline = object.objects;
    const local = (key: string) => (isRecord(inline[key]) ? inline[key] : undefined);
    for (const value of Object.values(inline)) if (isRecord(value)) drafts.push(...scoDrafts(value, local));
  }
  if (drafts.length === 0) return { kind: 'intel' };
  return { kind: 'observables', observables: dedupe(drafts), keepAsIntel: true };
}

// ---------------------------------------------------------------------------------------------
// Cyber-observables → observables

/** STIX hash names (hash-algorithm-ov, and the spellings other producers use) → MISP hash types. */
const HASH_TYPES: Record<string, string> = {
  MD5: 'md5',
  SHA1: 'sha1',
  SHA256: 'sha256',
  SHA512: 'sha512',
  SHA3256: 'sha3-256',
  SHA3512: 'sha3-512',
  SSDEEP: 'ssdeep',
  TLSH: 'tlsh',
};
const hashType = (algorithm: string) => HASH_TYPES[algorithm.toUpperCase().replace(/[-_]/g, '')];
const X509_TYPES: Record<string, string> = {
  md5: 'x509-fingerprint-md5',
  sha1: 'x509-fingerprint-sha1',
  sha256: 'x509-fingerprint-sha256',
};

const isAddress = (object: Record<string, unknown> | undefined) =>
  (object?.type === 'ipv4-addr' || object?.type === 'ipv6-addr') && typeof object.value === 'string';
const portOf = (value: unknown) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65535 ? value : undefined;

/** The observables one cyber-observable stands for; none where it names nothing with a MISP type. */
function scoDrafts(sco: Record<string, unknown>, resolve: Resolve): ObservableDraft[] {
  const drafts: ObservableDraft[] = [];
  const add = (type: string, value: unknown) => {
    if (typeof value === 'string' && value !== '') drafts.push({ type, value });
  };
  const refs = (value: unknown) =>
    (Array.isArray(value) ? value : [])
      .map((ref) => (typeof ref === 'string' ? resolve(ref) : undefined))
      .filter((target) => target !== undefined);
  const hashes = isRecord(sco.hashes) ? Object.entries(sco.hashes) : [];
  switch (sco.type) {
    case 'ipv4-addr':
    case 'ipv6-addr':
      add('ip-dst', sco.value);
      break;
    case 'domain-name': {
      const addresses = refs(sco.resolves_to_refs).filter(isAddress);
      for (const address of addresses) add('domain|ip', `${sco.value}|${address.value}`);
      if (addresses.length === 0) add('domain', sco.value);
      break;
    }
    case 'url':
      add('url', sco.value);
      break;
    case 'email-addr':
      add('email', sco.value);
      break;
    case 'email-message': {
      add('email-subject', sco.subject);
      add('email-message-id', sco.message_id);
      const from = typeof sco.from_ref === 'string' ? resolve(sco.from_ref) : undefined;
      if (from?.type === 'email-addr') add('email-src', from.value);
      break;
    }
    case 'file': {
      const name = text(sco.name);
      for (const [algorithm, digest] of hashes) {
        const type = hashType(algorithm);
        if (type && typeof digest === 'string')
          add(
            name === undefined ? type : `filename|${type}`,
            name === undefined ? digest : `${name}|${digest}`,
          );
      }
      if (drafts.length === 0) add('filename', name);
      const pe = isRecord(sco.extensions) ? sco.extensions['windows-pebinary-ext'] : undefined;
      if (isRecord(pe)) add('imphash', pe.imphash);
      break;
    }
    case 'mutex':
      add('mutex', sco.name);
      break;
    case 'mac-addr':
      add('mac-address', sco.value);
      break;
    case 'autonomous-system':
      if (typeof sco.number === 'number') add('AS', `AS${sco.number}`);
      break;
    case 'windows-registry-key': {
      const values = (Array.isArray(sco.values) ? sco.values : []).filter(
        (value): value is Record<string, unknown> => isRecord(value) && typeof value.data === 'string',
      );
      for (const value of values) add('regkey|value', `${sco.key}|${value.data}`);
      if (values.length === 0) add('regkey', sco.key);
      break;
    }
    case 'x509-certificate':
      for (const [algorithm, digest] of hashes) {
        const type = X509_TYPES[algorithm.toLowerCase().replace(/[-_]/g, '')];
        if (type) add(type, digest);
      }
      break;
    case 'network-traffic':
      for (const side of ['src', 'dst'] as const) {
        const port = portOf(sco[`${side}_port`]);
        const ref = sco[`${side}_ref`];
        const target = typeof ref === 'string' ? resolve(ref) : undefined;
        if (port === undefined || !target) continue;
        if (isAddress(target)) add(`ip-${side}|port`, `${target.value}|${port}`);
        else if (side === 'dst' && target.type === 'domain-name')
          add('hostname|port', `${target.value}|${port}`);
      }
      break;
    default:
      break;
  }
  return drafts;
}

// ---------------------------------------------------------------------------------------------
// Patterns → observables

/** One `=` comparison (ISSUBSET for a network), its path written as `type:a.b[*].c`. */
interface Test {
  path: string;
  operator: string;
  value: string | number;
}

function pathText(comparison: Extract<Comparison, { kind: 'test' }>): string {
  let out = `${comparison.path.objectType}:`;
  comparison.path.steps.forEach((step, i) => {
    if (step.kind === 'index') out += '[*]';
    else out += `${i === 0 ? '' : '.'}${step.name}`;
  });
  return out;
}

/** The observables a pattern stands for, or null when it says more than a list of values. */
function observationDrafts(observation: Observation): ObservableDraft[] | null {
  if (observation.kind === 'or') {
    const left = observationDrafts(observation.left);
    const right = left && observationDrafts(observation.right);
    return left && right ? [...left, ...right] : null;
  }
  if (observation.kind === 'observation') return comparisonDrafts(observation.comparison);
  return null;
}

function comparisonDrafts(comparison: Comparison): ObservableDraft[] | null {
  if (comparison.kind === 'or') {
    const left = comparisonDrafts(comparison.left);
    const right = left && comparisonDrafts(comparison.right);
    return left && right ? [...left, ...right] : null;
  }
  const tests = conjunction(comparison);
  const draft = tests && conjunctionDraft(tests);
  return draft ? [draft] : null;
}

/** The tests an AND joins; null if it joins anything else (an OR inside, EXISTS, NOT, other operators). */
function conjunction(comparison: Comparison): Test[] | null {
  if (comparison.kind === 'and') {
    const left = conjunction(comparison.left);
    const right = left && conjunction(comparison.right);
    return left && right ? [...left, ...right] : null;
  }
  if (comparison.kind !== 'test' || comparison.negated || Array.isArray(comparison.value)) return null;
  if (comparison.operator !== '=' && comparison.operator !== 'ISSUBSET') return null;
  const literal: Literal = comparison.value;
  if (literal.kind !== 'string' && literal.kind !== 'int') return null;
  return [{ path: pathText(comparison), operator: comparison.operator, value: literal.value }];
}

/** A single `=` test's path → the MISP type of its value (strings, except where noted). */
const SINGLE: Record<string, string> = {
  'ipv4-addr:value': 'ip-dst',
  'ipv6-addr:value': 'ip-dst',
  'domain-name:value': 'domain',
  'url:value': 'url',
  'email-addr:value': 'email',
  'email-addr:display_name': 'email-src-display-name',
  'email-message:subject': 'email-subject',
  'email-message:message_id': 'email-message-id',
  'email-message:body_multipart[*].body_raw_ref.name': 'email-attachment',
  'email-message:from_ref.value': 'email-src',
  'email-message:to_refs[*].value': 'email-dst',
  'email-message:cc_refs[*].value': 'email-dst',
  'file:name': 'filename',
  'file:extensions.windows-pebinary-ext.imphash': 'imphash',
  'mutex:name': 'mutex',
  'windows-registry-key:key': 'regkey',
  'network-traffic:extensions.http-request-ext.request_header.User-Agent': 'user-agent',
  'mac-addr:value': 'mac-address',
};

function singleDraft(test: Test): ObservableDraft | null {
  const { path: at, value } = test;
  if (test.operator === 'ISSUBSET')
    return (at === 'ipv4-addr:value' || at === 'ipv6-addr:value') && typeof value === 'string'
      ? { type: 'ip-dst', value }
      : null;
  if (typeof value === 'number') {
    if (at === 'autonomous-system:number') return { type: 'AS', value: `AS${value}` };
    if (at === 'network-traffic:src_port' || at === 'network-traffic:dst_port')
      return { type: 'port', value: String(value) };
    return null;
  }
  const type = SINGLE[at];
  if (type) return { type, value };
  const fileHash = /^file:hashes\.(.+)$/.exec(at);
  if (fileHash) {
    const hash = hashType(fileHash[1]!);
    return hash ? { type: hash, value } : null;
  }
  const certificate = /^x509-certificate:hashes\.(.+)$/.exec(at);
  if (certificate) {
    const x509 = X509_TYPES[certificate[1]!.toLowerCase().replace(/[-_]/g, '')];
    return x509 ? { type: x509, value } : null;
  }
  return null;
}

/** The forms joined by AND that the export writes (stix-mapping.ts), and those only. */
function conjunctionDraft(tests: Test[]): ObservableDraft | null {
  if (tests.length === 1) return singleDraft(tests[0]!);
  if (tests.some((test) => test.operator !== '=')) return null;
  const by = new Map(tests.map((test) => [test.path, test.value]));
  if (by.size !== tests.length) return null;
  const only = (...paths: string[]) => by.size === paths.length && paths.every((p) => by.has(p));
  const string = (p: string) => (typeof by.get(p) === 'string' ? (by.get(p) as string) : undefined);
  // filename|<hash>: file:name AND file:hashes.<algorithm>.
  const hashPath = [...by.keys()].find((p) => p.startsWith('file:hashes.'));
  if (hashPath && only('file:name', hashPath)) {
    const hash = hashType(hashPath.slice('file:hashes.'.length));
    const name = string('file:name');
    const digest = string(hashPath);
    return hash && name !== undefined && digest !== undefined
      ? { type: `filename|${hash}`, value: `${name}|${digest}` }
      : null;
  }
  // ip-src|port, ip-dst|port, hostname|port: the reference's type and value, and the port.
  for (const side of ['src', 'dst'] as const) {
    const typePath = `network-traffic:${side}_ref.type`;
    const valuePath = `network-traffic:${side}_ref.value`;
    const portPath = `network-traffic:${side}_port`;
    if (!only(typePath, valuePath, portPath)) continue;
    const refType = string(typePath);
    const value = string(valuePath);
    const port = portOf(by.get(portPath));
    if (value === undefined || port === undefined) return null;
    if (refType === 'ipv4-addr' || refType === 'ipv6-addr')
      return { type: `ip-${side}|port`, value: `${value}|${port}` };
    if (refType === 'domain-name' && side === 'dst')
      return { type: 'hostname|port', value: `${value}|${port}` };
    return null;
  }
  // domain|ip: the name and an address it resolves to.
  if (only('domain-name:value', 'domain-name:resolves_to_refs[*].value')) {
    const domain = string('domain-name:value');
    const address = string('domain-name:resolves_to_refs[*].value');
    return domain !== undefined && address !== undefined
      ? { type: 'domain|ip', value: `${domain}|${address}` }
      : null;
  }
  // regkey|value: the key and the data of one of its values.
  if (only('windows-registry-key:key', 'windows-registry-key:values[*].data')) {
    const key = string('windows-registry-key:key');
    const data = string('windows-registry-key:values[*].data');
    return key !== undefined && data !== undefined ? { type: 'regkey|value', value: `${key}|${data}` } : null;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Structural check against the OASIS schemas

const STIX_DATA = path.resolve(import.meta.dirname, '../../../data/stix2');
const SCHEMA_BASE = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/';

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = ((formatsPlugin as unknown as { default?: unknown }).default ?? formatsPlugin) as (
  ajv: Ajv2020,
) => Ajv2020;

interface Schemas {
  ajv: Ajv2020;
  /** Type → the `$id` of its schema. */
  byType: Map<string, string>;
}
let schemas: Schemas | undefined;

/** The 57 OASIS schemas, each registered by its `$id` so their relative `$ref`s resolve offline; loaded on first use. */
function loadSchemas(): Schemas {
  // The schemas' patterns are ECMA-262 without the u flag (they escape `-` outside classes).
  const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false, logger: false });
  addFormats(ajv);
  const byType = new Map<string, string>();
  const dir = path.join(STIX_DATA, 'schemas');
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
    const schema = JSON.parse(fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8'));
    ajv.addSchema(schema);
    const folder = path.basename(entry.parentPath);
    const type = path.basename(entry.name, '.json');
    if (
      folder !== 'common' ||
      ['marking-definition', 'language-content', 'extension-definition'].includes(type)
    )
      byType.set(type, `${SCHEMA_BASE}${folder}/${entry.name}`);
  }
  ajv.addSchema(
    JSON.parse(fs.readFileSync(path.join(STIX_DATA, 'tlp2-marking-extension-schema.json'), 'utf8')),
  );
  return { ajv, byType };
}

/** The most telling of Ajv's errors, as "property: what is wrong". */
function describeError(errors: ErrorObject[]): string {
  const combinators = new Set(['oneOf', 'anyOf', 'allOf', 'if', 'not', 'then', 'else']);
  const error =
    errors.find((e) => !combinators.has(e.keyword) && e.instancePath !== '') ??
    errors.find((e) => !combinators.has(e.keyword)) ??
    errors[0]!;
  const missing = (error.params as { missingProperty?: string }).missingProperty;
  const property = error.instancePath.slice(1).replaceAll('/', '.');
  const prefix = property ? `${property}.` : '';
  if (missing && error.schemaPath.includes('/anyOf/')) {
    // "At least one of": every alternative the schema offers at that place.
    const alternatives = errors
      .filter(
        (e) =>
          e.keyword === 'required' &&
          e.instancePath === error.instancePath &&
          e.schemaPath.includes('/anyOf/'),
      )
      .map((e) => `${prefix}${(e.params as { missingProperty: string }).missingProperty}`);
    return `${[...new Set(alternatives)].join(' or ')}: one of them is required`;
  }
  if (missing) return `${prefix}${missing}: is required but missing`;
  return `${property || '(the object)'}: ${error.message}`;
}

/**
 * Structural check of one object against the OASIS schema of its type. Custom objects (type
 * `x-…`) are valid with an id `<type>--<uuid>` and spec_version "2.1"; any other type without a
 * schema is refused. Returns null, or what is wrong, naming the property.
 */
export function objectProblem(object: Record<string, unknown>): string | null {
  const { type, id } = object;
  if (typeof type !== 'string') return 'type: is required and must be a string';
  if (type === 'bundle') return 'type: a bundle inside a bundle; give its objects in the outer bundle';
  if (type.startsWith('x-')) {
    if (!CUSTOM_TYPE.test(type) || type.length > 250)
      return `type: custom type ${type} may hold only a-z, 0-9 and single hyphens`;
    if (typeof id !== 'string' || !id.startsWith(`${type}--`) || !UUID.test(id.slice(type.length + 2)))
      return `id: ${String(id)} is not ${type}--<uuid>`;
    if (object.spec_version !== '2.1')
      return `spec_version: must be "2.1", not ${JSON.stringify(object.spec_version)}`;
    return null;
  }
  schemas ??= loadSchemas();
  const schema = schemas.byType.get(type);
  if (!schema) return `type: unknown object type ${type}; custom types start with x-`;
  const { ajv } = schemas;
  if (!ajv.validate(schema, object)) return describeError(ajv.errors ?? []);
  const extensions = object.extensions as Record<string, unknown> | undefined;
  if (type === 'marking-definition' && isRecord(extensions) && extensions[TLP2_EXTENSION_ID]) {
    if (!ajv.validate('tlp2.0.json', object)) return `TLP 2.0 marking: ${describeError(ajv.errors ?? [])}`;
  }
  return null;
}
