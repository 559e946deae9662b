import crypto from 'node:crypto';
import { canonicalJson } from '../../platform/canonical-json.ts';

/**
 * STIX 2.1 identifiers (§2.9): `type--UUID`. Cyber-observables get the spec's deterministic UUIDv5
 * over their ID Contributing Properties; our own domain and relationship objects get a UUIDv5 of
 * our namespace and the row they come from, so the same row exports with the same id every time,
 * on every node.
 */

/** The namespace the STIX 2.1 specification (§2.9) fixes for cyber-observable ids. */
export const SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';
/** Vytis's own namespace for the ids of the SDOs and SROs it derives from its rows. Never change it. */
export const VYTIS_NAMESPACE = '5b1f3a52-8c1e-4c43-9d57-7f0b2a4e6c31';

const namespaceBytes = new Map<string, Buffer>();

/** RFC 9562 §5.5 UUIDv5: SHA-1 of the namespace's 16 bytes and the name's UTF-8, version and variant set. */
export function uuidV5(namespace: string, name: string): string {
  let ns = namespaceBytes.get(namespace);
  if (!ns) {
    ns = Buffer.from(namespace.replaceAll('-', ''), 'hex');
    namespaceBytes.set(namespace, ns);
  }
  const hash = crypto.createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The order in which §2.9 picks the one hash that contributes to a cyber-observable's id. */
const HASH_PREFERENCE = ['MD5', 'SHA-1', 'SHA-256', 'SHA-512'];

/**
 * The deterministic id of a cyber-observable (§2.9): UUIDv5 in the SCO namespace over the RFC 8785
 * canonical JSON of its ID Contributing Properties that are present (`contributing`), `hashes`
 * reduced to one hash (MD5, else SHA-1, SHA-256, SHA-512, else the first given).
 */
export function scoId(
  type: string,
  object: Record<string, unknown>,
  contributing: readonly string[],
): string {
  const picked: Record<string, unknown> = {};
  for (const key of contributing) {
    const value = object[key];
    if (value === undefined) continue;
    if (key === 'hashes') {
      const hashes = value as Record<string, string>;
      const algorithm = HASH_PREFERENCE.find((name) => name in hashes) ?? Object.keys(hashes)[0];
      if (algorithm !== undefined) picked.hashes = { [algorithm]: hashes[algorithm] };
    } else {
      picked[key] = value;
    }
  }
  return `${type}--${uuidV5(SCO_NAMESPACE, canonicalJson(picked))}`;
}

/**
 * The id of an SDO or SRO derived from our own row: `kind` tells apart what one row makes, and the
 * type is part of the name too, so an indicator and the sighting of one observable differ in their
 * UUIDs as well, for tools that key on the UUID alone.
 */
export function sdoId(type: string, kind: string, rowId: string): string {
  return `${type}--${uuidV5(VYTIS_NAMESPACE, `${type}:${kind}:${rowId}`)}`;
}
