import ipaddr from 'ipaddr.js';

/**
 * The source a limit counts a client address under. An IPv6 client is its /64: one subscriber
 * commonly holds a whole /64 and could otherwise take a fresh address for each guess. An
 * IPv4-mapped IPv6 address is the IPv4 address it carries, so a dual-stack listener counts one
 * client once.
 */
export function clientSource(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  const prefix = v6.parts.slice(0, 4).map((part) => part.toString(16));
  return `${prefix.join(':')}::/64`;
}
