import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';

const api = '/api/v1';
const RULE = 'they must be an active user who can see this case';

const caseBody = (overrides: Record<string, unknown> = {}) => ({
  title: 'Ransomware at the grid operator',
  incidentClass: 'rsit:malicious-code="infected-system"',
  severity: 'high',
  tlp: 'amber',
  pap: 'amber',
  ...overrides,
});

describe('cases keep their small promises', () => {
  let node: TestNode;
  let lt: TestUser;
  let lt2: TestUser;
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
  const audit = async (action: string) => (await node.services.audit.page({ action }, 'asc', 100)).items;

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    lt2 = await node.user('lt.analyst2', 'LT', ['analyst']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    fi = await node.user('fi.analyst', 'FI', ['analyst']);
    lv = await node.user('lv.analyst', 'LV', ['analyst']);
  });
  after(() => node.close());

  describe('a task goes only to someone who may see its case', () => {
    it('refuses, naming body/assignee, on create and on change; accepts once the case is shared', async () => {
      const caseId = await open(lt, { tlp: 'amber' });
      const refused = await call('POST', lt, `/cases/${caseId}/tasks`, {
        title: 'Image the historian',
        assignee: ee.id,
      });
      assert.equal(refused.statusCode, 400, refused.body);
      // lt.analyst may not see ee.analyst as a user: told the rule, nothing about them.
      assert.deepEqual(json(refused).error.details, [{ field: 'body/assignee', message: RULE }]);
      assert.equal(
        json(refused).error.message,
        `assignee ${ee.id} cannot be assigned: they must be an active user who can see this case`,
      );
      assert.doesNotMatch(refused.body, /ee\.analyst|\bEE\b/);

      const task = await call('POST', lt, `/cases/${caseId}/tasks`, {
        title: 'Image the historian',
        assignee: lt2.id,
      });
      assert.equal(task.statusCode, 201, task.body);
      const taskId = json(task).id;

      const moved = await call('PATCH', lt, `/cases/${caseId}/tasks/${taskId}`, { assignee: fi.id });
      assert.equal(moved.statusCode, 400, moved.body);
      assert.equal(json(moved).error.details[0].field, 'body/assignee');
      assert.equal(json(await call('GET', lt, `/cases/${caseId}/tasks`)).items[0].assignee.id, lt2.id);

      const shared = await call('PUT', lt, `/cases/${caseId}/shares`, { parties: ['FI'] });
      assert.equal(shared.statusCode, 200, shared.body);
      const now = await call('PATCH', lt, `/cases/${caseId}/tasks/${taskId}`, { assignee: fi.id });
      assert.equal(now.statusCode, 200, now.body);
      assert.equal(json(now).assignee.id, fi.id);

      const unknown = await call('POST', lt, `/cases/${caseId}/tasks`, {
        title: 'x',
        assignee: '00000000-0000-4000-8000-000000000000',
      });
      assert.deepEqual(json(unknown).error.details, [{ field: 'body/assignee', message: RULE }]);
    });

    it('answers alike for an unknown id, a disabled account and someone who may not see the case', async () => {
      const caseId = await open(lt, { tlp: 'amber', shares: { parties: ['LV'] } });
      const disabled = await node.user('lv.gone', 'LV', ['analyst']);
      const admin = await node.user('admin.review', 'LT', ['admin', 'analyst']);
      const off = await call('POST', admin, `/users/${disabled.id}/disable`);
      assert.ok(off.statusCode < 300, off.body);
      const probe = async (caller: TestUser, assignee: string) => {
        const res = await call('POST', caller, `/cases/${caseId}/tasks`, { title: 'x', assignee });
        assert.equal(res.statusCode, 400, res.body);
        return json(res).error;
      };
      const unknownId = '00000000-0000-4000-8000-000000000000';
      const answers = [
        [unknownId, await probe(lt, unknownId)],
        [disabled.id, await probe(lt, disabled.id)],
        [ee.id, await probe(lt, ee.id)],
      ] as const;
      for (const [id, error] of answers) {
        assert.deepEqual(
          { ...error, message: error.message.replace(id, '<id>') },
          {
            code: 'invalid_input',
            message: 'assignee <id> cannot be assigned: they must be an active user who can see this case',
            details: [{ field: 'body/assignee', message: RULE }],
          },
        );
      }
      // Whoever may see the user (here an admin) is told which it is.
      const told = await probe(admin, disabled.id);
      assert.deepEqual(told.details, [{ field: 'body/assignee', message: 'account disabled' }]);
      assert.match(told.message, /lv\.gone's account is disabled/);
    });
  });

  describe('sharing groups are edited and retired', () => {
    let groupId: string;
    let ltCase: string;
    let eeCase: string;

    it('are renamed and given new members by their own party only, with audit', async () => {
      const made = await call('POST', lt, '/sharing-groups', { name: 'Baltic', parties: ['EE', 'LV'] });
      assert.equal(made.statusCode, 201, made.body);
      groupId = json(made).id;
      assert.equal(json(made).version, 1);
      assert.deepEqual(json(made).can, { change: true });
      ltCase = await open(lt, { tlp: 'amber', shares: { groups: [groupId] } });
      // A member party uses the group for its own case.
      eeCase = await open(ee, { tlp: 'amber', shares: { groups: [groupId] } });
      assert.ok(await sees(lv, ltCase));
      assert.ok(await sees(lv, eeCase));
      assert.equal(await sees(fi, ltCase), false);

      const byMember = await call('PATCH', ee, `/sharing-groups/${groupId}`, { name: 'Mine now' });
      assert.equal(byMember.statusCode, 403, byMember.body);
      assert.deepEqual(json(await call('GET', ee, `/sharing-groups/${groupId}`)).can, { change: false });

      const stale = await call(
        'PATCH',
        lt,
        `/sharing-groups/${groupId}`,
        { name: 'x' },
        { 'if-match': '"7"' },
      );
      assert.equal(stale.statusCode, 412);

      const changed = await call(
        'PATCH',
        lt,
        `/sharing-groups/${groupId}`,
        { name: 'Baltic and Finland', parties: ['EE', 'FI'] },
        { 'if-match': '"1"' },
      );
      assert.equal(changed.statusCode, 200, changed.body);
      assert.equal(json(changed).name, 'Baltic and Finland');
      assert.deepEqual(json(changed).parties, ['EE', 'FI']);
      assert.equal(json(changed).version, 2);

      // The group's own party's case follows the group.
      assert.ok(await sees(fi, ltCase));
      assert.equal(await sees(lv, ltCase), false);
      // Another party's case keeps exactly who it had: only a case's own party changes that.
      assert.equal(await sees(fi, eeCase), false);
      assert.ok(await sees(lv, eeCase));
      const eeShares = json(await call('GET', ee, `/cases/${eeCase}/shares`));
      assert.deepEqual(eeShares.parties, ['EE', 'LV']);
      assert.deepEqual(eeShares.groups, []);

      const [update] = await audit('sharing-group.update');
      assert.equal(update!.object.id, groupId);
      assert.deepEqual((update!.summary as any).parties, { from: ['EE', 'LV'], to: ['EE', 'FI'] });
      assert.deepEqual((update!.summary as any).resolvedCases, [eeCase]);
      const resolved = await audit('case.share.resolve');
      assert.deepEqual(
        resolved.map((e) => e.object.id),
        [eeCase],
      );
    });

    it('are retired: not offered for new shares, members frozen, existing shares kept', async () => {
      const retired = await call('POST', lt, `/sharing-groups/${groupId}/retire`);
      assert.equal(retired.statusCode, 200, retired.body);
      assert.ok(json(retired).retiredAt);
      assert.deepEqual(json(retired).can, { change: false });
      assert.equal((await audit('sharing-group.retire')).length, 1);

      const offered = json(await call('GET', lt, '/sharing-groups')).items.map((g: any) => g.id);
      assert.ok(!offered.includes(groupId));
      const all = json(await call('GET', lt, '/sharing-groups?retired=true')).items.map((g: any) => g.id);
      assert.ok(all.includes(groupId));

      const newCase = await call('POST', lt, '/cases', caseBody({ shares: { groups: [groupId] } }));
      assert.equal(newCase.statusCode, 400);
      assert.deepEqual(json(newCase).error.details, [
        { field: 'body/shares/groups/0', message: 'sharing group is retired' },
      ]);
      const other = await open(lt);
      const added = await call('PUT', lt, `/cases/${other}/shares`, { groups: [groupId] });
      assert.equal(added.statusCode, 400);
      assert.deepEqual(json(added).error.details, [
        { field: 'body/groups/0', message: 'sharing group is retired' },
      ]);

      // A case already shared with it keeps it (and its audience), and may say so again.
      assert.ok(await sees(fi, ltCase));
      const kept = await call('PUT', lt, `/cases/${ltCase}/shares`, { groups: [groupId] });
      assert.equal(kept.statusCode, 200, kept.body);
      assert.deepEqual(
        json(kept).groups.map((g: any) => [g.id, g.retired]),
        [[groupId, true]],
      );

      const frozen = await call('PATCH', lt, `/sharing-groups/${groupId}`, { parties: ['EE'] });
      assert.equal(frozen.statusCode, 409, frozen.body);
      assert.equal((await call('POST', lt, `/sharing-groups/${groupId}/retire`)).statusCode, 409);
    });
  });

  describe('the originating party exports its own items', () => {
    it("exports what it contributed to another party's AMBER+STRICT case, and only that", async () => {
      const caseId = await open(ee, { tlp: 'amber+strict', shares: { parties: ['LT'] } });
      const add = (user: TestUser, value: string) =>
        call('POST', user, `/cases/${caseId}/observables`, { type: 'ip-dst', value, comment: user.name });
      assert.equal((await add(lt, '203.0.113.5')).statusCode, 201);
      assert.equal((await add(ee, '198.51.100.7')).statusCode, 201);

      const everything = await call('GET', lt, `/cases/${caseId}/observables/export`);
      assert.equal(everything.statusCode, 200);
      assert.equal(
        everything.body,
        'type,value,comment,tlp,toIds,exercise\n',
        'AMBER+STRICT of EE: not passed on',
      );

      const mine = await call('GET', lt, `/cases/${caseId}/observables/export?mine=true&format=ndjson`);
      assert.equal(mine.statusCode, 200, mine.body);
      const lines = mine.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        lines.map((l) => [l.value, l.comment]),
        [['203.0.113.5', 'lt.analyst']],
      );
      assert.match(String(mine.headers['content-disposition']), /-from-LT\.ndjson/);

      const eeMine = await call('GET', ee, `/cases/${caseId}/observables/export?mine=true`);
      assert.deepEqual(eeMine.body.trim().split('\n').slice(1), [
        'ip-dst,198.51.100.7,ee.analyst,amber+strict,true,false',
      ]);

      // Only where the party may see the case at all.
      assert.equal((await call('GET', fi, `/cases/${caseId}/observables/export?mine=true`)).statusCode, 404);
    });
  });
});
