import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode } from '../test/harness.ts';
import { runCommand } from './commands.ts';
import { DEMO_PASSWORD } from './demo.ts';

describe('vytis demo', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(() => node.close());

  it('loads people for every role, once, who can log in', async () => {
    const first = await runCommand(node.services, { name: 'demo' });
    assert.equal(first.exitCode, 0, first.stderr);
    assert.match(
      first.stdout,
      /parties: 30 \(6 member, 7 observer, 1 eu_institution, 2 partner, 14 external\)/,
    );
    assert.match(first.stdout, /users: 26 created, 0 already there/);
    const again = await runCommand(node.services, { name: 'demo' });
    assert.match(
      first.stdout,
      /requests: 5 \(LT voting, FI assembling, UA voting, EU draft, EE voting \(exercise\)\)/,
    );
    assert.match(again.stdout, /users: 0 created, 26 already there/, 'loading twice changes nothing');
    assert.match(again.stdout, /requests: 5 already there, none added/);
    assert.match(first.stdout, /cases: 4 \(LT AMBER, EE GREEN, PL CLEAR, LT AMBER\+STRICT\), 53 indicators/);
    assert.match(again.stdout, /cases: 4 already there, none added/);

    const login = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'lt.council', password: DEMO_PASSWORD },
    });
    assert.equal(login.statusCode, 200, login.body);
    assert.deepEqual(json(login).user.roles, ['council']);
    const roles = new Set(
      (await node.database.db.selectFrom('users').select('roles').execute()).flatMap((u) => u.roles),
    );
    for (const role of ['admin', 'coordinator', 'council', 'poc', 'responder', 'analyst', 'auditor'])
      assert.ok(roles.has(role), role);
  });

  it('shows a Finnish observer the GREEN indicators but not the AMBER ones', async () => {
    const login = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'fi.analyst', password: DEMO_PASSWORD },
    });
    assert.equal(login.statusCode, 200, login.body);
    const actor = await node.services.identity.actorByName('fi.analyst');
    const ctx = { actor: actor!, requestId: null };
    const cases = await node.services.cases.list(ctx, {});
    assert.deepEqual(cases.items.map((c) => c.tlp).sort(), ['clear', 'green']);
    const c2 = await node.services.observables.lookup(ctx, '185.220.101[.]47');
    assert.deepEqual(
      c2.items.map((i) => [i.ownerParty, i.tlp]),
      [['EE', 'green']],
      'only EE’s GREEN case, not LT’s AMBER one',
    );
    const ee = cases.items.find((c) => c.ownerParty === 'EE')!;
    const seen = await node.services.observables.list(ctx, ee.id, {});
    assert.ok(seen.items.every((o) => o.tlp !== 'amber'));
    assert.equal(seen.total, 3, 'the AMBER hosting address is left out');
  });
});
