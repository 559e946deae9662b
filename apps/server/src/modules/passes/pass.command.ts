import type { KeyObject } from 'node:crypto';
import fs from 'node:fs';
import type { CommandResult } from '../../cli/commands.ts';
import { invalidInput } from '../../errors.ts';
import { fetchBoundedText } from '../../platform/bounded-fetch.ts';
import type { Executor } from '../../platform/db/transaction.ts';
import { keyFile, trustedKeyFromFile } from '../../platform/keys.ts';
import {
  type PassJwk,
  type PassKeys,
  trustedKeys,
  type VerifiedPassClaims,
  verifyPass,
  verifyRevocationList,
} from './pass.ts';
import * as peerLists from './peer-revocations.repository.ts';

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
 *
 * Freshness: a list fetched with --node must have been signed within --max-age (default 24 h) of
 * now, or it is refused saying how old it is: a node that cannot sign, or a cache or mirror in
 * between serving an old copy, must not let a revoked pass through. A saved list (--revoked) is
 * judged so only when --max-age is given: a host offline at the border decides how old a list it
 * carried may be. Answers of the node are read through the bounded fetch (at most
 * MAX_NODE_ANSWER_BYTES, one timer for the whole answer).
 *
 * --peer PARTY verifies a pass a peer node issued with what this node holds of that peer, from its
 * database: the key it pinned, and the signed list the peer's feed carried (its signature checked
 * again), as fresh as this node's last successful pull of the peer, judged against --max-age.
 */
export interface PassVerifyInput {
  token: string;
  keyFiles?: string[] | undefined;
  revokedFile?: string | undefined;
  /** The issuing node's base URL (https://node.example); its revocation list is fetched. */
  nodeUrl?: string | undefined;
  /**
   * --peer PARTY: the issuing peer as this node holds it (its pinned key, its list as its feed
   * carried it), read from this node's database by the caller (`peerPassEvidence`). No call to the peer.
   */
  peer?: PeerPassEvidence | undefined;
  /**
   * The oldest signed list accepted, in ms (--max-age): for --node, default DEFAULT_MAX_LIST_AGE_MS;
   * for --revoked, only when given.
   */
  maxAgeMs?: number | undefined;
  json?: boolean | undefined;
  /** Asked only when no --key (nor --node) is given. */
  dataDir: () => string;
  /** When the pass must be valid (--at; default: now). */
  now?: Date;
  /** The time a list's age is judged at: the real now, never --at (default: now). */
  checkedAt?: Date;
  fetch?: typeof fetch;
}

/** A list signed longer ago than this is refused by --node unless --max-age says otherwise. */
export const DEFAULT_MAX_LIST_AGE_MS = 24 * 3_600_000;
/**
 * The most a node's answer (its keys, its revocation list) may hold: the list names only passes
 * whose window has not ended, about 90 bytes each, so this is tens of thousands of live revocations.
 */
export const MAX_NODE_ANSWER_BYTES = 8 * 1024 * 1024;
const NODE_FETCH_TIMEOUT_MS = 15_000;

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
      /** --peer: the list is as fresh as this node's last successful pull of the peer's feed. */
      pulledAt?: string;
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
    if (input.peer && (input.revokedFile || input.nodeUrl || input.keyFiles?.length)) {
      throw invalidInput(
        '--peer takes the keys and the revocation list this node holds: give no --key, --revoked nor --node with it',
      );
    }
    const fetcher = input.fetch ?? fetch;
    const nodeUrl = input.nodeUrl ? apiBase(input.nodeUrl) : undefined;
    keys = input.peer
      ? peerKeys(input.peer)
      : input.keyFiles?.length
        ? keysFromFiles(input.keyFiles)
        : nodeUrl
          ? await keysFromNode(nodeUrl, fetcher)
          : ownNodeKey(input.dataDir());
    if (input.peer) {
      ({ revoked, revocation } = await peerRevocations(input.peer, keys, {
        maxAgeMs: input.maxAgeMs ?? DEFAULT_MAX_LIST_AGE_MS,
        at: input.checkedAt ?? new Date(),
      }));
    } else if (nodeUrl) {
      const url = `${nodeUrl}/passes/revocations`;
      const freshness: Freshness = {
        maxAgeMs: input.maxAgeMs ?? DEFAULT_MAX_LIST_AGE_MS,
        at: input.checkedAt ?? new Date(),
      };
      ({ revoked, revocation } = await signedRevocations(
        await fetchJson(url, fetcher),
        `the revocation list from ${url}`,
        keys,
        freshness,
        url,
      ));
    } else if (input.revokedFile) {
      const freshness =
        input.maxAgeMs === undefined ? null : { maxAgeMs: input.maxAgeMs, at: input.checkedAt ?? new Date() };
      ({ revoked, revocation } = await revocationsFromFileChecked(input.revokedFile, keys, freshness));
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
  if (revocation.pulledAt) {
    return `checked against ${revocation.source}, signed by key ${revocation.keyId} at ${revocation.issuedAt} (${count}); as fresh as this node's last successful pull of that peer, at ${revocation.pulledAt}`;
  }
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
async function revocationsFromFileChecked(file: string, keys: PassKeys, freshness: Freshness | null) {
  const json = parseJson(readText(file, 'revocation list'), file);
  if (json !== null && typeof json === 'object' && 'signed' in json) {
    return signedRevocations(json, `revocation list ${file}`, keys, freshness);
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

/** How old a signed list may be, judged at `at`. */
interface Freshness {
  maxAgeMs: number;
  at: Date;
}

/**
 * `--max-age`: a whole number with a unit, s, m, h or d (`90m`, `24h`, `7d`); null when it is not one.
 */
export function parseMaxAge(text: string): number | null {
  const match = /^(\d{1,9})(s|m|h|d)$/.exec(text.trim());
  if (!match) return null;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  const ms = Number(match[1]) * unit;
  return ms > 0 && ms <= 3650 * 86_400_000 ? ms : null;
}

/** An age for people: minutes under two hours, hours under two days, then days. */
export function describeAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(ms / 3_600_000);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(ms / 86_400_000)} days`;
}

/** The node's GET /passes/revocations response: only its signed part is trusted. */
async function signedRevocations(
  json: unknown,
  what: string,
  keys: PassKeys,
  freshness: Freshness | null,
  source: string = what,
) {
  const signed = (json as { signed?: unknown } | null)?.signed;
  if (typeof signed !== 'string') {
    throw invalidInput(`${what} is not a signed revocation list (no "signed" JWS)`);
  }
  const verified = await verifyRevocationList(signed, keys);
  if (!verified.ok) throw invalidInput(`${what} cannot be trusted: ${verified.reason}`);
  if (freshness) {
    const age = freshness.at.getTime() - Date.parse(verified.list.issuedAt);
    if (age > freshness.maxAgeMs) {
      throw invalidInput(
        `${what} is too old to trust: it was signed at ${verified.list.issuedAt}, ${describeAge(age)} ago, ` +
          `and at most ${describeAge(freshness.maxAgeMs)} is accepted (--max-age). A node signs its list ` +
          'at least hourly: the node may be unable to sign, or something in between serves an old copy. ' +
          'Fetch it again, or give --max-age to accept an older list.',
      );
    }
  }
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

/** A node's JSON answer, read through the bounded fetch: one timer, at most MAX_NODE_ANSWER_BYTES. */
async function fetchJson(url: string, fetcher: typeof fetch): Promise<unknown> {
  const text = await fetchBoundedText(url, {
    what: url,
    maxBytes: MAX_NODE_ANSWER_BYTES,
    timeoutMs: NODE_FETCH_TIMEOUT_MS,
    fetchImpl: fetcher,
    // As before: a node behind a redirect (http to https) is still reached; what it answers is checked.
    redirect: 'follow',
  });
  try {
    return JSON.parse(text);
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

/** What `vytis pass verify --peer PARTY` rests on: the peer as this node trusts it, and its list as its feed carried it. */
export interface PeerPassEvidence {
  party: string;
  /** Whether this node trusts the peer now (not removed). */
  active: boolean;
  keyId: string;
  /** The pinned key, a JWK as JSON text (federation_peers.public_key). */
  publicKey: string;
  /** This node's last successful pull of the peer's feed (ISO), or null. */
  lastOkAt: string | null;
  list: { jws: string; receivedAt: string } | null;
}

/** The peer's evidence from this node's database; null when this node has never trusted that party. */
export async function peerPassEvidence(db: Executor, party: string): Promise<PeerPassEvidence | null> {
  const peer = await peerLists.trustedPeer(db, party);
  if (!peer) return null;
  const list = await peerLists.peerRevocationList(db, party);
  return {
    party: peer.party_code,
    active: peer.status === 'active',
    keyId: peer.key_id,
    publicKey: peer.public_key,
    lastOkAt: peer.last_ok_at?.toISOString() ?? null,
    list: list ? { jws: list.jws, receivedAt: list.received_at.toISOString() } : null,
  };
}

/** The peer's pinned key, under the id this node pinned it by. */
export function peerKeys(peer: PeerPassEvidence): Map<string, KeyObject> {
  if (!peer.active) {
    throw invalidInput(
      `this node no longer trusts ${peer.party} (the peer was removed): its passes cannot be verified with --peer`,
    );
  }
  let jwk: PassJwk;
  try {
    jwk = JSON.parse(peer.publicKey) as PassJwk;
  } catch {
    throw invalidInput(`the key this node pinned for ${peer.party} is not a JWK`);
  }
  const key = trustedKeys({ keys: [{ ...jwk, kid: peer.keyId }] }).get(peer.keyId);
  if (!key) throw invalidInput(`the key this node pinned for ${peer.party} is not an Ed25519 signing key`);
  return new Map([[peer.keyId, key]]);
}

/**
 * The peer's list as this node holds it, its signature checked again under the pinned key. Its
 * freshness is that of this node's last successful pull of the peer: a pull that succeeded brought
 * every newer list, so the list was current then, however long ago the peer signed it.
 */
export async function peerRevocations(peer: PeerPassEvidence, keys: PassKeys, freshness: Freshness) {
  const source = `the revocation list of ${peer.party} this node holds`;
  if (!peer.list) {
    throw invalidInput(
      `this node holds no revocation list of ${peer.party}: none has come on its feed yet (a node sends its list once it has revoked a pass; \`vytis peer status ${peer.party}\` shows the pulls)`,
    );
  }
  if (!peer.lastOkAt) {
    throw invalidInput(
      `this node has never pulled ${peer.party}'s feed successfully: its list cannot be judged fresh`,
    );
  }
  const age = freshness.at.getTime() - Date.parse(peer.lastOkAt);
  if (age > freshness.maxAgeMs) {
    throw invalidInput(
      `${source} is too old to trust: this node last pulled ${peer.party}'s feed successfully at ${peer.lastOkAt}, ` +
        `${describeAge(age)} ago, and at most ${describeAge(freshness.maxAgeMs)} is accepted (--max-age). ` +
        `See \`vytis peer status ${peer.party}\` for why the pulls fail, or give --max-age to accept an older list.`,
    );
  }
  const { revoked, revocation } = await signedRevocations({ signed: peer.list.jws }, source, keys, null);
  return { revoked, revocation: { ...revocation, pulledAt: peer.lastOkAt } as RevocationCheck };
}
