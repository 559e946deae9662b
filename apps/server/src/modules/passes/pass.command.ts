import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import type { CommandResult } from '../../cli/commands.ts';
import { invalidInput } from '../../errors.ts';
import { keyFile, trustedKeyFromFile } from '../../platform/keys.ts';
import {
  type PassJwk,
  type PassKeys,
  trustedKeys,
  type VerifiedPassClaims,
  verifyPass,
  verifyRevocationList,
} from './pass.ts';

/**
 * `vytis pass verify TOKEN [--key FILE…] [--revoked FILE | --node URL] [--json]`. Offline unless
 * --node is given: no database, no running node. The keys come from --key files (a JWKS as GET
 * /api/v1/node/keys serves it, a single JWK, or a PEM public or private key), else from the node
 * of --node (its GET /api/v1/node/keys), else from this node's own key in VYTIS_DATA_DIR/keys.
 *
 * Revocation: --node fetches the node's public signed list (GET /api/v1/passes/revocations) and
 * trusts it only if a trusted key signed it; --revoked reads a saved list: that response (its
 * signature is then checked), or a plain `{"revoked": ["<pass id>", …]}` or bare array (taken as
 * it is, and said to be unsigned). With neither, the result says plainly that no revocation list
 * was checked.
 */
export interface PassVerifyInput {
  token: string;
  keyFiles?: string[] | undefined;
  revokedFile?: string | undefined;
  /** The issuing node's base URL (https://node.example); its revocation list is fetched. */
  nodeUrl?: string | undefined;
  json?: boolean | undefined;
  /** Asked only when no --key (nor --node) is given. */
  dataDir: () => string;
  now?: Date;
  fetch?: typeof fetch;
}

/** What the verdict rests on as to revocation, said in the output. */
export type RevocationCheck =
  | { checked: false }
  | {
      checked: true;
      source: string;
      signed: boolean;
      keyId?: string;
      issuedAt?: string;
      revokedPasses: number;
    };

const NOT_CHECKED =
  'NOT CHECKED: no revocation list was given (--node URL or --revoked FILE); a revoked pass looks valid here';

export async function passVerifyCommand(input: PassVerifyInput): Promise<CommandResult> {
  let keys: PassKeys;
  let revoked: Set<string>;
  let revocation: RevocationCheck;
  try {
    if (input.revokedFile && input.nodeUrl) {
      throw invalidInput('give --revoked FILE or --node URL, not both');
    }
    const fetcher = input.fetch ?? fetch;
    const nodeUrl = input.nodeUrl ? apiBase(input.nodeUrl) : undefined;
    keys = input.keyFiles?.length
      ? keysFromFiles(input.keyFiles)
      : nodeUrl
        ? await keysFromNode(nodeUrl, fetcher)
        : ownNodeKey(input.dataDir());
    if (nodeUrl) {
      const url = `${nodeUrl}/passes/revocations`;
      ({ revoked, revocation } = await signedRevocations(await fetchJson(url, fetcher), url, keys));
    } else if (input.revokedFile) {
      ({ revoked, revocation } = await revocationsFromFileChecked(input.revokedFile, keys));
    } else {
      revoked = new Set();
      revocation = { checked: false };
    }
  } catch (error) {
    return { exitCode: 1, stdout: '', stderr: `${(error as Error).message}\n` };
  }
  const check = await verifyPass(input.token, { keys, revoked, now: input.now ?? new Date() });
  if (!check.ok) {
    return {
      exitCode: 1,
      stdout: input.json
        ? `${JSON.stringify({ ok: false, code: check.code, reason: check.reason, revocation })}\n`
        : '',
      stderr: `invalid pass: ${check.reason}\n`,
    };
  }
  return {
    exitCode: 0,
    stdout: input.json
      ? `${JSON.stringify({ ok: true, claims: check.claims, revocation }, null, 2)}\n`
      : `${describePass(check.claims)}${`${'revocation:'.padEnd(12)}${describeRevocation(revocation)}`}\n`,
    // Said on stderr too, where a script that keeps only stdout's verdict still shows it.
    stderr: revocation.checked ? '' : `warning: revocation ${NOT_CHECKED}\n`,
  };
}

export function describeRevocation(revocation: RevocationCheck): string {
  if (!revocation.checked) return NOT_CHECKED;
  const count = `${revocation.revokedPasses} revoked pass${revocation.revokedPasses === 1 ? '' : 'es'}`;
  return revocation.signed
    ? `checked against ${revocation.source}, signed by key ${revocation.keyId} at ${revocation.issuedAt} (${count})`
    : `checked against ${revocation.source}, UNSIGNED: its origin is not verified (${count})`;
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

/** A revocation list: `{"revoked": ["<pass id>", …]}` or a bare array of pass ids. Unsigned. */
export function revocationsFromFile(file: string): Set<string> {
  return plainRevocations(parseJson(readText(file, 'revocation list'), file), file);
}

function plainRevocations(json: unknown, file: string): Set<string> {
  const list = Array.isArray(json) ? json : (json as { revoked?: unknown } | null)?.revoked;
  if (!Array.isArray(list) || !list.every((id) => typeof id === 'string')) {
    throw invalidInput(
      `revocation list ${file} must be {"revoked": ["<pass id>", ...]} or an array of pass ids`,
    );
  }
  return new Set(list);
}

/** A saved list: the node's signed response is checked; a plain list is taken as it is. */
async function revocationsFromFileChecked(file: string, keys: PassKeys) {
  const json = parseJson(readText(file, 'revocation list'), file);
  if (json !== null && typeof json === 'object' && 'signed' in json) {
    return signedRevocations(json, `revocation list ${file}`, keys);
  }
  const revoked = plainRevocations(json, file);
  const revocation: RevocationCheck = {
    checked: true,
    source: `revocation list ${file}`,
    signed: false,
    revokedPasses: revoked.size,
  };
  return { revoked, revocation };
}

/** The node's GET /passes/revocations response: only its signed part is trusted. */
async function signedRevocations(json: unknown, source: string, keys: PassKeys) {
  const signed = (json as { signed?: unknown } | null)?.signed;
  if (typeof signed !== 'string') {
    throw invalidInput(`${source} is not a signed revocation list (no "signed" JWS)`);
  }
  const verified = await verifyRevocationList(signed, keys);
  if (!verified.ok) throw invalidInput(`${source} cannot be trusted: ${verified.reason}`);
  const revoked = new Set(verified.list.revoked);
  const revocation: RevocationCheck = {
    checked: true,
    source,
    signed: true,
    keyId: verified.list.keyId,
    issuedAt: verified.list.issuedAt,
    revokedPasses: revoked.size,
  };
  return { revoked, revocation };
}

/** `https://node.example` (or …/api/v1) → `https://node.example/api/v1`. */
function apiBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidInput(`--node must be the node's URL, e.g. https://vytis.example.org (got ${url})`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw invalidInput(`--node must be an http(s) URL (got ${url})`);
  }
  const base = `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
  return base.endsWith('/api/v1') ? base : `${base}/api/v1`;
}

async function keysFromNode(apiUrl: string, fetcher: typeof fetch): Promise<Map<string, KeyObject>> {
  const url = `${apiUrl}/node/keys`;
  const found = trustedKeys((await fetchJson(url, fetcher)) as PassKeys);
  if (found.size === 0) throw invalidInput(`${url} lists no Ed25519 signing key`);
  return found;
}

async function fetchJson(url: string, fetcher: typeof fetch): Promise<unknown> {
  let response: Response;
  try {
    response = await fetcher(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } })
      .cause;
    const why = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (error as Error).message;
    throw invalidInput(`cannot fetch ${url}: ${why}`);
  }
  if (!response.ok) throw invalidInput(`cannot fetch ${url}: HTTP ${response.status}`);
  try {
    return await response.json();
  } catch {
    throw invalidInput(`${url} did not answer JSON`);
  }
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
