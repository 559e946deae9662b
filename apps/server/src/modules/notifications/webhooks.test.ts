import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { NewRequest } from '@vytis/contracts';
import { isPrivateAddress } from '../../platform/network.ts';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { fileRequest, submitRequest } from '../../test/requests.fixtures.ts';
import { backoffMs, MAX_ATTEMPTS } from './webhooks.service.ts';

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

  static async start() {
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
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  url(path: string) {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
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

  it('marks the deliveries of an exercise', async () => {
    const drill = await file(ltPoc, { tlp: 'amber', exercise: true, title: 'EXERCISE Cyber Coalition' });
    const sentBefore = receiver.received.length;
    assert.deepEqual(await node.services.webhooks.deliverDue(), { delivered: 1, failed: 0 });
    const [got] = receiver.received.slice(sentBefore);
    assert.equal(got!.body.requestId, drill);
    assert.equal(got!.body.exercise, true);
    assert.equal(got!.body.data.exercise, true);
    assert.ok(verifySignature(got!.headers['vytis-signature'], got!.raw, ltHook.secret).valid);
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

  const { call, deliveriesOf } = client(() => node);
  const later = (ms: number) => new Date(node.clock.now().getTime() + ms).toISOString();

  before(async () => {
    node = await startTestNode();
    receiver = await Receiver.start();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    eePoc = await node.user('ee.poc', 'EE', ['poc']);
    admin = await node.user('admin', 'NL', ['admin']);
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

    assert.deepEqual(await node.services.webhooks.deliverDue(), { delivered: 0, failed: 1 });
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
        lastStatus: 500,
        lastError: 'the receiver answered HTTP 500',
        nextAttemptAt: later(30_000),
        deliveredAt: null,
      },
    );
    // Not before it is due.
    assert.deepEqual(await node.services.webhooks.deliverDue(), { delivered: 0, failed: 0 });
    node.clock.advance(29_999);
    assert.deepEqual(await node.services.webhooks.deliverDue(), { delivered: 0, failed: 0 });
    assert.equal(receiver.received.length, 1);
    node.clock.advance(1);

    const started = node.clock.now().getTime() - 30_000;
    for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
      assert.deepEqual(
        await node.services.webhooks.deliverDue(),
        { delivered: 0, failed: 1 },
        `attempt ${attempt}`,
      );
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
    assert.equal(delivery!.lastStatus, 500);
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
    assert.deepEqual(await node.services.webhooks.deliverDue(), { delivered: 0, failed: 0 });
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
      [[delivery!.id, 'LT', receiver.url('/lt'), 'the receiver answered HTTP 500']],
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
      error: 'the receiver answered HTTP 500',
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

    assert.deepEqual(await node.services.webhooks.deliverDue(), { delivered: 1, failed: 0 });
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

    assert.deepEqual(await node.services.webhooks.deliverDue(), { delivered: 0, failed: 1 });
    const [delivery] = await deliveriesOf(eePoc);
    assert.equal(delivery!.state, 'pending');
    assert.equal(delivery!.attempts, 1);
    assert.equal(delivery!.lastStatus, null);
    assert.match(delivery!.lastError, /^could not reach it: ECONNREFUSED$/);
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

describe('isPrivateAddress', () => {
  it('knows the private, loopback and link-local ranges of both families', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '169.254.1.1',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
    ]) {
      assert.equal(isPrivateAddress(address), true, address);
    }
    for (const address of [
      '93.184.216.34',
      '172.32.0.1',
      '8.8.8.8',
      '2001:4860:4860::8888',
      '::ffff:8.8.8.8',
    ]) {
      assert.equal(isPrivateAddress(address), false, address);
    }
  });
});
