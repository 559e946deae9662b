import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Type } from 'typebox';
import { buildApp } from '../app.ts';
import { parseConfig } from '../config.ts';
import { json, startTestNode, type TestNode, type TestUser } from '../test/harness.ts';
import { access } from './access.ts';

describe('HTTP contract', () => {
  let node: TestNode;
  let admin: TestUser;
  before(async () => {
    node = await startTestNode({ bodyLimit: 4096 });
    admin = await node.user('admin', 'LT', ['admin']);
  });
  after(() => node.close());

  it('answers liveness and readiness', async () => {
    assert.deepEqual(json(await node.request({ method: 'GET', url: '/healthz' })), { status: 'ok' });
    const ready = json(await node.request({ method: 'GET', url: '/readyz' }));
    assert.equal(ready.status, 'ready');
    assert.equal(ready.database, process.env.DATABASE_URL ? 'postgres' : 'pglite');
  });

  it('publishes OpenAPI 3.1 with every API route, and renders it at /docs', async () => {
    const doc = json(await node.request({ method: 'GET', url: '/openapi.json' }));
    assert.equal(doc.openapi, '3.1.0');
    for (const route of [
      '/api/v1/me',
      '/api/v1/parties',
      '/api/v1/parties/{code}',
      '/api/v1/framework',
      '/api/v1/users',
      '/api/v1/tokens',
      '/api/v1/audit',
      '/api/v1/audit/checkpoints',
      '/api/v1/node/keys',
      '/healthz',
      '/readyz',
    ]) {
      assert.ok(doc.paths[route], `${route} is documented`);
    }
    const createUser = doc.paths['/api/v1/users'].post;
    assert.ok(createUser.requestBody.content['application/json'].schema.properties.roles);
    assert.ok(
      createUser.responses['201'] && createUser.responses['4XX'],
      'success and error shapes are documented',
    );
    const page = await node.request({ method: 'GET', url: '/docs' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /swagger-ui/i);
  });

  it('names unknown fields, rejects malformed JSON and oversize bodies, without writing anything', async () => {
    const post = (payload: string, headers: Record<string, string> = {}) =>
      node.request({
        method: 'POST',
        url: '/api/v1/users',
        headers: { ...admin.headers, 'content-type': 'application/json', ...headers },
        payload,
      });
    const unknown = await post(
      JSON.stringify({ name: 'ann', party: 'LT', roles: ['poc'], shoeSize: 43, hat: 'red' }),
    );
    assert.equal(unknown.statusCode, 400);
    assert.deepEqual(
      json(unknown)
        .error.details.map((d: any) => d.field)
        .sort(),
      ['body/hat', 'body/shoeSize'],
    );
    assert.match(json(unknown).error.message, /shoeSize/);

    const malformed = await post('{"name": "ann",');
    assert.equal(malformed.statusCode, 400);
    assert.equal(json(malformed).error.code, 'invalid_input');
    assert.match(json(malformed).error.message, /not valid JSON/);

    const huge = await post(
      JSON.stringify({ name: 'ann', party: 'LT', roles: ['poc'], password: 'x'.repeat(5000) }),
    );
    assert.equal(huge.statusCode, 413);
    assert.equal(json(huge).error.code, 'payload_too_large');

    const wrongType = await node.request({
      method: 'POST',
      url: '/api/v1/users',
      headers: { ...admin.headers, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    assert.equal(wrongType.statusCode, 415);
    assert.equal(json(wrongType).error.code, 'unsupported_media_type');

    const missing = await post(JSON.stringify({ party: 'LT' }));
    assert.deepEqual(
      json(missing)
        .error.details.map((d: any) => d.field)
        .sort(),
      ['body/name', 'body/roles'],
    );
    const users = await node.database.db.selectFrom('users').select('name').execute();
    assert.deepEqual(
      users.map((u) => u.name),
      ['admin'],
    );
  });

  it('answers an unknown route with the error shape and an id of its own', async () => {
    const res = await node.request({
      method: 'GET',
      url: '/api/v1/nothing-here',
      headers: { 'x-request-id': 'trace-123' },
    });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(Object.keys(json(res)), ['error']);
    assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  it('keeps an authenticated caller’s sane X-Request-Id, never an anonymous one’s', async () => {
    const kept = await node.request({
      method: 'GET',
      url: '/api/v1/me',
      headers: { ...admin.headers, 'x-request-id': 'trace-123' },
    });
    assert.equal(kept.headers['x-request-id'], 'trace-123');
    const odd = await node.request({
      method: 'GET',
      url: '/api/v1/me',
      headers: { ...admin.headers, 'x-request-id': 'bad id\nwith newline' },
    });
    assert.match(String(odd.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const long = await node.request({
      method: 'GET',
      url: '/api/v1/me',
      headers: { ...admin.headers, 'x-request-id': 'a'.repeat(101) },
    });
    assert.match(String(long.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    for (const headers of [{}, { authorization: 'Bearer vyt_not-a-token' }]) {
      const anonymous = await node.request({
        method: 'GET',
        url: '/api/v1/me',
        headers: { ...headers, 'x-request-id': 'forged-by-anonymous' },
      });
      assert.equal(anonymous.statusCode, 401);
      assert.match(String(anonymous.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      const denial = await node.services.audit.page({ action: 'access.denied' }, 'desc', 1);
      assert.notEqual(denial.items[0]!.requestId, 'forged-by-anonymous');
      assert.equal(denial.items[0]!.requestId, anonymous.headers['x-request-id']);
    }
  });

  it('records the request id with the audit event of a mutation', async () => {
    await node.request({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { ...admin.headers, 'x-request-id': 'req-audit-1' },
      payload: {},
    });
    const events = await node.services.audit.page({ action: 'token.issue', actorName: 'admin' }, 'desc', 1);
    assert.equal(events.items[0]!.requestId, 'req-audit-1');
  });

  it('refuses to start with a route that does not declare who may call it', async () => {
    const { app } = await buildApp({
      database: node.database,
      clock: node.clock,
      key: node.services.key,
      secrets: node.services.secrets,
    });
    assert.throws(
      () => app.get('/undeclared', { schema: { response: { 200: Type.Object({}) } } }, async () => ({})),
      /does not declare its access/,
    );
    assert.throws(
      () => app.get('/no-schema', { config: { access: access.public } }, async () => ({})),
      /no response schema/,
    );
    await app.close();
  });
});

describe('configuration', () => {
  it('lists every problem at once, one line each', () => {
    const result = parseConfig({
      PORT: '99999',
      DATABASE_URL: 'mysql://db/x',
      LOG_LEVEL: 'loud',
      VYTIS_COOKIE_SECURE: 'maybe',
    });
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.problems.length, 4);
    assert.match(result.problems[0]!, /^PORT must be from 1 to 65535 \(got "99999"\)$/);
    assert.ok(
      result.problems.some((p) => p.startsWith('DATABASE_URL must be a postgres:// or postgresql:// URL')),
    );
  });

  it('has defaults for everything', () => {
    const result = parseConfig({});
    assert.ok(result.ok);
    if (!result.ok) return;
    assert.equal(result.config.port, 8080);
    assert.equal(result.config.host, '127.0.0.1');
    assert.match(result.config.dataDir, /\.vytis$/);
    assert.equal(result.config.databaseUrl, undefined);
  });
});
