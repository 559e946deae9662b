import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode } from '../test/harness.ts';
import { sendDemo, startAdminSocket } from './admin-socket.ts';
import { runCommand } from './commands.ts';
import { DEMO_PASSWORD } from './demo.ts';

describe('vytis demo', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(() => node.close());

  it('loads people for every role, once, and says what it holds, as the API sees it', async () => {
    // Through the running node's admin socket, as `npx vytis demo` does: each step is told as it starts.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-demo-'));
    const socket = await startAdminSocket(node.services, path.join(dir, 'admin.sock'));
    const steps: string[] = [];
    const first = await sendDemo(path.join(dir, 'admin.sock'), ({ done, total, what }) =>
      steps.push(`${done + 1}/${total} ${what}`),
    );
    await new Promise((resolve) => socket.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(first.exitCode, 0, first.stderr);
    assert.deepEqual(steps, [
      '1/5 people for every role',
      '2/5 responders and duty rotations',
      '3/5 requests at every stage',
      '4/5 cases and indicators',
      '5/5 a deployment and its passes',
    ]);
    process.stdout.write(`# ${first.stdout.replace(/\n/g, '\n# ')}\n`);
    const lines = first.stdout.split('\n');
    assert.equal(
      lines[0],
      'demo world loaded: added 26 users, 120 responders, 6 duty rotations, 5 requests, 4 cases, 53 indicators, 1 deployment, 2 passes',
    );
    assert.equal(lines[1], 'the demo holds:');
    assert.match(
      first.stdout,
      /parties: 30 \(6 member, 7 observer, 1 eu_institution, 2 partner, 14 external\)/,
    );
    assert.match(
      first.stdout,
      /users: 26 \(1 admin, 1 coordinator, 1 auditor, 9 poc, 8 analyst, 6 council, 6 responder;/,
    );
    assert.match(first.stdout, /responders: 120 \(EE 20, HR 20, LT 20, NL 20, PL 20, RO 20\)/);
    assert.match(first.stdout, /duty rotations: 6 weekly standby \(/);
    assert.match(
      first.stdout,
      /cases: 4 \(EE GREEN, LT AMBER\+STRICT \(exercise\), LT AMBER, PL CLEAR\): 53 indicators, 4 tasks \(1 done\), 4 timeline entries, 1 note/,
    );
    assert.match(first.stdout, /correlations: 185\.220\.101\.47 in 2 cases \(EE, LT\)/);
    assert.match(
      first.stdout,
      /deployments: 1 \(\w+, a remote mission, for "\[demo\] DDoS against public e-services": 2 responders released, 2 passes issued, 0 revoked;/,
    );

    // Each request is named with the status the API gives it now, not the one it had mid-load.
    const admin = await node.user('summary.admin', 'LT', ['admin']);
    const listed = json(
      await node.request({ method: 'GET', url: '/api/v1/requests?limit=50', headers: admin.headers }),
    ).items.filter((r: any) => r.title.startsWith('[demo]'));
    const byCreation = [...listed].sort(
      (a: any, b: any) => a.party.localeCompare(b.party) || a.title.localeCompare(b.title),
    );
    const described = byCreation
      .map((r: any) => `${r.party} ${r.status}${r.exercise ? ' (exercise)' : ''}`)
      .join(', ');
    assert.ok(lines.includes(`  requests: 5 (${described})`), `${described}\n${first.stdout}`);

    const again = await runCommand(node.services, { name: 'demo' });
    const againLines = again.stdout.split('\n');
    assert.equal(againLines[0], 'demo world loaded: added nothing (it was all there)');
    // The one line that may differ says whether the demo user was linked to a responder just now.
    const held = (all: string[]) =>
      all.slice(1).map((line) => line.replace(/ \((linked now|already linked)\);/, ';'));
    assert.deepEqual(held(againLines), held(lines), 'loading twice changes nothing, and says the same');
    assert.match(first.stdout, /responder pass: ee\.analyst is .* \(linked now\)/);
    assert.match(again.stdout, /responder pass: ee\.analyst is .* \(already linked\)/);

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
