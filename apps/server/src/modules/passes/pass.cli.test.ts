import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { vytisCommand } from '../../cli/vytis-command.fixtures.ts';
import { loadOrCreateNodeKey, type NodeKey, nodeKeyFromPrivatePem } from '../../platform/keys.ts';
import { issuePass, type PassClaims, passIdOf, signRevocationList } from './pass.ts';

// `vytis pass verify` as a host runs it at the door: the real CLI (bin/vytis.js) in its own process,
// offline: no database, no running node (GET /passes/revocations with --node: see passes.routes.test.ts).

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, vytisCommand(args), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const HOUR = 3_600_000;

describe('vytis pass verify, offline', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let key: NodeKey;
  let other: NodeKey;
  let valid: string;
  const file = (name: string, content: string) => {
    const full = path.join(dir, name);
    fs.writeFileSync(full, content);
    return full;
  };
  const vytis = (args: string[], input?: string) => run(['pass', 'verify', ...args], env, input);
  const claims = (window: { from: number; to: number }): PassClaims => ({
    responderId: '0b8f3c2e-1f4a-4f7e-9d59-2a4c8e3b7d10',
    responderName: 'Jānis Bērziņš',
    homeParty: 'LV',
    hostParty: 'EE',
    deploymentId: '5d7e4f62-3c1b-4a8e-b0f4-9e2d6c1a7b33',
    requestId: 'a1c2e3f4-5b6d-4e7f-8a9b-0c1d2e3f4a5b',
    window: { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString() },
    skills: [
      { skill: 'incident-coordination', level: 3 },
      { skill: 'forensics', level: 1 },
    ],
    exercise: true,
  });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-pass-cli-'));
    const dataDir = path.join(dir, 'node');
    // The data directory of a node that has started once: its key, no database open.
    key = loadOrCreateNodeKey(dataDir);
    other = nodeKeyFromPrivatePem(
      crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    env = {
      ...process.env,
      VYTIS_DATA_DIR: dataDir,
      // Would fail if the command opened a database.
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    };
    const now = Date.now();
    valid = await issuePass(key, claims({ from: now - HOUR, to: now + 24 * HOUR }), new Date(now));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("accepts a valid pass with this node's own key and prints its claims, one per line", async () => {
    const result = await vytis([valid]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'valid responder pass');
    assert.ok(lines.includes(`pass:       ${passIdOf(valid)}`), result.stdout);
    assert.ok(lines.includes('responder:  Jānis Bērziņš (0b8f3c2e-1f4a-4f7e-9d59-2a4c8e3b7d10)'));
    assert.ok(lines.includes('home party: LV'));
    assert.ok(lines.includes('host party: EE'));
    assert.ok(lines.includes('deployment: 5d7e4f62-3c1b-4a8e-b0f4-9e2d6c1a7b33'));
    assert.ok(lines.includes('skills:     incident-coordination (level 3), forensics (level 1)'));
    assert.ok(lines.includes('exercise:   yes (exercise)'));
    assert.ok(lines.includes(`key id:     ${key.keyId}`));
    assert.equal(fs.existsSync(path.join(dir, 'node', 'db')), false, 'no database was opened');
    // No list was given: the verdict says so plainly, on both streams.
    assert.equal(
      lines.at(-1),
      'revocation: NOT CHECKED: no revocation list was given (--node URL or --revoked FILE); a revoked pass looks valid here',
    );
    assert.match(result.stderr, /^vytis: warning: revocation NOT CHECKED/);
    const asJson = await vytis([valid, '--json']);
    assert.deepEqual(JSON.parse(asJson.stdout).revocation, { checked: false });
  });

  it('checks a saved signed list: trusted when the node key signed it, refused when altered or foreign', async () => {
    const id = passIdOf(valid)!;
    const updatedAt = '2026-11-25T10:00:00.000Z';
    const issuedAt = new Date('2026-11-25T10:05:00Z');
    const response = async (signer: NodeKey, revoked: string[]) => ({
      revoked,
      updatedAt,
      issuedAt: issuedAt.toISOString(),
      keyId: signer.keyId,
      signed: await signRevocationList(signer, { revoked, updatedAt }, issuedAt),
    });
    const listing = file('signed.json', JSON.stringify(await response(key, [id])));
    const refused = await vytis([valid, '--revoked', listing]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, `vytis: invalid pass: pass ${id} was revoked\n`);

    const others = file('signed-others.json', JSON.stringify(await response(key, [crypto.randomUUID()])));
    const accepted = await vytis([valid, '--revoked', others]);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.equal(accepted.stderr, '');
    assert.ok(
      accepted.stdout.includes(
        `revocation: checked against revocation list ${others}, signed by key ${key.keyId} at 2026-11-25T10:05:00.000Z (1 revoked pass)`,
      ),
      accepted.stdout,
    );

    // The plain copy beside the signature is not what counts: emptying it changes nothing.
    const trimmed = file('trimmed.json', JSON.stringify({ ...(await response(key, [id])), revoked: [] }));
    assert.equal((await vytis([valid, '--revoked', trimmed])).code, 1);
    // A signed payload that was edited, or a list signed by another node's key, is not trusted.
    const signed = await signRevocationList(key, { revoked: [id], updatedAt }, issuedAt);
    const [header, , signature] = signed.split('.');
    const emptied = Buffer.from(
      JSON.stringify({ iss: `vytis:${key.keyId}`, iat: 1, revoked: [], updatedAt }),
    ).toString('base64url');
    const forged = file('forged.json', JSON.stringify({ signed: `${header}.${emptied}.${signature}` }));
    const badSignature = await vytis([valid, '--revoked', forged]);
    assert.equal(badSignature.code, 1);
    assert.match(badSignature.stderr, /forged\.json cannot be trusted: bad signature/);
    const foreign = file('foreign.json', JSON.stringify(await response(other, [])));
    const untrusted = await vytis([valid, '--revoked', foreign]);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, new RegExp(`signed by key ${other.keyId}, not a trusted key`));
  });

  it('--max-age refuses a saved signed list older than it, saying how old; a bad value is named', async () => {
    const signedAt = new Date(Date.now() - 3 * 24 * HOUR - 5 * 60_000);
    const list = file(
      'old-signed.json',
      JSON.stringify({ signed: await signRevocationList(key, { revoked: [], updatedAt: null }, signedAt) }),
    );
    const iso = new Date(Math.floor(signedAt.getTime() / 1000) * 1000).toISOString();
    const stale = await vytis([valid, '--revoked', list, '--max-age', '48h']);
    assert.equal(stale.code, 1);
    assert.equal(stale.stdout, '');
    assert.match(
      stale.stderr,
      new RegExp(
        `^vytis: revocation list ${list.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is too old to trust: it was signed at ${iso}, 3 days ago, and at most 2 days is accepted \\(--max-age\\)`,
      ),
    );
    const allowed = await vytis([valid, '--revoked', list, '--max-age', '7d']);
    assert.equal(allowed.code, 0, allowed.stderr);
    const bad = await vytis([valid, '--revoked', list, '--max-age', 'a day']);
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr,
      'vytis: --max-age must be a whole number with a unit s, m, h or d, e.g. 24h or 7d (got a day)\n',
    );
  });

  it('says a plain list is unsigned, and refuses --node with --revoked or an unreachable node', async () => {
    const plain = file('plain.json', JSON.stringify({ revoked: [] }));
    const result = await vytis([valid, '--revoked', plain]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(
      result.stdout.includes(
        `revocation: checked against revocation list ${plain}, UNSIGNED: its origin is not verified (0 revoked passes)`,
      ),
      result.stdout,
    );
    const both = await vytis([valid, '--revoked', plain, '--node', 'http://127.0.0.1:2']);
    assert.equal(both.code, 1);
    assert.equal(both.stderr, 'vytis: give --revoked FILE or --node URL, not both\n');
    const unreachable = await vytis([valid, '--node', 'http://127.0.0.1:2']);
    assert.equal(unreachable.code, 1);
    assert.match(
      unreachable.stderr,
      /^vytis: cannot fetch http:\/\/127\.0\.0\.1:2\/api\/v1\/node\/keys: ECONNREFUSED\n$/,
    );
    const notUrl = await vytis([valid, '--node', 'vytis.example.org']);
    assert.match(notUrl.stderr, /--node must be the node's URL/);
  });

  it('accepts it with the published JWKS or a PEM public key, as JSON too, and from stdin', async () => {
    const jwk = key.publicKey.export({ format: 'jwk' });
    const jwks = file(
      'keys.json',
      JSON.stringify({
        keys: [{ kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: key.keyId, alg: 'EdDSA', use: 'sig' }],
      }),
    );
    const pem = file('node.pub.pem', key.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const withJwks = await vytis([valid, '--key', jwks, '--json']);
    assert.equal(withJwks.code, 0, withJwks.stderr);
    const parsed = JSON.parse(withJwks.stdout);
    assert.equal(parsed.ok, true);
    assert.equal(parsed.claims.passId, passIdOf(valid));
    assert.equal(parsed.claims.hostParty, 'EE');
    assert.deepEqual(parsed.claims.skills, [
      { skill: 'incident-coordination', level: 3 },
      { skill: 'forensics', level: 1 },
    ]);
    const withPem = await vytis([valid, '--key', pem]);
    assert.equal(withPem.code, 0, withPem.stderr);
    const fromStdin = await vytis(['-', '--key', pem], `${valid}\n`);
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.match(fromStdin.stdout, /^valid responder pass\n/);
  });

  it('refuses a tampered payload', async () => {
    const [header, payload, signature] = valid.split('.');
    const forged = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), host: 'DE' };
    const tampered = `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`;
    const result = await vytis([tampered]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      `vytis: invalid pass: bad signature: the pass was altered, or not signed by key ${key.keyId}\n`,
    );
  });

  it("refuses a pass checked against another node's key", async () => {
    const otherPem = file('other.pem', other.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const result = await vytis([valid, '--key', otherPem]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `vytis: invalid pass: unknown key id ${key.keyId}: the pass was not signed by a trusted key (trusted: ${other.keyId})\n`,
    );
    const json = await vytis([valid, '--key', otherPem, '--json']);
    assert.equal(JSON.parse(json.stdout).code, 'unknown-key');
  });

  it('refuses an expired pass, saying when it expired', async () => {
    const expired = await issuePass(
      key,
      claims({ from: Date.parse('2026-01-05T08:00:00Z'), to: Date.parse('2026-01-19T20:00:00Z') }),
      new Date('2026-01-04T12:00:00Z'),
    );
    const result = await vytis([expired]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(
        `^vytis: invalid pass: expired: pass ${passIdOf(expired)} expired at 2026-01-19T20:00:00.000Z \\(now \\S+\\)\\n$`,
      ),
    );
  });

  it('refuses a revoked pass with a revocation list, in either form', async () => {
    const id = passIdOf(valid)!;
    const listed = file('revoked.json', JSON.stringify({ revoked: [crypto.randomUUID(), id] }));
    const result = await vytis([valid, '--revoked', listed]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `vytis: invalid pass: pass ${id} was revoked\n`);
    const bare = await vytis([valid, '--revoked', file('revoked-array.json', JSON.stringify([id]))]);
    assert.equal(bare.code, 1);
    assert.match(bare.stderr, /was revoked/);
    const others = await vytis([valid, '--revoked', file('others.json', '{"revoked":[]}')]);
    assert.equal(others.code, 0, others.stderr);
  });

  it('refuses garbage, and says what is wrong with a key or list file', async () => {
    const garbage = await vytis(['not-a-pass']);
    assert.equal(garbage.code, 1);
    assert.equal(
      garbage.stderr,
      'vytis: invalid pass: malformed pass: not a compact JWS (three base64url parts)\n',
    );
    const noFile = await vytis([valid, '--key', path.join(dir, 'missing.pem')]);
    assert.equal(noFile.code, 1);
    assert.match(noFile.stderr, /^vytis: cannot read key file .*missing\.pem: ENOENT\n$/);
    const badList = await vytis([valid, '--revoked', file('bad.json', '{"revoked":"all"}')]);
    assert.equal(badList.code, 1);
    assert.match(badList.stderr, /revocation list .* must be \{"revoked"/);
    const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
    const noKey = await run(['pass', 'verify', valid], { ...env, VYTIS_DATA_DIR: empty });
    assert.equal(noKey.code, 1);
    assert.match(
      noKey.stderr,
      /^vytis: this node has no key .*; give the issuing node's keys with --key FILE/,
    );
    assert.equal(fs.existsSync(path.join(empty, 'keys')), false, 'verifying never creates a key');
  });
});
