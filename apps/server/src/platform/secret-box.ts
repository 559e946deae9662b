import crypto, { type KeyObject } from 'node:crypto';

/** What a sealed value starts with; a value without it was stored before sealing, as is. */
const SEALED = 'sealed:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Secrets the node must read back (a TOTP seed checks codes, so it cannot be hashed), stored
 * sealed: AES-256-GCM under a key derived from the node's private key (HKDF-SHA-256, one key per
 * purpose), bound to the row they belong to. A copy of the database alone (a dump, a backup of it
 * without the data directory, a reader of the shared PostgreSQL) does not reveal them, and a
 * sealed value moved to another row does not open there. The node's processes share its key, so
 * each opens what another sealed.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(nodePrivateKey: KeyObject, purpose: string) {
    const material = nodePrivateKey.export({ format: 'der', type: 'pkcs8' });
    this.key = Buffer.from(crypto.hkdfSync('sha256', material, 'vytis secret box', purpose, 32));
  }

  /** `plaintext` sealed for the row `boundTo` (e.g. the user's id). */
  seal(plaintext: string, boundTo: string): string {
    const iv = crypto.randomBytes(IV_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv).setAAD(Buffer.from(boundTo));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return SEALED + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The plaintext of a sealed value (a value stored before sealing is returned as it is). */
  open(stored: string, boundTo: string): string {
    if (!stored.startsWith(SEALED)) return stored;
    const raw = Buffer.from(stored.slice(SEALED.length), 'base64url');
    const decipher = crypto
      .createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES))
      .setAAD(Buffer.from(boundTo))
      .setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new Error(
        'a sealed secret does not open with this node key: the data directory holds another key than the one it was sealed with, or the value was moved from another row',
      );
    }
  }

  isSealed(stored: string): boolean {
    return stored.startsWith(SEALED);
  }
}
