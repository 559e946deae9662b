import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { json, startTestNode, type TestNode, type TestUser } from '../test/harness.ts';
import { submitRequest } from '../test/requests.fixtures.ts';

const api = '/api/v1';

describe('the audit log for auditors: words, filters, actions, export, checkpoints', () => {
  let node: TestNode;
  let auditor: TestUser;
  let admin: TestUser;
  let ltPoc: TestUser;
  let coordinator: TestUser;
  let requestId: string;
  let title: string;

  const get = (user: TestUser | null, url: string) =>
    node.request({ method: 'GET', url: `${api}${url}`, headers: user ? user.headers : {} });
  const ok = async (user: TestUser, url: string) => {
    const res = await get(user, url);
    assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
    return res;
  };

  before(async () => {
    node = await startTestNode({ now: '2026-11-23T12:00:00Z' });
    auditor = await node.user('eu.auditor', 'EU', ['auditor']);
    admin = await node.user('root', 'LT', ['admin']);
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    coordinator = await node.user('duty.officer', 'FI', ['coordinator']);
    const submitted = await submitRequest(node, ltPoc);
    requestId = submitted.id;
    title = submitted.title;
    // The next day: lt.poc withdraws it, with a reason.
    node.clock.set('2026-11-24T15:00:00Z');
    const withdrawn = await node.request({
      method: 'POST',
      url: `${api}/requests/${requestId}/withdraw`,
      headers: ltPoc.headers,
      payload: { reason: 'contained by the national CSIRT' },
    });
    assert.equal(withdrawn.statusCode, 200, withdrawn.body);
    // A denial, audited too.
    assert.equal((await get(coordinator, '/audit')).statusCode, 403);
  });
  after(() => node.close());

  it('tells each event in words, naming its object by title where the reader may see it, with the reason', async () => {
    const page = json(await ok(auditor, `/audit?action=request.withdrawn&order=desc`));
    assert.equal(page.items.length, 1);
    const [event] = page.items;
    assert.equal(event.object.id, requestId);
    // The EU's auditor may not read LT's request: its title stays out of the words, its id is there.
    assert.equal(
      event.text,
      `lt.poc (LT) withdrew request ${requestId.slice(0, 8)} (voting → withdrawn; reason: contained by the national CSIRT)`,
    );
    // An admin of LT reads it, title and all.
    const [seen] = json(await ok(admin, `/audit?action=request.withdrawn&order=desc`)).items;
    assert.equal(
      seen.text,
      `lt.poc (LT) withdrew request '${title}' (voting → withdrawn; reason: contained by the national CSIRT)`,
    );
    const submittedEvent = json(await ok(admin, `/audit?action=request.submitted`)).items[0];
    assert.match(submittedEvent.text, /^lt\.poc \(LT\) submitted request '/);
  });

  it('lists the actions that exist, with their counts, for the picker', async () => {
    const { items } = json(await ok(auditor, '/audit/actions'));
    const actions = items.map((i: any) => i.action);
    assert.deepEqual(actions, [...actions].sort());
    assert.ok(actions.includes('request.withdrawn') && actions.includes('request.submitted'), actions.join());
    assert.equal(items.find((i: any) => i.action === 'request.withdrawn').count, 1);
    assert.ok(!actions.includes('no.such.action'));
  });

  it('filters by date range, actor and object', async () => {
    const day1 = json(
      await ok(auditor, '/audit?since=2026-11-23T00:00:00Z&until=2026-11-24T00:00:00Z&limit=500'),
    );
    assert.ok(day1.items.length > 0);
    assert.ok(day1.items.every((e: any) => e.at >= '2026-11-23' && e.at < '2026-11-24'));
    assert.ok(!day1.items.some((e: any) => e.action === 'request.withdrawn'));
    const day2 = json(await ok(auditor, '/audit?since=2026-11-24T00:00:00Z&limit=500'));
    assert.ok(day2.items.some((e: any) => e.action === 'request.withdrawn'));
    const mine = json(await ok(auditor, '/audit?actor=lt.poc&limit=500'));
    assert.ok(mine.items.length >= 3);
    assert.ok(mine.items.every((e: any) => e.actor.name === 'lt.poc'));
    const ofRequest = json(await ok(auditor, `/audit?objectType=request&objectId=${requestId}&limit=500`));
    assert.ok(ofRequest.items.every((e: any) => e.object.id === requestId));
    assert.deepEqual(ofRequest.items.map((e: any) => e.action).slice(0, 1), ['request.created']);
  });

  it('exports the filtered events as CSV that a CSV library parses', async () => {
    const res = await ok(auditor, `/audit/export?format=csv&objectId=${requestId}`);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    assert.match(String(res.headers['content-disposition']), /attachment; filename="audit-.*\.csv"/);
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    const listed = json(await ok(auditor, `/audit?objectId=${requestId}&limit=500`)).items;
    assert.deepEqual(
      rows.map((r) => Number(r.seq)),
      listed.map((e: any) => e.seq),
    );
    const withdrawal = rows.find((r) => r.action === 'request.withdrawn')!;
    assert.equal(withdrawal.actor, 'lt.poc');
    assert.equal(withdrawal.object_id, requestId);
    assert.match(withdrawal.text!, /withdrew request/);
    assert.equal(JSON.parse(withdrawal.summary!).reason, 'contained by the national CSIRT');
    assert.match(withdrawal.hash!, /^[0-9a-f]{64}$/);
  });

  it('exports NDJSON, one event per line, bounded by limit; nothing matching is an empty export', async () => {
    const res = await ok(auditor, '/audit/export?format=ndjson&actor=lt.poc&limit=2');
    assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
    const lines = res.body.split('\n').filter(Boolean);
    assert.equal(lines.length, 2);
    const events = lines.map((l) => JSON.parse(l));
    assert.ok(events.every((e) => e.actor.name === 'lt.poc' && typeof e.text === 'string'));
    assert.ok(events[0].seq < events[1].seq);
    const none = await ok(auditor, '/audit/export?format=ndjson&action=no.such.action');
    assert.equal(none.body, '');
    const emptyCsv = await ok(admin, '/audit/export?format=csv&action=no.such.action');
    assert.deepEqual(parse(emptyCsv.body, { columns: true }), []);
  });

  it('only auditors and admins read, list actions or export; bad input is a 400', async () => {
    for (const url of ['/audit/export?format=csv', '/audit/actions', '/audit']) {
      assert.equal((await get(null, url)).statusCode, 401, url);
      assert.equal((await get(ltPoc, url)).statusCode, 403, url);
      assert.equal((await get(coordinator, url)).statusCode, 403, url);
    }
    assert.equal((await get(auditor, '/audit/export?format=xml')).statusCode, 400);
    assert.equal((await get(auditor, '/audit/export')).statusCode, 400);
    assert.equal((await get(auditor, '/audit/export?format=csv&limit=100001')).statusCode, 400);
    assert.equal((await get(auditor, '/audit/export?format=csv&since=yesterday')).statusCode, 400);
    assert.equal((await get(auditor, '/audit/export?format=csv&order=desc')).statusCode, 400);
  });

  it("lists checkpoints with their signature's status, and verifies the chain", async () => {
    const made = await node.request({
      method: 'POST',
      url: `${api}/audit/checkpoints`,
      headers: auditor.headers,
    });
    assert.equal(made.statusCode, 201, made.body);
    const { items } = json(await ok(auditor, '/audit/checkpoints?limit=5'));
    assert.ok(items.length >= 1);
    assert.equal(items[0].signatureStatus, 'valid');
    const verify = json(await ok(auditor, '/audit/verify'));
    assert.equal(verify.ok, true, JSON.stringify(verify.problems));
  });
});
