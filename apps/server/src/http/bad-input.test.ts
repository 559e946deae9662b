import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../test/harness.ts';
import { nestedArrays, nestedObjects } from '../test/hostile-shapes.ts';
import { MAX_JSON_DEPTH } from './json-body.ts';
import { TIME_FORMAT_HINT } from './time-format.ts';

// Each case here was a 500 (or a stack overflow) before: the answer must be a 4xx that names what
// to fix, and nothing may have been written.
describe('bad input is a 4xx that says what to fix', () => {
  let node: TestNode;
  let admin: TestUser;
  let caseId: string;
  const api = '/api/v1';

  before(async () => {
    node = await startTestNode();
    admin = await node.user('admin', 'LT', ['admin', 'poc', 'auditor']);
    const created = await node.request({
      method: 'POST',
      url: `${api}/cases`,
      headers: admin.headers,
      payload: {
        title: 'Deep thoughts',
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'high',
        tlp: 'amber',
        pap: 'amber',
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    caseId = json(created).id;
  });
  after(() => node.close());

  const send = (method: 'POST' | 'GET', url: string, payload?: string, headers: object = admin.headers) =>
    node.request({
      method,
      url,
      headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { payload }),
    });

  const assertRefused = (res: { statusCode: number; body: string }, status: number, message: RegExp) => {
    assert.equal(res.statusCode, status, res.body.slice(0, 300));
    const { error } = json(res as never);
    assert.equal(error.code, 'invalid_input');
    assert.match(error.message, message);
  };

  it('refuses JSON nested 10,000 deep, before login too, without overflowing the stack', async () => {
    for (const body of [nestedArrays(10_000), nestedObjects(10_000), nestedArrays(2_000)]) {
      assertRefused(await send('POST', `${api}/session`, body, {}), 400, /nests deeper than 64 levels/);
      assertRefused(await send('POST', `${api}/tokens`, body), 400, /nests deeper than 64 levels/);
    }
    const inAField = JSON.stringify({ name: 'x', password: 'y' }).replace('"y"', nestedObjects(5_000));
    assertRefused(await send('POST', `${api}/session`, inAField, {}), 400, /nests deeper than 64 levels/);
    const tokens = await node.database.db.selectFrom('api_tokens').select('id').execute();
    assert.equal(tokens.length, 1, 'no token was issued');
  });

  it('keeps to the limit exactly, and ignores brackets inside strings', async () => {
    // At the limit: parsed, then refused by the schema for what it is (an unknown field).
    const atLimit = `{"extra":${nestedArrays(MAX_JSON_DEPTH - 1)}}`;
    assertRefused(await send('POST', `${api}/tokens`, atLimit), 400, /body\/extra unknown field/);
    const brackets = JSON.stringify({ name: '['.repeat(64), password: `\\"${'{'.repeat(1000)}` });
    const res = await send('POST', `${api}/session`, brackets, {});
    assert.equal(res.statusCode, 401, res.body.slice(0, 200));
  });

  it('names the body when it is not JSON or uses a reserved prototype key', async () => {
    for (const [payload, says] of [
      ['{"title":{"__proto__":0}}', /__proto__/],
      ['{"constructor":{"prototype":{}}}', /__proto__ or constructor.prototype/],
      ['{"title":', /not valid JSON/],
    ] as const) {
      const res = await node.request({
        method: 'POST',
        url: `${api}/requests`,
        headers: { ...admin.headers, 'content-type': 'application/json' },
        payload,
      });
      assert.equal(res.statusCode, 400, res.body);
      assert.match(json(res).error.message, says);
      assert.deepEqual(
        json(res).error.details.map((d: { field: string }) => d.field),
        ['body'],
      );
    }
  });

  it('refuses NUL and over-long path parameters', async () => {
    assertRefused(await send('GET', `${api}/parties/%00`), 400, /params\/code contains a NUL/);
    assertRefused(await send('POST', `${api}/users/a%00b/tokens`, '{}'), 400, /params\/id contains a NUL/);
    // Too long for any identifier: absent (404) or refused by the router (414).
    const long = 'x'.repeat(10_000);
    for (const [method, url] of [
      ['GET', `${api}/requests/${long}`],
      ['POST', `${api}/requests/${long}/submit`],
      ['GET', `${api}/parties/${long}/duty`],
    ] as const) {
      const res = await send(method, url, method === 'POST' ? '{}' : undefined);
      assert.ok([404, 414].includes(res.statusCode), `${url.slice(0, 40)}: ${res.statusCode}`);
      assert.ok(json(res).error.message);
    }
    assertRefused(await send('GET', `${api}/parties/%E0%A4%A`), 400, /malformed percent-encoding/);
  });

  it('refuses limits and cursors beyond int8', async () => {
    for (const limit of ['1e400', 'Infinity']) {
      assertRefused(
        await send('GET', `${api}/users?limit=${limit}`),
        400,
        /querystring\/limit must be a finite number/,
      );
    }
    assertRefused(await send('GET', `${api}/audit?cursor=9223372036854775808`), 400, /querystring\/cursor/);
  });

  it('refuses days and times past the ends of the calendar', async () => {
    for (const asOf of ['0000-01-01', '10000-01-01', '%2B275760-09-13', '9999-12-31T23:59:59-23:59']) {
      assertRefused(
        await send('GET', `${api}/framework?asOf=${asOf}`),
        400,
        /querystring\/asOf must be a date .* from 1000-01-01 to 9998-12-31/,
      );
    }
    assertRefused(
      await send(
        'POST',
        `${api}/parties/LT/statuses`,
        JSON.stringify({ status: 'member', effectiveFrom: '0000-01-01' }),
      ),
      400,
      /effectiveFrom/,
    );
  });

  it('refuses a time whose offset carries it past 9998, and writes nothing', async () => {
    for (const dueAt of ['9998-12-31T23:59:59-14:00', '1000-01-01T00:00:00+14:00', '2026-12-31T23:59:60Z']) {
      const res = await send(
        'POST',
        `${api}/cases/${caseId}/tasks`,
        JSON.stringify({ title: 'Later', dueAt }),
      );
      assertRefused(res, 400, /body\/dueAt must be an RFC 3339 time/);
      assert.equal(json(res).error.details[0].message, TIME_FORMAT_HINT);
    }
    const tasks = await node.database.db.selectFrom('case_tasks').select('id').execute();
    assert.deepEqual(tasks, []);
  });
});
