import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewResponder } from '@vytis/contracts';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { fileRequest, vote } from '../../test/requests.fixtures.ts';

/**
 * My work (GET /me/work): each kind appears for the person whose act it is, and for nobody else
 * (another party's PoC, a person who may not see the request), and leaves once done; oldest
 * deadline first.
 */
const MEMBERS = ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'] as const;
const CAPITAL: Record<string, { city: string; lat: number; lon: number; timeZone: string }> = {
  LT: { city: 'Vilnius', lat: 54.69, lon: 25.28, timeZone: 'Europe/Vilnius' },
  EE: { city: 'Tallinn', lat: 59.44, lon: 24.75, timeZone: 'Europe/Tallinn' },
};

describe('my work', () => {
  let node: TestNode;
  let coordinator: TestUser;
  let fiPoc: TestUser;
  let fiCouncil: TestUser;
  let auditor: TestUser;
  let ltAnalyst: TestUser;
  let ltAnalyst2: TestUser;
  let eeResponder: TestUser;
  const council: Record<string, TestUser> = {};
  const pocs: Record<string, TestUser> = {};
  let requestId: string;
  let deploymentId: string;
  let kadri: string;

  const call = (user: TestUser, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
    node.request({ method, url: `/api/v1${url}`, headers: user.headers, ...(payload ? { payload } : {}) });
  const ok = async (user: TestUser, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) => {
    const res = await call(user, method, url, payload);
    assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
    return json(res);
  };
  const work = async (user: TestUser) => ok(user, 'GET', '/me/work');
  /** The ids of the caller's items of `kind`. */
  const mine = async (user: TestUser, kind: string) =>
    (await work(user)).items.filter((item: any) => item.kind === kind).map((item: any) => item.id as string);

  async function registerResponder(poc: TestUser, party: string, name: string, userId?: string) {
    const body: NewResponder & { party: string } = {
      party,
      name,
      affiliation: 'civilian',
      skills: [{ skill: 'digital-forensics', level: 3 }],
      languages: ['en'],
      clearance: 'confidential',
      base: { country: party, ...CAPITAL[party]! },
      readiness: { remoteHours: 2, onsiteHours: 12 },
      travelDocumentsUntil: '2030-01-01',
      ...(userId ? { userId } : {}),
    };
    return (await ok(poc, 'POST', '/responders', body)).id as string;
  }

  before(async () => {
    node = await startTestNode();
    coordinator = await node.user('duty.officer', 'PL', ['coordinator']);
    fiPoc = await node.user('fi.poc', 'FI', ['poc']);
    fiCouncil = await node.user('fi.council', 'FI', ['council']);
    auditor = await node.user('auditor', 'LT', ['auditor']);
    ltAnalyst = await node.user('lt.analyst', 'LT', ['analyst']);
    ltAnalyst2 = await node.user('lt.analyst2', 'LT', ['analyst']);
    eeResponder = await node.user('kadri', 'EE', ['responder']);
    for (const party of MEMBERS) {
      council[party] = await node.user(`${party.toLowerCase()}.council`, party, ['council']);
      pocs[party] = await node.user(`${party.toLowerCase()}.poc`, party, ['poc']);
    }
    await registerResponder(pocs.LT!, 'LT', 'Ona Forensic (LT)');
    await registerResponder(pocs.LT!, 'LT', 'Rokas Forensic (LT)');
    kadri = await registerResponder(pocs.EE!, 'EE', 'Kadri Forensic (EE)', eeResponder.id);
  });
  after(() => node.close());

  it('is for signed-in people only', async () => {
    const res = await node.request({ method: 'GET', url: '/api/v1/me/work' });
    assert.equal(res.statusCode, 401);
  });

  it("lists a draft to its party's PoC until it is submitted", async () => {
    const created = await fileRequest(node, pocs.LT!, {
      needs: [{ skill: 'digital-forensics', count: 3, minLevel: 2 }],
      tlp: 'amber',
    });
    assert.equal(created.statusCode, 201, created.body);
    requestId = json(created).id;
    assert.deepEqual(await mine(pocs.LT!, 'draft'), [`draft:${requestId}`]);
    const item = (await work(pocs.LT!)).items[0];
    assert.equal(item.href, `/requests/${requestId}`);
    assert.equal(item.dueAt, null);
    assert.match(item.detail, /not yet submitted/);
    for (const other of [pocs.EE!, coordinator, council.LT!])
      assert.deepEqual(await mine(other, 'draft'), []);

    await ok(pocs.LT!, 'POST', `/requests/${requestId}/submit`);
    assert.deepEqual(await mine(pocs.LT!, 'draft'), []);
  });

  it("asks each council member whose party has not voted, and nobody else, for a vote; the decision's clock is the vote's due time", async () => {
    const request = await ok(coordinator, 'GET', `/requests/${requestId}`);
    assert.equal(request.status, 'voting');
    const decision = request.deadlines.find((d: any) => d.kind === 'decision');
    for (const party of MEMBERS) {
      const list = await work(council[party]!);
      const votes = list.items.filter((i: any) => i.kind === 'vote');
      assert.deepEqual(
        votes.map((i: any) => i.id),
        [`vote:${requestId}`],
        `${party}'s council member`,
      );
      assert.equal(votes[0].dueAt, decision.dueAt);
      assert.equal(list.counts.vote, 1);
      assert.deepEqual(
        list.items.filter((i: any) => i.kind === 'clock'),
        [],
        'the decision clock is shown once, as the vote',
      );
    }
    for (const other of [fiCouncil, fiPoc, pocs.LT!, coordinator, auditor]) {
      assert.deepEqual(await mine(other, 'vote'), [], 'not on the council: no vote');
    }

    assert.equal((await vote(node, council.LT!, requestId, 'activate')).statusCode, 200);
    assert.deepEqual((await work(council.LT!)).items, [], 'once voted, it leaves, and its clock with it');
    assert.deepEqual(await mine(council.EE!, 'vote'), [`vote:${requestId}`], 'others still have to');
  });

  it('lists the items oldest deadline first, those without one last', async () => {
    const { items, total } = await work(coordinator);
    assert.equal(total, items.length);
    const dues = items.map((i: any) => (i.dueAt === null ? Number.POSITIVE_INFINITY : Date.parse(i.dueAt)));
    assert.deepEqual(
      dues,
      [...dues].sort((a, b) => a - b),
    );
    assert.ok(items.length >= 2);
    assert.match(items[0].detail, /NIS2 early warning/, 'due in 22 h, before the 24 h decision');
  });

  it('shows clocks due within a day to the coordinator (all) and the PoC (its NIS2 filings), not to others', async () => {
    const coordinatorClocks = (await work(coordinator)).items.filter((i: any) => i.kind === 'clock');
    assert.ok(
      coordinatorClocks.some((i: any) => /NIS2 early warning/.test(i.detail)),
      'the coordinator sees the NIS2 early warning due within 24 h',
    );
    assert.ok(coordinatorClocks.some((i: any) => /council's decision/.test(i.detail)));
    const pocClocks = (await work(pocs.LT!)).items.filter((i: any) => i.kind === 'clock');
    assert.deepEqual(
      pocClocks.map((i: any) => i.detail),
      ['The NIS2 early warning clock runs out within a day.'],
    );
    for (const other of [pocs.EE!, fiPoc, auditor, ltAnalyst])
      assert.deepEqual(await mine(other, 'clock'), []);

    await ok(pocs.LT!, 'POST', `/requests/${requestId}/deadlines/nis2_early_warning/complete`, {
      filedAt: '2026-11-23T11:00:00Z',
    });
    assert.deepEqual(await mine(pocs.LT!, 'clock'), [], 'filed: the clock is met and leaves');
  });

  it('asks the coordinator for a team once activated, until one is adopted', async () => {
    for (const party of MEMBERS.slice(1)) {
      const res = await vote(node, council[party]!, requestId, 'activate');
      if (json(res).status !== 'voting') break;
    }
    assert.equal((await ok(coordinator, 'GET', `/requests/${requestId}`)).status, 'activated');
    assert.deepEqual(await mine(coordinator, 'team'), [`team:${requestId}`]);
    for (const other of [pocs.LT!, council.LT!, auditor]) assert.deepEqual(await mine(other, 'team'), []);
    for (const party of MEMBERS) assert.deepEqual(await mine(council[party]!, 'vote'), [], 'voting is over');

    const proposal = await ok(coordinator, 'POST', `/requests/${requestId}/team-proposals`);
    const deployment = await ok(
      coordinator,
      'POST',
      `/requests/${requestId}/team-proposals/${proposal.id}/adopt`,
    );
    deploymentId = deployment.id;
    assert.equal(deployment.members.length, 3);
    assert.deepEqual(await mine(coordinator, 'team'), []);
  });

  it("asks each home PoC to release its own people, and the host's PoC to accept once all are released", async () => {
    const ltRelease = await mine(pocs.LT!, 'release');
    assert.equal(ltRelease.length, 2, 'the two LT responders');
    assert.deepEqual(await mine(pocs.EE!, 'release'), [`release:${deploymentId}:${kadri}`]);
    for (const other of [fiPoc, coordinator, council.EE!, eeResponder]) {
      assert.deepEqual(await mine(other, 'release'), []);
    }
    assert.deepEqual(await mine(pocs.LT!, 'accept'), [], 'not yet released');

    await ok(pocs.EE!, 'POST', `/deployments/${deploymentId}/members/${kadri}/release`, {
      decision: 'release',
    });
    assert.deepEqual(await mine(pocs.EE!, 'release'), [], 'decided: it leaves');
    for (const id of ltRelease) {
      const responderId = id.split(':')[2]!;
      await ok(pocs.LT!, 'POST', `/deployments/${deploymentId}/members/${responderId}/release`, {
        decision: 'release',
      });
    }
    assert.deepEqual(await mine(pocs.LT!, 'release'), []);

    const accept = (await work(pocs.LT!)).items.find((i: any) => i.kind === 'accept');
    assert.equal(accept.id, `accept:${deploymentId}`);
    assert.equal(accept.href, `/deployments/${deploymentId}`);
    for (const other of [pocs.EE!, fiPoc, coordinator]) assert.deepEqual(await mine(other, 'accept'), []);
    assert.deepEqual(await mine(eeResponder, 'pass'), [], 'no pass before the host accepts');

    await ok(pocs.LT!, 'POST', `/deployments/${deploymentId}/acceptance`, {
      personnelStatus: 'Under the CRRT MoU',
      access: 'SOC network',
      liabilityAgreementSha256: 'a'.repeat(64),
    });
    assert.deepEqual(await mine(pocs.LT!, 'accept'), []);
  });

  it('asks a responder on a team at work to collect their own pass, until they do', async () => {
    const [item] = (await work(eeResponder)).items;
    assert.equal(item.kind, 'pass');
    assert.equal(item.href, `/deployments/${deploymentId}/passes/${kadri}`);
    for (const other of [pocs.EE!, pocs.LT!, coordinator]) assert.deepEqual(await mine(other, 'pass'), []);
    await ok(eeResponder, 'GET', `/deployments/${deploymentId}/passes/${kadri}`);
    assert.deepEqual(await mine(eeResponder, 'pass'), []);
  });

  it('asks the coordinator for the post-action report once the team stood down, until it is written', async () => {
    await ok(coordinator, 'POST', `/deployments/${deploymentId}/status`, { status: 'stood_down' });
    const [report] = (await work(coordinator)).items.filter((i: any) => i.kind === 'report');
    assert.equal(report.id, `report:${requestId}`);
    assert.ok(report.dueAt, 'the post-action report clock');
    for (const other of [pocs.LT!, auditor]) assert.deepEqual(await mine(other, 'report'), []);
    await ok(coordinator, 'POST', `/requests/${requestId}/report`, { summary: 'Grid restored.' });
    assert.deepEqual(await mine(coordinator, 'report'), []);
  });

  it('lists open tasks to their assignee on cases they see, until done', async () => {
    const caseId = (
      await ok(ltAnalyst, 'POST', '/cases', {
        title: 'Wiper at the port authority',
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'high',
        tlp: 'amber',
        pap: 'amber',
      })
    ).id;
    node.clock.advance(60_000);
    const later = await ok(ltAnalyst, 'POST', `/cases/${caseId}/tasks`, {
      title: 'Image the historian',
      assignee: ltAnalyst2.id,
    });
    const sooner = await ok(ltAnalyst, 'POST', `/cases/${caseId}/tasks`, {
      title: 'Collect the firewall logs',
      assignee: ltAnalyst2.id,
      dueAt: '2026-11-23T18:00:00Z',
    });
    const { items } = await work(ltAnalyst2);
    assert.deepEqual(
      items.map((i: any) => [i.id, i.title]),
      [
        [`task:${sooner.id}`, 'Collect the firewall logs'],
        [`task:${later.id}`, 'Image the historian'],
      ],
      'the task with a deadline first',
    );
    assert.equal(items[0].href, `/cases/${caseId}`);
    assert.equal(items[0].dueAt, '2026-11-23T18:00:00.000Z');
    for (const other of [ltAnalyst, fiPoc, auditor]) assert.deepEqual(await mine(other, 'task'), []);

    await ok(ltAnalyst2, 'PATCH', `/cases/${caseId}/tasks/${sooner.id}`, { status: 'done' });
    assert.deepEqual(await mine(ltAnalyst2, 'task'), [`task:${later.id}`]);
  });

  it('has nothing for an auditor, and says so with zero counts', async () => {
    const list = await work(auditor);
    assert.deepEqual(list.items, []);
    assert.equal(list.total, 0);
    assert.equal(list.counts.vote, 0);
    assert.equal(list.counts.pass, 0);
  });
});
