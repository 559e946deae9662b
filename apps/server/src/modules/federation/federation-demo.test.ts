import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Federation, type NodePlan, startFederation } from '../../../../../scripts/federation-demo.ts';
import { DEMO_PASSWORD } from '../../cli/demo.ts';
import { freePort } from '../../cli/node-process.fixtures.ts';
import { createPostgresDatabase, onPostgres } from '../../test/harness.ts';

// The demo script's building block (scripts/federation-demo.ts): real `vytis start` processes, a
// coordinating node and a national node, connected both ways with pinned keys; and a second start
// on the same directory, which finds everything in place.

describe('the federation demo on one machine', { timeout: 600_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-federation-demo-'));
  const drops: Array<() => Promise<void>> = [];
  const urls = new Map<string, string>();
  let plans: NodePlan[];
  let federation: Federation | null = null;
  const lines: string[] = [];

  const start = () =>
    startFederation({
      dir,
      nodes: plans,
      pullSeconds: 1,
      ...(onPostgres() ? { databaseUrl: (party: string) => urls.get(party) } : {}),
      log: (line) => lines.push(line),
    });

  before(async () => {
    plans = [
      { party: 'LT', role: 'coordinator', port: await freePort() },
      { party: 'EE', role: 'national', port: await freePort() },
    ];
    if (onPostgres())
      for (const plan of plans) {
        const created = await createPostgresDatabase();
        urls.set(plan.party, created.url);
        drops.push(created.drop);
      }
  });

  after(async () => {
    await federation?.stop();
    for (const drop of drops) await drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts the nodes, each trusting the other under its pinned key, and both pull', async () => {
    federation = await start();
    const lt = federation.node('LT');
    const ee = federation.node('EE');
    assert.notEqual(lt.keyId, ee.keyId);

    const failures = await federation.pullAll();
    assert.deepEqual(failures, []);
    const eeAtLt = (await lt.peers()).find((p) => p.party === 'EE');
    const ltAtEe = (await ee.peers()).find((p) => p.party === 'LT');
    assert.equal(eeAtLt?.status, 'active');
    assert.equal(eeAtLt?.keyId, ee.keyId);
    assert.equal(eeAtLt?.role, 'national');
    assert.equal(ltAtEe?.status, 'active');
    assert.equal(ltAtEe?.keyId, lt.keyId);
    assert.equal(ltAtEe?.role, 'coordinator', "EE knows LT's node coordinates the force");
    for (const peer of [eeAtLt!, ltAtEe!]) {
      assert.ok(peer.lastOkAt, `${peer.party} was pulled: ${peer.lastError}`);
      assert.equal(peer.lag, 0);
    }
  });

  it('makes people who log in with the printed password, a coordinator only on the coordinating node', async () => {
    const lt = federation!.node('LT');
    const ee = federation!.node('EE');
    for (const [node, name] of [
      [ee, 'ee.poc'],
      [ee, 'ee.council'],
      [lt, 'lt.coordinator'],
    ] as const) {
      const login = await fetch(`${node.url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, password: DEMO_PASSWORD }),
      });
      assert.equal(login.status, 200, `${name} logs in at ${node.party}`);
    }
    assert.ok(!ee.people.some((p) => p.roles.includes('coordinator')));
    const me = await lt.api('GET', '/me', undefined, 'lt.coordinator');
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.deepEqual(me.body.roles, ['coordinator']);
    assert.equal(me.body.party, 'LT');
  });

  it('starts again on the same directory: same keys, same people, the peers kept', async () => {
    const before = federation!.nodes.map((n) => ({ party: n.party, keyId: n.keyId }));
    await federation!.stop();
    federation = null;
    lines.length = 0;

    federation = await start();
    assert.deepEqual(
      federation.nodes.map((n) => ({ party: n.party, keyId: n.keyId })),
      before,
    );
    assert.deepEqual(
      federation.nodes.flatMap((n) => n.created),
      [],
      'nobody is created twice',
    );
    assert.equal(lines.filter((line) => /trusted already/.test(line)).length, 2, lines.join('\n'));
    for (const node of federation.nodes) {
      const peers = await node.peers();
      assert.equal(peers.length, 1);
      assert.equal(peers[0]!.status, 'active');
    }
    assert.deepEqual(await federation.pullAll(), []);
  });
});
