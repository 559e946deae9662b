import crypto from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(crypto.scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;

// OWASP's scrypt floor (N=2^17, r=8, p=1); maxmem must allow 128·N·r bytes.
const OWASP_SCRYPT = { N: 2 ** 17, r: 8, p: 1, keylen: 32 };
let SCRYPT = OWASP_SCRYPT;

/**
 * For the tests' in-process nodes only (test/harness.ts): passwords hashed from now on in this
 * process cost 2^10 instead of 2^17, about a hundredth of the CPU. Each hash keeps its parameters,
 * so a check follows whatever its hash was made with. No node or command calls this.
 */
export function cheapPasswordHashesForTests() {
  SCRYPT = { ...OWASP_SCRYPT, N: 2 ** 10 };
}

/** `scrypt$N$r$p$salt$hash`, parameters stored so they can be raised later without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const hash = await scrypt(password, salt, SCRYPT.keylen, { ...params(SCRYPT), maxmem: 256 * 1024 * 1024 });
  return [
    'scrypt',
    SCRYPT.N,
    SCRYPT.r,
    SCRYPT.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, expected] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !expected) return false;
  const expectedBytes = Buffer.from(expected, 'base64url');
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), expectedBytes.length, {
    ...params({ N: Number(n), r: Number(r), p: Number(p) }),
    maxmem: 256 * 1024 * 1024,
  });
  return crypto.timingSafeEqual(actual, expectedBytes);
}

/** Spend the same time as a real check, so a missing user and a wrong password look alike. */
let dummyHash: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword('not-a-real-password');
  await verifyPassword(password, await dummyHash);
}

const params = (s: { N: number; r: number; p: number }) => ({ N: s.N, r: s.r, p: s.p });

/** A bearer secret: prefix tells people and secret scanners what it is. */
export function newSecret(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(32).toString('base64url')}`;
}

/** High-entropy secrets need no slow hash: SHA-256 is enough and lets us look them up by hash. */
export function secretHash(secret: string): string {
  return crypto.createHash('sha256').update(secret).digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}
