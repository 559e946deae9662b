import assert from 'node:assert/strict';
import crypto, { type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { httpbis } from 'http-message-signatures';
import { access } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';
import { type NodeKey, nodeKeyFromPrivatePem } from '../../platform/keys.ts';
import { startTestNode, type TestNode } from '../../test/harness.ts';
import {
  contentDigest,
  SignatureRefused,
  type SignedRequest,
  signRequest,
  type VerifyOptions,
  verifySignedRequest,
} from './http-signatures.ts';
import { createPeerClient, PeerCallError, peerMessage } from './peer-client.ts';
import { peerOnly, requirePeerSignature, signedTargetUri } from './peer-signatures.ts';

const NOW = new Date('2026-11-23T12:00:00Z');
const NODE_URL = 'https://vytis.lt.example';

function newKey(): NodeKey {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  return nodeKeyFromPrivatePem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
}

const ee = newKey();
const stranger = newKey();

/** The peers this node trusts: EE only. */
const trusted = new Map<string, { party: string; publicKey: KeyObject }>([
  [ee.keyId, { party: 'EE', publicKey: ee.publicKey }],
]);

/** A fresh set of seen nonces, as the database store keeps them (the HTTP tests use the real one). */
function verifier(now: Date = NOW): VerifyOptions {
  const seen = new Set<string>();
  return {
    lookupKey: async (keyId) => trusted.get(keyId) ?? null,
    now,
    seenNonce: async (keyId, nonce) => {
      const key = `${keyId} ${nonce}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    },
  };
}

async function signed(
  method: string,
  path: string,
  body = '',
  options: { key?: NodeKey; at?: Date } = {},
): Promise<SignedRequest> {
  const url = `${NODE_URL}${path}`;
  const headers = await signRequest({ method, url, body }, options.key ?? ee, { now: options.at ?? NOW });
  return { method, url, headers: { ...headers, host: 'vytis.lt.example' }, body };
}

async function refusal(request: SignedRequest, options: VerifyOptions = verifier()): Promise<string> {
  try {
    await verifySignedRequest(request, options);
  } catch (error) {
    assert.ok(error instanceof SignatureRefused, `not a SignatureRefused: ${String(error)}`);
    return error.reason;
  }
  assert.fail('the request was accepted');
}

describe('verifySignedRequest', () => {
  it('accepts a GET and a POST signed by an active peer, and names the peer', async () => {
    assert.deepEqual(
      await verifySignedRequest(await signed('GET', '/federation/v1/changes?after=0'), verifier()),
      {
        keyId: ee.keyId,
        party: 'EE',
        role: 'national',
      },
    );
    const body = JSON.stringify({ cosignature: 'x' });
    const post = await signed('POST', '/federation/v1/cosignatures', body);
    assert.equal((await verifySignedRequest(post, verifier())).party, 'EE');
    // Fastify gives a Buffer of the same bytes.
    assert.equal((await verifySignedRequest({ ...post, body: Buffer.from(body) }, verifier())).party, 'EE');
  });

  it('signs what RFC 9421 says, as the library itself verifies it', async () => {
    const request = await signed('GET', '/federation/v1/changes?after=3&limit=10');
    const input = String(request.headers['signature-input']);
    assert.match(
      input,
      /^vytis=\("@method" "@target-uri" "date" "content-digest"\);created=\d+;expires=\d+;nonce="[^"]+";keyid="[^"]+";alg="ed25519"$/,
    );
    assert.equal(request.headers['content-digest'], 'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:');
    assert.equal(contentDigest(''), request.headers['content-digest']);
    const created = Number(/created=(\d+)/.exec(input)![1]);
    const expires = Number(/expires=(\d+)/.exec(input)![1]);
    assert.equal(expires - created, 60);
    assert.equal(new Date(String(request.headers.date)).getTime(), created * 1000);
    // The library's own verifier (it reads the system clock, so this one is signed now).
    const fresh = await signed('GET', '/federation/v1/changes?after=3', '', { at: new Date() });
    const verified = await httpbis.verifyMessage(
      {
        keyLookup: async () => ({
          id: ee.keyId,
          algs: ['ed25519'],
          verify: async (data, signature) => crypto.verify(null, data, ee.publicKey, signature),
        }),
      },
      { method: 'GET', url: fresh.url, headers: fresh.headers as Record<string, string> },
    );
    assert.equal(verified, true);
  });

  it('refuses an unsigned call, and one signed by an unknown or removed peer', async () => {
    assert.equal(await refusal({ method: 'GET', url: `${NODE_URL}/x`, headers: {}, body: '' }), 'unsigned');
    assert.equal(
      await refusal(await signed('GET', '/federation/v1/changes', '', { key: stranger })),
      `unknown key ${stranger.keyId}`,
    );
    const request = await signed('GET', '/federation/v1/changes');
    const removed = { ...verifier(), lookupKey: async () => null };
    assert.equal(await refusal(request, removed), `unknown key ${ee.keyId}`);
  });

  it('refuses a bad signature: another key under the peer key id, or altered bytes', async () => {
    const request = await signed('GET', '/federation/v1/changes');
    const signature = String(request.headers.signature);
    const bytes = Buffer.from(/:(.*):/.exec(signature)![1]!, 'base64');
    bytes[10]! ^= 1;
    const altered = {
      ...request,
      headers: { ...request.headers, signature: `vytis=:${bytes.toString('base64')}:` },
    };
    assert.equal(await refusal(altered), 'bad signature');
    const impostor = await signRequest(
      { method: 'GET', url: request.url },
      { keyId: ee.keyId, privateKey: stranger.privateKey },
      { now: NOW },
    );
    assert.equal(
      await refusal({ ...request, headers: { ...request.headers, ...impostor } }),
      'bad signature',
    );
  });

  it('refuses signatures too old, expired or created in the future', async () => {
    const request = await signed('GET', '/federation/v1/changes');
    const at = (seconds: number) => verifier(new Date(NOW.getTime() + seconds * 1000));
    assert.equal((await verifySignedRequest(request, at(119))).party, 'EE', 'within expiry plus skew');
    assert.equal(await refusal(request, at(121)), 'expired');
    assert.equal(await refusal(request, at(301)), 'too old');
    assert.equal(await refusal(request, at(-61)), 'created in the future');
    assert.equal((await verifySignedRequest(request, at(-59))).party, 'EE', 'a clock a little behind');
    // A signature that claims a long life is still refused past the oldest age accepted.
    const longLived = await httpbis.signMessage(
      {
        key: { id: ee.keyId, alg: 'ed25519', sign: async (data) => crypto.sign(null, data, ee.privateKey) },
        name: 'vytis',
        fields: ['@method', '@target-uri', 'date', 'content-digest'],
        params: ['created', 'expires', 'nonce', 'keyid', 'alg'],
        paramValues: { created: NOW, expires: new Date(NOW.getTime() + 86_400_000), nonce: 'long-lived-1' },
      },
      {
        method: 'GET',
        url: request.url,
        headers: { date: NOW.toUTCString(), 'content-digest': contentDigest('') },
      },
    );
    assert.equal(await refusal({ ...request, headers: longLived.headers }, at(600)), 'too old');
  });

  it('refuses a replay of the very same request', async () => {
    const request = await signed('POST', '/federation/v1/cosignatures', '{"a":1}');
    const options = verifier();
    assert.equal((await verifySignedRequest(request, options)).party, 'EE');
    assert.equal(await refusal(request, options), 'replayed');
  });

  it('refuses a tampered body, a missing digest and a signature that does not cover it', async () => {
    const request = await signed('POST', '/federation/v1/cosignatures', '{"size":10}');
    assert.equal(
      await refusal({ ...request, body: '{"size":11}' }),
      'content digest does not match the body',
    );
    const { 'content-digest': _dropped, ...withoutDigest } = request.headers;
    assert.equal(await refusal({ ...request, headers: withoutDigest }), 'missing content-digest');
    const digestNotCovered = await httpbis.signMessage(
      {
        key: { id: ee.keyId, alg: 'ed25519', sign: async (data) => crypto.sign(null, data, ee.privateKey) },
        name: 'vytis',
        fields: ['@method', '@target-uri', 'date'],
        params: ['created', 'expires', 'nonce', 'keyid', 'alg'],
        paramValues: { created: NOW, expires: new Date(NOW.getTime() + 60_000), nonce: 'no-digest-1' },
      },
      { method: 'POST', url: request.url, headers: { date: NOW.toUTCString() } },
    );
    assert.equal(
      await refusal({
        ...request,
        headers: { ...digestNotCovered.headers, 'content-digest': contentDigest('{"size":11}') },
      }),
      'signature does not cover content-digest',
    );
    for (const missing of ['@method', '@target-uri', 'date']) {
      const fields = ['@method', '@target-uri', 'date', 'content-digest'].filter((f) => f !== missing);
      const partial = await httpbis.signMessage(
        {
          key: { id: ee.keyId, alg: 'ed25519', sign: async (data) => crypto.sign(null, data, ee.privateKey) },
          name: 'vytis',
          fields,
          params: ['created', 'expires', 'nonce', 'keyid', 'alg'],
          paramValues: {
            created: NOW,
            expires: new Date(NOW.getTime() + 60_000),
            nonce: `partial-${missing}`,
          },
        },
        {
          method: 'GET',
          url: request.url,
          headers: { date: NOW.toUTCString(), 'content-digest': contentDigest('') },
        },
      );
      assert.equal(
        await refusal({ ...request, body: '', headers: partial.headers }),
        `signature does not cover ${missing}`,
      );
    }
  });

  it('refuses a signature made for one request when shown with another', async () => {
    const request = await signed('GET', '/federation/v1/changes?after=10&limit=100');
    const other = (change: Partial<SignedRequest>) => refusal({ ...request, ...change });
    assert.equal(await other({ method: 'POST' }), 'bad signature');
    assert.equal(
      await other({ url: `${NODE_URL}/federation/v1/checkpoints?after=10&limit=100` }),
      'bad signature',
    );
    assert.equal(
      await other({ url: `${NODE_URL}/federation/v1/changes?after=0&limit=100` }),
      'bad signature',
    );
    assert.equal(await other({ url: `${NODE_URL}/federation/v1/changes` }), 'bad signature');
    assert.equal(
      await other({ url: 'https://vytis.fi.example/federation/v1/changes?after=10&limit=100' }),
      'bad signature',
    );
    assert.equal(
      await other({ url: 'http://vytis.lt.example/federation/v1/changes?after=10&limit=100' }),
      'bad signature',
    );
    assert.equal(
      await other({ headers: { ...request.headers, date: new Date(NOW.getTime() + 1000).toUTCString() } }),
      'bad signature',
    );
    assert.equal(await other({ body: 'x' }), 'content digest does not match the body');
    // A body and its own digest put in place of the signed ones.
    assert.equal(
      await other({ body: 'x', headers: { ...request.headers, 'content-digest': contentDigest('x') } }),
      'bad signature',
    );
  });

  it('answers hostile signature headers with a refusal, never another error', async () => {
    const good = await signed('GET', '/federation/v1/changes');
    const input = String(good.headers['signature-input']);
    const signature = String(good.headers.signature);
    const cases: [Record<string, string | string[]>, string][] = [
      [{ 'signature-input': input }, 'malformed signature headers'],
      [{ signature }, 'malformed signature headers'],
      [{ 'signature-input': 'x'.repeat(200_000), signature }, 'malformed signature headers'],
      [
        { 'signature-input': `vytis=(${'"@method" '.repeat(5000)})`, signature },
        'malformed signature headers',
      ],
      [{ 'signature-input': '((((', signature }, 'malformed signature headers'],
      [{ 'signature-input': 'vytis="not a list"', signature }, 'malformed signature headers'],
      [{ 'signature-input': input.replace('vytis=', 'sig1='), signature }, 'malformed signature headers'],
      [{ 'signature-input': input, signature: 'vytis="text"' }, 'malformed signature headers'],
      [{ 'signature-input': input, signature: 'vytis=:AAAA:' }, 'bad signature'],
      [{ 'signature-input': input, signature: 'vytis=:!!:' }, 'malformed signature headers'],
      // Two fields are one dictionary, in which the last member of a name wins (RFC 8941 §3.2).
      [{ 'signature-input': input, signature: [signature, 'vytis=:AAAA:'] }, 'bad signature'],
      [{ 'signature-input': input, signature: [signature, 'vytis=('] }, 'malformed signature headers'],
      [
        { 'signature-input': input.replace(/created=\d+/, 'created="soon"'), signature },
        'malformed signature headers',
      ],
      [
        { 'signature-input': input.replace(/created=\d+/, 'created=1.5'), signature },
        'malformed signature headers',
      ],
      [
        { 'signature-input': input.replace(/created=\d+/, 'created=999999999999999'), signature },
        'created in the future',
      ],
      [
        { 'signature-input': input.replace(/created=\d+/, 'created=9999999999999999'), signature },
        'malformed signature headers',
      ],
      [{ 'signature-input': input.replace(/created=\d+/, 'created=-1'), signature }, 'too old'],
      [
        { 'signature-input': input.replace(/;created=\d+/, ''), signature },
        'missing signature parameter created',
      ],
      [
        { 'signature-input': input.replace(/;nonce="[^"]+"/, ''), signature },
        'missing signature parameter nonce',
      ],
      [
        { 'signature-input': input.replace(/;keyid="[^"]+"/, ''), signature },
        'missing signature parameter keyid',
      ],
      [
        { 'signature-input': input.replace(/;alg="ed25519"/, ''), signature },
        'missing signature parameter alg',
      ],
      [
        { 'signature-input': input.replace('alg="ed25519"', 'alg="hmac-sha256"'), signature },
        'unsupported algorithm',
      ],
      [
        { 'signature-input': input.replace(/keyid="[^"]+"/, 'keyid="../../etc\\"x"'), signature },
        'malformed signature headers',
      ],
      [
        { 'signature-input': input.replace(/keyid="[^"]+"/, `keyid="${'k'.repeat(500)}"`), signature },
        'malformed signature headers',
      ],
      [
        { 'signature-input': input.replace(/nonce="[^"]+"/, 'nonce="short"'), signature },
        'malformed signature headers',
      ],
      [
        { 'signature-input': input.replace('"@method"', '"@method" "@method"'), signature },
        'malformed signature headers',
      ],
      [
        { 'signature-input': input.replace('"@method"', '"@method";req'), signature },
        'malformed signature headers',
      ],
      [
        { 'signature-input': input.replace('"@method"', '"@query-param"'), signature },
        'malformed signature headers',
      ],
      [
        { 'signature-input': input.replace('"@method"', '"@method" "Upper Case"'), signature },
        'malformed signature headers',
      ],
      [
        { 'signature-input': input.replace('"@method"', '"@method" "x-not-sent"'), signature },
        'missing x-not-sent',
      ],
      [
        { 'signature-input': input.replace('"@method"', '"@method" "@status"'), signature },
        'malformed signature headers',
      ],
      [{ 'signature-input': input.replace('("', '(1 "'), signature }, 'malformed signature headers'],
      [{ 'content-digest': 'sha-256=nope', 'signature-input': input, signature }, 'malformed content-digest'],
      [{ 'content-digest': 'md5=:AAAA:', 'signature-input': input, signature }, 'malformed content-digest'],
    ];
    for (const [headers, reason] of cases) {
      const request = {
        ...good,
        headers: {
          date: good.headers.date,
          'content-digest': good.headers['content-digest'],
          ...headers,
        },
      } as SignedRequest;
      // Signatures over altered inputs do not verify: where syntax passes, the signature fails.
      const got = await refusal(request).catch((error) => {
        throw new Error(`${JSON.stringify(headers).slice(0, 200)}: ${error}`);
      });
      if (reason === 'malformed content-digest') assert.ok(['bad signature', reason].includes(got), got);
      else assert.equal(got, reason, JSON.stringify(headers).slice(0, 200));
    }
    assert.equal(await refusal({ ...good, url: 'not a url' }), 'malformed request target');

    // Random damage to a good signature: only refusals, whatever the bytes.
    let seed = 13;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = '"();=:,*@ -_.abcdefXYZ0123456789\\\t\u0000\u00e9\u202e';
    for (let round = 0; round < 400; round++) {
      const which = random() < 0.7 ? 'signature-input' : 'signature';
      const chars = [...String(good.headers[which])];
      for (let edits = 1 + Math.floor(random() * 4); edits > 0; edits--) {
        const at = Math.floor(random() * chars.length);
        const change = alphabet[Math.floor(random() * alphabet.length)]!;
        if (random() < 0.5) chars[at] = change;
        else chars.splice(at, random() < 0.5 ? 1 : 0, change);
      }
      try {
        await verifySignedRequest(
          { ...good, headers: { ...good.headers, [which]: chars.join('') } },
          verifier(),
        );
      } catch (error) {
        assert.ok(error instanceof SignatureRefused, `round ${round}: ${String(error)}`);
      }
    }
  });
});

describe('signed calls between nodes over HTTP', () => {
  let node: TestNode;
  let services: Services;
  let base: string;
  let peers: Map<string, { party: string; publicKey: KeyObject }>;
  const servers: http.Server[] = [];
  const path = '/federation/v1/test/echo';

  /** A small HTTP server on loopback answering with `handler`; its URL. */
  async function server(handler: http.RequestListener): Promise<string> {
    const s = http.createServer(handler);
    servers.push(s);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }

  const client = (key: NodeKey = ee, url = base) =>
    createPeerClient({ key, allowPrivateNetworks: true, clock: node.clock }, url);

  async function callError(call: Promise<unknown>): Promise<PeerCallError> {
    try {
      await call;
    } catch (error) {
      assert.ok(error instanceof PeerCallError, String(error));
      return error;
    }
    assert.fail('the call succeeded');
  }

  const refusals = async () =>
    (await node.services.audit.page({ action: 'federation.call.refused' }, 'asc', 100)).items.map(
      (event) => event.summary as { reason: string; method: string; path: string },
    );

  before(async () => {
    node = await startTestNode();
    peers = new Map([[ee.keyId, { party: 'EE', publicKey: ee.publicKey }]]);
    // The peers table is another part's: the peers the node trusts are given here.
    const federation = {
      ...node.services.federation,
      peers: Object.assign(Object.create(node.services.federation.peers), {
        peerByKeyId: async (keyId: string) => peers.get(keyId) ?? null,
      }),
    };
    services = { ...node.services, federation };
    const published = {
      ...services,
      federation: { ...federation, node: { ...federation.node, publicUrl: 'https://vytis.lt.example/' } },
    };
    await node.app.register(async (scope) => {
      const echo = async (request: { peer?: unknown; body?: unknown }) => ({
        peer: request.peer,
        body: request.body ?? null,
      });
      scope.get(
        path,
        {
          config: { access: access.public },
          schema: { hide: true },
          preHandler: requirePeerSignature(services),
        },
        echo,
      );
      scope.post(
        path,
        { config: { access: access.public }, schema: { hide: true }, ...peerOnly(services) },
        echo,
      );
      scope.post(
        `${path}/published`,
        { config: { access: access.public }, schema: { hide: true }, ...peerOnly(published) },
        echo,
      );
    });
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(node.app.server.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    await node.close();
  });

  it('accepts a signed GET and POST from a peer, and tells the route who called', async () => {
    assert.deepEqual(await client().getJson(`${path}?after=1`), {
      peer: { party: 'EE', keyId: ee.keyId, role: 'national' },
      body: null,
    });
    const body = { cosigned: [1, 2, 3], note: 'Tallinn → Vilnius' };
    assert.deepEqual(await client().postJson(path, body), {
      peer: { party: 'EE', keyId: ee.keyId, role: 'national' },
      body,
    });
  });

  it('refuses unsigned, replayed, tampered and unknown-key calls with 401 and the reason, each audited once', async () => {
    const before = (await refusals()).length;
    const unsigned = await fetch(`${base}${path}`);
    assert.equal(unsigned.status, 401);
    assert.equal(
      ((await unsigned.json()) as { error: { message: string } }).error.message,
      'peer signature refused: unsigned',
    );

    const body = '{"size":10}';
    const headers = await signRequest({ method: 'POST', url: `${base}${path}`, body }, ee, {
      now: node.clock.now(),
    });
    const send = (sent: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: sent,
      });
    const tampered = await send('{"size":11}');
    assert.equal(tampered.status, 401);
    assert.equal(
      ((await tampered.json()) as { error: { message: string } }).error.message,
      'peer signature refused: content digest does not match the body',
    );
    assert.equal((await send(body)).status, 200);
    const replayed = await send(body);
    assert.equal(replayed.status, 401);
    assert.equal(
      ((await replayed.json()) as { error: { message: string } }).error.message,
      'peer signature refused: replayed',
    );

    const unknown = await callError(client(stranger).getJson(path));
    assert.equal(unknown.status, 401);
    assert.equal(unknown.failure, 'http');
    assert.equal(unknown.message, `HTTP 401: peer signature refused: unknown key ${stranger.keyId}`);

    // A peer removed since: its key no longer opens anything.
    peers.delete(ee.keyId);
    const removed = await callError(client().getJson(path));
    assert.equal(removed.message, `HTTP 401: peer signature refused: unknown key ${ee.keyId}`);
    peers.set(ee.keyId, { party: 'EE', publicKey: ee.publicKey });

    assert.deepEqual((await refusals()).slice(before), [
      { reason: 'unsigned', method: 'GET', path, status: 401 },
      { reason: 'content digest does not match the body', method: 'POST', path, status: 401 },
      { reason: 'replayed', method: 'POST', path, status: 401 },
      { reason: `unknown key ${stranger.keyId}`, method: 'GET', path, status: 401 },
      { reason: `unknown key ${ee.keyId}`, method: 'GET', path, status: 401 },
    ]);
  });

  it('checks the target against VYTIS_PUBLIC_URL when the node has one', async () => {
    const published = `${path}/published`;
    // Sent to the node's address, signed for the URL it is published at (as behind a proxy).
    const body = '{"a":1}';
    const forPublic = await signRequest(
      { method: 'POST', url: `https://vytis.lt.example${published}`, body },
      ee,
      {
        now: node.clock.now(),
      },
    );
    const accepted = await fetch(`${base}${published}`, {
      method: 'POST',
      headers: { ...forPublic, 'content-type': 'application/json' },
      body,
    });
    assert.equal(accepted.status, 200);
    // Signed for the address it was sent to, which is not the node's public URL.
    const wrongTarget = await callError(client().postJson(published, { a: 1 }));
    assert.equal(wrongTarget.message, 'HTTP 401: peer signature refused: bad signature');
    assert.equal(signedTargetUri(null, { url: '/a?b=1', headers: { host: 'x:1' } }), 'http://x:1/a?b=1');
    assert.equal(
      signedTargetUri('https://h.example/vytis/', { url: '/a?b=1', headers: { host: 'x:1' } }),
      'https://h.example/vytis/a?b=1',
    );
  });

  it('keeps nonces in the database until their signatures expire, then drops them', async () => {
    const count = async () =>
      Number(
        (
          await node.database.db
            .selectFrom('federation_nonces')
            .select((e) => e.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    await client().getJson(path);
    assert.ok((await count()) >= 1);
    node.clock.advance(10 * 60_000);
    await client().getJson(path);
    assert.equal(await count(), 1);
  });

  it('bounds answers: too large, trickling forever, redirects, errors in our words', async () => {
    const big = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ pad: 'x'.repeat(4096) }));
    });
    const tooLarge = await callError(client(ee, big).getJson('/federation/v1/changes', { maxBytes: 1024 }));
    assert.equal(tooLarge.failure, 'too_large');
    assert.equal(tooLarge.message, 'the answer is larger than 1024 bytes, the most read');

    const endless = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      const timer = setInterval(() => res.write('1,'.repeat(512)), 5);
      res.on('close', () => clearInterval(timer));
    });
    const chunked = await callError(
      client(ee, endless).getJson('/f', { maxBytes: 64 * 1024, timeoutMs: 30_000 }),
    );
    assert.equal(chunked.failure, 'too_large');

    const trickle = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    });
    const slow = await callError(client(ee, trickle).getJson('/federation/v1/changes', { timeoutMs: 400 }));
    assert.equal(slow.failure, 'timeout');
    assert.equal(slow.message, 'no complete answer within 0.4 s');

    const cancel = new AbortController();
    const cancelled = callError(client(ee, trickle).getJson('/f', { signal: cancel.signal }));
    setTimeout(() => cancel.abort(), 50);
    assert.equal((await cancelled).failure, 'cancelled');

    const redirect = await server((_req, res) => {
      res.writeHead(302, { location: `${base}${path}` });
      res.end();
    });
    const redirected = await callError(client(ee, redirect).getJson(path));
    assert.equal(redirected.message, 'HTTP 302 (redirects are not followed)');
    assert.equal(redirected.status, 302);

    const failing = await server((req, res) => {
      const message = req.url === '/long' ? 'y'.repeat(201) : 'feed \u202eoff\u0007line\nbroken';
      res.writeHead(req.url === '/html' ? 502 : 503, { 'content-type': 'application/json' });
      res.end(
        req.url === '/html' ? '<html>proxy error</html>' : JSON.stringify({ error: { code: 'x', message } }),
      );
    });
    assert.equal(
      (await callError(client(ee, failing).getJson('/x'))).message,
      'HTTP 503: feed offlinebroken',
    );
    assert.equal((await callError(client(ee, failing).getJson('/long'))).message, 'HTTP 503');
    assert.equal((await callError(client(ee, failing).getJson('/html'))).message, 'HTTP 502');
    assert.equal(peerMessage(Buffer.from('{"error":{"message":42}}')), null);

    const notJson = await server((_req, res) => res.end('hello'));
    assert.equal((await callError(client(ee, notJson).getJson('/x'))).failure, 'not_json');

    const closed = await server(() => {});
    const closedPort = new URL(closed).port;
    const s = servers.pop()!;
    await new Promise((resolve) => s.close(resolve));
    const refused = await callError(client(ee, `http://127.0.0.1:${closedPort}`).getJson('/x'));
    assert.equal(refused.message, 'ECONNREFUSED');

    const strict = createPeerClient({ key: ee, allowPrivateNetworks: false, clock: node.clock }, base);
    const notPublic = await callError(strict.getJson(path));
    assert.equal(notPublic.failure, 'refused_address');
    assert.match(notPublic.message, /^not called: 127\.0\.0\.1 is not a public address/);
  });
});
