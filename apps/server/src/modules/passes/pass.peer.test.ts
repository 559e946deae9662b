import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { vytisCommand } from '../../cli/vytis-command.fixtures.ts';
import {
  createDurableStorage,
  type DurableStorage,
  json,
  startTestNode,
  type TestUser,
} from '../../test/harness.ts';
import { submitRequest, vote } from '../../test/requests.fixtures.ts';
import { deployTeam, registerAnalyst } from '../deployments/deployments.fixtures.ts';
import { feedCarrier, type Party, startParty } from '../federation/federation.fixtures.ts';

// `vytis pass verify TOKEN --peer LT` as RO's operator types it at the door: the real CLI in its own
// process, on RO's data directory, with no call to LT — LT's pinned key and the revocation list LT's
// feed brought to RO, as fresh as RO's last successful pull of LT.

/** Inside the mission window of the default request (the node's clock is before it starts). */
const AT_THE_DOOR = '2026-11-25T12:00:00Z';

function run(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, vytisCommand(args), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('vytis pass verify --peer', () => {
  let lt: Party;
  let ro: Party;
  let storage: DurableStorage;
  let coordinator: TestUser;
  let deploymentId: string;
  const passes: Record<string, string> = {};
  const { sync } = feedCarrier();

  const openRo = async () => {
    const node = await startTestNode({
      federation: { party: 'RO', role: 'national', pullSeconds: 3600 },
      storage,
    });
    ro = { code: 'RO', role: 'national', node, analyst: undefined as unknown as TestUser };
  };
  /** RO's record of its last successful pull of LT, as its puller keeps it. */
  const pulledLt = (at: Date) =>
    sql`update federation_peers set last_ok_at = ${at} where party_code = 'LT'`.execute(ro.node.database.db);
  const verify = (token: string, ...args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env, VYTIS_DATA_DIR: storage.dataDir };
    if (storage.databaseUrl) env.DATABASE_URL = storage.databaseUrl;
    else delete env.DATABASE_URL;
    return run(['pass', 'verify', token, '--at', AT_THE_DOOR, ...args], env);
  };
  const revoke = async (responderId: string) => {
    const res = await lt.node.request({
      method: 'POST',
      url: `/api/v1/deployments/${deploymentId}/passes/${responderId}/revoke`,
      headers: coordinator.headers,
      payload: { reason: 'recalled home' },
    });
    assert.equal(res.statusCode, 200, res.body);
  };

  before(async () => {
    storage = await createDurableStorage();
    lt = await startParty('LT', 'coordinator');
    await openRo();
    // A team deployed on LT's own node, with two passes.
    coordinator = await lt.node.user('lt.duty', 'LT', ['coordinator']);
    const poc = await lt.node.user('lt.poc', 'LT', ['poc']);
    for (const name of ['Ona Petraitė', 'Tomas Kazlauskas']) await registerAnalyst(lt.node, poc, 'LT', name);
    const request = await submitRequest(lt.node, poc);
    for (const party of request.council.electorate as string[]) {
      const voter = await lt.node.user(`${party.toLowerCase()}.council`, party, ['council']);
      if (json(await vote(lt.node, voter, request.id, 'activate')).status !== 'voting') break;
    }
    const deployment = await deployTeam(lt.node, request.id, { coordinator, host: poc, pocs: { LT: poc } });
    deploymentId = deployment.id;
    for (const member of deployment.members as { responderId: string }[]) {
      const res = await lt.node.request({
        method: 'GET',
        url: `/api/v1/deployments/${deploymentId}/passes/${member.responderId}`,
        headers: coordinator.headers,
      });
      assert.equal(res.statusCode, 200, res.body);
      passes[member.responderId] = json(res).pass;
    }
    // RO trusts LT (vytis peer add) and PL, whose node issues no passes.
    for (const peer of [lt, await startParty('PL')]) {
      await ro.node.database.db
        .insertInto('federation_peers')
        .values({
          party_code: peer.code,
          url: `https://${peer.code.toLowerCase()}.example`,
          role: peer.role,
          key_id: peer.node.services.key.keyId,
          public_key: JSON.stringify(peer.node.services.key.publicKey.export({ format: 'jwk' })),
          descriptor: '{}',
          added_at: new Date(),
          added_by: 'ro.admin',
        })
        .execute();
      if (peer !== lt) await peer.node.close();
    }
  });
  after(async () => {
    await Promise.all([lt?.node.close(), ro?.node.close()]);
    await storage?.destroy();
  });

  it('says clearly when the peer is unknown, or has sent no list yet', async () => {
    await ro.node.close();
    const [first] = Object.values(passes);
    const unknown = await verify(first!, '--peer', 'FI');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /this node has no peer FI/);
    const none = await verify(first!, '--peer', 'LT');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /holds no revocation list of LT/);
    const both = await verify(first!, '--peer', 'LT', '--node', 'https://lt.example');
    assert.equal(both.code, 1);
    assert.match(both.stderr, /give no --key, --revoked nor --node with it/);
  });

  it("verifies a pass with LT's pinned key and the list LT's feed brought, saying how fresh it is", async () => {
    await openRo();
    const [first, second] = Object.keys(passes);
    await revoke(second!);
    await sync(lt, ro);
    await pulledLt(new Date());
    await ro.node.close();
    const valid = await verify(passes[first!]!, '--peer', 'LT');
    assert.equal(valid.code, 0, valid.stderr);
    assert.match(valid.stdout, /^valid responder pass/);
    assert.match(valid.stdout, /the revocation list of LT this node holds, signed by key/);
    assert.match(valid.stdout, /1 revoked pass\); as fresh as this node's last successful pull of that peer/);
    const revoked = await verify(passes[second!]!, '--peer', 'LT');
    assert.equal(revoked.code, 1);
    assert.match(revoked.stderr, /invalid pass: pass .* was revoked/);
  });

  it('says revoked once LT revokes and RO pulls again; refuses a list from a pull too long ago', async () => {
    await openRo();
    const [first] = Object.keys(passes);
    await revoke(first!);
    await sync(lt, ro);
    await pulledLt(new Date(Date.now() - 30 * 3_600_000));
    await ro.node.close();
    const stale = await verify(passes[first!]!, '--peer', 'LT');
    assert.equal(stale.code, 1);
    assert.match(
      stale.stderr,
      /too old to trust: this node last pulled LT's feed successfully at .*, 30 h ago, and at most 24 h/,
    );
    const accepted = await verify(passes[first!]!, '--peer', 'LT', '--max-age', '2d');
    assert.equal(accepted.code, 1);
    assert.match(accepted.stderr, /invalid pass: pass .* was revoked/);
  });
});
