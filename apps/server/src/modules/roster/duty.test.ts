import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';

const api = '/api/v1';

const responderBody = (name: string, timeZone: string, userId?: string) => ({
  name,
  affiliation: 'civilian',
  skills: [{ skill: 'digital-forensics', level: 2 }],
  languages: ['en'],
  clearance: 'secret',
  base: { city: `${name}'s city`, country: 'LT', lat: 54.7, lon: 25.3, timeZone },
  readiness: { remoteHours: 2, onsiteHours: 12 },
  ...(userId ? { userId } : {}),
});

// Monday 2 November 2026, 10:00 UTC: winter time, Vilnius and Tallinn at UTC+2.
const NOW = '2026-11-02T10:00:00.000Z';

describe("the duty officer's board (GET /duty) and roster permissions", () => {
  let node: TestNode;
  let ltPoc: TestUser;
  let ltResponder: TestUser;
  let eePoc: TestUser;
  let plPoc: TestUser;
  let coordinator: TestUser;
  let admin: TestUser;
  let analyst: TestUser;
  let ona: string;
  let jonas: string;
  let rasa: string;
  let ltRotation: Record<string, any>;

  const request = (
    user: TestUser | null,
    method: 'GET' | 'POST' | 'PATCH' | 'PUT',
    url: string,
    payload?: object,
    headers: Record<string, string> = {},
  ) =>
    node.request({
      method,
      url: `${api}${url}`,
      headers: { ...(user ? user.headers : {}), ...headers },
      ...(payload ? { payload } : {}),
    });
  const ok = async (
    user: TestUser,
    method: 'GET' | 'POST' | 'PATCH' | 'PUT',
    url: string,
    payload?: object,
  ) => {
    const res = await request(user, method, url, payload);
    assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
    return json(res);
  };
  const board = async (user: TestUser, query = '') => ok(user, 'GET', `/duty${query}`);
  const partyOf = (b: Record<string, any>, code: string) => b.parties.find((p: any) => p.party === code);

  before(async () => {
    node = await startTestNode({ now: NOW });
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    ltResponder = await node.user('lt.responder', 'LT', ['responder']);
    eePoc = await node.user('ee.poc', 'EE', ['poc']);
    plPoc = await node.user('pl.poc', 'PL', ['poc']);
    coordinator = await node.user('duty.officer', 'FI', ['coordinator']);
    admin = await node.user('root', 'LT', ['admin']);
    analyst = await node.user('lt.analyst', 'LT', ['analyst']);
    ona = (await ok(ltPoc, 'POST', '/responders', responderBody('Ona', 'Europe/Vilnius', ltResponder.id))).id;
    jonas = (await ok(ltPoc, 'POST', '/responders', responderBody('Jonas', 'Europe/Vilnius'))).id;
    rasa = (await ok(ltPoc, 'POST', '/responders', responderBody('Rasa', 'Europe/Vilnius'))).id;
    const kati = (await ok(eePoc, 'POST', '/responders', responderBody('Kati', 'Europe/Tallinn'))).id;
    await ok(plPoc, 'POST', '/responders', responderBody('Piotr', 'Europe/Warsaw'));
    // LT: round the clock from 08:00 Vilnius (06:00 UTC), Ona then Jonas; Ona held 1 Nov, Jonas holds 2 Nov.
    ltRotation = await ok(ltPoc, 'POST', '/rotations', {
      name: 'LT on-call',
      timeZone: 'Europe/Vilnius',
      startsOn: '2026-11-01',
      shiftStart: '08:00',
      shiftHours: 24,
      shiftDays: 1,
      responderIds: [ona, jonas],
    });
    // Jonas is on leave the first six hours of his shift of 4–5 November (06:00 UTC to 06:00 UTC).
    const jonasNow = await ok(ltPoc, 'GET', `/responders/${jonas}`);
    await node.request({
      method: 'PUT',
      url: `${api}/responders/${jonas}/availability`,
      headers: { ...ltPoc.headers, 'if-match': `"${jonasNow.version}"` },
      payload: {
        unavailability: [{ from: '2026-11-05T00:00:00Z', to: '2026-11-05T06:00:00Z', kind: 'leave' }],
      },
    });
    // EE: day shifts only (08:00–20:00 Tallinn), from Wednesday 4 November.
    await ok(eePoc, 'POST', '/rotations', {
      name: 'EE days',
      timeZone: 'Europe/Tallinn',
      startsOn: '2026-11-04',
      shiftStart: '08:00',
      shiftHours: 12,
      shiftDays: 1,
      responderIds: [kati],
    });
  });
  after(() => node.close());

  it('shows who is on duty now and next in every party, with contact and escalation', async () => {
    const b = await board(coordinator);
    assert.equal(b.at, NOW);
    assert.equal(b.until, '2026-11-09T10:00:00.000Z');
    const lt = partyOf(b, 'LT');
    assert.equal(lt.covered, true);
    assert.equal(lt.rotations, 1);
    assert.deepEqual(
      lt.now.map((s: any) => [s.responderName, s.start, s.end]),
      [['Jonas', '2026-11-02T06:00:00.000Z', '2026-11-03T06:00:00.000Z']],
    );
    assert.deepEqual(lt.now[0].contact, { city: "Jonas's city", timeZone: 'Europe/Vilnius', user: null });
    assert.deepEqual(
      lt.next.map((s: any) => [s.responderName, s.start, s.contact.user]),
      [['Ona', '2026-11-03T06:00:00.000Z', 'lt.responder']],
    );
    assert.deepEqual(
      lt.escalation.pocs.map((p: any) => p.name),
      ['lt.poc'],
    );
  });

  it("flags gaps: a party with nobody on duty now, and a responder's leave during a shift, with when", async () => {
    const b = await board(coordinator);
    const lt = partyOf(b, 'LT');
    assert.deepEqual(lt.gaps, [
      { from: '2026-11-05T00:00:00.000Z', to: '2026-11-05T06:00:00.000Z', reason: 'unavailable' },
    ]);

    const ee = partyOf(b, 'EE');
    assert.equal(ee.covered, false);
    assert.deepEqual(ee.now, []);
    assert.deepEqual(
      ee.next.map((s: any) => [s.responderName, s.start]),
      [['Kati', '2026-11-04T06:00:00.000Z']],
    );
    // Nobody until Wednesday 08:00 Tallinn, then every night from 20:00 to 08:00.
    assert.deepEqual(ee.gaps.slice(0, 2), [
      { from: NOW, to: '2026-11-04T06:00:00.000Z', reason: 'no_shift' },
      { from: '2026-11-04T18:00:00.000Z', to: '2026-11-05T06:00:00.000Z', reason: 'no_shift' },
    ]);

    const pl = partyOf(b, 'PL');
    assert.equal(pl.rotations, 0);
    assert.equal(pl.covered, false);
    assert.deepEqual(pl.gaps, [{ from: NOW, to: b.until, reason: 'no_shift' }]);
    assert.deepEqual(
      pl.escalation.pocs.map((p: any) => p.name),
      ['pl.poc'],
    );

    // Parties not covered now come first, then those with gaps.
    const order = b.parties.map((p: any) => p.party);
    assert.ok(
      order.indexOf('EE') < order.indexOf('LT') && order.indexOf('PL') < order.indexOf('LT'),
      order.join(),
    );
  });

  it('answers for another moment: at 02:00 UTC on 5 November Jonas is on shift but on leave', async () => {
    const b = await board(coordinator, '?at=2026-11-05T02:00:00Z&days=1');
    const lt = partyOf(b, 'LT');
    assert.equal(lt.covered, false);
    assert.equal(lt.now[0].responderName, 'Jonas');
    assert.equal(lt.now[0].unavailable, true);
    assert.deepEqual(lt.gaps, [
      { from: '2026-11-05T02:00:00.000Z', to: '2026-11-05T06:00:00.000Z', reason: 'unavailable' },
    ]);
  });

  it("is read through the access policy: a party's own users see only it; bad input is a 400; no token a 401", async () => {
    const mine = await board(ltPoc);
    assert.deepEqual(
      mine.parties.map((p: any) => p.party),
      ['LT'],
    );
    const analystView = await board(analyst);
    assert.deepEqual(
      analystView.parties.map((p: any) => p.party),
      ['LT'],
    );
    assert.equal((await request(null, 'GET', '/duty')).statusCode, 401);
    const bad = await request(coordinator, 'GET', '/duty?days=99');
    assert.equal(bad.statusCode, 400);
    const unknown = await request(coordinator, 'GET', '/duty?party=LT');
    assert.equal(unknown.statusCode, 400);
  });

  it('says what the caller may do with responders and rotations, as the server enforces it', async () => {
    const asPoc = await ok(ltPoc, 'GET', '/responders');
    assert.deepEqual(asPoc.can, { createFor: ['LT'] });
    assert.ok(asPoc.items.every((r: any) => r.can.edit && r.can.setAvailability));
    const asCoordinator = await ok(coordinator, 'GET', '/responders');
    assert.deepEqual(asCoordinator.can, { createFor: [] });
    assert.ok(asCoordinator.items.every((r: any) => !r.can.edit && !r.can.setAvailability));
    const asAdmin = await ok(admin, 'GET', '/rotations');
    assert.ok(asAdmin.can.createFor.includes('PL') && asAdmin.can.createFor.includes('LT'));
    assert.ok(asAdmin.items.every((r: any) => r.can.edit && r.can.delete));
    const rotations = await ok(coordinator, 'GET', '/rotations');
    assert.ok(rotations.items.length >= 2);
    assert.ok(rotations.items.every((r: any) => !r.can.edit && !r.can.delete));
    // And the server agrees: what `can` denies is refused.
    const refused = await request(coordinator, 'PATCH', `/responders/${ona}`, { name: 'Ona B.' });
    assert.equal(refused.statusCode, 403);
  });

  it('a PoC edits a rotation (If-Match), its shifts follow, audited; others cannot', async () => {
    const stale = await request(
      ltPoc,
      'PATCH',
      `/rotations/${ltRotation.id}`,
      { responderIds: [ona, rasa] },
      {
        'if-match': '"7"',
      },
    );
    assert.equal(stale.statusCode, 412, stale.body);
    const changed = await request(
      ltPoc,
      'PATCH',
      `/rotations/${ltRotation.id}`,
      { responderIds: [ona, rasa], name: 'LT 24/7' },
      {
        'if-match': `"${ltRotation.version}"`,
      },
    );
    assert.equal(changed.statusCode, 200, changed.body);
    const updated = json(changed);
    assert.equal(updated.version, ltRotation.version + 1);
    assert.equal(updated.name, 'LT 24/7');
    assert.deepEqual(updated.can, { edit: true, delete: true });
    const b = await board(coordinator);
    assert.equal(partyOf(b, 'LT').now[0].responderName, 'Rasa');
    // Jonas's leave no longer matters: LT is covered all week.
    assert.deepEqual(partyOf(b, 'LT').gaps, []);

    const events = await ok(admin, 'GET', `/audit?action=rotation.update&objectId=${ltRotation.id}`);
    assert.equal(events.items.length, 1);
    assert.deepEqual(events.items[0].summary.fields, ['name', 'responderIds']);

    // Another state's PoC sees no such rotation; an empty change or an unknown field is a 400.
    assert.equal(
      (await request(eePoc, 'PATCH', `/rotations/${ltRotation.id}`, { name: 'x' })).statusCode,
      404,
    );
    assert.equal((await request(ltPoc, 'PATCH', `/rotations/${ltRotation.id}`, {})).statusCode, 400);
    assert.equal(
      (await request(ltPoc, 'PATCH', `/rotations/${ltRotation.id}`, { party: 'EE' })).statusCode,
      400,
    );
    const bad = await request(ltPoc, 'PATCH', `/rotations/${ltRotation.id}`, { shiftHours: 30 });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /shiftHours/);
  });
});
