import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewResponder } from '@vytis/contracts';
import { sql } from 'kysely';
import { json, type TestUser } from '../../../test/harness.ts';
import { signPage } from '../change-feed.ts';
import { feedCarrier, type Party, peerOf, startParty } from '../federation.fixtures.ts';

// EE keeps its responders on its own node. The coordinating node (LT) gets what team assembly
// needs under the responder's id, with their leave but without its notes, and no name; RO, a
// national node with no deployment of EE's people, gets nothing.

const api = '/api/v1';

const responder = (name: string, skill: string): NewResponder => ({
  name,
  affiliation: 'civilian',
  skills: [{ skill: skill as 'digital-forensics', level: 3 }],
  languages: ['en', 'et'],
  clearance: 'confidential',
  base: { city: 'Tallinn', country: 'EE', lat: 59.44, lon: 24.75, timeZone: 'Europe/Tallinn' },
  readiness: { remoteHours: 2, onsiteHours: 12 },
  travelDocumentsUntil: '2030-01-01',
});

describe('the responder document between EE, LT (coordinating) and RO', () => {
  let lt: Party;
  let ee: Party;
  let ro: Party;
  let eePoc: TestUser;
  let ltCoordinator: TestUser;
  let kadri: string;
  const { cursors, sync } = feedCarrier();

  before(async () => {
    // One after another, so that a node that did start is closed by `after` when the next one fails.
    lt = await startParty('LT', 'coordinator');
    ee = await startParty('EE');
    ro = await startParty('RO');
    eePoc = await ee.node.user('ee.poc', 'EE', ['poc']);
    ltCoordinator = await lt.node.user('lt.duty', 'LT', ['coordinator']);
    const created = await ee.node.request({
      method: 'POST',
      url: `${api}/responders`,
      headers: eePoc.headers,
      payload: responder('Kadri Tamm', 'digital-forensics'),
    });
    assert.equal(created.statusCode, 201, created.body);
    kadri = json(created).id;
    const leave = await ee.node.request({
      method: 'PUT',
      url: `${api}/responders/${kadri}/availability`,
      headers: eePoc.headers,
      payload: {
        unavailability: [
          { from: '2026-12-10T00:00:00Z', to: '2026-12-20T00:00:00Z', kind: 'leave', note: 'family wedding' },
        ],
      },
    });
    assert.equal(leave.statusCode, 200, leave.body);
  });
  after(async () => {
    await Promise.all([lt, ee, ro].map((p) => p?.node.close()));
  });

  it('reaches the coordinating node without a name, with skills and leave (without its note)', async () => {
    const carried = await sync(ee, lt);
    assert.equal(carried.refused, 0);
    const seen = await lt.node.request({
      method: 'GET',
      url: `${api}/responders/${kadri}`,
      headers: ltCoordinator.headers,
    });
    assert.equal(seen.statusCode, 200, seen.body);
    const body = json(seen);
    assert.equal(body.party, 'EE');
    assert.equal(body.name, `Responder EE-${kadri.slice(0, 8)}`);
    assert.doesNotMatch(seen.body, /Kadri|Tamm|wedding/);
    assert.deepEqual(body.skills, [{ skill: 'digital-forensics', level: 3 }]);
    assert.deepEqual(body.languages, ['en', 'et']);
    assert.equal(body.clearance, 'confidential');
    assert.deepEqual(body.readiness, { remoteHours: 2, onsiteHours: 12 });
    assert.deepEqual(body.unavailability, [
      { from: '2026-12-10T00:00:00.000Z', to: '2026-12-20T00:00:00.000Z', kind: 'leave' },
    ]);
    assert.equal(body.userId, null);
  });

  it('is a read-only copy there: the coordinating node cannot edit it', async () => {
    const admin = await lt.node.user('lt.admin', 'LT', ['admin']);
    const edit = await lt.node.request({
      method: 'PATCH',
      url: `${api}/responders/${kadri}`,
      headers: admin.headers,
      payload: { name: 'Someone else' },
    });
    assert.equal(edit.statusCode, 409, edit.body);
  });

  it("follows EE's changes: new leave replaces the old on the copy", async () => {
    const leave = await ee.node.request({
      method: 'PUT',
      url: `${api}/responders/${kadri}/availability`,
      headers: eePoc.headers,
      payload: {
        unavailability: [{ from: '2027-01-05T00:00:00Z', to: '2027-01-07T00:00:00Z', kind: 'training' }],
      },
    });
    assert.equal(leave.statusCode, 200, leave.body);
    await sync(ee, lt);
    const body = json(
      await lt.node.request({
        method: 'GET',
        url: `${api}/responders/${kadri}`,
        headers: ltCoordinator.headers,
      }),
    );
    assert.deepEqual(body.unavailability, [
      { from: '2027-01-05T00:00:00.000Z', to: '2027-01-07T00:00:00.000Z', kind: 'training' },
    ]);
  });

  it('reaches no national node whose party has no deployment of the person', async () => {
    const carried = await sync(ee, ro);
    assert.equal(carried.applied, 0);
    const held = await sql<{
      n: number;
    }>`select count(*)::int as n from responders where party_code = 'EE'`.execute(ro.node.database.db);
    assert.equal(held.rows[0]!.n, 0);
  });

  it("refuses a responder of another party, and one that takes the id of the node's own", async () => {
    const cursor = cursors.get('EE->LT')!;
    const forged = (id: string, party: string) => ({
      type: 'responder' as const,
      id,
      origin: 'EE',
      version: cursor + 1,
      at: '2026-11-23T12:00:00.000Z',
      caseId: null,
      data: {
        view: 'coordinator',
        id,
        party_code: party,
        name: null,
        affiliation: 'civilian',
        skills: [],
        languages: ['en'],
        clearance: 'secret',
        base: { city: 'Riga', country: party, lat: 56.9, lon: 24.1, timeZone: 'Europe/Riga' },
        readiness: { remoteHours: 0, onsiteHours: 0 },
        travel_documents_until: null,
        unavailability: [],
      },
    });
    const ltOwn = json(
      await lt.node.request({
        method: 'POST',
        url: `${api}/responders`,
        headers: (await lt.node.user('lt.poc', 'LT', ['poc'])).headers,
        payload: {
          ...responder('Jonas Jonaitis', 'malware-analysis'),
          base: { ...responder('x', 'y').base },
        },
      }),
    ).id as string;
    const page = signPage(ee.node.services.key, {
      party: 'EE',
      after: cursor,
      head: cursor + 1,
      next: cursor + 1,
      more: false,
      changes: [forged('6f1d8a52-7d0e-4c4a-9a1b-1c2d3e4f5a6b', 'LV'), forged(ltOwn, 'EE')],
    });
    const peer = peerOf(ee, cursor);
    const { versions } = lt.node.services.federation.feed.checkPage(peer, JSON.parse(JSON.stringify(page)));
    const result = await lt.node.services.federation.feed.apply(peer, versions, {
      from: cursor,
      to: cursor + 1,
    });
    assert.equal(result.refused, 2);
    assert.equal(result.applied, 0);
    const own = await sql<{ name: string; mirrored_from: string | null }>`
      select name, mirrored_from from responders where id = ${ltOwn}`.execute(lt.node.database.db);
    assert.deepEqual(own.rows[0], { name: 'Jonas Jonaitis', mirrored_from: null });
    const auditor = await lt.node.user('lt.auditor', 'LT', ['auditor']);
    const audited = (
      await lt.node.request({
        method: 'GET',
        url: `${api}/audit?action=federation.change.refused`,
        headers: auditor.headers,
      })
    ).body;
    assert.match(audited, /cannot speak for a responder of LV/);
    assert.match(audited, /one of this node's own responders/);
  });
});
