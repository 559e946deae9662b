import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { nodeKeyFromPrivatePem } from '../../platform/keys.ts';
import { startTestNode, type TestNode } from '../../test/harness.ts';
import { signPage } from './change-feed.ts';
import { buildDescriptor } from './node-descriptor.ts';

// A peer that answers badly — garbage, an endless body, a page signed by another key, a page that
// goes backwards or ahead of itself — is refused with a clear reason in its status and in the
// audit log, its cursor stays, and the pulling node goes on serving.

type Mode = 'garbage' | 'endless' | 'foreign-key' | 'ahead' | 'http-500' | 'good';

describe('pulling a peer that answers badly', () => {
  let lt: TestNode;
  let server: http.Server;
  let url: string;
  let mode: Mode = 'good';
  const eeKey = nodeKeyFromPrivatePem(
    crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  const otherKey = nodeKeyFromPrivatePem(
    crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );

  before(async () => {
    lt = await startTestNode({ federation: { party: 'LT', role: 'national', pullSeconds: 3600 } });
    server = http.createServer((req, res) => {
      if (req.url === '/federation/v1/node') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            buildDescriptor({ party: 'EE', url, role: 'national', key: eeKey, issuedAt: new Date() }),
          ),
        );
        return;
      }
      // A witness round of a node that has signed nothing yet.
      if (req.url?.startsWith('/federation/v1/checkpoints')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ party: 'EE', keyId: eeKey.keyId, items: [], nextCursor: null }));
        return;
      }
      if (req.url?.startsWith('/federation/v1/cosignatures')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ witness: 'EE', items: [] }));
        return;
      }
      const after = Number(new URL(req.url ?? '/', url).searchParams.get('after'));
      const page = (key = eeKey, head = after, next = after) =>
        JSON.stringify(signPage(key, { party: 'EE', after, head, next, more: false, changes: [] }));
      switch (mode) {
        case 'garbage':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"party": "EE", "head": [[[[');
          return;
        case 'endless': {
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = Buffer.alloc(1 << 20, 0x20);
          const write = () => {
            while (res.write(chunk)) {}
          };
          res.on('drain', write);
          req.on('close', () => res.destroy());
          write();
          return;
        }
        case 'foreign-key':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(page(otherKey, after + 5, after + 5));
          return;
        case 'ahead':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(page(eeKey, after + 1, after + 9));
          return;
        case 'http-500':
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { code: 'internal', message: 'x'.repeat(5000) } }));
          return;
        default:
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(page(eeKey, after + 3, after + 3));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const admin = await lt.user('lt.admin', 'LT', ['admin']);
    const added = await lt.request({
      method: 'POST',
      url: '/api/v1/federation/peers',
      headers: admin.headers,
      payload: { url, party: 'EE', pin: eeKey.keyId },
    });
    assert.equal(added.statusCode, 201, added.body);
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await lt.close();
  });

  const refusals = async () =>
    lt.database.db
      .selectFrom('audit_events')
      .select('envelope')
      .where('envelope', 'like', '%federation.pull.failed%')
      .execute();

  for (const [which, reason] of [
    ['garbage', /not JSON|JSON/i],
    ['endless', /larger than/],
    ['foreign-key', /signed under key|bad signature/],
    ['ahead', /beyond its head/],
    ['http-500', /HTTP 500/],
  ] as const) {
    it(`refuses ${which} with a clear reason; the cursor stays`, async () => {
      mode = which;
      const before = await lt.services.federation.peers.status('EE');
      const audited = (await refusals()).length;
      const outcome = await lt.services.federation.puller.pullOne('EE');
      assert.equal(outcome.ok, false);
      assert.match(outcome.error ?? '', reason);
      assert.ok((outcome.error ?? '').length <= 500, 'the peer cannot fill the status with its own text');
      const status = await lt.services.federation.peers.status('EE');
      assert.match(status.lastError ?? '', reason);
      assert.equal(status.cursor, before.cursor);
      await lt.services.audit.seal();
      assert.equal((await refusals()).length, audited + 1, 'the failure is audited');
      // The pulling node is unharmed: it answers its own users.
      assert.equal((await lt.request({ method: 'GET', url: '/healthz' })).statusCode, 200);
    });
  }

  it('a good page afterwards moves the cursor and clears the error', async () => {
    mode = 'good';
    const outcome = await lt.services.federation.puller.pullOne('EE');
    assert.equal(outcome.ok, true, outcome.error);
    const status = await lt.services.federation.peers.status('EE');
    assert.equal(status.cursor, 3);
    assert.equal(status.lag, 0);
  });
});
