import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, type TestUser } from '../../../test/harness.ts';
import { submitRequest } from '../../../test/requests.fixtures.ts';
import { signPage } from '../change-feed.ts';
import { feedCarrier, type Party, peerOf, startParty } from '../federation.fixtures.ts';
import { REGISTRY_ID } from './loop-types.ts';

// The parties, their statuses and the framework are the coordinating node's (LT): they flow to
// every node, which judges eligibility on them, and no other node may speak for them.

const api = '/api/v1';

describe('the registry from the coordinating node', () => {
  let lt: Party;
  let ro: Party;
  let ee: Party;
  let ltAdmin: TestUser;
  let roAdmin: TestUser;
  let roPoc: TestUser;
  let roAuditor: TestUser;
  const { sync } = feedCarrier();

  const get = (party: Party, user: TestUser, url: string) =>
    party.node.request({ method: 'GET', url: `${api}${url}`, headers: user.headers });
  const changeStatus = (party: Party, admin: TestUser, code: string, status: string) =>
    party.node.request({
      method: 'POST',
      url: `${api}/parties/${code}/statuses`,
      headers: admin.headers,
      payload: { status, from: '2026-11-23', note: 'council decision' },
    });

  before(async () => {
    // One after another, so that a node that did start is closed by `after` when the next one fails.
    lt = await startParty('LT', 'coordinator');
    ro = await startParty('RO');
    ee = await startParty('EE');
    ltAdmin = await lt.node.user('lt.admin', 'LT', ['admin']);
    roAdmin = await ro.node.user('ro.admin', 'RO', ['admin']);
    roPoc = await ro.node.user('ro.poc', 'RO', ['poc']);
    roAuditor = await ro.node.user('ro.auditor', 'RO', ['auditor']);
  });
  after(async () => {
    await Promise.all([lt, ro, ee].map((p) => p?.node.close()));
  });

  it("LT changes a party's status; RO applies it and judges eligibility on it", async () => {
    const changed = await changeStatus(lt, ltAdmin, 'RO', 'external');
    assert.equal(changed.statusCode, 201, changed.body);
    assert.equal(json(await get(ro, roPoc, '/parties/RO')).status, 'member', 'not yet carried');

    const carried = await sync(lt, ro);
    assert.equal(carried.refused, 0);
    const party = json(await get(ro, roPoc, '/parties/RO'));
    assert.equal(party.status, 'external');
    assert.deepEqual(
      party.statusHistory.map((h: any) => [h.status, h.from, h.note]),
      [
        ['member', '2018-03-06', 'seed membership'],
        ['external', '2026-11-23', 'council decision'],
      ],
    );
    const request = await submitRequest(ro.node, roPoc, { location: { country: 'RO', city: 'Cluj' } });
    assert.equal(request.status, 'ineligible');
    assert.match(JSON.stringify(request.eligibility.reasons), /external/);

    // The same registry everywhere: frameworks too.
    assert.deepEqual(
      json(await get(ro, roPoc, '/framework/versions')),
      json(await get(lt, ltAdmin, '/framework/versions')),
    );
    const audited = await ro.node.services.audit.page({ action: 'federation.registry.apply' }, 'asc', 10);
    assert.equal(audited.items.length, 1);
    assert.equal((audited.items[0]!.summary as { statuses: number }).statuses, 1);
  });

  it('an older registry carried again changes nothing', async () => {
    const older = await lt.node.services.federation.feed.page('RO', 0, 1000, 'national');
    const registry = older.changes.find((c) => c.type === 'registry')!;
    assert.ok(registry);
    const reverted = await lt.node.request({
      method: 'POST',
      url: `${api}/parties/RO/statuses`,
      headers: ltAdmin.headers,
      payload: { status: 'member', from: '2026-11-24' },
    });
    assert.equal(reverted.statusCode, 201, reverted.body);
    await sync(lt, ro);
    const history = () =>
      get(ro, roPoc, '/parties/RO').then((r) => json(r).statusHistory.map((h: any) => h.status));
    assert.deepEqual(await history(), ['member', 'external', 'member']);

    const peer = peerOf(lt, 0);
    const result = await ro.node.services.federation.feed.apply(peer, [{ ...registry, version: 1 }], {
      from: 0,
      to: 1,
    });
    assert.equal(result.applied, 0);
    assert.deepEqual(await history(), ['member', 'external', 'member']);
  });

  it('RO refuses a registry from EE, a national node, and audits it', async () => {
    const fromLt = (await lt.node.services.federation.feed.page('RO', 0, 1000, 'national')).changes.find(
      (c) => c.type === 'registry',
    )!;
    const statuses = (fromLt.data!.statuses as { party_code: string; status: string }[]).map((s) =>
      s.party_code === 'EE' ? { ...s, status: 'external' } : s,
    );
    const forged = { ...fromLt, origin: 'EE', version: 1, data: { ...fromLt.data, statuses } };
    const page = signPage(ee.node.services.key, {
      party: 'EE',
      after: 0,
      head: 1,
      next: 1,
      more: false,
      changes: [forged],
    });
    const peer = peerOf(ee, 0);
    const { versions } = ro.node.services.federation.feed.checkPage(peer, JSON.parse(JSON.stringify(page)));
    const result = await ro.node.services.federation.feed.apply(peer, versions, { from: 0, to: 1 });
    assert.deepEqual([result.applied, result.refused], [0, 1]);
    assert.equal(json(await get(ro, roPoc, '/parties/EE')).status, 'member');
    const audited = JSON.stringify(json(await get(ro, roAuditor, '/audit?action=federation.change.refused')));
    assert.ok(audited.includes(REGISTRY_ID), audited.slice(0, 400));
    assert.ok(
      audited.includes(
        "EE's node is not the coordinating node: only the coordinating node speaks for the parties and the framework",
      ),
      audited.slice(0, 400),
    );
  });

  it('a malformed registry is refused on its own, audited, and nothing of it is written', async () => {
    const fromLt = (await lt.node.services.federation.feed.page('RO', 0, 1000, 'national')).changes.find(
      (c) => c.type === 'registry',
    )!;
    const orphan = {
      ...fromLt.data,
      statuses: [{ ...(fromLt.data!.statuses as object[])[0], party_code: 'ZZ' }],
    };
    const page = signPage(lt.node.services.key, {
      party: 'LT',
      after: 0,
      head: fromLt.version,
      next: fromLt.version,
      more: false,
      changes: [{ ...fromLt, data: orphan }],
    });
    // The page is sound (signed, in order): the document alone is refused, so it holds back nothing else.
    const peer = peerOf(lt, 0);
    const { versions } = ro.node.services.federation.feed.checkPage(peer, JSON.parse(JSON.stringify(page)));
    const result = await ro.node.services.federation.feed.apply(peer, versions, {
      from: 0,
      to: fromLt.version,
    });
    assert.deepEqual([result.applied, result.refused], [0, 1]);
    const orphans = await ro.node.database.db
      .selectFrom('party_statuses')
      .select('id')
      .where('party_code', '=', 'ZZ')
      .execute();
    assert.equal(orphans.length, 0);
    const audited = JSON.stringify(json(await get(ro, roAuditor, '/audit?action=federation.change.refused')));
    assert.match(audited, /gives a status to ZZ, which it does not list/);
  });

  it('once RO has a coordinating peer, its own status and framework changes are refused, naming LT', async () => {
    // Without a coordinating peer, RO's node keeps its own registry, as a node that is not federated.
    await ro.node.database.db.deleteFrom('federation_peers').where('role', '=', 'coordinator').execute();
    const before = await changeStatus(ro, roAdmin, 'MD', 'observer');
    assert.equal(before.statusCode, 201, before.body);

    await ro.node.database.db
      .insertInto('federation_peers')
      .values({
        party_code: 'LT',
        url: 'http://lt.invalid',
        role: 'coordinator',
        key_id: lt.node.services.key.keyId,
        public_key: JSON.stringify(lt.node.services.key.publicKey.export({ format: 'jwk' })),
        descriptor: '{}',
        status: 'active',
        added_at: ro.node.clock.now(),
        added_by: 'ro.admin',
      })
      .execute();
    const refused = await changeStatus(ro, roAdmin, 'UA', 'observer');
    assert.equal(refused.statusCode, 409, refused.body);
    assert.match(
      json(refused).error.message,
      /party statuses are kept by LT's coordinating node and flow from there/,
    );
    assert.equal(json(await get(ro, roPoc, '/parties/UA')).status, 'partner');

    const framework = json(await get(ro, roAdmin, '/framework'));
    const publish = await ro.node.request({
      method: 'POST',
      url: `${api}/framework/versions`,
      headers: roAdmin.headers,
      payload: { effectiveFrom: '2027-01-01T00:00:00Z', rules: framework.rules, note: 'local' },
    });
    assert.equal(publish.statusCode, 409, publish.body);
    assert.match(json(publish).error.message, /framework versions are kept by LT's coordinating node/);
  });
});
