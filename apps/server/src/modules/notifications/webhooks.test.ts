import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NewRequest } from '@vytis/contracts';
import { fetch as undiciFetch } from 'undici';
import { parseConfig } from '../../config.ts';
import { mayConnectTo, nonPublicRange } from '../../platform/network.ts';
import { callOut, DestinationRefused } from '../../platform/outbound.ts';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { fileRequest, submitRequest } from '../../test/requests.fixtures.ts';
import { backoffMs, MAX_ATTEMPTS, MAX_WEBHOOKS_PER_PARTY, WebhooksService } from './webhooks.service.ts';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The body exactly as it came over the wire: what the signature covers. */
  raw: string;
  body: Record<string, any>;
}

/** A webhook receiver on a local port: records every request and answers `status`. */
class Receiver {
  readonly received: Received[] = [];
  status = 200;
  private constructor(private readonly server: http.Server) {}

  static async start(host = '127.0.0.1', port = 0) {
    let receiver!: Receiver;
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        receiver.received.push({
          path: request.url ?? '',
          headers: request.headers,
          raw,
          body: JSON.parse(raw),
        });
        response.writeHead(receiver.status, { 'content-type': 'text/plain' }).end('thanks');
      });
    });
    receiver = new Receiver(server);
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    return receiver;
  }

  get port() {
    return (this.server.address() as AddressInfo).port;
  }

  url(path: string) {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  at(path: string) {
    return this.received.filter((r) => r.path === path);
  }

  close() {
    this.server.closeAllConnections();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** What a receiver does: recompute `v1` over `t.body` with its secret. */
function verifySignature(header: string | string[] | undefined, raw: string, secret: string) {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(header));
  assert.ok(match, `a signature header t=…,v1=… (got ${header})`);
  const expected = crypto.createHmac('sha256', secret).update(`${match[1]}.${raw}`).digest('hex');
  return { t: Number(match[1]), valid: expected === match[2] };
}

/** API calls as a user, for a node the describe block starts later. */
function client(node: () => TestNode) {
  const call = (user: TestUser, method: 'GET' | 'POST', url: string, payload?: object) =>
    node().request({ method, url: `/api/v1${url}`, headers: user.headers, ...(payload ? { payload } : {}) });
  const deliveriesOf = async (user: TestUser, query = '') => {
    const res = await call(user, 'GET', `/webhooks/deliveries?limit=200${query}`);
    assert.equal(res.statusCode, 200, res.body);
    return json(res).items as Record<string, any>[];
  };
  return { call, deliveriesOf };
}

/**
 * The node's delivery worker, except that a failed attempt is recorded as soon as it ends instead
 * of when its time limit is up (tested on its own below), so that rounds of failures are quick.
 */
function instantSender(node: TestNode, deps: Partial<ConstructorParameters<typeof WebhooksService>[0]> = {}) {
  return new WebhooksService({
    db: node.database.db,
    clock: node.clock,
    audit: node.services.audit,
    allowPrivateNetworks: true,
    waitOutAttempt: async () => {},
    ...deps,
  });
}

const bySeq = (a: Received, b: Received) => a.body.seq - b.body.seq;

describe('webhooks: signed deliveries of what the party may see', () => {
  let node: TestNode;
  let receiver: Receiver;
  let ltPoc: TestUser;
  let fiPoc: TestUser;
  let admin: TestUser;
  let ltResponder: TestUser;
  let ltHook: { id: string; secret: string };
  let fiHook: { id: string; secret: string };

  const { call, deliveriesOf } = client(() => node);
  async function file(poc: TestUser, overrides: Partial<NewRequest> = {}) {
    const res = await fileRequest(node, poc, overrides);
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  }
  async function submit(poc: TestUser, id: string) {
    const res = await call(poc, 'POST', `/requests/${id}/submit`);
    assert.equal(res.statusCode, 200, res.body);
    return id;
  }

  before(async () => {
    node = await startTestNode();
    receiver = await Receiver.start();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    fiPoc = await node.user('fi.poc', 'FI', ['poc']);
    admin = await node.user('admin', 'NL', ['admin']);
    ltResponder = await node.user('lt.responder', 'LT', ['responder']);
  });
  after(async () => {
    await node.close();
    await receiver.close();
  });

  it("registers a webhook for the PoC's party and shows its secret once", async () => {
    const res = await call(ltPoc, 'POST', '/webhooks', {
      url: receiver.url('/lt'),
      description: 'LT CSIRT SOAR',
    });
    assert.equal(res.statusCode, 201, res.body);
    const { webhook, secret } = json(res);
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(
      { ...webhook, id: undefined },
      {
        id: undefined,
        party: 'LT',
        url: receiver.url('/lt'),
        description: 'LT CSIRT SOAR',
        createdAt: node.clock.now().toISOString(),
        createdBy: 'lt.poc',
        disabledAt: null,
        failing: 0,
        exercises: false,
      },
    );
    ltHook = { id: webhook.id, secret };

    const listed = await call(ltPoc, 'GET', '/webhooks');
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(json(listed).items, [webhook]);
    assert.ok(!listed.body.includes(secret), 'the list never shows the secret');
    const adminList = await call(admin, 'GET', '/webhooks');
    assert.ok(!adminList.body.includes(secret), 'not to admins either');
    const audited = await node.services.audit.page(
      { action: 'webhook.create', objectId: webhook.id },
      'asc',
      5,
    );
    assert.equal(audited.items.length, 1);
    assert.ok(!JSON.stringify(audited.items).includes(secret), 'nor to the audit log');
  });

  it('queues an event per webhook and sends it signed when deliveries are due', async () => {
    const id = await file(ltPoc, { tlp: 'amber', title: 'Wiper at the water utility' });
    await submit(ltPoc, id);
    const queued = await deliveriesOf(ltPoc);
    assert.deepEqual(queued.map((d) => [d.type, d.state, d.attempts, d.webhookId]).sort(), [
      ['request.created', 'pending', 0, ltHook.id],
      ['request.submitted', 'pending', 0, ltHook.id],
      ['request.voting', 'pending', 0, ltHook.id],
    ]);
    assert.equal(receiver.received.length, 0, 'nothing is sent before deliveries run');

    assert.deepEqual(await node.services.webhooks.deliverDue(), { delivered: 3, failed: 0 });
    const got = receiver.at('/lt').sort(bySeq);
    assert.deepEqual(
      got.map((r) => r.body.type),
      ['request.created', 'request.submitted', 'request.voting'],
    );
    const now = node.clock.now();
    for (const r of got) {
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers['vytis-event'], r.body.type);
      assert.equal(r.headers['vytis-delivery'], r.body.id);
      assert.ok(
        queued.some((d) => d.id === r.body.id),
        'the delivery id is the one GET /webhooks/deliveries shows',
      );
      assert.equal(r.body.requestId, id);
      assert.equal(r.body.exercise, false);
      assert.equal(r.body.recipient, 'LT');
      assert.equal(r.body.at, now.toISOString());
      assert.equal(r.body.data.title, 'Wiper at the water utility');
      assert.equal(r.body.data.party, 'LT');

      const signature = verifySignature(r.headers['vytis-signature'], r.raw, ltHook.secret);
      assert.ok(signature.valid, 'the signature verifies with the secret');
      assert.equal(signature.t, Math.floor(now.getTime() / 1000));
      // Anything changed in transit, or another key, does not verify.
      const tampered = r.raw.replace('"exercise":false', '"exercise":true');
      assert.notEqual(tampered, r.raw);
      assert.equal(verifySignature(r.headers['vytis-signature'], tampered, ltHook.secret).valid, false);
      assert.equal(
        verifySignature(r.headers['vytis-signature'], r.raw, `${ltHook.secret.slice(0, -1)}x`).valid,
        false,
      );
      const [, mac] = String(r.headers['vytis-signature']).split(',');
      assert.equal(verifySignature(`t=${signature.t + 1},${mac}`, r.raw, ltHook.secret).valid, false);
    }
    const voting = got.find((r) => r.body.type === 'request.voting')!.body.data;
    assert.equal(voting.status, 'voting');
    assert.equal(voting.from, 'submitted');
    assert.equal(voting.to, 'voting');
    assert.equal(voting.exercise, false);

    const sent = await deliveriesOf(ltPoc);
    for (const d of sent) {
      assert.equal(d.state, 'delivered');
      assert.equal(d.attempts, 1);
      assert.equal(d.lastStatus, 200);
      assert.equal(d.lastError, null);
      assert.equal(d.nextAttemptAt, null);
      assert.equal(d.deliveredAt, now.toISOString());
    }
    assert.deepEqual(await node.services.webhooks.deliverDue(), { delivered: 0, failed: 0 });
    assert.equal(receiver.received.length, 3, 'a delivered event is not sent again');
  });

  it('sends nothing of an exercise to a webhook that did not opt into exercises', async () => {
    // Opted-in webhooks and their marked deliveries: webhooks-exercise.test.ts.
    const queuedBefore = (await deliveriesOf(ltPoc)).length;
    await file(ltPoc, { tlp: 'amber', exercise: true, title: 'EXERCISE Cyber Coalition' });
    assert.equal((await deliveriesOf(ltPoc)).length, queuedBefore);
    const sentBefore = receiver.received.length;
    assert.deepEqual(await node.services.webhooks.deliverDue(), { delivered: 0, failed: 0 });
    assert.equal(receiver.received.length, sentBefore);
  });

  it("sends an observer's webhook a GREEN request's events but nothing of an AMBER one or of drafts", async () => {
    const res = await call(fiPoc, 'POST', '/webhooks', { url: receiver.url('/fi') });
    assert.equal(res.statusCode, 201, res.body);
    fiHook = { id: json(res).webhook.id, secret: json(res).secret };
    assert.equal(json(res).webhook.description, null);

    const amber = await submit(
      ltPoc,
      await file(ltPoc, { tlp: 'amber', title: 'Amber: only for the force' }),
    );
    const greenDraft = await file(ltPoc, { tlp: 'green', title: 'Green, but still a draft' });
    assert.deepEqual(await deliveriesOf(fiPoc), [], 'no delivery row for what FI may not see');
    const all = await deliveriesOf(admin);
    assert.ok(all.some((d) => d.webhookId === ltHook.id && d.type === 'request.voting'));
    assert.ok(!all.some((d) => d.webhookId === fiHook.id));

    const green = await submit(ltPoc, await file(ltPoc, { tlp: 'green', title: 'Green: DDoS on banks' }));
    const fiQueued = await deliveriesOf(fiPoc);
    assert.deepEqual(fiQueued.map((d) => d.type).sort(), ['request.submitted', 'request.voting']);

    const sentBefore = receiver.received.length;
    const result = await node.services.webhooks.deliverDue();
    assert.equal(result.failed, 0);
    const fresh = receiver.received.slice(sentBefore);
    const toFi = fresh.filter((r) => r.path === '/fi').sort(bySeq);
    assert.deepEqual(
      toFi.map((r) => [r.body.requestId, r.body.type, r.body.recipient]),
      [
        [green, 'request.submitted', 'FI'],
        [green, 'request.voting', 'FI'],
      ],
    );
    for (const r of toFi) {
      assert.ok(verifySignature(r.headers['vytis-signature'], r.raw, fiHook.secret).valid);
      assert.equal(verifySignature(r.headers['vytis-signature'], r.raw, ltHook.secret).valid, false);
    }
    // LT itself got all of it: its own AMBER request, its draft, the GREEN one.
    const toLt = fresh.filter((r) => r.path === '/lt');
    for (const request of [amber, greenDraft, green]) {
      assert.ok(toLt.some((r) => r.body.requestId === request));
    }
    assert.equal(result.delivered, fresh.length);
  });

  it("shows a PoC only its own party's webhooks and deliveries; admins see all", async () => {
    const lt = json(await call(ltPoc, 'GET', '/webhooks')).items;
    const fi = json(await call(fiPoc, 'GET', '/webhooks')).items;
    const everyone = json(await call(admin, 'GET', '/webhooks')).items;
    assert.deepEqual(
      lt.map((w: any) => w.id),
      [ltHook.id],
    );
    assert.deepEqual(
      fi.map((w: any) => w.id),
      [fiHook.id],
    );
    assert.deepEqual(everyone.map((w: any) => w.id).sort(), [ltHook.id, fiHook.id].sort());

    const ltDeliveries = await deliveriesOf(ltPoc);
    const fiDeliveries = await deliveriesOf(fiPoc);
    assert.ok(
      ltDeliveries.length > 0 && ltDeliveries.every((d) => d.party === 'LT' && d.webhookId === ltHook.id),
    );
    assert.ok(
      fiDeliveries.length > 0 && fiDeliveries.every((d) => d.party === 'FI' && d.webhookId === fiHook.id),
    );
    assert.equal((await deliveriesOf(admin)).length, ltDeliveries.length + fiDeliveries.length);

    for (const [method, url] of [
      ['GET', '/webhooks'],
      ['GET', '/webhooks/deliveries'],
    ] as const) {
      const refused = await call(ltResponder, method, url);
      assert.equal(refused.statusCode, 403, `${method} ${url} by a responder`);
      assert.equal(json(refused).error.code, 'forbidden');
    }
    const retryOther = await call(ltPoc, 'POST', `/webhooks/deliveries/${fiDeliveries[0]!.id}/retry`);
    assert.equal(retryOther.statusCode, 404, "another party's delivery is not there for a PoC");
  });

  it('stops sending new events to a disabled webhook', async () => {
    for (const [user, id] of [
      [fiPoc, ltHook.id],
      [ltPoc, fiHook.id],
    ] as const) {
      const res = await call(user, 'POST', `/webhooks/${id}/disable`);
      assert.equal(res.statusCode, 404, `${user.name} disabling another party's webhook`);
      assert.equal(json(res).error.code, 'not_found');
    }
    const unknown = await call(fiPoc, 'POST', `/webhooks/${crypto.randomUUID()}/disable`);
    assert.equal(unknown.statusCode, 404);

    await submit(ltPoc, await file(ltPoc, { tlp: 'green', title: 'Green queued before FI disabled' }));
    const queued = await deliveriesOf(fiPoc, '&state=pending');
    assert.equal(queued.length, 2, 'submitted and voting wait for FI (the draft was never theirs)');

    node.clock.advance(60_000);
    const disabled = await call(fiPoc, 'POST', `/webhooks/${fiHook.id}/disable`);
    assert.equal(disabled.statusCode, 200, disabled.body);
    assert.equal(json(disabled).disabledAt, node.clock.now().toISOString());
    assert.equal(
      json(await call(fiPoc, 'GET', '/webhooks')).items[0].disabledAt,
      node.clock.now().toISOString(),
    );
    const again = await call(fiPoc, 'POST', `/webhooks/${fiHook.id}/disable`);
    assert.equal(again.statusCode, 409);
    assert.equal(json(again).error.code, 'conflict');
    const audited = await node.services.audit.page(
      { action: 'webhook.disable', objectId: fiHook.id },
      'asc',
      5,
    );
    assert.equal(audited.items.length, 1);
    // What was still waiting for FI will not be sent: it failed, saying why, and cannot be retried.
    assert.deepEqual(await deliveriesOf(fiPoc, '&state=pending'), []);
    const dropped = (await deliveriesOf(fiPoc, '&state=failed')).filter((d) =>
      queued.some((q) => q.id === d.id),
    );
    assert.equal(dropped.length, 2);
    assert.ok(
      dropped.every((d) => d.lastError === 'the webhook was disabled'),
      JSON.stringify(dropped),
    );
    const retryDropped = await call(fiPoc, 'POST', `/webhooks/deliveries/${dropped[0]!.id}/retry`);
    assert.equal(retryDropped.statusCode, 409);
    assert.match(json(retryDropped).error.message, /the webhook is disabled/);
    await node.services.webhooks.deliverDue(); // LT's copies of the queued events go out now
    // LT's webhook still works: its PoC, not FI's, decides on it.
    assert.equal(json(await call(ltPoc, 'GET', '/webhooks')).items[0].disabledAt, null);

    const fiBefore = await deliveriesOf(fiPoc);
    const green = await submit(ltPoc, await file(ltPoc, { tlp: 'green', title: 'Green after FI disabled' }));
    assert.deepEqual(await deliveriesOf(fiPoc), fiBefore, 'no new delivery for the disabled webhook');
    const sentBefore = receiver.received.length;
    await node.services.webhooks.deliverDue();
    const fresh = receiver.received.slice(sentBefore);
    assert.ok(!fresh.some((r) => r.path === '/fi'));
    assert.deepEqual(
      fresh
        .filter((r) => r.path === '/lt')
        .sort(bySeq)
        .map((r) => [r.body.requestId, r.body.type]),
      [
        [green, 'request.created'],
        [green, 'request.submitted'],
        [green, 'request.voting'],
      ],
    );
  });

  it('refuses bad URLs, webhooks for other parties, and callers who are not PoCs or admins', async () => {
    const count = async () => json(await call(admin, 'GET', '/webhooks')).items.length;
    const existing = await count();
    const bad = async (user: TestUser, payload: object, status: number, code: string, field?: string) => {
      const res = await call(user, 'POST', '/webhooks', payload);
      assert.equal(res.statusCode, status, `${JSON.stringify(payload)}: ${res.body}`);
      assert.equal(json(res).error.code, code);
      if (field)
        assert.ok(
          json(res).error.details.some((d: any) => d.field === field),
          `${field} is named: ${res.body}`,
        );
      return json(res).error;
    };
    for (const url of [
      'ftp://127.0.0.1/hooks',
      'file:///etc/passwd',
      'javascript:alert(1)',
      '127.0.0.1:9/x',
    ]) {
      await bad(ltPoc, { url }, 400, 'invalid_input', 'body/url');
    }
    const credentials = await bad(
      ltPoc,
      { url: 'https://soc:hunter2@hooks.example.lt/vytis' },
      400,
      'invalid_input',
      'body/url',
    );
    assert.match(credentials.message, /credentials/);
    await bad(ltPoc, { url: 'https://user@hooks.example.lt/vytis' }, 400, 'invalid_input', 'body/url');
    await bad(ltPoc, { url: receiver.url('/x'), secret: 'mine' }, 400, 'invalid_input', 'body/secret');
    const otherParty = await bad(ltPoc, { url: receiver.url('/ee'), party: 'EE' }, 403, 'forbidden');
    assert.match(otherParty.message, /LT/);
    await bad(ltResponder, { url: receiver.url('/lt2') }, 403, 'forbidden');
    await bad(admin, { url: receiver.url('/xx'), party: 'XX' }, 400, 'invalid_input', 'body/party');
    assert.equal(await count(), existing, 'nothing was created');

    // An admin may add one for any party.
    const forEe = await call(admin, 'POST', '/webhooks', { url: receiver.url('/ee'), party: 'EE' });
    assert.equal(forEe.statusCode, 201, forEe.body);
    assert.equal(json(forEe).webhook.party, 'EE');
    assert.equal(json(forEe).webhook.createdBy, 'admin');
  });
});

describe('webhooks: retries, failures and their repair', () => {
  let node: TestNode;
  let receiver: Receiver;
  let ltPoc: TestUser;
  let eePoc: TestUser;
  let admin: TestUser;
  let sender: WebhooksService;

  const { call, deliveriesOf } = client(() => node);
  const later = (ms: number) => new Date(node.clock.now().getTime() + ms).toISOString();

  before(async () => {
    node = await startTestNode();
    receiver = await Receiver.start();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    eePoc = await node.user('ee.poc', 'EE', ['poc']);
    admin = await node.user('admin', 'NL', ['admin']);
    sender = instantSender(node);
  });
  after(async () => {
    await node.close();
    await receiver.close();
  });

  it('retries a failing receiver with back-off, gives up after MAX_ATTEMPTS, and can be retried by hand', async () => {
    const created = await call(ltPoc, 'POST', '/webhooks', {
      url: receiver.url('/lt'),
      description: 'flaky',
    });
    assert.equal(created.statusCode, 201, created.body);
    const hook = json(created).webhook;
    const secret = json(created).secret as string;
    receiver.status = 500;

    const filed = await fileRequest(node, ltPoc, { tlp: 'amber' });
    assert.equal(filed.statusCode, 201);
    const [queued] = await deliveriesOf(ltPoc);
    assert.equal(queued!.type, 'request.created');

    assert.deepEqual(await sender.deliverDue(), { delivered: 0, failed: 1 });
    let [delivery] = await deliveriesOf(ltPoc);
    assert.deepEqual(
      {
        state: delivery!.state,
        attempts: delivery!.attempts,
        lastStatus: delivery!.lastStatus,
        lastError: delivery!.lastError,
        nextAttemptAt: delivery!.nextAttemptAt,
        deliveredAt: delivery!.deliveredAt,
      },
      {
        state: 'pending',
        attempts: 1,
        lastStatus: null,
        lastError: 'http_5xx',
        nextAttemptAt: later(30_000),
        deliveredAt: null,
      },
    );
    // Not before it is due.
    assert.deepEqual(await sender.deliverDue(), { delivered: 0, failed: 0 });
    node.clock.advance(29_999);
    assert.deepEqual(await sender.deliverDue(), { delivered: 0, failed: 0 });
    assert.equal(receiver.received.length, 1);
    node.clock.advance(1);

    const started = node.clock.now().getTime() - 30_000;
    for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
      assert.deepEqual(await sender.deliverDue(), { delivered: 0, failed: 1 }, `attempt ${attempt}`);
      [delivery] = await deliveriesOf(ltPoc);
      assert.equal(delivery!.attempts, attempt);
      if (attempt < MAX_ATTEMPTS) {
        assert.equal(delivery!.state, 'pending');
        assert.equal(delivery!.nextAttemptAt, later(backoffMs(attempt)));
        assert.ok(backoffMs(attempt) > backoffMs(attempt - 1), 'waits longer each time');
        node.clock.advance(backoffMs(attempt));
      }
    }
    assert.equal(delivery!.state, 'failed');
    assert.equal(delivery!.nextAttemptAt, null);
    assert.equal(delivery!.lastStatus, null);
    const span = node.clock.now().getTime() - started;
    assert.ok(
      span > 55 * 60_000 && span < 70 * 60_000,
      `the attempts span about an hour (${span / 60_000} min)`,
    );

    // Every attempt was the same delivery (receivers deduplicate on it), each freshly signed.
    assert.equal(receiver.received.length, MAX_ATTEMPTS);
    const times = new Set<number>();
    for (const r of receiver.received) {
      assert.equal(r.headers['vytis-delivery'], delivery!.id);
      const signature = verifySignature(r.headers['vytis-signature'], r.raw, secret);
      assert.ok(signature.valid);
      times.add(signature.t);
    }
    assert.equal(times.size, MAX_ATTEMPTS);

    // Given up: nothing more is sent, however long we wait.
    node.clock.advance(24 * 3_600_000);
    assert.deepEqual(await sender.deliverDue(), { delivered: 0, failed: 0 });
    assert.equal(receiver.received.length, MAX_ATTEMPTS);

    // Visible: the webhook's failing count, the failed list (PoC and admins), the audit log.
    assert.equal(json(await call(ltPoc, 'GET', '/webhooks')).items[0].failing, 1);
    assert.equal(
      json(await call(admin, 'GET', '/webhooks')).items.find((w: any) => w.id === hook.id).failing,
      1,
    );
    const failed = await deliveriesOf(admin, '&state=failed');
    assert.deepEqual(
      failed.map((d) => [d.id, d.party, d.url, d.lastError]),
      [[delivery!.id, 'LT', receiver.url('/lt'), 'http_5xx']],
    );
    assert.deepEqual(
      (await deliveriesOf(ltPoc, '&state=failed')).map((d) => d.id),
      [delivery!.id],
    );
    assert.deepEqual(await deliveriesOf(admin, '&state=pending'), []);
    const audited = await node.services.audit.page(
      { action: 'webhook.delivery.failed', objectId: delivery!.id },
      'asc',
      5,
    );
    assert.equal(audited.items.length, 1);
    assert.deepEqual(audited.items[0]!.summary, {
      party: 'LT',
      url: receiver.url('/lt'),
      attempts: MAX_ATTEMPTS,
      error: 'http_5xx',
    });

    // Retried by hand once the receiver is fixed.
    receiver.status = 200;
    const retried = await call(ltPoc, 'POST', `/webhooks/deliveries/${delivery!.id}/retry`);
    assert.equal(retried.statusCode, 200, retried.body);
    assert.equal(json(retried).state, 'pending');
    assert.equal(json(retried).attempts, 0);
    assert.equal(json(retried).nextAttemptAt, node.clock.now().toISOString());
    const twice = await call(ltPoc, 'POST', `/webhooks/deliveries/${delivery!.id}/retry`);
    assert.equal(twice.statusCode, 409, 'only a failed delivery can be retried');
    assert.equal(
      (await node.services.audit.page({ action: 'webhook.delivery.retry', objectId: delivery!.id }, 'asc', 5))
        .items.length,
      1,
    );

    assert.deepEqual(await sender.deliverDue(), { delivered: 1, failed: 0 });
    assert.equal(receiver.received.length, MAX_ATTEMPTS + 1);
    assert.equal(receiver.received.at(-1)!.headers['vytis-delivery'], delivery!.id);
    [delivery] = await deliveriesOf(ltPoc);
    assert.equal(delivery!.state, 'delivered');
    assert.equal(delivery!.lastStatus, 200);
    assert.equal(delivery!.lastError, null);
    assert.equal(delivery!.deliveredAt, node.clock.now().toISOString());
    assert.equal(json(await call(ltPoc, 'GET', '/webhooks')).items[0].failing, 0);
    assert.deepEqual(await deliveriesOf(admin, '&state=failed'), []);
  });

  it('says clearly when the receiver cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const created = await call(eePoc, 'POST', '/webhooks', { url: `http://127.0.0.1:${port}/gone` });
    assert.equal(created.statusCode, 201, created.body);
    const filed = await fileRequest(node, eePoc, {
      tlp: 'amber',
      location: { country: 'EE', city: 'Tallinn' },
    });
    assert.equal(filed.statusCode, 201);

    assert.deepEqual(await sender.deliverDue(), { delivered: 0, failed: 1 });
    const [delivery] = await deliveriesOf(eePoc);
    assert.equal(delivery!.state, 'pending');
    assert.equal(delivery!.attempts, 1);
    assert.equal(delivery!.lastStatus, null);
    assert.equal(delivery!.lastError, 'unreachable');
    assert.equal(delivery!.nextAttemptAt, later(30_000));
    // EE's trouble is EE's: LT's PoC does not see it.
    assert.ok(!(await deliveriesOf(ltPoc)).some((d) => d.id === delivery!.id));
  });
});

describe('webhooks and the node’s own network', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  const sent: string[] = [];

  before(async () => {
    node = await startTestNode({
      webhookPrivateNetworks: false,
      fetch: (async (url: string | URL) => {
        sent.push(String(url));
        return new Response('ok', { status: 200 });
      }) as typeof fetch,
    });
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
  });
  after(() => node.close());

  it('refuses hosts in private or local networks unless the node allows them', async () => {
    for (const url of [
      'http://127.0.0.1:9/hook',
      'http://localhost/hook',
      'http://10.1.2.3/hook',
      'http://192.168.1.10/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
    ]) {
      const res = await node.request({
        method: 'POST',
        url: '/api/v1/webhooks',
        headers: ltPoc.headers,
        payload: { url },
      });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.match(json(res).error.message, /webhooks may only call public hosts/);
      assert.equal(json(res).error.details[0].field, 'body/url');
    }
    const outside = await node.request({
      method: 'POST',
      url: '/api/v1/webhooks',
      headers: ltPoc.headers,
      payload: { url: 'https://93.184.216.34/vytis' },
    });
    assert.equal(outside.statusCode, 201, outside.body);
    await submitRequest(node, ltPoc);
    await node.services.webhooks.deliverDue();
    assert.ok(sent.length >= 2, `sent to the public host: ${sent.length}`);
    assert.ok(sent.every((u) => u === 'https://93.184.216.34/vytis'));
  });
});

/** Every kind of address a webhook must not reach, each as a URL host an attacker could give. */
const NOT_PUBLIC: [host: string, why: string][] = [
  ['0.0.0.0', 'this network'],
  ['0.1.2.3', 'this network'],
  ['10.0.0.5', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['0177.0.0.1', 'loopback, octal'],
  ['2130706433', 'loopback, one number'],
  ['169.254.169.254', 'link-local (cloud metadata)'],
  ['100.64.0.1', 'carrier-grade NAT'],
  ['192.0.0.8', 'IETF protocol assignments'],
  ['192.0.2.1', 'documentation'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['192.88.99.1', '6to4 relay anycast'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  ['[::]', 'unspecified'],
  ['[::1]', 'loopback'],
  ['[fe80::1]', 'link-local'],
  ['[fc00::1]', 'unique local'],
  ['[fd12:3456::1]', 'unique local'],
  ['[fec0::1]', 'site-local'],
  ['[ff02::1]', 'multicast'],
  ['[ff05::1:3]', 'multicast'],
  ['[::ffff:127.0.0.1]', 'IPv4-mapped loopback'],
  ['[::ffff:10.0.0.5]', 'IPv4-mapped private'],
  ['[::ffff:169.254.169.254]', 'IPv4-mapped link-local'],
  ['[::127.0.0.1]', 'IPv4-compatible loopback'],
  ['[::10.0.0.5]', 'IPv4-compatible private'],
  ['[::8.8.8.8]', 'IPv4-compatible (deprecated, never public)'],
  ['[64:ff9b::127.0.0.1]', 'NAT64 loopback'],
  ['[64:ff9b::10.0.0.5]', 'NAT64 private'],
  ['[64:ff9b::a9fe:a9fe]', 'NAT64 link-local'],
  ['[64:ff9b:1::7f00:1]', 'local-use NAT64 loopback'],
  ['[64:ff9b:1::a00:5]', 'local-use NAT64 private'],
  // Under a /48 local-use prefix this is 10.0.0.1; only under /96 would it be 8.8.8.8.
  ['[64:ff9b:1:a00:0:100:808:808]', 'local-use NAT64, private in the /48 layout'],
  ['[2002:7f00:1::1]', '6to4 loopback'],
  ['[2002:a00:5::1]', '6to4 private'],
  ['[2001::1]', 'Teredo'],
  ['[2001:0:4136:e378:8000:63bf:3fff:fdd2]', 'Teredo'],
  ['[2001:2::1]', 'benchmarking'],
  ['[2001:db8::1]', 'documentation'],
  ['[3fff::1]', 'documentation'],
  ['[100::1]', 'discard'],
  ['[::ffff:0:7f00:1]', 'IPv4-translated loopback'],
  ['[5f00::1]', 'segment routing'],
  ['[4000::1]', 'outside global unicast'],
];
const PUBLIC = [
  '93.184.216.34',
  '8.8.8.8',
  '172.32.0.1',
  '100.128.0.1',
  '198.20.0.1',
  '2001:4860:4860::8888',
  '2606:4700::1111',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  // 8.8.8.8 in every layout a local-use NAT64 prefix (/48, /56, /64, /96) may have.
  '64:ff9b:1:808:8:808:808:808',
  '2002:808:808::1',
];

describe('which addresses are public', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  const sent: string[] = [];

  before(async () => {
    node = await startTestNode({
      webhookPrivateNetworks: false,
      fetch: (async (url: string | URL) => {
        sent.push(String(url));
        return new Response('ok', { status: 200 });
      }) as typeof fetch,
    });
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
  });
  after(() => node.close());

  it('refuses a webhook to every non-public range, in every notation', async () => {
    for (const [host, why] of NOT_PUBLIC) {
      const res = await node.request({
        method: 'POST',
        url: '/api/v1/webhooks',
        headers: ltPoc.headers,
        payload: { url: `http://${host}:22/hook` },
      });
      assert.equal(res.statusCode, 400, `${host} (${why}): ${res.body}`);
      assert.match(json(res).error.message, /^webhooks may only call public hosts: /);
      assert.equal(json(res).error.details[0].field, 'body/url');
    }
    assert.deepEqual(json(await node.request({ url: '/api/v1/webhooks', headers: ltPoc.headers })).items, []);
  });

  it('judges addresses by the range they reach, mapped, translated and tunnelled forms included', () => {
    for (const [host, why] of NOT_PUBLIC) {
      const address = new URL(`http://${host}/`).hostname.replace(/^\[|\]$/g, '');
      assert.notEqual(nonPublicRange(address), null, `${host} (${why})`);
      assert.equal(mayConnectTo(address, false), false, `${host} (${why})`);
    }
    for (const address of PUBLIC) {
      assert.equal(nonPublicRange(address), null, address);
      assert.equal(mayConnectTo(address, false), true, address);
    }
    // A list allows those networks only, in any form that reaches them.
    assert.equal(mayConnectTo('10.8.1.2', ['10.8.0.0/16']), true);
    assert.equal(mayConnectTo('::ffff:10.8.1.2', ['10.8.0.0/16']), true);
    assert.equal(mayConnectTo('10.9.1.2', ['10.8.0.0/16']), false);
    assert.equal(mayConnectTo('127.0.0.1', ['10.8.0.0/16']), false);
  });

  it('lets an operator allow all private networks, or only listed ones, and says what is wrong', () => {
    const allowed = (value: string) => {
      const parsed = parseConfig({ VYTIS_WEBHOOK_PRIVATE_NETWORKS: value });
      return parsed.ok ? parsed.config.webhookPrivateNetworks : parsed.problems;
    };
    assert.equal(allowed('true'), true);
    assert.equal(allowed('no'), false);
    const unset = parseConfig({});
    assert.equal(unset.ok && unset.config.webhookPrivateNetworks, false);
    assert.deepEqual(allowed('10.8.0.0/16, fd00:1::/64'), ['10.8.0.0/16', 'fd00:1::/64']);
    assert.deepEqual(allowed('10.8.0.0/16,intranet'), [
      'VYTIS_WEBHOOK_PRIVATE_NETWORKS must be true, false or a comma-separated list of CIDR networks such as 10.8.0.0/16 (intranet is not one) (got "10.8.0.0/16,intranet")',
    ]);
  });

  it("does not tell whether a name resolves: the node's DNS is not for reading", async () => {
    const messages = [];
    for (const host of ['localhost', 'no-such-host.invalid']) {
      const res = await node.request({
        method: 'POST',
        url: '/api/v1/webhooks',
        headers: ltPoc.headers,
        payload: { url: `http://${host}/hook` },
      });
      assert.equal(res.statusCode, 400, res.body);
      messages.push(json(res).error.message.replace(host, 'HOST'));
      assert.doesNotMatch(res.body, /127\.0\.0\.1|::1|ENOTFOUND/);
    }
    assert.equal(messages[0], messages[1]);
    assert.equal(sent.length, 0);
  });
});

describe('webhooks connect to the address they checked (DNS rebinding)', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  /** Stands for the receiver's public address: the only one the sender below may call. */
  let checked: Receiver;
  /** The node's own loopback service a rebinding name would reach. */
  let inside: Receiver;
  let answers: string[][];
  let lookups: string[];
  let sender: WebhooksService;
  const { call, deliveriesOf } = client(() => node);

  before(async () => {
    node = await startTestNode();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    checked = await Receiver.start('127.0.0.2');
    inside = await Receiver.start('127.0.0.1', checked.port);
    // The delivery worker of a node that allows 127.0.0.2 only, with a resolver the attacker controls.
    sender = instantSender(node, {
      allowPrivateNetworks: ['127.0.0.2/32'],
      resolve: async (host) => {
        lookups.push(host);
        const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
        return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
      },
    });
  });
  after(async () => {
    await node.close();
    await checked.close();
    await inside.close();
  });

  async function hookAndEvent(answersInTurn: string[][]) {
    const created = await call(ltPoc, 'POST', '/webhooks', {
      url: `http://rebind.example:${checked.port}/hook`,
    });
    assert.equal(created.statusCode, 201, created.body);
    answers = answersInTurn;
    lookups = [];
    const filed = await fileRequest(node, ltPoc, { tlp: 'amber' });
    assert.equal(filed.statusCode, 201, filed.body);
    return json(created).webhook.id as string;
  }

  async function done(hookId: string) {
    assert.equal((await call(ltPoc, 'POST', `/webhooks/${hookId}/disable`)).statusCode, 200);
  }

  it('resolves once and connects to that address, however the name answers afterwards', async () => {
    const hookId = await hookAndEvent([['127.0.0.2'], ['127.0.0.1']]);
    assert.deepEqual(await sender.deliverDue(), { delivered: 1, failed: 0 });
    assert.deepEqual(lookups, ['rebind.example'], 'looked up once');
    assert.equal(checked.received.length, 1);
    assert.equal(inside.received.length, 0, 'nothing reached the loopback service');
    // The name, not the address, is what the receiver sees.
    assert.equal(checked.received[0]!.headers.host, `rebind.example:${checked.port}`);
    await done(hookId);
  });

  it('sends nothing once the name answers with an address that is not allowed, in any form', async () => {
    for (const answer of [
      ['127.0.0.1'],
      ['::ffff:127.0.0.1'],
      ['64:ff9b::7f00:1'],
      ['2002:7f00:1::1'],
      ['127.0.0.2', '127.0.0.1'],
      ['10.0.0.5'],
    ]) {
      const hookId = await hookAndEvent([answer]);
      const before = checked.received.length;
      assert.deepEqual(await sender.deliverDue(), { delivered: 0, failed: 1 }, answer.join());
      assert.equal(inside.received.length, 0, answer.join());
      assert.equal(checked.received.length, before, answer.join());
      const [delivery] = (await deliveriesOf(ltPoc)).filter((d) => d.webhookId === hookId);
      assert.equal(delivery!.lastError, 'refused_address', answer.join());
      assert.equal(delivery!.lastStatus, null);
      assert.equal(delivery!.state, 'pending', 'tried again later: the name may be fixed');
      await done(hookId);
    }
  });
});

describe('the delivery log is no port scanner', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  let admin: TestUser;
  let sender: WebhooksService;
  const servers: { close(): unknown }[] = [];
  const { call, deliveriesOf } = client(() => node);

  /** A TCP service on loopback that is not an HTTP server: what a prober hopes to tell apart. */
  async function tcp(onConnection: (socket: net.Socket) => void) {
    const server = net.createServer(onConnection);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push({
      close: () => {
        server.close();
        for (const socket of sockets) socket.destroy();
      },
    });
    const sockets = new Set<net.Socket>();
    server.on('connection', (socket) => sockets.add(socket));
    return (server.address() as AddressInfo).port;
  }

  before(async () => {
    node = await startTestNode();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    admin = await node.user('admin', 'NL', ['admin']);
    // A shorter time limit than a node's, so the silent port does not hold the test up for long.
    sender = instantSender(node, { timeoutMs: 2_000 });
  });
  after(async () => {
    for (const server of servers) server.close();
    await node.close();
  });

  it('records only coarse classes, the same for every kind of non-HTTP port', async () => {
    const closed = await tcp(() => {});
    servers.pop()!.close();
    // Silent on the first round, to be timed out; then it hangs up at once, to keep the test short.
    let holdOpen = true;
    const silent = await tcp((socket) => {
      if (!holdOpen) socket.destroy();
    });
    const banner = await tcp((socket) => socket.write('SSH-2.0-OpenSSH_9.6 internal-banner\r\n'));
    const reset = await tcp((socket) => socket.resetAndDestroy());
    const notFound = await Receiver.start();
    notFound.status = 404;
    const failing = await Receiver.start();
    failing.status = 503;
    const elsewhere = await Receiver.start();
    const redirecting = http.createServer((_req, res) =>
      res.writeHead(302, { location: elsewhere.url('/followed') }).end('moved'),
    );
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    servers.push(notFound, failing, elsewhere, { close: () => redirecting.close() });
    const redirectPort = (redirecting.address() as AddressInfo).port;

    const expected: Record<string, string> = {
      [`http://127.0.0.1:${closed}/`]: 'unreachable',
      [`http://127.0.0.1:${silent}/`]: 'unreachable',
      [`http://127.0.0.1:${banner}/`]: 'unreachable',
      [`http://127.0.0.1:${reset}/`]: 'unreachable',
      [`https://127.0.0.1:${notFound.port}/secure`]: 'unreachable',
      [notFound.url('/missing')]: 'http_4xx',
      [failing.url('/down')]: 'http_5xx',
      [`http://127.0.0.1:${redirectPort}/r`]: 'http_3xx',
    };
    for (const url of Object.keys(expected)) {
      const created = await call(ltPoc, 'POST', '/webhooks', { url });
      assert.equal(created.statusCode, 201, created.body);
    }
    assert.equal((await fileRequest(node, ltPoc, { tlp: 'amber' })).statusCode, 201);

    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const round = await sender.deliverDue();
      assert.deepEqual(round, { delivered: 0, failed: 8 }, `attempt ${attempt}`);
      const deliveries = await deliveriesOf(ltPoc);
      assert.deepEqual(
        Object.fromEntries(deliveries.map((d) => [d.url, d.lastError])),
        expected,
        `attempt ${attempt}`,
      );
      assert.ok(deliveries.every((d) => d.lastStatus === null));
      // Every attempt of a round is due again at the same time, however long it took.
      assert.equal(new Set(deliveries.map((d) => d.nextAttemptAt)).size, 1);
      node.clock.advance(backoffMs(attempt));
      holdOpen = false;
    }
    assert.equal(elsewhere.received.length, 0, 'the redirect was not followed');

    // Nothing finer anywhere a PoC or an admin reads: the delivery lists, the webhooks, the audit log.
    const given = await node.services.audit.page({ action: 'webhook.delivery.failed' }, 'asc', 50);
    assert.deepEqual(
      given.items.map((e) => (e.summary as Record<string, unknown>).error).sort(),
      Object.values(expected).sort(),
    );
    const read = [
      (await call(ltPoc, 'GET', '/webhooks/deliveries?limit=200')).body,
      (await call(admin, 'GET', '/webhooks/deliveries?limit=200&state=failed')).body,
      (await call(ltPoc, 'GET', '/webhooks')).body,
      JSON.stringify(given.items),
    ].join('\n');
    for (const detail of [
      /ECONN/,
      /EPIPE/,
      /SSH/,
      /banner/,
      /thanks/,
      /moved/,
      /timeout/i,
      /ssl|tls/i,
      / HTTP \d/,
    ]) {
      assert.doesNotMatch(read, detail);
    }
  });

  it('shows failures recorded before they were classed as their class too', async () => {
    const [first, second] = await deliveriesOf(ltPoc);
    for (const [id, lastError, lastStatus] of [
      [first!.id, 'could not reach it: ECONNREFUSED', null],
      [second!.id, 'the receiver answered HTTP 404', 404],
    ] as const) {
      await node.database.db
        .updateTable('webhook_deliveries')
        .set({ last_error: lastError, last_status: lastStatus })
        .where('id', '=', id)
        .execute();
    }
    const shown = new Map((await deliveriesOf(ltPoc)).map((d) => [d.id, [d.lastError, d.lastStatus]]));
    assert.deepEqual(shown.get(first!.id), ['unreachable', null]);
    assert.deepEqual(shown.get(second!.id), ['http_4xx', null]);
  });
});

describe('a failed attempt does not tell how long it took', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  let admin: TestUser;
  const servers: { close(): unknown }[] = [];
  const { call, deliveriesOf } = client(() => node);
  after(async () => {
    for (const server of servers) await server.close();
    await node.close();
  });
  before(async () => {
    node = await startTestNode();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    admin = await node.user('admin', 'NL', ['admin']);
  });

  /** Everything a PoC and an admin can read about deliveries and webhooks. */
  async function visible() {
    return {
      deliveries: await deliveriesOf(ltPoc),
      failed: await deliveriesOf(admin, '&state=failed'),
      webhooks: json(await call(ltPoc, 'GET', '/webhooks')).items,
      audit: (await node.services.audit.page({ action: 'webhook.delivery.failed' }, 'asc', 50)).items,
    };
  }

  it('changes nothing a PoC can read until the attempt’s time limit is up, however soon it failed', async () => {
    const closedServer = net.createServer();
    await new Promise<void>((resolve) => closedServer.listen(0, '127.0.0.1', resolve));
    const closedPort = (closedServer.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closedServer.close(() => resolve()));
    const failing = await Receiver.start();
    failing.status = 503;
    const good = await Receiver.start();
    servers.push(failing, good);

    // Time limits the test ends by hand: asked for at each attempt's start, released when told.
    const limits: number[] = [];
    let timeLimitsUp!: () => void;
    const released = new Promise<void>((resolve) => {
      timeLimitsUp = resolve;
    });
    let lookups = 0;
    let fetchesEnded = 0;
    const sender = instantSender(node, {
      timeoutMs: 5_000,
      allowPrivateNetworks: ['127.0.0.0/8'],
      waitOutAttempt: (ms) => {
        limits.push(ms);
        return released;
      },
      resolve: async (host) => {
        lookups++;
        if (host === 'private.example') return [{ address: '10.0.0.5', family: 4 }];
        throw new Error(`${host} does not resolve`);
      },
      fetch: (async (url: string | URL, init?: RequestInit) => {
        try {
          return await undiciFetch(url, init as never);
        } finally {
          fetchesEnded++;
        }
      }) as unknown as typeof fetch,
    });

    const urls = [
      `http://127.0.0.1:${closedPort}/closed`,
      failing.url('/failing'),
      'http://private.example/hook',
      'http://no-such-name.example/hook',
      good.url('/good'),
    ];
    for (const url of urls) {
      const created = await call(ltPoc, 'POST', '/webhooks', { url });
      assert.equal(created.statusCode, 201, created.body);
    }
    assert.equal((await fileRequest(node, ltPoc, { tlp: 'amber' })).statusCode, 201);
    const before = await visible();
    const goodBefore = before.deliveries.find((d) => d.url === good.url('/good'))!;
    const othersOf = (seen: Awaited<ReturnType<typeof visible>>) => ({
      ...seen,
      deliveries: seen.deliveries.filter((d) => d.id !== goodBefore.id),
    });

    const round = sender.deliverDue();
    // Every attempt has ended: three answered or failed to connect, two names were judged, and the
    // success is recorded at once.
    for (let i = 0; i < 500; i++) {
      const goodNow = (await deliveriesOf(ltPoc)).find((d) => d.id === goodBefore.id)!;
      if (fetchesEnded === 3 && lookups === 2 && goodNow.state === 'delivered') break;
      await sleep(10);
    }
    assert.equal(fetchesEnded, 3);
    assert.equal(lookups, 2);
    assert.equal(good.received.length, 1);
    assert.equal(failing.received.length, 1);
    assert.deepEqual(
      limits,
      urls.map(() => 5_000),
      'each attempt waits out the whole time limit',
    );
    // While the time limits run, the failed attempts leave no trace: not their outcome, not even
    // that they were made.
    for (let look = 0; look < 20; look++) {
      assert.deepEqual(othersOf(await visible()), othersOf(before), `look ${look}`);
      await sleep(10);
    }

    timeLimitsUp();
    assert.deepEqual(await round, { delivered: 1, failed: 4 });
    const after = await deliveriesOf(ltPoc);
    assert.deepEqual(Object.fromEntries(after.map((d) => [d.url, [d.state, d.attempts, d.lastError]])), {
      [urls[0]!]: ['pending', 1, 'unreachable'],
      [urls[1]!]: ['pending', 1, 'http_5xx'],
      [urls[2]!]: ['pending', 1, 'refused_address'],
      [urls[3]!]: ['pending', 1, 'refused_address'],
      [urls[4]!]: ['delivered', 1, null],
    });
    assert.equal(new Set(after.filter((d) => d.state === 'pending').map((d) => d.nextAttemptAt)).size, 1);
  });
});

describe('webhooks give up a host lookup at the time limit', () => {
  it('ends a call whose name does not answer in time, sending nothing', async () => {
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    // Answers at last, so that a call that waits for the lookup fails this test instead of hanging it.
    const atLast = setTimeout(answer, 10_000);
    let lookupAnswered = false;
    const sent: string[] = [];
    const outcome = await callOut(
      new URL('http://slow-name.example/hook'),
      { method: 'POST', body: '{}' },
      {
        allowed: ['93.184.216.0/24'],
        timeoutMs: 200,
        resolve: async () => {
          await answered;
          lookupAnswered = true;
          return [{ address: '93.184.216.34', family: 4 }];
        },
        fetch: (async (url: string | URL) => {
          sent.push(String(url));
          return new Response('ok');
        }) as typeof fetch,
      },
      async (response) => response.status,
    ).then(
      (status) => ({ status }),
      (error: unknown) => ({ error }),
    );
    clearTimeout(atLast);
    answer();
    assert.equal(lookupAnswered, false, 'the call ended while the lookup was still unanswered');
    assert.ok('error' in outcome && outcome.error instanceof DestinationRefused, JSON.stringify(outcome));
    // Said like any name that does not resolve to allowed addresses: whether the node's DNS is slow is not told.
    assert.equal(outcome.error.message, 'slow-name.example does not resolve to public addresses only');
    assert.deepEqual(sent, []);
  });
});

describe('one party cannot crowd out the others', () => {
  let node: TestNode;
  let eePoc: TestUser;
  let fiPoc: TestUser;
  let ltPoc: TestUser;
  let admin: TestUser;
  let failing: Receiver;
  let good: Receiver;
  const { call } = client(() => node);

  before(async () => {
    node = await startTestNode();
    eePoc = await node.user('ee.poc', 'EE', ['poc']);
    fiPoc = await node.user('fi.poc', 'FI', ['poc']);
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    admin = await node.user('admin', 'NL', ['admin']);
    failing = await Receiver.start();
    failing.status = 503;
    good = await Receiver.start();
  });
  after(async () => {
    await node.close();
    await failing.close();
    await good.close();
  });

  it(`keeps at most ${MAX_WEBHOOKS_PER_PARTY} active webhooks per party`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < MAX_WEBHOOKS_PER_PARTY; i++) {
      const created = await call(eePoc, 'POST', '/webhooks', { url: failing.url(`/ee/${i}`) });
      assert.equal(created.statusCode, 201, created.body);
      ids.push(json(created).webhook.id);
    }
    for (const [who, payload] of [
      [eePoc, { url: failing.url('/ee/one-more') }],
      [admin, { url: failing.url('/ee/by-admin'), party: 'EE' }],
    ] as const) {
      const refused = await call(who, 'POST', '/webhooks', payload);
      assert.equal(refused.statusCode, 409, refused.body);
      assert.equal(json(refused).error.code, 'conflict');
      assert.match(json(refused).error.message, /EE already has 10 active webhooks.*disable one/);
    }
    assert.equal(json(await call(eePoc, 'GET', '/webhooks')).items.length, MAX_WEBHOOKS_PER_PARTY);
    // Other parties are not affected, and a disabled webhook frees its place.
    assert.equal((await call(fiPoc, 'POST', '/webhooks', { url: good.url('/fi') })).statusCode, 201);
    assert.equal((await call(eePoc, 'POST', `/webhooks/${ids[0]}/disable`)).statusCode, 200);
    const again = await call(eePoc, 'POST', '/webhooks', { url: failing.url('/ee/again') });
    assert.equal(again.statusCode, 201, again.body);
  });

  it("gives every party with deliveries due a share of each batch, however many another party's are", async () => {
    // EE's ten receivers fail; its deliveries fall due before FI's and LT's.
    assert.equal((await call(ltPoc, 'POST', '/webhooks', { url: good.url('/lt') })).statusCode, 201);
    assert.equal(
      (await fileRequest(node, eePoc, { tlp: 'amber', location: { country: 'EE', city: 'Tallinn' } }))
        .statusCode,
      201,
    );
    node.clock.advance(1_000);
    assert.equal(
      (await fileRequest(node, fiPoc, { tlp: 'amber', location: { country: 'FI', city: 'Helsinki' } }))
        .statusCode,
      201,
    );
    assert.equal((await fileRequest(node, ltPoc, { tlp: 'amber' })).statusCode, 201);
    node.clock.advance(1_000);

    const sender = instantSender(node);
    assert.deepEqual(await sender.deliverDue(4), { delivered: 2, failed: 2 });
    assert.deepEqual(good.received.map((r) => r.path).sort(), ['/fi', '/lt']);
    assert.equal(failing.received.length, 2);
    // EE's are still sent, in the batches after.
    assert.deepEqual(await sender.deliverDue(4), { delivered: 0, failed: 4 });
    assert.deepEqual(await sender.deliverDue(4), { delivered: 0, failed: 4 });
    assert.equal(failing.received.length, MAX_WEBHOOKS_PER_PARTY);
  });
});
