import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sampleRoster } from '../../cli/demo-roster.ts';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { submitRequest, vote } from '../../test/requests.fixtures.ts';
import { passVerifyCommand } from './pass.command.ts';
import { type PassKeys, passIdOf, verifyRevocationList } from './pass.ts';

const MEMBERS = ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'] as const;
const DURING = new Date('2026-11-25T00:00:00Z');

describe('the revocation list: public, signed, and what `vytis pass verify --node` checks', () => {
  let node: TestNode;
  let nodeUrl: string;
  let coordinator: TestUser;
  const poc: Record<string, TestUser> = {};
  const council: Record<string, TestUser> = {};

  const call = (user: TestUser, method: 'GET' | 'POST', url: string, payload?: object) =>
    node.request({ method, url: `/api/v1${url}`, headers: user.headers, ...(payload ? { payload } : {}) });
  const verify = (token: string, extra: { nodeUrl?: string } = {}) =>
    passVerifyCommand({
      token,
      nodeUrl: extra.nodeUrl ?? nodeUrl,
      dataDir: () => {
        throw new Error('with --node, no local key is read');
      },
      now: DURING,
    });

  before(async () => {
    node = await startTestNode();
    coordinator = await node.user('duty.officer', 'LT', ['coordinator']);
    for (const party of MEMBERS) {
      poc[party] = await node.user(`${party.toLowerCase()}.poc`, party, ['poc']);
      council[party] = await node.user(`${party.toLowerCase()}.council`, party, ['council']);
    }
    for (const person of sampleRoster(36)) {
      const res = await call(poc[person.party]!, 'POST', '/responders', person);
      assert.equal(res.statusCode, 201, res.body);
    }
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    nodeUrl = `http://127.0.0.1:${(node.app.server.address() as AddressInfo).port}`;
  });
  after(() => node.close());

  it('is served to anyone, without an account, signed by the key GET /node/keys publishes', async () => {
    const response = await node.request({ method: 'GET', url: '/api/v1/passes/revocations' });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['cache-control'], 'no-cache');
    const list = json(response);
    assert.deepEqual(list.revoked, []);
    assert.equal(list.updatedAt, null);
    assert.equal(list.keyId, node.services.key.keyId);
    const jwks = json(await node.request({ method: 'GET', url: '/api/v1/node/keys' }));
    const verified = await verifyRevocationList(list.signed, jwks as PassKeys);
    assert.ok(verified.ok, verified.ok ? '' : verified.reason);
    assert.deepEqual(verified.list.revoked, []);
    assert.equal(verified.list.issuedAt, list.issuedAt);
    const documented = json(await node.request({ method: 'GET', url: '/openapi.json' })).paths[
      '/api/v1/passes/revocations'
    ].get;
    assert.deepEqual(documented.security, [], 'the API document says it needs no credential');
  });

  it('lists a revoked pass, and `pass verify --node` refuses it while accepting the others', async () => {
    const request = await submitRequest(node, poc.LT!, {
      mode: 'remote',
      needs: [{ skill: 'digital-forensics', count: 2, minLevel: 1 }],
    });
    for (const party of request.council.electorate) {
      const res = await vote(node, council[party]!, request.id, 'activate');
      if (json(res).status !== 'voting') break;
    }
    const proposal = json(await call(coordinator, 'POST', `/requests/${request.id}/team-proposals`));
    assert.equal(proposal.feasible, true, JSON.stringify(proposal));
    const adopted = await call(
      coordinator,
      'POST',
      `/requests/${request.id}/team-proposals/${proposal.id}/adopt`,
    );
    assert.equal(adopted.statusCode, 201, adopted.body);
    const deployment = json(adopted);
    for (const member of deployment.members) {
      const res = await call(
        poc[member.party]!,
        'POST',
        `/deployments/${deployment.id}/members/${member.responderId}/release`,
        { decision: 'release' },
      );
      assert.equal(res.statusCode, 200, res.body);
    }
    const accepted = await call(poc.LT!, 'POST', `/deployments/${deployment.id}/acceptance`, {
      personnelStatus: 'Responders act under the CRRT MoU, Annex B',
      access: 'SOC network, remotely',
      liabilityAgreementSha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    assert.equal(accepted.statusCode, 200, accepted.body);
    const passes: string[] = [];
    for (const member of deployment.members) {
      const res = await call(poc.LT!, 'GET', `/deployments/${deployment.id}/passes/${member.responderId}`);
      assert.equal(res.statusCode, 200, res.body);
      passes.push(json(res).pass);
    }
    const [lost, kept] = passes as [string, string];

    const before = await verify(lost);
    assert.equal(before.exitCode, 0, before.stderr);
    assert.match(
      before.stdout,
      new RegExp(
        `revocation: checked against ${nodeUrl}/api/v1/passes/revocations, signed by key ${node.services.key.keyId} at \\S+ \\(0 revoked passes\\)`,
      ),
    );
    assert.equal(before.stderr, '');

    const revoked = await call(
      poc.LT!,
      'POST',
      `/deployments/${deployment.id}/passes/${deployment.members[0].responderId}/revoke`,
      { reason: 'badge lost' },
    );
    assert.equal(revoked.statusCode, 200, revoked.body);
    const list = json(await node.request({ method: 'GET', url: '/api/v1/passes/revocations' }));
    assert.deepEqual(list.revoked, [passIdOf(lost)]);
    assert.ok(list.updatedAt);

    const refused = await verify(lost);
    assert.equal(refused.exitCode, 1);
    assert.equal(refused.stderr, `invalid pass: pass ${passIdOf(lost)} was revoked\n`);
    const other = await verify(kept, { nodeUrl: `${nodeUrl}/api/v1/` });
    assert.equal(other.exitCode, 0, other.stderr);
    assert.match(other.stdout, /\(1 revoked pass\)/);
  });
});
