import fs from 'node:fs';
import ipaddr from 'ipaddr.js';

/**
 * MISP warning lists: known-benign values (public resolvers, the most visited domains, private and
 * reserved ranges, empty-file hashes, …) that make poor indicators. A value on one is flagged
 * wherever it is shown and does not correlate by default, as in MISP. The lists are MISP's own
 * (misp-warninglists, CC0), copied beside the code with their README, so that the server reads
 * nothing from outside its directory.
 */

/** One list a value is on: its id (the file name without .json) and its name. */
export interface WarningListHit {
  id: string;
  name: string;
}

/** A list as MISP ships it. */
export interface MispWarningList {
  name: string;
  type: string;
  matching_attributes?: string[];
  list: string[];
  description?: string;
  version?: number;
}

const LIST_DIR = new URL('../../../data/misp/warninglists/', import.meta.url);

/** How long a regex entry may be; longer ones are skipped (no list of MISP's comes near). */
const MAX_REGEX_LENGTH = 1000;

/** Types whose value is `a|b`: each part is checked on its own, as MISP does. */
const isComposite = (type: string) => type.includes('|') || type === 'malware-sample';
/** Types whose value holds a host in a URL. */
const URL_TYPES = new Set(['url', 'uri', 'link']);

/** Whether one part of a value is on the list. */
type Matcher = (part: Part) => boolean;

/**
 * One part of a value, with what the lists ask of it worked out once however many lists ask: its
 * address (or network), and the host it names with each parent domain.
 */
class Part {
  private parsedNetwork: Network | null | undefined;
  private hostSuffixes: string[] | undefined;

  constructor(
    readonly text: string,
    private readonly type: string,
  ) {}

  get network(): Network | null {
    if (this.parsedNetwork === undefined) {
      this.parsedNetwork = IP_LIKE.test(this.text) ? parseNetwork(this.text) : null;
    }
    return this.parsedNetwork;
  }

  /** The host, then each parent domain ("a.b.c", "b.c", "c"); none when it names no host. */
  get domains(): string[] {
    this.hostSuffixes ??= suffixesOf(hostOf(this.text, this.type));
    return this.hostSuffixes;
  }
}

interface CompiledList extends WarningListHit {
  matches: Matcher;
}

/** The compiled lists, indexed by the MISP types they apply to. */
export class WarningLists {
  private readonly byType = new Map<string, CompiledList[]>();
  private readonly forAllTypes: CompiledList[] = [];
  /** Entries that were not used (a CIDR that does not parse, a regex not safe to run), with why. */
  readonly skipped: { list: string; entry: string; reason: string }[] = [];

  constructor(lists: readonly { id: string; list: MispWarningList }[]) {
    for (const { id, list } of lists) {
      const matches = this.compile(id, list);
      if (!matches) continue;
      const compiled: CompiledList = { id, name: list.name, matches };
      const types = list.matching_attributes ?? [];
      // MISP: a list naming no type (or ALL) applies to every type.
      if (types.length === 0 || types.includes('ALL')) {
        this.forAllTypes.push(compiled);
        continue;
      }
      for (const type of new Set(types)) {
        const those = this.byType.get(type) ?? [];
        those.push(compiled);
        this.byType.set(type, those);
      }
    }
    for (const those of this.byType.values()) those.push(...this.forAllTypes);
  }

  /** Reads every list of a directory (`*.json`), in file name order. */
  static load(dir: URL = LIST_DIR): WarningLists {
    const files = fs
      .readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .sort();
    return new WarningLists(
      files.map((file) => ({
        id: file.slice(0, -'.json'.length),
        list: JSON.parse(fs.readFileSync(new URL(file, dir), 'utf8')) as MispWarningList,
      })),
    );
  }

  /** The lists a stored (normalised) value of a MISP type is on, in list id order; [] when none. */
  listsFor(type: string, value: string): WarningListHit[] {
    const lists = this.byType.get(type) ?? this.forAllTypes;
    if (lists.length === 0) return [];
    const parts = partsOf(type, value).map((text) => new Part(text, type));
    const hits: WarningListHit[] = [];
    for (const list of lists) {
      if (parts.some((part) => list.matches(part))) hits.push({ id: list.id, name: list.name });
    }
    return hits.length > 1 ? hits.sort((a, b) => (a.id < b.id ? -1 : 1)) : hits;
  }

  /** Every MISP type some list applies to (those of lists for all types aside). */
  get types(): string[] {
    return [...this.byType.keys()];
  }

  private compile(id: string, list: MispWarningList): Matcher | null {
    const entries = Array.isArray(list.list) ? list.list.filter((e) => typeof e === 'string') : [];
    switch (list.type) {
      case 'cidr':
        return this.cidrMatcher(id, entries);
      case 'string': {
        const set = new Set(entries);
        return (part) => set.has(part.text);
      }
      case 'hostname': {
        const set = new Set(entries.map(hostOfEntry).filter((host) => host !== ''));
        return (part) => part.domains.some((domain) => set.has(domain));
      }
      case 'substring': {
        // MISP's substring lists are a few dozen entries: each is looked for in the value.
        const needles = entries.filter((entry) => entry !== '');
        return (part) => needles.some((needle) => part.text.includes(needle));
      }
      case 'regex':
        return this.regexMatcher(id, entries);
      default:
        this.skipped.push({ list: id, entry: '*', reason: `unknown list type ${list.type}` });
        return null;
    }
  }

  /**
   * Networks in one Set per prefix length (public-dns-v4 alone holds ~60k /32s): a value is looked
   * up once per prefix length the list has, never against every entry.
   */
  private cidrMatcher(id: string, entries: readonly string[]): Matcher {
    const v4 = new Map<number, Set<number>>();
    const v6 = new Map<number, Set<string>>();
    for (const entry of entries) {
      const network = parseNetwork(entry.trim());
      if (!network) {
        this.skipped.push({ list: id, entry, reason: 'not an address or network' });
        continue;
      }
      if (network.kind === 'ipv4') {
        const set = v4.get(network.prefix) ?? new Set();
        set.add(maskIPv4(network.address, network.prefix));
        v4.set(network.prefix, set);
      } else {
        const set = v6.get(network.prefix) ?? new Set();
        set.add(maskIPv6(network.bytes, network.prefix));
        v6.set(network.prefix, set);
      }
    }
    // Widest first: a value in several of a list's networks is found at the first.
    const v4Prefixes = [...v4.entries()].sort((a, b) => a[0] - b[0]);
    const v6Prefixes = [...v6.entries()].sort((a, b) => a[0] - b[0]);
    return (part) => {
      const network = part.network;
      if (!network) return false;
      // A network value (ip-src 10.1.0.0/16) is on the list when a list network holds all of it.
      if (network.kind === 'ipv4') {
        for (const [prefix, set] of v4Prefixes) {
          if (prefix > network.prefix) break;
          if (set.has(maskIPv4(network.address, prefix))) return true;
        }
        return false;
      }
      for (const [prefix, set] of v6Prefixes) {
        if (prefix > network.prefix) break;
        if (set.has(maskIPv6(network.bytes, prefix))) return true;
      }
      return false;
    };
  }

  /** Each entry compiled once; one that does not compile or is not safe to run is skipped. */
  private regexMatcher(id: string, entries: readonly string[]): Matcher {
    const patterns: RegExp[] = [];
    for (const entry of entries) {
      const problem = regexProblem(entry);
      const compiled = problem ? null : compileMispRegex(entry);
      if (!compiled) {
        this.skipped.push({ list: id, entry, reason: problem ?? 'does not compile' });
        continue;
      }
      patterns.push(compiled);
    }
    return (part) => patterns.some((pattern) => pattern.test(part.text));
  }
}

let loaded: WarningLists | undefined;

/** The lists shipped with the server, read on first use. */
export function warningLists(): WarningLists {
  loaded ??= WarningLists.load();
  return loaded;
}

/** The lists a stored (normalised) value of a MISP type is on; [] when none. */
export function warningListsFor(type: string, value: string): WarningListHit[] {
  return warningLists().listsFor(type, value);
}

/** The names of the lists a stored value is on, as the API presents them. */
export function warningNames(type: string, value: string): string[] {
  return warningListsFor(type, value).map((hit) => hit.name);
}

/**
 * The names of the lists a value is on under any type a list applies to: for a lookup, whose value
 * comes without a type (each of its normalised forms is tried).
 */
export function warningNamesForAnyType(values: readonly string[]): string[] {
  const lists = warningLists();
  const names = new Map<string, string>();
  for (const type of lists.types) {
    for (const value of values) {
      for (const hit of lists.listsFor(type, value)) names.set(hit.id, hit.name);
    }
  }
  return [...names.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, name]) => name);
}

/** The parts of a value checked against a list: both sides of a composite (`domain|ip`), else the value. */
function partsOf(type: string, value: string): string[] {
  if (!isComposite(type)) return [value];
  // The right side never holds "|" (an address, a port, a digest); a filename on the left might.
  const bar = value.lastIndexOf('|');
  return bar === -1 ? [value] : [value.slice(0, bar), value.slice(bar + 1)];
}

// ---------------------------------------------------------------------------------------------
// Host names

/** A list's host entry as values are stored: lower case, without a trailing dot. */
function hostOfEntry(entry: string): string {
  const host = entry.trim().toLowerCase();
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

/** The host a value names: a URL's host for URL types, else the value (as a host is stored). */
function hostOf(part: string, type: string): string {
  let host = part;
  if (URL_TYPES.has(type) || part.includes('://')) {
    if (part.includes('://')) {
      try {
        host = new URL(part).hostname;
      } catch {
        return '';
      }
    } else {
      // A uri without a scheme: "evil.example/path" names a host, "/wp-login.php" none.
      host = part.split('/', 1)[0]!;
      const colon = host.indexOf(':');
      if (colon !== -1 && colon === host.lastIndexOf(':')) host = host.slice(0, colon);
    }
  }
  return hostOfEntry(host);
}

/** The host and each of its parent domains: a list is probed once per label, never scanned. */
function suffixesOf(host: string): string[] {
  if (host === '') return [];
  const suffixes = [host];
  for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
    suffixes.push(host.slice(dot + 1));
  }
  return suffixes;
}

// ---------------------------------------------------------------------------------------------
// Addresses

/** Only what could be an address or network is parsed: hosts, hashes and URLs are passed over. */
const IP_LIKE = /^[0-9a-f:.]+(?:\/\d{1,3})?$/i;

type Network =
  | { kind: 'ipv4'; address: number; prefix: number }
  | { kind: 'ipv6'; bytes: number[]; prefix: number };

/** An address (the whole of it) or network; an IPv4-mapped IPv6 address is read as the IPv4 one. */
function parseNetwork(text: string): Network | null {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  let prefix = slash === -1 ? -1 : Number(text.slice(slash + 1));
  if (slash !== -1 && !Number.isInteger(prefix)) return null;
  if (!address.includes(':')) {
    const number = dottedQuad(address);
    if (number === -1) return null;
    if (prefix === -1) prefix = 32;
    if (prefix < 0 || prefix > 32) return null;
    return { kind: 'ipv4', address: number, prefix };
  }
  if (!ipaddr.IPv6.isValid(address)) return null;
  const parsed = ipaddr.IPv6.parse(address);
  if (parsed.zoneId) return null;
  if (prefix === -1) prefix = 128;
  if (prefix < 0 || prefix > 128) return null;
  if (parsed.isIPv4MappedAddress() && prefix >= 96) {
    return { kind: 'ipv4', address: toNumber(parsed.toIPv4Address().octets), prefix: prefix - 96 };
  }
  return { kind: 'ipv6', bytes: parsed.toByteArray(), prefix };
}

/**
 * Four decimal parts (as values are stored) as a number, else -1. By hand: it runs for every address
 * of an import, and ipaddr.js would also read "127.1" and "0x7f.0.0.1".
 */
function dottedQuad(text: string): number {
  let address = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) {
      octet = octet * 10 + (code - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (code === 46 && digits > 0 && dots < 3) {
      address = address * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? address * 256 + octet : -1;
}

const toNumber = (octets: number[]) =>
  ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;

/** The network address of `prefix` bits (a shift by 32 is a shift by 0 in JavaScript: /0 is apart). */
const maskIPv4 = (address: number, prefix: number) =>
  prefix === 0 ? 0 : (address & (~0 << (32 - prefix))) >>> 0;

/** The network's first `prefix` bits, as hex: the key of its Set. */
function maskIPv6(bytes: readonly number[], prefix: number): string {
  let key = '';
  for (let i = 0; i * 8 < prefix; i++) {
    const kept = Math.min(8, prefix - i * 8);
    const byte = bytes[i]! & ((0xff << (8 - kept)) & 0xff);
    key += byte.toString(16).padStart(2, '0');
  }
  return key;
}

// ---------------------------------------------------------------------------------------------
// Regular expressions

/** MISP's entries are PHP patterns: `/…/flags` (any delimiter), or a bare pattern. */
/** *, + or {n}, {n,}, {n,m}, {,m} at a position (sticky). */
const QUANTIFIER = /[*+]|\{(\d*)(,?)(\d*)\}/y;

const DELIMITED = /^([^\w\s\\])([\s\S]*)\1([a-zA-Z]*)$/;

function compileMispRegex(entry: string): RegExp | null {
  const delimited = DELIMITED.exec(entry);
  const source = delimited ? delimited[2]! : entry;
  const phpFlags = delimited ? delimited[3]! : '';
  // i, m, s and u mean the same in JavaScript; any other (x: extended) would change the pattern.
  if (/[^imsu]/.test(phpFlags)) return null;
  try {
    return new RegExp(source, [...new Set(phpFlags)].join(''));
  } catch {
    return null;
  }
}

/**
 * Why a pattern is not safe to run on every value, or null: backreferences, and a quantified group
 * that holds a quantifier or an alternation (`(a+)+`, `(a|aa)*`), can take exponential time on a
 * crafted value. What is left (star height one) is polynomial at worst, and stored values are at
 * most 2 KB.
 */
export function regexProblem(entry: string): string | null {
  if (entry.length > MAX_REGEX_LENGTH) return `longer than ${MAX_REGEX_LENGTH} characters`;
  const source = DELIMITED.exec(entry)?.[2] ?? entry;
  // Per open group: whether it holds a quantifier or an alternation so far.
  const groups: boolean[] = [];
  let lastClosedRisky = false;
  let previousWasGroup = false;
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    const closedGroup = previousWasGroup;
    previousWasGroup = false;
    if (char === '\\') {
      const next = source[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'has a backreference';
      i++;
      continue;
    }
    if (char === '[') {
      // A class is one character: skip to its unescaped end.
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
      continue;
    }
    if (char === '(') {
      groups.push(false);
      continue;
    }
    if (char === ')') {
      lastClosedRisky = groups.pop() ?? false;
      previousWasGroup = true;
      continue;
    }
    if (char === '|') {
      if (groups.length > 0) groups[groups.length - 1] = true;
      continue;
    }
    QUANTIFIER.lastIndex = i;
    const quantifier = QUANTIFIER.exec(source);
    if (!quantifier) continue;
    // {0}, {1}, {0,1} repeat nothing; anything else does.
    const max =
      quantifier[1] === undefined
        ? Infinity
        : Number(quantifier[3] || (quantifier[2] ? Infinity : quantifier[1]));
    const repeats = max > 1;
    if (repeats && closedGroup && lastClosedRisky) return 'repeats a group that itself repeats or alternates';
    if (!repeats) continue;
    for (let g = 0; g < groups.length; g++) groups[g] = true;
  }
  return null;
}
