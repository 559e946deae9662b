import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { fileRequest, submitRequest, vote } from '../../test/requests.fixtures.ts';

const api = '/api/v1';

/** Serious acts say why: the reason is kept on the request's timeline and in the audit log. */
describe('reasons of serious acts', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  let coordinator: TestUser;
  let eeCouncil: TestUser;

  before(async () => {
    node = await startTestNode();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    coordinator = await node.user('duty.officer', 'PL', ['coordinator']);
    eeCouncil = await node.user('ee.council', 'EE', ['council']);
  });
  after(() => node.close());

  const post = (user: TestUser, url: string, payload?: object) =>
    node.request({
      method: 'POST',
      url: `${api}${url}`,
      headers: user.headers,
      ...(payload ? { payload } : {}),
    });
  const timeline = async (id: string) =>
    json(await node.request({ method: 'GET', url: `${api}/requests/${id}/timeline`, headers: ltPoc.headers }))
      .items as { kind: string; detail: Record<string, unknown> }[];
  const audited = async (action: string, id: string) =>
    (await node.services.audit.page({ action }, 'asc', 500)).items.filter(
      (e: any) => e.object.id === id,
    ) as any[];

  it('a withdrawal without a reason, or with a blank one, is a 400 naming body/reason; nothing moves', async () => {
    const request = await submitRequest(node, ltPoc);
    for (const payload of [undefined, {}, { reason: '   ' }]) {
      const res = await post(ltPoc, `/requests/${request.id}/withdraw`, payload);
      assert.equal(res.statusCode, 400, res.body);
      // No body at all is named as the body (the route's body is an object with a required reason).
      assert.equal(json(res).error.details[0].field, payload ? 'body/reason' : 'body', res.body);
    }
    const still = json(
      await node.request({ method: 'GET', url: `${api}/requests/${request.id}`, headers: ltPoc.headers }),
    );
    assert.equal(still.status, 'voting');
    assert.equal(still.can.withdraw, true, 'the PoC may still withdraw it, with a reason');
  });

  it('the reason of a withdrawal is on the timeline and in the audit event', async () => {
    const request = await submitRequest(node, ltPoc);
    const res = await post(ltPoc, `/requests/${request.id}/withdraw`, {
      reason: '  Contained by the national CSIRT ',
    });
    assert.equal(res.statusCode, 200, res.body);
    const entry = (await timeline(request.id)).find((e) => e.kind === 'withdrawn');
    assert.equal(entry?.detail.reason, 'Contained by the national CSIRT');
    const [event] = await audited('request.withdrawn', request.id);
    assert.equal(event?.summary.reason, 'Contained by the national CSIRT');
  });

  it('a submission takes an optional note, kept like a reason', async () => {
    const draft = json(await fileRequest(node, ltPoc));
    const res = await post(ltPoc, `/requests/${draft.id}/submit`, {
      note: 'The grid is down in two regions',
    });
    assert.equal(res.statusCode, 200, res.body);
    const entry = (await timeline(draft.id)).find((e) => e.kind === 'submitted');
    assert.equal(entry?.detail.note, 'The grid is down in two regions');
    const [event] = await audited('request.submitted', draft.id);
    assert.equal(event?.summary.note, 'The grid is down in two regions');
  });

  it('a decline needs its comment (400 naming body/comment); the comment of any vote is kept', async () => {
    const request = await submitRequest(node, ltPoc);
    for (const payload of [{ vote: 'decline' }, { vote: 'decline', comment: ' ' }]) {
      const res = await post(eeCouncil, `/requests/${request.id}/votes`, payload);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(json(res).error.details[0].field, 'body/comment');
    }
    assert.equal(
      (await vote(node, eeCouncil, request.id, 'abstain')).statusCode,
      200,
      'other votes need none',
    );
    const declined = await vote(node, eeCouncil, request.id, 'decline', 'Not a case for the force');
    assert.equal(declined.statusCode, 200, declined.body);
    const entry = (await timeline(request.id)).filter((e) => e.kind === 'vote').at(-1);
    assert.equal(entry?.detail.comment, 'Not a case for the force');
    const events = await audited('request.vote', request.id);
    assert.equal(events.at(-1)?.summary.comment, 'Not a case for the force');
  });

  it('stand-down and close keep the reason they are given', async () => {
    const request = await submitRequest(node, ltPoc);
    assert.equal(
      (await post(ltPoc, `/requests/${request.id}/withdraw`, { reason: 'filed twice' })).statusCode,
      200,
    );
    const closed = await post(coordinator, `/requests/${request.id}/close`, {
      reason: 'a duplicate of another',
    });
    assert.equal(closed.statusCode, 200, closed.body);
    const entry = (await timeline(request.id)).find((e) => e.kind === 'closed');
    assert.equal(entry?.detail.reason, 'a duplicate of another');
  });

  it('the board offers each row what the request page offers', async () => {
    const draft = json(await fileRequest(node, ltPoc, { title: 'Offered on the board' }));
    const board = json(
      await node.request({ method: 'GET', url: `${api}/requests?status=draft`, headers: ltPoc.headers }),
    );
    const row = board.items.find((r: any) => r.id === draft.id);
    assert.deepEqual(row.can, draft.can);
    assert.equal(row.can.submit, true);
    assert.equal(row.can.vote, false);
  });
});
