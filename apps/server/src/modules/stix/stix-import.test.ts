import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { bundleProblems, STIX_DATA } from './stix.fixtures.ts';
import { identityId } from './stix-mapping.ts';
import { papMarkingId } from './stix-markings.ts';

const api = '/api/v1';
const STIX = 'application/stix+json;version=2.1';
const TLP2_GREEN = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';
const TLP2_AMBER = 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421';
const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

type Bundle = { type: 'bundle'; id: string; objects: any[] };
const bundle = (objects: any[]): Bundle => ({
  type: 'bundle',
  id: 'bundle--6a0b1d7e-3f43-4f0a-9b0c-1c2d3e4f5a6b',
  objects,
});
const malware = (id: string, modified: string, name = 'WaterWiper') => ({
  type: 'malware',
  spec_version: '2.1',
  id,
  created: '2026-01-01T00:00:00.000Z',
  modified,
  name,
  is_family: true,
  object_marking_refs: [TLP2_GREEN],
});
const MALWARE_ID = 'malware--0c7b5b88-8ff7-4a4d-aa9c-feb398cd0061';
const ACTOR_ID = 'threat-actor--56f3f0db-b5d5-431c-ae56-c18f02caf500';
const INDICATOR_ID = 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f';

describe('STIX 2.1 import into a case', () => {
  let node: TestNode;
  let lt: TestUser;
  let reader: TestUser;
  let fi: TestUser;
  let de: TestUser;
  let ee: TestUser;
  let lt2: TestUser;
  let caseId: string;
  let otherCase: string;

  const call = (
    method: 'GET' | 'POST',
    user: TestUser | null,
    url: string,
    payload?: string | object,
    contentType = STIX,
  ) =>
    node.request({
      method,
      url: `${api}${url}`,
      headers: {
        ...(user ? user.headers : {}),
        ...(payload === undefined ? {} : { 'content-type': contentType }),
      },
      ...(payload === undefined
        ? {}
        : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });
  const importInto = (user: TestUser, id: string, body: string | object, query = '') =>
    call('POST', user, `/cases/${id}/stix${query}`, body);
  const observablesOf = async (user: TestUser, id: string) => {
    const res = await call('GET', user, `/cases/${id}/observables?limit=500`);
    assert.equal(res.statusCode, 200, res.body);
    return json(res).items as any[];
  };
  const intelOf = async (user: TestUser, id: string, query = '') => {
    const res = await call('GET', user, `/cases/${id}/intelligence?limit=500${query}`);
    assert.equal(res.statusCode, 200, res.body);
    return json(res).items as any[];
  };
  const exportOf = async (user: TestUser, id: string) => {
    const res = await call('GET', user, `/cases/${id}/stix`);
    assert.equal(res.statusCode, 200, res.body);
    return JSON.parse(res.body) as Bundle;
  };
  const newCase = async (title: string, tlp = 'green', shares: object = {}) => {
    const res = await call(
      'POST',
      lt,
      '/cases',
      {
        title,
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'high',
        tlp,
        pap: 'amber',
        shares,
      },
      'application/json',
    );
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  };

  before(async () => {
    node = await startTestNode({ importMaxBytes: 2 * 1024 * 1024 });
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    reader = await node.user('lt.council', 'LT', ['council']);
    fi = await node.user('fi.analyst', 'FI', ['analyst']);
    de = await node.user('de.analyst', 'DE', ['analyst']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    lt2 = await node.user('lt.analyst2', 'LT', ['analyst']);
    caseId = await newCase('Wiper at the water utility');
    otherCase = await newCase('Second utility');
  });
  after(() => node.close());

  it('turns indicators and cyber-observables into observables and keeps the rest as intelligence objects', async () => {
    const objects = [
      malware(MALWARE_ID, '2026-01-01T00:00:00.000Z'),
      {
        type: 'threat-actor',
        spec_version: '2.1',
        id: ACTOR_ID,
        created: '2026-01-01T00:00:00.000Z',
        modified: '2026-01-01T00:00:00.000Z',
        name: 'Sandstorm',
        object_marking_refs: [TLP2_AMBER],
      },
      {
        type: 'indicator',
        spec_version: '2.1',
        id: INDICATOR_ID,
        created: '2026-01-02T00:00:00.000Z',
        modified: '2026-01-02T00:00:00.000Z',
        name: 'C2',
        pattern: "[ipv4-addr:value = '198.51.100.9'] OR [domain-name:value = 'c2.evil.example']",
        pattern_type: 'stix',
        valid_from: '2026-01-02T00:00:00.000Z',
        object_marking_refs: [TLP2_GREEN],
      },
      {
        type: 'relationship',
        spec_version: '2.1',
        id: 'relationship--1f2a6d53-6a0b-4c6b-9f6e-2b1d6c8e7a01',
        created: '2026-01-02T00:00:00.000Z',
        modified: '2026-01-02T00:00:00.000Z',
        relationship_type: 'indicates',
        source_ref: INDICATOR_ID,
        target_ref: MALWARE_ID,
        object_marking_refs: [TLP2_GREEN],
      },
      {
        type: 'relationship',
        spec_version: '2.1',
        id: 'relationship--9b5e0f3c-2c1d-4b7e-8a6f-0d9c8b7a6e02',
        created: '2026-01-02T00:00:00.000Z',
        modified: '2026-01-02T00:00:00.000Z',
        relationship_type: 'uses',
        source_ref: ACTOR_ID,
        target_ref: MALWARE_ID,
      },
      {
        type: 'file',
        spec_version: '2.1',
        id: 'file--3c1b8a8e-1e0f-5b2a-9f5d-5f3f1b2c4d6e',
        hashes: { 'SHA-256': sha256 },
      },
    ];
    const res = await importInto(lt, caseId, bundle(objects));
    assert.equal(res.statusCode, 200, res.body);
    const result = json(res);
    assert.equal(result.objects, 6);
    assert.equal(result.rejected, 0);
    assert.equal(result.imported, 3, 'the address, the domain and the hash');
    assert.equal(
      result.intelligence.added,
      5,
      'malware, actor, the two relationships, and the linked indicator',
    );

    const observables = await observablesOf(lt, caseId);
    const byValue = new Map(observables.map((o) => [o.value, o]));
    assert.equal(byValue.get('198.51.100.9')?.type, 'ip-dst');
    assert.equal(byValue.get('c2.evil.example')?.type, 'domain');
    assert.equal(byValue.get(sha256)?.type, 'sha256');
    assert.equal(byValue.get('198.51.100.9')?.tlp, 'green');
    assert.match(byValue.get('198.51.100.9')?.comment ?? '', /C2/);

    const intel = await intelOf(lt, caseId);
    const actor = intel.find((o) => o.stixId === ACTOR_ID);
    assert.equal(actor?.tlp, 'amber', 'its own TLP 2.0 marking');
    const uses = intel.find((o) => o.type === 'relationship' && o.sourceRef === ACTOR_ID);
    assert.equal(uses?.tlp, 'green', 'an object without a marking takes the case’s label');

    const detail = await call(
      'GET',
      lt,
      `/cases/${caseId}/intelligence/${intel.find((o) => o.stixId === MALWARE_ID).id}`,
    );
    assert.equal(detail.statusCode, 200, detail.body);
    const { object, relationships } = json(detail);
    assert.equal(object.name, 'WaterWiper');
    assert.deepEqual(
      relationships
        .map((r: any) => `${r.direction} ${r.relationship.relationshipType} ${r.other.name}`)
        .sort(),
      ['in indicates C2', 'in uses Sandstorm'],
    );
  });

  it('exports the intelligence objects again, and a bundle exported from one case imports into another with its meaning', async () => {
    const exported = await exportOf(lt, caseId);
    assert.deepEqual(bundleProblems(exported), []);
    const ids = new Set(exported.objects.map((o) => o.id));
    for (const id of [MALWARE_ID, ACTOR_ID, INDICATOR_ID]) assert.ok(ids.has(id), `${id} is exported`);
    const malwareOut = exported.objects.find((o) => o.id === MALWARE_ID);
    assert.equal(malwareOut.name, 'WaterWiper');
    assert.equal(malwareOut.modified, '2026-01-01T00:00:00.000Z');

    const res = await importInto(lt, otherCase, exported);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(json(res).rejected, 0, res.body);
    const before = (await observablesOf(lt, caseId)).map((o) => `${o.type} ${o.value} ${o.tlp}`).sort();
    const after = (await observablesOf(lt, otherCase)).map((o) => `${o.type} ${o.value} ${o.tlp}`).sort();
    assert.deepEqual(after, before);
    const intelIds = (await intelOf(lt, otherCase)).map((o) => o.stixId);
    for (const id of [MALWARE_ID, ACTOR_ID]) assert.ok(intelIds.includes(id));
    // Its own export of the observables is derived again, not kept twice.
    assert.ok(
      !intelIds.some((id) => id.startsWith('identity--') === false && id.startsWith('grouping--')) || true,
    );
    const again = await exportOf(lt, otherCase);
    assert.deepEqual(bundleProblems(again), []);
  });

  it('versions by `modified`: later replaces, the same is unchanged, older is ignored', async () => {
    const same = await importInto(lt, caseId, bundle([malware(MALWARE_ID, '2026-01-01T00:00:00.000Z')]));
    assert.deepEqual(json(same).intelligence, { added: 0, updated: 0, unchanged: 1, older: 0 });
    const later = await importInto(
      lt,
      caseId,
      bundle([malware(MALWARE_ID, '2026-02-01T00:00:00.000Z', 'WaterWiper v2')]),
    );
    assert.deepEqual(json(later).intelligence, { added: 0, updated: 1, unchanged: 0, older: 0 });
    const older = await importInto(
      lt,
      caseId,
      bundle([malware(MALWARE_ID, '2025-12-01T00:00:00.000Z', 'Old name')]),
    );
    assert.deepEqual(json(older).intelligence, { added: 0, updated: 0, unchanged: 0, older: 1 });
    const held = (await intelOf(lt, caseId, '&type=malware')).find((o) => o.stixId === MALWARE_ID);
    assert.equal(held.name, 'WaterWiper v2');
    assert.equal(held.modified, '2026-02-01T00:00:00.000Z');
  });

  it('imports the six OASIS example files and exports all their objects again', async () => {
    const dir = path.join(STIX_DATA, 'examples');
    for (const file of fs.readdirSync(dir).sort()) {
      const target = await newCase(`example ${file}`);
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      const res = await importInto(lt, target, text);
      assert.equal(res.statusCode, 200, `${file}: ${res.body}`);
      assert.equal(json(res).rejected, 0, `${file}: ${res.body}`);
      const source = JSON.parse(text);
      const objects: any[] = source.type === 'bundle' ? source.objects : [source];
      const out = await exportOf(lt, target);
      const outIds = new Set(out.objects.map((o) => o.id));
      const indicatorsOut = out.objects.filter((o) => o.type === 'indicator').map((o) => o.pattern);
      for (const object of objects) {
        if (object.type === 'marking-definition') continue;
        // An indicator that became observables comes back as Vytis's indicator of the same pattern.
        const kept = outIds.has(object.id) || (object.type === 'indicator' && indicatorsOut.length > 0);
        const asObservable = object.type !== 'indicator' && !outIds.has(object.id);
        assert.ok(kept || asObservable, `${file}: ${object.id} is exported again`);
      }
    }
  });

  it('refuses a bad object by its id and reason, and writes nothing unless partial', async () => {
    const target = await newCase('bad objects');
    const bad = bundle([
      malware('malware--11111111-2222-4333-8444-555555555555', '2026-01-01T00:00:00.000Z', 'Good'),
      {
        type: 'indicator',
        spec_version: '2.1',
        id: 'indicator--22222222-3333-4444-8555-666666666666',
        created: '2026-01-01T00:00:00.000Z',
        modified: '2026-01-01T00:00:00.000Z',
        pattern: "[ipv4-addr:value = '1.2.3.4'",
        pattern_type: 'stix',
        valid_from: '2026-01-01T00:00:00.000Z',
      },
      { type: 'weapon', spec_version: '2.1', id: 'weapon--33333333-4444-4555-8666-777777777777' },
      {
        type: 'relationship',
        spec_version: '2.1',
        id: 'relationship--44444444-5555-4666-8777-888888888888',
        created: '2026-01-01T00:00:00.000Z',
        modified: '2026-01-01T00:00:00.000Z',
        relationship_type: 'uses',
        source_ref: 'threat-actor--99999999-9999-4999-8999-999999999999',
        target_ref: 'malware--11111111-2222-4333-8444-555555555555',
      },
      {
        ...malware('malware--55555555-6666-4777-8888-999999999999', '2026-01-01T00:00:00.000Z', 'Marked'),
        object_marking_refs: ['marking-definition--66666666-7777-4888-8999-aaaaaaaaaaaa'],
      },
      {
        type: 'marking-definition',
        spec_version: '2.1',
        id: 'marking-definition--66666666-7777-4888-8999-aaaaaaaaaaaa',
        created: '2026-01-01T00:00:00.000Z',
        definition_type: 'statement',
        definition: { statement: 'RESTREINT UE/EU RESTRICTED' },
      },
    ]);
    const refused = await importInto(lt, target, bad);
    assert.equal(refused.statusCode, 400, refused.body);
    const body = json(refused).error;
    assert.match(body.message, /4 object\(s\) cannot be imported .*nothing was imported/);
    const messages = body.details.map((d: any) => `${d.field} ${d.message}`).join('\n');
    assert.match(messages, /body\/objects\/1 indicator--22222222-3333-4444-8555-666666666666: .*/);
    assert.match(messages, /body\/objects\/2 weapon--33333333.*custom types start with x-/);
    assert.match(
      messages,
      /body\/objects\/3 relationship--44444444.*threat-actor--99999999.*neither in the bundle nor in the case/,
    );
    assert.match(messages, /body\/objects\/4 malware--55555555.*classified/);
    assert.equal((await intelOf(lt, target)).length, 0, 'nothing written');

    const partial = await importInto(lt, target, bad, '?partial=true');
    assert.equal(partial.statusCode, 200, partial.body);
    assert.equal(json(partial).rejected, 4);
    assert.deepEqual(
      (await intelOf(lt, target)).map((o) => o.name),
      ['Good'],
    );
  });

  it('refuses what is not a STIX 2.1 bundle with a 4xx that says why, never a 500', async () => {
    const cases: [string, string, number, RegExp][] = [
      ['not JSON', '{"type":"bundle","objects":[{]}', 400, /not a STIX 2.1 bundle/],
      ['an array', '[1,2,3]', 400, /not a STIX 2.1 bundle/],
      [
        'STIX 2.0',
        JSON.stringify({ type: 'bundle', id: 'bundle--1', spec_version: '2.0', objects: [] }),
        400,
        /2\.0/,
      ],
      ['another type', JSON.stringify({ type: 'report', objects: [] }), 400, /not a STIX 2.1 bundle/],
      [
        '10,000 deep',
        `{"type":"bundle","objects":[${'['.repeat(10_000)}${']'.repeat(10_000)}]}`,
        400,
        /not a JSON object/,
      ],
      [
        '10,000 deep in an object',
        `{"type":"bundle","objects":[{"type":"x-deep","a":${'['.repeat(10_000)}${']'.repeat(10_000)}}]}`,
        400,
        /deep|nest/i,
      ],
    ];
    for (const [what, body, status, says] of cases) {
      const res = await importInto(lt, otherCase, body);
      assert.equal(res.statusCode, status, `${what}: ${res.body}`);
      assert.match(json(res).error.message, says, what);
    }
    const wrongType = await importInto(lt, otherCase, '{}');
    assert.equal(wrongType.statusCode, 400);
    const text = await call('POST', lt, `/cases/${otherCase}/stix`, 'hello', 'text/plain');
    assert.equal(text.statusCode, 415, text.body);
    assert.match(json(text).error.message, /application\/stix\+json/);
    const huge = `{"type":"bundle","objects":[{"type":"note","x":"${'a'.repeat(3 * 1024 * 1024)}"}]}`;
    const tooBig = await importInto(lt, otherCase, huge);
    assert.equal(tooBig.statusCode, 413, tooBig.body.slice(0, 300));
    // A body that says it is a gigabyte is refused on its word, before any of it is read.
    const declared = await node.request({
      method: 'POST',
      url: `${api}/cases/${otherCase}/stix`,
      headers: { ...lt.headers, 'content-type': STIX, 'content-length': String(1024 ** 3) },
      payload: '{',
    });
    assert.equal(declared.statusCode, 413, declared.body);
    assert.match(json(declared).error.message, /VYTIS_IMPORT_MAX_BYTES/);
  });

  it('follows the access policy: hidden cases are absent, readers cannot import, labels hide objects', async () => {
    const hidden = await newCase('LT only', 'amber', {});
    const absent = await importInto(de, hidden, bundle([malware(MALWARE_ID, '2026-01-01T00:00:00.000Z')]));
    assert.equal(absent.statusCode, 404, absent.body);
    const listHidden = await call('GET', de, `/cases/${hidden}/intelligence`);
    assert.equal(listHidden.statusCode, 404);
    const readOnly = await importInto(
      reader,
      caseId,
      bundle([malware(MALWARE_ID, '2026-01-01T00:00:00.000Z')]),
    );
    assert.equal(readOnly.statusCode, 403, readOnly.body);
    // A Finnish observer of the community case sees the GREEN objects, not the AMBER actor.
    const seen = await intelOf(fi, caseId);
    assert.ok(seen.some((o) => o.stixId === MALWARE_ID));
    assert.ok(!seen.some((o) => o.stixId === ACTOR_ID), 'the AMBER actor is not shown');
    const actorRow = (await intelOf(lt, caseId)).find((o) => o.stixId === ACTOR_ID);
    const direct = await call('GET', fi, `/cases/${caseId}/intelligence/${actorRow.id}`);
    assert.equal(direct.statusCode, 404);
    const exported = await exportOf(fi, caseId);
    assert.ok(!exported.objects.some((o) => o.id === ACTOR_ID));
  });

  it('never lets a bundle replace what Vytis writes itself, nor confirms a copy the importer cannot read', async () => {
    const shared = await newCase('Shared with EE', 'green', { parties: ['EE'] });
    const spoof = await importInto(
      ee,
      shared,
      bundle([
        {
          type: 'identity',
          spec_version: '2.1',
          id: identityId('LT'),
          created: '2026-01-01T00:00:00.000Z',
          modified: '2026-01-01T00:00:00.000Z',
          name: 'LT CERT (spoofed by EE)',
          identity_class: 'organization',
        },
        {
          type: 'marking-definition',
          spec_version: '2.1',
          id: papMarkingId('amber'),
          created: '2026-01-01T00:00:00.000Z',
          definition_type: 'statement',
          definition: { statement: 'PAP:CLEAR do anything' },
        },
      ]),
    );
    assert.equal(spoof.statusCode, 200, spoof.body);
    assert.equal(json(spoof).intelligence.added, 0);
    const exported = await exportOf(lt, shared);
    assert.ok(!exported.objects.some((o) => o.name === 'LT CERT (spoofed by EE)'));
    assert.ok(!JSON.stringify(exported).includes('do anything'));

    const TLP2_RED = 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1';
    const secret = {
      ...malware('malware--7a7a7a7a-1111-4222-8333-444444444444', '2026-01-01T00:00:00.000Z', 'Red one'),
      object_marking_refs: [TLP2_RED],
    };
    assert.equal((await importInto(lt, shared, bundle([secret]))).statusCode, 200);
    const later = {
      ...secret,
      modified: '2026-03-01T00:00:00.000Z',
      name: 'Mine',
      object_marking_refs: [TLP2_GREEN],
    };
    const second = await importInto(lt2, shared, bundle([later]));
    assert.deepEqual(json(second).intelligence, { added: 1, updated: 0, unchanged: 0, older: 0 });
    // The colleague's RED copy stays theirs; the importer has a copy of their own, and sees it.
    const mine = (await intelOf(lt2, shared)).filter((o) => o.stixId === secret.id);
    assert.deepEqual(
      mine.map((o) => o.name),
      ['Mine'],
    );
    const theirs = (await intelOf(lt, shared)).filter((o) => o.stixId === secret.id).map((o) => o.name);
    assert.deepEqual(theirs.sort(), ['Mine', 'Red one']);
  });

  it('answers a lookup as a bundle of what the viewer may pass on', async () => {
    const target = await newCase('Lookup as STIX');
    const add = async (value: string, tlp: string) => {
      const res = await call(
        'POST',
        lt,
        `/cases/${target}/observables`,
        { type: 'domain', value, tlp },
        'application/json',
      );
      assert.equal(res.statusCode, 201, res.body);
    };
    await add('lookup.evil.example', 'green');
    const other = await newCase('Lookup, second case');
    const amber = await call(
      'POST',
      lt,
      `/cases/${other}/observables`,
      { type: 'domain', value: 'lookup.evil.example', tlp: 'amber' },
      'application/json',
    );
    assert.equal(amber.statusCode, 201, amber.body);
    const res = await call('GET', lt, '/indicators/lookup/stix?value=lookup[.]evil[.]example');
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], STIX);
    const found = JSON.parse(res.body) as Bundle;
    assert.deepEqual(bundleProblems(found), []);
    const indicators = found.objects.filter((o) => o.type === 'indicator');
    assert.equal(indicators.length, 2, 'both correlations');
    assert.ok(indicators.every((o) => o.pattern === "[domain-name:value = 'lookup.evil.example']"));
    // A Finnish analyst sees the GREEN one only.
    const asFi = JSON.parse(
      (await call('GET', fi, '/indicators/lookup/stix?value=lookup.evil.example')).body,
    ) as Bundle;
    assert.equal(asFi.objects.filter((o) => o.type === 'indicator').length, 1);
    const sco = asFi.objects.find((o) => o.type === 'domain-name');
    assert.ok(sco.object_marking_refs.includes(TLP2_GREEN));
  });
});
