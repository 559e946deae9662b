import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';

const api = '/api/v1';
const STIX = 'application/stix+json;version=2.1';
const PUBLIC_DNS = 'List of known IPv4 public DNS resolvers';
const RFC1918 = 'List of RFC 1918 CIDR blocks';

/**
 * Issue 12, item 4: a value on a MISP warning list (a public resolver, a private address, a top
 * domain) is flagged where it is shown and counted on import, and does not correlate unless asked.
 * LT opens two cases shared with EE and puts the same values in both.
 */
describe('indicators: MISP warning lists flag values and keep them from correlating', () => {
  let node: TestNode;
  let lt: TestUser;
  let ee: TestUser;
  let first: string;
  let second: string;

  const call = (method: 'GET' | 'POST', user: TestUser, url: string, payload?: object) =>
    node.request({ method, url: `${api}${url}`, headers: user.headers, ...(payload ? { payload } : {}) });
  const open = async (title: string) => {
    const res = await call('POST', lt, '/cases', {
      title,
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'high',
      tlp: 'amber',
      pap: 'amber',
      shares: { parties: ['EE'] },
    });
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  };
  const add = async (caseId: string, type: string, value: string) => {
    const res = await call('POST', lt, `/cases/${caseId}/observables`, { type, value });
    assert.equal(res.statusCode, 201, res.body);
    return json(res);
  };
  const correlations = async (user: TestUser, caseId: string, id: string, query = '') => {
    const res = await call('GET', user, `/cases/${caseId}/observables/${id}/correlations${query}`);
    assert.equal(res.statusCode, 200, res.body);
    return json(res);
  };

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    first = await open('Resolver abuse at the ministry');
    second = await open('Phishing wave at the port authority');
  });
  after(() => node.close());

  it('shows the lists a value is on, wherever the observable is read', async () => {
    const resolver = await add(first, 'ip-dst', '8.8.8.8');
    assert.deepEqual(resolver.warnings, [PUBLIC_DNS]);
    const ordinary = await add(first, 'ip-dst', '185.220.101.4');
    assert.deepEqual(ordinary.warnings, []);
    const one = json(await call('GET', ee, `/cases/${first}/observables/${resolver.id}`));
    assert.deepEqual(one.warnings, [PUBLIC_DNS]);
    const listed = json(await call('GET', ee, `/cases/${first}/observables`));
    assert.deepEqual(Object.fromEntries(listed.items.map((o: any) => [o.value, o.warnings])), {
      '8.8.8.8': [PUBLIC_DNS],
      '185.220.101.4': [],
    });
    const sighted = await call('POST', lt, `/cases/${first}/observables/${resolver.id}/sightings`, {});
    assert.deepEqual(json(sighted).warnings, [PUBLIC_DNS]);
  });

  it('does not correlate a warning-listed value with the same value in another case, unless asked', async () => {
    const here = await add(first, 'domain', 'www.google.com');
    const there = await add(second, 'domain', 'www.google.com');
    const plain = await add(first, 'domain', 'c2.water-wiper.example');
    await add(second, 'domain', 'c2.water-wiper.example');

    const flagged = await correlations(ee, first, here.id);
    assert.equal(flagged.warninglisted, true);
    assert.deepEqual(flagged.warnings, ['Top 10K most-used sites from Tranco']);
    assert.deepEqual(flagged.items, [], 'left out by default');

    const asked = await correlations(ee, first, here.id, '?warninglisted=include');
    assert.equal(asked.warninglisted, false);
    assert.deepEqual(
      asked.items.map((c: any) => [c.observableId, c.warnings]),
      [[there.id, ['Top 10K most-used sites from Tranco']]],
    );

    const ordinary = await correlations(ee, first, plain.id);
    assert.equal(ordinary.warninglisted, false);
    assert.deepEqual(ordinary.warnings, []);
    assert.deepEqual(
      ordinary.items.map((c: any) => [c.caseId, c.warnings]),
      [[second, []]],
      'a value on no list correlates as before',
    );

    const wrong = await call(
      'GET',
      ee,
      `/cases/${first}/observables/${here.id}/correlations?warninglisted=yes`,
    );
    assert.equal(wrong.statusCode, 400, wrong.body);
    assert.match(json(wrong).error.message, /warninglisted/);
  });

  it('finds a warning-listed value in a lookup all the same, flagged', async () => {
    await add(second, 'ip-src', '8.8.8.8');
    const res = await call('GET', ee, '/indicators/lookup?value=8.8.8[.]8');
    assert.equal(res.statusCode, 200, res.body);
    const lookup = json(res);
    assert.deepEqual(lookup.warnings, [PUBLIC_DNS]);
    assert.deepEqual(
      lookup.items.map((c: any) => [c.caseId, c.type, c.warnings]).sort(),
      [
        [first, 'ip-dst', [PUBLIC_DNS]],
        [second, 'ip-src', [PUBLIC_DNS]],
      ].sort(),
    );
    const nowhere = json(await call('GET', ee, '/indicators/lookup?value=10.20.30.40'));
    assert.deepEqual(nowhere.items, []);
    assert.ok(nowhere.warnings.includes(RFC1918), 'flagged even where no case holds it');
    const plain = json(await call('GET', ee, '/indicators/lookup?value=c2.water-wiper.example'));
    assert.deepEqual(plain.warnings, []);
    assert.equal(plain.items.length, 2);
  });

  it('counts the values of an import on a warning list, once each, in every format', async () => {
    const csv = [
      'type,value',
      'ip-dst,10.1.2.3',
      'ip-dst,10.1.2.3',
      'md5,d41d8cd98f00b204e9800998ecf8427e',
      'domain,evil-update.example',
      'ip-dst,8.8.8.8',
      'text,8.8.8.8',
    ].join('\n');
    const res = await node.request({
      method: 'POST',
      url: `${api}/indicators/bulk?caseId=${second}`,
      headers: { ...lt.headers, 'content-type': 'text/csv' },
      payload: csv,
    });
    assert.equal(res.statusCode, 200, res.body);
    const result = json(res);
    // 10.1.2.3 (once, though twice in the file), the empty file's MD5 and 8.8.8.8 as an address;
    // 8.8.8.8 as text is on no list, as in MISP.
    assert.equal(result.warninglisted, 3);
    assert.equal(result.imported, 5);
    assert.equal(result.duplicates, 1);

    const again = json(
      await node.request({
        method: 'POST',
        url: `${api}/indicators/bulk?caseId=${second}`,
        headers: { ...lt.headers, 'content-type': 'text/csv' },
        payload: csv,
      }),
    );
    assert.equal(again.imported, 0);
    assert.equal(again.warninglisted, 3, 'values held already count too: the file is what is judged');

    const bundle = {
      type: 'bundle',
      id: 'bundle--6a0b1d7e-3f43-4f0a-9b0c-1c2d3e4f5a6b',
      objects: [
        {
          type: 'ipv4-addr',
          spec_version: '2.1',
          id: 'ipv4-addr--0a1b2c3d-4e5f-5a6b-8c7d-9e0f1a2b3c4d',
          value: '192.168.7.7',
        },
        {
          type: 'domain-name',
          spec_version: '2.1',
          id: 'domain-name--1b2c3d4e-5f6a-5b7c-8d9e-0f1a2b3c4d5e',
          value: 'drop.water-wiper.example',
        },
      ],
    };
    const stix = await node.request({
      method: 'POST',
      url: `${api}/cases/${first}/stix`,
      headers: { ...lt.headers, 'content-type': STIX },
      payload: JSON.stringify(bundle),
    });
    assert.equal(stix.statusCode, 200, stix.body);
    assert.equal(json(stix).imported, 2);
    assert.equal(json(stix).warninglisted, 1, 'the private address');
  });
});
