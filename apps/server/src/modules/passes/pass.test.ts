import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import QRCode from 'qrcode';
import { keyIdOf, type NodeKey, nodeKeyFromPrivatePem } from '../../platform/keys.ts';
import { startTestNode, type TestNode } from '../../test/harness.ts';
import {
  issuePass,
  PASS_CLOCK_SKEW_SECONDS,
  type PassCheck,
  type PassClaims,
  passIdOf,
  verifyPass,
} from './pass.ts';
import { passQrMatrix, passQrSvg } from './qr.ts';

const newKey = (): NodeKey =>
  nodeKeyFromPrivatePem(
    crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );

const claims: PassClaims = {
  responderId: '0b8f3c2e-1f4a-4f7e-9d59-2a4c8e3b7d10',
  responderName: 'Ieva Kazlauskienė',
  homeParty: 'LT',
  hostParty: 'PL',
  deploymentId: '5d7e4f62-3c1b-4a8e-b0f4-9e2d6c1a7b33',
  requestId: 'a1c2e3f4-5b6d-4e7f-8a9b-0c1d2e3f4a5b',
  window: { from: '2026-11-24T06:00:00.000Z', to: '2026-12-08T18:00:00.000Z' },
  skills: [
    { skill: 'forensics', level: 3 },
    { skill: 'malware-analysis', level: 2 },
  ],
  exercise: false,
};
const issuedAt = new Date('2026-11-23T12:00:00Z');
const during = new Date('2026-11-30T12:00:00Z');

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const keysOf = (...keys: NodeKey[]) => new Map(keys.map((k) => [k.keyId, k.publicKey]));

function assertFails(check: PassCheck, code: string, reason: RegExp) {
  assert.equal(check.ok, false, 'the pass must be refused');
  if (check.ok) return;
  assert.equal(check.code, code, check.reason);
  assert.match(check.reason, reason);
}

describe('responder passes', () => {
  const key = newKey();
  let token: string;
  before(async () => {
    token = await issuePass(key, claims, issuedAt);
  });

  it('is a compact EdDSA JWS naming the key, with the standard claims', () => {
    const [header, payload, signature] = token.split('.');
    assert.deepEqual(decode(header!), { alg: 'EdDSA', kid: key.keyId, typ: 'vytis-pass+jwt' });
    const body = decode(payload!);
    assert.equal(body.iss, `vytis:${key.keyId}`);
    assert.equal(body.sub, claims.responderId);
    assert.match(body.jti, /^[0-9a-f-]{36}$/);
    assert.equal(body.iat, Date.parse('2026-11-23T12:00:00Z') / 1000);
    assert.equal(body.nbf, Date.parse(claims.window.from) / 1000);
    assert.equal(body.exp, Date.parse(claims.window.to) / 1000);
    assert.equal(Buffer.from(signature!, 'base64url').length, 64, 'an Ed25519 signature');
    assert.equal(passIdOf(token), body.jti);
  });

  it('round-trips every claim', async () => {
    const check = await verifyPass(token, { keys: keysOf(key), now: during });
    assert.ok(check.ok, check.ok ? '' : check.reason);
    assert.deepEqual(check.claims, {
      ...claims,
      passId: passIdOf(token),
      keyId: key.keyId,
      issuedAt: '2026-11-23T12:00:00.000Z',
      expiresAt: '2026-12-08T18:00:00.000Z',
    });
    const exercise = await issuePass(key, { ...claims, exercise: true, skills: [] }, issuedAt);
    const again = await verifyPass(exercise, { keys: keysOf(key), now: during });
    assert.ok(again.ok);
    assert.equal(again.claims.exercise, true);
    assert.deepEqual(again.claims.skills, []);
    assert.notEqual(again.claims.passId, check.claims.passId, 'every pass has its own id');
  });

  it('refuses an altered payload: a flipped claim, re-encoded, breaks the signature', async () => {
    const [header, payload, signature] = token.split('.');
    const forged = { ...decode(payload!), host: 'DE' };
    assertFails(
      await verifyPass(`${header}.${b64(forged)}.${signature}`, { keys: keysOf(key), now: during }),
      'bad-signature',
      /^bad signature: the pass was altered/,
    );
    const longer = { ...decode(payload!), exp: decode(payload!).exp + 86_400 * 365 };
    assertFails(
      await verifyPass(`${header}.${b64(longer)}.${signature}`, { keys: keysOf(key), now: during }),
      'bad-signature',
      /bad signature/,
    );
    const flippedBit = Buffer.from(signature!, 'base64url');
    flippedBit[10]! ^= 1;
    assertFails(
      await verifyPass(`${header}.${payload}.${flippedBit.toString('base64url')}`, {
        keys: keysOf(key),
        now: during,
      }),
      'bad-signature',
      /bad signature/,
    );
  });

  it('refuses a pass from another key: unknown key id, or a bad signature under a borrowed one', async () => {
    const other = newKey();
    const foreign = await issuePass(other, claims, issuedAt);
    assertFails(
      await verifyPass(foreign, { keys: keysOf(key), now: during }),
      'unknown-key',
      new RegExp(`^unknown key id ${other.keyId}: .*trusted: ${key.keyId}`),
    );
    // Signed by another key but claiming ours.
    const [, payload] = token.split('.');
    const header = b64({ alg: 'EdDSA', kid: key.keyId, typ: 'vytis-pass+jwt' });
    const signature = crypto.sign(null, Buffer.from(`${header}.${payload}`), other.privateKey);
    assertFails(
      await verifyPass(`${header}.${payload}.${signature.toString('base64url')}`, {
        keys: keysOf(key),
        now: during,
      }),
      'bad-signature',
      new RegExp(`not signed by key ${key.keyId}`),
    );
    assertFails(await verifyPass(token, { keys: new Map(), now: during }), 'unknown-key', /^no key given/);
    assertFails(await verifyPass(token, { keys: { keys: [] }, now: during }), 'unknown-key', /^no key given/);
    const noKid = b64({ alg: 'EdDSA', typ: 'vytis-pass+jwt' });
    const signedNoKid = crypto.sign(null, Buffer.from(`${noKid}.${payload}`), key.privateKey);
    assertFails(
      await verifyPass(`${noKid}.${payload}.${signedNoKid.toString('base64url')}`, {
        keys: keysOf(key),
        now: during,
      }),
      'unknown-key',
      /names no key id/,
    );
  });

  it('is valid only in its window, with the stated clock skew', async () => {
    const at = (iso: string) => verifyPass(token, { keys: keysOf(key), now: new Date(iso) });
    const skew = PASS_CLOCK_SKEW_SECONDS * 1000;
    assertFails(
      await at('2026-11-23T18:00:00Z'),
      'not-yet-valid',
      /^not yet valid: pass [0-9a-f-]{36} is valid from 2026-11-24T06:00:00.000Z \(now 2026-11-23T18:00:00.000Z\)$/,
    );
    assert.ok((await at(new Date(Date.parse(claims.window.from) - skew + 1000).toISOString())).ok);
    assert.equal((await at(new Date(Date.parse(claims.window.from) - skew - 1000).toISOString())).ok, false);
    assert.ok((await at(claims.window.to)).ok, 'still valid at the last second, within the skew');
    assert.ok((await at(new Date(Date.parse(claims.window.to) + skew - 1000).toISOString())).ok);
    assertFails(
      await at(new Date(Date.parse(claims.window.to) + skew).toISOString()),
      'expired',
      /^expired: pass [0-9a-f-]{36} expired at 2026-12-08T18:00:00.000Z \(now 2026-12-08T18:01:00.000Z\)$/,
    );
    assertFails(await at('2027-01-01T00:00:00Z'), 'expired', /expired at 2026-12-08T18:00:00.000Z/);
  });

  it('refuses a revoked pass, naming it', async () => {
    const passId = passIdOf(token)!;
    assertFails(
      await verifyPass(token, { keys: keysOf(key), now: during, revoked: new Set([passId]) }),
      'revoked',
      new RegExp(`^pass ${passId} was revoked$`),
    );
    const other = await issuePass(key, claims, issuedAt);
    assert.ok(
      (await verifyPass(other, { keys: keysOf(key), now: during, revoked: new Set([passId]) })).ok,
      'revoking one pass leaves the responder’s others alone',
    );
  });

  it('refuses algorithm confusion: HS256 keyed with the public key, alg none, and a wrong typ', async () => {
    const [, payload] = token.split('.');
    const spki = key.publicKey.export({ type: 'spki', format: 'pem' });
    const raw = Buffer.from(key.publicKey.export({ format: 'jwk' }).x!, 'base64url');
    for (const secret of [spki, raw]) {
      const header = b64({ alg: 'HS256', kid: key.keyId, typ: 'vytis-pass+jwt' });
      const mac = crypto.createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      assertFails(
        await verifyPass(`${header}.${payload}.${mac}`, { keys: keysOf(key), now: during }),
        'wrong-algorithm',
        /^wrong algorithm "HS256": passes are signed with EdDSA only$/,
      );
      // Also with a JWKS, the form a host holds.
      const jwk = { ...key.publicKey.export({ format: 'jwk' }), kid: key.keyId, alg: 'EdDSA', use: 'sig' };
      assertFails(
        await verifyPass(`${header}.${payload}.${mac}`, { keys: { keys: [jwk] }, now: during }),
        'wrong-algorithm',
        /HS256/,
      );
    }
    for (const alg of ['none', 'None', 'ES256', 'RS256', 'Ed25519', undefined]) {
      const header = b64({ alg, kid: key.keyId, typ: 'vytis-pass+jwt' });
      assertFails(
        await verifyPass(`${header}.${payload}.`, { keys: keysOf(key), now: during }),
        'wrong-algorithm',
        /^wrong algorithm/,
      );
    }
    const [, , signature] = token.split('.');
    const plainJwt = b64({ alg: 'EdDSA', kid: key.keyId, typ: 'JWT' });
    const resigned = crypto.sign(null, Buffer.from(`${plainJwt}.${payload}`), key.privateKey);
    assertFails(
      await verifyPass(`${plainJwt}.${payload}.${resigned.toString('base64url')}`, {
        keys: keysOf(key),
        now: during,
      }),
      'wrong-type',
      /^wrong type "JWT": a pass has typ vytis-pass\+jwt$/,
    );
    assert.ok(signature);
  });

  it('refuses garbage with "malformed"', async () => {
    const keys = keysOf(key);
    for (const garbage of ['', 'hello', 'a.b', 'a.b.c.d', `${token}x!`, '{"alg":"EdDSA"}', '...']) {
      assertFails(await verifyPass(garbage, { keys, now: during }), 'malformed', /^malformed pass/);
    }
    const [header, payload, signature] = token.split('.');
    assertFails(
      await verifyPass(`bm90IGpzb24.${payload}.${signature}`, { keys, now: during }),
      'malformed',
      /header is not base64url-encoded JSON/,
    );
    assertFails(
      await verifyPass(`${header}.bm90IGpzb24.${signature}`, { keys, now: during }),
      'malformed',
      /payload is not base64url-encoded JSON/,
    );
    // Properly signed by the key but not a pass.
    const notAPass = b64({ iss: `vytis:${key.keyId}`, sub: 'x' });
    const signed = crypto.sign(null, Buffer.from(`${header}.${notAPass}`), key.privateKey);
    assertFails(
      await verifyPass(`${header}.${notAPass}.${signed.toString('base64url')}`, { keys, now: during }),
      'malformed',
      /claim jti is missing/,
    );
  });

  it('refuses to issue a pass for an impossible window or skill level', async () => {
    await assert.rejects(
      issuePass(key, { ...claims, window: { from: claims.window.to, to: claims.window.from } }, issuedAt),
      /must end after it starts/,
    );
    await assert.rejects(
      issuePass(key, { ...claims, window: { from: 'soon', to: claims.window.to } }, issuedAt),
      /valid ISO times/,
    );
    await assert.rejects(
      issuePass(key, { ...claims, skills: [{ skill: 'forensics', level: 4 }] }, issuedAt),
      /level from 1 to 3/,
    );
  });

  it('draws the pass as a QR code SVG with no external resources', async () => {
    const svg = await passQrSvg(token);
    assert.match(
      svg,
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 (\d+) \1"[^>]*>.*<\/svg>$/s,
    );
    assert.doesNotMatch(svg, /href|<script|<image|<style|url\(|@import|<foreignObject/i);
    // Read the dark modules back from the path and compare them with the token's QR symbol.
    const matrix = passQrMatrix(token);
    const { modules, version } = QRCode.create(token, { errorCorrectionLevel: 'M' });
    assert.equal(matrix.length, modules.size);
    assert.equal(modules.size, 17 + 4 * version);
    const side = Number(/viewBox="0 0 (\d+)/.exec(svg)![1]);
    assert.equal(side, modules.size + 8, 'a quiet zone of four modules');
    const drawn = Array.from({ length: modules.size }, () => Array<boolean>(modules.size).fill(false));
    const d = /<path fill="#000" d="([^"]*)"/.exec(svg)![1]!;
    for (const [, x, y, w] of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
      for (let i = 0; i < Number(w); i++) drawn[Number(y) - 4]![Number(x) - 4 + i] = true;
    }
    assert.deepEqual(drawn, matrix);
    assert.deepEqual(
      drawn.flat().map((dark) => (dark ? 1 : 0)),
      [...modules.data],
      "the SVG draws exactly the token's QR modules",
    );
    // The symbol holds the whole token as its one data segment.
    const segments = QRCode.create(token, { errorCorrectionLevel: 'M' }).segments;
    const text = segments
      .map((s) =>
        typeof s.data === 'string' ? s.data : Buffer.from(s.data as Uint8Array).toString('latin1'),
      )
      .join('');
    assert.ok(text === token, 'the QR symbol holds exactly the token');
  });
});

describe('a pass verified with the keys the node publishes (GET /node/keys)', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(() => node.close());

  it('verifies against the published JWKS, and refuses another node’s pass against it', async () => {
    const response = await node.request({ method: 'GET', url: '/api/v1/node/keys' });
    assert.equal(response.statusCode, 200);
    const jwks = response.json() as { keys: { kid: string; x: string }[] };
    const key = node.services.key;
    assert.equal(jwks.keys[0]!.kid, key.keyId);
    assert.equal(
      keyIdOf(
        crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwks.keys[0]!.x }, format: 'jwk' }),
      ),
      key.keyId,
      'the published kid is the key’s RFC 7638 thumbprint',
    );
    const token = await issuePass(key, claims, issuedAt);
    const check = await verifyPass(token, { keys: jwks, now: during });
    assert.ok(check.ok, check.ok ? '' : check.reason);
    assert.equal(check.claims.keyId, key.keyId);
    assert.equal(check.claims.responderName, claims.responderName);

    const foreign = await issuePass(newKey(), claims, issuedAt);
    assertFails(await verifyPass(foreign, { keys: jwks, now: during }), 'unknown-key', /unknown key id/);
    // A JWKS entry that is not an Ed25519 signing key is not trusted.
    const encryption = { keys: jwks.keys.map((k) => ({ ...k, use: 'enc' })) };
    assertFails(await verifyPass(token, { keys: encryption, now: during }), 'unknown-key', /no key given/);
  });
});
