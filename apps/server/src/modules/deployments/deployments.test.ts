import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewRequest } from '@vytis/contracts';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { submitRequest, vote } from '../../test/requests.fixtures.ts';
import { deployTeam, registerAnalyst } from './deployments.fixtures.ts';

const DAY = 86_400_000;
const MEMBERS = ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'] as const;

/** Each test has its own fortnight, so its team is not booked by another test's. */
const windowOf = (slot: number) => {
  const from = new Date(Date.parse('2026-11-24T06:00:00Z') + slot * 14 * DAY);
  return { from: from.toISOString(), to: new Date(from.getTime() + 5 * DAY).toISOString() };
};

describe('deployments keep in step with their requests', () => {
  let node: TestNode;
  let coordinator: TestUser;
  let ltPoc: TestUser;
  let eePoc: TestUser;
  let ltAnalyst: TestUser;
  const council: Record<string, TestUser> = {};
  const pocs: Record<string, TestUser> = {};

  const call = (user: TestUser, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    node.request({ method, url: `/api/v1${url}`, headers: user.headers, ...(payload ? { payload } : {}) });
  const ok = async (user: TestUser, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => {
    const res = await call(user, method, url, payload);
    assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
    return json(res);
  };

  async function activated(slot: number, overrides: Partial<NewRequest> = {}) {
    const request = await submitRequest(node, ltPoc, { window: windowOf(slot), ...overrides });
    for (const party of request.council.electorate) {
      const res = await vote(node, council[party]!, request.id, 'activate');
      if (json(res).status !== 'voting') break;
    }
    return request.id as string;
  }
  const timelineKinds = async (requestId: string) =>
    (await ok(ltAnalyst, 'GET', `/requests/${requestId}/timeline`)).items.map((e: any) => e.kind);

  before(async () => {
    node = await startTestNode();
    coordinator = await node.user('duty.officer', 'PL', ['coordinator']);
    await node.user('fi.poc', 'FI', ['poc']); // an outsider to the requests of this file
    ltAnalyst = await node.user('lt.analyst', 'LT', ['analyst']);
    for (const party of MEMBERS) {
      council[party] = await node.user(`${party.toLowerCase()}.council`, party, ['council']);
      pocs[party] = await node.user(`${party.toLowerCase()}.poc`, party, ['poc']);
    }
    ltPoc = pocs.LT!;
    eePoc = pocs.EE!;
    await registerAnalyst(node, ltPoc, 'LT', 'Ona Forensic (LT)');
    await registerAnalyst(node, ltPoc, 'LT', 'Rokas Forensic (LT)');
    await registerAnalyst(node, eePoc, 'EE', 'Kadri Forensic (EE)');
  });
  after(() => node.close());

  it('deploys a request only by the host accepting its team, which meets the response clock', async () => {
    const id = await activated(0);
    const proposal = await ok(coordinator, 'POST', `/requests/${id}/team-proposals`);
    const deployment = await ok(coordinator, 'POST', `/requests/${id}/team-proposals/${proposal.id}/adopt`);
    assert.equal((await ok(ltPoc, 'GET', `/requests/${id}`)).status, 'assembling');

    const early = await call(coordinator, 'POST', `/requests/${id}/deploy`, {});
    assert.equal(early.statusCode, 409, 'a team not yet released nor accepted does not deploy the request');
    assert.match(json(early).error.message, /its deployment is proposed/);
    for (const m of deployment.members)
      await ok(pocs[m.party]!, 'POST', `/deployments/${deployment.id}/members/${m.responderId}/release`, {
        decision: 'release',
      });
    const released = await call(coordinator, 'POST', `/requests/${id}/deploy`, {});
    assert.equal(released.statusCode, 409, 'released is not accepted');

    node.clock.advance(3 * 3_600_000);
    const accepted = await ok(ltPoc, 'POST', `/deployments/${deployment.id}/acceptance`, {
      personnelStatus: 'Under the CRRT MoU',
      access: 'SOC network',
      liabilityAgreementSha256: 'a'.repeat(64),
    });
    assert.equal(accepted.status, 'accepted');
    const request = await ok(ltPoc, 'GET', `/requests/${id}`);
    assert.equal(request.status, 'deployed');
    const response = request.deadlines.find((d: any) => d.kind === 'response');
    assert.equal(response.state, 'met');
    assert.equal(response.metAt, accepted.acceptance.acceptedAt, 'met when the host accepted');

    const kinds = await timelineKinds(id);
    for (const kind of [
      'deployment.proposed',
      'deployment.member.released',
      'deployment.released',
      'deployment.accepted',
      'deployed',
    ]) {
      assert.ok(kinds.includes(kind), `${kind} is on the timeline: ${kinds.join(', ')}`);
    }
  });

  it('checks every move against the mode: an on-site mission never works remote, a remote one never travels', async () => {
    const onsite = await activated(1, { mode: 'onsite' });
    const d1 = await deployTeam(node, onsite, { coordinator, host: ltPoc, pocs });
    const remote = await call(coordinator, 'POST', `/deployments/${d1.id}/status`, { status: 'remote' });
    assert.equal(remote.statusCode, 409);
    assert.match(json(remote).error.message, /on-site mission: it does not go remote/);
    assert.equal(
      (await ok(coordinator, 'POST', `/deployments/${d1.id}/status`, { status: 'en_route' })).status,
      'en_route',
    );
    assert.equal(
      (await ok(ltPoc, 'POST', `/deployments/${d1.id}/status`, { status: 'on_site' })).status,
      'on_site',
    );
    const back = await call(coordinator, 'POST', `/deployments/${d1.id}/status`, { status: 'en_route' });
    assert.equal(back.statusCode, 409, 'no move back');
    await ok(coordinator, 'POST', `/deployments/${d1.id}/status`, { status: 'stood_down' });

    const far = await activated(2, { mode: 'remote' });
    const d2 = await deployTeam(node, far, { coordinator, host: ltPoc, pocs });
    for (const status of ['en_route', 'on_site']) {
      const res = await call(coordinator, 'POST', `/deployments/${d2.id}/status`, { status });
      assert.equal(res.statusCode, 409, `a remote mission does not go ${status}`);
      assert.match(json(res).error.message, /remote mission/);
    }
    assert.equal(
      (await ok(coordinator, 'POST', `/deployments/${d2.id}/status`, { status: 'remote' })).status,
      'remote',
    );
    assert.ok((await timelineKinds(far)).includes('deployment.remote'));
  });

  it('standing the request down stands its team down, ends the passes and starts the report clock', async () => {
    const id = await activated(3);
    const deployment = await deployTeam(node, id, { coordinator, host: ltPoc, pocs });
    await ok(coordinator, 'POST', `/deployments/${deployment.id}/status`, { status: 'on_site' });
    const member = deployment.members.find((m: any) => m.status === 'released');
    const pass = await ok(ltPoc, 'GET', `/deployments/${deployment.id}/passes/${member.responderId}`);

    const stood = await ok(ltPoc, 'POST', `/requests/${id}/stand-down`, {});
    assert.equal(stood.status, 'stood_down');
    assert.equal(stood.deadlines.find((d: any) => d.kind === 'post_action_report').state, 'running');
    const after = await ok(coordinator, 'GET', `/deployments/${deployment.id}`);
    assert.equal(after.status, 'stood_down', 'the team is not left on site');
    const revoked = json(
      await node.request({ method: 'GET', url: '/api/v1/passes/revocations', headers: eePoc.headers }),
    );
    assert.ok(revoked.revoked.includes(pass.passId), 'the pass ends with the mission');
    const again = await call(ltPoc, 'GET', `/deployments/${deployment.id}/passes/${member.responderId}`);
    assert.equal(again.statusCode, 409);

    const kinds = await timelineKinds(id);
    for (const kind of [
      'deployment.on_site',
      'pass.issued',
      'deployment.stood_down',
      'pass.revoked',
      'stood_down',
    ])
      assert.ok(kinds.includes(kind), `${kind} is on the timeline: ${kinds.join(', ')}`);

    // The live stream and webhooks carry the same, to those who see the request only.
    await node.services.notifier.sequence();
    const seenBy = async (name: string) => {
      const actor = await node.services.identity.actorByName(name);
      const events = await node.services.events.since({ actor: actor!, requestId: null }, 0, 10_000);
      return events.filter((e) => e.requestId === id).map((e) => e.type);
    };
    const lt = await seenBy('lt.analyst');
    for (const type of ['request.deployment.stood_down', 'request.pass.issued', 'request.pass.revoked'])
      assert.ok(lt.includes(type), `${type} reaches the requester: ${lt.join(', ')}`);
    assert.deepEqual(await seenBy('fi.poc'), [], 'an AMBER request’s events stay with its audience');
    const hooks = await node.services.database.db
      .selectFrom('notifications')
      .select('type')
      .where('request_id', '=', id)
      .where('type', '=', 'request.deployment.accepted')
      .execute();
    assert.equal(hooks.length, 1, 'the acceptance is an event (the webhooks outbox is fed from them)');
  });

  it('standing the deployment down stands the request down, with its report clock', async () => {
    const id = await activated(4, { mode: 'remote' });
    const deployment = await deployTeam(node, id, { coordinator, host: ltPoc, pocs });
    await ok(coordinator, 'POST', `/deployments/${deployment.id}/status`, { status: 'stood_down' });
    const request = await ok(ltPoc, 'GET', `/requests/${id}`);
    assert.equal(request.status, 'stood_down');
    assert.equal(request.deadlines.find((d: any) => d.kind === 'post_action_report').state, 'running');
    const twice = await call(coordinator, 'POST', `/deployments/${deployment.id}/status`, {
      status: 'stood_down',
    });
    assert.equal(twice.statusCode, 409);
  });

  it('withdrawing a request cancels the team being assembled', async () => {
    const id = await activated(5);
    const proposal = await ok(coordinator, 'POST', `/requests/${id}/team-proposals`);
    const deployment = await ok(coordinator, 'POST', `/requests/${id}/team-proposals/${proposal.id}/adopt`);
    await ok(ltPoc, 'POST', `/requests/${id}/withdraw`, { reason: 'contained' });
    assert.equal((await ok(coordinator, 'GET', `/deployments/${deployment.id}`)).status, 'cancelled');
    const release = await call(
      pocs[deployment.members[0].party]!,
      'POST',
      `/deployments/${deployment.id}/members/${deployment.members[0].responderId}/release`,
      { decision: 'release' },
    );
    assert.equal(release.statusCode, 409);
    assert.ok((await timelineKinds(id)).includes('deployment.cancelled'));
  });

  it('never books anyone twice: a second adoption over the same window is a 409 naming who and why', async () => {
    const first = await activated(6);
    const second = await activated(6);
    const p1 = await ok(coordinator, 'POST', `/requests/${first}/team-proposals`);
    const p2 = await ok(coordinator, 'POST', `/requests/${second}/team-proposals`);
    const d1 = await ok(coordinator, 'POST', `/requests/${first}/team-proposals/${p1.id}/adopt`);
    const clash = await call(coordinator, 'POST', `/requests/${second}/team-proposals/${p2.id}/adopt`);
    assert.equal(clash.statusCode, 409, clash.body);
    const { error } = json(clash);
    const twice = p2.members.filter((m: any) => d1.members.some((d: any) => d.responderId === m.responderId));
    assert.ok(twice.length > 0);
    assert.deepEqual(
      error.details.conflicts.map((c: any) => [c.responderId, c.clash, c.deploymentId]),
      twice.map((m: any) => [m.responderId, 'deployment', d1.id]),
    );
    assert.ok(error.message.includes(twice[0].name), error.message);
    assert.equal(error.details.resolve.href, `/api/v1/requests/${second}/team-proposals`);
    assert.equal((await call(coordinator, 'POST', error.details.resolve.href.slice(7))).statusCode, 201);
    const refused = await node.services.audit.page({ action: 'team.adopt.refused' }, 'desc', 10);
    assert.ok(
      refused.items.some((e) => e.object.id === second),
      'the refusal is audited',
    );
  });

  it('books a person once when two adoptions race for them', async () => {
    const [first, second] = [await activated(9), await activated(9)];
    const p1 = await ok(coordinator, 'POST', `/requests/${first}/team-proposals`);
    const p2 = await ok(coordinator, 'POST', `/requests/${second}/team-proposals`);
    const results = await Promise.all([
      call(coordinator, 'POST', `/requests/${first}/team-proposals/${p1.id}/adopt`),
      call(coordinator, 'POST', `/requests/${second}/team-proposals/${p2.id}/adopt`),
    ]);
    assert.deepEqual(
      results.map((r) => r.statusCode).sort(),
      [201, 409],
      results.map((r) => r.body).join('\n'),
    );
  });

  it('re-checks leave taken since the proposal', async () => {
    const id = await activated(7);
    const proposal = await ok(coordinator, 'POST', `/requests/${id}/team-proposals`);
    const away = proposal.members.find((m: any) => m.party === 'LT') ?? proposal.members[0];
    const window = windowOf(7);
    await ok(pocs[away.party]!, 'PUT', `/responders/${away.responderId}/availability`, {
      unavailability: [{ from: window.from, to: window.to, kind: 'leave' }],
    });
    const res = await call(coordinator, 'POST', `/requests/${id}/team-proposals/${proposal.id}/adopt`);
    assert.equal(res.statusCode, 409, res.body);
    const conflict = json(res).error.details.conflicts.find((c: any) => c.responderId === away.responderId);
    assert.equal(conflict.clash, 'unavailable');
    assert.match(conflict.reason, /^leave from/);
  });

  it('journals a decline and who joins in their place', async () => {
    const id = await activated(8);
    const proposal = await ok(coordinator, 'POST', `/requests/${id}/team-proposals`);
    const deployment = await ok(coordinator, 'POST', `/requests/${id}/team-proposals/${proposal.id}/adopt`);
    const out = deployment.members[0];
    await ok(pocs[out.party]!, 'POST', `/deployments/${deployment.id}/members/${out.responderId}/release`, {
      decision: 'decline',
      reason: 'needed at home',
    });
    const kinds = await timelineKinds(id);
    assert.ok(kinds.includes('deployment.member.declined'), kinds.join(', '));
    assert.ok(kinds.includes('deployment.member.added'), kinds.join(', '));
  });
});
