import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { invalidInput } from '../errors.ts';
import type { Database } from './db/schema.ts';
import { keyFile } from './keys.ts';

/**
 * Seals secrets the node must read back (a user's TOTP seed) before they are stored: AES-256-GCM
 * under a key kept in the data directory beside the signing key, never in the database. A copy of
 * the database alone (a dump, a replica, a stolen disk of the PostgreSQL server) then gives nobody
 * a second factor. Each sealed value is bound to a context (whose secret it is, for what), so a
 * value moved to another row does not open there.
 */
export interface SecretBox {
  seal(plain: string, context: string): string;
  /** The plain secret, or null when the value was not sealed by this key for this context. */
  open(sealed: string, context: string): string | null;
}

/** Marks a sealed value, and the format: a future format gets another prefix. */
const SEALED_PREFIX = 'sealed-v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export const isSealed = (value: string) => value.startsWith(SEALED_PREFIX);

export function secretBoxKeyFile(dataDir: string): string {
  return path.join(path.dirname(keyFile(dataDir)), 'secrets-aes256gcm.key');
}

/**
 * The data directory's key, checked against the one the database's secrets are sealed under. The
 * first process of a node creates the key and records its fingerprint; every other process of the
 * node must be given the same key file (they share `keys/`). A process without it, or with another,
 * is refused before it seals anything the others could not open; a backup carries the key with the
 * other keys.
 */
export async function openSecretBox(dataDir: string, db: Kysely<Database>, now: Date): Promise<SecretBox> {
  const file = secretBoxKeyFile(dataDir);
  const recorded = await recordedFingerprint(db);
  let created = false;
  if (!fs.existsSync(file)) {
    if (recorded !== undefined) throw missingKey(file, recorded);
    created = createKeyFile(file);
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url');
  if (key.length !== KEY_BYTES) throw invalidInput(`${file} does not hold a ${KEY_BYTES}-byte key`);
  const fingerprint = fingerprintOf(key);
  await db
    .insertInto('sealing_keys')
    .values({ purpose: PURPOSE, fingerprint, created_at: now })
    .onConflict((oc) => oc.column('purpose').doNothing())
    .execute();
  const sealing = await recordedFingerprint(db);
  if (sealing !== fingerprint) {
    // Another process created the node's key meanwhile: this one's own would serve nobody.
    if (created) fs.rmSync(file, { force: true });
    throw created
      ? missingKey(file, sealing!)
      : invalidInput(
          `${file} is not the key this node's secrets are sealed under (fingerprint ${sealing}, this one ${fingerprint}): copy the node's keys/ from the data directory of its other processes, or restore the data directory from the node's backup`,
        );
  }
  return secretBoxWithKey(key);
}

/**
 * For a node whose key is lost (`vytis key new-sealing-key`): a new key, written beside the key
 * file; `recordNew` records its fingerprint in the caller's transaction, and `install` puts it in
 * place after that commits (the previous file, if any, is kept renamed). Until `install`, the node
 * still has its previous key file; `discard` removes the new one if the transaction failed.
 */
export function prepareNewKey(dataDir: string, now: Date) {
  const file = secretBoxKeyFile(dataDir);
  const next = `${file}.new`;
  const key = crypto.randomBytes(KEY_BYTES);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(next, `${key.toString('base64url')}\n`, { mode: 0o600 });
  return {
    file,
    async recordNew(db: Kysely<Database>) {
      await db
        .insertInto('sealing_keys')
        .values({ purpose: PURPOSE, fingerprint: fingerprintOf(key), created_at: now })
        .onConflict((oc) =>
          oc.column('purpose').doUpdateSet({ fingerprint: fingerprintOf(key), created_at: now }),
        )
        .execute();
    },
    /** The previous key file's new name, if there was one. */
    install(): string | null {
      let kept: string | null = null;
      if (fs.existsSync(file)) {
        kept = `${file}.replaced-${now.toISOString().replace(/[:.]/g, '-')}`;
        fs.renameSync(file, kept);
      }
      fs.renameSync(next, file);
      return kept;
    },
    discard() {
      fs.rmSync(next, { force: true });
    },
  };
}

const PURPOSE = 'stored-secrets';

/** Names the key without revealing it. */
const fingerprintOf = (key: Buffer) =>
  crypto.createHmac('sha256', key).update('vytis sealing key fingerprint').digest('hex').slice(0, 32);

async function recordedFingerprint(db: Kysely<Database>): Promise<string | undefined> {
  const row = await db
    .selectFrom('sealing_keys')
    .select('fingerprint')
    .where('purpose', '=', PURPOSE)
    .executeTakeFirst();
  return row?.fingerprint;
}

/** True if this call made the file; false if another process of the node did meanwhile. */
function createKeyFile(file: string): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${crypto.randomBytes(KEY_BYTES).toString('base64url')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  }
}

const missingKey = (file: string, fingerprint: string) =>
  invalidInput(
    `${file} is missing, and this node's secrets are sealed under a key (fingerprint ${fingerprint}): copy the node's keys/ from the data directory of its other processes, or restore the data directory from the node's backup; only if the key is lost, \`vytis key new-sealing-key\` makes a new one and removes every user's second factor`,
  );

export function secretBoxWithKey(key: Buffer): SecretBox {
  return {
    seal(plain, context) {
      const iv = crypto.randomBytes(IV_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return SEALED_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    open(sealed, context) {
      if (!isSealed(sealed)) return null;
      const bytes = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
      if (bytes.length < IV_BYTES + TAG_BYTES) return null;
      try {
        const decipher = crypto.createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
        const body = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        return null;
      }
    },
  };
}
