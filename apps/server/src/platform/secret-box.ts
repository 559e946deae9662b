import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { AppError, invalidInput } from '../errors.ts';
import type { Database } from './db/schema.ts';
import type { Executor } from './db/transaction.ts';
import { keyFile } from './keys.ts';

/**
 * Seals secrets the node must read back (a user's TOTP seed) before they are stored: AES-256-GCM
 * under a key kept in the data directory beside the signing key, never in the database. A copy of
 * the database alone (a dump, a replica, a stolen disk of the PostgreSQL server) then gives nobody
 * a second factor. Each sealed value is bound to a context (whose secret it is, for what), so a
 * value moved to another row does not open there.
 */
export interface SecretBox {
  /** Names the key without revealing it; null for a box without the node's key. */
  readonly fingerprint: string | null;
  seal(plain: string, context: string): string;
  /** The plain secret, or null when the value was not sealed by this key for this context. */
  open(sealed: string, context: string): string | null;
}

/** Marks a sealed value, and the format: a future format gets another prefix. */
const SEALED_PREFIX = 'sealed-v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const PURPOSE = 'stored-secrets';

export const isSealed = (value: string) => value.startsWith(SEALED_PREFIX);

export function secretBoxKeyFile(dataDir: string): string {
  return path.join(path.dirname(keyFile(dataDir)), 'secrets-aes256gcm.key');
}

/**
 * The data directory's key, checked against the one the database's secrets are sealed under. The
 * first node process (`vytis start`) creates the key and records its fingerprint; every other
 * process of the node must be given the same key file (they share `keys/`). A process without it,
 * or with another, is refused before it seals anything the others could not open.
 *
 * `ifPresent` (the command line without a running node): the key is used if this directory has
 * the node's, and never created or recorded, so a command run elsewhere does not make its key the
 * node's; without it, the box seals nothing and opens nothing.
 */
export async function openSecretBox(
  dataDir: string,
  db: Kysely<Database>,
  now: Date,
  mode: 'create' | 'ifPresent' = 'create',
): Promise<SecretBox> {
  const file = secretBoxKeyFile(dataDir);
  const recorded = await recordedFingerprint(db);
  finishInstalling(file, recorded);
  if (mode === 'ifPresent') {
    const key = fs.existsSync(file) ? readKey(file) : null;
    return key && fingerprintOf(key) === recorded ? secretBoxWithKey(key) : LOCKED_BOX;
  }
  let created = false;
  if (!fs.existsSync(file)) {
    if (recorded !== undefined) throw missingKey(file, recorded);
    created = createKeyFile(file);
  }
  const key = readKey(file);
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
    throw created ? missingKey(file, sealing!) : otherKey(file, sealing!, fingerprint);
  }
  return secretBoxWithKey(key);
}

/**
 * Why a backup of this data directory and database could not be restored into a working node (the
 * key the database's secrets are sealed under is not here), or null.
 */
export async function sealingKeyProblem(dataDir: string, db: Kysely<Database>): Promise<string | null> {
  const recorded = await recordedFingerprint(db);
  if (recorded === undefined) return null;
  const file = secretBoxKeyFile(dataDir);
  if (!fs.existsSync(file)) return missingKey(file, recorded).message;
  const fingerprint = fingerprintOf(readKey(file));
  return fingerprint === recorded ? null : otherKey(file, recorded, fingerprint).message;
}

/** The database's record of the key its secrets are sealed under, in the caller's transaction. */
export async function recordedFingerprint(db: Executor): Promise<string | undefined> {
  const row = await db
    .selectFrom('sealing_keys')
    .select('fingerprint')
    .where('purpose', '=', PURPOSE)
    .executeTakeFirst();
  return row?.fingerprint;
}

/**
 * For a node whose key is lost (`vytis key new-sealing-key`): a new key, written (and flushed)
 * beside the key file; `recordNew` records its fingerprint in the caller's transaction, and
 * `install` puts it in place after that commits. A crash between the two leaves the new file,
 * which the next start installs (`finishInstalling`); `discard` removes it if the transaction failed.
 */
export function prepareNewKey(dataDir: string, now: Date) {
  const file = secretBoxKeyFile(dataDir);
  const key = crypto.randomBytes(KEY_BYTES);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeDurably(newFile(file), key);
  return {
    file,
    async recordNew(db: Executor) {
      const fingerprint = fingerprintOf(key);
      await db
        .insertInto('sealing_keys')
        .values({ purpose: PURPOSE, fingerprint, created_at: now })
        .onConflict((oc) => oc.column('purpose').doUpdateSet({ fingerprint, created_at: now }))
        .execute();
    },
    /** The previous key file's new name, if there was one. */
    install: (): string | null => install(file, now),
    discard() {
      fs.rmSync(newFile(file), { force: true });
    },
  };
}

const newFile = (file: string) => `${file}.new`;

/** A new key the database already records, left by a `new-sealing-key` cut short, is put in place. */
function finishInstalling(file: string, recorded: string | undefined) {
  const next = newFile(file);
  if (recorded === undefined || !fs.existsSync(next)) return;
  if (fingerprintOf(readKey(next)) === recorded) install(file, new Date());
}

/** The new file takes the key file's name in one rename; the previous one is kept under another. */
function install(file: string, now: Date): string | null {
  let kept: string | null = null;
  if (fs.existsSync(file)) {
    kept = `${file}.replaced-${now.toISOString().replace(/[:.]/g, '-')}`;
    fs.linkSync(file, kept);
  }
  fs.renameSync(newFile(file), file);
  syncDirectory(path.dirname(file));
  return kept;
}

const LOCKED_BOX: SecretBox = {
  fingerprint: null,
  seal() {
    throw new AppError(
      'unavailable',
      "this process does not have the node's key for sealed secrets: enrol through the running node",
    );
  },
  open: () => null,
};

/** Names the key without revealing it. */
const fingerprintOf = (key: Buffer) =>
  crypto.createHmac('sha256', key).update('vytis sealing key fingerprint').digest('hex').slice(0, 32);

function readKey(file: string): Buffer {
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url');
  if (key.length !== KEY_BYTES) throw invalidInput(`${file} does not hold a ${KEY_BYTES}-byte key`);
  return key;
}

/** True if this call made the file; false if another process of the node did meanwhile. */
function createKeyFile(file: string): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // Written whole under another name, then linked: a process never reads a half-written key.
  const temporary = `${file}.${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  writeDurably(temporary, crypto.randomBytes(KEY_BYTES));
  try {
    fs.linkSync(temporary, file);
    syncDirectory(path.dirname(file));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

function writeDurably(file: string, key: Buffer) {
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    fs.writeSync(fd, `${key.toString('base64url')}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function syncDirectory(directory: string) {
  const fd = fs.openSync(directory, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const missingKey = (file: string, fingerprint: string) =>
  invalidInput(
    `${file} is missing, and this node's secrets are sealed under a key (fingerprint ${fingerprint}): copy the node's keys/ from the data directory of its other processes, or restore the data directory from the node's backup; only if the key is lost, \`vytis key new-sealing-key\` makes a new one and removes every user's second factor`,
  );

const otherKey = (file: string, recorded: string, fingerprint: string) =>
  invalidInput(
    `${file} is not the key this node's secrets are sealed under (fingerprint ${recorded}, this one ${fingerprint}): copy the node's keys/ from the data directory of its other processes, or restore the data directory from the node's backup`,
  );

export function secretBoxWithKey(key: Buffer): SecretBox {
  return {
    fingerprint: fingerprintOf(key),
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
