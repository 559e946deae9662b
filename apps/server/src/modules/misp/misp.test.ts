import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import AjvDraft04 from 'ajv-draft-04';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { caseEventUuid } from './misp.service.ts';
import { type MispEvent, parseMispEvents } from './misp-event.ts';

const api = '/api/v1';
const MISP_DATA = path.resolve(import.meta.dirname, '../../../data/misp');
const EVENT_FILES = ['galaxy_1.json', 'japanese_test.json', 'mainly_objects_1.json', 'sighting_1.json'];
const eventText = (name: string) => fs.readFileSync(path.join(MISP_DATA, 'events', name), 'utf8');

const ajv = new AjvDraft04.default({ allErrors: true, strict: false, logger: false });
const validateSchemaLax = ajv.compile(
  JSON.parse(fs.readFileSync(path.join(MISP_DATA, 'schema-lax.json'), 'utf8')) as object,
);

function modelOf(text: string | object): MispEvent {
  const parsed = parseMispEvents(typeof text === 'string' ? JSON.parse(text) : text);
  assert.ok('events' in parsed, 'error' in parsed ? parsed.error : '');
  assert.equal(parsed.events.length, 1);
  return parsed.events[0]!;
}

const UUID = (n: number) => `5c7cdc3b-2f40-4dca-8200-${String(n).padStart(12, '0')}`;
const attribute = (n: number, fields: Record<string, unknown> = {}) => ({
  uuid: UUID(n),
  type: 'ip-dst',
  category: 'Network activity',
  value: `198.51.100.${n}`,
  to_ids: true,
  timestamp: '1700000000',
  ...fields,
});
const event = (fields: Record<string, unknown> = {}) => ({
  Event: {
    uuid: '5c7cdc3b-2f40-4dca-8200-aaaaaaaaaaaa',
    info: 'Wiper infrastructure',
    date: '2026-11-30',
    threat_level_id: '1',
    analysis: '1',
    distribution: '2',
    timestamp: '1700000000',
    Orgc: { name: 'CERT-LT', uuid: '5c7cdc3b-2f40-4dca-8200-bbbbbbbbbbbb' },
    Tag: [{ name: 'tlp:green' }],
    Attribute: [attribute(1), attribute(2, { comment: 'C2', Tag: [{ name: 'tlp:amber' }] })],
    ...fields,
  },
});

describe('MISP events in and out of a case', () => {
  let node: TestNode;
  let lt: TestUser;
  let reader: TestUser;
  let fi: TestUser;
  let de: TestUser;
  let lt2: TestUser;

  const call = (method: 'GET' | 'POST', user: TestUser | null, url: string, payload?: string | object) =>
    node.request({
      method,
      url: `${api}${url}`,
      headers: {
        ...(user ? user.headers : {}),
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(payload === undefined
        ? {}
        : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });
  const importInto = async (user: TestUser, id: string, body: string | object, query = '', status = 200) => {
    const res = await call('POST', user, `/cases/${id}/misp${query}`, body);
    assert.equal(res.statusCode, status, res.body);
    return status === 200 ? json(res) : json(res).error;
  };
  const exportOf = async (user: TestUser, id: string, query = '') => {
    const res = await call('GET', user, `/cases/${id}/misp${query}`);
    assert.equal(res.statusCode, 200, res.body);
    return JSON.parse(res.body) as { Event: any };
  };
  const observablesOf = async (user: TestUser, id: string) => {
    const res = await call('GET', user, `/cases/${id}/observables?limit=500`);
    assert.equal(res.statusCode, 200, res.body);
    return json(res).items as any[];
  };
  const newCase = async (title: string, tlp = 'green', shares: object = {}) => {
    const res = await call('POST', lt, '/cases', {
      title,
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'high',
      tlp,
      pap: 'amber',
      shares,
    });
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  };

  before(async () => {
    node = await startTestNode({ importMaxBytes: 4 * 1024 * 1024 });
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    reader = await node.user('lt.council', 'LT', ['council']);
    fi = await node.user('fi.analyst', 'FI', ['analyst']);
    de = await node.user('de.analyst', 'DE', ['analyst']);
    lt2 = await node.user('lt.analyst2', 'LT', ['analyst']);
  });
  after(() => node.close());

  it('round-trips the four CIRCL events with no difference in any field, valid against schema-lax', async () => {
    for (const file of EVENT_FILES) {
      const original = modelOf(eventText(file));
      const first = await newCase(`From ${file}`, 'clear');
      const result = await importInto(lt, first, eventText(file));
      assert.equal(result.events.added, 1, file);
      assert.equal(result.rejected, 0, `${file}: ${JSON.stringify(result.problems)}`);
      const exported = await exportOf(lt, first);
      assert.ok(validateSchemaLax(exported), `${file}: ${JSON.stringify(validateSchemaLax.errors)}`);
      assert.deepEqual(modelOf(exported), original, `${file}: export equals the event imported`);
      // And once more through a second case: import → export → import changes nothing.
      const second = await newCase(`Again ${file}`, 'clear');
      await importInto(lt, second, exported);
      assert.deepEqual(modelOf(await exportOf(lt, second)), original, `${file}: second round`);
      // The same uuids, every export.
      assert.deepEqual(await exportOf(lt, first), exported, `${file}: the export is stable`);
    }
  });

  it('keeps Japanese text, galaxies and sightings, and lists the events with their clusters', async () => {
    const id = await newCase('Japanese test', 'clear');
    await importInto(lt, id, eventText('japanese_test.json'));
    const res = await call('GET', lt, `/cases/${id}/misp/events`);
    assert.equal(res.statusCode, 200, res.body);
    const [summary] = json(res).items;
    const original = modelOf(eventText('japanese_test.json'));
    assert.equal(summary.info, original.info);
    assert.equal(summary.uuid, original.uuid);
    assert.ok(
      summary.tags.some((t: any) => t.name.includes('条イ音態')),
      'the tags keep their script',
    );
    const sightings = await newCase('Sightings', 'clear');
    await importInto(lt, sightings, eventText('sighting_1.json'));
    const [withGalaxy] = json(await call('GET', lt, `/cases/${sightings}/misp/events`)).items;
    assert.ok(
      withGalaxy.galaxies.some((g: any) => g.tagName === 'misp-galaxy:banker="Gozi"'),
      JSON.stringify(withGalaxy.galaxies),
    );
    const exported = modelOf(await exportOf(lt, sightings));
    assert.ok(
      exported.attributes.some((a) => a.sightings.length > 0),
      'sightings are given back',
    );
  });

  it('is idempotent by uuid and timestamp: the same event changes nothing, a later one updates', async () => {
    const id = await newCase('Idempotent');
    const first = await importInto(lt, id, event());
    assert.deepEqual(first.events, { read: 1, added: 1, updated: 0, unchanged: 0 });
    assert.equal(first.imported, 2);
    const again = await importInto(lt, id, event());
    assert.deepEqual(again.events, { read: 1, added: 0, updated: 0, unchanged: 1 });
    assert.deepEqual(again.elements, { added: 0, updated: 0, unchanged: 2 });
    assert.equal(again.imported, 0);
    assert.equal((await observablesOf(lt, id)).length, 2);

    const later = event({
      timestamp: '1700000100',
      info: 'Wiper infrastructure, updated',
      Attribute: [
        attribute(1, { comment: 'now confirmed', timestamp: '1700000100' }),
        attribute(2, { comment: 'C2', Tag: [{ name: 'tlp:amber' }] }),
        attribute(3),
      ],
    });
    const updated = await importInto(lt, id, later);
    assert.deepEqual(updated.events, { read: 1, added: 0, updated: 1, unchanged: 0 });
    assert.deepEqual(updated.elements, { added: 1, updated: 1, unchanged: 1 });
    const exported = modelOf(await exportOf(lt, id));
    assert.equal(exported.info, 'Wiper infrastructure, updated');
    assert.equal(exported.attributes.find((a) => a.uuid === UUID(1))?.comment, 'now confirmed');
    assert.equal(exported.attributes.length, 3);
    // An older one is ignored.
    const older = await importInto(lt, id, event({ info: 'stale' }));
    assert.equal(older.events.unchanged, 1);
    assert.equal(modelOf(await exportOf(lt, id)).info, 'Wiper infrastructure, updated');
  });

  it('maps distribution and tags to TLP, the stricter winning, and gives others only what they may see', async () => {
    const id = await newCase('Labels', 'green');
    await importInto(lt, id, event());
    const observables = await observablesOf(lt, id);
    const tlpOf = (value: string) => observables.find((o) => o.value === value)?.tlp;
    assert.equal(tlpOf('198.51.100.1'), 'green', 'distribution 2 and tlp:green');
    assert.equal(tlpOf('198.51.100.2'), 'amber', 'its own tlp:amber tag is stricter');
    // FI is in the community: GREEN, not AMBER.
    const seen = modelOf(await exportOf(fi, id));
    assert.deepEqual(
      seen.attributes.map((a) => a.value),
      ['198.51.100.1'],
    );
    // A RED case is never passed on; a case one may not see is absent.
    const red = await newCase('Red', 'red');
    await importInto(lt, red, event());
    assert.equal((await call('GET', lt, `/cases/${red}/misp`)).statusCode, 403);
    const amberStrict = await newCase('Not for DE', 'amber+strict');
    assert.equal((await call('GET', de, `/cases/${amberStrict}/misp`)).statusCode, 404);
    assert.equal((await call('POST', de, `/cases/${amberStrict}/misp`, event())).statusCode, 404);
    // Those who only read a case cannot import into it.
    assert.equal((await call('POST', reader, `/cases/${id}/misp`, event())).statusCode, 403);
  });

  it('exports a case without MISP events as its own event, stable, with its observables and labels', async () => {
    const id = await newCase('Native case', 'green');
    for (const value of ['evil.example', 'bad.example']) {
      const res = await call('POST', lt, `/cases/${id}/observables`, { type: 'domain', value, tlp: 'green' });
      assert.equal(res.statusCode, 201, res.body);
    }
    const exported = await exportOf(lt, id);
    assert.ok(validateSchemaLax(exported), JSON.stringify(validateSchemaLax.errors));
    assert.equal(exported.Event.uuid, caseEventUuid(id));
    assert.equal(exported.Event.info, 'Native case');
    assert.deepEqual(
      exported.Event.Tag.map((t: any) => t.name),
      ['tlp:green', 'PAP:AMBER'],
    );
    assert.deepEqual(await exportOf(lt, id), exported, 'stable across exports');
    // Into another case: the same values, the same label.
    const other = await newCase('Copy', 'green');
    const result = await importInto(lt, other, exported);
    assert.equal(result.imported, 2);
    const copied = await observablesOf(lt, other);
    assert.deepEqual(copied.map((o) => [o.value, o.tlp]).sort(), [
      ['bad.example', 'green'],
      ['evil.example', 'green'],
    ]);
    // An event imported next to native observables: it comes back with them as its attributes.
    await importInto(lt, id, event());
    const mixed = modelOf(await exportOf(lt, id));
    assert.equal(mixed.uuid, '5c7cdc3b-2f40-4dca-8200-aaaaaaaaaaaa');
    assert.deepEqual(mixed.attributes.map((a) => a.value).sort(), [
      '198.51.100.1',
      '198.51.100.2',
      'bad.example',
      'evil.example',
    ]);
    const alone = modelOf(await exportOf(lt, id, '?event=5c7cdc3b-2f40-4dca-8200-aaaaaaaaaaaa'));
    assert.equal(alone.attributes.length, 2, 'event= gives the event alone');
  });

  it('refuses bad input with a 4xx that names what to fix, and writes nothing unless partial', async () => {
    const id = await newCase('Bad input');
    const notJson = await importInto(lt, id, '{"Event": ', '', 400);
    assert.match(notJson.message, /not JSON/);
    const notEvent = await importInto(lt, id, { type: 'bundle', objects: [] }, '', 400);
    assert.match(notEvent.message, /not MISP event JSON/);
    const bad = event({
      Attribute: [
        attribute(1),
        attribute(2, { type: 'no-such-type' }),
        attribute(3, { value: 'not an address' }),
      ],
    });
    const refused = await importInto(lt, id, bad, '', 400);
    assert.match(refused.message, /2 object\(s\) cannot be imported/);
    const fields = refused.details.map((d: any) => d.message).join('\n');
    assert.match(fields, /Event\.Attribute\[1\]/);
    assert.match(fields, /Event\.Attribute\[2\]/);
    assert.equal((await observablesOf(lt, id)).length, 0, 'nothing written');
    assert.equal(json(await call('GET', lt, `/cases/${id}/misp/events`)).items.length, 0);
    const partial = await importInto(lt, id, bad, '?partial=true');
    assert.equal(partial.rejected, 2);
    assert.equal(partial.imported, 1);
    const kept = modelOf(await exportOf(lt, id));
    assert.deepEqual(
      kept.attributes.map((a) => a.uuid),
      [UUID(1)],
    );
    const text = await call('POST', lt, `/cases/${id}/misp`, 'x');
    assert.equal(text.statusCode, 400);
    const wrongType = await node.request({
      method: 'POST',
      url: `${api}/cases/${id}/misp`,
      headers: { ...lt.headers, 'content-type': 'text/csv' },
      payload: 'a,b',
    });
    assert.equal(wrongType.statusCode, 415, wrongType.body);
    const deep = await importInto(lt, id, `${'['.repeat(5000)}${']'.repeat(5000)}`, '', 400);
    assert.match(deep.message, /deeper/);
  });

  it('keeps a long free-text attribute as the event’s, not as an observable', async () => {
    const id = await newCase('Long text');
    const long = 'Report. '.repeat(700);
    const result = await importInto(
      lt,
      id,
      event({
        Attribute: [
          attribute(1),
          attribute(9, { type: 'text', category: 'Other', value: long, to_ids: false }),
        ],
      }),
    );
    assert.equal(result.imported, 1);
    const exported = modelOf(await exportOf(lt, id));
    assert.equal(exported.attributes.find((a) => a.uuid === UUID(9))?.value, long);
  });

  it('a colleague’s later version neither reads nor takes the attributes they cannot see', async () => {
    const id = await newCase('Hidden RED attribute', 'green');
    const secret = attribute(2, {
      Tag: [{ name: 'tlp:red' }],
      Galaxy: [
        {
          uuid: '5c7cdc3b-2f40-4dca-8200-cccccccccccc',
          name: 'Threat Actor',
          type: 'threat-actor',
          GalaxyCluster: [
            {
              uuid: '5c7cdc3b-2f40-4dca-8200-dddddddddddd',
              type: 'threat-actor',
              value: 'SECRET-ACTOR',
              tag_name: 'misp-galaxy:threat-actor="SECRET-ACTOR"',
            },
          ],
        },
      ],
    });
    await importInto(lt, id, event({ Attribute: [attribute(1), secret] }));
    const eventsAs = async (user: TestUser) =>
      json(await call('GET', user, `/cases/${id}/misp/events`)).items[0];
    assert.equal((await eventsAs(lt2)).attributes, 1, 'the colleague does not see the RED attribute');
    const later = await importInto(lt2, id, event({ timestamp: '1700000100', Attribute: [attribute(1)] }));
    assert.equal(later.events.updated, 1);
    const theirs = await eventsAs(lt2);
    assert.equal(theirs.attributes, 1, 'still not theirs to see');
    assert.deepEqual(theirs.galaxies, []);
    assert.equal((await eventsAs(lt)).attributes, 2, 'the creator keeps the RED attribute');
    // The hidden uuid again: added as the colleague's own, never "updated" (which would confirm it).
    const guess = await importInto(
      lt2,
      id,
      event({ timestamp: '1700000200', Attribute: [attribute(1), attribute(2, { value: '198.51.100.99' })] }),
    );
    assert.deepEqual(guess.elements, { added: 1, updated: 0, unchanged: 1 });
    assert.equal(
      (await eventsAs(lt)).attributes,
      3,
      'the creator’s RED attribute is intact beside the new one',
    );
    const red = (await observablesOf(lt, id)).find((o) => o.value === '198.51.100.2');
    assert.equal(red?.tlp, 'red');
  });

  it('a later version that narrows the label narrows what was shared', async () => {
    const id = await newCase('Narrowed', 'green');
    await importInto(lt, id, event({ Attribute: [attribute(1)] }));
    assert.equal(modelOf(await exportOf(fi, id)).attributes.length, 1, 'GREEN: the community sees it');
    // An event about the observable itself, while it is GREEN.
    const [shared] = await observablesOf(lt, id);
    const sighting = await call('POST', lt, `/cases/${id}/observables/${shared.id}/sightings`, {});
    assert.equal(sighting.statusCode, 200, sighting.body);
    const sightingsSeenBy = async (user: TestUser) => {
      const actor = await node.services.identity.authenticateToken(user.token);
      assert.ok(actor);
      const events = await node.services.events.since({ actor, requestId: null }, 0, 10_000);
      return events.filter((e) => e.type === 'observable.sighting' && e.data.itemId === shared.id).length;
    };
    assert.equal(await sightingsSeenBy(fi), 1, 'GREEN: the community sees its sighting');
    await importInto(
      lt,
      id,
      event({
        timestamp: '1700000100',
        Tag: [{ name: 'tlp:amber' }],
        distribution: '1',
        Attribute: [attribute(1)],
      }),
    );
    assert.equal(modelOf(await exportOf(fi, id)).attributes.length, 0, 'AMBER now: not for FI');
    const observables = await observablesOf(fi, id);
    assert.equal(observables.length, 0, 'the observable is AMBER too');
    assert.equal((await observablesOf(lt, id))[0].tlp, 'amber');
    assert.equal(await sightingsSeenBy(fi), 0, 'its past events are AMBER too');
    assert.equal(await sightingsSeenBy(lt), 1);
  });

  it('one file that narrows several events narrows every observable’s past events', async () => {
    const id = await newCase('Narrowed twice', 'green');
    const both = (fields: Record<string, unknown>) => [
      event({ uuid: '5c7cdc3b-2f40-4dca-8200-cccccccccccc', Attribute: [attribute(3)], ...fields }),
      event({ uuid: '5c7cdc3b-2f40-4dca-8200-dddddddddddd', Attribute: [attribute(4)], ...fields }),
    ];
    await importInto(lt, id, both({}));
    const observables = await observablesOf(lt, id);
    assert.equal(observables.length, 2);
    for (const observable of observables) {
      const sighting = await call('POST', lt, `/cases/${id}/observables/${observable.id}/sightings`, {});
      assert.equal(sighting.statusCode, 200, sighting.body);
    }
    const ids = new Set(observables.map((o) => o.id as string));
    const sightingsSeenBy = async (user: TestUser) => {
      const actor = await node.services.identity.authenticateToken(user.token);
      assert.ok(actor);
      const events = await node.services.events.since({ actor, requestId: null }, 0, 10_000);
      return events.filter((e) => e.type === 'observable.sighting' && ids.has(e.data.itemId as string))
        .length;
    };
    assert.equal(await sightingsSeenBy(fi), 2, 'GREEN: the community sees both sightings');
    const later = await importInto(
      lt,
      id,
      both({ timestamp: '1700000100', Tag: [{ name: 'tlp:amber' }], distribution: '1' }),
    );
    assert.equal(later.events.updated, 2);
    assert.deepEqual(
      (await observablesOf(lt, id)).map((o) => o.tlp),
      ['amber', 'amber'],
    );
    assert.equal(await sightingsSeenBy(fi), 0, 'both observables’ past events are AMBER too');
    assert.equal(await sightingsSeenBy(lt), 2);
  });

  it('marks an exercise’s event as such, and a real case refuses it', async () => {
    const res = await call('POST', lt, '/cases', {
      title: 'EXERCISE Cyber Coalition',
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'low',
      tlp: 'green',
      pap: 'clear',
      exercise: true,
    });
    assert.equal(res.statusCode, 201, res.body);
    const drill = json(res).id;
    await importInto(lt, drill, event());
    for (const query of [
      '?exercise=include',
      '?exercise=include&event=5c7cdc3b-2f40-4dca-8200-aaaaaaaaaaaa',
    ]) {
      const exported = await exportOf(lt, drill, query);
      assert.ok(
        exported.Event.Tag.some((t: any) => t.name === 'vytis:exercise'),
        query,
      );
      const real = await newCase('Real');
      const refused = await importInto(lt, real, exported, '', 400);
      assert.match(JSON.stringify(refused.details), /comes from an exercise/);
    }
  });

  it('refuses text that cannot be stored and timestamps from the future, naming them', async () => {
    const id = await newCase('Unstorable');
    const nul = await importInto(lt, id, event({ info: 'a\u0000b' }), '', 400);
    assert.match(nul.message, /Event\/info holds a NUL character/);
    const future = await importInto(lt, id, event({ timestamp: '253402300799' }), '', 400);
    assert.match(JSON.stringify(future.details), /in the future/);
    assert.equal(json(await call('GET', lt, `/cases/${id}/misp/events`)).items.length, 0);
  });

  it('another party’s copy of the owner’s event never stands in for it', async () => {
    const id = await newCase('Owner’s event', 'amber', { parties: ['FI', 'DE'] });
    // FI brings a copy of the uuid first, claiming to be the owner's organisation.
    await importInto(fi, id, event({ info: 'FAKE by FI', timestamp: '1700000900' }));
    await importInto(lt, id, event());
    for (const viewer of [lt, de]) {
      assert.equal(modelOf(await exportOf(viewer, id)).info, 'Wiper infrastructure', 'the owner’s copy');
    }
  });

  it('keeps a deleted attribute deleted, never offering it again as the case’s own', async () => {
    const id = await newCase('Deleted');
    await importInto(lt, id, event({ Attribute: [attribute(1)] }));
    await importInto(
      lt,
      id,
      event({
        timestamp: '1700000100',
        Attribute: [attribute(1, { deleted: true, timestamp: '1700000100' })],
      }),
    );
    const exported = modelOf(await exportOf(lt, id));
    assert.deepEqual(
      exported.attributes.map((a) => [a.uuid, a.deleted]),
      [[UUID(1), true]],
    );
  });
});
