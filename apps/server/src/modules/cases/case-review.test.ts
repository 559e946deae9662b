import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { json, onPostgres, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';

/**
 * Issue 17, the security review of cases and sharing groups: a member change of a group is a new
 * version of the cases it rewrites; a task's assignee who may only read the case works its status
 * only; refusing an assignee tells nothing about users the caller may not see, for tasks and cases
 * alike; a group retired while a case is being shared with it is not attached.
 */

const api = '/api/v1';
const RULE = 'they must be an active user who can see this case';

const caseBody = (overrides: Record<string, unknown> = {}) => ({
  title: 'Wiper at the port authority',
  incidentClass: 'rsit:malicious-code="infected-system"',
  severity: 'high',
  tlp: 'amber',
  pap: 'amber',
  ...overrides,
});

describe('cases and sharing groups after the review (issue 17)', () => {
  let node: TestNode;
  let lt: TestUser;
  let ee: TestUser;
  let fi: TestUser;
  let lv: TestUser;

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'PUT',
    user: TestUser,
    url: string,
    payload?: object,
    headers: Record<string, string> = {},
  ) =>
    node.request({
      method,
      url: `${api}${url}`,
      headers: { ...user.headers, ...headers },
      ...(payload ? { payload } : {}),
    });
  const open = async (user: TestUser, overrides: Record<string, unknown> = {}) => {
    const res = await call('POST', user, '/cases', caseBody(overrides));
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  };
  const sees = async (user: TestUser, caseId: string) =>
    (await call('GET', user, `/cases/${caseId}`)).statusCode === 200;
  const audit = async (action: string) => (await node.services.audit.page({ action }, 'asc', 500)).items;

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    fi = await node.user('fi.analyst', 'FI', ['analyst']);
    lv = await node.user('lv.analyst', 'LV', ['analyst']);
  });
  after(() => node.close());

  describe('a member change of a sharing group is a new version of the cases it rewrites', () => {
    it('refuses, as stale, a share update based on the version that still named the group', async () => {
      const group = await call('POST', lt, '/sharing-groups', { name: 'Baltic', parties: ['EE', 'LV'] });
      assert.equal(group.statusCode, 201, group.body);
      const groupId = json(group).id;
      const eeCase = await open(ee, { shares: { groups: [groupId] } });
      const read = json(await call('GET', ee, `/cases/${eeCase}/shares`));
      const caseBefore = json(await call('GET', ee, `/cases/${eeCase}`));
      node.clock.advance(60_000);

      const changed = await call('PATCH', lt, `/sharing-groups/${groupId}`, { parties: ['EE', 'FI'] });
      assert.equal(changed.statusCode, 200, changed.body);

      const caseAfter = json(await call('GET', ee, `/cases/${eeCase}`));
      assert.equal(caseAfter.version, caseBefore.version + 1, 'the case is at a new version');
      assert.ok(caseAfter.updatedAt > caseBefore.updatedAt, 'and changed now');
      const resolved = await audit('case.share.resolve');
      assert.deepEqual(
        resolved.map((e) => e.object.id),
        [eeCase],
      );

      // An edit made on what EE read before would put the group back, now with FI in it.
      const stale = await call(
        'PUT',
        ee,
        `/cases/${eeCase}/shares`,
        { groups: [groupId] },
        { 'if-match': `"${read.version}"` },
      );
      assert.equal(stale.statusCode, 412, stale.body);
      assert.match(json(stale).error.message, /changed since you read it/);
      const stalePatch = await call(
        'PATCH',
        ee,
        `/cases/${eeCase}`,
        { title: 'Wiper, contained' },
        { 'if-match': `"${caseBefore.version}"` },
      );
      assert.equal(stalePatch.statusCode, 412, stalePatch.body);

      assert.equal(await sees(fi, eeCase), false, 'FI never got the case');
      assert.ok(await sees(lv, eeCase), 'LV kept it');
      const shares = json(await call('GET', ee, `/cases/${eeCase}/shares`));
      assert.deepEqual(shares.parties, ['EE', 'LV']);
      assert.deepEqual(shares.groups, []);
      assert.equal(shares.version, read.version + 1);
    });

    it('keeps every answer a 200 or a 412 when member changes and share updates race', async () => {
      const group = await call('POST', lt, '/sharing-groups', { name: 'Racing', parties: ['EE', 'LV'] });
      const groupId = json(group).id;
      const cases = await Promise.all([1, 2, 3].map(() => open(ee, { shares: { groups: [groupId] } })));
      const versions = await Promise.all(
        cases.map(async (id) => json(await call('GET', ee, `/cases/${id}/shares`)).version as number),
      );
      const answers = await Promise.all([
        call('PATCH', lt, `/sharing-groups/${groupId}`, { parties: ['EE', 'FI'] }),
        ...cases.map((id, i) =>
          call('PUT', ee, `/cases/${id}/shares`, { groups: [groupId] }, { 'if-match': `"${versions[i]}"` }),
        ),
      ]);
      for (const answer of answers) assert.ok([200, 412].includes(answer.statusCode), answer.body);
      assert.equal(answers[0]!.statusCode, 200);
      // Whichever went first, no case of EE's reaches FI, whom EE never chose.
      for (const id of cases) assert.equal(await sees(fi, id), false);
    });
  });

  describe("a task's assignee who may only read the case works its status only", () => {
    let caseId: string;
    let taskId: string;

    before(async () => {
      // GREEN: EE reads it as part of the community, but it is not shared with EE.
      caseId = await open(lt, { tlp: 'green' });
      const task = await call('POST', lt, `/cases/${caseId}/tasks`, {
        title: 'Check the relay',
        assignee: ee.id,
      });
      assert.equal(task.statusCode, 201, task.body);
      taskId = json(task).id;
    });

    it('moves the status', async () => {
      const res = await call('PATCH', ee, `/cases/${caseId}/tasks/${taskId}`, { status: 'in-progress' });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(json(res).status, 'in-progress');
    });

    it('changes nothing else, saying what it may change, audited as a denial', async () => {
      const deniedBefore = (await audit('access.denied')).length;
      for (const patch of [
        { title: 'Ignore the relay' },
        { description: 'x' },
        { assignee: lt.id },
        { dueAt: null },
        { status: 'done', dueAt: '2026-12-01T00:00:00Z' },
      ]) {
        const res = await call('PATCH', ee, `/cases/${caseId}/tasks/${taskId}`, patch);
        assert.equal(res.statusCode, 403, `${JSON.stringify(patch)}: ${res.body}`);
        assert.match(json(res).error.message, /may change this task's status only/);
      }
      const denied = (await audit('access.denied')).slice(deniedBefore);
      assert.equal(denied.length, 5);
      assert.ok(denied.every((e) => e.actor.name === 'ee.analyst'));
      const [task] = json(await call('GET', lt, `/cases/${caseId}/tasks`)).items;
      assert.equal(task.title, 'Check the relay');
      assert.equal(task.assignee.id, ee.id);
      assert.equal(task.status, 'in-progress');
    });

    it('leaves those who work on the case free to change the whole task', async () => {
      const res = await call('PATCH', lt, `/cases/${caseId}/tasks/${taskId}`, { title: 'Replace the relay' });
      assert.equal(res.statusCode, 200, res.body);
    });
  });

  describe("a case's assignees must see the case, as a task's must", () => {
    it('refuses on create and on change, alike for unknown users; accepts once the case is shared', async () => {
      const refused = await call('POST', lt, '/cases', caseBody({ assignees: [fi.id] }));
      assert.equal(refused.statusCode, 400, refused.body);
      assert.deepEqual(json(refused).error.details, [{ field: 'body/assignees/0', message: RULE }]);
      assert.doesNotMatch(refused.body, /fi\.analyst/);

      const caseId = await open(lt, { shares: { parties: ['FI'] }, assignees: [fi.id] });
      const unknownId = '00000000-0000-4000-8000-000000000000';
      const changed = await call('PATCH', lt, `/cases/${caseId}`, { assignees: [fi.id, ee.id, unknownId] });
      assert.equal(changed.statusCode, 400, changed.body);
      assert.deepEqual(json(changed).error.details, [
        { field: 'body/assignees/1', message: RULE },
        { field: 'body/assignees/2', message: RULE },
      ]);
      assert.deepEqual(
        json(await call('GET', lt, `/cases/${caseId}`)).assignees.map((a: any) => a.id),
        [fi.id],
      );
      const shared = await call('PUT', lt, `/cases/${caseId}/shares`, { parties: ['FI', 'EE'] });
      assert.equal(shared.statusCode, 200, shared.body);
      const now = await call('PATCH', lt, `/cases/${caseId}`, { assignees: [fi.id, ee.id] });
      assert.equal(now.statusCode, 200, now.body);
    });
  });

  describe('a group retired while a case is being shared with it', () => {
    it('is not attached: the retired check holds under the group’s lock', {
      skip: !onPostgres(),
    }, async () => {
      const group = await call('POST', lt, '/sharing-groups', { name: 'Retiring', parties: ['EE'] });
      const groupId = json(group).id;
      const caseId = await open(lt);
      const client = new pg.Client({ connectionString: node.databaseUrl });
      await client.connect();
      try {
        // A retirement in progress: the group's row is changed, not yet committed.
        await client.query('begin');
        await client.query(
          'update sharing_groups set retired_at = now(), version = version + 1 where id = $1',
          [groupId],
        );
        const sharing = call('PUT', lt, `/cases/${caseId}/shares`, { groups: [groupId] });
        const early = await Promise.race([sharing, new Promise((r) => setTimeout(() => r('waiting'), 300))]);
        assert.equal(early, 'waiting', 'the share waits for the group');
        await client.query('commit');
        const res = await sharing;
        assert.equal(res.statusCode, 400, res.body);
        assert.deepEqual(json(res).error.details, [
          { field: 'body/groups/0', message: 'sharing group is retired' },
        ]);
      } finally {
        await client.end();
      }
      assert.deepEqual(json(await call('GET', lt, `/cases/${caseId}/shares`)).groups, []);
    });
  });
});
