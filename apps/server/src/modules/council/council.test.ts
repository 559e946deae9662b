import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { HOUR, submitRequest, vote } from '../../test/requests.fixtures.ts';

const MEMBERS = ['EE', 'HR', 'LT', 'NL', 'PL', 'RO'];
const MINUTE = 60_000;

describe('the council', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  let uaPoc: TestUser;
  let ltCoordinator: TestUser;
  let fiCouncil: TestUser;
  const council: Record<string, TestUser> = {};
  /** Every vote the API accepted, in order, to find again in the audit log. */
  const accepted: { requestId: string; party: string; vote: string }[] = [];
  const decided: { requestId: string; outcome: string }[] = [];

  before(async () => {
    node = await startTestNode();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    uaPoc = await node.user('ua.poc', 'UA', ['poc']);
    ltCoordinator = await node.user('lt.coordinator', 'LT', ['analyst', 'coordinator']);
    fiCouncil = await node.user('fi.council', 'FI', ['council']);
    for (const party of MEMBERS)
      council[party] = await node.user(`${party.toLowerCase()}.council`, party, ['council']);
  });
  after(() => node.close());

  /** A vote the council member's party casts; must be accepted. Returns the request as answered. */
  async function cast(requestId: string, party: string, choice: string, comment?: string) {
    const res = await vote(node, council[party]!, requestId, choice, comment);
    assert.equal(res.statusCode, 200, `${party} ${choice}: ${res.body}`);
    accepted.push({ requestId, party, vote: choice });
    const body = json(res);
    if (body.decision) decided.push({ requestId, outcome: body.decision.outcome });
    return body;
  }

  const get = async (id: string, user: TestUser = ltPoc) =>
    json(await node.request({ method: 'GET', url: `/api/v1/requests/${id}`, headers: user.headers }));
  const timeline = async (id: string) =>
    json(
      await node.request({ method: 'GET', url: `/api/v1/requests/${id}/timeline`, headers: ltPoc.headers }),
    ).items as any[];
  const clock = (request: any, kind: string) => request.deadlines.find((d: any) => d.kind === kind);

  let activatedId: string;

  it('takes one changeable vote per member party and activates as soon as a majority votes to', async () => {
    const request = await submitRequest(node, ltPoc);
    activatedId = request.id;
    assert.equal(request.status, 'voting');
    assert.deepEqual(request.council.electorate, MEMBERS);
    assert.equal(request.council.rule, 'majority');

    node.clock.advance(10 * MINUTE);
    let answer = await cast(request.id, 'EE', 'decline', 'not enough information yet');
    assert.deepEqual(
      answer.votes.map((v: any) => [v.party, v.vote, v.comment, v.castBy]),
      [['EE', 'decline', 'not enough information yet', 'ee.council']],
    );

    node.clock.advance(10 * MINUTE);
    answer = await cast(request.id, 'EE', 'activate');
    assert.equal(answer.status, 'voting');
    assert.deepEqual(
      answer.votes.map((v: any) => [v.party, v.vote, v.comment, v.castAt]),
      [['EE', 'activate', null, node.clock.now().toISOString()]],
      'the changed vote replaces the first, comment and time included',
    );
    const votesOnTimeline = (await timeline(request.id)).filter((e) => e.kind === 'vote');
    assert.deepEqual(
      votesOnTimeline.map((e) => [e.actor, e.party, e.detail]),
      [
        ['ee.council', 'EE', { voter: 'EE', vote: 'decline', comment: 'not enough information yet' }],
        ['ee.council', 'EE', { voter: 'EE', vote: 'activate', changedFrom: 'decline' }],
      ],
    );

    await cast(request.id, 'LT', 'activate');
    answer = await cast(request.id, 'PL', 'activate');
    assert.equal(answer.status, 'voting', '3 of 6 is not a majority');
    assert.equal(answer.decision, null);
    assert.equal(clock(answer, 'decision').state, 'running');

    node.clock.advance(MINUTE);
    answer = await cast(request.id, 'NL', 'activate', 'we can send two forensic analysts');
    assert.equal(answer.status, 'activated');
    assert.deepEqual(answer.decision, {
      outcome: 'activated',
      rule: 'majority',
      decidedAt: node.clock.now().toISOString(),
      closedEarly: true,
      tally: { activate: 4, partial: 0, decline: 0, abstain: 0, notVoted: ['HR', 'RO'] },
      reason: '4 of 6 members voted to activate; a majority is 4',
    });
    const decision = clock(answer, 'decision');
    assert.equal(decision.state, 'met');
    assert.equal(decision.metAt, node.clock.now().toISOString());
    assert.equal(decision.late, false);
    assert.equal(clock(answer, 'answer').state, 'running', 'the team still has to be assembled');
    assert.equal(clock(answer, 'response').state, 'running');

    const last = (await timeline(request.id)).at(-1);
    assert.equal(last.kind, 'decision');
    assert.equal(last.fromStatus, 'voting');
    assert.equal(last.toStatus, 'activated');
    assert.equal(last.detail.closedEarly, true);
    assert.equal((await get(request.id)).status, 'activated');
  });

  it('refuses votes once the council has decided, and changes nothing', async () => {
    for (const [party, choice] of [
      ['HR', 'decline'],
      ['EE', 'decline'],
    ] as const) {
      const late = await vote(node, council[party]!, activatedId, choice, 'too late');
      assert.equal(late.statusCode, 409, `${party}: ${late.body}`);
      assert.match(
        json(late).error.message,
        /the council already decided \(activated, .*\): votes are closed/,
      );
    }
    const request = await get(activatedId);
    assert.equal(request.status, 'activated');
    assert.deepEqual(
      request.votes.map((v: any) => [v.party, v.vote]),
      [
        ['EE', 'activate'],
        ['LT', 'activate'],
        ['NL', 'activate'],
        ['PL', 'activate'],
      ],
    );
  });

  let greenId: string;
  let amberId: string;

  it('lets only council members of voting parties vote', async () => {
    greenId = (await submitRequest(node, ltPoc, { tlp: 'green', title: 'Defacement of ministry sites' })).id;
    amberId = (await submitRequest(node, ltPoc, { title: 'Wiper at a water utility' })).id;

    const noRole = await vote(node, ltCoordinator, greenId, 'activate');
    assert.equal(noRole.statusCode, 403);
    assert.match(json(noRole).error.message, /needs one of the roles: council/);
    const denied = await node.services.audit.page(
      { action: 'access.denied', actorName: 'lt.coordinator' },
      'asc',
      10,
    );
    assert.equal(denied.items.length, 1, 'the refusal is audited');

    // FI is an observer: its council user sees what the community sees (GREEN), and votes on nothing.
    assert.equal((await get(greenId, fiCouncil)).id, greenId);
    const observerVote = await vote(node, fiCouncil, greenId, 'activate');
    assert.equal(observerVote.statusCode, 403);
    assert.equal(
      json(observerVote).error.message,
      'FI does not sit on the council for this request; its members are EE, HR, LT, NL, PL, RO',
    );

    const unseen = await node.request({
      method: 'GET',
      url: `/api/v1/requests/${amberId}`,
      headers: fiCouncil.headers,
    });
    assert.equal(unseen.statusCode, 404, 'an AMBER request is not visible to an observer');
    const unseenVote = await vote(node, fiCouncil, amberId, 'activate');
    assert.equal(unseenVote.statusCode, 404, 'nor can it be voted on: it is absent, not forbidden');

    for (const id of [greenId, amberId]) {
      const request = await get(id);
      assert.equal(request.status, 'voting');
      assert.deepEqual(request.votes, [], 'no refused vote was recorded');
    }
  });

  it('activates partially when a majority supports assistance but full activation cannot reach a majority', async () => {
    await cast(greenId, 'LT', 'activate');
    await cast(greenId, 'EE', 'partial');
    await cast(greenId, 'PL', 'partial');
    let answer = await cast(greenId, 'NL', 'activate');
    assert.equal(answer.status, 'voting', 'HR and RO could still make it 4 full activations');

    answer = await cast(greenId, 'HR', 'decline', 'our people are committed at home');
    assert.equal(answer.status, 'partially_activated');
    assert.equal(answer.decision.outcome, 'partially_activated');
    assert.equal(answer.decision.closedEarly, true);
    assert.deepEqual(answer.decision.tally, {
      activate: 2,
      partial: 2,
      decline: 1,
      abstain: 0,
      notVoted: ['RO'],
    });
    assert.equal(
      answer.decision.reason,
      '4 of 6 members support assistance (2 full, 2 partial); a majority is 4',
    );
    assert.equal(clock(answer, 'decision').state, 'met');
  });

  it('declines as soon as a majority can no longer support assistance', async () => {
    const request = await submitRequest(node, ltPoc, { severity: 'low', title: 'Phishing wave' });
    await cast(request.id, 'RO', 'decline', 'a phishing wave is handled at home');
    let answer = await cast(request.id, 'HR', 'abstain');
    assert.equal(answer.status, 'voting', '4 silent members can still reach a majority');

    answer = await cast(request.id, 'PL', 'decline', 'no responders free this week');
    assert.equal(answer.status, 'declined');
    assert.equal(answer.decision.closedEarly, true);
    assert.equal(
      answer.decision.reason,
      'at most 3 of 6 members can still support assistance; a majority is 4',
    );
    assert.equal(clock(answer, 'decision').state, 'met');
    assert.equal(clock(answer, 'answer').state, 'met', 'the requester has its answer');
    assert.equal(clock(answer, 'response').state, 'cancelled', 'no team will respond');
    assert.equal(clock(answer, 'nis2_early_warning').state, 'running', "the entity's own duties go on");

    const late = await vote(node, council['LT']!, request.id, 'activate');
    assert.equal(late.statusCode, 409);
    assert.match(json(late).error.message, /already decided \(declined/);
  });

  it('takes no votes on a withdrawn request', async () => {
    await cast(amberId, 'LT', 'activate');
    const withdrawn = await node.request({
      method: 'POST',
      url: `/api/v1/requests/${amberId}/withdraw`,
      headers: ltPoc.headers,
      payload: { reason: 'contained by the utility itself' },
    });
    assert.equal(withdrawn.statusCode, 200, withdrawn.body);
    assert.equal(json(withdrawn).status, 'withdrawn');

    for (const party of ['EE', 'LT']) {
      const res = await vote(node, council[party]!, amberId, 'activate');
      assert.equal(res.statusCode, 409, `${party}: ${res.body}`);
      assert.equal(json(res).error.message, 'the request was withdrawn: there is nothing to vote on');
    }
    const request = await get(amberId);
    assert.equal(request.status, 'withdrawn');
    assert.equal(request.decision, null);
    assert.deepEqual(
      request.votes.map((v: any) => [v.party, v.vote]),
      [['LT', 'activate']],
    );
  });

  it('needs a unanimous council for a partner: one abstention declines', async () => {
    const request = await submitRequest(node, uaPoc, { location: { country: 'UA', city: 'Kyiv' } });
    assert.equal(request.eligibility.requires, 'unanimity');
    assert.equal(request.council.rule, 'unanimity');
    assert.deepEqual(request.council.electorate, MEMBERS, 'the partner does not vote');

    let answer: any;
    for (const party of ['EE', 'HR', 'LT', 'NL', 'PL']) answer = await cast(request.id, party, 'activate');
    assert.equal(answer.status, 'voting', '5 of 6 is not unanimous');

    answer = await cast(request.id, 'RO', 'abstain');
    assert.equal(answer.status, 'declined');
    assert.equal(answer.decision.rule, 'unanimity');
    assert.equal(answer.decision.closedEarly, true);
    assert.equal(answer.decision.reason, 'not unanimous: RO did not support assistance');
    assert.deepEqual(answer.decision.tally, {
      activate: 5,
      partial: 0,
      decline: 0,
      abstain: 1,
      notVoted: [],
    });
  });

  it('activates a partner’s request when every member supports it', async () => {
    const request = await submitRequest(node, uaPoc, {
      location: { country: 'UA', city: 'Lviv' },
      title: 'Attack on the rail signalling network',
    });
    let answer: any;
    for (const party of ['RO', 'PL', 'NL', 'LT', 'HR']) answer = await cast(request.id, party, 'activate');
    assert.equal(answer.status, 'voting');
    answer = await cast(request.id, 'EE', 'activate');
    assert.equal(answer.status, 'activated');
    assert.equal(answer.decision.reason, 'all 6 members voted to activate');
    assert.equal(answer.decision.closedEarly, true);
  });

  it('decides at the deadline from the votes cast, on time', async () => {
    const request = await submitRequest(node, ltPoc, { title: 'DDoS on the tax authority' });
    const submittedAt = new Date(request.submittedAt).getTime();
    assert.equal(request.council.closesAt, new Date(submittedAt + 24 * HOUR).toISOString());
    node.clock.advance(HOUR);
    await cast(request.id, 'LT', 'activate');
    await cast(request.id, 'EE', 'activate');
    await cast(request.id, 'PL', 'partial');
    assert.equal(
      (await cast(request.id, 'NL', 'partial')).status,
      'voting',
      'HR and RO could still activate it',
    );

    node.clock.set(new Date(submittedAt + 24 * HOUR - MINUTE));
    const before = await node.services.scheduler.tick();
    assert.equal(before.decided, 0);
    let current = await get(request.id);
    assert.equal(current.status, 'voting', 'a minute before the deadline the council is still open');
    assert.equal(clock(current, 'decision').state, 'warned');

    node.clock.set(new Date(submittedAt + 24 * HOUR + MINUTE));
    const at = await node.services.scheduler.tick();
    assert.equal(at.decided, 1, 'the only request still voting is decided');
    current = await get(request.id);
    assert.equal(current.status, 'partially_activated');
    assert.deepEqual(current.decision, {
      outcome: 'partially_activated',
      rule: 'majority',
      decidedAt: request.council.closesAt,
      closedEarly: false,
      tally: { activate: 2, partial: 2, decline: 0, abstain: 0, notVoted: ['HR', 'RO'] },
      reason: '4 of 6 members support assistance (2 full, 2 partial); a majority is 4',
    });
    decided.push({ requestId: request.id, outcome: 'partially_activated' });
    const decision = clock(current, 'decision');
    assert.equal(decision.state, 'met');
    assert.equal(decision.metAt, decision.dueAt, 'decided at the deadline itself');
    assert.equal(decision.late, false);

    const last = (await timeline(request.id)).find((e) => e.kind === 'decision');
    assert.equal(last.actor, 'node', 'the node took the decision');
    assert.equal(last.detail.closedEarly, false);

    const again = await node.services.scheduler.tick();
    assert.equal(again.decided, 0, 'a decision is taken once');
    const late = await vote(node, council['HR']!, request.id, 'activate');
    assert.equal(late.statusCode, 409);
    assert.match(json(late).error.message, /the council already decided/);
  });

  it('audits every vote and every decision', async () => {
    const votes: any[] = (await node.services.audit.page({ action: 'request.vote' }, 'asc', 100)).items;
    assert.equal(votes.length, accepted.length);
    assert.deepEqual(
      votes.map((e) => [e.object.id, e.actor.party, e.summary.vote]),
      accepted.map((v) => [v.requestId, v.party, v.vote]),
    );
    for (const event of votes) {
      assert.equal(event.object.type, 'request');
      assert.equal(event.actor.name, `${event.actor.party.toLowerCase()}.council`);
    }
    const changed = votes.find((e) => e.summary.changedFrom);
    assert.equal(changed?.actor.name, 'ee.council');
    assert.equal(changed?.summary.vote, 'activate');
    assert.equal(changed?.summary.changedFrom, 'decline');
    assert.equal(changed?.object.id, activatedId);

    const decisions: any[] = (await node.services.audit.page({ action: 'request.decision' }, 'asc', 100))
      .items;
    assert.deepEqual(
      decisions.map((e) => [e.object.id, e.summary.from, e.summary.to, e.summary.outcome]),
      decided.map((d) => [d.requestId, 'voting', d.outcome, d.outcome]),
    );
    assert.equal(decisions.length, 6);
    assert.equal(decisions.at(-1).actor.name, 'node');
    assert.equal(decisions.at(-1).summary.closedEarly, false);
  });
});

describe('the council and time', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  let admin: TestUser;
  const council: Record<string, TestUser> = {};

  before(async () => {
    node = await startTestNode();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    admin = await node.user('root', 'LT', ['admin']);
    for (const party of MEMBERS)
      council[party] = await node.user(`${party.toLowerCase()}.council`, party, ['council']);
  });
  after(() => node.close());

  it('refuses a vote cast after the deadline: the votes cast by then decide', async () => {
    node.clock.set('2026-11-23T12:00:00Z');
    const request = await submitRequest(node, ltPoc);
    for (const party of ['LT', 'EE', 'PL'])
      assert.equal((await vote(node, council[party]!, request.id, 'activate')).statusCode, 200);
    node.clock.set(new Date(Date.parse(request.council.closesAt) + MINUTE));
    const late = await vote(node, council.NL!, request.id, 'activate');
    assert.equal(late.statusCode, 409);
    assert.match(json(late).error.message, /voting closed at 2026-11-24T12:00:00.000Z/);
    await node.services.scheduler.tick();
    const decided = json(
      await node.request({ method: 'GET', url: `/api/v1/requests/${request.id}`, headers: ltPoc.headers }),
    );
    assert.equal(decided.status, 'declined', '3 of 6 by the deadline is no majority');
    assert.equal(decided.decision.decidedAt, request.council.closesAt);
  });

  it('keeps a party on the councils it sat on after it stops being a member', async () => {
    node.clock.set('2026-11-25T12:00:00Z');
    const amber = await submitRequest(node, ltPoc, { awareAt: '2026-11-25T09:00:00Z' });
    assert.ok(amber.council.electorate.includes('RO'), 'RO votes on it');
    const change = await node.request({
      method: 'POST',
      url: '/api/v1/parties/RO/statuses',
      headers: admin.headers,
      payload: { status: 'observer', effectiveFrom: '2026-11-26', note: 'steps back to observer' },
    });
    assert.equal(change.statusCode, 201, change.body);
    node.clock.set('2026-11-26T06:00:00Z');
    const res = await vote(node, council.RO!, amber.id, 'activate');
    assert.equal(res.statusCode, 200, res.body);
    const later = await submitRequest(node, ltPoc, { awareAt: '2026-11-26T05:00:00Z' });
    assert.ok(!later.council.electorate.includes('RO'), 'not on the councils of new requests');
    const notTheirs = await node.request({
      method: 'GET',
      url: `/api/v1/requests/${later.id}`,
      headers: council.RO!.headers,
    });
    assert.equal(notTheirs.statusCode, 404, 'an observer council does not see a new AMBER request');
  });
});
