import crypto from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { secretHash } from '../../platform/secrets.ts';

/** RFC 6238 as every authenticator app speaks it: HMAC-SHA-1, 30-second steps, 6 digits. */
const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** One step either side, for clocks a little off and codes typed as they change. */
const WINDOW = 1;
const ISSUER = 'Vytis';

export const newTotpSecret = (): string => new Secret({ size: 20 }).base32;

const totpOf = (secret: string, account = '') =>
  new TOTP({
    issuer: ISSUER,
    label: account,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD_SECONDS,
    secret: Secret.fromBase32(secret),
  });

/** The `otpauth://totp/…` URI an authenticator app scans. */
export const totpUri = (secret: string, account: string): string => totpOf(secret, account).toString();

export const isTotpCode = (code: string) => new RegExp(`^\\d{${DIGITS}}$`).test(code.replace(/\s/g, ''));

/**
 * The time step a code belongs to, if it is right at `now` (± one step) and later than the last
 * step accepted: a code once used, or an older one, is never accepted again.
 */
export function acceptedStep(
  secret: string,
  code: string,
  now: Date,
  lastStep: number | null,
): number | null {
  const token = code.replace(/\s/g, '');
  if (!isTotpCode(token)) return null;
  const delta = totpOf(secret).validate({ token, timestamp: now.getTime(), window: WINDOW });
  if (delta === null) return null;
  const step = Math.floor(now.getTime() / 1000 / PERIOD_SECONDS) + delta;
  return lastStep !== null && step <= lastStep ? null : step;
}

/** Letters and digits nobody confuses when reading them off paper (no 0/o, 1/l/i). */
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
export const RECOVERY_CODE_COUNT = 10;

/** `xxxxx-xxxxx`: about 50 random bits each. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const chars = Array.from(
      { length: 10 },
      () => RECOVERY_ALPHABET[crypto.randomInt(RECOVERY_ALPHABET.length)],
    );
    return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
  });
}

/** Recovery codes are compared as typed, whatever the case, spaces or hyphens. */
export const recoveryCodeHash = (code: string) => secretHash(code.toLowerCase().replace(/[\s-]/g, ''));
