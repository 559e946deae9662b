import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { bundleProblems } from '../stix/stix.fixtures.ts';
import { ALL_COLLECTION, COMMUNITY_COLLECTION } from './taxii.service.ts';

const TAXII = 'application/taxii+json;version=2.1';
const STIX = 'application/stix+json;version=2.1';
const PUBLIC_URL = 'https://vytis.cert.example';

describe('TAXII 2.1 server', () => {
  let node: TestNode;
  let lt: TestUser;
  let fi: TestUser;
  let de: TestUser;
  let ee: TestUser;
  let caseId: string;
  let hiddenCase: string;

  const basic = (user: TestUser, name = user.name) =>
    `Basic ${Buffer.from(`${name}:${user.token}`).toString('base64')}`;
  const get = (user: TestUser | null, url: string, accept = TAXII, auth?: string) =>
    node.request({
      method: 'GET',
      url: `/taxii2${url}`,
      headers: {
        accept,
        ...(auth ? { authorization: auth } : user ? { authorization: basic(user) } : {}),
      },
    });
  const api = (user: TestUser, method: 'GET' | 'POST', url: string, payload?: object) =>
    node.request({
      method,
      url: `/api/v1${url}`,
      headers: { ...user.headers, ...(payload ? { 'content-type': 'application/json' } : {}) },
      ...(payload ? { payload } : {}),
    });
  const objectsOf = async (user: TestUser, collection: string, query = '') => {
    const res = await get(user, `/api/collections/${collection}/objects/${query}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], TAXII);
    return json(res) as { more: boolean; next?: string; objects?: any[] };
  };

  before(async () => {
    node = await startTestNode({ publicUrl: PUBLIC_URL });
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    fi = await node.user('fi.analyst', 'FI', ['analyst']);
    de = await node.user('de.analyst', 'DE', ['analyst']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    const made = await api(lt, 'POST', '/cases', {
      title: 'Wiper at the water utility',
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'high',
      tlp: 'green',
      pap: 'amber',
      shares: { parties: ['EE'] },
    });
    assert.equal(made.statusCode, 201, made.body);
    caseId = json(made).id;
    const hidden = await api(lt, 'POST', '/cases', {
      title: 'LT only',
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'high',
      tlp: 'amber',
      pap: 'amber',
    });
    hiddenCase = json(hidden).id;
    for (let i = 0; i < 25; i++) {
      node.clock.advance(1000);
      const added = await api(lt, 'POST', `/cases/${caseId}/observables`, {
        type: 'ip-dst',
        value: `198.51.100.${i + 1}`,
        tlp: i % 5 === 0 ? 'amber' : 'green',
      });
      assert.equal(added.statusCode, 201, added.body);
    }
    node.clock.advance(1000);
    const red = await api(lt, 'POST', `/cases/${caseId}/observables`, {
      type: 'domain',
      value: 'red.example',
      tlp: 'red',
    });
    assert.equal(red.statusCode, 201, red.body);
    node.clock.advance(1000);
    const secret = await api(lt, 'POST', `/cases/${hiddenCase}/observables`, {
      type: 'domain',
      value: 'hidden.example',
    });
    assert.equal(secret.statusCode, 201, secret.body);
  });
  after(() => node.close());

  it('answers discovery with absolute URLs under the configured public URL, and the API root', async () => {
    const discovery = await get(null, '/');
    assert.equal(discovery.statusCode, 200, discovery.body);
    assert.equal(discovery.headers['content-type'], TAXII);
    assert.deepEqual(json(discovery).api_roots, [`${PUBLIC_URL}/taxii2/api/`]);
    const root = await get(lt, '/api/');
    assert.equal(root.statusCode, 200, root.body);
    assert.deepEqual(json(root).versions, [TAXII]);
    assert.ok(json(root).max_content_length > 0);
  });

  it('takes HTTP Basic (user name + API token) or Bearer; anything else is a 401 in TAXII’s error shape', async () => {
    const bearer = await get(null, '/api/collections/', TAXII, lt.headers.authorization);
    assert.equal(bearer.statusCode, 200, bearer.body);
    const wrongName = await get(lt, '/api/collections/', TAXII, basic(lt, 'someone.else'));
    assert.equal(wrongName.statusCode, 401);
    assert.match(String(wrongName.headers['www-authenticate']), /^Basic realm=/);
    const error = json(wrongName);
    assert.equal(error.http_status, '401');
    assert.equal(typeof error.title, 'string');
    assert.equal(typeof error.description, 'string');
    const none = await get(null, '/api/collections/');
    assert.equal(none.statusCode, 401);
  });

  it('refuses an Accept it cannot answer (406) and a body it cannot read (415)', async () => {
    const html = await get(lt, '/api/collections/', 'text/html');
    assert.equal(html.statusCode, 406, html.body);
    assert.equal(json(html).http_status, '406');
    const old = await get(lt, '/api/collections/', 'application/taxii+json;version=2.0');
    assert.equal(old.statusCode, 406);
    const posted = await node.request({
      method: 'POST',
      url: `/taxii2/api/collections/${caseId}/objects/`,
      headers: { authorization: basic(lt), accept: TAXII, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    assert.equal(posted.statusCode, 415, posted.body);
  });

  it('lists everything, the community’s CLEAR and GREEN, and one collection per case the caller sees', async () => {
    const res = await get(lt, '/api/collections/');
    const ids = json(res).collections.map((c: any) => c.id);
    assert.ok(ids.includes(ALL_COLLECTION) && ids.includes(COMMUNITY_COLLECTION));
    assert.ok(ids.includes(caseId) && ids.includes(hiddenCase));
    const own = json(res).collections.find((c: any) => c.id === caseId);
    assert.equal(own.can_write, true);
    const asFi = await get(fi, '/api/collections/');
    const fiIds = json(asFi).collections.map((c: any) => c.id);
    assert.ok(fiIds.includes(caseId));
    assert.ok(!fiIds.includes(hiddenCase), 'a case the caller does not see is not a collection');
    assert.equal(json(asFi).collections.find((c: any) => c.id === caseId).can_write, false);
    const hidden = await get(fi, `/api/collections/${hiddenCase}/`);
    assert.equal(hidden.statusCode, 404);
    const hiddenObjects = await get(fi, `/api/collections/${hiddenCase}/objects/`);
    assert.equal(hiddenObjects.statusCode, 404);
  });

  it('pages with limit, next and more, and says the first and last date added', async () => {
    const seen: string[] = [];
    let next: string | undefined;
    let pages = 0;
    do {
      const res = await get(lt, `/api/collections/${caseId}/objects/?limit=10${next ? `&next=${next}` : ''}`);
      assert.equal(res.statusCode, 200, res.body);
      const page = json(res);
      pages++;
      for (const object of page.objects ?? []) seen.push(object.id);
      const first = res.headers['x-taxii-date-added-first'] as string;
      const last = res.headers['x-taxii-date-added-last'] as string;
      assert.match(first, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      assert.ok(first <= last);
      assert.equal(page.more, Boolean(page.next));
      next = page.next;
    } while (next);
    assert.equal(pages, 3);
    assert.equal(seen.length, 25, 'the RED one is never passed on');
    assert.equal(new Set(seen).size, 25);
    const bundle = {
      type: 'bundle',
      id: 'bundle--6a0b1d7e-3f43-4f0a-9b0c-1c2d3e4f5a6b',
      objects: (await objectsOf(lt, caseId, '?limit=1000')).objects,
    };
    assert.deepEqual(
      bundleProblems(bundle as any).filter((p) => !p.includes('dangles')),
      [],
    );
  });

  it('filters by added_after, match[type], match[id], match[version] and match[spec_version]', async () => {
    const all = (await objectsOf(lt, caseId, '?limit=1000')).objects!;
    const manifest = await get(lt, `/api/collections/${caseId}/manifest/?limit=1000`);
    assert.equal(manifest.statusCode, 200, manifest.body);
    const records = json(manifest).objects as any[];
    assert.equal(records.length, all.length);
    assert.deepEqual(Object.keys(records[0]).sort(), ['date_added', 'id', 'media_type', 'version']);
    const after = records[19].date_added;
    const later = await objectsOf(lt, caseId, `?added_after=${after}`);
    assert.deepEqual(
      later.objects!.map((o) => o.id),
      records.slice(20).map((r) => r.id),
    );
    assert.equal((await objectsOf(lt, caseId, '?match[type]=malware')).objects, undefined);
    assert.equal((await objectsOf(lt, caseId, '?match[type]=indicator')).objects!.length, 25);
    const one = all[3];
    const byId = await objectsOf(lt, caseId, `?match[id]=${one.id}`);
    assert.deepEqual(
      byId.objects!.map((o) => o.id),
      [one.id],
    );
    const direct = await get(lt, `/api/collections/${caseId}/objects/${one.id}/`);
    assert.equal(direct.statusCode, 200, direct.body);
    assert.equal(json(direct).objects[0].pattern, one.pattern);
    const versions = await get(lt, `/api/collections/${caseId}/objects/${one.id}/versions/`);
    assert.deepEqual(json(versions).versions, [one.modified]);
    const byVersion = await objectsOf(lt, caseId, `?match[id]=${one.id}&match[version]=${one.modified}`);
    assert.equal(byVersion.objects!.length, 1);
    const otherVersion = await objectsOf(
      lt,
      caseId,
      `?match[id]=${one.id}&match[version]=2001-01-01T00:00:00.000Z`,
    );
    assert.equal(otherVersion.objects, undefined);
    assert.equal((await objectsOf(lt, caseId, '?match[spec_version]=2.0')).objects, undefined);
    const bad = await get(lt, `/api/collections/${caseId}/objects/?added_after=yesterday`);
    assert.equal(bad.statusCode, 400);
    assert.match(json(bad).description, /added_after/);
    const forged = await get(lt, `/api/collections/${caseId}/objects/?next=abc`);
    assert.equal(forged.statusCode, 400);
  });

  it('gives a Finnish observer only what is CLEAR or GREEN, with counts and headers of that alone', async () => {
    const fiAll = (await objectsOf(fi, caseId, '?limit=1000')).objects!;
    assert.equal(fiAll.length, 20, 'the five AMBER ones are not there');
    const markings = new Set(fiAll.flatMap((o) => o.object_marking_refs));
    assert.ok(!markings.has('marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421'), 'no TLP 2.0 AMBER');
    const community = (await objectsOf(fi, COMMUNITY_COLLECTION, '?limit=1000')).objects!;
    assert.equal(community.length, 20);
    const everything = (await objectsOf(fi, ALL_COLLECTION, '?limit=1000')).objects!;
    assert.equal(everything.length, 20);
    const amberId = (await objectsOf(lt, caseId, '?limit=1')).objects![0].id;
    const amberForFi = await get(fi, `/api/collections/${caseId}/objects/${amberId}/`);
    assert.equal(
      amberForFi.statusCode,
      404,
      'an AMBER object is absent for FI, like one that does not exist',
    );
    const page = await get(fi, `/api/collections/${caseId}/objects/?limit=20`);
    assert.equal(json(page).more, false, 'more counts only what FI may see');
    const deAll = (await objectsOf(de, ALL_COLLECTION, '?limit=1000')).objects ?? [];
    assert.ok(!deAll.some((o) => o.name === 'hidden.example'));
  });

  it('adds an envelope to a case’s collection with a status resource only its requester reads', async () => {
    const envelope = {
      objects: [
        {
          type: 'malware',
          spec_version: '2.1',
          id: 'malware--0c7b5b88-8ff7-4a4d-aa9c-feb398cd0061',
          created: '2026-01-01T00:00:00.000Z',
          modified: '2026-01-01T00:00:00.000Z',
          name: 'WaterWiper',
          is_family: true,
        },
        { type: 'weapon', spec_version: '2.1', id: 'weapon--33333333-4444-4555-8666-777777777777' },
      ],
    };
    const res = await node.request({
      method: 'POST',
      url: `/taxii2/api/collections/${caseId}/objects/`,
      headers: { authorization: basic(lt), accept: TAXII, 'content-type': TAXII },
      payload: envelope,
    });
    assert.equal(res.statusCode, 202, res.body);
    const status = json(res);
    assert.equal(status.status, 'complete');
    assert.equal(status.total_count, 2);
    assert.equal(status.success_count, 1);
    assert.equal(status.failure_count, 1);
    assert.equal(status.failures[0].id, 'weapon--33333333-4444-4555-8666-777777777777');
    assert.deepEqual(status.successes, [
      { id: 'malware--0c7b5b88-8ff7-4a4d-aa9c-feb398cd0061', version: '2026-01-01T00:00:00.000Z' },
    ]);
    const again = await get(lt, `/api/status/${status.id}/`);
    assert.equal(again.statusCode, 200);
    assert.deepEqual(json(again), status);
    assert.equal((await get(fi, `/api/status/${status.id}/`)).statusCode, 404);
    const malware = await objectsOf(lt, caseId, '?match[type]=malware');
    assert.equal(malware.objects![0].name, 'WaterWiper');
    const readOnly = await node.request({
      method: 'POST',
      url: `/taxii2/api/collections/${caseId}/objects/`,
      headers: { authorization: basic(fi), accept: TAXII, 'content-type': TAXII },
      payload: envelope,
    });
    assert.equal(readOnly.statusCode, 403, readOnly.body);
    const toAll = await node.request({
      method: 'POST',
      url: `/taxii2/api/collections/${ALL_COLLECTION}/objects/`,
      headers: { authorization: basic(lt), accept: TAXII, 'content-type': TAXII },
      payload: envelope,
    });
    assert.equal(toAll.statusCode, 403);
    const notEnvelope = await node.request({
      method: 'POST',
      url: `/taxii2/api/collections/${caseId}/objects/`,
      headers: { authorization: basic(lt), accept: TAXII, 'content-type': TAXII },
      payload: '[1,2]',
    });
    assert.equal(notEnvelope.statusCode, 400, notEnvelope.body);
  });

  it('answers a client that asks for STIX with a bundle', async () => {
    const res = await get(lt, `/api/collections/${caseId}/objects/?limit=5`, STIX);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], STIX);
    assert.equal(json(res).type, 'bundle');
    assert.equal(json(res).objects.length, 5);
  });

  it('holds after the review: real dates only, forged keys refused, ids of one kind, media types to the letter', async () => {
    const feb30 = await get(lt, `/api/collections/${caseId}/objects/?added_after=2026-02-30T00:00:00Z`);
    assert.equal(feb30.statusCode, 400, feb30.body);
    const forged = Buffer.from(JSON.stringify(['2026-99-99T99:99:99.000000Z', crypto.randomUUID()])).toString(
      'base64url',
    );
    const badNext = await get(lt, `/api/collections/${caseId}/objects/?next=${forged}`);
    assert.equal(badNext.statusCode, 400, badNext.body);
    const indicator = (await objectsOf(lt, caseId, '?limit=1')).objects![0];
    const asVulnerability = await get(
      lt,
      `/api/collections/${caseId}/objects/${indicator.id.replace('indicator--', 'vulnerability--')}/`,
    );
    assert.equal(asVulnerability.statusCode, 404);
    const quoted = await get(lt, '/api/collections/', 'application/taxii+json;version="2.1"');
    assert.equal(quoted.statusCode, 200, quoted.body);
    const refused = await get(lt, '/api/collections/', 'application/taxii+json;q=0, text/html');
    assert.equal(refused.statusCode, 406);
    const oldBody = await node.request({
      method: 'POST',
      url: `/taxii2/api/collections/${caseId}/objects/`,
      headers: {
        authorization: basic(lt),
        accept: TAXII,
        'content-type': 'application/taxii+json;version=2.0',
      },
      payload: { objects: [] },
    });
    assert.equal(oldBody.statusCode, 415, oldBody.body);
  });

  it('serves one copy of an id and version however many parties hold it, and ends a page of large objects early', async () => {
    const upper = 'malware--94D72BA6-CC3F-4F0B-9C5C-7B0C5E5B6A11';
    const shared = (name: string) => ({
      objects: [
        {
          type: 'malware',
          spec_version: '2.1',
          id: 'malware--5f2d5c8e-0b0e-4c3a-9d35-1d6f3f0c2a10',
          created: '2026-02-01T00:00:00.000Z',
          modified: '2026-02-01T00:00:00.000Z',
          name,
          is_family: true,
        },
        {
          type: 'malware',
          spec_version: '2.1',
          id: upper,
          created: '2026-02-01T00:00:00.000Z',
          modified: '2026-02-01T00:00:00.000Z',
          name: 'Upper',
          is_family: false,
        },
      ],
    });
    // LT and EE (the case is shared with EE, so EE works on it) each keep a copy.
    for (const [user, name] of [
      [lt, 'Wiper'],
      [ee, 'EE version'],
    ] as const) {
      const res = await node.request({
        method: 'POST',
        url: `/taxii2/api/collections/${caseId}/objects/`,
        headers: { authorization: basic(user), accept: TAXII, 'content-type': TAXII },
        payload: shared(name),
      });
      assert.equal(res.statusCode, 202, `${user.name}: ${res.body}`);
      assert.deepEqual(
        json(res).successes.map((d: any) => d.version),
        ['2026-02-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z'],
      );
    }
    const one = await get(
      lt,
      `/api/collections/${caseId}/objects/malware--5f2d5c8e-0b0e-4c3a-9d35-1d6f3f0c2a10/versions/`,
    );
    assert.deepEqual(json(one).versions, ['2026-02-01T00:00:00.000Z']);
    const byUpper = await get(lt, `/api/collections/${caseId}/objects/${upper}/`);
    assert.equal(byUpper.statusCode, 200, byUpper.body);
    const byLower = await get(lt, `/api/collections/${caseId}/objects/${upper.toLowerCase()}/`);
    assert.equal(byLower.statusCode, 200, byLower.body);
    // EE moves its copy on: the object by id is its last version unless all are asked for.
    const later = shared('EE later');
    later.objects[0]!.modified = '2026-03-01T00:00:00.000Z';
    const moved = await node.request({
      method: 'POST',
      url: `/taxii2/api/collections/${caseId}/objects/`,
      headers: { authorization: basic(ee), accept: TAXII, 'content-type': TAXII },
      payload: { objects: [later.objects[0], null] },
    });
    assert.equal(moved.statusCode, 202, moved.body);
    assert.equal(json(moved).success_count, 1);
    assert.equal(json(moved).failure_count, 1, 'the null element fails alone');
    const lastOnly = await get(
      lt,
      `/api/collections/${caseId}/objects/malware--5f2d5c8e-0b0e-4c3a-9d35-1d6f3f0c2a10/`,
    );
    assert.deepEqual(
      json(lastOnly).objects.map((o: any) => o.modified),
      ['2026-03-01T00:00:00.000Z'],
    );
    const both = await get(
      lt,
      `/api/collections/${caseId}/objects/malware--5f2d5c8e-0b0e-4c3a-9d35-1d6f3f0c2a10/versions/`,
    );
    assert.deepEqual(json(both).versions.sort(), ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']);

    const blob = (i: number) => ({
      type: 'x-blob',
      spec_version: '2.1',
      id: `x-blob--0000000${i}-0000-4000-8000-000000000000`,
      created: '2026-02-01T00:00:00.000Z',
      modified: '2026-02-01T00:00:00.000Z',
      data: String(i).repeat(3 * 1024 * 1024),
    });
    const big = await node.request({
      method: 'POST',
      url: `/api/v1/cases/${caseId}/stix`,
      headers: { ...lt.headers, 'content-type': STIX },
      payload: JSON.stringify({
        type: 'bundle',
        id: 'bundle--6a0b1d7e-3f43-4f0a-9b0c-1c2d3e4f5a6b',
        objects: [1, 2, 3].map(blob),
      }),
    });
    assert.equal(big.statusCode, 200, big.body);
    const page = await get(lt, `/api/collections/${caseId}/objects/?match[type]=x-blob&limit=100`);
    assert.equal(page.statusCode, 200);
    assert.equal(json(page).objects.length, 2, 'a page holds at most 8 MiB of objects');
    assert.equal(json(page).more, true);
    const rest = await get(
      lt,
      `/api/collections/${caseId}/objects/?match[type]=x-blob&limit=100&next=${json(page).next}`,
    );
    assert.equal(json(rest).objects.length, 1);
    assert.equal(json(rest).more, false);
  });
});
