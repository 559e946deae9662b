import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { escapeText, fold } from './ical.ts';
import { localInstant } from './shifts.ts';

const api = '/api/v1';

const responderBody = (name: string, country: string, timeZone: string) => ({
  name,
  affiliation: 'civilian',
  skills: [{ skill: 'digital-forensics', level: 2 }],
  languages: ['en'],
  clearance: 'secret',
  base: { city: 'Capital', country, lat: 54.7, lon: 25.3, timeZone },
  readiness: { remoteHours: 2, onsiteHours: 12 },
});

/** The content lines of an iCalendar text, unfolded. */
const icsLines = (text: string) => text.replace(/\r\n[ \t]/g, '').split('\r\n');
const icsEvents = (text: string) => {
  const events: Record<string, string>[] = [];
  let current: Record<string, string> | null = null;
  for (const line of icsLines(text)) {
    if (line === 'BEGIN:VEVENT') current = {};
    else if (line === 'END:VEVENT') {
      events.push(current!);
      current = null;
    } else if (current) {
      const colon = line.indexOf(':');
      current[line.slice(0, colon)] = line.slice(colon + 1);
    }
  }
  return events;
};

describe('duty rotations', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  let ltResponder: TestUser;
  let plPoc: TestUser;
  let eePoc: TestUser;
  let coordinator: TestUser;
  let admin: TestUser;
  let ona: string;
  let jonas: string;
  let rasa: string;
  let kati: string;
  let primary: Record<string, any>;

  before(async () => {
    node = await startTestNode({ now: '2026-10-20T12:00:00Z' });
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    ltResponder = await node.user('lt.responder', 'LT', ['responder']);
    plPoc = await node.user('pl.poc', 'PL', ['poc']);
    eePoc = await node.user('ee.poc', 'EE', ['poc']);
    coordinator = await node.user('duty.officer', 'FI', ['coordinator']);
    admin = await node.user('root', 'LT', ['admin']);
    ona = await responder(ltPoc, 'Ona', 'LT', 'Europe/Vilnius');
    jonas = await responder(ltPoc, 'Jonas', 'LT', 'Europe/Vilnius');
    rasa = await responder(ltPoc, 'Rasa', 'LT', 'Europe/Vilnius');
    kati = await responder(eePoc, 'Kati', 'EE', 'Europe/Tallinn');
  });
  after(() => node.close());

  const get = (user: TestUser, url: string) =>
    node.request({ method: 'GET', url: `${api}${url}`, headers: user.headers });
  const post = (user: TestUser, url: string, payload: object) =>
    node.request({ method: 'POST', url: `${api}${url}`, headers: user.headers, payload });
  async function responder(user: TestUser, name: string, party: string, zone: string) {
    const res = await post(user, '/responders', responderBody(name, party, zone));
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  }
  const rotation = (overrides: object) => ({
    name: 'Primary on-call',
    timeZone: 'Europe/Vilnius',
    startsOn: '2026-10-23',
    shiftStart: '08:00',
    shiftHours: 24,
    shiftDays: 1,
    ...overrides,
  });
  async function create(user: TestUser, body: object) {
    const res = await post(user, '/rotations', body);
    assert.equal(res.statusCode, 201, res.body);
    return json(res);
  }
  async function shifts(id: string, from: string, to: string, user: TestUser = ltPoc) {
    const res = await get(user, `/rotations/${id}/shifts?from=${from}&to=${to}`);
    assert.equal(res.statusCode, 200, res.body);
    return json(res).items as Record<string, any>[];
  }
  const brief = (items: Record<string, any>[]) =>
    items.map((s) => [s.responderId, s.start, s.end, s.local.start, s.local.end]);

  describe('daylight-saving changes', () => {
    it('a Vilnius 24-hour rotation keeps 08:00 local across the end of summer time (25 Oct 2026)', async () => {
      primary = await create(ltPoc, rotation({ responderIds: [ona, jonas] }));
      assert.equal(primary.version, 1);
      assert.equal(primary.party, 'LT');
      const items = await shifts(primary.id, '2026-10-23T00:00:00Z', '2026-10-26T12:00:00Z');
      assert.deepEqual(brief(items), [
        [
          ona,
          '2026-10-23T05:00:00.000Z',
          '2026-10-24T05:00:00.000Z',
          '2026-10-23T08:00:00+03:00',
          '2026-10-24T08:00:00+03:00',
        ],
        // Spans the change: 25 hours, from 08:00 summer time to 08:00 winter time.
        [
          jonas,
          '2026-10-24T05:00:00.000Z',
          '2026-10-25T06:00:00.000Z',
          '2026-10-24T08:00:00+03:00',
          '2026-10-25T08:00:00+02:00',
        ],
        [
          ona,
          '2026-10-25T06:00:00.000Z',
          '2026-10-26T06:00:00.000Z',
          '2026-10-25T08:00:00+02:00',
          '2026-10-26T08:00:00+02:00',
        ],
        [
          jonas,
          '2026-10-26T06:00:00.000Z',
          '2026-10-27T06:00:00.000Z',
          '2026-10-26T08:00:00+02:00',
          '2026-10-27T08:00:00+02:00',
        ],
      ]);
      assert.deepEqual(
        items.map((s) => s.index),
        [0, 1, 2, 3],
      );
      assert.equal(items[0]!.local.timeZone, 'Europe/Vilnius');
      assert.equal(items[0]!.responderName, 'Ona');
      assert.equal(items[0]!.rotationName, 'Primary on-call');
    });

    it('a Warsaw 12-hour night shift across the change lasts 12 elapsed hours (ends 07:00 local)', async () => {
      const [anna, piotr] = [
        await responder(plPoc, 'Anna', 'PL', 'Europe/Warsaw'),
        await responder(plPoc, 'Piotr', 'PL', 'Europe/Warsaw'),
      ];
      const nights = await create(
        plPoc,
        rotation({
          name: 'Nights',
          timeZone: 'Europe/Warsaw',
          startsOn: '2026-10-24',
          shiftStart: '20:00',
          shiftHours: 12,
          responderIds: [anna, piotr],
        }),
      );
      assert.equal(nights.party, 'PL');
      const items = await shifts(nights.id, '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z', plPoc);
      assert.deepEqual(brief(items), [
        [
          anna,
          '2026-10-24T18:00:00.000Z',
          '2026-10-25T06:00:00.000Z',
          '2026-10-24T20:00:00+02:00',
          '2026-10-25T07:00:00+01:00',
        ],
        [
          piotr,
          '2026-10-25T19:00:00.000Z',
          '2026-10-26T07:00:00.000Z',
          '2026-10-25T20:00:00+01:00',
          '2026-10-26T08:00:00+01:00',
        ],
      ]);
    });

    it('Vilnius weekly and Warsaw daily rotations keep their local hours across 28 March 2027', async () => {
      const weekly = await create(
        ltPoc,
        rotation({
          name: 'Weekly lead',
          startsOn: '2027-03-22',
          shiftStart: '09:00',
          shiftDays: 7,
          shiftHours: 168,
          responderIds: [await responder(ltPoc, 'Vytautas', 'LT', 'Europe/Vilnius'), rasa],
        }),
      );
      assert.deepEqual(brief(await shifts(weekly.id, '2027-03-22T00:00:00Z', '2027-04-06T00:00:00Z')), [
        // 167 hours: the week loses the hour clocks skip.
        [
          weekly.responderIds[0],
          '2027-03-22T07:00:00.000Z',
          '2027-03-29T06:00:00.000Z',
          '2027-03-22T09:00:00+02:00',
          '2027-03-29T09:00:00+03:00',
        ],
        [
          rasa,
          '2027-03-29T06:00:00.000Z',
          '2027-04-05T06:00:00.000Z',
          '2027-03-29T09:00:00+03:00',
          '2027-04-05T09:00:00+03:00',
        ],
        [
          weekly.responderIds[0],
          '2027-04-05T06:00:00.000Z',
          '2027-04-12T06:00:00.000Z',
          '2027-04-05T09:00:00+03:00',
          '2027-04-12T09:00:00+03:00',
        ],
      ]);

      const marek = await responder(plPoc, 'Marek', 'PL', 'Europe/Warsaw');
      const days = await create(
        plPoc,
        rotation({
          name: 'Day desk',
          timeZone: 'Europe/Warsaw',
          startsOn: '2027-03-27',
          shiftHours: 8,
          responderIds: [marek],
        }),
      );
      assert.deepEqual(brief(await shifts(days.id, '2027-03-27T00:00:00Z', '2027-03-30T00:00:00Z', plPoc)), [
        [
          marek,
          '2027-03-27T07:00:00.000Z',
          '2027-03-27T15:00:00.000Z',
          '2027-03-27T08:00:00+01:00',
          '2027-03-27T16:00:00+01:00',
        ],
        [
          marek,
          '2027-03-28T06:00:00.000Z',
          '2027-03-28T14:00:00.000Z',
          '2027-03-28T08:00:00+02:00',
          '2027-03-28T16:00:00+02:00',
        ],
        [
          marek,
          '2027-03-29T06:00:00.000Z',
          '2027-03-29T14:00:00.000Z',
          '2027-03-29T08:00:00+02:00',
          '2027-03-29T16:00:00+02:00',
        ],
      ]);
    });

    it('a shift starting in the skipped hour of spring-forward starts an hour later on the wall clock', async () => {
      const tomasz = await responder(plPoc, 'Tomasz', 'PL', 'Europe/Warsaw');
      const night = await create(
        plPoc,
        rotation({
          name: 'Small hours',
          timeZone: 'Europe/Warsaw',
          startsOn: '2027-03-27',
          shiftStart: '02:30',
          shiftHours: 4,
          responderIds: [tomasz],
        }),
      );
      assert.deepEqual(brief(await shifts(night.id, '2027-03-27T00:00:00Z', '2027-03-30T00:00:00Z', plPoc)), [
        [
          tomasz,
          '2027-03-27T01:30:00.000Z',
          '2027-03-27T05:30:00.000Z',
          '2027-03-27T02:30:00+01:00',
          '2027-03-27T06:30:00+01:00',
        ],
        // 02:30 does not exist on 28 March in Warsaw (02:00 → 03:00): moved forward by the gap.
        [
          tomasz,
          '2027-03-28T01:30:00.000Z',
          '2027-03-28T05:30:00.000Z',
          '2027-03-28T03:30:00+02:00',
          '2027-03-28T07:30:00+02:00',
        ],
        [
          tomasz,
          '2027-03-29T00:30:00.000Z',
          '2027-03-29T04:30:00.000Z',
          '2027-03-29T02:30:00+02:00',
          '2027-03-29T06:30:00+02:00',
        ],
      ]);
    });

    it('a start in the repeated hour of fall-back is its first occurrence', () => {
      const wall = { year: 2026, month: 10, day: 25, hour: 2, minute: 30 };
      assert.equal(localInstant('Europe/Warsaw', wall).toUTC().toISO(), '2026-10-25T00:30:00.000Z');
      assert.equal(localInstant('Europe/Warsaw', wall).offset, 120);
      assert.equal(
        localInstant('Europe/Vilnius', { ...wall, hour: 3 })
          .toUTC()
          .toISO(),
        '2026-10-25T00:30:00.000Z',
      );
      // An ordinary hour that day is untouched.
      assert.equal(
        localInstant('Europe/Warsaw', { ...wall, hour: 5, minute: 0 })
          .toUTC()
          .toISO(),
        '2026-10-25T04:00:00.000Z',
      );
    });
  });

  describe('iCalendar feeds', () => {
    it('a party feed holds its shifts with UTC times that are right across the change', async () => {
      const res = await get(ltPoc, '/parties/LT/duty.ics');
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^text\/calendar/);
      assert.ok(res.body.startsWith('BEGIN:VCALENDAR\r\nVERSION:2.0\r\n'));
      assert.ok(res.body.endsWith('END:VCALENDAR\r\n'));
      for (const line of res.body.split('\r\n')) assert.ok(Buffer.byteLength(line) <= 75, line);
      const events = icsEvents(res.body).filter((e) => e.UID!.startsWith(primary.id));
      // From a week before now (20 Oct) to eight weeks after: 23 Oct is the first day.
      assert.equal(events.length, 56 - 3 + 1);
      const byUid = new Map(events.map((e) => [e.UID, e]));
      const spanning = byUid.get(`${primary.id}-1@vytis`)!;
      assert.equal(spanning.DTSTART, '20261024T050000Z');
      assert.equal(spanning.DTEND, '20261025T060000Z');
      assert.equal(spanning.SUMMARY, 'On duty: Primary on-call (LT) — Jonas');
      const winter = byUid.get(`${primary.id}-2@vytis`)!;
      assert.equal(winter.DTSTART, '20261025T060000Z');
      assert.equal(winter.DTEND, '20261026T060000Z');
      assert.match(winter.DESCRIPTION!, /2026-10-25T08:00:00\+02:00/);
      assert.equal(winter.STATUS, 'CONFIRMED');
    });

    it('a responder feed holds only that responder’s shifts, with stable UIDs', async () => {
      const first = await get(ltResponder, `/responders/${ona}/duty.ics`);
      assert.equal(first.statusCode, 200, first.body);
      const events = icsEvents(first.body).filter((e) => e.UID!.startsWith(primary.id));
      assert.ok(events.length > 20);
      for (const e of events) {
        assert.equal(Number(/-(\d+)@vytis$/.exec(e.UID!)![1]) % 2, 0, 'Ona holds the even shifts');
        assert.equal(e.SUMMARY, 'On duty: Primary on-call (LT)');
        assert.match(e.DTSTART!, /^\d{8}T\d{6}Z$/);
      }
      node.clock.advance(3_600_000);
      const again = await get(ltResponder, `/responders/${ona}/duty.ics`);
      assert.deepEqual(
        icsEvents(again.body).map((e) => e.UID),
        icsEvents(first.body).map((e) => e.UID),
      );
      node.clock.set('2026-10-20T12:00:00Z');
    });

    it('escapes text and folds long lines as RFC 5545 says', () => {
      assert.equal(escapeText('a,b;c\\d\ne'), 'a\\,b\\;c\\\\d\\ne');
      const long = `SUMMARY:${'ą'.repeat(60)}`;
      const folded = fold(long);
      for (const line of folded.split('\r\n')) assert.ok(Buffer.byteLength(line) <= 75);
      assert.equal(folded.replace(/\r\n /g, ''), long);
    });
  });

  describe('who is on duty', () => {
    it('lists the shifts under way, flags leave, and onDuty leaves the absent out', async () => {
      const at = '2026-10-24T12:00:00Z';
      let res = await get(ltResponder, `/parties/LT/duty?from=${at}`);
      assert.equal(res.statusCode, 200, res.body);
      let items = json(res).items as Record<string, any>[];
      assert.deepEqual(
        items.map((s) => [s.rotationName, s.responderName, s.unavailable]),
        [['Primary on-call', 'Jonas', false]],
      );
      assert.deepEqual(await node.services.rotations.onDuty('LT', new Date(at)), [jonas]);

      const leave = await node.request({
        method: 'PUT',
        url: `${api}/responders/${jonas}/availability`,
        headers: ltPoc.headers,
        payload: {
          unavailability: [
            { from: '2026-10-24T10:00:00Z', to: '2026-10-24T14:00:00Z', kind: 'leave', note: 'dentist' },
          ],
        },
      });
      assert.equal(leave.statusCode, 200, leave.body);
      res = await get(coordinator, `/parties/LT/duty?from=${at}`);
      items = json(res).items;
      assert.equal(items.length, 1);
      assert.equal(items[0]!.unavailable, true);
      assert.deepEqual(items[0]!.unavailability, [
        { kind: 'leave', from: '2026-10-24T10:00:00.000Z', to: '2026-10-24T14:00:00.000Z', note: 'dentist' },
      ]);
      assert.deepEqual(await node.services.rotations.onDuty('LT', new Date(at)), []);
      assert.deepEqual(await node.services.rotations.onDuty('LT', new Date('2026-10-24T15:00:00Z')), [jonas]);

      const feed = await get(ltPoc, `/responders/${jonas}/duty.ics`);
      const shift = icsEvents(feed.body).find((e) => e.UID === `${primary.id}-1@vytis`)!;
      assert.equal(shift.STATUS, 'TENTATIVE');
      assert.match(shift.DESCRIPTION!, /unavailable.*leave/);
    });

    it('lists a range of shifts of every rotation, in order', async () => {
      const res = await get(ltPoc, '/parties/LT/duty?from=2026-10-23T00:00:00Z&to=2026-10-25T00:00:00Z');
      assert.equal(res.statusCode, 200, res.body);
      const body = json(res);
      assert.equal(body.from, '2026-10-23T00:00:00.000Z');
      assert.equal(body.to, '2026-10-25T00:00:00.000Z');
      assert.deepEqual(
        body.items.map((s: any) => s.start),
        ['2026-10-23T05:00:00.000Z', '2026-10-24T05:00:00.000Z'],
      );
    });

    it('refuses an empty or too long range, naming the field', async () => {
      for (const q of [
        'from=2026-10-23T00:00:00Z&to=2026-10-22T00:00:00Z',
        'from=2026-10-23T00:00:00Z&to=2027-10-22T00:00:00Z',
      ]) {
        const res = await get(ltPoc, `/parties/LT/duty?${q}`);
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(json(res).error.details[0].field, 'querystring/to');
      }
      const bad = await get(ltPoc, '/parties/LT/duty?from=yesterday');
      assert.equal(bad.statusCode, 400);
      assert.match(json(bad).error.message, /querystring\/from/);
    });
  });

  describe('overlapping shifts', () => {
    it('refuses a responder on two of the party’s rotations at once, naming them and the first overlap', async () => {
      const res = await post(
        ltPoc,
        '/rotations',
        rotation({ name: 'Night desk', shiftStart: '20:00', shiftHours: 12, responderIds: [ona, rasa] }),
      );
      assert.equal(res.statusCode, 409, res.body);
      const { error } = json(res);
      assert.equal(error.code, 'conflict');
      assert.match(error.message, /overlapping shifts: Ona/);
      assert.match(error.message, /"Night desk" from 2026-10-23T20:00:00\+03:00/);
      assert.match(error.message, /"Primary on-call" from 2026-10-23T08:00:00\+03:00/);
      assert.equal(error.details.field, 'body/responderIds/0');
      assert.equal(error.details.responderId, ona);
      assert.equal(error.details.rotationId, primary.id);
    });

    it('accepts shifts that only touch (one ends as the other starts)', async () => {
      const night = await create(
        ltPoc,
        rotation({ name: 'Night desk', shiftStart: '20:00', shiftHours: 12, responderIds: [rasa, ona] }),
      );
      assert.equal(night.name, 'Night desk');
    });
  });

  describe('access', () => {
    it('another state’s PoC gets 404 on the rotation, its shifts, the duty and the feeds', async () => {
      for (const url of [
        `/rotations/${primary.id}`,
        `/rotations/${primary.id}/shifts`,
        '/parties/LT/duty',
        '/parties/LT/duty.ics',
        `/responders/${ona}/duty.ics`,
      ]) {
        const res = await get(eePoc, url);
        assert.equal(res.statusCode, 404, `${url}: ${res.body}`);
      }
      const del = await node.request({
        method: 'DELETE',
        url: `${api}/rotations/${primary.id}`,
        headers: eePoc.headers,
      });
      assert.equal(del.statusCode, 404);
      const list = json(await get(eePoc, '/rotations?party=LT'));
      assert.deepEqual(list.items, []);
      assert.equal(json(await get(eePoc, '/rotations')).items.length, 0);
    });

    it('coordinators and admins see every party’s; a party’s own users see its own', async () => {
      const all = json(await get(coordinator, '/rotations')).items.map((r: any) => r.party);
      assert.ok(all.includes('LT') && all.includes('PL'));
      assert.equal((await get(coordinator, `/responders/${ona}/duty.ics`)).statusCode, 200);
      assert.equal((await get(admin, '/parties/PL/duty.ics')).statusCode, 200);
      const own = json(await get(ltResponder, '/rotations')).items.map((r: any) => r.party);
      assert.ok(own.length > 0 && own.every((p: string) => p === 'LT'));
      assert.equal((await get(ltResponder, `/rotations/${primary.id}`)).statusCode, 200);
      assert.equal((await get(ltResponder, '/parties/PL/duty')).statusCode, 404);
    });

    it('only the party’s PoC or an admin keeps its rotations', async () => {
      const res = await post(eePoc, '/rotations', rotation({ party: 'LT', responderIds: [ona] }));
      assert.equal(res.statusCode, 403);
      const other = await post(eePoc, '/rotations', rotation({ name: 'EE', responderIds: [kati, ona] }));
      assert.equal(other.statusCode, 400, other.body);
      assert.deepEqual(json(other).error.details, [
        { field: 'body/responderIds/1', message: `no responder ${ona}` },
      ]);
      const mixed = await post(
        admin,
        '/rotations',
        rotation({ party: 'LT', name: 'Mixed', responderIds: [kati] }),
      );
      assert.equal(mixed.statusCode, 400);
      assert.equal(json(mixed).error.details[0].field, 'body/responderIds/0');
      assert.match(json(mixed).error.details[0].message, /Kati is a responder of EE, not of LT/);
    });
  });

  describe('bad input', () => {
    const fieldsOf = (res: { body: string }) => (json(res as any).error.details as any[]).map((d) => d.field);

    it('names the time zone, the day, the start time and the shift length', async () => {
      const res = await post(
        ltPoc,
        '/rotations',
        rotation({
          timeZone: 'Mars/Base',
          startsOn: '2027-02-30',
          shiftStart: '25:00',
          shiftHours: 30,
          responderIds: [rasa],
        }),
      );
      assert.equal(res.statusCode, 400, res.body);
      assert.deepEqual(fieldsOf(res), [
        'body/timeZone',
        'body/startsOn',
        'body/shiftStart',
        'body/shiftHours',
      ]);
      assert.match(json(res).error.message, /Mars\/Base is not an IANA time zone/);
      for (const shiftStart of ['8:00', '08:60', '0800', 'noon']) {
        const bad = await post(ltPoc, '/rotations', rotation({ shiftStart, responderIds: [rasa] }));
        assert.equal(bad.statusCode, 400, shiftStart);
        assert.deepEqual(fieldsOf(bad), ['body/shiftStart']);
      }
      const zone = await post(ltPoc, '/rotations', rotation({ timeZone: 'EET+2', responderIds: [rasa] }));
      assert.deepEqual(fieldsOf(zone), ['body/timeZone']);
    });

    it('refuses an empty responder list and unknown fields', async () => {
      const empty = await post(ltPoc, '/rotations', rotation({ responderIds: [] }));
      assert.equal(empty.statusCode, 400);
      assert.deepEqual(fieldsOf(empty), ['body/responderIds']);
      const unknown = await post(ltPoc, '/rotations', rotation({ responderIds: [rasa], colour: 'red' }));
      assert.equal(unknown.statusCode, 400);
      assert.deepEqual(fieldsOf(unknown), ['body/colour']);
      const notUuid = await post(ltPoc, '/rotations', rotation({ responderIds: ['ona'] }));
      assert.deepEqual(fieldsOf(notUuid), ['body/responderIds/0']);
    });

    it('keeps to the years 1000 to 9998: days past them are a 400, windows into 9999 are answered', async () => {
      for (const startsOn of ['0000-01-01', '0999-12-31', '9999-06-01']) {
        const res = await post(ltPoc, '/rotations', rotation({ startsOn, responderIds: [rasa] }));
        assert.equal(res.statusCode, 400, res.body);
        assert.deepEqual(fieldsOf(res), ['body/startsOn']);
        assert.match(json(res).error.message, /from 1000-01-01 to 9998-12-31/);
      }
      for (const from of ['9999-12-20T00:00:00Z', '0000-01-01T00:00:00Z', '9998-12-31T23:59:59-14:00']) {
        const shifts = await get(ltPoc, `/rotations/${primary.id}/shifts?from=${encodeURIComponent(from)}`);
        assert.equal(shifts.statusCode, 400, shifts.body);
        assert.deepEqual(fieldsOf(shifts), ['querystring/from']);
        const duty = await get(ltPoc, `/parties/LT/duty?from=${encodeURIComponent(from)}`);
        assert.equal(duty.statusCode, 400, duty.body);
      }
      // The last day accepted, and the default 14 days after it, reach into 9999: still shifts.
      const last = await get(ltPoc, `/rotations/${primary.id}/shifts?from=9998-12-31T00:00:00Z`);
      assert.equal(last.statusCode, 200, last.body);
      assert.equal(json(last).to, '9999-01-14T00:00:00.000Z');
      assert.equal(json(last).items.length, 15);
    });
  });

  describe('ending a rotation', () => {
    it('checks If-Match, removes it, and audits creation and removal', async () => {
      const temp = await create(
        ltPoc,
        rotation({
          name: 'Temporary',
          startsOn: '2027-06-01',
          responderIds: [await responder(ltPoc, 'Temp', 'LT', 'Europe/Vilnius')],
        }),
      );
      const stale = await node.request({
        method: 'DELETE',
        url: `${api}/rotations/${temp.id}`,
        headers: { ...ltPoc.headers, 'if-match': '"7"' },
      });
      assert.equal(stale.statusCode, 412);
      const coord = await node.request({
        method: 'DELETE',
        url: `${api}/rotations/${temp.id}`,
        headers: coordinator.headers,
      });
      assert.equal(coord.statusCode, 403);
      const res = await node.request({
        method: 'DELETE',
        url: `${api}/rotations/${temp.id}`,
        headers: { ...ltPoc.headers, 'if-match': '"1"' },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(json(res).name, 'Temporary');
      assert.equal((await get(ltPoc, `/rotations/${temp.id}`)).statusCode, 404);
      const events = await node.services.audit.page({ objectId: temp.id }, 'asc', 10);
      assert.deepEqual(
        events.items.map((e: any) => [e.action, e.actor.name]),
        [
          ['rotation.create', 'lt.poc'],
          ['rotation.delete', 'lt.poc'],
        ],
      );
    });
  });

  describe('secret calendar subscription URLs', () => {
    const feeds = (user: TestUser) => get(user, '/calendar-feeds');
    const fetchFeed = (path: string) => node.request({ method: 'GET', url: path });

    it('a feed URL works with no credential, shows what its user may see, and is listed without its secret', async () => {
      const created = await post(ltResponder, '/calendar-feeds', {
        kind: 'responder',
        responderId: ona,
        label: 'phone',
      });
      assert.equal(created.statusCode, 201, created.body);
      const { url, path, token, info } = json(created);
      assert.match(token, /^vcal_[A-Za-z0-9_-]{43}$/);
      assert.equal(path, `/api/v1/calendar-feeds/${token}/duty.ics`);
      assert.ok(url.endsWith(path), url);
      assert.deepEqual(
        { ...info, id: undefined, createdAt: undefined },
        {
          id: undefined,
          kind: 'responder',
          responderId: ona,
          party: null,
          label: 'phone',
          createdAt: undefined,
          lastUsedAt: null,
          revokedAt: null,
        },
      );

      const viaUrl = await fetchFeed(path);
      assert.equal(viaUrl.statusCode, 200, viaUrl.body);
      assert.match(String(viaUrl.headers['content-type']), /^text\/calendar/);
      assert.equal(viaUrl.headers['cache-control'], 'private, no-store');
      const withToken = await get(ltResponder, `/responders/${ona}/duty.ics`);
      assert.equal(viaUrl.body, withToken.body, 'the same calendar as with a bearer token');

      const listed = json(await feeds(ltResponder)).items;
      assert.equal(listed.length, 1);
      assert.equal(listed[0].id, info.id);
      assert.ok(listed[0].lastUsedAt, 'the fetch is noted');
      assert.ok(!JSON.stringify(listed).includes(token), 'the secret is never shown again');
      assert.deepEqual(json(await feeds(eePoc)).items, [], "nobody sees another user's feeds");
      const stored = await node.database.db
        .selectFrom('calendar_feeds')
        .select('token_hash')
        .where('id', '=', info.id)
        .executeTakeFirstOrThrow();
      assert.notEqual(stored.token_hash, token);
      assert.ok(!stored.token_hash.includes(token.slice(5)), 'only a hash of the secret is stored');
    });

    it('revoking a feed makes its URL a 404 at once; only its user (or an admin) revokes it; audited', async () => {
      const created = json(await post(ltPoc, '/calendar-feeds', { kind: 'party', party: 'LT' }));
      assert.equal((await fetchFeed(created.path)).statusCode, 200);
      const del = (user: TestUser, id: string) =>
        node.request({ method: 'DELETE', url: `${api}/calendar-feeds/${id}`, headers: user.headers });
      assert.equal((await del(ltResponder, created.info.id)).statusCode, 404, "not another user's");
      const revoked = await del(ltPoc, created.info.id);
      assert.equal(revoked.statusCode, 200, revoked.body);
      assert.ok(json(revoked).revokedAt);
      const gone = await fetchFeed(created.path);
      assert.equal(gone.statusCode, 404);
      assert.equal(json(gone).error.code, 'not_found');
      assert.equal((await del(ltPoc, created.info.id)).statusCode, 409);
      assert.ok(json(await feeds(ltPoc)).items.find((f: any) => f.id === created.info.id).revokedAt);

      const another = json(await post(ltPoc, '/calendar-feeds', { kind: 'party', party: 'LT' }));
      assert.equal((await del(admin, another.info.id)).statusCode, 200, 'an admin may revoke any');
      assert.equal((await fetchFeed(another.path)).statusCode, 404);

      const events = await node.services.audit.page({ objectId: created.info.id }, 'asc', 10);
      assert.deepEqual(
        events.items.map((e: any) => [e.action, e.actor.name]),
        [
          ['calendar_feed.create', 'lt.poc'],
          ['calendar_feed.revoke', 'lt.poc'],
        ],
      );
    });

    it('an unknown secret is a 404; a disabled user’s feeds stop; nobody makes a feed of what they cannot see', async () => {
      assert.equal(
        (await fetchFeed(`${api}/calendar-feeds/vcal_${'x'.repeat(43)}/duty.ics`)).statusCode,
        404,
      );
      assert.equal((await fetchFeed(`${api}/calendar-feeds/${'x'.repeat(101)}/duty.ics`)).statusCode, 404);

      const foreign = await post(eePoc, '/calendar-feeds', { kind: 'responder', responderId: ona });
      assert.equal(foreign.statusCode, 404, "EE's PoC cannot see LT's responders");
      const foreignParty = await post(eePoc, '/calendar-feeds', { kind: 'party', party: 'LT' });
      assert.equal(foreignParty.statusCode, 404);
      const missing = await post(ltPoc, '/calendar-feeds', { kind: 'responder' });
      assert.equal(missing.statusCode, 400);
      assert.deepEqual(json(missing).error.details, [
        { field: 'body/responderId', message: 'is required for kind responder' },
      ]);
      const mixed = await post(ltPoc, '/calendar-feeds', { kind: 'party', party: 'LT', responderId: ona });
      assert.equal(mixed.statusCode, 400);
      assert.equal(json(mixed).error.details[0].field, 'body/responderId');
      const noAccount = await node.request({
        method: 'POST',
        url: `${api}/calendar-feeds`,
        payload: { kind: 'party', party: 'LT' },
      });
      assert.equal(noAccount.statusCode, 401);

      const leaver = await node.user('lt.leaver', 'LT', ['responder']);
      const feed = json(await post(leaver, '/calendar-feeds', { kind: 'party', party: 'LT' }));
      assert.equal((await fetchFeed(feed.path)).statusCode, 200);
      const user = json(await get(admin, `/users/${leaver.id}`));
      const disabled = await node.request({
        method: 'POST',
        url: `${api}/users/${leaver.id}/disable`,
        headers: { ...admin.headers, 'if-match': `"${user.version}"` },
        payload: { reason: 'left the force' },
      });
      assert.equal(disabled.statusCode, 200, disabled.body);
      assert.equal((await fetchFeed(feed.path)).statusCode, 404, 'a disabled user’s feed stops');
    });

    it('a refused feed URL is audited as a denial, rate-limited per address, and a refused fetch does not touch the feed', async () => {
      const denied = async () =>
        (await node.services.audit.page({ action: 'calendar_feed.denied' }, 'asc', 1000)).items as any[];
      const fetchFrom = (path: string, remoteAddress: string) =>
        node.request({ method: 'GET', url: path, remoteAddress });
      const before = (await denied()).length;

      // A coordinator's feed of another party's roster, never fetched yet.
      const officer = await node.user('lt.officer', 'LT', ['coordinator']);
      const feed = json(await post(officer, '/calendar-feeds', { kind: 'party', party: 'EE' }));
      assert.equal(feed.info.lastUsedAt, null);
      // No longer a coordinator: EE's roster is out of sight, and so is the feed.
      const user = json(await get(admin, `/users/${officer.id}`));
      const demoted = await node.request({
        method: 'PUT',
        url: `${api}/users/${officer.id}/roles`,
        headers: { ...admin.headers, 'if-match': `"${user.version}"` },
        payload: { roles: ['responder'] },
      });
      assert.equal(demoted.statusCode, 200, demoted.body);
      const hidden = await fetchFrom(feed.path, '198.51.100.7');
      assert.equal(hidden.statusCode, 404);
      assert.deepEqual(json(hidden).error, { code: 'not_found', message: 'calendar feed not found' });
      const listed = json(await get(officer, '/calendar-feeds')).items.find(
        (f: any) => f.id === feed.info.id,
      );
      assert.equal(listed.lastUsedAt, null, 'a refused fetch is not a use of the feed');

      // Unknown and revoked secrets: the same 404, each audited with why (never the secret).
      const unknown = `vcal_${'u'.repeat(43)}`;
      assert.equal(
        (await fetchFrom(`${api}/calendar-feeds/${unknown}/duty.ics`, '198.51.100.7')).statusCode,
        404,
      );
      const revokedFeed = json(await post(ltPoc, '/calendar-feeds', { kind: 'party', party: 'LT' }));
      await node.request({
        method: 'DELETE',
        url: `${api}/calendar-feeds/${revokedFeed.info.id}`,
        headers: ltPoc.headers,
      });
      assert.equal((await fetchFrom(revokedFeed.path, '198.51.100.7')).statusCode, 404);

      const written = (await denied()).slice(before);
      assert.deepEqual(
        written.map((e) => [e.actor.name, e.object, e.summary]),
        [
          [
            'anonymous',
            { type: 'route', id: 'GET /api/v1/calendar-feeds/:token/duty.ics' },
            { status: 404, reason: 'not_visible', feedId: feed.info.id },
          ],
          [
            'anonymous',
            { type: 'route', id: 'GET /api/v1/calendar-feeds/:token/duty.ics' },
            { status: 404, reason: 'unknown', feedId: null },
          ],
          [
            'anonymous',
            { type: 'route', id: 'GET /api/v1/calendar-feeds/:token/duty.ics' },
            { status: 404, reason: 'revoked', feedId: revokedFeed.info.id },
          ],
        ],
      );
      assert.ok(!JSON.stringify(written).includes(unknown.slice(5)), 'the secret is not written to the log');

      // A prober looping over secrets: the first 10 a minute per address are written, the rest counted.
      for (let i = 0; i < 25; i++) {
        const res = await fetchFrom(
          `${api}/calendar-feeds/vcal_${String(i).padStart(43, 'p')}/duty.ics`,
          '203.0.113.9',
        );
        assert.equal(res.statusCode, 404);
      }
      assert.equal((await denied()).length, before + 3 + 10);
      node.clock.advance(61_000);
      await fetchFrom(`${api}/calendar-feeds/${unknown}/duty.ics`, '203.0.113.9');
      const aggregated = (
        await node.services.audit.page(
          { action: 'access.denied.aggregated', objectId: 'address:203.0.113.9' },
          'asc',
          10,
        )
      ).items as any[];
      assert.equal(aggregated.length, 1);
      assert.equal(aggregated[0].summary.count, 15);
      assert.deepEqual(aggregated[0].summary.statuses, { '404': 15 });
      assert.deepEqual(aggregated[0].summary.routes, ['GET /api/v1/calendar-feeds/:token/duty.ics']);
    });

    it('a user holds at most 50 live feeds (409 beyond, saying what to do); the list pages through all of them, live first', async () => {
      const holder = await node.user('lt.holder', 'LT', ['responder']);
      const ids: string[] = [];
      for (let i = 0; i < 50; i++) {
        const res = await post(holder, '/calendar-feeds', {
          kind: 'party',
          party: 'LT',
          label: `device ${i}`,
        });
        assert.equal(res.statusCode, 201, res.body);
        ids.push(json(res).info.id);
        node.clock.advance(1_000);
      }
      const refused = await post(holder, '/calendar-feeds', { kind: 'party', party: 'LT' });
      assert.equal(refused.statusCode, 409, refused.body);
      assert.match(
        json(refused).error.message,
        /^you already have 50 live calendar feeds, the most one user may hold \(50\): revoke one you no longer use/,
      );
      const revoked = await node.request({
        method: 'DELETE',
        url: `${api}/calendar-feeds/${ids[49]}`,
        headers: holder.headers,
      });
      assert.equal(revoked.statusCode, 200, revoked.body);
      node.clock.advance(1_000);
      const again = await post(holder, '/calendar-feeds', { kind: 'party', party: 'LT', label: 'new phone' });
      assert.equal(again.statusCode, 201, again.body);
      ids.push(json(again).info.id);

      const first = json(await get(holder, '/calendar-feeds'));
      assert.equal(first.items.length, 51, 'the default page holds every feed here');
      assert.equal(first.nextCursor, null);
      assert.deepEqual(
        first.items.map((f: any) => f.id),
        [...ids.slice(0, 49), ids[50]].reverse().concat([ids[49]]),
        'live ones newest first, then the revoked one',
      );
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await get(holder, `/calendar-feeds?limit=20${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(res.statusCode, 200, res.body);
        paged.push(...json(res).items.map((f: any) => f.id));
        cursor = json(res).nextCursor;
      } while (cursor);
      assert.deepEqual(
        paged,
        first.items.map((f: any) => f.id),
      );
      const foreign = await get(holder, '/calendar-feeds?cursor=bm9wZQ');
      assert.equal(foreign.statusCode, 400);
      assert.equal(json(foreign).error.details[0].field, 'querystring/cursor');
    });
  });
});
