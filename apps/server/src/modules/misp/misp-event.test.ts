import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Tlp } from '@vytis/contracts';
import AjvDraft04 from 'ajv-draft-04';
import { isObservableType } from '../indicators/observable-types.ts';
import {
  DISTRIBUTION_TLP,
  eventProblems,
  type MispAttribute,
  type MispEvent,
  type MispTag,
  papOf,
  parseMispEvents,
  rsitOf,
  tlpOfAttribute,
  tlpOfEvent,
  tlpOfObject,
  toMispEventJson,
} from './misp-event.ts';

const MISP_DATA = path.resolve(import.meta.dirname, '../../../data/misp');
const EVENT_FILES = ['galaxy_1.json', 'japanese_test.json', 'mainly_objects_1.json', 'sighting_1.json'];
const readEventFile = (name: string): unknown =>
  JSON.parse(fs.readFileSync(path.join(MISP_DATA, 'events', name), 'utf8'));

// ajv-draft-04 is CommonJS: under NodeNext its default import is the module object (whose
// `default` is the class, at run time as in the types).
const ajv = new AjvDraft04.default({ allErrors: true, strict: false, logger: false });
const validateSchemaLax = ajv.compile(
  JSON.parse(fs.readFileSync(path.join(MISP_DATA, 'schema-lax.json'), 'utf8')) as object,
);

function parseOne(json: unknown): MispEvent {
  const parsed = parseMispEvents(json);
  assert.ok('events' in parsed, 'error' in parsed ? parsed.error : '');
  assert.equal(parsed.events.length, 1);
  return parsed.events[0]!;
}

/** The JSON without nulls and empty lists: what MISP writes either way, and the model keeps as absent. */
function withoutEmpties(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmpties);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0))
      .map(([k, v]) => [k, withoutEmpties(v)]),
  );
}

const allAttributes = (event: MispEvent): MispAttribute[] => [
  ...event.attributes,
  ...event.objects.flatMap((o) => o.attributes),
];

const minimalEvent = (fields: Record<string, unknown> = {}) => ({
  Event: {
    uuid: '5c7cdc3b-2f40-4dca-8200-276c0a00020f',
    info: 'test',
    date: '2026-01-02',
    timestamp: '1767312000',
    Attribute: [
      {
        uuid: '11111111-1111-4111-8111-111111111111',
        type: 'ip-dst',
        category: 'Network activity',
        value: '198.51.100.7',
        to_ids: true,
      },
    ],
    ...fields,
  },
});

describe('MISP events: the four real CIRCL events', () => {
  for (const file of EVENT_FILES) {
    describe(file, () => {
      const raw = readEventFile(file);
      const event = parseOne(raw);

      it('parses, with uuids, attributes and the organisation that created it', () => {
        assert.match(event.uuid, /^[0-9a-f-]{36}$/);
        assert.ok(event.info.length > 0, 'event.info.length > 0');
        assert.ok(allAttributes(event).length > 0, 'allAttributes(event).length > 0');
        assert.ok(event.orgc?.name, 'event.orgc?.name');
        assert.ok(
          event.timestamp && event.timestamp > 1_500_000_000,
          'event.timestamp && event.timestamp > 1_500_000_000',
        );
      });

      it('has no problems with the project’s MISP types', () => {
        assert.deepEqual(eventProblems(event, isObservableType), []);
      });

      it('round-trips: parse → toMispEventJson → parse gives the same model, field by field', () => {
        const exported = toMispEventJson(event);
        assert.deepEqual(parseOne(exported), event);
        // Through text as well, as a feed or a file carries it.
        assert.deepEqual(parseOne(JSON.parse(JSON.stringify(exported))), event);
      });

      it('gives back the JSON it read: nothing lost, ids, enums and timestamps as MISP’s strings', () => {
        assert.deepEqual(withoutEmpties(toMispEventJson(event)), withoutEmpties(raw));
      });

      it('validates against schema-lax.json after export', () => {
        const ok = validateSchemaLax(toMispEventJson(event));
        assert.ok(ok, JSON.stringify(validateSchemaLax.errors?.slice(0, 3)));
      });
    });
  }

  it('keeps Japanese text in info, values, comments, organisation names and tags', () => {
    const event = parseOne(readEventFile('japanese_test.json'));
    assert.equal(event.info, 'Japanese Lorem Ipsum 条イ音態ぞゃご法説イシ技');
    assert.equal(event.orgc?.name, 'ORGNAME 条イ音態ぞゃご法説イシ技');
    assert.equal(event.attributes[0]!.comment, 'This is a contextual comment 条イ音態ぞゃご法説イシ技');
    assert.ok(
      event.attributes[0]!.value.startsWith('条イ音態ぞゃご法説イシ技位ーイ能目門初'),
      "event.attributes[0]!.value.startsWith('条イ音態ぞゃご法説イシ技位ーイ能目門初')",
    );
    assert.ok(
      event.tags.some((t) => t.name.includes('条イ音態ぞゃご法説イシ技set="APT32 - G0050"')),
      'event.tags.some((t) => t.name.includes(\'条イ音態ぞゃご法説イシ技set="APT32 - G0050"\'))',
    );
    const again = parseOne(JSON.parse(JSON.stringify(toMispEventJson(event))));
    assert.equal(again.attributes[0]!.value, event.attributes[0]!.value);
  });

  it('reads objects, their references, sightings, galaxies and clusters', () => {
    const objects = parseOne(readEventFile('mainly_objects_1.json'));
    const withReferences = objects.objects.filter((o) => o.references.length > 0);
    assert.ok(withReferences.length > 0, 'withReferences.length > 0');
    const object = objects.objects[0]!;
    assert.ok(
      object.name && object.metaCategory && object.templateUuid && object.templateVersion,
      'object.name && object.metaCategory && object.templateUuid && object.templateVersion',
    );
    assert.ok(
      object.attributes.every((a) => a.objectRelation),
      'object.attributes.every((a) => a.objectRelation)',
    );
    const reference = withReferences[0]!.references[0]!;
    assert.ok(
      reference.referencedUuid && reference.relationshipType,
      'reference.referencedUuid && reference.relationshipType',
    );

    const sightings = parseOne(readEventFile('sighting_1.json'));
    const sighted = sightings.attributes.flatMap((a) => a.sightings);
    assert.equal(sighted.length, 6);
    assert.deepEqual(
      sighted.map((s) => s.type),
      [0, 1, 1, 2, 1, 0],
    );
    assert.equal(sighted[3]!.source, 'honeyp');
    assert.equal(sighted[3]!.dateSighting, 1551253968);
    assert.equal(sighted[3]!.org?.name, 'ORGNAME');
    assert.equal(sighted[3]!.org?.uuid, '5c6983c8-3af8-4304-869c-4800d6c1883c');

    const galaxies = parseOne(readEventFile('galaxy_1.json'));
    assert.ok(galaxies.galaxies.length > 0, 'galaxies.galaxies.length > 0');
    const cluster = galaxies.galaxies[0]!.clusters[0]!;
    // MISP of that time wrote clusters with an empty uuid: kept as it is.
    assert.equal(cluster.uuid, '');
    assert.equal(cluster.type, 'guidelines');
    assert.ok(cluster.value.length > 0, 'the cluster has a value');
    assert.ok(cluster.tagName.startsWith('misp-galaxy:guidelines='), cluster.tagName);
    assert.ok(
      cluster.meta && typeof cluster.meta === 'object',
      "cluster.meta && typeof cluster.meta === 'object'",
    );
    assert.ok(Array.isArray(cluster.extra.authors), 'the rest of the cluster object is kept');
    assert.ok(
      allAttributes(galaxies).some((a) => a.galaxies.length > 0),
      'allAttributes(galaxies).some((a) => a.galaxies.length > 0)',
    );
    assert.equal(galaxies.tags[0]!.name, 'tlp:white');
    assert.equal(galaxies.tags[0]!.exportable, true);
    // MISP's local ids and lists the model does not name stay in `extra`.
    assert.equal(typeof galaxies.extra.id, 'string');
    assert.ok(Array.isArray(galaxies.extra.RelatedEvent), 'Array.isArray(galaxies.extra.RelatedEvent)');
  });
});

describe('MISP events: the shapes of a document', () => {
  const one = readEventFile('sighting_1.json') as { Event: Record<string, unknown> };
  const two = readEventFile('japanese_test.json') as { Event: Record<string, unknown> };

  it('reads {"response": [...]} as MISP’s REST search returns it', () => {
    const parsed = parseMispEvents({ response: [one, two] });
    assert.ok('events' in parsed, "'events' in parsed");
    assert.deepEqual(
      parsed.events.map((e) => e.uuid),
      [one.Event.uuid, two.Event.uuid],
    );
  });

  it('reads a list of events, and a bare event object', () => {
    const list = parseMispEvents([one, two]);
    assert.ok('events' in list, "'events' in list");
    assert.equal(list.events.length, 2);
    assert.deepEqual(parseOne(one.Event), parseOne(one));
  });

  it('refuses anything else, saying what it expected and where', () => {
    for (const bad of [42, 'an event', null, true, { foo: 1 }, {}, [[one]], { response: 'x' }]) {
      const parsed = parseMispEvents(bad);
      assert.ok('error' in parsed, JSON.stringify(bad));
      assert.match(parsed.error, /expected/);
    }
    const inList = parseMispEvents([one, 7]);
    assert.ok('error' in inList, "'error' in inList");
    assert.match(inList.error, /^document\[1\]: a number; expected a MISP event/);
    const notObject = parseMispEvents({ Event: ['x'] });
    assert.ok('error' in notObject, "'error' in notObject");
    assert.match(notObject.error, /document\.Event: a list; expected an event object/);
  });

  it('reads PyMISP’s numbers and MISP’s strings alike; nulls count as absent', () => {
    const event = parseOne({
      Event: {
        uuid: '5C7CDC3B-2F40-4DCA-8200-276C0A00020F',
        info: 'x',
        timestamp: 1767312000,
        distribution: 2,
        published: 0,
        Attribute: [
          { uuid: 'a', type: 'md5', value: 'x', to_ids: '1', first_seen: null, object_relation: null },
        ],
      },
    });
    assert.equal(event.uuid, '5c7cdc3b-2f40-4dca-8200-276c0a00020f');
    assert.equal(event.timestamp, 1767312000);
    assert.equal(event.distribution, 2);
    assert.equal(event.published, false);
    assert.equal(event.attributes[0]!.toIds, true);
    assert.equal(event.attributes[0]!.firstSeen, undefined);
    assert.deepEqual(event.attributes[0]!.extra, {});
    const json = toMispEventJson(event).Event;
    assert.equal(json.timestamp, '1767312000');
    assert.equal(json.distribution, '2');
    assert.equal((json.Attribute as Record<string, unknown>[])[0]!.to_ids, true);
  });
});

describe('MISP events: problems', () => {
  const problemsOf = (json: unknown) => eventProblems(parseOne(json), isObservableType);

  it('a minimal event has none', () => {
    assert.deepEqual(problemsOf(minimalEvent()), []);
  });

  it('an event without uuid', () => {
    const { uuid: _uuid, ...withoutUuid } = minimalEvent().Event;
    assert.deepEqual(problemsOf({ Event: withoutUuid }), [{ path: 'Event.uuid', message: 'missing uuid' }]);
  });

  it('an attribute without uuid, one with a malformed uuid, one uuid used twice', () => {
    const attribute = minimalEvent().Event.Attribute[0]!;
    const { uuid: _uuid, ...withoutUuid } = attribute;
    assert.deepEqual(
      problemsOf(
        minimalEvent({
          Attribute: [attribute, withoutUuid, { ...attribute, uuid: 'not-a-uuid' }, attribute],
        }),
      ),
      [
        { path: 'Event.Attribute[1].uuid', message: 'missing uuid' },
        { path: 'Event.Attribute[2].uuid', message: '"not-a-uuid" is not a uuid' },
        {
          path: 'Event.Attribute[3].uuid',
          message: 'uuid 11111111-1111-4111-8111-111111111111 is also that of Event.Attribute[0]',
        },
      ],
    );
  });

  it('an unknown attribute type, by name', () => {
    const attribute = { ...minimalEvent().Event.Attribute[0]!, type: 'ip-dts' };
    assert.deepEqual(problemsOf(minimalEvent({ Attribute: [attribute] })), [
      { path: 'Event.Attribute[0].type', message: 'unknown MISP attribute type "ip-dts"' },
    ]);
  });

  it('a category describeTypes does not allow for the type, and an unknown category', () => {
    const attribute = minimalEvent().Event.Attribute[0]!;
    assert.deepEqual(
      problemsOf(
        minimalEvent({
          Attribute: [
            { ...attribute, category: 'Financial fraud' },
            { ...attribute, uuid: '22222222-2222-4222-8222-222222222222', category: 'Nonsense' },
          ],
        }),
      ),
      [
        {
          path: 'Event.Attribute[0].category',
          message:
            'category "Financial fraud" does not allow type "ip-dst" (it belongs in Payload delivery, Network activity, External analysis)',
        },
        { path: 'Event.Attribute[1].category', message: 'unknown MISP category "Nonsense"' },
      ],
    );
  });

  it('an object reference to a uuid that is neither an attribute nor an object of the event', () => {
    const object = {
      uuid: '33333333-3333-4333-8333-333333333333',
      name: 'domain-ip',
      'meta-category': 'network',
      template_uuid: '43b3b146-77eb-4931-b4cc-b66c60f28734',
      template_version: '9',
      Attribute: [
        {
          uuid: '44444444-4444-4444-8444-444444444444',
          type: 'domain',
          category: 'Network activity',
          value: 'evil.example',
          object_relation: 'domain',
        },
      ],
      ObjectReference: [
        {
          uuid: '55555555-5555-4555-8555-555555555555',
          referenced_uuid: '11111111-1111-4111-8111-111111111111',
          relationship_type: 'resolves-to',
        },
        {
          uuid: '66666666-6666-4666-8666-666666666666',
          referenced_uuid: '99999999-9999-4999-8999-999999999999',
          relationship_type: 'related-to',
        },
      ],
    };
    assert.deepEqual(problemsOf(minimalEvent({ Object: [object] })), [
      {
        path: 'Event.Object[0].ObjectReference[1].referenced_uuid',
        message:
          'refers to 99999999-9999-4999-8999-999999999999, which is neither an attribute nor an object of this event',
      },
    ]);
    const withoutRelation = { ...object, Attribute: [{ ...object.Attribute[0]!, object_relation: null }] };
    assert.deepEqual(
      problemsOf(minimalEvent({ Object: [{ ...withoutRelation, ObjectReference: [] }] })).map((p) => p.path),
      ['Event.Object[0].Attribute[0].object_relation'],
    );
  });

  it('bad timestamps, dates, first/last seen and enums; the bad values survive the round trip', () => {
    const attribute = {
      ...minimalEvent().Event.Attribute[0]!,
      timestamp: 'yesterday',
      first_seen: '2026-02-01T00:00:00.000000+00:00',
      last_seen: '2026-01-01T00:00:00Z',
      distribution: '7',
    };
    const raw = minimalEvent({
      timestamp: '-5',
      publish_timestamp: '99999999999999',
      date: '2026-02-30',
      threat_level_id: '9',
      Attribute: [
        attribute,
        { ...attribute, uuid: '22222222-2222-4222-8222-222222222222', first_seen: 'soon' },
      ],
    });
    const event = parseOne(raw);
    assert.deepEqual(eventProblems(event, isObservableType), [
      { path: 'Event.timestamp', message: '"-5" is not Unix seconds (a string of digits)' },
      { path: 'Event.date', message: '"2026-02-30" is not a date (YYYY-MM-DD)' },
      { path: 'Event.threat_level_id', message: '9 is not a threat level, 1 to 4' },
      {
        path: 'Event.publish_timestamp',
        message: '99999999999999 is not Unix seconds (it is after the year 9999)',
      },
      {
        path: 'Event.Attribute[0].timestamp',
        message: '"yesterday" is not Unix seconds (a string of digits)',
      },
      { path: 'Event.Attribute[0].distribution', message: '7 is not a distribution level, 0 to 5' },
      {
        path: 'Event.Attribute[0].last_seen',
        message: 'last_seen 2026-01-01T00:00:00Z is before first_seen 2026-02-01T00:00:00.000000+00:00',
      },
      {
        path: 'Event.Attribute[1].timestamp',
        message: '"yesterday" is not Unix seconds (a string of digits)',
      },
      { path: 'Event.Attribute[1].distribution', message: '7 is not a distribution level, 0 to 5' },
      { path: 'Event.Attribute[1].first_seen', message: '"soon" is not an ISO 8601 time' },
    ]);
    assert.equal(event.extra.timestamp, '-5');
    assert.deepEqual(parseOne(toMispEventJson(event)), event);
    assert.equal(toMispEventJson(event).Event.timestamp, '-5');
  });

  it('a list that is not a list of objects is kept and named', () => {
    const event = parseOne(minimalEvent({ Attribute: 'none', Tag: [{ name: 'tlp:red' }, 'tlp:red'] }));
    assert.deepEqual(event.attributes, []);
    assert.deepEqual(eventProblems(event, isObservableType), [
      { path: 'Event.Attribute', message: '"none" is not a list of attribute objects' },
      { path: 'Event.Tag', message: '[{"name":"tlp:red"},"tlp:red"] is not a list of tag objects' },
    ]);
    assert.deepEqual(parseOne(toMispEventJson(event)), event);
  });
});

describe('MISP events: TLP, PAP and RSIT', () => {
  const tags = (...names: string[]): MispTag[] => names.map((name) => ({ name, extra: {} }));
  const event = (distribution: number | undefined, ...names: string[]) =>
    parseOne({
      Event: { uuid: '5c7cdc3b-2f40-4dca-8200-276c0a00020f', info: 'x', distribution, Tag: tags(...names) },
    });

  it('maps distribution to TLP: 0 amber+strict, 1 amber, 2 green, 3 all clear, 4 sharing group amber', () => {
    assert.deepEqual(DISTRIBUTION_TLP, { 0: 'amber+strict', 1: 'amber', 2: 'green', 3: 'clear', 4: 'amber' });
    const table: [distribution: number | undefined, tags: string[], tlp: Tlp][] = [
      [0, [], 'amber+strict'],
      [1, [], 'amber'],
      [2, [], 'green'],
      [3, [], 'clear'],
      [4, [], 'amber'],
      [undefined, [], 'amber'],
      // The stricter of tag and distribution wins.
      [3, ['tlp:white'], 'clear'],
      [3, ['tlp:clear'], 'clear'],
      [3, ['tlp:green'], 'green'],
      [3, ['TLP:AMBER'], 'amber'],
      [3, ['tlp:amber+strict'], 'amber+strict'],
      [3, ['tlp:red'], 'red'],
      [1, ['tlp:white'], 'amber'],
      [0, ['tlp:green'], 'amber+strict'],
      [2, ['tlp:red'], 'red'],
      [undefined, ['tlp:white'], 'clear'],
      // A sharing group's audience is what its tag says; without one, amber.
      [4, ['tlp:green'], 'green'],
      [4, ['tlp:red'], 'red'],
      // Several TLP tags: the strictest; other tags and TLP's non-levels change nothing.
      [3, ['tlp:green', 'tlp:amber'], 'amber'],
      [3, ['tlp:ex:chr', 'tlp:unclear', 'PAP:RED', 'misp-galaxy:banker="Gozi"'], 'clear'],
    ];
    for (const [distribution, names, expected] of table)
      assert.equal(tlpOfEvent(event(distribution, ...names)), expected, `${distribution} ${names.join(',')}`);
  });

  it('an attribute or object is never less strict than the event it is in', () => {
    const attribute = (distribution: number | undefined, ...names: string[]) =>
      parseOne(
        minimalEvent({
          Attribute: [{ ...minimalEvent().Event.Attribute[0]!, distribution, Tag: tags(...names) }],
        }),
      ).attributes[0]!;
    assert.equal(tlpOfAttribute(attribute(5), 'green'), 'green');
    assert.equal(tlpOfAttribute(attribute(undefined), 'green'), 'green');
    assert.equal(tlpOfAttribute(attribute(3), 'amber'), 'amber');
    assert.equal(tlpOfAttribute(attribute(0), 'green'), 'amber+strict');
    assert.equal(tlpOfAttribute(attribute(5, 'tlp:red'), 'clear'), 'red');
    assert.equal(tlpOfAttribute(attribute(5, 'tlp:white'), 'amber'), 'amber');
    assert.equal(tlpOfAttribute(attribute(4), 'clear'), 'amber');
    const objectsEvent = parseOne(readEventFile('mainly_objects_1.json'));
    const eventTlp = tlpOfEvent(objectsEvent);
    assert.equal(eventTlp, 'clear', 'tlp:white, no distribution: the tag wins over the default');
    const object = objectsEvent.objects[0]!;
    assert.equal(tlpOfObject({ ...object, distribution: 1 }, eventTlp), 'amber');
    assert.equal(tlpOfObject({ ...object, distribution: 5 }, 'green'), 'green');
    assert.equal(tlpOfEvent(parseOne(readEventFile('galaxy_1.json'))), 'clear');
    assert.equal(tlpOfEvent(parseOne(readEventFile('japanese_test.json'))), 'amber');
  });

  it('reads PAP and RSIT from tags', () => {
    assert.equal(papOf(tags('tlp:red')), undefined);
    assert.equal(papOf(tags('PAP:GREEN')), 'green');
    assert.equal(papOf(tags('PAP:WHITE')), 'clear');
    assert.equal(papOf(tags('PAP:GREEN', 'PAP:RED', 'PAP:AMBER')), 'red');
    assert.deepEqual(
      rsitOf(
        tags(
          'rsit:malicious-code="infected-system"',
          'rsit:nonsense="x"',
          'circl:incident-classification="malware"',
          'rsit:malicious-code="infected-system"',
        ),
      ),
      ['rsit:malicious-code="infected-system"'],
    );
  });
});
