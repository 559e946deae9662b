import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { bundleProblems, STIX_DATA, schemaCount } from './stix.fixtures.ts';

const api = '/api/v1';

const TLP2 = {
  clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
};
const TLP1 = {
  white: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
};

const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
const sha1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const sha512 = `${'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce'}${'47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e'}`;
const tlsh = `t1${'a'.repeat(70)}`;

/** One observable of every type with a STIX equivalent, and what it must become. */
const MAPPED: { type: string; value: string; pattern?: string; sco?: string }[] = [
  { type: 'ip-src', value: '198.51.100.3', pattern: "[ipv4-addr:value = '198.51.100.3']", sco: 'ipv4-addr' },
  { type: 'ip-dst', value: '2001:db8::1', pattern: "[ipv6-addr:value = '2001:db8::1']", sco: 'ipv6-addr' },
  {
    type: 'ip-dst',
    value: '203.0.113.0/24',
    pattern: "[ipv4-addr:value ISSUBSET '203.0.113.0/24']",
    sco: 'ipv4-addr',
  },
  {
    type: 'ip-dst|port',
    value: '198.51.100.7|443',
    pattern:
      "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 443]",
    sco: 'network-traffic',
  },
  { type: 'ip-src|port', value: '2001:db8::2|8080', sco: 'network-traffic' },
  {
    type: 'domain',
    value: 'evil.example',
    pattern: "[domain-name:value = 'evil.example']",
    sco: 'domain-name',
  },
  { type: 'hostname', value: 'mail.evil.example', sco: 'domain-name' },
  { type: 'domain|ip', value: 'evil2.example|192.0.2.55', sco: 'domain-name' },
  { type: 'domain|ip', value: 'evil2.example|192.0.2.56', sco: 'domain-name' },
  { type: 'hostname|port', value: 'smtp.evil.example|25', sco: 'domain-name' },
  {
    type: 'url',
    value: 'http://evil.example/a?q=x',
    pattern: "[url:value = 'http://evil.example/a?q=x']",
    sco: 'url',
  },
  { type: 'link', value: 'https://evil.example/report', sco: 'url' },
  { type: 'uri', value: 'https://evil.example/login', sco: 'url' },
  {
    type: 'email-src',
    value: 'boss@evil.example',
    pattern: "[email-addr:value = 'boss@evil.example']",
    sco: 'email-addr',
  },
  { type: 'email-dst', value: 'victim@water.example', sco: 'email-addr' },
  {
    type: 'email-subject',
    value: "Invoice 'urgent'",
    pattern: "[email-message:subject = 'Invoice \\'urgent\\'']",
    sco: 'email-message',
  },
  { type: 'email-src-display-name', value: 'The Boss' },
  { type: 'email-attachment', value: 'invoice.pdf.exe' },
  {
    type: 'filename',
    value: "C:\\Users\\O'Brien\\evil.exe",
    pattern: "[file:name = 'C:\\\\Users\\\\O\\'Brien\\\\evil.exe']",
    sco: 'file',
  },
  { type: 'md5', value: md5, pattern: `[file:hashes.MD5 = '${md5}']`, sco: 'file' },
  { type: 'sha1', value: sha1, pattern: `[file:hashes.'SHA-1' = '${sha1}']`, sco: 'file' },
  { type: 'sha256', value: sha256, pattern: `[file:hashes.'SHA-256' = '${sha256}']`, sco: 'file' },
  { type: 'sha512', value: sha512, sco: 'file' },
  { type: 'ssdeep', value: '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C', sco: 'file' },
  { type: 'tlsh', value: tlsh, pattern: `[file:hashes.TLSH = '${'a'.repeat(70)}']`, sco: 'file' },
  {
    type: 'filename|md5',
    value: `setup|x.exe|${md5}`,
    pattern: `[file:name = 'setup|x.exe' AND file:hashes.MD5 = '${md5}']`,
    sco: 'file',
  },
  { type: 'filename|sha256', value: `drop.dll|${sha256}`, sco: 'file' },
  { type: 'imphash', value: md5 },
  { type: 'AS', value: 'AS64496', pattern: '[autonomous-system:number = 64496]', sco: 'autonomous-system' },
  { type: 'mutex', value: "Global\\wiper'1", pattern: "[mutex:name = 'Global\\\\wiper\\'1']", sco: 'mutex' },
  {
    type: 'regkey',
    value: 'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\wiper',
    pattern:
      "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run\\\\wiper']",
    sco: 'windows-registry-key',
  },
  {
    type: 'regkey|value',
    value: 'HKEY_CURRENT_USER\\Software\\Evil|C:\\evil.exe',
    sco: 'windows-registry-key',
  },
  {
    type: 'user-agent',
    value: 'Mozilla/5.0 (it\'s "x")',
    pattern:
      "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Mozilla/5.0 (it\\'s \"x\")']",
  },
  { type: 'mac-address', value: '00:00:5e:00:53:01', sco: 'mac-addr' },
  { type: 'x509-fingerprint-sha1', value: sha1, sco: 'x509-certificate' },
  { type: 'port', value: '4444' },
  { type: 'snort', value: 'alert tcp any any -> any 4444 (msg:"wiper C2"; sid:1000001;)' },
  { type: 'yara', value: 'rule wiper { strings: $a = "wipe" condition: $a }' },
];
/** Types STIX has no equivalent for: left out of the bundle. */
const UNMAPPED = [
  { type: 'text', value: 'seen on the night shift' },
  { type: 'ja3-fingerprint-md5', value: md5 },
  { type: 'uri', value: '/wp-login.php' },
  // STIX's mac-addr holds a MAC-48 only.
  { type: 'mac-eui-64', value: '00:00:5e:ef:10:00:00:01' },
];

describe('STIX 2.1 export of a case', () => {
  let node: TestNode;
  let lt: TestUser;
  let ee: TestUser;
  let fi: TestUser;
  let de: TestUser;
  let caseId: string;
  const itemIds: Record<string, string> = {};

  const call = (
    method: 'GET' | 'POST' | 'PATCH',
    user: TestUser | null,
    url: string,
    payload?: object,
    headers = {},
  ) =>
    node.request({
      method,
      url: `${api}${url}`,
      headers: { ...(user ? user.headers : {}), ...headers },
      ...(payload ? { payload } : {}),
    });
  const add = async (user: TestUser, id: string, body: Record<string, unknown>) => {
    const res = await call('POST', user, `/cases/${id}/observables`, body);
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  };
  const exportAs = async (user: TestUser, url = `/cases/${caseId}/stix`) => {
    const res = await call('GET', user, url);
    assert.equal(res.statusCode, 200, res.body);
    return JSON.parse(res.body) as { type: string; id: string; objects: any[] };
  };
  const ofType = (bundle: { objects: any[] }, type: string) => bundle.objects.filter((o) => o.type === type);
  const indicatorOf = (bundle: { objects: any[] }, value: string, type?: string) =>
    bundle.objects.find(
      (o) =>
        (o.type === 'indicator' || o.type === 'vulnerability') &&
        o.name === value &&
        (type === undefined || o.labels.includes(`misp:type="${type}"`)),
    );

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    fi = await node.user('fi.analyst', 'FI', ['analyst']);
    de = await node.user('de.analyst', 'DE', ['analyst']);
    const res = await call('POST', lt, '/cases', {
      title: 'Wiper at the water utility',
      description: 'Wiper on the SCADA historian; C2 over 4444.',
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'high',
      tlp: 'green',
      pap: 'amber',
      shares: { parties: ['EE'] },
    });
    assert.equal(res.statusCode, 201, res.body);
    caseId = json(res).id;
    for (const o of [...MAPPED, ...UNMAPPED])
      itemIds[`${o.type} ${o.value}`] = await add(lt, caseId, { type: o.type, value: o.value });
    itemIds.cve = await add(lt, caseId, {
      type: 'vulnerability',
      value: 'CVE-2024-3094',
      comment: 'xz backdoor',
    });
    itemIds.amber = await add(lt, caseId, { type: 'domain', value: 'amber.evil.example', tlp: 'amber' });
    itemIds.strict = await add(lt, caseId, {
      type: 'domain',
      value: 'strict.evil.example',
      tlp: 'amber+strict',
    });
    itemIds.red = await add(lt, caseId, { type: 'domain', value: 'red.evil.example', tlp: 'red' });
    // EE adds the same address under AMBER: one cyber-observable, under the stricter label.
    itemIds.eeCopy = await add(ee, caseId, { type: 'ip-dst', value: '198.51.100.3', tlp: 'amber' });
    node.clock.advance(60_000);
    const sighted = await call(
      'POST',
      lt,
      `/cases/${caseId}/observables/${itemIds['domain evil.example']}/sightings`,
      {},
    );
    assert.equal(sighted.statusCode, 200, sighted.body);
    for (const note of [
      { body: 'Green note: block 4444 at the border.', tlp: 'green' },
      { body: 'Amber note: the historian vendor is compromised.', tlp: 'amber' },
    ]) {
      const added = await call('POST', lt, `/cases/${caseId}/notes`, note);
      assert.equal(added.statusCode, 201, added.body);
    }
  });
  after(() => node.close());

  it('checks bundles with all 57 STIX 2.1 schemas, and passes the OASIS example bundles', () => {
    assert.equal(schemaCount(), 57);
    const dir = path.join(STIX_DATA, 'examples');
    for (const file of fs.readdirSync(dir)) {
      const bundle = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      // The examples leave markings off some objects, and one is a lone object that names others;
      // their schemas and patterns must pass.
      const problems = bundleProblems(bundle).filter(
        (p) => !p.endsWith('no object_marking_refs') && !p.endsWith('dangles'),
      );
      assert.deepEqual(problems, [], file);
    }
  });

  it('exports every supported observable type as a valid bundle whose patterns parse', async () => {
    const res = await call('GET', lt, `/cases/${caseId}/stix`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'application/stix+json;version=2.1');
    assert.match(String(res.headers['content-disposition']), /case-.*\.stix\.json/);
    const bundle = JSON.parse(res.body);
    assert.deepEqual(bundleProblems(bundle), []);
    assert.equal(bundle.type, 'bundle');
    for (const o of MAPPED) {
      const indicator = indicatorOf(bundle, o.value, o.type);
      assert.ok(indicator, `${o.type} ${o.value} is exported`);
      if (o.pattern) assert.equal(indicator.pattern, o.pattern, o.type);
      const basedOn = ofType(bundle, 'relationship').filter(
        (r) => r.source_ref === indicator.id && r.relationship_type === 'based-on',
      );
      if (o.sco) {
        assert.equal(basedOn.length, 1, `${o.type} is based on one cyber-observable`);
        assert.ok(basedOn[0].target_ref.startsWith(`${o.sco}--`), `${o.type} → ${basedOn[0].target_ref}`);
      } else {
        assert.equal(basedOn.length, 0, o.type);
      }
    }
    assert.equal(
      indicatorOf(bundle, 'rule wiper { strings: $a = "wipe" condition: $a }').pattern_type,
      'yara',
    );
    for (const o of UNMAPPED)
      assert.equal(indicatorOf(bundle, o.value, o.type), undefined, `${o.type} has no STIX equivalent`);
    // One domain named by two observables is one object that keeps both addresses.
    const evil2 = ofType(bundle, 'domain-name').filter((d) => d.value === 'evil2.example');
    assert.equal(evil2.length, 1);
    const addresses = new Set(
      ofType(bundle, 'ipv4-addr')
        .filter((a) => ['192.0.2.55', '192.0.2.56'].includes(a.value))
        .map((a) => a.id),
    );
    assert.deepEqual(new Set(evil2[0].resolves_to_refs), addresses);
    // The CVE is a vulnerability, not an indicator.
    const cve = indicatorOf(bundle, 'CVE-2024-3094');
    assert.equal(cve.type, 'vulnerability');
    assert.deepEqual(cve.external_references, [{ source_name: 'cve', external_id: 'CVE-2024-3094' }]);
    // The case is a grouping that refers to everything else.
    const [grouping] = ofType(bundle, 'grouping');
    assert.equal(grouping.name, 'Wiper at the water utility');
    assert.equal(grouping.context, 'suspicious-activity');
    const others = bundle.objects.filter(
      (o: any) => o.type !== 'marking-definition' && o.type !== 'grouping',
    );
    assert.deepEqual(new Set(grouping.object_refs), new Set(others.map((o: any) => o.id)));
    // The owner party is the identity every SDO is created by; each party once.
    const identities = ofType(bundle, 'identity');
    assert.deepEqual(identities.map((i) => i.name).sort(), ['Estonia', 'Lithuania']);
    const ltIdentity = identities.find((i) => i.name === 'Lithuania')!;
    assert.equal(grouping.created_by_ref, ltIdentity.id);
    assert.equal(ltIdentity.identity_class, 'organization');
    for (const o of bundle.objects) {
      if (['indicator', 'vulnerability', 'note', 'grouping', 'identity'].includes(o.type))
        assert.ok(o.created_by_ref, `${o.id} has created_by_ref`);
    }
    // The sighting, and the notes about the case.
    const [sighting] = ofType(bundle, 'sighting');
    assert.equal(sighting.sighting_of_ref, indicatorOf(bundle, 'evil.example').id);
    assert.equal(sighting.count, 1);
    const notes = ofType(bundle, 'note');
    assert.equal(notes.length, 2);
    for (const note of notes) assert.deepEqual(note.object_refs, [grouping.id]);
    // The address both parties hold is one cyber-observable, marked as the stricter copy is.
    const address = bundle.objects.filter((o: any) => o.type === 'ipv4-addr' && o.value === '198.51.100.3');
    assert.equal(address.length, 1);
    assert.equal(address[0].id, 'ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4');
    assert.ok(address[0].object_marking_refs.includes(TLP2.amber));
  });

  it('marks every object with TLP 2.0, TLP 1.0 and the case PAP, and includes the definitions', async () => {
    const bundle = await exportAs(lt);
    const definitions = new Map(ofType(bundle, 'marking-definition').map((m) => [m.id, m]));
    const pap = [...definitions.values()].find((m) => m.name === 'PAP:AMBER');
    assert.ok(pap, 'the PAP marking definition is in the bundle');
    assert.equal(pap.definition_type, 'statement');
    assert.deepEqual(definitions.get(TLP2.green)?.extensions, {
      'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d': {
        extension_type: 'property-extension',
        tlp_2_0: 'green',
      },
    });
    assert.equal(definitions.get(TLP1.green)?.definition_type, 'tlp');
    for (const o of bundle.objects) {
      if (o.type === 'marking-definition') continue;
      for (const ref of o.object_marking_refs)
        assert.ok(definitions.has(ref), `${o.id}: ${ref} is in the bundle`);
    }
    const green = indicatorOf(bundle, 'evil.example');
    assert.deepEqual(green.object_marking_refs, [TLP2.green, TLP1.green, pap.id]);
    const strict = indicatorOf(bundle, 'strict.evil.example');
    assert.deepEqual(strict.object_marking_refs, [TLP2['amber+strict'], TLP1.amber, pap.id]);
    const identity = ofType(bundle, 'identity')[0];
    assert.deepEqual(identity.object_marking_refs, [TLP2.clear, TLP1.white]);
    // RED is never passed on.
    assert.equal(indicatorOf(bundle, 'red.evil.example'), undefined);
    assert.equal(definitions.has(TLP2.red), false);
  });

  it('gives every object the same id on every export, and moves modified when a row changes', async () => {
    const strip = (bundle: { id: string; objects: any[] }) => ({ ...bundle, id: undefined });
    const first = await exportAs(lt);
    const second = await exportAs(lt);
    assert.notEqual(first.id, second.id, 'a bundle is a new wrapper each time');
    assert.deepEqual(strip(first), strip(second));
    const before = indicatorOf(first, 'mail.evil.example');
    const groupingBefore = ofType(first, 'grouping')[0];

    node.clock.advance(3_600_000);
    const changed = await call(
      'PATCH',
      lt,
      `/cases/${caseId}/observables/${itemIds['hostname mail.evil.example']}`,
      {
        comment: 'also the MX',
      },
    );
    assert.equal(changed.statusCode, 200, changed.body);
    const third = await exportAs(lt);
    const after = indicatorOf(third, 'mail.evil.example');
    assert.equal(after.id, before.id);
    assert.equal(after.created, before.created);
    assert.equal(after.modified, json(changed).updatedAt);
    assert.ok(after.modified > before.modified);
    assert.equal(after.description, 'also the MX');
    const groupingAfter = ofType(third, 'grouping')[0];
    assert.equal(groupingAfter.id, groupingBefore.id);
    assert.ok(groupingAfter.modified > groupingBefore.modified, 'the grouping moves with what it holds');
    assert.deepEqual(bundleProblems(third), []);
  });

  it('gives another party only what it may pass on, and a Finnish observer only GREEN and CLEAR', async () => {
    const eeBundle = await exportAs(ee);
    assert.deepEqual(bundleProblems(eeBundle), []);
    assert.ok(indicatorOf(eeBundle, 'amber.evil.example'), 'AMBER reaches the party the case is shared with');
    assert.equal(
      indicatorOf(eeBundle, 'strict.evil.example'),
      undefined,
      "another party's AMBER+STRICT is not passed on",
    );
    assert.equal(indicatorOf(eeBundle, 'red.evil.example'), undefined);
    assert.equal(ofType(eeBundle, 'note').length, 2);

    const fiBundle = await exportAs(fi);
    assert.deepEqual(bundleProblems(fiBundle), []);
    const tlps = new Set(
      fiBundle.objects.filter((o) => o.type !== 'marking-definition').flatMap((o) => o.object_marking_refs),
    );
    for (const ref of [TLP2.amber, TLP2['amber+strict'], TLP2.red, TLP1.amber])
      assert.equal(tlps.has(ref), false);
    assert.ok(indicatorOf(fiBundle, 'evil.example'));
    assert.equal(indicatorOf(fiBundle, 'amber.evil.example'), undefined);
    assert.deepEqual(
      ofType(fiBundle, 'note').map((n) => n.content),
      ['Green note: block 4444 at the border.'],
    );
    // EE's AMBER copy of the address is not FI's to see; the address itself is still there from LT's GREEN one.
    const address = fiBundle.objects.find((o) => o.id === 'ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4');
    assert.deepEqual(address.object_marking_refs.slice(0, 2), [TLP2.green, TLP1.green]);
    assert.deepEqual(
      ofType(fiBundle, 'identity').map((i) => i.name),
      ['Lithuania'],
    );
  });

  it('is a 404 for a case the viewer may not see, and a 401 without credentials', async () => {
    const external = await call('GET', de, `/cases/${caseId}/stix`);
    assert.equal(external.statusCode, 404, external.body);
    const missing = await call('GET', lt, '/cases/00000000-0000-4000-8000-000000000000/stix');
    assert.equal(missing.statusCode, 404);
    assert.equal(
      external.json().error.message,
      missing.json().error.message.replace(/0{8}-0{4}-4000-8000-0{12}/, caseId),
    );
    const anonymous = await call('GET', null, `/cases/${caseId}/stix`);
    assert.equal(anonymous.statusCode, 401);
  });

  it('answers application/json when asked, and refuses to pass on a RED case', async () => {
    const plain = await call('GET', lt, `/cases/${caseId}/stix`, undefined, { accept: 'application/json' });
    assert.equal(plain.statusCode, 200);
    assert.match(String(plain.headers['content-type']), /^application\/json/);
    const red = await call('POST', lt, '/cases', {
      title: 'Named people only',
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'high',
      tlp: 'red',
      pap: 'red',
    });
    assert.equal(red.statusCode, 201, red.body);
    const refused = await call('GET', lt, `/cases/${json(red).id}/stix`);
    assert.equal(refused.statusCode, 403, refused.body);
    assert.match(refused.json().error.message, /TLP:RED/);
  });

  it('is documented in the API document, with both media types', async () => {
    const doc = json(await node.request({ method: 'GET', url: '/openapi.json' }));
    const operation = doc.paths['/api/v1/cases/{id}/stix']?.get;
    assert.ok(operation, 'the route is in the API document');
    assert.deepEqual(Object.keys(operation.responses['200'].content).sort(), [
      'application/json',
      'application/stix+json;version=2.1',
    ]);
    assert.ok(operation.parameters.some((p: { name: string }) => p.name === 'exercise'));
  });

  it('exports an exercise only when asked for, each object labelled exercise', async () => {
    const res = await call('POST', lt, '/cases', {
      title: 'EXERCISE Cyber Coalition',
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'low',
      tlp: 'clear',
      pap: 'clear',
      exercise: true,
    });
    assert.equal(res.statusCode, 201, res.body);
    const drill = json(res).id;
    await add(lt, drill, { type: 'domain', value: 'c2.drill.example' });
    const refused = await call('GET', lt, `/cases/${drill}/stix`);
    assert.equal(refused.statusCode, 400, refused.body);
    assert.equal(refused.json().error.details[0].field, 'querystring/exercise');
    const bundle = await exportAs(lt, `/cases/${drill}/stix?exercise=include`);
    assert.deepEqual(bundleProblems(bundle), []);
    for (const o of bundle.objects) {
      if (['indicator', 'relationship', 'grouping'].includes(o.type))
        assert.ok(o.labels.includes('exercise'), o.id);
    }
    const real = await call('GET', lt, `/cases/${caseId}/stix?exercise=only`);
    assert.equal(real.statusCode, 400);
  });
});
