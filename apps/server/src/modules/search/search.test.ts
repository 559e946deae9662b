import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { submitRequest } from '../../test/requests.fixtures.ts';

const api = '/api/v1';
const DOMAIN = 'c2.water-wiper.example';
const SHARED_URL = `http://${DOMAIN}/gate.php`;
const HIDDEN_URL = `https://${DOMAIN}/secret`;
const SHARED_IP = '203.0.113.7';
const HIDDEN_IP = '198.51.100.9';

/**
 * Issue 18, item 5: analysts look up many values at once, with their URL ↔ domain ↔ IP relations,
 * and search everything they may see. LT works two cases: one shared with EE, one kept to itself;
 * whatever EE finds, counts or is related to comes from the shared case only.
 */
describe('search: a lookup of many values and a global search, as far as the viewer may see', () => {
  let node: TestNode;
  let lt: TestUser;
  let ltPoc: TestUser;
  let ee: TestUser;
  let shared: string;
  let hidden: string;
  let requestId: string;

  const call = (method: 'GET' | 'POST', user: TestUser | null, url: string, payload?: object) =>
    node.request({
      method,
      url: `${api}${url}`,
      headers: user?.headers ?? {},
      ...(payload ? { payload } : {}),
    });
  const ok = async (method: 'GET' | 'POST', user: TestUser, url: string, payload?: object) => {
    const res = await call(method, user, url, payload);
    assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`);
    return json(res);
  };
  const open = async (title: string, shares: string[]) =>
    (
      await ok('POST', lt, '/cases', {
        title,
        description: 'Wiper malware beaconing to its command server',
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'high',
        tlp: 'amber',
        pap: 'amber',
        ...(shares.length ? { shares: { parties: shares } } : {}),
      })
    ).id as string;
  const add = (caseId: string, type: string, value: string) =>
    ok('POST', lt, `/cases/${caseId}/observables`, { type, value });
  const lookup = (user: TestUser, body: object) => ok('POST', user, '/indicators/lookup/batch', body);
  const search = (user: TestUser, query: string) => ok('GET', user, `/search?${query}`);

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    shared = await open('Water wiper at the utility', ['EE']);
    hidden = await open('Wiper at the national grid', []);
    await add(shared, 'url', SHARED_URL);
    await add(shared, 'domain', DOMAIN);
    await add(shared, 'domain|ip', `${DOMAIN}|${SHARED_IP}`);
    await add(shared, 'ip-dst', SHARED_IP);
    await add(hidden, 'url', HIDDEN_URL);
    await add(hidden, 'domain', DOMAIN);
    await add(hidden, 'domain|ip', `${DOMAIN}|${HIDDEN_IP}`);
    await add(hidden, 'ip-dst', HIDDEN_IP);
    await ok('POST', lt, `/cases/${shared}/tasks`, { title: 'Sinkhole the wiper domain' });
    await ok('POST', lt, `/cases/${hidden}/tasks`, { title: 'Reimage the wiper-hit substations' });
    await ok('POST', lt, `/cases/${shared}/notes`, { body: 'The wiper beacons every 60 seconds.' });
    await ok('POST', lt, `/cases/${hidden}/notes`, { body: 'The wiper reached the grid SCADA.' });
    requestId = (await submitRequest(node, ltPoc, { title: 'Wiper outbreak at the national grid' })).id;
  });
  after(() => node.close());

  it('looks up many values at once: type, normalised form, places and relations, hidden cases absent', async () => {
    const result = await lookup(ee, {
      values: [`hxxp://c2.water-wiper[.]example/gate.php`, 'C2.Water-Wiper[.]example', SHARED_IP, HIDDEN_IP],
    });
    const [url, domain, ip, hiddenIp] = result.items;
    assert.equal(result.items.length, 4);

    assert.equal(url.type, 'url');
    assert.equal(url.value, SHARED_URL);
    assert.deepEqual(
      url.items.map((p: any) => p.caseTitle),
      ['Water wiper at the utility'],
    );
    assert.deepEqual(url.related, [
      { relation: 'host-of-url', type: 'domain', value: DOMAIN, places: 1, warnings: [] },
    ]);

    assert.equal(domain.type, 'domain');
    assert.equal(domain.value, DOMAIN);
    assert.deepEqual(
      domain.items.map((p: any) => p.caseId),
      [shared],
      'the case EE may not see is absent',
    );
    assert.deepEqual(
      domain.related.map((r: any) => [r.relation, r.value, r.places]),
      [
        ['url-on-host', SHARED_URL, 1],
        ['ip-of-domain', SHARED_IP, 1],
      ],
    );

    assert.equal(ip.type, 'ip-dst');
    assert.deepEqual(
      ip.related.map((r: any) => [r.relation, r.value, r.places]),
      [['domain-of-ip', DOMAIN, 1]],
    );

    assert.equal(hiddenIp.value, HIDDEN_IP);
    assert.deepEqual(hiddenIp.items, [], 'a value only in a hidden case is not found');
    assert.deepEqual(hiddenIp.related, [], 'nor is what it is related to there');
  });

  it('shows the owner of both cases everything, relations included', async () => {
    const result = await lookup(lt, { values: [DOMAIN, HIDDEN_IP] });
    const [domain, ip] = result.items;
    assert.deepEqual(domain.items.map((p: any) => p.caseId).sort(), [shared, hidden].sort());
    assert.deepEqual(
      domain.related.map((r: any) => [r.relation, r.value, r.places]),
      [
        ['url-on-host', SHARED_URL, 1],
        ['url-on-host', HIDDEN_URL, 1],
        ['ip-of-domain', HIDDEN_IP, 1],
        ['ip-of-domain', SHARED_IP, 1],
      ],
    );
    assert.equal(ip.items.length, 1);
    assert.deepEqual(
      ip.related.map((r: any) => [r.relation, r.value, r.places]),
      [['domain-of-ip', DOMAIN, 2]],
    );
  });

  it('takes a pasted block, split at lines and spaces and refanged, each value once', async () => {
    const result = await lookup(ee, {
      text: `hxxp://c2.water-wiper[.]example/gate.php\r\n${SHARED_IP}   c2.water-wiper[.]example\n\n${SHARED_IP}\n8.8.8.8`,
    });
    assert.deepEqual(
      result.items.map((i: any) => i.value),
      [SHARED_URL, SHARED_IP, DOMAIN, '8.8.8.8'],
    );
    assert.deepEqual(result.items[3].warnings, ['List of known IPv4 public DNS resolvers']);
  });

  it('refuses more than 1000 values, both forms at once, or nothing, naming the field', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => `10.0.${Math.floor(i / 256)}.${i % 256}`);
    const tooMany = await call('POST', ee, '/indicators/lookup/batch', { values: many });
    assert.equal(tooMany.statusCode, 400);
    assert.ok(
      json(tooMany).error.details.some((d: any) => d.field.includes('values')),
      tooMany.body,
    );
    const pasted = await call('POST', ee, '/indicators/lookup/batch', { text: many.join('\n') });
    assert.equal(pasted.statusCode, 400);
    assert.deepEqual(
      json(pasted).error.details.map((d: any) => d.field),
      ['body/text'],
    );
    const both = await call('POST', ee, '/indicators/lookup/batch', { values: ['a'], text: 'b' });
    assert.equal(both.statusCode, 400);
    const blank = await call('POST', ee, '/indicators/lookup/batch', { text: '  \n ' });
    assert.equal(blank.statusCode, 400);
    const long = await call('POST', ee, '/indicators/lookup/batch', { values: ['x'.repeat(2049)] });
    assert.equal(long.statusCode, 400);
    const unknown = await call('POST', ee, '/indicators/lookup/batch', { values: ['a'], extra: 1 });
    assert.equal(unknown.statusCode, 400);
    const anonymous = await call('POST', null, '/indicators/lookup/batch', { values: ['a'] });
    assert.equal(anonymous.statusCode, 401);
    // Exactly the limit is fine.
    const limit = await lookup(ee, { values: many.slice(0, 1000) });
    assert.equal(limit.items.length, 1000);
  });

  it('finds a request, a case, an observable, a task and a note — never one the viewer may not see', async () => {
    const mine = await search(lt, 'q=wiper');
    const kinds = (hits: any[]) => hits.map((h) => `${h.kind}:${h.title}`).sort();
    assert.deepEqual(
      kinds(mine.items),
      [
        'case:Water wiper at the utility',
        'case:Wiper at the national grid',
        'note:The wiper beacons every 60 seconds.',
        'note:The wiper reached the grid SCADA.',
        `observable:${DOMAIN}|${HIDDEN_IP}`,
        `observable:${DOMAIN}|${SHARED_IP}`,
        `observable:${DOMAIN}`,
        `observable:${DOMAIN}`,
        `observable:${HIDDEN_URL}`,
        `observable:${SHARED_URL}`,
        'request:Wiper outbreak at the national grid',
        'task:Reimage the wiper-hit substations',
        'task:Sinkhole the wiper domain',
      ].sort(),
    );
    const theirs = await search(ee, 'q=wiper');
    assert.deepEqual(
      kinds(theirs.items),
      [
        'case:Water wiper at the utility',
        'note:The wiper beacons every 60 seconds.',
        `observable:${DOMAIN}|${SHARED_IP}`,
        `observable:${DOMAIN}`,
        `observable:${SHARED_URL}`,
        'task:Sinkhole the wiper domain',
      ].sort(),
    );
    const everyCase = new Set(theirs.items.map((h: any) => h.caseId ?? h.id));
    assert.ok(!everyCase.has(hidden), 'nothing of the hidden case');
    // By id: the request is found by its owner's party, not by EE.
    assert.deepEqual(
      (await search(lt, `q=${requestId}`)).items.map((h: any) => [h.kind, h.match]),
      [['request', 'exact']],
    );
    assert.deepEqual((await search(ee, `q=${requestId}`)).items, []);
    assert.deepEqual((await search(ee, `q=${hidden}`)).items, []);
  });

  it('ranks exact values first (defanged is fine) and filters by kind', async () => {
    const found = await search(ee, `q=${encodeURIComponent('c2.water-wiper[.]example')}`);
    assert.deepEqual(found.items[0], {
      ...found.items[0],
      kind: 'observable',
      title: DOMAIN,
      match: 'exact',
    });
    assert.deepEqual(
      found.items.slice(1).map((h: any) => [h.kind, h.title, h.match]),
      [
        ['observable', `${DOMAIN}|${SHARED_IP}`, 'prefix'],
        ['observable', SHARED_URL, 'contains'],
      ],
      'the refanged value is found inside others',
    );
    const plain = await search(ee, `q=${encodeURIComponent(DOMAIN)}`);
    assert.deepEqual(plain.items[0], {
      ...plain.items[0],
      kind: 'observable',
      title: DOMAIN,
      match: 'exact',
    });
    assert.ok(plain.items.length > 1, 'values that contain it follow');
    assert.ok(plain.items.slice(1).every((h: any) => h.match !== 'exact'));
    const onlyCases = await search(ee, 'q=wiper&kind=case');
    assert.deepEqual(
      onlyCases.items.map((h: any) => h.kind),
      ['case'],
    );
  });

  it('pages through every hit with the cursor, each once', async () => {
    const all = (await search(lt, 'q=wiper&limit=100')).items.map((h: any) => h.id);
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await search(lt, `q=wiper&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.ok(page.items.length <= 2);
      paged.push(...page.items.map((h: any) => h.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(paged, all);
    assert.equal(new Set(paged).size, 13);
  });

  it('bounds the query and refuses foreign cursors, naming the parameter', async () => {
    const long = await call('GET', ee, `/search?q=${'a'.repeat(201)}`);
    assert.equal(long.statusCode, 400);
    assert.match(long.body, /q/);
    const blank = await call('GET', ee, '/search?q=%20%20');
    assert.equal(blank.statusCode, 400);
    const forged = await call('GET', ee, '/search?q=wiper&cursor=bm90LWEtY3Vyc29y');
    assert.equal(forged.statusCode, 400);
    assert.deepEqual(
      json(forged).error.details.map((d: any) => d.field),
      ['querystring/cursor'],
    );
    // A day that does not exist (Date.parse would roll it into March; PostgreSQL would refuse it).
    const february30 = Buffer.from(
      JSON.stringify([0, '2026-02-30T00:00:00Z', 0, '0b7e8a4e-0000-4000-8000-000000000000']),
    ).toString('base64url');
    const impossible = await call('GET', ee, `/search?q=wiper&cursor=${february30}`);
    assert.equal(impossible.statusCode, 400, impossible.body);
    const wildcard = await search(ee, 'q=%25');
    assert.deepEqual(wildcard.items, [], '% is a character, not a wildcard');
    const anonymous = await call('GET', null, '/search?q=wiper');
    assert.equal(anonymous.statusCode, 401);
  });
});
