import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { keyIdOf } from '../../platform/keys.ts';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { submitRequest, vote } from '../../test/requests.fixtures.ts';
import { deployTeam, registerAnalyst } from '../deployments/deployments.fixtures.ts';
import { issuePass } from './pass.ts';

const MEMBERS = ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'] as const;
const WINDOW = { from: '2026-11-24T06:00:00.000Z', to: '2026-11-29T06:00:00.000Z' };

describe('POST /passes/verify: a host pastes a pass and sees valid, revoked, expired or not ours', () => {
  let node: TestNode;
  let coordinator: TestUser;
  let analyst: TestUser;
  const pocs: Record<string, TestUser> = {};
  let deployment: Record<string, any>;
  let holder: string;
  let token: string;

  const call = (user: TestUser | null, method: 'GET' | 'POST', url: string, payload?: object) =>
    node.request({
      method,
      url: `/api/v1${url}`,
      ...(user ? { headers: user.headers } : {}),
      ...(payload ? { payload } : {}),
    });
  const verify = async (text: string) => {
    const res = await call(analyst, 'POST', '/passes/verify', { token: text });
    assert.equal(res.statusCode, 200, res.body);
    return json(res);
  };

  before(async () => {
    node = await startTestNode();
    coordinator = await node.user('duty.officer', 'PL', ['coordinator']);
    analyst = await node.user('hr.analyst', 'HR', ['analyst']);
    const council: Record<string, TestUser> = {};
    for (const party of MEMBERS) {
      council[party] = await node.user(`${party.toLowerCase()}.council`, party, ['council']);
      pocs[party] = await node.user(`${party.toLowerCase()}.poc`, party, ['poc']);
    }
    await registerAnalyst(node, pocs.LT!, 'LT', 'Ona Forensic (LT)');
    await registerAnalyst(node, pocs.EE!, 'EE', 'Kadri Forensic (EE)');
    const request = await submitRequest(node, pocs.LT!, { window: WINDOW });
    for (const party of request.council.electorate) {
      if (json(await vote(node, council[party]!, request.id, 'activate')).status !== 'voting') break;
    }
    deployment = await deployTeam(node, request.id, { coordinator, host: pocs.LT!, pocs });
    holder = deployment.members.find((m: any) => m.party === 'EE').responderId;
    const pass = await call(pocs.EE!, 'GET', `/deployments/${deployment.id}/passes/${holder}`);
    assert.equal(pass.statusCode, 200, pass.body);
    token = json(pass).pass;
  });
  after(() => node.close());

  it('says valid, with who, for which deployment and until when — pasted as is or inside the QR text', async () => {
    const during = new Date('2026-11-25T12:00:00Z').getTime() - node.clock.now().getTime();
    node.clock.advance(during);
    const valid = await verify(token);
    assert.equal(valid.verdict, 'valid', valid.reason);
    assert.equal(valid.claims.responderName, 'Kadri Forensic (EE)');
    assert.equal(valid.claims.hostParty, 'LT');
    assert.equal(valid.claims.deploymentId, deployment.id);
    assert.equal(valid.claims.expiresAt, WINDOW.to);
    assert.equal(valid.signer.kind, 'this-node');
    assert.equal(valid.revocation.checked, true);
    assert.equal((await verify(`  pass: ${token}\n`)).verdict, 'valid');
  });

  it('refuses what is no pass, or not ours, as a verdict — never a 500', async () => {
    assert.equal((await verify('hello')).verdict, 'invalid');
    const [h, p, s] = token.split('.');
    const altered = `${h}.${p}.${s!.slice(0, -4)}AAAA`;
    const bad = await verify(altered);
    assert.equal(bad.verdict, 'invalid');
    assert.match(bad.reason, /bad signature/);
    assert.equal(bad.claims, null, 'an altered pass says nothing of whom it names');

    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    const other = await issuePass(
      { keyId: keyIdOf(publicKey), privateKey, publicKey },
      {
        responderId: holder,
        responderName: 'Someone Else',
        homeParty: 'EE',
        hostParty: 'LT',
        deploymentId: deployment.id,
        requestId: deployment.requestId,
        window: WINDOW,
        skills: [],
        exercise: false,
      },
      node.clock.now(),
    );
    const foreign = await verify(other);
    assert.equal(foreign.verdict, 'unknown-signer', foreign.reason);
    assert.equal(foreign.claims, null);
  });

  it('answers 401 without an account and 400 for a body that is not {token}', async () => {
    assert.equal((await call(null, 'POST', '/passes/verify', { token })).statusCode, 401);
    const extra = await call(analyst, 'POST', '/passes/verify', { token, more: 1 });
    assert.equal(extra.statusCode, 400);
    const missing = await call(analyst, 'POST', '/passes/verify', {});
    assert.equal(missing.statusCode, 400);
    assert.ok(
      json(missing).error.details.some((d: { field: string }) => d.field === 'body/token'),
      missing.body,
    );
  });

  it('a decline and a revocation need a reason (a 400 naming it); the reason is on the timeline and in the audit', async () => {
    const decline = await call(pocs.EE!, 'POST', `/deployments/${deployment.id}/members/${holder}/release`, {
      decision: 'decline',
    });
    assert.equal(decline.statusCode, 400, decline.body);
    assert.deepEqual(
      json(decline).error.details.map((d: { field: string }) => d.field),
      ['body/reason'],
    );
    const url = `/deployments/${deployment.id}/passes/${holder}/revoke`;
    const bare = await call(pocs.EE!, 'POST', url, {});
    assert.equal(bare.statusCode, 400, bare.body);
    assert.match(bare.body, /reason/);
    const blank = await call(pocs.EE!, 'POST', url, { reason: '   ' });
    assert.equal(blank.statusCode, 400, blank.body);
    assert.equal(
      (await call(pocs.EE!, 'POST', url, { reason: 'badge lost at the airport' })).statusCode,
      200,
    );

    const revoked = await verify(token);
    assert.equal(revoked.verdict, 'revoked');
    assert.equal(
      revoked.claims.responderName,
      'Kadri Forensic (EE)',
      'a revoked pass still says whose it is',
    );

    const timeline = json(await call(pocs.LT!, 'GET', `/requests/${deployment.requestId}/timeline`)).items;
    const entry = timeline.find((e: any) => e.kind === 'pass.revoked');
    assert.equal(entry.detail.reason, 'badge lost at the airport');
    const audit = json(
      await call(
        await node.user('auditor', 'PL', ['auditor']),
        'GET',
        `/audit?objectId=${deployment.id}&limit=50`,
      ),
    );
    const event = audit.items.find((e: any) => e.action === 'pass.revoke');
    assert.equal(event?.summary.reason, 'badge lost at the airport', JSON.stringify(audit.items.slice(0, 3)));

    // The EE member's pass is gone: their deployment page says so (no more revoking it).
    const seen = json(await call(pocs.EE!, 'GET', `/deployments/${deployment.id}`));
    assert.equal(seen.members.find((m: any) => m.responderId === holder).can.revokePass, false);
  });

  it('a stand-down takes a reason, on the timeline; the passes are then revoked, and expire after the window', async () => {
    const down = await call(coordinator, 'POST', `/deployments/${deployment.id}/status`, {
      status: 'stood_down',
      reason: 'the incident is contained',
    });
    assert.equal(down.statusCode, 200, down.body);
    const timeline = json(await call(pocs.LT!, 'GET', `/requests/${deployment.requestId}/timeline`)).items;
    const entry = timeline.find((e: any) => e.kind === 'deployment.stood_down');
    assert.equal(entry.detail.reason, 'the incident is contained');
    node.clock.advance(10 * 86_400_000);
    const late = await verify(token);
    assert.ok(['expired', 'revoked'].includes(late.verdict), late.reason);
  });
});
