import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Ctx } from '../context.ts';
import { json, startTestNode, type TestNode, type TestUser } from '../test/harness.ts';
import { submitRequest } from '../test/requests.fixtures.ts';

/**
 * Issue 17, item 6: GREEN has one meaning — TLP 2.0's community, the parties of the framework
 * (member, observer, EU institution, partner) by their status on the day — for requests and cases
 * alike, and for what is derived from them: lists, totals, figures, the event stream, webhooks.
 */
describe('GREEN reaches one community, for requests and cases alike', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  let ltAnalyst: TestUser;
  let admin: TestUser;
  const users: Record<string, TestUser> = {};
  const green = { request: '', case: '' };
  const clear = { request: '', case: '' };

  const get = (user: TestUser, url: string) =>
    node.request({ method: 'GET', url: `/api/v1${url}`, headers: user.headers });
  const seen = async (user: TestUser, url: string) => {
    const { statusCode } = await get(user, url);
    assert.ok(statusCode === 200 || statusCode === 404, `${url}: ${statusCode}`);
    return statusCode === 200;
  };
  /** What `user` sees of the GREEN request and the GREEN case: the two must always agree. */
  const seesGreen = async (user: TestUser) => {
    const request = await seen(user, `/requests/${green.request}`);
    const kase = await seen(user, `/cases/${green.case}`);
    assert.equal(request, kase, `${user.name}: GREEN request ${request}, GREEN case ${kase}`);
    return request;
  };
  const changeStatus = async (code: string, status: string, effectiveFrom: string) => {
    const res = await node.request({
      method: 'POST',
      url: `/api/v1/parties/${code}/statuses`,
      headers: admin.headers,
      payload: { status, effectiveFrom, note: `${code} becomes ${status}` },
    });
    assert.equal(res.statusCode, 201, res.body);
  };
  const openCase = async (tlp: string) => {
    const res = await node.request({
      method: 'POST',
      url: '/api/v1/cases',
      headers: ltAnalyst.headers,
      payload: {
        title: `A ${tlp} case`,
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'medium',
        tlp,
        pap: 'amber',
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  };

  before(async () => {
    node = await startTestNode();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    ltAnalyst = await node.user('lt.analyst', 'LT', ['analyst']);
    admin = await node.user('root', 'LT', ['admin']);
    for (const [name, party, role] of [
      ['de.poc', 'DE', 'poc'],
      ['de.analyst', 'DE', 'analyst'],
      ['fi.analyst', 'FI', 'analyst'],
      ['eu.analyst', 'EU', 'analyst'],
      ['ua.poc', 'UA', 'poc'],
      ['md.analyst', 'MD', 'analyst'],
    ] as const) {
      users[name] = await node.user(name, party, [role]);
    }
    green.request = (await submitRequest(node, ltPoc, { title: 'Green: DDoS on banks', tlp: 'green' })).id;
    clear.request = (await submitRequest(node, ltPoc, { title: 'Clear: advisory', tlp: 'clear' })).id;
    green.case = await openCase('green');
    clear.case = await openCase('clear');
  });
  after(() => node?.close());

  it('the parties of the framework see GREEN requests and cases; an external state sees neither', async () => {
    for (const name of ['fi.analyst', 'eu.analyst', 'ua.poc', 'md.analyst']) {
      assert.equal(await seesGreen(users[name]!), true, name);
    }
    for (const name of ['de.poc', 'de.analyst']) {
      const de = users[name]!;
      assert.equal(await seesGreen(de), false, name);
      const res = await get(de, `/requests/${green.request}`);
      assert.deepEqual(json(res).error, { code: 'not_found', message: `request ${green.request} not found` });
      // CLEAR is not limited: the external state reads it like everyone signed in.
      assert.equal(await seen(de, `/requests/${clear.request}`), true, name);
      assert.equal(await seen(de, `/cases/${clear.case}`), true, name);
    }
  });

  it('lists, totals and figures count GREEN for the community only', async () => {
    for (const [name, inCommunity] of [
      ['de.poc', false],
      ['fi.analyst', true],
    ] as const) {
      const user = users[name]!;
      const requests = json(await get(user, '/requests?limit=200'));
      const ids = new Set(requests.items.map((r: any) => r.id));
      assert.equal(ids.has(green.request), inCommunity, name);
      assert.ok(ids.has(clear.request), name);
      assert.equal(requests.total, ids.size, name);
      assert.equal(json(await get(user, '/requests/stats')).real.total, requests.total, name);

      const cases = json(await get(user, '/cases?limit=200'));
      const caseIds = new Set(cases.items.map((c: any) => c.id));
      assert.equal(caseIds.has(green.case), inCommunity, name);
      assert.ok(caseIds.has(clear.case), name);
    }
  });

  it("an external state's event stream and webhooks carry CLEAR requests' events, never GREEN ones", async () => {
    const dePoc = users['de.poc']!;
    const hook = await node.request({
      method: 'POST',
      url: '/api/v1/webhooks',
      headers: dePoc.headers,
      payload: { url: 'http://127.0.0.1:9/de' },
    });
    assert.equal(hook.statusCode, 201, hook.body);
    const greenLater = (await submitRequest(node, ltPoc, { title: 'Green, later', tlp: 'green' })).id;
    const clearLater = (await submitRequest(node, ltPoc, { title: 'Clear, later', tlp: 'clear' })).id;

    const everything = await node.services.events.since(node.cli, 0, 100_000);
    const requestOf = new Map(everything.map((e) => [e.seq, e.requestId]));
    const deliveries = json(await get(dePoc, '/webhooks/deliveries?limit=200')).items as any[];
    const delivered = new Set(deliveries.map((d) => requestOf.get(d.notificationSeq)));
    assert.ok(delivered.has(clearLater), 'the CLEAR request reaches the webhook');
    assert.ok(!delivered.has(greenLater), 'the GREEN request does not');

    const actor = await node.services.identity.authenticateToken(dePoc.token);
    assert.ok(actor);
    const ctx: Ctx = { actor, requestId: null };
    const streamed = new Set((await node.services.events.since(ctx, 0, 100_000)).map((e) => e.requestId));
    assert.ok(streamed.has(clearLater) && streamed.has(clear.request));
    assert.ok(!streamed.has(greenLater) && !streamed.has(green.request));
    assert.ok(!streamed.has(green.case));
  });

  it('reads the community on the day: a party that leaves loses GREEN, one that joins gains it', async () => {
    await changeStatus('MD', 'external', '2026-11-25');
    await changeStatus('DE', 'partner', '2026-11-25');
    // Before the day, as they were.
    assert.equal(await seesGreen(users['md.analyst']!), true);
    assert.equal(await seesGreen(users['de.analyst']!), false);

    node.clock.set('2026-11-25T08:00:00Z');
    assert.equal(await seesGreen(users['md.analyst']!), false, 'MD left the framework');
    assert.equal(await seesGreen(users['de.analyst']!), true, 'DE joined it as a partner');
    const deRequests = json(await get(users['de.poc']!, '/requests?limit=200'));
    assert.ok(deRequests.items.some((r: any) => r.id === green.request));
  });
});
