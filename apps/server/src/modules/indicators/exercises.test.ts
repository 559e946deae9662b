import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';

const api = '/api/v1';

const caseBody = (overrides: Record<string, unknown> = {}) => ({
  title: 'Wiper at the water utility',
  incidentClass: 'rsit:malicious-code="infected-system"',
  severity: 'high',
  tlp: 'amber',
  pap: 'amber',
  ...overrides,
});

/**
 * Issue 17: exercise indicators stay apart from real ones. A real case, two exercise cases and one
 * value in all three; the EE analyst (whom every case is shared with) looks from outside.
 */
describe('indicators: exercises stay apart from real cases', () => {
  let node: TestNode;
  let lt: TestUser;
  let ee: TestUser;
  let realCase: string;
  let drillCase: string;
  let otherDrillCase: string;
  let realItem: Record<string, any>;
  let drillItem: Record<string, any>;
  let otherDrillItem: Record<string, any>;

  const call = (method: 'GET' | 'POST', user: TestUser, url: string, payload?: object) =>
    node.request({ method, url: `${api}${url}`, headers: user.headers, ...(payload ? { payload } : {}) });
  const open = async (overrides: Record<string, unknown>) => {
    const res = await call('POST', lt, '/cases', caseBody({ shares: { parties: ['EE'] }, ...overrides }));
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  };
  const add = async (caseId: string, value: string) => {
    const res = await call('POST', lt, `/cases/${caseId}/observables`, { type: 'domain', value });
    assert.equal(res.statusCode, 201, res.body);
    return json(res);
  };
  const caseIds = (res: { body: string }) =>
    (JSON.parse(res.body).items as any[]).map((i) => i.caseId).sort();

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    realCase = await open({});
    drillCase = await open({ title: 'EXERCISE Cyber Coalition: wiper', exercise: true });
    otherDrillCase = await open({ title: 'EXERCISE Locked Shields: C2', exercise: true });
    realItem = await add(realCase, 'c2.wiper.example');
    drillItem = await add(drillCase, 'c2[.]wiper.example');
    otherDrillItem = await add(otherDrillCase, 'c2.wiper.example');
  });
  after(() => node.close());

  it('marks every observable of an exercise, wherever it is read', async () => {
    assert.equal(realItem.exercise, false);
    assert.equal(drillItem.exercise, true, 'as added');
    const one = json(await call('GET', ee, `/cases/${drillCase}/observables/${drillItem.id}`));
    assert.equal(one.exercise, true);
    const listed = json(await call('GET', ee, `/cases/${drillCase}/observables`));
    assert.deepEqual(
      listed.items.map((o: any) => o.exercise),
      [true],
    );
    const sighted = await call('POST', lt, `/cases/${drillCase}/observables/${drillItem.id}/sightings`, {});
    assert.equal(sighted.statusCode, 200, sighted.body);
    assert.equal(json(sighted).exercise, true);
    assert.equal(json(await call('GET', ee, `/cases/${realCase}/observables`)).items[0].exercise, false);
  });

  it('looks a value up in real cases only, unless exercises are asked for', async () => {
    const real = await call('GET', ee, '/indicators/lookup?value=c2.wiper.example');
    assert.equal(real.statusCode, 200, real.body);
    assert.deepEqual(caseIds(real), [realCase]);
    assert.equal(json(real).exercises, 'exclude');
    assert.ok(json(real).items.every((i: any) => i.exercise === false));

    const both = await call('GET', ee, '/indicators/lookup?value=c2[.]wiper.example&exercise=include');
    assert.equal(both.statusCode, 200, both.body);
    assert.deepEqual(caseIds(both), [realCase, drillCase, otherDrillCase].sort());
    for (const item of json(both).items) assert.equal(item.exercise, item.caseId !== realCase, item.caseId);

    const drills = await call('GET', ee, '/indicators/lookup?value=c2.wiper.example&exercise=only');
    assert.deepEqual(caseIds(drills), [drillCase, otherDrillCase].sort());
    assert.ok(json(drills).items.every((i: any) => i.exercise === true));

    const wrong = await call('GET', ee, '/indicators/lookup?value=c2.wiper.example&exercise=yes');
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /exercise/);
  });

  it('never correlates a real case with exercises unless asked; an exercise only with exercises', async () => {
    const fromReal = await call('GET', lt, `/cases/${realCase}/observables/${realItem.id}/correlations`);
    assert.equal(fromReal.statusCode, 200, fromReal.body);
    assert.deepEqual(caseIds(fromReal), []);
    assert.equal(json(fromReal).exercises, 'exclude');
    const asked = await call(
      'GET',
      lt,
      `/cases/${realCase}/observables/${realItem.id}/correlations?exercise=include`,
    );
    assert.deepEqual(caseIds(asked), [drillCase, otherDrillCase].sort());
    assert.ok(json(asked).items.every((i: any) => i.exercise === true));

    const fromDrill = await call('GET', ee, `/cases/${drillCase}/observables/${drillItem.id}/correlations`);
    assert.equal(fromDrill.statusCode, 200, fromDrill.body);
    assert.deepEqual(caseIds(fromDrill), [otherDrillCase]);
    assert.equal(json(fromDrill).items[0].observableId, otherDrillItem.id);
    assert.equal(json(fromDrill).items[0].exercise, true);
    assert.equal(json(fromDrill).exercises, 'only');
    for (const scope of ['include', 'exclude']) {
      const widened = await call(
        'GET',
        ee,
        `/cases/${drillCase}/observables/${drillItem.id}/correlations?exercise=${scope}`,
      );
      assert.equal(widened.statusCode, 400, `${scope}: ${widened.body}`);
      assert.equal(json(widened).error.details[0].field, 'querystring/exercise');
    }
  });

  it('exports an exercise only when asked for, marked on every line and in the file name', async () => {
    for (const format of ['csv', 'ndjson']) {
      const refused = await call('GET', ee, `/cases/${drillCase}/observables/export?format=${format}`);
      assert.equal(refused.statusCode, 400, refused.body);
      assert.equal(json(refused).error.details[0].field, 'querystring/exercise');
    }
    const csv = await call('GET', ee, `/cases/${drillCase}/observables/export?exercise=include`);
    assert.equal(csv.statusCode, 200, csv.body);
    assert.match(String(csv.headers['content-disposition']), /-exercise\.csv"$/);
    const [header, ...lines] = csv.body.trim().split('\n');
    assert.equal(header, 'type,value,comment,tlp,toIds,exercise');
    assert.deepEqual(lines, ['domain,c2.wiper.example,,amber,true,true']);
    const ndjson = await call(
      'GET',
      ee,
      `/cases/${drillCase}/observables/export?format=ndjson&exercise=only`,
    );
    assert.equal(ndjson.statusCode, 200, ndjson.body);
    assert.equal(JSON.parse(ndjson.body.trim()).exercise, true);

    const real = await call('GET', ee, `/cases/${realCase}/observables/export?format=ndjson`);
    assert.equal(real.statusCode, 200, real.body);
    assert.doesNotMatch(String(real.headers['content-disposition']), /exercise/);
    assert.equal(JSON.parse(real.body.trim()).exercise, false);
    const notADrill = await call('GET', ee, `/cases/${realCase}/observables/export?exercise=only`);
    assert.equal(notADrill.statusCode, 400, notADrill.body);
  });

  it("refuses an exercise's exported lines in a real case, and takes them in an exercise", async () => {
    const drillFile = `${JSON.stringify({ type: 'domain', value: 'drop.wiper.example', tlp: 'amber', toIds: true, exercise: true })}\n`;
    const into = (caseId: string) =>
      node.request({
        method: 'POST',
        url: `${api}/indicators/bulk?caseId=${caseId}`,
        headers: { ...lt.headers, 'content-type': 'application/x-ndjson' },
        payload: drillFile,
      });
    const refused = await into(realCase);
    assert.equal(refused.statusCode, 400, refused.body);
    assert.match(json(refused).error.details[0].message, /exercise/);
    const lookup = await call('GET', lt, '/indicators/lookup?value=drop.wiper.example&exercise=include');
    assert.deepEqual(caseIds(lookup), [], 'nothing was imported');

    const taken = await into(otherDrillCase);
    assert.equal(taken.statusCode, 200, taken.body);
    assert.equal(json(taken).imported, 1);
  });
});
