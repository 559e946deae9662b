import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { submitRequest, vote } from '../../test/requests.fixtures.ts';
import { registerAnalyst } from './deployments.fixtures.ts';

const DAY = 86_400_000;
const MEMBERS = ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'] as const;
const SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

type State = 'proposed' | 'released' | 'accepted' | 'on_site' | 'stood_down';
const STATES: State[] = ['proposed', 'released', 'accepted', 'on_site', 'stood_down'];
type Act = 'accept' | 'move' | 'standDown' | 'release' | 'decline' | 'pass' | 'revokePass';
const ACTS: Act[] = ['accept', 'move', 'standDown', 'release', 'decline', 'pass', 'revokePass'];

/**
 * The API's `can` and the node's enforcement are one rule: for each person × state of a deployment
 * × act, `can.X` is true exactly when the act goes through. Each act that goes through is tried on
 * a deployment of its own in that state, so one success never changes what the next person finds.
 */
describe('what the API says one may do is what the node lets one do', () => {
  let node: TestNode;
  let slot = 0;
  const pocs: Record<string, TestUser> = {};
  const council: Record<string, TestUser> = {};
  const people: Record<string, TestUser> = {};
  let eeResponderId = '';

  const call = (user: TestUser, method: 'GET' | 'POST', url: string, payload?: object) =>
    node.request({ method, url: `/api/v1${url}`, headers: user.headers, ...(payload ? { payload } : {}) });
  const ok = async (user: TestUser, method: 'GET' | 'POST', url: string, payload?: object) => {
    const res = await call(user, method, url, payload);
    assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
    return json(res);
  };

  /** A fresh hybrid deployment of an LT request, team LT + EE (the EE member is ee.responder), in `state`. */
  async function deploymentIn(state: State) {
    const from = new Date(Date.parse('2026-11-24T06:00:00Z') + slot++ * 14 * DAY);
    const window = { from: from.toISOString(), to: new Date(from.getTime() + 5 * DAY).toISOString() };
    const request = await submitRequest(node, pocs.LT!, { window, mode: 'hybrid' });
    for (const party of request.council.electorate) {
      if (json(await vote(node, council[party]!, request.id, 'activate')).status !== 'voting') break;
    }
    const proposal = await ok(people.coordinator!, 'POST', `/requests/${request.id}/team-proposals`);
    let d = await ok(
      people.coordinator!,
      'POST',
      `/requests/${request.id}/team-proposals/${proposal.id}/adopt`,
    );
    if (state === 'proposed') return d;
    for (const m of d.members) {
      d = await ok(pocs[m.party]!, 'POST', `/deployments/${d.id}/members/${m.responderId}/release`, {
        decision: 'release',
      });
    }
    if (state === 'released') return d;
    d = await ok(pocs.LT!, 'POST', `/deployments/${d.id}/acceptance`, {
      personnelStatus: 'Under the CRRT MoU',
      access: 'SOC network',
      liabilityAgreementSha256: SHA,
    });
    // The EE member's pass is issued, so there is one to revoke.
    await ok(pocs.EE!, 'GET', `/deployments/${d.id}/passes/${eeResponderId}`);
    if (state === 'on_site')
      await ok(people.coordinator!, 'POST', `/deployments/${d.id}/status`, { status: 'on_site' });
    if (state === 'stood_down')
      await ok(people.coordinator!, 'POST', `/deployments/${d.id}/status`, { status: 'stood_down' });
    return ok(people.coordinator!, 'GET', `/deployments/${d.id}`);
  }

  /** Tries the act on the EE member (or the deployment); the status code of the node's answer. */
  async function attempt(user: TestUser, act: Act, d: Record<string, any>, moveTo: string) {
    const member = `/deployments/${d.id}/members/${eeResponderId}`;
    const res = await (() => {
      switch (act) {
        case 'accept':
          return call(user, 'POST', `/deployments/${d.id}/acceptance`, {
            personnelStatus: 'Under the CRRT MoU',
            access: 'SOC network',
            liabilityAgreementSha256: SHA,
          });
        case 'move':
          return call(user, 'POST', `/deployments/${d.id}/status`, { status: moveTo });
        case 'standDown':
          return call(user, 'POST', `/deployments/${d.id}/status`, {
            status: 'stood_down',
            reason: 'the incident is contained',
          });
        case 'release':
          return call(user, 'POST', `${member}/release`, { decision: 'release' });
        case 'decline':
          return call(user, 'POST', `${member}/release`, { decision: 'decline', reason: 'needed at home' });
        case 'pass':
          return call(user, 'GET', `/deployments/${d.id}/passes/${eeResponderId}`);
        case 'revokePass':
          return call(user, 'POST', `/deployments/${d.id}/passes/${eeResponderId}/revoke`, {
            reason: 'badge lost',
          });
      }
    })();
    assert.ok(res.statusCode < 500, `${act}: ${res.statusCode} ${res.body}`);
    return res.statusCode;
  }

  const canOf = (d: any, act: Act): boolean => {
    if (act === 'accept' || act === 'move' || act === 'standDown') return d.can[act];
    return d.members.find((m: any) => m.responderId === eeResponderId).can[act];
  };

  before(async () => {
    node = await startTestNode();
    for (const party of MEMBERS) {
      council[party] = await node.user(`${party.toLowerCase()}.council`, party, ['council']);
      pocs[party] = await node.user(`${party.toLowerCase()}.poc`, party, ['poc']);
    }
    people.coordinator = await node.user('duty.officer', 'PL', ['coordinator']);
    people.admin = await node.user('admin', 'PL', ['admin']);
    people['host PoC (LT)'] = pocs.LT!;
    people['home PoC (EE)'] = pocs.EE!;
    people['other PoC (HR)'] = pocs.HR!;
    people['the responder'] = await node.user('ee.responder', 'EE', ['responder']);
    people['another responder'] = await node.user('ee.other', 'EE', ['responder']);
    people.analyst = await node.user('lt.analyst', 'LT', ['analyst']);
    await registerAnalyst(node, pocs.LT!, 'LT', 'Ona Forensic (LT)');
    const ee = await ok(pocs.EE!, 'POST', '/responders', {
      party: 'EE',
      name: 'Kadri Forensic (EE)',
      affiliation: 'civilian',
      skills: [{ skill: 'digital-forensics', level: 3 }],
      languages: ['en'],
      clearance: 'confidential',
      base: { country: 'EE', city: 'Tallinn', lat: 59.44, lon: 24.75, timeZone: 'Europe/Tallinn' },
      readiness: { remoteHours: 2, onsiteHours: 12 },
      travelDocumentsUntil: '2030-01-01',
      userId: people['the responder']!.id,
    });
    eeResponderId = ee.id;
  });
  after(() => node.close());

  it('says `you` of the viewer’s own place only', async () => {
    const d = await deploymentIn('accepted');
    const mine = await ok(people['the responder']!, 'GET', `/deployments/${d.id}`);
    const you = mine.members.filter((m: any) => m.you).map((m: any) => m.responderId);
    assert.deepEqual(you, [eeResponderId]);
    const theirs = await ok(pocs.EE!, 'GET', `/deployments/${d.id}`);
    assert.equal(theirs.members.filter((m: any) => m.you).length, 0);
    assert.equal(theirs.members.find((m: any) => m.responderId === eeResponderId).can.pass, true);
  });

  for (const state of STATES) {
    it(`in a deployment ${state}, can.X is true exactly when X goes through`, async () => {
      const base = await deploymentIn(state);
      const views: Record<string, any> = {};
      for (const [who, user] of Object.entries(people)) {
        const res = await call(user, 'GET', `/deployments/${base.id}`);
        views[who] = res.statusCode === 200 ? json(res) : null;
      }
      const table: string[] = [];
      for (const act of ACTS) {
        for (const [who, user] of Object.entries(people)) {
          const view = views[who];
          const can = view ? canOf(view, act) : false;
          // A move the viewer may make (or, when none, one that does not fit): `can.move` says which.
          const moveTo = view?.can.moveTo[0] ?? 'en_route';
          if (view && act === 'move') {
            assert.equal(view.can.move, view.can.moveTo.length > 0, `${who}: move is moveTo not empty`);
          }
          // What succeeds changes the deployment: tried on a fresh one in the same state.
          const target = can && act !== 'pass' ? await deploymentIn(state) : base;
          const status = await attempt(user, act, target, moveTo);
          table.push(`${who} ${act}: can=${can} → ${status}`);
          assert.equal(
            status < 300,
            can,
            `${state}, ${who}, ${act}: can.${act} is ${can} but the node answered ${status}`,
          );
        }
      }
      // The table is not empty of successes: the test can fail both ways.
      assert.ok(table.some((line) => / → 2\d\d$/.test(line)) || state === 'stood_down', table.join('\n'));
    });
  }
});
