import { normaliseObservable, refang } from '../indicators/observable-types.ts';

/** What a value typed without a type most likely is, and its normalised form. */
export interface ValueKind {
  /** A MISP type, or null when none fits (the value is looked up as it is). */
  type: string | null;
  value: string;
}

export interface Host {
  type: 'domain' | 'hostname' | 'ip-dst';
  value: string;
}

// Tried in this order; the first type that takes the value names it. A URL is only a URL when it
// says so (a scheme, or a path): "example.com" would otherwise be taken as "http://example.com".
const GUESSES = [
  'ip-dst',
  'email',
  'url',
  'domain',
  'md5',
  'sha1',
  'sha256',
  'sha512',
  'vulnerability',
  'hostname',
] as const;
const LOOKS_LIKE_URL = /^[a-z][a-z0-9+.-]*:\/\/|\//i;

export function classify(query: string): ValueKind {
  const refanged = refang(query.trim());
  for (const type of GUESSES) {
    if (type === 'url' && !LOOKS_LIKE_URL.test(refanged)) continue;
    if (type === 'email' && !refanged.includes('@')) continue;
    // A single name ("localhost") is a host name only as the last resort, and only if bare.
    if (type === 'hostname' && !/^[a-z0-9-]+$/i.test(refanged)) continue;
    const normalised = normaliseObservable(type, query);
    if (normalised.ok) return { type, value: normalised.observable.value };
  }
  return { type: null, value: refanged };
}

/** The host of a normalised URL: a domain (or single host name), or an IP address. */
export function hostOfUrl(url: string): Host | null {
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return null;
  }
  if (hostname === '') return null;
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  const ip = normaliseObservable('ip-dst', bare);
  if (ip.ok) return { type: 'ip-dst', value: ip.observable.value };
  const domain = normaliseObservable('domain', hostname);
  if (domain.ok) return { type: 'domain', value: domain.observable.value };
  const single = normaliseObservable('hostname', hostname);
  return single.ok ? { type: 'hostname', value: single.observable.value } : null;
}

/**
 * A pasted block as values: one per line, and within a line split at spaces — except where the
 * spaces belong to a defanged token (" [dot] ", " dot "), which is refanged first.
 */
export function splitPasted(text: string): string[] {
  return text
    .split(/\r\n|\r|\n/)
    .flatMap((line) => refang(line.trim()).split(/\s+/))
    .filter((value) => value !== '');
}
