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
  const verify = (
    token: string,
    extra: { nodeUrl?: string; checkedAt?: Date; maxAgeMs?: number; fetch?: typeof fetch } = {},
  ) =>
    passVerifyCommand({
      token,
      nodeUrl: extra.nodeUrl ?? nodeUrl,
      dataDir: () => {
        throw new Error('with --node, no local key is read');
      },
      now: DURING,
      // The list's age is judged by the verifier's clock: here, the node's own unless told otherwise.
      checkedAt: extra.checkedAt ?? node.clock.now(),
      ...(extra.maxAgeMs ? { maxAgeMs: extra.maxAgeMs } : {}),
      ...(extra.fetch ? { fetch: extra.fetch } : {}),
    });
  let deployment: Record<string, any>;
  let lost: string;
  let kept: string;

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
    deployment = json(adopted);
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
    [lost, kept] = passes as [string, string];

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

  it('`pass verify --node` refuses a list signed too long ago (saying how old) and an oversized answer; a fresh one passes', async () => {
    const hour = 3_600_000;
    const fresh = await verify(kept);
    assert.equal(fresh.exitCode, 0, fresh.stderr);
    const { issuedAt } = json(await node.request({ method: 'GET', url: '/api/v1/passes/revocations' }));

    // The verifier's clock a day and an hour later: what a cache or mirror serving an old copy looks like.
    const later = new Date(node.clock.now().getTime() + 25 * hour);
    const stale = await verify(kept, { checkedAt: later });
    assert.equal(stale.exitCode, 1);
    assert.equal(stale.stdout, '');
    assert.match(
      stale.stderr,
      new RegExp(
        `^the revocation list from ${nodeUrl}/api/v1/passes/revocations is too old to trust: it was signed at ${issuedAt}, 2[56] h ago, and at most 24 h is accepted \\(--max-age\\)`,
      ),
    );
    const allowed = await verify(kept, { checkedAt: later, maxAgeMs: 48 * hour });
    assert.equal(allowed.exitCode, 0, allowed.stderr);

    // An answer that does not end (here: a valid list followed by 64 MiB of blanks) is cut, not parsed.
    const list = (await node.request({ method: 'GET', url: '/api/v1/passes/revocations' })).body;
    const keys = (await node.request({ method: 'GET', url: '/api/v1/node/keys' })).body;
    const blanks = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const endless: typeof fetch = async (input) => {
      const url = String(input);
      if (url.endsWith('/node/keys'))
        return new Response(keys, { headers: { 'content-type': 'application/json' } });
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(list));
        },
        pull(controller) {
          if (sent++ < 64) controller.enqueue(blanks);
          else controller.close();
        },
      });
      return new Response(body, { headers: { 'content-type': 'application/json' } });
    };
    const oversized = await verify(kept, { fetch: endless });
    assert.equal(oversized.exitCode, 1);
    assert.equal(oversized.stderr, `${nodeUrl}/api/v1/passes/revocations is larger than 8388608 bytes\n`);
    assert.ok(sent <= 10, `reading stopped at the bound (${sent} MiB sent)`);
  });

  it('is signed once per change: one ETag and a 304 until a revocation, signed again hourly, and expired passes leave it', async () => {
    const fetchList = (headers: Record<string, string> = {}) =>
      node.request({ method: 'GET', url: '/api/v1/passes/revocations', headers });
    const first = await fetchList();
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers['cache-control'], 'no-cache');
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[A-Za-z0-9_-]{27}"$/);

    node.clock.advance(10 * 60_000);
    const second = await fetchList();
    assert.equal(second.headers.etag, etag, 'unchanged list, same signed copy');
    assert.equal(json(second).signed, json(first).signed);
    assert.equal(json(second).issuedAt, json(first).issuedAt);
    const notModified = await fetchList({ 'if-none-match': etag });
    assert.equal(notModified.statusCode, 304);
    assert.equal(notModified.body, '');
    assert.equal(notModified.headers.etag, etag);
    assert.equal((await fetchList({ 'if-none-match': `"other", W/${etag}` })).statusCode, 304);
    assert.equal((await fetchList({ 'if-none-match': '"other"' })).statusCode, 200);

    // Signed again within the hour even when nothing changed, so verifiers' freshness bound holds.
    node.clock.advance(55 * 60_000);
    const resigned = await fetchList({ 'if-none-match': etag });
    assert.equal(resigned.statusCode, 200);
    assert.notEqual(resigned.headers.etag, etag);
    assert.equal(
      json(resigned).issuedAt,
      node.clock
        .now()
        .toISOString()
        .replace(/\.\d{3}Z$/, '.000Z'),
    );
    assert.deepEqual(json(resigned).revoked, [passIdOf(lost)]);

    // A new revocation: the next fetch gets a new list, whatever it sent.
    // `kept` is the second member's pass (passes were fetched in member order).
    const revoked = await call(
      poc.LT!,
      'POST',
      `/deployments/${deployment.id}/passes/${deployment.members[1].responderId}/revoke`,
      { reason: 'left the team' },
    );
    assert.equal(revoked.statusCode, 200, revoked.body);
    const changed = await fetchList({ 'if-none-match': String(resigned.headers.etag) });
    assert.equal(changed.statusCode, 200);
    assert.deepEqual([...json(changed).revoked].sort(), [passIdOf(lost), passIdOf(kept)].sort());
    const updatedAt = json(changed).updatedAt;

    // Once the passes have expired (their deployment's window ended) and a day more, they leave the list.
    const windowEnd = Date.parse(
      json(await call(coordinator, 'GET', `/deployments/${deployment.id}`)).window.to,
    );
    node.clock.set(new Date(windowEnd + 23 * 3_600_000));
    assert.equal(json(await fetchList()).revoked.length, 2);
    node.clock.set(new Date(windowEnd + 24 * 3_600_000 + 1_000));
    const trimmed = json(await fetchList());
    assert.deepEqual(trimmed.revoked, []);
    assert.equal(trimmed.updatedAt, updatedAt, 'still says when the list last changed');
    const documented = json(await node.request({ method: 'GET', url: '/openapi.json' })).paths[
      '/api/v1/passes/revocations'
    ].get;
    assert.match(documented.description, /revoked passes that have not expired/);
    assert.ok(documented.responses['304']);
  });
});
