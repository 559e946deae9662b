import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { fileRequest } from '../../test/requests.fixtures.ts';

/** Issue 17: an exercise's events reach only the webhooks that opted into exercises, marked. */
describe('webhooks: exercises go only where they were asked for', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  let server: http.Server;
  const received: { path: string; body: Record<string, any> }[] = [];
  let realHook: Record<string, any>;
  let drillHook: Record<string, any>;

  const url = (path: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  const call = (method: 'GET' | 'POST', path: string, payload?: object) =>
    node.request({ method, url: `/api/v1${path}`, headers: ltPoc.headers, ...(payload ? { payload } : {}) });
  const file = async (exercise: boolean) => {
    const res = await fileRequest(node, ltPoc, {
      exercise,
      title: exercise ? 'EXERCISE Cyber Coalition' : 'Wiper',
    });
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  };

  before(async () => {
    node = await startTestNode();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ path: request.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    await node.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('registers a webhook for real events only unless it opts into exercises', async () => {
    const plain = await call('POST', '/webhooks', { url: url('/soc') });
    assert.equal(plain.statusCode, 201, plain.body);
    realHook = json(plain).webhook;
    assert.equal(realHook.exercises, false);
    const drills = await call('POST', '/webhooks', { url: url('/drills'), exercises: true });
    assert.equal(drills.statusCode, 201, drills.body);
    drillHook = json(drills).webhook;
    assert.equal(drillHook.exercises, true);
    const listed = json(await call('GET', '/webhooks')).items;
    assert.deepEqual(listed.map((w: any) => [w.url, w.exercises]).sort(), [
      [url('/drills'), true],
      [url('/soc'), false],
    ]);
    const audited = await node.services.audit.page(
      { action: 'webhook.create', objectId: drillHook.id },
      'asc',
      5,
    );
    assert.equal((audited.items[0]!.summary as { exercises?: boolean }).exercises, true);
    const wrong = await call('POST', '/webhooks', { url: url('/x'), exercises: 'yes' });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /exercises/);
  });

  it("sends an exercise's events to the opted-in webhook only, each marked", async () => {
    const drill = await file(true);
    const real = await file(false);
    const deliveries = json(await call('GET', '/webhooks/deliveries')).items as any[];
    assert.deepEqual(
      deliveries.map((d) => [d.webhookId === drillHook.id ? 'drills' : 'soc', d.type, d.exercise]).sort(),
      [
        ['drills', 'request.created', false],
        ['drills', 'request.created', true],
        ['soc', 'request.created', false],
      ],
    );
    assert.deepEqual(await node.services.webhooks.deliverDue(), { delivered: 3, failed: 0 });
    const soc = received.filter((r) => r.path === '/soc');
    assert.deepEqual(
      soc.map((r) => [r.body.requestId, r.body.exercise]),
      [[real, false]],
    );
    const drills = received.filter((r) => r.path === '/drills');
    assert.deepEqual(
      drills.map((r) => [r.body.requestId, r.body.exercise]).sort(),
      [
        [drill, true],
        [real, false],
      ].sort(),
    );
  });
});
