import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sampleRoster } from '../../cli/demo-roster.ts';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { submitRequest, vote } from '../../test/requests.fixtures.ts';

const MEMBERS = ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'] as const;

/**
 * Issue 17, item 6: a home state's restriction (the default framework: HR sends no military
 * personnel to partner or external parties) is judged on the host's status on the day of its
 * request — the day its eligibility was judged — not on the day the team is assembled.
 */
describe('home-state restrictions are judged on the statuses of the day of the request', () => {
  let node: TestNode;
  let coordinator: TestUser;
  let admin: TestUser;
  let lawyerId: string;
  const poc: Record<string, TestUser> = {};
  const council: Record<string, TestUser> = {};

  const call = (user: TestUser, method: 'GET' | 'POST', url: string, payload?: object) =>
    node.request({ method, url: `/api/v1${url}`, headers: user.headers, ...(payload ? { payload } : {}) });

  /** A request for one level-3 lawyer, filed and activated on the current day. */
  async function activatedRequest(by: TestUser, country: string) {
    const request = await submitRequest(node, by, {
      mode: 'remote',
      location: { country },
      needs: [{ skill: 'legal', count: 1, minLevel: 3 }],
      clearance: 'restricted',
    });
    for (const party of request.council.electorate) {
      const res = await vote(node, council[party]!, request.id, 'activate');
      if (json(res).status !== 'voting') break;
    }
    assert.equal(json(await call(coordinator, 'GET', `/requests/${request.id}`)).status, 'activated');
    return request.id as string;
  }

  async function changeStatus(code: string, status: string, effectiveFrom: string) {
    const res = await call(admin, 'POST', `/parties/${code}/statuses`, {
      status,
      effectiveFrom,
      note: `${code} becomes ${status}`,
    });
    assert.equal(res.statusCode, 201, res.body);
  }

  before(async () => {
    node = await startTestNode();
    coordinator = await node.user('duty.officer', 'LT', ['coordinator']);
    admin = await node.user('root', 'LT', ['admin']);
    for (const party of [...MEMBERS, 'UA', 'FI']) {
      poc[party] = await node.user(`${party.toLowerCase()}.poc`, party, ['poc']);
    }
    for (const party of MEMBERS) {
      council[party] = await node.user(`${party.toLowerCase()}.council`, party, ['council']);
    }
    for (const person of sampleRoster(12)) {
      const res = await call(poc[person.party]!, 'POST', '/responders', person);
      assert.equal(res.statusCode, 201, res.body);
    }
    // The only level-3 lawyer on the roster, and a soldier of a state that restricts soldiers.
    const lawyer = await call(poc.HR!, 'POST', '/responders', {
      ...sampleRoster(3)[2],
      party: 'HR',
      name: 'HR military legal adviser',
      affiliation: 'military',
      clearance: 'confidential',
      skills: [{ skill: 'legal', level: 3 }],
    });
    assert.equal(lawyer.statusCode, 201, lawyer.body);
    lawyerId = json(lawyer).id;
  });
  after(() => node?.close());

  it('a partner that joins as a member after its request is still judged as the partner that asked', async () => {
    const requestId = await activatedRequest(poc.UA!, 'UA');
    await changeStatus('UA', 'member', '2026-11-24');
    node.clock.set('2026-11-24T01:00:00Z');
    const proposal = json(await call(coordinator, 'POST', `/requests/${requestId}/team-proposals`));
    assert.ok(
      !proposal.members.some((m: any) => m.responderId === lawyerId),
      'the HR soldier is not sent to a party that was a partner on the day of its request',
    );
    const why = proposal.excluded.find((e: any) => e.responderId === lawyerId);
    assert.ok(why, 'the lawyer is among the nearest excluded');
    assert.match(why.reason, /HR sends no military personnel to partner parties/);
    assert.equal(proposal.feasible, false);
  });

  it('an observer that leaves the framework after its request still gets the team it was eligible for', async () => {
    node.clock.set('2026-11-23T12:00:00Z');
    const requestId = await activatedRequest(poc.FI!, 'FI');
    await changeStatus('FI', 'external', '2026-11-24');
    node.clock.set('2026-11-24T01:00:00Z');
    const proposed = await call(coordinator, 'POST', `/requests/${requestId}/team-proposals`);
    assert.equal(proposed.statusCode, 201, proposed.body);
    const proposal = json(proposed);
    assert.ok(
      proposal.members.some((m: any) => m.responderId === lawyerId),
      `the lawyer is proposed: FI was an observer on the day of its request (${JSON.stringify(proposal.excluded)})`,
    );
    assert.equal(proposal.feasible, true);
    // Adoption re-checks the restrictions under lock, on the same day's statuses.
    const adopted = await call(
      coordinator,
      'POST',
      `/requests/${requestId}/team-proposals/${proposal.id}/adopt`,
    );
    assert.equal(adopted.statusCode, 201, adopted.body);
    assert.ok(json(adopted).members.some((m: any) => m.responderId === lawyerId));
  });
});
