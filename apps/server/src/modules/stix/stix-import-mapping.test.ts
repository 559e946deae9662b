import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { normaliseObservable, OBSERVABLE_TYPES } from '../indicators/observable-types.ts';
import { STIX_DATA } from './stix.fixtures.ts';
import { readBundleObjects } from './stix-bundle-reader.ts';
import {
  type ImportPlan,
  markingMeaning,
  objectProblem,
  planObject,
  wellKnownMarking,
} from './stix-import-mapping.ts';
import {
  type CaseInput,
  expressionOf,
  mapObservable,
  type ObservableInput,
  type StixObject,
} from './stix-mapping.ts';
import {
  papMarkingDefinition,
  tlp1MarkingId,
  tlp2MarkingId,
  tlpMarkingDefinitions,
} from './stix-markings.ts';

const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
const sha1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const sha512 = `${'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce'}${'47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e'}`;

/** One value of every MISP type the export maps (the test checks that none is missing). */
const SAMPLES: [type: string, value: string][] = [
  ['ip-src', '198.51.100.3'],
  ['ip-dst', '2001:db8::1'],
  ['ip-dst', '203.0.113.0/24'],
  ['ip-src|port', '2001:db8::2|8080'],
  ['ip-dst|port', '198.51.100.7|443'],
  ['domain', 'evil.example'],
  ['hostname', 'mail.evil.example'],
  ['onion-address', 'expyuzz4wqqyqhjn.onion'],
  ['domain|ip', 'evil2.example|192.0.2.55'],
  ['hostname|port', 'smtp.evil.example|25'],
  ['url', 'http://evil.example/a?q=x'],
  ['link', 'https://evil.example/report'],
  ['uri', 'https://evil.example/login'],
  ['email', 'someone@evil.example'],
  ['email-src', 'boss@evil.example'],
  ['email-dst', 'victim@water.example'],
  ['target-email', 'ceo@water.example'],
  ['whois-registrant-email', 'reg@evil.example'],
  ['email-src-display-name', 'The Boss'],
  ['email-dst-display-name', 'The Victim'],
  ['email-subject', "Invoice 'urgent'"],
  ['email-message-id', '<1234@evil.example>'],
  ['email-attachment', 'invoice.pdf.exe'],
  ['filename', "C:\\Users\\O'Brien\\evil.exe"],
  ['md5', md5],
  ['sha1', sha1],
  ['sha256', sha256],
  ['sha512', sha512],
  ['sha3-256', sha256],
  ['sha3-512', sha512],
  ['ssdeep', '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C'],
  ['tlsh', `t1${'a'.repeat(70)}`],
  ['filename|md5', `setup|x.exe|${md5}`],
  ['filename|sha1', `a.dll|${sha1}`],
  ['filename|sha256', `drop.dll|${sha256}`],
  ['filename|sha512', `drop.dll|${sha512}`],
  ['filename|sha3-256', `drop.dll|${sha256}`],
  ['filename|sha3-512', `drop.dll|${sha512}`],
  ['filename|ssdeep', 'drop.dll|3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C'],
  ['filename|tlsh', `drop.dll|t1${'b'.repeat(70)}`],
  ['imphash', md5],
  ['AS', 'AS64496'],
  ['mutex', "Global\\wiper'1"],
  ['regkey', 'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\wiper'],
  ['regkey|value', 'HKEY_CURRENT_USER\\Software\\Evil|C:\\evil.exe'],
  ['user-agent', 'Mozilla/5.0 (it\'s "x")'],
  ['mac-address', '00:00:5e:00:53:01'],
  ['x509-fingerprint-md5', md5],
  ['x509-fingerprint-sha1', sha1],
  ['x509-fingerprint-sha256', sha256],
  ['port', '4444'],
  ['vulnerability', 'CVE-2024-3094'],
  ['snort', 'alert tcp any any -> any 4444 (msg:"wiper C2"; sid:1000001;)'],
  ['suricata', 'alert http any any -> any any (msg:"x"; sid:2;)'],
  ['yara', 'rule wiper { strings: $a = "wipe" condition: $a }'],
  ['sigma', 'title: wiper\ndetection:\n  sel:\n    Image: wipe.exe\n  condition: sel'],
];

const theCase: CaseInput = {
  id: '00000000-0000-4000-8000-000000000001',
  title: 'Wiper',
  description: '',
  incidentClass: 'rsit:malicious-code="infected-system"',
  tlp: 'amber',
  pap: 'green',
  ownerParty: 'LT',
  exercise: false,
  createdAt: '2026-01-02T03:04:05.000Z',
  updatedAt: '2026-01-02T03:04:05.000Z',
};

function stored(type: string, value: string) {
  const result = normaliseObservable(type, value);
  assert.ok(result.ok, `${type} ${value}: ${result.ok ? '' : result.message}`);
  return result.observable;
}

function exported(type: string, value: string, n: number) {
  const observable: ObservableInput = {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type,
    category: stored(type, value).category,
    value: stored(type, value).value,
    tlp: 'green',
    toIds: true,
    comment: 'seen at the utility',
    firstSeen: null,
    lastSeen: null,
    sightings: 0,
    originParty: 'LT',
    createdAt: theCase.createdAt,
    updatedAt: theCase.updatedAt,
  };
  const mapped = mapObservable(observable, theCase);
  assert.ok(mapped, `${type} is mapped`);
  const byId = new Map<string, StixObject>([...mapped.objects, ...mapped.scos].map((o) => [o.id, o]));
  return { observable, mapped, resolve: (id: string) => byId.get(id) };
}

function drafts(plan: ImportPlan, what: string) {
  assert.equal(plan.kind, 'observables', `${what}: ${JSON.stringify(plan)}`);
  return plan.kind === 'observables' ? plan.observables : [];
}

describe('STIX import mapping', () => {
  it('covers every MISP type the export maps', () => {
    const probes = ['a', 'http://a.example|1', '192.0.2.1|80', 'AS1', 'a|b'];
    const mapped = OBSERVABLE_TYPES.filter((type) =>
      probes.some((value) => {
        try {
          return expressionOf(type, value) !== null;
        } catch {
          return false;
        }
      }),
    );
    assert.deepEqual(new Set(SAMPLES.map(([type]) => type)), new Set(mapped));
  });

  it('reads back every exported indicator as the same observable', () => {
    SAMPLES.forEach(([type, value], n) => {
      const { observable, mapped, resolve } = exported(type, value, n);
      const main = mapped.objects[0]!;
      assert.equal(objectProblem(main), null, `${type}: ${objectProblem(main)}`);
      const plan = planObject(main, resolve);
      const [draft, ...more] = drafts(plan, type);
      assert.equal(more.length, 0, type);
      const back = stored(draft!.type, draft!.value);
      assert.deepEqual([back.type, back.value], [observable.type, observable.value], type);
      assert.equal(draft!.comment, 'seen at the utility');
      // Nothing beyond what the observable holds: the indicator is not kept besides.
      assert.equal(plan.kind === 'observables' && plan.keepAsIntel, false, type);
    });
  });

  it("reads another producer's indicator of the same pattern (no labels) as an observable with that pattern", () => {
    SAMPLES.forEach(([type, value], n) => {
      const { mapped, resolve } = exported(type, value, n);
      const { labels: _labels, name: _name, ...main } = mapped.objects[0]!;
      if (main.type !== 'indicator' || main.pattern_type !== 'stix') return;
      for (const draft of drafts(planObject(main, resolve), type)) {
        const back = stored(draft.type, draft.value);
        const again = expressionOf(back.type, back.value);
        assert.equal(
          again?.kind === 'stix' ? again.pattern : null,
          main.pattern,
          `${type} read as ${draft.type}`,
        );
      }
    });
  });

  it('reads back every exported cyber-observable as observables the export maps to the same object', () => {
    SAMPLES.forEach(([type, value], n) => {
      const { mapped, resolve } = exported(type, value, n);
      for (const sco of mapped.scos) {
        assert.equal(objectProblem({ ...sco, object_marking_refs: [tlp2MarkingId('green')] }), null);
        const list = drafts(planObject(sco, resolve), `${type} ${sco.type}`);
        assert.ok(list.length > 0);
        for (const draft of list) {
          const back = stored(draft.type, draft.value);
          const again = expressionOf(back.type, back.value);
          const ids = again?.kind === 'stix' ? again.scos.map((o) => o.id) : [];
          assert.ok(ids.includes(sco.id), `${type}: ${sco.type} read as ${draft.type} ${draft.value}`);
        }
      }
    });
  });

  it('keeps as intelligence a pattern that says more than values', () => {
    for (const pattern of [
      "[email-message:subject MATCHES '^Invoice']",
      "[ipv4-addr:value != '198.51.100.1']",
      "[ipv4-addr:value = '198.51.100.1'] FOLLOWEDBY [domain-name:value = 'a.example']",
      "[ipv4-addr:value = '198.51.100.1'] AND [domain-name:value = 'a.example']",
      "[ipv4-addr:value = '198.51.100.1'] WITHIN 300 SECONDS",
      '[file:size = 1024]',
      "[file:name = 'a.exe' AND file:size = 10]",
      "[process:name = 'evil.exe']",
      "[file:name LIKE 'evil%']",
    ]) {
      const plan = planObject(indicator(pattern), () => undefined);
      assert.deepEqual(plan, { kind: 'intel' }, pattern);
    }
  });

  it('reads an OR of values as one observable each, with the name as comment', () => {
    const plan = planObject(
      {
        ...indicator(
          "[ipv4-addr:value = '198.51.100.1' OR domain-name:value = 'a.example'] OR [file:hashes.'SHA-256' = '" +
            `${sha256}']`,
        ),
        name: 'C2 of the wiper',
      },
      () => undefined,
    );
    assert.deepEqual(plan, {
      kind: 'observables',
      observables: [
        { type: 'ip-dst', value: '198.51.100.1', comment: 'C2 of the wiper' },
        { type: 'domain', value: 'a.example', comment: 'C2 of the wiper' },
        { type: 'sha256', value: sha256, comment: 'C2 of the wiper' },
      ],
      keepAsIntel: false,
    });
    // Something the observables cannot hold keeps the indicator too.
    const kill = planObject(
      { ...indicator("[url:value = 'http://a.example/']"), kill_chain_phases: [] },
      () => undefined,
    );
    assert.equal(kill.kind === 'observables' && kill.keepAsIntel, true);
  });

  it('refuses a pattern that does not parse, with the parser’s message', () => {
    const plan = planObject(indicator("[ipv4-addr:value = '1.2.3.4'"), () => undefined);
    assert.equal(plan.kind, 'refused');
    assert.match(plan.kind === 'refused' ? plan.reason : '', /expected '\]' at the end/);
  });

  it('plans observed-data, vulnerabilities, and the other objects', () => {
    const address = { type: 'ipv4-addr', spec_version: '2.1', id: 'ipv4-addr--1', value: '198.51.100.5' };
    const observed = {
      type: 'observed-data',
      id: 'observed-data--1',
      object_refs: [address.id],
    };
    assert.deepEqual(
      planObject(observed, (id) => (id === address.id ? address : undefined)),
      {
        kind: 'observables',
        observables: [{ type: 'ip-dst', value: '198.51.100.5' }],
        keepAsIntel: true,
      },
    );
    const dangling = planObject(observed, () => undefined);
    assert.equal(dangling.kind, 'refused');
    assert.match(dangling.kind === 'refused' ? dangling.reason : '', /ipv4-addr--1/);
    // STIX 2.0's inline objects, referring to each other by key.
    const inline = planObject(
      {
        type: 'observed-data',
        id: 'observed-data--2',
        objects: {
          '0': { type: 'ipv4-addr', value: '198.51.100.6' },
          '1': { type: 'network-traffic', dst_ref: '0', dst_port: 443, protocols: ['tcp'] },
        },
      },
      () => undefined,
    );
    assert.deepEqual(drafts(inline, 'inline'), [
      { type: 'ip-dst', value: '198.51.100.6' },
      { type: 'ip-dst|port', value: '198.51.100.6|443' },
    ]);
    assert.deepEqual(
      planObject({ type: 'vulnerability', id: 'vulnerability--1', name: 'cve-2021-44228' }, () => undefined),
      {
        kind: 'observables',
        observables: [{ type: 'vulnerability', value: 'CVE-2021-44228' }],
        keepAsIntel: false,
      },
    );
    assert.deepEqual(
      planObject(
        {
          type: 'vulnerability',
          id: 'vulnerability--2',
          name: 'Log4Shell',
          external_references: [{ source_name: 'cve', external_id: 'CVE-2021-44228' }],
        },
        () => undefined,
      ).kind,
      'observables',
    );
    assert.deepEqual(
      planObject({ type: 'vulnerability', id: 'vulnerability--3', name: 'weak TLS' }, () => undefined),
      {
        kind: 'intel',
      },
    );
    for (const type of [
      'relationship',
      'sighting',
      'note',
      'report',
      'grouping',
      'identity',
      'malware',
      'opinion',
      'language-content',
      'extension-definition',
      'x-acme-widget',
      'process',
    ])
      assert.deepEqual(
        planObject({ type, id: `${type}--1` }, () => undefined),
        { kind: 'intel' },
        type,
      );
    assert.deepEqual(
      planObject(tlpMarkingDefinitions('red')[0]!, () => undefined),
      { kind: 'marking' },
    );
    assert.equal(planObject({ type: 'bundle', id: 'bundle--1' }, () => undefined).kind, 'refused');
    assert.match(
      JSON.stringify(planObject({ type: 'widget', id: 'widget--1' }, () => undefined)),
      /custom types start with x-/,
    );
    assert.equal(planObject({ type: 'indicator' }, () => undefined).kind, 'refused');
    assert.equal(
      planObject({ type: 'malware', id: 'malware--1', revoked: true }, () => undefined).kind,
      'skip',
    );
  });

  it('plans every object of the example bundles without refusing one', async () => {
    const dir = path.join(STIX_DATA, 'examples');
    const files = fs.readdirSync(dir).filter((name) => name.endsWith('.json'));
    assert.equal(files.length, 6);
    for (const file of files) {
      let text = fs.readFileSync(path.join(dir, file), 'utf8');
      // One example is a single object rather than a bundle: it is read as a bundle of one.
      if (JSON.parse(text).type !== 'bundle')
        text = `{"type":"bundle","id":"bundle--6f1a9c2e-1f2b-4c3d-8e4f-5a6b7c8d9e0f","objects":[${text}]}`;
      const objects = [];
      for await (const { object } of readBundleObjects(chunks(text, 97))) objects.push(object);
      assert.ok(objects.length > 0, file);
      const byId = new Map(objects.map((o) => [o.id, o]));
      for (const object of objects) {
        const plan = planObject(object, (id) => byId.get(id));
        assert.notEqual(plan.kind, 'refused', `${file} ${object.id}: ${JSON.stringify(plan)}`);
      }
    }
  });

  it('knows what a marking means', () => {
    assert.deepEqual(wellKnownMarking(tlp2MarkingId('amber+strict')), { kind: 'tlp', tlp: 'amber+strict' });
    assert.deepEqual(wellKnownMarking(tlp1MarkingId('clear')), { kind: 'tlp', tlp: 'clear' });
    assert.deepEqual(wellKnownMarking(tlp1MarkingId('amber')), { kind: 'tlp', tlp: 'amber' });
    assert.deepEqual(wellKnownMarking(tlp1MarkingId('red')), { kind: 'tlp', tlp: 'red' });
    assert.equal(wellKnownMarking('marking-definition--00000000-0000-4000-8000-000000000000'), undefined);
    for (const tlp of ['clear', 'green', 'amber', 'amber+strict', 'red'] as const) {
      const [tlp2, tlp1] = tlpMarkingDefinitions(tlp);
      assert.deepEqual(markingMeaning(tlp2!), { kind: 'tlp', tlp });
      // Known by content alone, under another id.
      assert.deepEqual(markingMeaning({ ...tlp2!, id: 'marking-definition--x' }), { kind: 'tlp', tlp });
      assert.deepEqual(markingMeaning({ ...tlp1!, id: 'marking-definition--x' }), {
        kind: 'tlp',
        tlp: tlp === 'amber+strict' ? 'amber' : tlp,
      });
    }
    const statement = (text: string, name?: string) => ({
      type: 'marking-definition',
      id: 'marking-definition--y',
      definition_type: 'statement',
      definition: { statement: text },
      ...(name ? { name } : {}),
    });
    for (const [text, name] of [
      ['RESTREINT UE/EU RESTRICTED', 'RESTREINT UE'],
      ['This document is classified eu restricted.', 'EU RESTRICTED'],
      ['NATO SECRET – releasable to the force', 'NATO SECRET'],
      ['VS-NUR FÜR DEN DIENSTGEBRAUCH', 'VS-NUR FÜR DEN DIENSTGEBRAUCH'],
      ['vs-nfd', 'VS-NFD'],
      ['SECRET//REL TO LTU, EST', 'SECRET'],
      ['Classification: Confidential', 'CONFIDENTIAL'],
      ['Top Secret', 'TOP SECRET'],
      ['RIBOTO NAUDOJIMO', 'RIBOTO NAUDOJIMO'],
    ])
      assert.deepEqual(markingMeaning(statement(text!)), { kind: 'classified', name }, text);
    assert.deepEqual(markingMeaning(statement('anything', 'EU CONFIDENTIAL')), {
      kind: 'classified',
      name: 'EU CONFIDENTIAL',
    });
    for (const text of [
      'Copyright 2026, the Force',
      'UNCLASSIFIED',
      'Do not share the secret sauce',
      'Distribution restricted to the response team',
      'NATO UNCLASSIFIED',
    ])
      assert.deepEqual(markingMeaning(statement(text)), { kind: 'other' }, text);
    assert.deepEqual(markingMeaning(papMarkingDefinition('red')), { kind: 'other' });
    assert.deepEqual(markingMeaning(statement('x', 'TLP:AMBER+STRICT')), {
      kind: 'tlp',
      tlp: 'amber+strict',
    });
  });

  it('checks an object against the schema of its type, naming the property', () => {
    const good = {
      type: 'malware',
      spec_version: '2.1',
      id: 'malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061',
      created: '2026-01-02T03:04:05.000Z',
      modified: '2026-01-02T03:04:05.000Z',
      name: 'Wiper',
      is_family: true,
    };
    assert.equal(objectProblem(good), null);
    assert.match(objectProblem({ ...good, created: '2026-01-02 03:04' }) ?? '', /^created: /);
    assert.match(objectProblem({ ...good, id: 'malware--not-a-uuid' }) ?? '', /^id: /);
    assert.match(objectProblem({ ...good, is_family: undefined }) ?? '', /is_family/);
    assert.match(
      objectProblem({ ...good, type: 'widget', id: 'widget--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061' }) ?? '',
      /unknown object type widget; custom types start with x-/,
    );
    const custom = {
      type: 'x-acme-widget',
      spec_version: '2.1',
      id: 'x-acme-widget--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061',
      anything: [1],
    };
    assert.equal(objectProblem(custom), null);
    assert.match(objectProblem({ ...custom, id: 'x-acme-widget--1' }) ?? '', /^id: /);
    assert.match(objectProblem({ ...custom, spec_version: '2.0' }) ?? '', /^spec_version: /);
    for (const definition of tlpMarkingDefinitions('amber+strict'))
      assert.equal(objectProblem(definition), null);
    const traffic = {
      type: 'network-traffic',
      spec_version: '2.1',
      id: 'network-traffic--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061',
    };
    assert.equal(objectProblem(traffic), 'src_ref or dst_ref: one of them is required');
  });
});

function indicator(pattern: string): Record<string, unknown> {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: 'indicator--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061',
    created: '2026-01-02T03:04:05.000Z',
    modified: '2026-01-02T03:04:05.000Z',
    pattern,
    pattern_type: 'stix',
    valid_from: '2026-01-02T03:04:05.000Z',
  };
}

async function* chunks(text: string, size: number) {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
