import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { NewResponder } from '@vytis/contracts';
import { sql } from 'kysely';
import type { Ctx } from '../../../context.ts';
import { nodeKeyFromPrivatePem } from '../../../platform/keys.ts';
import { json, type TestUser } from '../../../test/harness.ts';
import { submitRequest } from '../../../test/requests.fixtures.ts';
import { mirroredPass } from '../../passes/mirrored-pass.ts';
import { signRevocationList, verifyRevocationList } from '../../passes/pass.ts';
import { signPage } from '../change-feed.ts';
import { feedCarrier, type Party, peerOf, startParty } from '../federation.fixtures.ts';
import { REVOCATIONS_ID } from './loop-types.ts';

// The coordinating node (LT) adopts a team for RO's request from EE's and PL's responders. The host
// (RO) learns who comes; EE sees its own person in full and only PL's place; passes are signed on LT
// and reach the member's home and the host; LT's revocation list reaches every peer.

const api = '/api/v1';

const responder = (party: 'EE' | 'PL', name: string, skill: string): NewResponder => ({
  name,
  affiliation: 'civilian',
  skills: [{ skill: skill as 'digital-forensics', level: 3 }],
  languages: ['en'],
  clearance: 'confidential',
  base:
    party === 'EE'
      ? { city: 'Tallinn', country: 'EE', lat: 59.44, lon: 24.75, timeZone: 'Europe/Tallinn' }
      : { city: 'Warsaw', country: 'PL', lat: 52.23, lon: 21.01, timeZone: 'Europe/Warsaw' },
  readiness: { remoteHours: 2, onsiteHours: 12 },
  travelDocumentsUntil: '2030-01-01',
});

describe('the deployment and revocation documents between LT (coordinating), RO, EE and PL', () => {
  let lt: Party;
  let ro: Party;
  let ee: Party;
  let pl: Party;
  let ltCoordinator: TestUser;
  let roPoc: TestUser;
  let eePoc: TestUser;
  let plPoc: TestUser;
  let kadri: string;
  let mart: string;
  let jan: string;
  let requestId: string;
  let deploymentId: string;
  const { cursors, sync } = feedCarrier();

  const call = (party: Party, user: TestUser, method: 'GET' | 'POST', url: string, payload?: object) =>
    party.node.request({
      method,
      url: `${api}${url}`,
      headers: user.headers,
      ...(payload ? { payload } : {}),
    });
  const register = async (party: Party, poc: TestUser, person: NewResponder) => {
    const res = await call(party, poc, 'POST', '/responders', person);
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  };
  const audited = async (party: Party, action: string) => {
    const auditor = await party.node.user(
      `${party.code.toLowerCase()}.auditor.${crypto.randomUUID().slice(0, 6)}`,
      party.code,
      ['auditor'],
    );
    return (await call(party, auditor, 'GET', `/audit?action=${action}`)).body;
  };
  /** A page from `from` with these versions, signed by its key, applied by `to` as a pull would. */
  const forgedPage = async (from: Party, to: Party, changes: object[]) => {
    const cursor = cursors.get(`${from.code}->${to.code}`) ?? 0;
    const versioned = changes.map((c, i) => ({
      ...c,
      origin: from.code,
      version: cursor + 1 + i,
      caseId: null,
    }));
    const next = cursor + versioned.length;
    const page = signPage(from.node.services.key, {
      party: from.code,
      after: cursor,
      head: next,
      next,
      more: false,
      changes: versioned as never,
    });
    const peer = peerOf(from, cursor);
    const { versions } = to.node.services.federation.feed.checkPage(peer, JSON.parse(JSON.stringify(page)));
    return to.node.services.federation.feed.apply(peer, versions, { from: cursor, to: next });
  };

  before(async () => {
    // One after another, so that a node that did start is closed by `after` when the next one fails.
    lt = await startParty('LT', 'coordinator');
    ro = await startParty('RO');
    ee = await startParty('EE');
    pl = await startParty('PL');
    ltCoordinator = await lt.node.user('lt.duty', 'LT', ['coordinator']);
    roPoc = await ro.node.user('ro.poc', 'RO', ['poc']);
    eePoc = await ee.node.user('ee.poc', 'EE', ['poc']);
    plPoc = await pl.node.user('pl.poc', 'PL', ['poc']);
    kadri = await register(ee, eePoc, responder('EE', 'Kadri Tamm', 'digital-forensics'));
    mart = await register(ee, eePoc, responder('EE', 'Mart Kask', 'malware-analysis'));
    jan = await register(pl, plPoc, responder('PL', 'Jan Kowalski', 'digital-forensics'));
    await sync(ee, lt);
    await sync(pl, lt);

    // RO's request, activated on RO's node (the council's work is another document's), reaches LT.
    const request = await submitRequest(ro.node, roPoc, {
      mode: 'remote',
      location: { country: 'RO', city: 'Bucharest' },
      needs: [{ skill: 'digital-forensics', count: 2, minLevel: 2 }],
    });
    requestId = request.id;
    await sql`update requests set status = 'activated' where id = ${requestId}`.execute(ro.node.database.db);
    await sync(ro, lt);

    const proposal = await call(lt, ltCoordinator, 'POST', `/requests/${requestId}/team-proposals`);
    assert.equal(proposal.statusCode, 201, proposal.body);
    const adopted = await call(
      lt,
      ltCoordinator,
      'POST',
      `/requests/${requestId}/team-proposals/${json(proposal).id}/adopt`,
    );
    assert.equal(adopted.statusCode, 201, adopted.body);
    deploymentId = json(adopted).id;
    assert.deepEqual(
      json(adopted)
        .members.map((m: { responderId: string }) => m.responderId)
        .sort(),
      [kadri, jan].sort(),
    );
    // The team goes to the host and the home states; the home states then tell LT and RO who comes.
    for (const to of [ee, pl, ro]) await sync(lt, to);
    for (const from of [ee, pl]) {
      await sync(from, ro);
      await sync(from, lt);
    }
  });
  after(async () => {
    await Promise.all([lt, ro, ee, pl].map((p) => p?.node.close()));
  });

  it('shows the host who is proposed: names, party and skills, and no one else of theirs', async () => {
    const seen = await call(ro, roPoc, 'GET', `/deployments/${deploymentId}`);
    assert.equal(seen.statusCode, 200, seen.body);
    const members = json(seen).members as { responderId: string; name: string | null; party: string }[];
    assert.deepEqual(members.map((m) => [m.party, m.name]).sort(), [
      ['EE', 'Kadri Tamm'],
      ['PL', 'Jan Kowalski'],
    ]);
    const held = await sql<{ id: string; skills: unknown; clearance: string }>`
      select id, skills, clearance from responders where party_code in ('EE', 'PL') order by name`.execute(
      ro.node.database.db,
    );
    assert.deepEqual(
      held.rows.map((r) => r.id).sort(),
      [kadri, jan].sort(),
      "Mart, who is on no deployment, never reaches RO's node",
    );
    assert.deepEqual(held.rows[0]!.skills, [{ skill: 'digital-forensics', level: 3 }]);
  });

  it("a host's copy of a responder is never offered to a solver there", async () => {
    const roster = await sql<{ clearance: string; readiness: unknown; periods: number }>`
      select r.clearance, r.readiness,
        (select count(*)::int from responder_unavailability u where u.responder_id = r.id
          and u.starts_at <= now() and u.ends_at > now() + interval '50 years') as periods
      from responders r where r.id = ${kadri}`.execute(ro.node.database.db);
    assert.deepEqual(roster.rows[0], {
      clearance: 'none',
      readiness: { remoteHours: 720, onsiteHours: 720 },
      periods: 1,
    });
  });

  it("shows EE its own person in full and only PL's place", async () => {
    const seen = await call(ee, eePoc, 'GET', `/deployments/${deploymentId}`);
    assert.equal(seen.statusCode, 200, seen.body);
    const members = json(seen).members as { responderId: string; name: string | null; reasons: string[] }[];
    const own = members.find((m) => m.responderId === kadri)!;
    const place = members.find((m) => m.responderId === jan)!;
    assert.equal(own.name, 'Kadri Tamm');
    assert.ok(own.reasons.length > 0);
    assert.equal(place.name, null);
    const stored = await sql<{ name: string; reasons: unknown; mirrored_from: string }>`
      select r.name, m.reasons, m.mirrored_from from deployment_members m join responders r on r.id = m.responder_id
      where m.responder_id = ${jan}`.execute(ee.node.database.db);
    assert.deepEqual(stored.rows[0], { name: 'a responder of PL', reasons: [], mirrored_from: 'LT' });
  });

  it('gives the coordinating node the names of those proposed, and only theirs', async () => {
    const names = await sql<{ id: string; name: string }>`
      select id, name from responders where party_code = 'EE'`.execute(lt.node.database.db);
    const byId = new Map(names.rows.map((r) => [r.id, r.name]));
    assert.equal(byId.get(kadri), 'Kadri Tamm');
    assert.equal(byId.get(mart), `Responder EE-${mart.slice(0, 8)}`);
  });

  it("publishes the team on the host's request as live events there", async () => {
    await ro.node.services.notifier.sequence();
    const ctx: Ctx = {
      actor: { type: 'user', id: roPoc.id, name: roPoc.name, party: 'RO', roles: ['poc'] },
      requestId: null,
    };
    const events = await ro.node.services.events.since(ctx, 0, 10_000);
    const types = events.filter((e) => e.requestId === requestId).map((e) => e.type);
    assert.ok(types.includes('request.deployment.proposed'), types.join(', '));
    assert.equal(types.filter((t) => t === 'request.deployment.member.added').length, 2, types.join(', '));
  });

  it('refuses, and audits, a deployment from a national node', async () => {
    const result = await forgedPage(ee, ro, [
      {
        type: 'deployment',
        id: crypto.randomUUID(),
        at: '2026-11-23T12:00:00.000Z',
        data: {
          request_id: requestId,
          proposal_id: crypto.randomUUID(),
          host_party: 'RO',
          status: 'accepted',
          mode: 'remote',
          window_from: '2026-11-24T06:00:00.000Z',
          window_to: '2026-12-01T18:00:00.000Z',
          acceptance: null,
          created_at: '2026-11-23T12:00:00.000Z',
          updated_at: '2026-11-23T12:00:00.000Z',
          version: 1,
          members: [],
        },
      },
    ]);
    assert.equal(result.refused, 1);
    assert.equal(result.applied, 0);
    assert.match(
      await audited(ro, 'federation.change.refused'),
      /only the coordinating node assembles teams/,
    );
  });

  describe('passes and their revocation', () => {
    let kadriPass: { pass: string; passId: string; keyId: string };
    let janPass: { passId: string };

    before(async () => {
      // Released and accepted on LT (the intents that carry those decisions are another document's).
      await sql`update deployment_members set status = 'released' where deployment_id = ${deploymentId}`.execute(
        lt.node.database.db,
      );
      await sql`update deployments set status = 'accepted' where id = ${deploymentId}`.execute(
        lt.node.database.db,
      );
      const pass = async (id: string) => {
        const res = await call(lt, ltCoordinator, 'GET', `/deployments/${deploymentId}/passes/${id}`);
        assert.equal(res.statusCode, 200, res.body);
        return json(res) as { pass: string; passId: string; keyId: string };
      };
      kadriPass = await pass(kadri);
      janPass = await pass(jan);
      for (const to of [ee, pl, ro]) await sync(lt, to);
    });

    it("reach the host and the member's home as LT signed them, and no one else's", async () => {
      const atHost = await mirroredPass(ro.node.database.db, deploymentId, kadri);
      assert.equal(atHost.pass, kadriPass.pass);
      assert.equal(atHost.passId, kadriPass.passId);
      assert.equal(atHost.keyId, lt.node.services.key.keyId);
      assert.match(atHost.qrSvg, /^<svg/);
      assert.equal((await mirroredPass(ee.node.database.db, deploymentId, kadri)).pass, kadriPass.pass);
      await assert.rejects(
        mirroredPass(ee.node.database.db, deploymentId, jan),
        /has not issued this one yet/,
      );
    });

    it('carries LT’s signed list as soon as it holds a pass, and again when it revokes one', async () => {
      const held = (party: Party) =>
        sql<{ party: string; jws: string; revoked: number; key_id: string }>`
          select party, jws, revoked, key_id from federation_revocation_lists`.execute(
          party.node.database.db,
        );
      // A host checks passes against the list, empty or not: it comes with the first pass.
      await sync(lt, ro);
      assert.equal((await held(ro)).rows[0]?.revoked, 0);
      const revoked = await call(
        lt,
        ltCoordinator,
        'POST',
        `/deployments/${deploymentId}/passes/${jan}/revoke`,
        {
          reason: 'left the mission',
        },
      );
      assert.equal(revoked.statusCode, 200, revoked.body);
      for (const to of [ro, ee]) await sync(lt, to);
      for (const party of [ro, ee]) {
        const [row] = (await held(party)).rows;
        assert.equal(row?.party, 'LT');
        assert.equal(row.revoked, 1);
        assert.equal(row.key_id, lt.node.services.key.keyId);
        const list = await verifyRevocationList(
          row.jws,
          new Map([[lt.node.services.key.keyId, lt.node.services.key.publicKey]]),
        );
        assert.ok(list.ok);
        assert.deepEqual(list.list.revoked, [janPass.passId]);
      }
    });

    it('refuses a list signed by another key, and one from a node that issues no passes', async () => {
      const before = (
        await sql<{ jws: string }>`select jws from federation_revocation_lists where party = 'LT'`.execute(
          ro.node.database.db,
        )
      ).rows[0]!.jws;
      const impostor = nodeKeyFromPrivatePem(
        crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      );
      const emptied = await signRevocationList(
        impostor,
        { revoked: [], updatedAt: null },
        lt.node.clock.now(),
      );
      const fromLt = await forgedPage(lt, ro, [
        { type: 'revocations', id: REVOCATIONS_ID, at: '2026-11-23T12:00:00.000Z', data: { jws: emptied } },
      ]);
      assert.equal(fromLt.refused, 1);
      const fromEe = await forgedPage(ee, ro, [
        {
          type: 'revocations',
          id: REVOCATIONS_ID,
          at: '2026-11-23T12:00:00.000Z',
          data: {
            jws: await signRevocationList(ee.node.services.key, { revoked: [], updatedAt: null }, new Date()),
          },
        },
      ]);
      assert.equal(fromEe.refused, 1);
      const after = await sql<{ party: string; jws: string }>`
        select party, jws from federation_revocation_lists`.execute(ro.node.database.db);
      assert.deepEqual(after.rows, [{ party: 'LT', jws: before }]);
      const log = await audited(ro, 'federation.change.refused');
      assert.match(log, /a revocation list LT did not issue/);
      assert.match(log, /a revocation list EE did not issue/);
    });
  });
});
