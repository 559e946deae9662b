import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { invalidInput } from '../errors.ts';

/**
 * The node's Ed25519 signing key. Created on first start under the data directory (mode 0600) and
 * never leaves it; its key id is derived from the public key (RFC 7638 thumbprint), so every
 * process that shares the directory signs under the same id.
 */
export interface NodeKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function keyFile(dataDir: string): string {
  return path.join(dataDir, 'keys', 'node-ed25519.pem');
}

/**
 * Gives another process of the node its keys (the signing key, the key sealing stored secrets):
 * processes of one node on one PostgreSQL share these, and nothing else of their data directory.
 */
export function copyNodeKeys(fromDataDir: string, toDataDir: string): void {
  const from = path.dirname(keyFile(fromDataDir));
  const to = path.dirname(keyFile(toDataDir));
  fs.mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const name of fs.readdirSync(from)) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

export function loadOrCreateNodeKey(dataDir: string): NodeKey {
  const file = keyFile(dataDir);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(file)) {
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      // 'wx' fails if another process won the race; then we read its key below.
      fs.writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return nodeKeyFromPrivatePem(fs.readFileSync(file, 'utf8'));
}

export function nodeKeyFromPrivatePem(pem: string): NodeKey {
  const privateKey = crypto.createPrivateKey(pem);
  const publicKey = crypto.createPublicKey(privateKey);
  return { keyId: keyIdOf(publicKey), privateKey, publicKey };
}

/**
 * A public key to trust from a PEM file: a node's private key file or its public key. A file that
 * is neither, or not Ed25519, is refused with a message naming it.
 */
export function trustedKeyFromFile(file: string): { keyId: string; publicKey: KeyObject } {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw invalidInput(`cannot read key file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let publicKey: KeyObject;
  try {
    publicKey = pem.includes('PRIVATE KEY')
      ? crypto.createPublicKey(crypto.createPrivateKey(pem))
      : crypto.createPublicKey(pem);
  } catch {
    throw invalidInput(`key file ${file} is not a PEM key`);
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw invalidInput(`key file ${file} holds a ${publicKey.asymmetricKeyType} key; node keys are Ed25519`);
  }
  return { keyId: keyIdOf(publicKey), publicKey };
}

/** RFC 7638 JWK thumbprint of an Ed25519 public key. */
export function keyIdOf(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const thumbprintInput = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return crypto.createHash('sha256').update(thumbprintInput).digest('base64url');
}

export function sign(key: NodeKey, payload: string): string {
  return crypto.sign(null, Buffer.from(payload), key.privateKey).toString('base64url');
}

export function verifySignature(publicKey: KeyObject, payload: string, signature: string): boolean {
  try {
    return crypto.verify(null, Buffer.from(payload), publicKey, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}
