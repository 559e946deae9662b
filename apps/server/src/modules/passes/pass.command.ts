import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import type { CommandResult } from '../../cli/commands.ts';
import { invalidInput } from '../../errors.ts';
import { keyFile, trustedKeyFromFile } from '../../platform/keys.ts';
import { type PassJwk, type PassKeys, trustedKeys, type VerifiedPassClaims, verifyPass } from './pass.ts';

/**
 * `vytis pass verify TOKEN [--key FILE…] [--revoked FILE] [--json]`, entirely offline: no database,
 * no running node. The keys come from --key files (a JWKS as GET /api/v1/node/keys serves it, a
 * single JWK, or a PEM public or private key), or else from this node's own key in
 * VYTIS_DATA_DIR/keys. The revocation list is `{"revoked": ["<pass id>", …]}` or a bare array.
 */
export interface PassVerifyInput {
  token: string;
  keyFiles?: string[] | undefined;
  revokedFile?: string | undefined;
  json?: boolean | undefined;
  /** Asked only when no --key is given. */
  dataDir: () => string;
  now?: Date;
}

export async function passVerifyCommand(input: PassVerifyInput): Promise<CommandResult> {
  let keys: PassKeys;
  let revoked: Set<string>;
  try {
    keys = input.keyFiles?.length ? keysFromFiles(input.keyFiles) : ownNodeKey(input.dataDir());
    revoked = input.revokedFile ? revocationsFromFile(input.revokedFile) : new Set();
  } catch (error) {
    return { exitCode: 1, stdout: '', stderr: `${(error as Error).message}\n` };
  }
  const check = await verifyPass(input.token, { keys, revoked, now: input.now ?? new Date() });
  if (!check.ok) {
    return {
      exitCode: 1,
      stdout: input.json ? `${JSON.stringify({ ok: false, code: check.code, reason: check.reason })}\n` : '',
      stderr: `invalid pass: ${check.reason}\n`,
    };
  }
  return {
    exitCode: 0,
    stdout: input.json
      ? `${JSON.stringify({ ok: true, claims: check.claims }, null, 2)}\n`
      : describePass(check.claims),
    stderr: '',
  };
}

/** The claims of a valid pass, one per line, for the person at the door. */
export function describePass(claims: VerifiedPassClaims): string {
  const skills = claims.skills.map((s) => `${s.skill} (level ${s.level})`).join(', ') || 'none';
  const lines: [string, string][] = [
    ['pass', claims.passId],
    ['responder', `${claims.responderName} (${claims.responderId})`],
    ['home party', claims.homeParty],
    ['host party', claims.hostParty],
    ['deployment', claims.deploymentId],
    ['request', claims.requestId],
    ['valid from', claims.window.from],
    ['valid to', claims.window.to],
    ['skills', skills],
    ['exercise', claims.exercise ? 'yes (exercise)' : 'no'],
    ['issued at', claims.issuedAt],
    ['key id', claims.keyId],
  ];
  return `valid responder pass\n${lines.map(([label, value]) => `${`${label}:`.padEnd(12)}${value}`).join('\n')}\n`;
}

function ownNodeKey(dataDir: string): Map<string, KeyObject> {
  const file = keyFile(dataDir);
  if (!fs.existsSync(file)) {
    throw invalidInput(
      `this node has no key (${file}); give the issuing node's keys with --key FILE (GET /api/v1/node/keys)`,
    );
  }
  const key = trustedKeyFromFile(file);
  return new Map([[key.keyId, key.publicKey]]);
}

/** Every key in the files: JSON files as a JWKS or one JWK, anything else as PEM. */
export function keysFromFiles(files: string[]): Map<string, KeyObject> {
  const all = new Map<string, KeyObject>();
  for (const file of files) {
    const text = readText(file, 'key file');
    let found: Map<string, KeyObject>;
    if (/^\s*[[{]/.test(text)) {
      const json = parseJson(text, file);
      if (json === null || typeof json !== 'object')
        throw invalidInput(`key file ${file} is not a JWKS or a JWK`);
      const jwks: PassKeys = Array.isArray(json)
        ? { keys: json as PassJwk[] }
        : Array.isArray((json as { keys?: unknown }).keys)
          ? (json as { keys: PassJwk[] })
          : { keys: [json as PassJwk] };
      found = trustedKeys(jwks);
      if (found.size === 0) throw invalidInput(`key file ${file} holds no Ed25519 signing key (JWK)`);
    } else {
      const key = trustedKeyFromFile(file);
      found = new Map([[key.keyId, key.publicKey]]);
    }
    for (const [kid, key] of found) all.set(kid, key);
  }
  return all;
}

/** A revocation list: `{"revoked": ["<pass id>", …]}` or a bare array of pass ids. */
export function revocationsFromFile(file: string): Set<string> {
  const json = parseJson(readText(file, 'revocation list'), file);
  const list = Array.isArray(json) ? json : (json as { revoked?: unknown } | null)?.revoked;
  if (!Array.isArray(list) || !list.every((id) => typeof id === 'string')) {
    throw invalidInput(
      `revocation list ${file} must be {"revoked": ["<pass id>", ...]} or an array of pass ids`,
    );
  }
  return new Set(list);
}

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw invalidInput(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalidInput(`${file} is not valid JSON`);
  }
}
