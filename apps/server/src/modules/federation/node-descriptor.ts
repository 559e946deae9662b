import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  FEDERATION_PROTOCOL,
  type KeyRotation,
  type NodeDescriptor,
  type NodeJwk,
  type NodeRole,
} from '@vytis/contracts';
import { canonicalJson } from '../../platform/canonical-json.ts';
import {
  keyFile,
  keyIdOf,
  type NodeKey,
  nodeKeyFromPrivatePem,
  sign,
  verifySignature,
} from '../../platform/keys.ts';

/**
 * A node's signed descriptor (GET /federation/v1/node): its party, URL, role and key, signed by
 * that key over the RFC 8785 JSON of everything but the signature. Peers pin the key's RFC 7638
 * thumbprint, agreed out of band; the descriptor only says which key that is and proves the node
 * holds it.
 *
 * Re-keying: `vytis key rotate` keeps the old key beside the new one with a statement signed by
 * the OLD key naming the new key id. The node serves that statement in its descriptor, so a peer
 * that pinned the old key moves to the new one on that proof alone, and on nothing else.
 */

export { FEDERATION_PROTOCOL };
/** What a rotation statement says; signed by the previous key. */
export const ROTATION_PURPOSE = `${FEDERATION_PROTOCOL} key rotation`;

/** The JWK of an Ed25519 public key, with its thumbprint as `kid`. */
export function publicJwk(publicKey: KeyObject): NodeJwk {
  const jwk = publicKey.export({ format: 'jwk' });
  return { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x), kid: keyIdOf(publicKey), use: 'sig' };
}

/** The bytes a rotation statement signs: the new key id, named by the previous key. */
export const rotationPayload = (previousKeyId: string, keyId: string) =>
  canonicalJson({ purpose: ROTATION_PURPOSE, previousKeyId, keyId });

/** The previous key's statement that `newKeyId` replaces it. */
export function signRotation(previous: NodeKey, newKeyId: string): KeyRotation {
  return {
    previousKeyId: previous.keyId,
    previousKey: publicJwk(previous.publicKey),
    signature: sign(previous, rotationPayload(previous.keyId, newKeyId)),
  };
}

export interface DescriptorInput {
  party: string;
  url: string;
  role: NodeRole;
  key: NodeKey;
  issuedAt: Date;
  /** The statement of the key this one replaced (only while it names this key). */
  rotation?: KeyRotation | null | undefined;
}

export function buildDescriptor(input: DescriptorInput): NodeDescriptor {
  const unsigned: Omit<NodeDescriptor, 'signature'> = {
    party: input.party,
    url: input.url,
    role: input.role,
    keys: [publicJwk(input.key.publicKey)],
    protocol: FEDERATION_PROTOCOL,
    issuedAt: input.issuedAt.toISOString(),
    ...(input.rotation ? { rotation: input.rotation } : {}),
  };
  return { ...unsigned, signature: sign(input.key, canonicalJson(unsigned)) };
}

/** A descriptor that cannot be trusted; the message says why, in our words. */
export class DescriptorRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DescriptorRefused';
  }
}

export interface VerifiedDescriptor {
  party: string;
  url: string;
  role: NodeRole;
  keyId: string;
  publicKey: KeyObject;
  jwk: NodeJwk;
  /** The pinned key id the node moved on from, proven by a rotation statement signed by it. */
  rotatedFrom?: string;
}

export interface DescriptorPin {
  /** The thumbprint trusted until now: the descriptor's key must be it, or be named by it. */
  pinnedKeyId?: string | undefined;
  /** The key trusted until now (when known, the rotation is checked against it, not the JWK sent). */
  pinnedKey?: KeyObject | undefined;
}

const B64URL_32 = /^[A-Za-z0-9_-]{43}$/;
const PARTY = /^[A-Z]{2,8}$/;
const DESCRIPTOR_FIELDS = new Set([
  'party',
  'url',
  'role',
  'keys',
  'protocol',
  'issuedAt',
  'rotation',
  'signature',
]);
const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** An Ed25519 public key from a JWK whose `kid` is its thumbprint; `what` names it in refusals. */
export function keyFromJwk(
  value: unknown,
  what: string,
): { keyId: string; publicKey: KeyObject; jwk: NodeJwk } {
  if (!isObject(value)) throw new DescriptorRefused(`${what} is not a JWK object`);
  if (value.kty !== 'OKP' || value.crv !== 'Ed25519')
    throw new DescriptorRefused(`${what} is not an Ed25519 key (kty OKP, crv Ed25519)`);
  if (typeof value.x !== 'string' || !B64URL_32.test(value.x))
    throw new DescriptorRefused(`${what} has no valid x (32 bytes, base64url)`);
  if (value.use !== undefined && value.use !== 'sig')
    throw new DescriptorRefused(`${what} is not a signing key`);
  let publicKey: KeyObject;
  try {
    publicKey = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: value.x }, format: 'jwk' });
  } catch {
    throw new DescriptorRefused(`${what} is not a valid Ed25519 public key`);
  }
  const keyId = keyIdOf(publicKey);
  if (value.kid !== keyId)
    throw new DescriptorRefused(
      `${what} names kid ${String(value.kid).slice(0, 60)}, but its thumbprint is ${keyId}`,
    );
  return { keyId, publicKey, jwk: { kty: 'OKP', crv: 'Ed25519', x: value.x, kid: keyId, use: 'sig' } };
}

/** The descriptor as JSON (text, or already parsed), or a refusal saying what is wrong. */
export function parseDescriptor(json: unknown): NodeDescriptor {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch {
      throw new DescriptorRefused('the descriptor is not JSON');
    }
  }
  if (!isObject(value)) throw new DescriptorRefused('the descriptor is not a JSON object');
  const unknown = Object.keys(value).find((k) => !DESCRIPTOR_FIELDS.has(k));
  if (unknown !== undefined)
    throw new DescriptorRefused(
      `the descriptor has an unknown field ${JSON.stringify(unknown.slice(0, 40))}`,
    );
  if (typeof value.protocol !== 'string') throw new DescriptorRefused('the descriptor names no protocol');
  if (value.protocol !== FEDERATION_PROTOCOL)
    throw new DescriptorRefused(
      `the descriptor speaks protocol ${JSON.stringify(value.protocol.slice(0, 60))}; this node speaks ${FEDERATION_PROTOCOL}`,
    );
  if (typeof value.party !== 'string' || !PARTY.test(value.party))
    throw new DescriptorRefused('the descriptor has no valid party code');
  if (typeof value.url !== 'string' || !/^https?:\/\//.test(value.url) || value.url.length > 2000)
    throw new DescriptorRefused('the descriptor has no valid http(s) url');
  if (value.role !== 'coordinator' && value.role !== 'national')
    throw new DescriptorRefused('the descriptor’s role is neither coordinator nor national');
  if (!Array.isArray(value.keys) || value.keys.length !== 1)
    throw new DescriptorRefused('the descriptor must list exactly one key');
  if (typeof value.issuedAt !== 'string' || !Number.isFinite(Date.parse(value.issuedAt)))
    throw new DescriptorRefused('the descriptor has no valid issuedAt time');
  if (typeof value.signature !== 'string' || value.signature.length > 200)
    throw new DescriptorRefused('the descriptor is not signed');
  if (value.rotation !== undefined) {
    const r = value.rotation;
    if (
      !isObject(r) ||
      typeof r.previousKeyId !== 'string' ||
      typeof r.signature !== 'string' ||
      !isObject(r.previousKey) ||
      Object.keys(r).some((k) => !['previousKeyId', 'previousKey', 'signature'].includes(k))
    )
      throw new DescriptorRefused('the descriptor’s rotation is not {previousKeyId, previousKey, signature}');
  }
  return value as unknown as NodeDescriptor;
}

/**
 * Checks a descriptor: its shape, its protocol, that its key's `kid` is the key's thumbprint, its
 * signature by that key, and, given a pin, that the key is the pinned one, or is named by a
 * rotation statement that the pinned key signed. Throws DescriptorRefused saying why not.
 */
export function verifyDescriptor(json: unknown, pin: DescriptorPin = {}): VerifiedDescriptor {
  const descriptor = parseDescriptor(json);
  const { keyId, publicKey, jwk } = keyFromJwk(descriptor.keys[0], 'the descriptor’s key');
  const { signature, ...unsigned } = descriptor;
  if (!verifySignature(publicKey, canonicalJson(unsigned), signature))
    throw new DescriptorRefused(`the descriptor’s signature does not verify with its own key ${keyId}`);
  const verified: VerifiedDescriptor = {
    party: descriptor.party,
    url: descriptor.url,
    role: descriptor.role,
    keyId,
    publicKey,
    jwk,
  };
  const pinned = pin.pinnedKeyId ?? (pin.pinnedKey ? keyIdOf(pin.pinnedKey) : undefined);
  if (pinned === undefined || pinned === keyId) return verified;

  const rotation = descriptor.rotation;
  if (!rotation)
    throw new DescriptorRefused(
      `the descriptor’s key is ${keyId}, not the pinned ${pinned}, and it carries no rotation statement signed by the pinned key`,
    );
  if (rotation.previousKeyId !== pinned)
    throw new DescriptorRefused(
      `the descriptor’s key is ${keyId}, not the pinned ${pinned}; its rotation statement names ${rotation.previousKeyId.slice(0, 60)} as the previous key, not the pinned one`,
    );
  const previous = keyFromJwk(rotation.previousKey, 'the rotation’s previous key');
  if (previous.keyId !== pinned)
    throw new DescriptorRefused(
      `the rotation statement is not signed by the pinned key ${pinned}: the key it carries is ${previous.keyId}`,
    );
  const signer = pin.pinnedKey ?? previous.publicKey;
  if (!verifySignature(signer, rotationPayload(pinned, keyId), rotation.signature))
    throw new DescriptorRefused(
      `the rotation statement naming ${keyId} is not signed by the pinned key ${pinned}`,
    );
  return { ...verified, rotatedFrom: pinned };
}

// ---------------------------------------------------------------------------------------------
// The key files: `vytis key rotate`

/** The key the node signed with before its last rotation. */
export const previousKeyFile = (dataDir: string) => path.join(dataDir, 'keys', 'node-ed25519.previous.pem');
/** The previous key's statement naming the current key (JSON: KeyRotation plus keyId, rotatedAt). */
export const rotationFile = (dataDir: string) => path.join(dataDir, 'keys', 'node-ed25519.rotation.json');

export interface RotationOutcome {
  previousKeyId: string;
  keyId: string;
  rotation: KeyRotation;
}

/**
 * Re-keys the node on disk: a new Ed25519 key becomes node-ed25519.pem, the old one is kept as
 * node-ed25519.previous.pem, and the old key's signed statement naming the new key id is written
 * beside them (a key retired by an earlier rotation is kept as node-ed25519.retired-<key id>.pem).
 * The statement is written before the new key takes its place (the last step, an
 * atomic rename), so a crash in between leaves the old key in use and a statement naming a key
 * that is not: `loadKeyRotation` ignores such a statement. A running node keeps its key in
 * memory and uses the new one after its restart.
 */
export function rotateNodeKey(dataDir: string, now: Date = new Date()): RotationOutcome {
  const file = keyFile(dataDir);
  let currentPem: string;
  try {
    currentPem = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `this node has no key to rotate at ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}): start it once first`,
    );
  }
  const current = nodeKeyFromPrivatePem(currentPem);
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const next = nodeKeyFromPrivatePem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const rotation = signRotation(current, next.keyId);
  const write = (target: string, text: string) => {
    const temp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(temp, text, { mode: 0o600 });
    fs.renameSync(temp, target);
  };
  // A second rotation: the key before the previous one is kept too (old checkpoints and passes
  // were signed with it), under its key id.
  const previousFile = previousKeyFile(dataDir);
  if (fs.existsSync(previousFile)) {
    const older = nodeKeyFromPrivatePem(fs.readFileSync(previousFile, 'utf8'));
    fs.renameSync(previousFile, path.join(dataDir, 'keys', `node-ed25519.retired-${older.keyId}.pem`));
  }
  write(previousFile, currentPem);
  write(
    rotationFile(dataDir),
    `${JSON.stringify({ ...rotation, keyId: next.keyId, rotatedAt: now.toISOString() }, null, 2)}\n`,
  );
  write(file, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  return { previousKeyId: current.keyId, keyId: next.keyId, rotation };
}

/**
 * The rotation statement to serve with `key`'s descriptor: the one beside the key files, if it
 * names this key and its previous key signed it; otherwise none (no rotation, or one that did not
 * complete).
 */
export function loadKeyRotation(dataDir: string, key: NodeKey): KeyRotation | null {
  let stored: unknown;
  try {
    stored = JSON.parse(fs.readFileSync(rotationFile(dataDir), 'utf8'));
  } catch {
    return null;
  }
  if (!isObject(stored) || stored.keyId !== key.keyId) return null;
  try {
    const previous = keyFromJwk(stored.previousKey, 'the previous key');
    if (previous.keyId !== stored.previousKeyId || typeof stored.signature !== 'string') return null;
    if (!verifySignature(previous.publicKey, rotationPayload(previous.keyId, key.keyId), stored.signature))
      return null;
    return { previousKeyId: previous.keyId, previousKey: previous.jwk, signature: stored.signature };
  } catch {
    return null;
  }
}
