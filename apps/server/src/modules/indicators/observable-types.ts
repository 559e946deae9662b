import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import { domainToASCII, domainToUnicode } from 'node:url';

interface MispDescribeTypes {
  result: {
    types: string[];
    categories: string[];
    sane_defaults: Record<string, { default_category: string; to_ids: number }>;
  };
}

// MISP's own list of attribute types, copied beside the code (as the RSIT taxonomy is) so that the
// server reads nothing from outside its directory.
const MISP = (
  JSON.parse(
    fs.readFileSync(new URL('../../../data/misp/describeTypes.json', import.meta.url), 'utf8'),
  ) as MispDescribeTypes
).result;

export interface NormalisedObservable {
  type: string;
  category: string;
  value: string;
  toIds: boolean;
}

export type NormaliseResult = { ok: true; observable: NormalisedObservable } | { ok: false; message: string };

/** Every MISP type name known (from describeTypes.json). */
export const OBSERVABLE_TYPES: readonly string[] = Object.freeze([...MISP.types]);

export const MAX_VALUE_BYTES = 2048;

/** A stored value, or what is wrong with the input (without the type, which the caller prefixes). */
type Outcome = string | Rejection;
interface Rejection {
  reason: string;
}
type Normaliser = (value: string) => Outcome;

const reject = (reason: string): Rejection => ({ reason });

// ---------------------------------------------------------------------------------------------
// Refanging

// One pass over the value; the hxxp forms only where a scheme would be (before ":" or "[:"). The
// bracketed words take the spaces around them ("user [at] example [dot] com"), as " dot " does;
// at most three, so that a long run of spaces cannot make matching quadratic.
const DEFANGED_GLOBAL =
  /\b(?:hxxps?|fxp)(?=\[?:)|\[\.\]|\(\.\)|\{\.\}| {0,3}(?:\[dot\]|\(dot\)|\{dot\}|\[at\]|\(at\)) {0,3}| {1,3}dot {1,3}|\[:\/\/\]|\[:\]|\[@\]/gi;
// Every defanged token has one of these; most values have none, and this is far cheaper to test.
const MAYBE_DEFANGED = /[[({ ]|xp/i;
// A non-global twin for testing: a global regex carries lastIndex between calls.
const DEFANGED = new RegExp(DEFANGED_GLOBAL.source, 'i');

const isDefanged = (value: string): boolean => MAYBE_DEFANGED.test(value) && DEFANGED.test(value);

const REFANGED: ReadonlyMap<string, string> = new Map([
  ['hxxp', 'http'],
  ['hxxps', 'https'],
  ['fxp', 'ftp'],
  ['[.]', '.'],
  ['(.)', '.'],
  ['{.}', '.'],
  ['[dot]', '.'],
  ['(dot)', '.'],
  ['{dot}', '.'],
  ['[://]', '://'],
  ['[:]', ':'],
  ['[@]', '@'],
  ['[at]', '@'],
  ['(at)', '@'],
]);

// The one token not in the map is " dot ", whatever its spaces.
// Each pass refangs what is left; eight levels of tokens in tokens are far more than any real value
// has, and keep the work per value a small multiple of its (bounded) length.
const MAX_REFANG_PASSES = 8;
// How often a normalised value is refanged and normalised again before it is refused.
const MAX_RENORMALISE_PASSES = 3;

const refangToken = (token: string): string => REFANGED.get(token.trim().toLowerCase()) ?? '.';

/** Undo common defanging: hxxp/hxxps/fxp (any case) -> http/https/ftp, [.] (.) {.} [dot] (dot) {dot} " dot " -> ".", [:] -> ":", [@] [at] (at) -> "@", [://] -> "://". */
export function refang(raw: string): string {
  let value = raw;
  // Repeated because refanging can uncover another defanged token: "[[.]]" -> "[.]" -> ".". Each
  // pass reads the whole value, so the passes are bounded: a value nested deeper ("[[[[.]]]]" a
  // thousand deep) would cost a pass per level; what is still defanged after them is refused.
  for (let pass = 0; pass < MAX_REFANG_PASSES && isDefanged(value); pass++)
    value = value.replace(DEFANGED_GLOBAL, refangToken);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Messages

const SHOWN_CHARS = 64;
const VISIBLE_CHAR = /^[\p{L}\p{N}\p{P}\p{S}]$/u;

function show(value: string): string {
  if (value.length <= SHOWN_CHARS) return value;
  const head = value.slice(0, SHOWN_CHARS);
  return `${head.isWellFormed() ? head : head.slice(0, -1)}…`;
}

function describeChar(char: string): string {
  if (char === ' ') return 'a space';
  if (VISIBLE_CHAR.test(char)) return `'${char}'`;
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// IP addresses

const NOT_IPV4 = -1;
const IPV4_LEADING_ZERO = -2;

/** The address as an unsigned 32-bit number; strict dotted-quad only (no octal, hex or short forms). */
function parseIPv4(text: string): number {
  let address = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  let leadingZero = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) {
      if (digits === 1 && octet === 0) leadingZero = true;
      octet = octet * 10 + (code - 48);
      digits++;
      if (digits > 3 || octet > 255) return NOT_IPV4;
    } else if (code === 46 && digits > 0 && dots < 3) {
      address = address * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return NOT_IPV4;
    }
  }
  if (dots !== 3 || digits === 0) return NOT_IPV4;
  return leadingZero ? IPV4_LEADING_ZERO : address * 256 + octet;
}

const formatIPv4 = (address: number): string =>
  `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;

const COLON = 58;

function hexDigitValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 32;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/** The eight 16-bit groups, or null. Written by hand: ipaddr.js 2.5 reads `::1.2.3.4` as `::ffff:1.2.3.4`. */
function parseIPv6(text: string): number[] | null {
  const groups: number[] = [];
  let gapAt = -1;
  let i = 0;
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return null;
    gapAt = 0;
    i = 2;
  }
  while (i < text.length) {
    const start = i;
    let group = 0;
    for (let digit = hexDigitValue(text.charCodeAt(i)); digit !== -1 && i - start < 5; ) {
      group = group * 16 + digit;
      digit = hexDigitValue(text.charCodeAt(++i));
    }
    if (text.charCodeAt(i) === DOT) {
      // An IPv4 tail ends the address, and is as strict as any IPv4 address.
      const ipv4 = parseIPv4(text.slice(start));
      if (ipv4 < 0) return null;
      groups.push(ipv4 >>> 16, ipv4 & 0xffff);
      break;
    }
    if (i === start || i - start > 4) return null;
    groups.push(group);
    if (i === text.length) break;
    if (text.charCodeAt(i) !== COLON || ++i === text.length) return null;
    if (text.charCodeAt(i) === COLON) {
      if (gapAt !== -1) return null;
      gapAt = groups.length;
      i++;
    }
  }
  if (gapAt === -1) return groups.length === 8 ? groups : null;
  if (groups.length > 7) return null;
  groups.splice(gapAt, 0, ...new Array<number>(8 - groups.length).fill(0));
  return groups;
}

/** RFC 5952: lower case, no leading zeros, the longest run (first on a tie) of two or more zero groups as "::". */
function formatIPv6(groups: number[]): string {
  // RFC 5952 §5 recommends the mixed form for IPv4-mapped addresses (PostgreSQL's inet prints it too).
  if (groups[5] === 0xffff && groups.slice(0, 5).every((group) => group === 0))
    return `::ffff:${formatIPv4(groups[6]! * 65536 + groups[7]!)}`;
  let gapStart = -1;
  let gapLength = 1;
  let runStart = -1;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && groups[i] === 0) {
      if (runStart === -1) runStart = i;
    } else if (runStart !== -1) {
      if (i - runStart > gapLength) {
        gapStart = runStart;
        gapLength = i - runStart;
      }
      runStart = -1;
    }
  }
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === gapStart) {
      text += '::';
      i += gapLength - 1;
    } else {
      if (i > 0 && i !== gapStart + gapLength) text += ':';
      text += groups[i]!.toString(16);
    }
  }
  return text;
}

const PREFIX_LENGTH = /^(?:0|[1-9]\d{0,2})$/;

function notAnIp(value: string): Rejection {
  return reject(`${show(value)} is not an IPv4 or IPv6 address`);
}

/** An address, or with `allowCidr` a network `address/prefix` stored with its host bits cleared. */
function ipAddress(value: string, allowCidr: boolean): Outcome {
  const slash = value.indexOf('/');
  const address = slash === -1 ? value : value.slice(0, slash);
  let prefix = -1;
  if (slash !== -1) {
    if (!allowCidr) return notAnIp(value);
    const prefixText = value.slice(slash + 1);
    if (!PREFIX_LENGTH.test(prefixText))
      return reject(`${show(value)}: the prefix length after / must be a whole number without leading zeros`);
    prefix = Number(prefixText);
  }
  if (address.includes(':')) {
    const zone = address.indexOf('%');
    if (zone !== -1)
      return reject(
        `${show(value)} has a zone index (${show(address.slice(zone))}), which means something only on one host; leave it out`,
      );
    if (address.startsWith('[')) return reject(`${show(value)}: write the IPv6 address without brackets`);
    const groups = parseIPv6(address);
    if (!groups) return notAnIp(value);
    if (prefix === -1 || prefix === 128) return formatIPv6(groups);
    if (prefix > 128) return reject(`${show(value)}: an IPv6 prefix length is at most 128`);
    for (let i = 0; i < 8; i++) {
      const kept = Math.min(16, Math.max(0, prefix - i * 16));
      groups[i] = groups[i]! & ((0xffff << (16 - kept)) & 0xffff);
    }
    return `${formatIPv6(groups)}/${prefix}`;
  }
  const ipv4 = parseIPv4(address);
  if (ipv4 === IPV4_LEADING_ZERO)
    return reject(
      `${show(value)} has an octet with a leading zero, which some software reads as octal; write each octet in plain decimal`,
    );
  if (ipv4 === NOT_IPV4) return notAnIp(value);
  // The strict parse accepts only the canonical spelling, so the address is stored as written.
  if (prefix === -1 || prefix === 32) return address;
  if (prefix > 32) return reject(`${show(value)}: an IPv4 prefix length is at most 32`);
  return `${formatIPv4(ipv4 - (ipv4 % 2 ** (32 - prefix)))}/${prefix}`;
}

const PORT = /^\d{1,5}$/;

function portNumber(text: string): string | null {
  if (!PORT.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? String(port) : null;
}

function badPort(port: string): Rejection {
  return reject(`port ${show(port)} is not a whole number from 0 to 65535`);
}

/** Splits `a|port`, also accepting `a:port` and `[v6]:port`; null when no port separator is found. */
function splitPort(value: string): [string, string] | null {
  const bar = value.lastIndexOf('|');
  if (bar !== -1) return [value.slice(0, bar).trim(), value.slice(bar + 1).trim()];
  if (value.startsWith('[')) {
    const close = value.indexOf(']:');
    return close === -1 ? null : [value.slice(1, close), value.slice(close + 2)];
  }
  const colon = value.indexOf(':');
  if (colon === -1 || colon !== value.lastIndexOf(':')) return null;
  return [value.slice(0, colon), value.slice(colon + 1)];
}

const ipOrNetwork: Normaliser = (value) => ipAddress(value, true);

function ipAndPort(value: string): Outcome {
  const parts = splitPort(value);
  if (!parts) return reject(`${show(value)} is not address|port, e.g. 192.0.2.1|443`);
  const address = ipAddress(parts[0], false);
  if (typeof address !== 'string') return address;
  const port = portNumber(parts[1]);
  return port === null ? badPort(parts[1]) : `${address}|${port}`;
}

// ---------------------------------------------------------------------------------------------
// Host names

const HOST_ASCII = /^[a-z0-9._-]+$/;
const hasUndecodableAceLabel = (ascii: string) =>
  ascii.includes('xn--') &&
  domainToUnicode(ascii)
    .split('.')
    .some((label) => label.startsWith('xn--'));

// Characters that rule a name out before IDN mapping; anything non-ASCII is left to domainToASCII.
const NOT_HOST_CHAR = /[^a-z0-9._\-\u0080-\uffff]/;
// WHATWG reads a name whose last label is a number as an IPv4 address ("0x7f.1" is 127.0.0.1).
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/;
const DOT = 46;
const HYPHEN = 45;

const isHostChar = (code: number): boolean =>
  (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === HYPHEN || code === 95;

/** Lower case, one trailing dot dropped, IDN as punycode; labels of 1–63 [a-z0-9_-] not starting or ending with "-". */
function hostName(value: string, requireDot: boolean): Outcome {
  if (value.includes('/')) return reject(`${show(value)} looks like a URL; use type url`);
  if (value.includes('@')) return reject(`${show(value)} looks like an email address; use type email`);
  if (value.includes(':'))
    return reject(
      value.indexOf(':') === value.lastIndexOf(':')
        ? `${show(value)} has a port; use type hostname|port`
        : `${show(value)} looks like an IPv6 address; use type ip-src or ip-dst`,
    );
  let host = value.toLowerCase();
  if (!HOST_ASCII.test(host) || host.includes('xn--')) {
    const bad = NOT_HOST_CHAR.exec(host);
    if (bad) return reject(`${show(value)} contains ${describeChar(bad[0])}, which a domain name cannot`);
    host = domainToASCII(host);
    // Node 20's IDNA refuses an xn-- label that is not valid Punycode; Node 22+ (Ada) passes it
    // through. Such a label does not decode: it comes back from domainToUnicode still as xn--.
    if (host === '' || hasUndecodableAceLabel(host))
      return reject(`${show(value)} is not a valid internationalised domain name`);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length > 253) return reject(`${show(value)} is longer than 253 characters`);
  let labelStart = 0;
  let dots = 0;
  for (let i = 0; i <= host.length; i++) {
    const code = i < host.length ? host.charCodeAt(i) : DOT;
    if (code !== DOT) {
      if (!isHostChar(code))
        return reject(`${show(value)} contains ${describeChar(host[i]!)}, which a domain name cannot`);
      continue;
    }
    const length = i - labelStart;
    if (length === 0)
      return reject(`${show(value)} has an empty label (two dots in a row, or a leading dot)`);
    if (length > 63) return reject(`${show(value)} has a label longer than 63 characters`);
    if (host.charCodeAt(labelStart) === HYPHEN || host.charCodeAt(i - 1) === HYPHEN)
      return reject(`${show(value)} has a label that starts or ends with a hyphen`);
    if (i < host.length) {
      dots++;
      labelStart = i + 1;
    }
  }
  if (NUMERIC_LABEL.test(host.slice(labelStart)))
    return reject(`${show(value)} looks like an IP address; use type ip-src or ip-dst`);
  if (requireDot && dots === 0)
    return reject(
      `${show(value)} has no dot; a domain has at least two labels such as example.com (use type hostname for a single name)`,
    );
  return host;
}

const domain: Normaliser = (value) => hostName(value, true);
const hostname: Normaliser = (value) => hostName(value, false);

function hostAndPort(value: string): Outcome {
  const parts = splitPort(value);
  if (!parts) return reject(`${show(value)} is not hostname|port, e.g. mail.example.com|25`);
  const host = hostName(parts[0], false);
  if (typeof host !== 'string') return host;
  const port = portNumber(parts[1]);
  return port === null ? badPort(parts[1]) : `${host}|${port}`;
}

function domainAndIp(value: string): Outcome {
  const bar = value.indexOf('|');
  if (bar === -1 || bar !== value.lastIndexOf('|'))
    return reject(`${show(value)} is not domain|ip, e.g. example.com|192.0.2.1`);
  const domain = hostName(value.slice(0, bar).trim(), true);
  if (typeof domain !== 'string') return domain;
  const address = ipAddress(value.slice(bar + 1).trim(), false);
  return typeof address === 'string' ? `${domain}|${address}` : address;
}

const ONION = /(?:^|\.)(?:[a-z2-7]{16}|[a-z2-7]{56})\.onion$/;

function onionAddress(value: string): Outcome {
  const host = hostName(value, true);
  if (typeof host !== 'string') return host;
  return ONION.test(host)
    ? host
    : reject(`${show(value)} is not an onion address (56 base32 characters, then .onion)`);
}

// ---------------------------------------------------------------------------------------------
// Email addresses

// No quoted local parts: they never show up in indicators, and they would need their own parser.
const EMAIL_LOCAL_PART = /^[^\s@<>()[\]\\,;:"]{1,64}$/u;

/** local@domain, the domain as `hostName` stores it and the whole lower case. */
function emailAddress(value: string): Outcome {
  const at = value.lastIndexOf('@');
  if (at === -1) return reject(`${show(value)} is not an email address (no @)`);
  // Checked after lower-casing, which can lengthen a string ("İ" is two code units lower-cased).
  const local = value.slice(0, at).toLowerCase();
  if (!EMAIL_LOCAL_PART.test(local))
    return reject(
      `${show(value)}: the part before @ must be 1 to 64 characters without spaces or any of @<>()[]\\,;:"`,
    );
  const domain = hostName(value.slice(at + 1), true);
  if (typeof domain !== 'string') return reject(`in ${show(value)}, ${domain.reason}`);
  return `${local}@${domain}`;
}

// ---------------------------------------------------------------------------------------------
// URLs
//
// Stored as WHATWG URL serialises them, which lower-cases the scheme, and for http(s), ftp, ws(s)
// and file also lower-cases the host, turns an IDN host into punycode, reads the host's IPv4
// forms as browsers do, drops the default port, resolves "." and ".." path segments and
// percent-encodes spaces. On top of that:
// - a value without a scheme gets "http://" (MISP accepts schemeless URLs; "evil.example/a" is common);
// - the #fragment is dropped: it never reaches the server, so it does not tell two resources apart;
// - the query is kept as it is (neither sorted nor decoded);
// - "/" alone as the path, with no query, is dropped ("http://a.example/" -> "http://a.example"),
//   because that is how analysts write a site and how the lookup will most often be typed.

// "scheme://" is unambiguous; "host:8080/x" has a colon too, so only these schemes count without "//".
const SCHEME_WITH_AUTHORITY = /^[a-z][a-z0-9+.-]*:\/\//i;
const SCHEME_WITHOUT_AUTHORITY = /^(?:mailto|data|javascript|vbscript|urn|tel|sms|magnet|about|blob):/i;

const hasScheme = (value: string): boolean =>
  SCHEME_WITH_AUTHORITY.test(value) || SCHEME_WITHOUT_AUTHORITY.test(value);

function url(value: string): Outcome {
  // The URL parser deletes tabs silently, which would make the stored value differ from what was seen.
  if (value.includes('\t')) return reject(`${show(value)} contains a tab, which a URL cannot`);
  let input = value;
  if (!hasScheme(value)) {
    if (value.startsWith('/') && !value.startsWith('//'))
      return reject(`${show(value)} has no host; use type uri for a path`);
    input = (value.startsWith('//') ? 'http:' : 'http://') + value;
  }
  let parsed: URL;
  try {
    parsed = new URL(input);
  } catch {
    return reject(`${show(value)} is not a valid URL`);
  }
  let href = parsed.href;
  // Any "#" left in the serialisation starts the fragment: the parser percent-encodes the others.
  const hash = href.indexOf('#');
  if (hash !== -1) href = href.slice(0, hash);
  if (parsed.pathname === '/' && parsed.search === '' && parsed.host !== '' && href.endsWith('/'))
    href = href.slice(0, -1);
  return href;
}

/** MISP's uri is often just the path of a request ("/wp-login.php"): only a value with a scheme is parsed as a URL. */
const uri = (value: string): Outcome => (hasScheme(value) ? url(value) : value);

// ---------------------------------------------------------------------------------------------
// Digests and other identifiers

function hexDigest(lengths: readonly number[], ignoreColons = false): Normaliser {
  const pattern = new RegExp(`^(?:${lengths.map((length) => `[0-9a-f]{${length}}`).join('|')})$`);
  const expected = `${lengths.join(' or ')} hexadecimal characters`;
  return (value) => {
    // x509 fingerprints are usually printed as colon-separated byte pairs.
    const digest = (ignoreColons ? value.replaceAll(':', '') : value).toLowerCase();
    return pattern.test(digest) ? digest : reject(`${show(value)} is not ${expected}`);
  };
}

const TLSH = /^(?:t1)?[0-9a-f]{35,}$/;

function tlsh(value: string): Outcome {
  const digest = value.toLowerCase();
  return TLSH.test(digest)
    ? digest
    : reject(`${show(value)} is not a TLSH digest (35 or more hexadecimal characters, optionally after T1)`);
}

// Base64 alphabets: case matters, so these are stored as given.
const FUZZY_HASH = /^\d+:[0-9A-Za-z/+]*:[0-9A-Za-z/+]*$/;

function fuzzyHash(value: string): Outcome {
  return FUZZY_HASH.test(value) ? value : reject(`${show(value)} is not blocksize:hash:hash`);
}

function filenameAnd(digest: Normaliser): Normaliser {
  return (value) => {
    // The digest never contains "|", a filename might.
    const bar = value.lastIndexOf('|');
    if (bar === -1) return reject(`${show(value)} is not filename|hash`);
    const name = value.slice(0, bar).trim();
    const hash = value.slice(bar + 1).trim();
    if (name === '') return reject(`${show(value)}: the filename before | is empty`);
    if (hash === '') return reject(`${show(value)}: the hash after | is empty`);
    const stored = digest(hash);
    return typeof stored === 'string' ? `${name}|${stored}` : stored;
  };
}

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;
// Word processors turn "-" into one of these.
const DASHES = /[\u2010-\u2015\u2212]/g;

function cveId(value: string): Outcome {
  const id = value.replace(DASHES, '-').toUpperCase();
  return CVE_ID.test(id) ? id : reject(`${show(value)} is not a CVE id such as CVE-2024-3094`);
}

const CWE_ID = /^CWE-(\d{1,9})$/;

function cweId(value: string): Outcome {
  const match = CWE_ID.exec(value.replace(DASHES, '-').toUpperCase());
  return match ? `CWE-${Number(match[1])}` : reject(`${show(value)} is not a CWE id such as CWE-79`);
}

const AS_PLAIN = /^(?:AS ?)?(\d{1,10})$/i;
const AS_DOT = /^(?:AS ?)?(\d{1,5})\.(\d{1,5})$/i;
const MAX_AS_NUMBER = 4294967295;

function asNumber(value: string): Outcome {
  const plain = AS_PLAIN.exec(value);
  let number = plain ? Number(plain[1]) : -1;
  const dotted = plain ? null : AS_DOT.exec(value);
  if (dotted) {
    const high = Number(dotted[1]);
    const low = Number(dotted[2]);
    if (high <= 65535 && low <= 65535) number = high * 65536 + low;
  }
  return number >= 0 && number <= MAX_AS_NUMBER
    ? `AS${number}`
    : reject(`${show(value)} is not an AS number such as AS64496 (0 to ${MAX_AS_NUMBER})`);
}

const NOT_HEX = /[^0-9a-f]/gi;

function macAddress(octets: number, example: string): Normaliser {
  const separated = new RegExp(`^[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\\1[0-9a-f]{2}){${octets - 2}}$`, 'i');
  const dotted = new RegExp(`^[0-9a-f]{4}(?:\\.[0-9a-f]{4}){${octets / 2 - 1}}$`, 'i');
  const bare = new RegExp(`^[0-9a-f]{${octets * 2}}$`, 'i');
  return (value) => {
    if (!separated.test(value) && !dotted.test(value) && !bare.test(value))
      return reject(`${show(value)} is not a MAC address such as ${example}`);
    const hex = value.replace(NOT_HEX, '').toLowerCase();
    let stored = hex.slice(0, 2);
    for (let i = 2; i < hex.length; i += 2) stored += `:${hex.slice(i, i + 2)}`;
    return stored;
  };
}

function port(value: string): Outcome {
  return portNumber(value) ?? reject(`${show(value)} is not a whole number from 0 to 65535`);
}

const asGiven: Normaliser = (value) => value;

// ---------------------------------------------------------------------------------------------
// Types

// Prose, code and patterns, where "[.]" or " dot " can mean exactly what they say (a regex
// character class, a sentence), are stored as written.
const VERBATIM_TYPES = new Set([
  'filename-pattern',
  'regkey|value',
  'user-agent',
  'cookie',
  'email-subject',
  'email-src-display-name',
  'email-dst-display-name',
  'threat-actor',
  'campaign-name',
  'first-name',
  'middle-name',
  'last-name',
  'full-name',
  'whois-registrant-name',
  'whois-registrant-org',
  'target-org',
  'target-location',
]);
// Types whose values span lines (rules, keys, message bodies): they may contain LF and CR as well as tab.
const MULTILINE_TYPES = new Set([
  'text',
  'comment',
  'other',
  'email-body',
  'email-header',
  'snort',
  'suricata',
  'bro',
  'zeek',
  'yara',
  'sigma',
  'stix2-pattern',
  'kusto-query',
  'gene',
  'pattern-in-file',
  'pattern-in-traffic',
  'pattern-in-memory',
  'pgp-public-key',
  'pgp-private-key',
  'cortex',
  'dkim-signature',
  'travel-details',
  'payment-details',
  'special-service-request',
]);

const HEX_DIGEST_LENGTHS: Record<string, readonly number[]> = {
  md5: [32],
  sha1: [40],
  sha224: [56],
  sha256: [64],
  sha384: [96],
  sha512: [128],
  'sha512/224': [56],
  'sha512/256': [64],
  'sha3-224': [56],
  'sha3-256': [64],
  'sha3-384': [96],
  'sha3-512': [128],
  imphash: [32],
  authentihash: [64],
  pehash: [40],
  telfhash: [70, 72],
  cdhash: [40, 64],
  'git-commit-id': [40, 64],
  'ja3-fingerprint-md5': [32],
  'jarm-fingerprint': [62],
  'hassh-md5': [32],
  'hasshserver-md5': [32],
  'dom-hash': [32],
};

const NORMALISERS = new Map<string, Normaliser>([
  ['ip-src', ipOrNetwork],
  ['ip-dst', ipOrNetwork],
  ['ip', ipOrNetwork],
  ['ip-src|port', ipAndPort],
  ['ip-dst|port', ipAndPort],
  ['domain', domain],
  ['hostname', hostname],
  ['domain|ip', domainAndIp],
  ['hostname|port', hostAndPort],
  ['onion-address', onionAddress],
  ['url', url],
  ['link', url],
  ['uri', uri],
  ['email', emailAddress],
  ['email-src', emailAddress],
  ['email-dst', emailAddress],
  ['target-email', emailAddress],
  ['whois-registrant-email', emailAddress],
  ['tlsh', tlsh],
  ['ssdeep', fuzzyHash],
  ['impfuzzy', fuzzyHash],
  ['x509-fingerprint-md5', hexDigest([32], true)],
  ['x509-fingerprint-sha1', hexDigest([40], true)],
  ['x509-fingerprint-sha256', hexDigest([64], true)],
  ['vulnerability', cveId],
  ['weakness', cweId],
  ['AS', asNumber],
  ['mac-address', macAddress(6, '00:00:5e:00:53:01')],
  ['mac-eui-64', macAddress(8, '02:00:5e:10:00:00:00:01')],
  ['port', port],
]);
for (const [type, lengths] of Object.entries(HEX_DIGEST_LENGTHS)) NORMALISERS.set(type, hexDigest(lengths));
for (const type of MISP.types)
  if (type.startsWith('filename|')) {
    const digest = NORMALISERS.get(type.slice('filename|'.length));
    if (digest) NORMALISERS.set(type, filenameAnd(digest));
  }

interface TypeSpec {
  category: string;
  toIds: boolean;
  normalise: Normaliser;
  refang: boolean;
  multiline: boolean;
}

const SPECS = new Map<string, TypeSpec>(
  MISP.types.map((type) => {
    const defaults = MISP.sane_defaults[type];
    if (!defaults) throw new Error(`describeTypes.json has no sane_defaults for ${type}`);
    const multiline = MULTILINE_TYPES.has(type);
    return [
      type,
      {
        category: defaults.default_category,
        toIds: defaults.to_ids === 1,
        normalise: NORMALISERS.get(type) ?? asGiven,
        refang: !multiline && !VERBATIM_TYPES.has(type),
        multiline,
      },
    ];
  }),
);

// ---------------------------------------------------------------------------------------------
// The pipeline

function exceedsMaxBytes(value: string): boolean {
  // A UTF-16 code unit is 1 to 3 bytes of UTF-8 (a surrogate pair, two units, is 4).
  if (value.length > MAX_VALUE_BYTES) return true;
  return value.length * 3 > MAX_VALUE_BYTES && Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES;
}

function tooLong(value: string): Rejection {
  return reject(
    `value is ${Buffer.byteLength(value, 'utf8')} bytes of UTF-8; at most ${MAX_VALUE_BYTES} are allowed`,
  );
}

// C0 control characters and DEL, written as what is allowed.
const CONTROL_CHAR = /[^\t\x20-\x7e\u0080-\uffff]/;
const CONTROL_CHAR_BESIDES_NEWLINES = /[^\t\n\r\x20-\x7e\u0080-\uffff]/;

function tooDeeplyDefanged(value: string): Rejection {
  return reject(
    `${show(value)} is still defanged after ${MAX_REFANG_PASSES} rounds of refanging (tokens nested in tokens); write it with at most ${MAX_REFANG_PASSES} levels`,
  );
}

/** The stored value for an already trimmed `value`, or why there is none. */
function pipeline(spec: TypeSpec, value: string): Outcome {
  if (value === '') return reject('value is empty');
  if (exceedsMaxBytes(value)) return tooLong(value);
  if (!value.isWellFormed()) return reject('value is not well-formed Unicode (it has a lone surrogate)');
  const control = (spec.multiline ? CONTROL_CHAR_BESIDES_NEWLINES : CONTROL_CHAR).exec(value);
  if (control)
    return reject(
      `value contains the control character ${describeChar(control[0])} at position ${control.index}; only tab${spec.multiline ? ', line feed and carriage return are' : ' is'} allowed`,
    );
  const refanged = spec.refang ? refang(value) : value;
  if (spec.refang && isDefanged(refanged)) return tooDeeplyDefanged(value);
  let stored = spec.normalise(refanged);
  // Normalising can assemble a defanged token (a URL host "%28dot%29" decodes to "(dot)"); the
  // stored value must come out the same when normalised again, so refang until nothing changes.
  for (let pass = 0; spec.refang && typeof stored === 'string' && isDefanged(stored); pass++) {
    if (pass === MAX_RENORMALISE_PASSES) return reject(`${show(value)} keeps producing defanged text`);
    const again = refang(stored);
    if (isDefanged(again)) return tooDeeplyDefanged(value);
    stored = spec.normalise(again);
  }
  if (typeof stored === 'string' && stored !== value && exceedsMaxBytes(stored)) return tooLong(stored);
  return stored;
}

export function isObservableType(type: string): boolean {
  return SPECS.has(type);
}

/** Refang then validate and normalise `raw` as `type`. message says what to fix, e.g. "ip-src: 999.1.1.1 is not an IPv4 or IPv6 address". */
export function normaliseObservable(type: string, raw: string): NormaliseResult {
  const spec = SPECS.get(type);
  if (!spec)
    return {
      ok: false,
      message: `unknown type ${show(String(type))}; use a MISP attribute type such as ip-src, domain, url, sha256`,
    };
  if (typeof raw !== 'string') return { ok: false, message: `${type}: value must be a string` };
  const stored = pipeline(spec, raw.trim());
  if (typeof stored !== 'string') return { ok: false, message: `${type}: ${stored.reason}` };
  return { ok: true, observable: { type, category: spec.category, value: stored, toIds: spec.toIds } };
}

// One representative per distinct way of storing a value: types that share a normaliser and flags
// store the same value for the same input, so trying each way once covers every type.
const LOOKUP_SPECS: readonly TypeSpec[] = (() => {
  const seen = new Map<Normaliser, TypeSpec[]>();
  const distinct: TypeSpec[] = [];
  // As-given types first, so that the value as typed leads the list.
  const ordered = [...SPECS.values()].sort(
    (a, b) =>
      Number(a.normalise !== asGiven) - Number(b.normalise !== asGiven) ||
      Number(a.refang) - Number(b.refang),
  );
  for (const spec of ordered) {
    const same = seen.get(spec.normalise) ?? [];
    if (same.some((other) => other.refang === spec.refang && other.multiline === spec.multiline)) continue;
    same.push(spec);
    seen.set(spec.normalise, same);
    distinct.push(spec);
  }
  return distinct;
})();

/** The normalised forms a free-text lookup value could have been stored under (deduplicated, at most ~4), for `GET /indicators/lookup?value=`: e.g. refanged+trimmed as is, lower-cased, canonical IP, normalised URL. Must contain the exact stored value for any value that normaliseObservable accepted under any type. */
export function lookupCandidates(raw: string): string[] {
  if (typeof raw !== 'string') return [];
  const value = raw.trim();
  const candidates: string[] = [];
  if (value === '' || exceedsMaxBytes(value)) return candidates;
  for (const spec of LOOKUP_SPECS) {
    const stored = pipeline(spec, value);
    if (typeof stored === 'string' && !candidates.includes(stored)) candidates.push(stored);
  }
  return candidates;
}
