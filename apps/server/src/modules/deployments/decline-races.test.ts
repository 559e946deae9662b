import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, onPostgres, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { submitRequest, vote } from '../../test/requests.fixtures.ts';
import { openTransaction, settledOrWaiting } from '../../test/transactions.fixtures.ts';
import type { TeamProblem, TeamSolution } from '../teams/solver/types.ts';
import { deployTeam, registerAnalyst } from './deployments.fixtures.ts';
import { lockVisibleDeployment } from './deployments.repository.ts';

const DAY = 86_400_000;
const MEMBERS = ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'] as const;

/** Each test has its own fortnight, so its team is not booked by another test's. */
const windowOf = (slot: number) => {
  const from = new Date(Date.parse('2027-03-01T06:00:00Z') + slot * 14 * DAY);
  return { from: from.toISOString(), to: new Date(from.getTime() + 5 * DAY).toISOString() };
};

type Member = { responderId: string; name: string | null; party: string; status: string };
const active = (d: Record<string, any>) =>
  (d.members as Member[])
    .filter((m) => m.status === 'pending' || m.status === 'released')
    .map((m) => m.responderId);

// The paths between a check and a write, where a second user's move lands: a decline's re-solve
// (the solver runs outside the transaction), and a pass asked for while the mission stands down.
describe('deployments under concurrent moves: declines, re-solves, passes and who sees members', () => {
  let node: TestNode;
  let coordinator: TestUser;
  const council: Record<string, TestUser> = {};
  const pocs: Record<string, TestUser> = {};

  const call = (user: TestUser, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    node.request({ method, url: `/api/v1${url}`, headers: user.headers, ...(payload ? { payload } : {}) });
  const ok = async (user: TestUser, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => {
    const res = await call(user, method, url, payload);
    assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
    return json(res);
  };
  /** A request hosted by HR, activated by the council: its team comes from LT and EE. */
  async function activated(slot: number, exercise = false) {
    const request = await submitRequest(node, pocs.HR!, { window: windowOf(slot), exercise });
    for (const party of request.council.electorate) {
      const res = await vote(node, council[party]!, request.id, 'activate');
      if (json(res).status !== 'voting') break;
    }
    return request.id as string;
  }
  const adopted = async (requestId: string) => {
    const proposal = await ok(coordinator, 'POST', `/requests/${requestId}/team-proposals`);
    return ok(coordinator, 'POST', `/requests/${requestId}/team-proposals/${proposal.id}/adopt`);
  };
  /** Runs `between` once, right after the next solve of the team solver, before its team is applied. */
  const afterNextSolve = (between: () => Promise<void>) => {
    const teams = node.services.teams as unknown as {
      deps: { solve: (p: TeamProblem) => Promise<TeamSolution> };
    };
    const solve = teams.deps.solve;
    let solves = 0;
    teams.deps.solve = async (problem) => {
      const solution = await solve(problem);
      if (++solves === 1) await between();
      return solution;
    };
    return {
      solves: () => solves,
      restore: () => {
        teams.deps.solve = solve;
      },
    };
  };

  before(async () => {
    node = await startTestNode();
    coordinator = await node.user('duty.officer', 'PL', ['coordinator']);
    for (const party of MEMBERS) {
      council[party] = await node.user(`${party.toLowerCase()}.council`, party, ['council']);
      pocs[party] = await node.user(`${party.toLowerCase()}.poc`, party, ['poc']);
    }
    await registerAnalyst(node, pocs.LT!, 'LT', 'Ona Forensic (LT)');
    await registerAnalyst(node, pocs.LT!, 'LT', 'Rokas Forensic (LT)');
    await registerAnalyst(node, pocs.EE!, 'EE', 'Kadri Forensic (EE)');
    await registerAnalyst(node, pocs.EE!, 'EE', 'Mart Forensic (EE)');
  });
  after(() => node.close());

  it('a decline never books its newcomer twice: an adoption that takes them meanwhile makes it solve again', async () => {
    const first = await activated(1);
    const second = await activated(1);
    const d1 = await adopted(first);
    const p2 = await ok(coordinator, 'POST', `/requests/${second}/team-proposals`);
    assert.ok(p2.feasible, 'the two others make the second team');
    const out = d1.members[0] as Member;
    let d2: Record<string, any> | undefined;
    const hook = afterNextSolve(async () => {
      // The re-solve has just picked one of the two still free; the second request books both.
      d2 = await ok(coordinator, 'POST', `/requests/${second}/team-proposals/${p2.id}/adopt`);
    });
    try {
      const declined = await ok(
        pocs[out.party]!,
        'POST',
        `/deployments/${d1.id}/members/${out.responderId}/release`,
        { decision: 'decline', reason: 'needed at home' },
      );
      assert.equal(hook.solves(), 2, 'the first solve lost the race and was solved again');
      const booked = new Set(active(d2!));
      const twice = active(declined).filter((id) => booked.has(id));
      assert.deepEqual(twice, [], 'no one is on both teams');
      assert.equal(active(declined).length, 1, 'no one was free to fill the gap: the team waits, short');
      const proposal = (await ok(coordinator, 'GET', `/requests/${first}/team-proposals`)).items.find(
        (p: { id: string }) => p.id === declined.proposalId,
      );
      assert.equal(proposal.feasible, false, 'and its proposal says the needs are not met');
    } finally {
      hook.restore();
    }
  });

  it('someone replaced earlier and picked again by a later re-solve is back on the team', async () => {
    const id = await activated(2);
    const d = await adopted(id);
    const [out, stays] = d.members as Member[];
    const window = windowOf(2);
    // One member goes on leave; the next decline's re-solve drops them (replaced) and fills both places.
    await ok(pocs[stays!.party]!, 'PUT', `/responders/${stays!.responderId}/availability`, {
      unavailability: [{ from: window.from, to: window.to, kind: 'leave' }],
    });
    const second = await ok(
      pocs[out!.party]!,
      'POST',
      `/deployments/${d.id}/members/${out!.responderId}/release`,
      { decision: 'decline', reason: 'on leave that week' },
    );
    assert.equal(second.members.find((m: Member) => m.responderId === stays!.responderId).status, 'replaced');
    assert.equal(active(second).length, 2, JSON.stringify(second.members));
    // The leave is cancelled; another decline's re-solve has only them left to pick.
    await ok(pocs[stays!.party]!, 'PUT', `/responders/${stays!.responderId}/availability`, {
      unavailability: [],
    });
    const next = second.members.find((m: Member) => active(second).includes(m.responderId)) as Member;
    const third = await ok(
      pocs[next.party]!,
      'POST',
      `/deployments/${d.id}/members/${next.responderId}/release`,
      { decision: 'decline', reason: 'on leave that week' },
    );
    assert.equal(
      third.members.find((m: Member) => m.responderId === stays!.responderId).status,
      'pending',
      `picked again, they wait for their home state once more: ${JSON.stringify(third.members)}`,
    );
    assert.equal(active(third).length, 2, 'the team is whole');
  });

  it('a pass asked for while the mission stands down is refused, not issued past the revocations', async () => {
    const id = await activated(3);
    const d = await deployTeam(node, id, { coordinator, host: pocs.HR!, pocs });
    await ok(coordinator, 'POST', `/deployments/${d.id}/status`, { status: 'on_site' });
    const member = d.members[0] as Member;
    const requests = node.services.requests as unknown as { findForSystem: (id: string) => Promise<unknown> };
    const find = requests.findForSystem;
    let stoodDown = false;
    requests.findForSystem = async (requestId: string) => {
      // The pass's status check has passed; the host stands the mission down before its pass is fixed.
      if (!stoodDown) {
        stoodDown = true;
        await ok(pocs.HR!, 'POST', `/deployments/${d.id}/status`, { status: 'stood_down' });
      }
      return find.call(requests, requestId);
    };
    try {
      const pass = await call(pocs.HR!, 'GET', `/deployments/${d.id}/passes/${member.responderId}`);
      assert.equal(pass.statusCode, 409, pass.body);
      assert.match(json(pass).error.message, /stood down/);
    } finally {
      requests.findForSystem = find;
    }
    assert.ok(stoodDown);
    const after = await ok(coordinator, 'GET', `/deployments/${d.id}`);
    assert.deepEqual(
      after.members.filter((m: { passId: string | null }) => m.passId !== null),
      [],
      'no pass was fixed after the stand-down',
    );
  });

  it('a pass opened for the first time while the coordinator moves the mission is issued, and the move goes through', {
    skip: !onPostgres() && 'needs PostgreSQL: the embedded database runs one transaction at a time',
  }, async () => {
    const id = await activated(5);
    const d = await deployTeam(node, id, { coordinator, host: pocs.HR!, pocs });
    const member = d.members[0] as Member;
    // A move in the order every move takes: the request first (held here), then the deployment.
    const move = await openTransaction(node.database.db, (trx) =>
      node.services.requests.lockForSystem(trx, id),
    );
    const pass = call(pocs.HR!, 'GET', `/deployments/${d.id}/passes/${member.responderId}`);
    const first = await settledOrWaiting(node.database.db, pass);
    let moved: unknown;
    try {
      moved = await move.run((trx) => lockVisibleDeployment(trx, node.cli.actor, d.id));
    } finally {
      await move.commit();
    }
    assert.equal((await pass).statusCode, 200, (await pass).body);
    assert.ok(moved, 'the move has the deployment');
    assert.equal(first, 'settled', 'the pass never waited for the request the move holds');
  });

  it('shows a member’s name to their home state, the host and coordinators; a home state’s reasons only to itself', async () => {
    const id = await activated(4);
    const d = await adopted(id);
    const out = d.members[0] as Member;
    const [home, other] = out.party === 'LT' ? [pocs.LT!, pocs.EE!] : [pocs.EE!, pocs.LT!];
    // After the decline the other home state has someone on the team (kept, or the newcomer), so it sees it.
    await ok(home, 'POST', `/deployments/${d.id}/members/${out.responderId}/release`, {
      decision: 'decline',
      reason: 'needed for the election at home',
    });
    const seen = async (user: TestUser) =>
      (await ok(user, 'GET', `/deployments/${d.id}`)).members.find(
        (m: Member) => m.responderId === out.responderId,
      );
    const byHome = await seen(home);
    assert.equal(byHome.name, out.name);
    assert.equal(byHome.decisionReason, 'needed for the election at home');
    assert.deepEqual(await seen(coordinator), byHome);
    const byHost = await seen(pocs.HR!);
    assert.equal(byHost.name, out.name, 'the host knows who comes');
    assert.equal(byHost.decisionReason, null, 'not why a home state declined its own');
    const byOther = await seen(other);
    assert.equal(byOther.name, null, 'another home state sees a place, not the person');
    assert.deepEqual(byOther.reasons, []);
    assert.equal(byOther.decidedBy, null);
    assert.equal(byOther.decisionReason, null);
    assert.equal(byOther.party, out.party);
  });

  it('marks the deployment of an exercise as an exercise', async () => {
    assert.equal((await adopted(await activated(5, true))).exercise, true);
    assert.equal((await adopted(await activated(6))).exercise, false);
  });
});
