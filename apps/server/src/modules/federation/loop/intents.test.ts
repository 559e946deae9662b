import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { json, type TestNode, type TestUser } from '../../../test/harness.ts';
import { submitRequest, vote } from '../../../test/requests.fixtures.ts';
import { registerAnalyst } from '../../deployments/deployments.fixtures.ts';
import { feedCarrier, type Party, startParty, trustPeer } from '../federation.fixtures.ts';

// A user acts on a copy; the node that speaks for the object applies it as if the user were there,
// and answers. RO files a request (RO's node speaks for it); EE's council member votes on EE's copy.
// LT, the coordinating node, keeps a team; EE's PoC acts on it from EE's node.

const api = '/api/v1';

/** `from`'s own rows of `table`, inserted in `to` as copies (where the document that carries them is not what is tested). */
async function copyRows(
  from: TestNode,
  to: TestNode,
  table: 'requests' | 'deployments' | 'deployment_members' | 'responders',
  column: string,
  value: string,
  origin: string,
) {
  const rows = (
    await sql<
      Record<string, unknown>
    >`select * from ${sql.table(table)} where ${sql.ref(column)} = ${value}`.execute(from.database.db)
  ).rows;
  await to.database.db.transaction().execute(async (trx) => {
    await sql`select set_config('vytis.federation_apply', 'on', true)`.execute(trx);
    for (const row of rows) {
      const values = Object.fromEntries(
        Object.entries(row).map(([k, v]) => [
          k,
          v !== null && typeof v === 'object' && !(v instanceof Date) ? JSON.stringify(v) : v,
        ]),
      );
      const held = await sql`select 1 from ${sql.table(table)} where ${sql.ref(column)} = ${value}`.execute(
        trx,
      );
      if (held.rows.length > 0 && table !== 'deployment_members') continue;
      await trx
        .insertInto(table as 'requests')
        .values({ ...values, mirrored_from: origin, mirror_version: 1 } as never)
        .execute();
    }
  });
}
const copyRow = (
  from: TestNode,
  to: TestNode,
  table: 'requests' | 'deployments',
  id: string,
  origin: string,
) => copyRows(from, to, table, 'id', id, origin);

async function audited(party: Party, action: string) {
  await party.node.services.audit.seal();
  const auditor = await party.node.user(
    `${party.code.toLowerCase()}.auditor.${crypto.randomUUID().slice(0, 6)}`,
    party.code,
    ['auditor'],
  );
  const res = await party.node.request({
    method: 'GET',
    url: `${api}/audit?action=${action}`,
    headers: auditor.headers,
  });
  assert.equal(res.statusCode, 200, res.body);
  return JSON.stringify(json(res));
}

describe('intents: what a user does on a copy is applied by the node that speaks for it', () => {
  let lt: Party;
  let ro: Party;
  let ee: Party;
  let roPoc: TestUser;
  let roCouncil: TestUser;
  let eeCouncil: TestUser;
  let requestId: string;
  const { sync } = feedCarrier();

  const get = (party: Party, user: TestUser, url: string) =>
    party.node.request({ method: 'GET', url: `${api}${url}`, headers: user.headers });

  before(async () => {
    // One after another, so that a node that did start is closed by `after` when the next one fails.
    lt = await startParty('LT', 'coordinator');
    ro = await startParty('RO');
    ee = await startParty('EE');
    for (const [at, peers] of [
      [lt, [ro, ee]],
      [ro, [lt, ee]],
      [ee, [lt, ro]],
    ] as const) {
      for (const peer of peers) await trustPeer(at, peer);
    }
    roPoc = await ro.node.user('ro.poc', 'RO', ['poc']);
    roCouncil = await ro.node.user('ro.council', 'RO', ['council']);
    eeCouncil = await ee.node.user('ee.council', 'EE', ['council']);
  });
  after(async () => {
    await Promise.all([lt, ro, ee].map((p) => p?.node.close()));
  });

  it("EE's council member votes on EE's copy: 200 at once, the vote pending on RO's node", async () => {
    requestId = (await submitRequest(ro.node, roPoc, { location: { country: 'RO', city: 'Bucharest' } })).id;
    // RO, HR and PL activate on RO's node: one vote short of the majority of six members.
    assert.equal((await vote(ro.node, roCouncil, requestId, 'activate')).statusCode, 200);
    for (const party of ['HR', 'PL']) {
      const member = await ro.node.user(`${party.toLowerCase()}.council`, party, ['council']);
      assert.equal((await vote(ro.node, member, requestId, 'activate')).statusCode, 200);
    }
    await sync(ro, ee);
    await copyRow(ro.node, ee.node, 'requests', requestId, 'RO');

    const res = await vote(ee.node, eeCouncil, requestId, 'activate', 'Tallinn can send two');
    assert.equal(res.statusCode, 200, res.body);
    const copy = json(res);
    assert.equal(copy.mirroredFrom, 'RO');
    assert.equal(copy.status, 'voting');
    assert.ok(!copy.votes.some((v: any) => v.party === 'EE'), 'not counted on the copy');
    assert.equal(copy.forwarded.length, 1);
    assert.deepEqual(
      [copy.forwarded[0].kind, copy.forwarded[0].to, copy.forwarded[0].state, copy.forwarded[0].by],
      ['vote', 'RO', 'pending', 'ee.council'],
    );
    assert.match(await audited(ee, 'federation.intent.send'), new RegExp(copy.forwarded[0].id));
  });

  it("RO counts EE's vote as EE's node's user and decides; EE learns it was applied", async () => {
    await sync(ee, ro);
    const onRo = json(await get(ro, roPoc, `/requests/${requestId}`));
    assert.equal(onRo.status, 'activated', 'the fourth of six activates');
    const eeVote = onRo.votes.find((v: any) => v.party === 'EE');
    assert.equal(eeVote?.castBy, 'ee.council (EE node)');
    assert.equal(eeVote?.comment, 'Tallinn can send two');
    const timeline = json(await get(ro, roPoc, `/requests/${requestId}/timeline`)).items;
    assert.ok(
      timeline.some((e: any) => e.kind === 'vote' && e.actor === 'ee.council (EE node)' && e.party === 'EE'),
      JSON.stringify(timeline.map((e: any) => [e.kind, e.actor])),
    );
    assert.ok(timeline.some((e: any) => e.kind === 'decision'));

    await sync(ro, ee);
    const copy = json(await get(ee, eeCouncil, `/requests/${requestId}`));
    assert.equal(copy.forwarded[0].state, 'applied');
    assert.match(copy.forwarded[0].outcome, /counted; the request is activated/);
    assert.ok(copy.forwarded[0].decidedAt);
  });

  it('an intent already answered is never applied twice', async () => {
    const before = (
      await sql<{ n: number }>`select count(*)::int as n from request_timeline
      where request_id = ${requestId} and kind = 'vote'`.execute(ro.node.database.db)
    ).rows[0]!.n;
    // The same intent comes again (the feed carried from the start), and the executor runs again.
    const again = feedCarrier();
    await again.sync(ee, ro);
    assert.deepEqual(await ro.node.services.federation.intents.processPending(), { applied: 0, refused: 0 });
    const after = (
      await sql<{ n: number }>`select count(*)::int as n from request_timeline
      where request_id = ${requestId} and kind = 'vote'`.execute(ro.node.database.db)
    ).rows[0]!.n;
    assert.equal(after, before);
    const outcomes = await ro.node.database.db.selectFrom('federation_intent_outcomes').selectAll().execute();
    assert.equal(outcomes.length, 1);
  });

  it("a forged intent on EE's node voting as PL is refused by RO and audited there", async () => {
    const forged = crypto.randomUUID();
    await ee.node.database.db
      .insertInto('federation_intents')
      .values({
        id: forged,
        origin_party: 'PL',
        target_party: 'RO',
        kind: 'vote',
        target_id: requestId,
        body: JSON.stringify({ vote: 'decline' }),
        actor_name: 'pl.council',
        actor_roles: JSON.stringify(['council']),
        created_at: new Date(),
      })
      .execute();
    const result = await sync(ee, ro);
    assert.equal(result.refused, 1);
    const held = await ro.node.database.db
      .selectFrom('federation_intents')
      .select('id')
      .where('id', '=', forged)
      .execute();
    assert.equal(held.length, 0);
    assert.match(await audited(ro, 'federation.change.refused'), /cannot act for another party/);
    const plVote = json(await get(ro, roPoc, `/requests/${requestId}`)).votes.find(
      (v: any) => v.party === 'PL',
    );
    assert.equal(plVote.vote, 'activate');
  });

  it("RO's request moves as its team moves only when the coordinating node says so", async () => {
    /** A consequence of a team's move, as `from`'s node would send it about RO's request. */
    const consequence = async (from: string) => {
      const id = crypto.randomUUID();
      await ro.node.database.db.transaction().execute(async (trx) => {
        await sql`select set_config('vytis.federation_apply', 'on', true)`.execute(trx);
        await trx
          .insertInto('federation_intents')
          .values({
            id,
            origin_party: from,
            target_party: 'RO',
            kind: 'transition',
            target_id: requestId,
            body: JSON.stringify({ name: 'assemble', body: {}, consequence: true }),
            actor_name: 'duty officer',
            actor_roles: JSON.stringify(['coordinator']),
            created_at: ro.node.clock.now(),
            mirrored_from: from,
            mirror_version: 1,
          })
          .execute();
      });
      await ro.node.services.federation.intents.processPending();
      return ro.node.database.db
        .selectFrom('federation_intent_outcomes')
        .selectAll()
        .where('intent_id', '=', id)
        .executeTakeFirstOrThrow();
    };
    const fromEe = await consequence('EE');
    assert.equal(fromEe.state, 'refused');
    assert.match(fromEe.outcome, /only the coordinating node moves a request/);
    assert.equal(json(await get(ro, roPoc, `/requests/${requestId}`)).status, 'activated');

    const fromLt = await consequence('LT');
    assert.equal(fromLt.state, 'applied', fromLt.outcome);
    const onRo = json(await get(ro, roPoc, `/requests/${requestId}`));
    assert.equal(onRo.status, 'assembling');
    const timeline = json(await get(ro, roPoc, `/requests/${requestId}/timeline`)).items;
    assert.ok(timeline.some((e: any) => e.kind === 'assembling' && e.actor === 'duty officer (LT node)'));
  });

  it('the copy itself refuses a vote written past the service, with the read-only guard', async () => {
    await assert.rejects(
      ee.node.database.db
        .insertInto('council_votes')
        .values({
          request_id: requestId,
          party_code: 'EE',
          vote: 'decline',
          comment: null,
          cast_by: 'someone',
          cast_at: new Date(),
        })
        .execute(),
      /read-only copy from RO's node/,
    );
  });

  describe("on a team kept by LT's node", () => {
    let deploymentId: string;
    let eeResponder: string;
    let eeSpare: string;
    let ltResponder: string;
    let ltPoc: TestUser;
    let eePoc: TestUser;

    before(async () => {
      // A request of LT's own, activated and given a team of one LT and one EE analyst, on LT's node.
      ltPoc = await lt.node.user('lt.poc', 'LT', ['poc']);
      const ltCoordinator = await lt.node.user('lt.duty', 'LT', ['coordinator']);
      const eePocOnLt = await lt.node.user('ee.poc.at.lt', 'EE', ['poc']);
      eePoc = await ee.node.user('ee.poc', 'EE', ['poc']);
      const request = await submitRequest(lt.node, ltPoc);
      for (const party of ['LT', 'EE', 'HR', 'PL']) {
        const member = await lt.node.user(`${party.toLowerCase()}.council.lt`, party, ['council']);
        assert.equal((await vote(lt.node, member, request.id, 'activate')).statusCode, 200);
      }
      ltResponder = await registerAnalyst(lt.node, ltPoc, 'LT', 'Rūta Vaitkutė');
      const eeAnalysts = [
        await registerAnalyst(lt.node, eePocOnLt, 'EE', 'Kadri Tamm'),
        await registerAnalyst(lt.node, eePocOnLt, 'EE', 'Mart Kask'),
      ];
      const proposal = await lt.node.request({
        method: 'POST',
        url: `${api}/requests/${request.id}/team-proposals`,
        headers: ltCoordinator.headers,
      });
      assert.equal(proposal.statusCode, 201, proposal.body);
      const adopted = await lt.node.request({
        method: 'POST',
        url: `${api}/requests/${request.id}/team-proposals/${json(proposal).id}/adopt`,
        headers: ltCoordinator.headers,
      });
      assert.ok(adopted.statusCode < 300, adopted.body);
      deploymentId = json(adopted).id;
      const team = json(adopted).members.map((m: any) => m.responderId);
      assert.ok(team.includes(ltResponder), JSON.stringify(team));
      eeResponder = eeAnalysts.find((id) => team.includes(id))!;
      eeSpare = eeAnalysts.find((id) => !team.includes(id))!;
      assert.ok(eeResponder && eeSpare, JSON.stringify(team));
      await sync(lt, ee);
      await copyRow(lt.node, ee.node, 'requests', request.id, 'LT');
      const held = await ee.node.database.db
        .selectFrom('deployments')
        .select('id')
        .where('id', '=', deploymentId)
        .executeTakeFirst();
      if (!held) {
        await copyRow(lt.node, ee.node, 'deployments', deploymentId, 'LT');
        for (const responder of [ltResponder, eeResponder, eeSpare]) {
          await copyRows(lt.node, ee.node, 'responders', 'id', responder, 'LT');
        }
        await copyRows(lt.node, ee.node, 'deployment_members', 'deployment_id', deploymentId, 'LT');
      }
    });

    /** An intent as EE's node would send it, placed straight in the copies LT received. */
    async function receivedOnLt(kind: string, body: Record<string, unknown>, roles = ['poc']) {
      const id = crypto.randomUUID();
      await lt.node.database.db.transaction().execute(async (trx) => {
        await sql`select set_config('vytis.federation_apply', 'on', true)`.execute(trx);
        await trx
          .insertInto('federation_intents')
          .values({
            id,
            origin_party: 'EE',
            target_party: 'LT',
            kind,
            target_id: deploymentId,
            body: JSON.stringify(body),
            actor_name: 'ee.poc',
            actor_roles: JSON.stringify(roles),
            created_at: lt.node.clock.now(),
            mirrored_from: 'EE',
            mirror_version: 1,
          })
          .execute();
      });
      return id;
    }
    const outcomeOf = (id: string) =>
      lt.node.database.db
        .selectFrom('federation_intent_outcomes')
        .selectAll()
        .where('intent_id', '=', id)
        .executeTakeFirstOrThrow();

    it("EE's decline is applied on LT, which solves the gap there", async () => {
      const id = await receivedOnLt('decline', {});
      await lt.node.database.db.transaction().execute(async (trx) => {
        await sql`select set_config('vytis.federation_apply', 'on', true)`.execute(trx);
        await trx
          .updateTable('federation_intents')
          .set({
            kind: 'release',
            body: JSON.stringify({ responderId: eeResponder, decision: 'decline', reason: 'on sick leave' }),
          })
          .where('id', '=', id)
          .execute();
      });
      await lt.node.services.federation.intents.processPending();
      const outcome = await outcomeOf(id);
      assert.equal(outcome.state, 'applied', outcome.outcome);
      const members = (await lt.node.services.deployments.get(lt.node.cli, deploymentId)).members;
      const status = Object.fromEntries(members.map((m) => [m.responderId, [m.status, m.decidedBy]]));
      assert.deepEqual(status[eeResponder], ['declined', 'ee.poc (EE node)']);
      assert.equal(status[eeSpare]?.[0], 'pending', 'the gap is filled on LT');
    });

    it("EE's PoC releases EE's analyst on EE's copy; LT releases them", async () => {
      await sync(lt, ee);
      const res = await ee.node.request({
        method: 'POST',
        url: `${api}/deployments/${deploymentId}/members/${eeSpare}/release`,
        headers: eePoc.headers,
        payload: { decision: 'release', reason: 'cleared by the ministry' },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(json(res).forwarded[0].state, 'pending');
      await sync(ee, lt);
      const member = (await lt.node.services.deployments.get(lt.node.cli, deploymentId)).members.find(
        (m) => m.responderId === eeSpare,
      );
      assert.equal(member?.status, 'released');
      assert.equal(member?.decidedBy, 'ee.poc (EE node)');
    });

    it("a release by EE of another party's responder is refused on LT, and audited there", async () => {
      const id = await receivedOnLt('release', { responderId: ltResponder, decision: 'release' });
      const result = await lt.node.services.federation.intents.processPending();
      assert.equal(result.refused, 1);
      const outcome = await outcomeOf(id);
      assert.equal(outcome.state, 'refused');
      assert.match(outcome.outcome, /only a PoC of LT releases or declines LT's people/);
      const member = (await lt.node.services.deployments.get(lt.node.cli, deploymentId)).members.find(
        (m) => m.responderId === ltResponder,
      );
      assert.equal(member?.status, 'pending');
      assert.match(await audited(lt, 'federation.intent.refused'), new RegExp(id));
    });

    it('an acceptance from a node that is not the host is refused', async () => {
      const id = await receivedOnLt('accept', {
        personnelStatus: 'Under the CRRT MoU',
        access: 'SOC network',
        liabilityAgreementSha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      });
      await lt.node.services.federation.intents.processPending();
      const outcome = await outcomeOf(id);
      assert.equal(outcome.state, 'refused');
      assert.match(outcome.outcome, /only a PoC of the host, LT, accepts the team/);
    });

    it("only the node of the request's party carries the request's moves to its team", async () => {
      const request = (await lt.node.services.deployments.get(lt.node.cli, deploymentId)).requestId;
      const id = await receivedOnLt('carry', {
        move: 'cancelled',
        reason: 'the request was withdrawn',
        requestId: request,
      });
      await lt.node.services.federation.intents.processPending();
      const outcome = await outcomeOf(id);
      assert.equal(outcome.state, 'refused');
      assert.match(outcome.outcome, /only LT's node moves the team of its request/);
      assert.equal((await lt.node.services.deployments.get(lt.node.cli, deploymentId)).status, 'proposed');
    });

    it('a claimed admin or coordinator role from a national node counts for nothing; a malformed body is refused in words', async () => {
      const asCoordinator = await receivedOnLt('deployment-status', { status: 'on_site' }, [
        'coordinator',
        'admin',
      ]);
      const malformed = await receivedOnLt('release', { responderId: 'not-a-uuid', decision: 'maybe' });
      const unknown = await receivedOnLt('teleport', {});
      await lt.node.services.federation.intents.processPending();
      assert.match((await outcomeOf(asCoordinator)).outcome, /needs one of the roles coordinator, poc/);
      assert.match((await outcomeOf(malformed)).outcome, /the release is malformed/);
      assert.match((await outcomeOf(unknown)).outcome, /does not know what to do with "teleport"/);
    });
  });
});
