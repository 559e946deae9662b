import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Ctx } from '../../../context.ts';
import { json, type TestUser } from '../../../test/harness.ts';
import { fileRequest, submitRequest, vote } from '../../../test/requests.fixtures.ts';
import { signPage } from '../change-feed.ts';
import { feedCarrier, type Party, peerOf, startParty } from '../federation.fixtures.ts';

// RO files and submits on its own node; the request, with its timeline, votes and clocks, reaches
// the coordinating node (LT) and the nodes whose party may see it (EE votes in the council; FI, an
// observer, only sees what its label lets the community see). The clock runs on RO's node alone.

const api = '/api/v1';
const DAY = 24 * 3_600_000;

describe('the request document between RO, LT (coordinating), EE and FI', () => {
  let lt: Party;
  let ro: Party;
  let ee: Party;
  let fi: Party;
  let roPoc: TestUser;
  let roCouncil: TestUser;
  let ltCoordinator: TestUser;
  let eeCouncil: TestUser;
  let fiPoc: TestUser;
  const { cursors, sync } = feedCarrier();

  const get = (party: Party, user: TestUser, url: string) =>
    party.node.request({ method: 'GET', url: `${api}${url}`, headers: user.headers });
  const ctxOf = (user: TestUser, party: string, roles: Ctx['actor']['roles']): Ctx => ({
    actor: { type: 'user', id: user.id, name: user.name, party, roles },
    requestId: null,
  });
  const eventsOn = async (party: Party, ctx: Ctx, requestId: string) => {
    await party.node.services.notifier.sequence();
    const events = await party.node.services.events.since(ctx, 0, 10_000);
    return events.filter((e) => e.requestId === requestId).map((e) => e.type);
  };

  before(async () => {
    // One after another, so that a node that did start is closed by `after` when the next one fails.
    lt = await startParty('LT', 'coordinator');
    ro = await startParty('RO');
    ee = await startParty('EE');
    fi = await startParty('FI');
    roPoc = await ro.node.user('ro.poc', 'RO', ['poc']);
    roCouncil = await ro.node.user('ro.council', 'RO', ['council']);
    ltCoordinator = await lt.node.user('lt.duty', 'LT', ['coordinator']);
    eeCouncil = await ee.node.user('ee.council', 'EE', ['council']);
    fiPoc = await fi.node.user('fi.poc', 'FI', ['poc']);
  });
  after(async () => {
    await Promise.all([lt, ro, ee, fi].map((p) => p?.node.close()));
  });

  let amber: string;

  it('an AMBER request submitted on RO reaches the coordinating node with its timeline, votes and clocks, as live events there', async () => {
    amber = (
      await submitRequest(ro.node, roPoc, { tlp: 'amber', location: { country: 'RO', city: 'Bucharest' } })
    ).id;
    assert.equal((await vote(ro.node, roCouncil, amber, 'activate', 'we need help')).statusCode, 200);
    await sync(ro, lt);

    const copy = await get(lt, ltCoordinator, `/requests/${amber}`);
    assert.equal(copy.statusCode, 200, copy.body);
    const seen = json(copy);
    const original = json(await get(ro, roPoc, `/requests/${amber}`));
    assert.equal(seen.mirroredFrom, 'RO');
    assert.equal(seen.status, 'voting');
    assert.equal(seen.title, original.title);
    assert.deepEqual(seen.council, original.council);
    assert.deepEqual(
      seen.votes.map((v: any) => [v.party, v.vote, v.comment]),
      [['RO', 'activate', 'we need help']],
    );
    assert.deepEqual(seen.deadlines, original.deadlines);
    assert.ok(seen.deadlines.length > 0, 'the clocks came with it');

    const board = json(await get(lt, ltCoordinator, '/requests')).items.map((r: any) => r.id);
    assert.deepEqual(board, [amber]);
    // What happened to the draft stays on RO's node.
    const timeline = json(await get(lt, ltCoordinator, `/requests/${amber}/timeline`)).items;
    assert.deepEqual(
      timeline.map((e: any) => e.kind),
      ['submitted', 'voting', 'vote'],
    );
    assert.equal(timeline.at(-1).actor, 'ro.council');
    assert.deepEqual(await eventsOn(lt, ctxOf(ltCoordinator, 'LT', ['coordinator']), amber), [
      'request.submitted',
      'request.voting',
      'request.vote',
    ]);
  });

  it('a member voting in the council gets the AMBER request; an observer not concerned gets nothing of it but gets a GREEN one', async () => {
    await sync(ro, ee);
    const atEe = await get(ee, eeCouncil, `/requests/${amber}`);
    assert.equal(atEe.statusCode, 200, atEe.body);
    assert.equal(json(atEe).mirroredFrom, 'RO');

    await sync(ro, fi);
    assert.equal((await get(fi, fiPoc, `/requests/${amber}`)).statusCode, 404);
    assert.equal(
      await fi.node.database.db
        .selectFrom('requests')
        .select('id')
        .where('id', '=', amber)
        .executeTakeFirst(),
      undefined,
      'not even a hidden copy',
    );

    const green = (
      await submitRequest(ro.node, roPoc, { tlp: 'green', title: 'Phishing wave at the ministries' })
    ).id;
    await sync(ro, fi);
    const board = json(await get(fi, fiPoc, '/requests')).items;
    assert.deepEqual(
      board.map((r: any) => [r.id, r.title, r.party]),
      [[green, 'Phishing wave at the ministries', 'RO']],
    );
  });

  it('a draft never leaves its node', async () => {
    const draft = json(await fileRequest(ro.node, roPoc, { title: 'Still being written' })).id;
    await sync(ro, lt);
    await sync(ro, ee);
    assert.equal((await get(lt, ltCoordinator, `/requests/${draft}`)).statusCode, 404);
    for (const party of [lt, ee]) {
      const held = await party.node.database.db
        .selectFrom('requests')
        .select('id')
        .where('id', '=', draft)
        .executeTakeFirst();
      assert.equal(held, undefined, `${party.code} holds no copy of the draft`);
    }
  });

  it("EE's node speaking for RO's request is refused and audited; the copy is unchanged", async () => {
    const served = await ro.node.services.federation.feed.page('LT', 0, 1000, 'coordinator');
    const original = served.changes.find((c) => c.type === 'request' && c.id === amber)!;
    assert.ok(original, "RO's feed carries the request");
    const cursor = cursors.get('EE->LT') ?? 0;
    const forged = {
      ...original,
      origin: 'EE',
      version: cursor + 1,
      data: { ...original.data, title: 'Forged by EE' },
    };
    const page = signPage(ee.node.services.key, {
      party: 'EE',
      after: cursor,
      head: cursor + 1,
      next: cursor + 1,
      more: false,
      changes: [forged],
    });
    const peer = peerOf(ee, cursor);
    const { versions } = lt.node.services.federation.feed.checkPage(peer, JSON.parse(JSON.stringify(page)));
    const result = await lt.node.services.federation.feed.apply(peer, versions, {
      from: cursor,
      to: cursor + 1,
    });
    assert.equal(result.refused, 1);
    assert.equal(result.applied, 0);
    assert.equal(json(await get(lt, ltCoordinator, `/requests/${amber}`)).title, original.data!.title);
    const auditor = await lt.node.user('lt.auditor', 'LT', ['auditor']);
    const audited = JSON.stringify(json(await get(lt, auditor, '/audit?action=federation.change.refused')));
    assert.ok(audited.includes("EE's node cannot speak for a request of RO"), audited.slice(0, 400));
  });

  it('a stale version changes nothing', async () => {
    const before = cursors.get('RO->LT')!;
    const head = await ro.node.services.federation.feed.head();
    assert.equal(before, head, 'LT has caught up with RO');
    // RO withdraws its AMBER request; LT receives it. An older version carried again changes nothing.
    const older = await ro.node.services.federation.feed.page('LT', 0, 1000, 'coordinator');
    const withdraw = await ro.node.request({
      method: 'POST',
      url: `${api}/requests/${amber}/withdraw`,
      headers: roPoc.headers,
      payload: { reason: 'handled at home' },
    });
    assert.equal(withdraw.statusCode, 200, withdraw.body);
    await sync(ro, lt);
    assert.equal(json(await get(lt, ltCoordinator, `/requests/${amber}`)).status, 'withdrawn');

    const peer = peerOf(ro, 0);
    const { versions } = lt.node.services.federation.feed.checkPage(peer, JSON.parse(JSON.stringify(older)));
    const result = await lt.node.services.federation.feed.apply(
      peer,
      versions.filter((v) => v.id === amber),
      { from: 0, to: older.next },
    );
    assert.equal(result.applied, 0);
    assert.equal(result.refused, 0);
    const copy = json(await get(lt, ltCoordinator, `/requests/${amber}`));
    assert.equal(copy.status, 'withdrawn');
    assert.equal(
      json(await get(lt, ltCoordinator, `/requests/${amber}/timeline`)).items.at(-1).kind,
      'withdrawn',
    );
  });

  it('the clocks of a copy never fire on the node that holds it', async () => {
    const live = (await submitRequest(ro.node, roPoc, { tlp: 'amber', title: 'DDoS on the payment network' }))
      .id;
    await sync(ro, lt);
    const ltCtx = ctxOf(ltCoordinator, 'LT', ['coordinator']);
    const clocksBefore = json(await get(lt, ltCoordinator, `/requests/${live}`)).deadlines;
    assert.ok(clocksBefore.some((c: any) => c.state === 'running'));
    const eventsBefore = await eventsOn(lt, ltCtx, live);
    const start = lt.node.clock.now();
    try {
      lt.node.clock.advance(30 * DAY);
      const ticked = await lt.node.services.scheduler.tick();
      assert.deepEqual(ticked, { warned: 0, escalated: 0, decided: 0 });
      const copy = json(await get(lt, ltCoordinator, `/requests/${live}`));
      assert.equal(copy.status, 'voting', 'the council is decided on RO, not here');
      assert.deepEqual(copy.deadlines, clocksBefore);
      assert.deepEqual(await eventsOn(lt, ltCtx, live), eventsBefore);
    } finally {
      lt.node.clock.set(start);
    }
    // On RO, the request's own node, the same moment decides the council and LT hears of it.
    ro.node.clock.advance(30 * DAY);
    lt.node.clock.advance(30 * DAY);
    const onRo = await ro.node.services.scheduler.tick();
    assert.ok(onRo.decided >= 1, JSON.stringify(onRo));
    await sync(ro, lt);
    const decided = json(await get(lt, ltCoordinator, `/requests/${live}`));
    assert.notEqual(decided.status, 'voting');
    assert.ok((await eventsOn(lt, ltCtx, live)).length > eventsBefore.length);
  });

  it('a request RO no longer shows a node is withdrawn from it (kept hidden while events refer to it)', async () => {
    // The feed's retraction, as RO's node sends it when the request leaves EE's view: EE's copy is
    // hidden (EE's events refer to it) and its votes and clocks go.
    const peer = peerOf(ro, cursors.get('RO->EE')!);
    const version = (await ro.node.services.federation.feed.head()) + 1;
    const result = await ee.node.services.federation.feed.apply(
      peer,
      [
        {
          type: 'request',
          id: amber,
          origin: 'RO',
          version,
          at: ee.node.clock.now().toISOString(),
          caseId: null,
          retracted: true,
        },
      ],
      { from: peer.cursor, to: peer.cursor },
    );
    assert.equal(result.retracted, 1);
    assert.equal((await get(ee, eeCouncil, `/requests/${amber}`)).statusCode, 404);
    const held = await ee.node.database.db
      .selectFrom('requests')
      .select(['mirror_retracted'])
      .where('id', '=', amber)
      .executeTakeFirst();
    assert.deepEqual(held, { mirror_retracted: true });
    const parts = await ee.node.database.db
      .selectFrom('deadlines')
      .select('id')
      .where('request_id', '=', amber)
      .execute();
    assert.deepEqual(parts, []);
  });
});
