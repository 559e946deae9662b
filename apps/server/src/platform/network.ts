import dns from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

/** Where an outbound connection goes: one address, decided before connecting. */
export interface Destination {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to its addresses; injectable so tests can make a name change its answer. */
export type ResolveHost = (host: string) => Promise<Destination[]>;

export const systemResolver: ResolveHost = async (host) =>
  (await dns.lookup(host, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/**
 * Which non-public destinations a node may call: none (the default), all (a closed test or lab
 * network), or only the listed CIDR networks (a receiver in the node's own intranet).
 */
export type PrivateNetworks = boolean | readonly string[];

/** Whether an entry of a PrivateNetworks list is a network in CIDR notation, e.g. 10.8.0.0/16. */
export const isNetwork = (entry: string) => ipaddr.isValidCIDR(entry);

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
const LOCAL_USE_NAT64 = ipaddr.parseCIDR('64:ff9b:1::/48');

const ipv4From = (high: number, low: number) =>
  new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);

/**
 * Where RFC 6052 puts the IPv4 address for each length of a translation prefix: after the prefix,
 * skipping bits 64–71 (the reserved `u` octet), except under /96 where it is the last 32 bits.
 */
function rfc6052IPv4(bytes: number[], prefixBits: 32 | 40 | 48 | 56 | 64 | 96): ipaddr.IPv4 {
  const octets: number[] = [];
  for (let i = prefixBits / 8; octets.length < 4; i++) if (i !== 8) octets.push(bytes[i]!);
  return new ipaddr.IPv4(octets);
}

/**
 * A local-use NAT64 network (RFC 8215) is any prefix of /48 or longer inside 64:ff9b:1::/48, so
 * its IPv4 address may sit in any of the layouts for /48, /56, /64 and /96: all are candidates.
 */
const LOCAL_USE_PREFIX_LENGTHS = [48, 56, 64, 96] as const;

/**
 * The IPv4 addresses a v6 address may stand for, when it is a translation or tunnel form that
 * reaches an IPv4 host: IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96; local-use
 * 64:ff9b:1::/48 in every layout its prefix length allows) and 6to4 (2002:AABB:CCDD::/48).
 */
function embeddedIPv4s(address: ipaddr.IPv6): ipaddr.IPv4[] {
  const p = address.parts;
  if (address.isIPv4MappedAddress()) return [address.toIPv4Address()];
  if (address.match(LOCAL_USE_NAT64)) {
    const bytes = address.toByteArray();
    return LOCAL_USE_PREFIX_LENGTHS.map((bits) => rfc6052IPv4(bytes, bits));
  }
  if (address.range() === 'rfc6052') return [ipv4From(p[6]!, p[7]!)];
  if (address.range() === '6to4') return [ipv4From(p[1]!, p[2]!)];
  return [];
}

/**
 * Why an address is not on the public internet (its range's name), or null when it is. Only
 * IPv4 unicast outside every special-purpose range and IPv6 global unicast (2000::/3) outside
 * every special-purpose range are public; v6 forms that carry an IPv4 address are judged by it
 * (by each one it may be, where the layout is not known),
 * and Teredo, whose embedded address is obfuscated, is never public.
 */
export function nonPublicRange(address: string): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return 'not an IP address';
  }
  if (parsed.kind() === 'ipv4') {
    const range = parsed.range();
    return range === 'unicast' ? null : range;
  }
  const v6 = parsed as ipaddr.IPv6;
  if (v6.zoneId) return 'scoped';
  // Public only if every IPv4 address it may stand for is.
  for (const embedded of embeddedIPv4s(v6)) {
    const inner = nonPublicRange(embedded.toString());
    if (inner) return `${v6.range()} form of a ${inner} IPv4 address`;
  }
  if (embeddedIPv4s(v6).length > 0) return null;
  const range = v6.range();
  if (range !== 'unicast') return range;
  return v6.match(GLOBAL_UNICAST_V6) ? null : 'reserved';
}

function inNetworks(address: string, networks: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][]) {
  const inListed = (form: ipaddr.IPv4 | ipaddr.IPv6) =>
    networks.some(([network, bits]) => form.kind() === network.kind() && form.match(network, bits));
  const parsed = ipaddr.parse(address);
  if (inListed(parsed)) return true;
  if (parsed.kind() === 'ipv4') return false;
  // A translated form is allowed when each IPv4 address it may stand for is public or listed.
  const embedded = embeddedIPv4s(parsed as ipaddr.IPv6);
  return (
    embedded.length > 0 &&
    embedded.every((form) => inListed(form) || nonPublicRange(form.toString()) === null)
  );
}

/** Whether the node may connect to this address, given which private networks it allows. */
export function mayConnectTo(address: string, allowed: PrivateNetworks): boolean {
  if (allowed === true) return ipaddr.isValid(address);
  if (nonPublicRange(address) === null) return true;
  if (allowed === false) return false;
  return inNetworks(
    address,
    allowed.filter(isNetwork).map((entry) => ipaddr.parseCIDR(entry)),
  );
}

export type CheckedDestination =
  | { ok: true; destination: Destination }
  | { ok: false; reason: 'unresolved' | 'not_public'; message: string };

/**
 * Resolves a URL's host once and decides whether the node may call it. Every address it resolves
 * to must be allowed (a name with one private address among public ones is refused), and the
 * caller connects to the destination returned here and nowhere else: resolving again at connect
 * time would let a name answer differently (DNS rebinding).
 *
 * The message never says what a name resolved to, nor whether it resolved at all, so that it
 * cannot be used to read the node's own DNS.
 */
export async function checkDestination(
  url: URL,
  options: {
    allowed: PrivateNetworks;
    resolve?: ResolveHost;
    /** Ends a lookup that takes too long: it then counts as not resolving. */
    signal?: AbortSignal;
  },
): Promise<CheckedDestination> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) {
    const address = ipaddr.parse(host);
    const normal = address.toString();
    if (mayConnectTo(normal, options.allowed))
      return { ok: true, destination: { address: normal, family: address.kind() === 'ipv4' ? 4 : 6 } };
    return {
      ok: false,
      reason: 'not_public',
      message: `${host} is not a public address (${nonPublicRange(normal)})`,
    };
  }
  // Unresolvable and private names get the same answer unless everything is allowed anyway.
  const refused = {
    ok: false,
    reason: options.allowed === true ? 'unresolved' : 'not_public',
    message:
      options.allowed === true
        ? `${host} does not resolve`
        : `${host} does not resolve to public addresses only`,
  } as const;
  let resolved: Destination[];
  try {
    resolved = await untilAborted((options.resolve ?? systemResolver)(host), options.signal);
  } catch {
    return refused;
  }
  // Judged and pinned in normal form, so the address connected to is exactly the one judged.
  const addresses = resolved.map((d) => (ipaddr.isValid(d.address) ? ipaddr.parse(d.address) : null));
  if (addresses.length === 0 || addresses.some((a) => a === null)) return refused;
  if (!addresses.every((a) => mayConnectTo(a!.toString(), options.allowed)))
    return { ok: false, reason: 'not_public', message: `${host} does not resolve to public addresses only` };
  const first = addresses[0]!;
  return { ok: true, destination: { address: first.toString(), family: first.kind() === 'ipv4' ? 4 : 6 } };
}

/**
 * The lookup's answer, or a rejection once `signal` aborts: the system resolver cannot be
 * cancelled, so it is left to finish on its own and its answer is dropped.
 */
function untilAborted<T>(pending: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return pending;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}
