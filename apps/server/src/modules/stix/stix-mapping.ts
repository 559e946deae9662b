import type { Tlp } from '@vytis/contracts';
import { scoId, sdoId } from './stix-ids.ts';
import { markingRefs, type Pap } from './stix-markings.ts';
import { pathStep, quote } from './stix-pattern.ts';

/**
 * Vytis rows → STIX 2.1 objects: pure functions, no database and no HTTP, so the case export, a
 * lookup result, a TAXII collection and the import's round trip all map the same way.
 */

export type StixObject = Record<string, unknown> & { type: string; id: string };

/** What the mapping needs of an observable (the presented `Observable`, or a row shaped like it). */
export interface ObservableInput {
  id: string;
  type: string;
  category: string;
  value: string;
  tlp: Tlp;
  toIds: boolean;
  comment: string;
  firstSeen: string | null;
  lastSeen: string | null;
  sightings: number;
  originParty: string;
  createdAt: string;
  updatedAt: string;
}

export interface CaseInput {
  id: string;
  title: string;
  description: string;
  incidentClass: string;
  tlp: Tlp;
  pap: Pap;
  ownerParty: string;
  exercise: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface NoteInput {
  id: string;
  body: string;
  tlp: Tlp;
  originParty: string;
  createdAt: string;
}

export interface PartyInput {
  code: string;
  name: string;
  createdAt: string;
}

export const identityId = (party: string) => sdoId('identity', 'party', party);
/**
 * An observable's indicator (or, for a CVE, vulnerability) carries the observable's own random
 * UUID (v4, as the specification recommends for SDOs): a TAXII client asking for that id
 * (`match[id]`) is answered from the observable's row directly, in SQL.
 */
export const observableSdoId = (type: 'indicator' | 'vulnerability', observableId: string) =>
  `${type}--${observableId}`;
/** The observable an indicator or vulnerability id of Vytis's stands for, if it looks like one. */
export function observableOfSdoId(
  id: string,
): { type: 'indicator' | 'vulnerability'; observableId: string } | null {
  const match =
    /^(indicator|vulnerability)--([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$/.exec(
      id,
    );
  return match ? { type: match[1] as 'indicator' | 'vulnerability', observableId: match[2]! } : null;
}
/** The `source_name` of the external reference by which a grouping says it is a Vytis case. */
export const VYTIS_CASE_SOURCE = 'vytis-case';
export const groupingId = (caseId: string) => sdoId('grouping', 'case', caseId);

/** A party as the `identity` (class organization) that `created_by_ref` names; its name is public: TLP:CLEAR. */
export function partyIdentity(party: PartyInput): StixObject {
  const id = identityId(party.code);
  return {
    type: 'identity',
    spec_version: '2.1',
    id,
    created_by_ref: id,
    created: party.createdAt,
    modified: party.createdAt,
    name: party.name,
    identity_class: 'organization',
    object_marking_refs: markingRefs('clear', null),
  };
}

// ---------------------------------------------------------------------------------------------
// Cyber-observables (§6), each with its ID Contributing Properties

const CONTRIBUTING: Record<string, readonly string[]> = {
  'ipv4-addr': ['value'],
  'ipv6-addr': ['value'],
  'domain-name': ['value'],
  url: ['value'],
  'email-addr': ['value'],
  'mac-addr': ['value'],
  'autonomous-system': ['number'],
  mutex: ['name'],
  file: ['hashes', 'name', 'extensions', 'parent_directory_ref'],
  'windows-registry-key': ['key', 'values'],
  'network-traffic': [
    'start',
    'end',
    'src_ref',
    'dst_ref',
    'src_port',
    'dst_port',
    'protocols',
    'extensions',
  ],
  'x509-certificate': ['hashes', 'serial_number'],
  'email-message': ['from_ref', 'subject', 'body'],
};

function sco(type: string, properties: Record<string, unknown>): StixObject {
  return { type, spec_version: '2.1', id: scoId(type, properties, CONTRIBUTING[type]!), ...properties };
}

/** How an observable is expressed: a STIX pattern (and the SCOs it is based on), another pattern language, or a vulnerability. */
type Expression =
  | { kind: 'stix'; pattern: string; scos: StixObject[]; basedOn: StixObject[] }
  | { kind: 'foreign'; patternType: 'snort' | 'suricata' | 'yara' | 'sigma'; pattern: string }
  | { kind: 'vulnerability'; cve: string };

const stix = (pattern: string, scos: StixObject[] = [], basedOn: StixObject[] = scos): Expression => ({
  kind: 'stix',
  pattern,
  scos,
  basedOn,
});

const ipType = (address: string) => (address.includes(':') ? 'ipv6-addr' : 'ipv4-addr');

function ip(value: string): Expression {
  const type = ipType(value);
  // A network matches the addresses in it (§9.7.2 ISSUBSET); an address, itself.
  const operator = value.includes('/') ? 'ISSUBSET' : '=';
  return stix(`[${type}:value ${operator} ${quote(value)}]`, [sco(type, { value })]);
}

const SIDES = { src: ['src_ref', 'src_port'], dst: ['dst_ref', 'dst_port'] } as const;

function ipAndPort(value: string, side: 'src' | 'dst'): Expression | null {
  const bar = value.lastIndexOf('|');
  const address = value.slice(0, bar);
  const port = Number(value.slice(bar + 1));
  if (bar === -1 || !Number.isInteger(port)) return null;
  const [ref, portKey] = SIDES[side];
  const type = ipType(address);
  const addr = sco(type, { value: address });
  const traffic = sco('network-traffic', {
    [ref]: addr.id,
    [portKey]: port,
    protocols: [type === 'ipv4-addr' ? 'ipv4' : 'ipv6'],
  });
  return stix(
    `[network-traffic:${ref}.type = ${quote(type)} AND network-traffic:${ref}.value = ${quote(address)} AND network-traffic:${portKey} = ${port}]`,
    [addr, traffic],
    [traffic],
  );
}

function hostAndPort(value: string): Expression | null {
  const bar = value.lastIndexOf('|');
  const host = value.slice(0, bar);
  const port = Number(value.slice(bar + 1));
  if (bar === -1 || !Number.isInteger(port)) return null;
  // The transport is not known, and network-traffic needs its protocols: the host alone is the SCO.
  return stix(
    `[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = ${quote(host)} AND network-traffic:dst_port = ${port}]`,
    [sco('domain-name', { value: host })],
  );
}

function domainAndIp(value: string): Expression | null {
  const bar = value.indexOf('|');
  if (bar === -1) return null;
  const domain = value.slice(0, bar);
  const address = value.slice(bar + 1);
  const addr = sco(ipType(address), { value: address });
  const name = sco('domain-name', { value: domain, resolves_to_refs: [addr.id] });
  return stix(
    `[domain-name:value = ${quote(domain)} AND domain-name:resolves_to_refs[*].value = ${quote(address)}]`,
    [addr, name],
    [name],
  );
}

/** MISP hash types → the STIX hash-algorithm-ov name, and what the hashes schema accepts for it. */
const HASHES: Record<string, { algorithm: string; valid: RegExp }> = {
  md5: { algorithm: 'MD5', valid: /^[a-fA-F0-9]{32}$/ },
  sha1: { algorithm: 'SHA-1', valid: /^[a-fA-F0-9]{40}$/ },
  sha256: { algorithm: 'SHA-256', valid: /^[a-fA-F0-9]{64}$/ },
  sha512: { algorithm: 'SHA-512', valid: /^[a-fA-F0-9]{128}$/ },
  'sha3-256': { algorithm: 'SHA3-256', valid: /^[a-fA-F0-9]{64}$/ },
  'sha3-512': { algorithm: 'SHA3-512', valid: /^[a-fA-F0-9]{128}$/ },
  ssdeep: { algorithm: 'SSDEEP', valid: /^[a-zA-Z0-9/+:.]{1,128}$/ },
  tlsh: { algorithm: 'TLSH', valid: /^[a-zA-Z0-9]{70}$/ },
};

/** A TLSH digest as STIX holds it: the 70 characters of the digest, without TLSH 4's "T1" version prefix. */
const hashValue = (type: string, digest: string) =>
  type === 'tlsh' && digest.length === 72 && digest.startsWith('t1') ? digest.slice(2) : digest;

function fileHash(type: string, digest: string, name: string | null): Expression {
  const { algorithm, valid } = HASHES[type]!;
  const hash = hashValue(type, digest);
  const comparisons = [`file:hashes.${pathStep(algorithm)} = ${quote(hash)}`];
  if (name !== null) comparisons.unshift(`file:name = ${quote(name)}`);
  const pattern = `[${comparisons.join(' AND ')}]`;
  // A digest the hashes vocabulary does not accept (a short TLSH, a long ssdeep) stays in the pattern only.
  if (!valid.test(hash)) return name === null ? stix(pattern) : stix(pattern, [sco('file', { name })]);
  return stix(pattern, [sco('file', { ...(name === null ? {} : { name }), hashes: { [algorithm]: hash } })]);
}

function filenameAndHash(type: string, value: string): Expression | null {
  const bar = value.lastIndexOf('|');
  if (bar === -1) return null;
  return fileHash(type, value.slice(bar + 1), value.slice(0, bar));
}

const X509: Record<string, string> = {
  'x509-fingerprint-md5': 'MD5',
  'x509-fingerprint-sha1': 'SHA-1',
  'x509-fingerprint-sha256': 'SHA-256',
};

/** §6.13: the hive is written out in full (HKEY_LOCAL_MACHINE, not HKLM). */
const HIVES: Record<string, string> = {
  hklm: 'HKEY_LOCAL_MACHINE',
  hkcu: 'HKEY_CURRENT_USER',
  hkcr: 'HKEY_CLASSES_ROOT',
  hku: 'HKEY_USERS',
  hkcc: 'HKEY_CURRENT_CONFIG',
};
function registryKey(key: string): string {
  const match = /^(hklm|hkcu|hkcr|hku|hkcc)(?=\\|$)/i.exec(key);
  return match ? HIVES[match[1]!.toLowerCase()]! + key.slice(match[0].length) : key;
}
/** The published schema refuses a key with an abbreviated hive anywhere in it: such a key stays in the pattern only. */
const SCHEMA_REFUSED_KEY = /^HKLM|HKCC|HKCR|HKCU|HKU|hklm|hkcc|hkcr|hkcu|hku/;

function regkey(value: string, data: string | null): Expression {
  const key = registryKey(value);
  const comparisons = [`windows-registry-key:key = ${quote(key)}`];
  if (data !== null) comparisons.push(`windows-registry-key:values[*].data = ${quote(data)}`);
  const pattern = `[${comparisons.join(' AND ')}]`;
  if (SCHEMA_REFUSED_KEY.test(key)) return stix(pattern);
  return stix(pattern, [
    sco('windows-registry-key', { key, ...(data === null ? {} : { values: [{ data }] }) }),
  ]);
}

const FOREIGN_PATTERNS = new Set(['snort', 'suricata', 'yara', 'sigma']);

/** The STIX expression of a MISP type and stored value; null where STIX has no equivalent. */
export function expressionOf(type: string, value: string): Expression | null {
  switch (type) {
    case 'ip-src':
    case 'ip-dst':
    case 'ip':
      return ip(value);
    case 'ip-src|port':
      return ipAndPort(value, 'src');
    case 'ip-dst|port':
      return ipAndPort(value, 'dst');
    case 'domain':
    case 'hostname':
    case 'onion-address':
      return stix(`[domain-name:value = ${quote(value)}]`, [sco('domain-name', { value })]);
    case 'domain|ip':
      return domainAndIp(value);
    case 'hostname|port':
      return hostAndPort(value);
    case 'url':
    case 'link':
      return stix(`[url:value = ${quote(value)}]`, [sco('url', { value })]);
    case 'uri':
      // A path alone ("/wp-login.php") is no URL; one with a scheme was normalised as a URL.
      return /^[a-z][a-z0-9+.-]*:/i.test(value)
        ? stix(`[url:value = ${quote(value)}]`, [sco('url', { value })])
        : null;
    case 'email':
    case 'email-src':
    case 'email-dst':
    case 'target-email':
    case 'whois-registrant-email':
      return stix(`[email-addr:value = ${quote(value)}]`, [sco('email-addr', { value })]);
    case 'email-src-display-name':
    case 'email-dst-display-name':
      return stix(`[email-addr:display_name = ${quote(value)}]`);
    case 'email-subject':
      return stix(`[email-message:subject = ${quote(value)}]`, [
        sco('email-message', { is_multipart: false, subject: value }),
      ]);
    case 'email-message-id':
      return stix(`[email-message:message_id = ${quote(value)}]`);
    case 'email-attachment':
      return stix(`[email-message:body_multipart[*].body_raw_ref.name = ${quote(value)}]`);
    case 'filename':
      return stix(`[file:name = ${quote(value)}]`, [sco('file', { name: value })]);
    case 'imphash':
      return stix(`[file:extensions.'windows-pebinary-ext'.imphash = ${quote(value)}]`);
    case 'AS': {
      const number = Number(value.replace(/^AS/, ''));
      return stix(`[autonomous-system:number = ${number}]`, [sco('autonomous-system', { number })]);
    }
    case 'mutex':
      return stix(`[mutex:name = ${quote(value)}]`, [sco('mutex', { name: value })]);
    case 'regkey':
      return regkey(value, null);
    case 'regkey|value': {
      const bar = value.indexOf('|');
      return bar === -1 ? regkey(value, null) : regkey(value.slice(0, bar), value.slice(bar + 1));
    }
    case 'user-agent':
      return stix(
        `[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = ${quote(value)}]`,
      );
    // STIX's mac-addr is a MAC-48 only: an EUI-64 (8 octets) has no equivalent and is left out.
    case 'mac-address':
      return stix(`[mac-addr:value = ${quote(value)}]`, [sco('mac-addr', { value })]);
    case 'port':
      return stix(
        `[network-traffic:src_port = ${Number(value)} OR network-traffic:dst_port = ${Number(value)}]`,
      );
    case 'vulnerability':
      return { kind: 'vulnerability', cve: value };
    default:
      break;
  }
  if (type in HASHES) return fileHash(type, value, null);
  if (type.startsWith('filename|') && type.slice('filename|'.length) in HASHES)
    return filenameAndHash(type.slice('filename|'.length), value);
  const x509 = X509[type];
  if (x509) {
    return stix(`[x509-certificate:hashes.${pathStep(x509)} = ${quote(value)}]`, [
      sco('x509-certificate', { hashes: { [x509]: value } }),
    ]);
  }
  if (FOREIGN_PATTERNS.has(type))
    return { kind: 'foreign', patternType: type as 'snort' | 'suricata' | 'yara' | 'sigma', pattern: value };
  return null;
}

/** Whether a MISP type has a STIX equivalent (for the route's documentation and tests). */
export const hasStixEquivalent = (type: string, value: string) => expressionOf(type, value) !== null;

export interface MappedObservable {
  /** The indicator or vulnerability, its relationships and sighting: one per observable. */
  objects: StixObject[];
  /** Cyber-observables; the same one can come from several observables (ip-src and ip-dst of one address). */
  scos: StixObject[];
}

/**
 * One observable → an `indicator` (STIX pattern, or the rule's own language) or, for a CVE, a
 * `vulnerability`; its cyber-observables, each linked from the indicator by `based-on`; and a
 * `sighting` when it was sighted. Null when STIX has no equivalent of its type.
 */
export function mapObservable(o: ObservableInput, theCase: CaseInput): MappedObservable | null {
  const expression = expressionOf(o.type, o.value);
  if (!expression) return null;
  const createdBy = identityId(o.originParty);
  const marking = markingRefs(o.tlp, theCase.pap);
  const labels = [`misp:type="${o.type}"`, `misp:category="${o.category}"`];
  if (theCase.exercise) labels.push('exercise');
  const common = {
    spec_version: '2.1',
    created_by_ref: createdBy,
    created: o.createdAt,
    modified: o.updatedAt,
  };
  const objects: StixObject[] = [];
  let main: StixObject;
  if (expression.kind === 'vulnerability') {
    main = {
      type: 'vulnerability',
      id: observableSdoId('vulnerability', o.id),
      ...common,
      name: expression.cve,
      ...(o.comment ? { description: o.comment } : {}),
      labels,
      external_references: [{ source_name: 'cve', external_id: expression.cve }],
      object_marking_refs: marking,
    };
  } else {
    main = {
      type: 'indicator',
      id: observableSdoId('indicator', o.id),
      ...common,
      name: o.value,
      ...(o.comment ? { description: o.comment } : {}),
      indicator_types: [o.toIds ? 'malicious-activity' : 'unknown'],
      pattern: expression.pattern,
      pattern_type: expression.kind === 'stix' ? 'stix' : expression.patternType,
      ...(expression.kind === 'stix' ? { pattern_version: '2.1' } : {}),
      valid_from: o.firstSeen ?? o.createdAt,
      labels,
      object_marking_refs: marking,
    };
  }
  objects.push(main);
  const scos = expression.kind === 'stix' ? expression.scos : [];
  if (expression.kind === 'stix') {
    for (const target of expression.basedOn) {
      objects.push({
        type: 'relationship',
        id: sdoId('relationship', 'based-on', `${o.id}:${target.id}`),
        ...common,
        relationship_type: 'based-on',
        source_ref: main.id,
        target_ref: target.id,
        ...(theCase.exercise ? { labels: ['exercise'] } : {}),
        object_marking_refs: marking,
      });
    }
  }
  if (o.sightings > 0) {
    const first = o.firstSeen ?? o.createdAt;
    // ISO-8601 instants in UTC compare as text.
    const last = o.lastSeen !== null && o.lastSeen > first ? o.lastSeen : first;
    objects.push({
      type: 'sighting',
      id: sdoId('sighting', 'observable', o.id),
      ...common,
      sighting_of_ref: main.id,
      count: Math.min(o.sightings, 999_999_999),
      first_seen: first,
      last_seen: last,
      ...(theCase.exercise ? { labels: ['exercise'] } : {}),
      object_marking_refs: marking,
    });
  }
  return { objects, scos };
}

/** A note of the case → a `note` about the case's grouping. Notes are never edited: modified = created. */
export function mapNote(note: NoteInput, theCase: CaseInput): StixObject {
  return {
    type: 'note',
    spec_version: '2.1',
    id: sdoId('note', 'note', note.id),
    created_by_ref: identityId(note.originParty),
    created: note.createdAt,
    modified: note.createdAt,
    content: note.body,
    object_refs: [groupingId(theCase.id)],
    ...(theCase.exercise ? { labels: ['exercise'] } : {}),
    object_marking_refs: markingRefs(note.tlp, theCase.pap),
  };
}

/**
 * The case → a `grouping` (§4.7) with context `suspicious-activity`, not a `report`: a report is
 * "published" and requires the time it was (§4.14), while a case is live work that Vytis never
 * publishes — any `published` would be invented, and a grouping is exactly "a set of objects with a
 * shared context" still being worked. `modified` is the latest change of the case or of anything it
 * refers to, so it moves whenever the grouping's content (its `object_refs`) does.
 */
export function mapCase(theCase: CaseInput, objectRefs: string[], modified: string): StixObject {
  const labels = [theCase.incidentClass];
  if (theCase.exercise) labels.push('exercise');
  return {
    type: 'grouping',
    spec_version: '2.1',
    id: groupingId(theCase.id),
    created_by_ref: identityId(theCase.ownerParty),
    created: theCase.createdAt,
    modified,
    name: theCase.title,
    ...(theCase.description ? { description: theCase.description } : {}),
    context: 'suspicious-activity',
    object_refs: objectRefs,
    labels,
    // Names the case it stands for, so an import into another case knows it for the container it
    // replaces (and does not keep it as an object whose references point into this case).
    external_references: [{ source_name: VYTIS_CASE_SOURCE, external_id: theCase.id }],
    object_marking_refs: markingRefs(theCase.tlp, theCase.pap),
  };
}
