import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';

const api = '/api/v1';

const body = (overrides: Record<string, unknown> = {}) => ({
  name: 'Ona Petraitė',
  affiliation: 'civilian',
  skills: [
    { skill: 'digital-forensics', level: 3 },
    { skill: 'malware-analysis', level: 2 },
  ],
  languages: ['lt', 'en'],
  clearance: 'secret',
  base: { city: 'Vilnius', country: 'LT', lat: 54.687, lon: 25.279, timeZone: 'Europe/Vilnius' },
  readiness: { remoteHours: 2, onsiteHours: 12 },
  travelDocumentsUntil: '2030-01-31',
  ...overrides,
});

describe('responders', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  let ltAnalyst: TestUser;
  let eePoc: TestUser;
  let coordinator: TestUser;
  let admin: TestUser;
  let ona: Record<string, any>;
  let kati: Record<string, any>;

  before(async () => {
    node = await startTestNode();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    ltAnalyst = await node.user('lt.analyst', 'LT', ['analyst']);
    eePoc = await node.user('ee.poc', 'EE', ['poc']);
    coordinator = await node.user('duty.officer', 'PL', ['coordinator']);
    admin = await node.user('root', 'FI', ['admin']);
  });
  after(() => node.close());

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'PUT',
    user: TestUser,
    url: string,
    payload?: object,
    headers: Record<string, string> = {},
  ) =>
    node.request({
      method,
      url: `${api}${url}`,
      headers: { ...user.headers, ...headers },
      ...(payload ? { payload } : {}),
    });
  const fieldsOf = (res: { json(): unknown }) =>
    ((res.json() as any).error.details as { field: string }[]).map((d) => d.field).sort();
  const auditOf = async (id: string) =>
    (await node.services.audit.page({ objectId: id }, 'asc', 50)).items.map((e: any) => e.action);

  describe('registering', () => {
    it('registers a responder of the PoC’s party: 201, version 1 and its ETag', async () => {
      const res = await call('POST', ltPoc, '/responders', body());
      assert.equal(res.statusCode, 201, res.body);
      ona = json(res);
      assert.equal(ona.party, 'LT');
      assert.equal(ona.version, 1);
      assert.equal(res.headers.etag, '"1"');
      assert.deepEqual(ona.unavailability, []);
      assert.equal(ona.base.timeZone, 'Europe/Vilnius');
      assert.deepEqual(await auditOf(ona.id), ['responder.create']);

      const ee = await call('POST', eePoc, '/responders', body({ name: 'Kati Tamm', languages: ['et'] }));
      assert.equal(ee.statusCode, 201, ee.body);
      kati = json(ee);
      assert.equal(kati.party, 'EE');
    });

    it('lets an admin register for any party, but not a PoC for another', async () => {
      const res = await call('POST', admin, '/responders', body({ name: 'Jonas', party: 'LT' }));
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(json(res).party, 'LT');
      const refused = await call('POST', eePoc, '/responders', body({ name: 'Intruder', party: 'LT' }));
      assert.equal(refused.statusCode, 403);
      const analyst = await call('POST', ltAnalyst, '/responders', body());
      assert.equal(analyst.statusCode, 403);
    });
  });

  describe('bad input', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['an unknown skill', { skills: [{ skill: 'hacking-back', level: 1 }] }, 'body/skills/0/skill'],
      ['a skill level of 4', { skills: [{ skill: 'digital-forensics', level: 4 }] }, 'body/skills/0/level'],
      ['language xx', { languages: ['lt', 'xx'] }, 'body/languages/1'],
      ['a language that is not two letters', { languages: ['lit'] }, 'body/languages/0'],
      ['latitude 91', { base: { ...body().base, lat: 91 } }, 'body/base/lat'],
      ['longitude -181', { base: { ...body().base, lon: -181 } }, 'body/base/lon'],
      ['time zone Mars/Base', { base: { ...body().base, timeZone: 'Mars/Base' } }, 'body/base/timeZone'],
      [
        'travel documents until 30 February',
        { travelDocumentsUntil: '2026-02-30' },
        'body/travelDocumentsUntil',
      ],
      [
        'travel documents until month 13',
        { travelDocumentsUntil: '2026-13-01' },
        'body/travelDocumentsUntil',
      ],
      [
        'a duplicate skill',
        {
          skills: [
            { skill: 'malware-analysis', level: 1 },
            { skill: 'malware-analysis', level: 3 },
          ],
        },
        'body/skills/1/skill',
      ],
      ['an unknown affiliation', { affiliation: 'mercenary' }, 'body/affiliation'],
      ['an unknown field', { shoeSize: 44 }, 'body/shoeSize'],
    ];
    for (const [what, overrides, field] of cases) {
      it(`refuses ${what}, naming ${field}`, async () => {
        const res = await call('POST', ltPoc, '/responders', body(overrides));
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(json(res).error.code, 'invalid_input');
        assert.deepEqual(fieldsOf(res), [field]);
      });
    }

    it('names every problem the service finds at once', async () => {
      const res = await call(
        'POST',
        ltPoc,
        '/responders',
        body({
          languages: ['xx'],
          base: { ...body().base, timeZone: 'Mars/Base' },
          skills: [
            { skill: 'digital-forensics', level: 1 },
            { skill: 'digital-forensics', level: 2 },
          ],
        }),
      );
      assert.equal(res.statusCode, 400);
      assert.deepEqual(fieldsOf(res), ['body/base/timeZone', 'body/languages/0', 'body/skills/1/skill']);
    });

    it('checks a patch against the merged responder', async () => {
      const res = await call('PATCH', ltPoc, `/responders/${ona.id}`, { languages: ['zz'] });
      assert.equal(res.statusCode, 400);
      assert.deepEqual(fieldsOf(res), ['body/languages/0']);
    });
  });

  describe('who sees whom', () => {
    it('another state’s PoC gets 404 on GET, PATCH and PUT availability', async () => {
      assert.equal((await call('GET', eePoc, `/responders/${ona.id}`)).statusCode, 404);
      assert.equal(
        (await call('PATCH', eePoc, `/responders/${ona.id}`, { name: 'Changed' })).statusCode,
        404,
      );
      const put = await call('PUT', eePoc, `/responders/${ona.id}/availability`, { unavailability: [] });
      assert.equal(put.statusCode, 404);
      assert.equal(json(await call('GET', ltPoc, `/responders/${ona.id}`)).name, 'Ona Petraitė');
    });

    it('another state’s people are absent from lists and totals', async () => {
      const ee = json(await call('GET', eePoc, '/responders'));
      assert.deepEqual(
        ee.items.map((r: any) => r.party),
        ['EE'],
      );
      assert.equal(ee.total, 1);
      const asked = json(await call('GET', eePoc, '/responders?party=LT'));
      assert.deepEqual(asked.items, []);
      assert.equal(asked.total, 0);
      const lt = json(await call('GET', ltAnalyst, '/responders'));
      assert.equal(lt.total, 2);
      assert.ok(lt.items.every((r: any) => r.party === 'LT'));
    });

    it('coordinators and admins see everyone', async () => {
      for (const user of [coordinator, admin]) {
        const all = json(await call('GET', user, '/responders'));
        assert.equal(all.total, 3);
        assert.deepEqual([...new Set(all.items.map((r: any) => r.party))].sort(), ['EE', 'LT']);
        assert.equal((await call('GET', user, `/responders/${kati.id}`)).statusCode, 200);
      }
      const skilled = json(await call('GET', coordinator, '/responders?skill=malware-analysis'));
      assert.equal(skilled.total, 3);
      const none = json(await call('GET', coordinator, '/responders?skill=ot-ics'));
      assert.equal(none.total, 0);
    });

    it('a coordinator sees but does not keep another party’s people', async () => {
      const res = await call('PATCH', coordinator, `/responders/${ona.id}`, { name: 'Changed' });
      assert.equal(res.statusCode, 403);
    });
  });

  describe('changes', () => {
    it('updates with If-Match, bumping the version; a stale If-Match is 412', async () => {
      const res = await call(
        'PATCH',
        ltPoc,
        `/responders/${ona.id}`,
        { readiness: { remoteHours: 1, onsiteHours: 8 } },
        { 'if-match': '"1"' },
      );
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(json(res).version, 2);
      assert.equal(res.headers.etag, '"2"');
      assert.deepEqual(json(res).readiness, { remoteHours: 1, onsiteHours: 8 });
      const stale = await call(
        'PATCH',
        ltPoc,
        `/responders/${ona.id}`,
        { name: 'Again' },
        { 'if-match': '"1"' },
      );
      assert.equal(stale.statusCode, 412);
      assert.equal(json(stale).error.code, 'precondition_failed');
      const staleAvailability = await call(
        'PUT',
        ltPoc,
        `/responders/${ona.id}/availability`,
        { unavailability: [] },
        { 'if-match': '"1"' },
      );
      assert.equal(staleAvailability.statusCode, 412);
      const garbage = await call(
        'PATCH',
        ltPoc,
        `/responders/${ona.id}`,
        { name: 'Again' },
        { 'if-match': 'v2' },
      );
      assert.equal(garbage.statusCode, 400);
    });

    it('replaces availability periods, refusing one that ends before it starts', async () => {
      const bad = await call('PUT', ltPoc, `/responders/${ona.id}/availability`, {
        unavailability: [
          { from: '2026-12-01T00:00:00Z', to: '2026-12-10T00:00:00Z', kind: 'leave' },
          { from: '2026-12-20T00:00:00Z', to: '2026-12-19T00:00:00Z', kind: 'training' },
          { from: '2026-12-21T00:00:00Z', to: '2026-12-21T00:00:00Z', kind: 'unavailable' },
        ],
      });
      assert.equal(bad.statusCode, 400, bad.body);
      assert.deepEqual(fieldsOf(bad), ['body/unavailability/1/to', 'body/unavailability/2/to']);
      const kind = await call('PUT', ltPoc, `/responders/${ona.id}/availability`, {
        unavailability: [{ from: '2026-12-01T00:00:00Z', to: '2026-12-10T00:00:00Z', kind: 'holiday' }],
      });
      assert.equal(kind.statusCode, 400);
      assert.deepEqual(fieldsOf(kind), ['body/unavailability/0/kind']);

      const res = await call(
        'PUT',
        ltPoc,
        `/responders/${ona.id}/availability`,
        {
          unavailability: [
            { from: '2026-12-01T00:00:00Z', to: '2026-12-10T00:00:00Z', kind: 'leave', note: 'holiday' },
          ],
        },
        { 'if-match': '"2"' },
      );
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(json(res).version, 3);
      assert.deepEqual(json(res).unavailability, [
        { from: '2026-12-01T00:00:00.000Z', to: '2026-12-10T00:00:00.000Z', kind: 'leave', note: 'holiday' },
      ]);
      const listed = json(await call('GET', ltPoc, '/responders')).items.find((r: any) => r.id === ona.id);
      assert.equal(listed.unavailability.length, 1);
    });

    it('audits each change', async () => {
      assert.deepEqual(await auditOf(ona.id), [
        'responder.create',
        'responder.update',
        'responder.availability',
      ]);
      const [update, availability] = (
        await node.services.audit.page({ objectId: ona.id }, 'asc', 50)
      ).items.slice(1);
      assert.equal((update as any).actor.name, 'lt.poc');
      assert.match(JSON.stringify(update), /readiness/);
      assert.match(JSON.stringify(availability), /"periods":1/);
    });
  });
});
