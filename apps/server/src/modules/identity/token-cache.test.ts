import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createDurableStorage,
  type DurableStorage,
  onPostgres,
  startTestNode,
  type TestNode,
  type TestUser,
} from '../../test/harness.ts';
import { totpCode } from '../../test/totp.ts';

// Tokens are cached for a few seconds; these tests prove that no change to a token or its user
// waits for that: the next request after the change is judged by the change.

const me = (node: TestNode, user: TestUser) =>
  node.request({ method: 'GET', url: '/api/v1/me', headers: user.headers });
const parties = (node: TestNode, user: TestUser) =>
  node.request({ method: 'GET', url: '/api/v1/users', headers: user.headers });

describe('cached API tokens, in one process', () => {
  let node: TestNode;
  let admin: TestUser;
  before(async () => {
    node = await startTestNode();
    admin = await node.user('tc.admin', 'LT', ['admin']);
  });
  after(() => node.close());

  it('refuses a revoked token on the very next request', async () => {
    const analyst = await node.user('tc.revoked', 'LT', ['analyst']);
    for (let i = 0; i < 3; i++) assert.equal((await me(node, analyst)).statusCode, 200);
    const tokens = await node.request({
      method: 'GET',
      url: '/api/v1/tokens',
      headers: analyst.headers,
    });
    const tokenId = (tokens.json() as { items: Array<{ id: string }> }).items[0]!.id;
    const revoked = await node.request({
      method: 'DELETE',
      url: `/api/v1/tokens/${tokenId}`,
      headers: analyst.headers,
    });
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal((await me(node, analyst)).statusCode, 401);
  });

  it('refuses a disabled user, and applies new roles, on the very next request', async () => {
    const poc = await node.user('tc.poc', 'LT', ['poc', 'analyst']);
    assert.equal((await parties(node, poc)).statusCode, 200);
    const demoted = await node.request({
      method: 'PUT',
      url: `/api/v1/users/${poc.id}/roles`,
      headers: admin.headers,
      payload: { roles: ['analyst'] },
    });
    assert.equal(demoted.statusCode, 200, demoted.body);
    assert.equal((await parties(node, poc)).statusCode, 403, 'the old roles were still used');

    assert.equal((await me(node, poc)).statusCode, 200);
    const disabled = await node.request({
      method: 'POST',
      url: `/api/v1/users/${poc.id}/disable`,
      headers: admin.headers,
      payload: {},
    });
    assert.equal(disabled.statusCode, 200, disabled.body);
    assert.equal((await me(node, poc)).statusCode, 401);
  });

  it('refuses a token that expired, whatever was cached', async () => {
    const analyst = await node.user('tc.expiring', 'LT', ['analyst']);
    assert.equal((await me(node, analyst)).statusCode, 200);
    node.clock.advance(91 * 86_400_000);
    assert.equal((await me(node, analyst)).statusCode, 401);
  });
});

describe('cached API tokens, across processes on one PostgreSQL', { skip: !onPostgres() }, () => {
  let storage: DurableStorage;
  let a: TestNode;
  let b: TestNode;
  before(async () => {
    storage = await createDurableStorage();
    a = await startTestNode({ storage });
    b = await startTestNode({ storage });
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await storage?.destroy();
  });

  it("drops another process's cached token when an account changes here", async () => {
    const admin = await a.user('tc.x.admin', 'LT', ['admin']);
    const analyst = await a.user('tc.x.analyst', 'LT', ['analyst']);
    // Cached on b.
    for (let i = 0; i < 3; i++) assert.equal((await me(b, analyst)).statusCode, 200);
    const disabled = await a.request({
      method: 'POST',
      url: `/api/v1/users/${analyst.id}/disable`,
      headers: admin.headers,
      payload: {},
    });
    assert.equal(disabled.statusCode, 200, disabled.body);
    // The change reaches b by NOTIFY, in milliseconds; well before the cache's own few seconds end.
    let status = 200;
    for (let i = 0; i < 40 && status === 200; i++) {
      status = (await me(b, analyst)).statusCode;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(status, 401, 'b kept trusting a disabled user');
  });
});

describe('cached API tokens of admins under VYTIS_REQUIRE_MFA=admins, across processes', {
  skip: !onPostgres(),
}, () => {
  const PASSWORD = 'correct horse battery staple';
  let storage: DurableStorage;
  let a: TestNode;
  let b: TestNode;
  before(async () => {
    storage = await createDurableStorage();
    a = await startTestNode({ storage, requireMfa: 'admins', loginAttemptsPerMinute: 1000 });
    b = await startTestNode({ storage, requireMfa: 'admins', loginAttemptsPerMinute: 1000 });
  });
  after(async () => {
    await b?.close();
    await a?.close();
    await storage?.destroy();
  });

  /** Logs in on `a`, enrols a second factor and issues a token there: the admin's token. */
  async function enrolledToken(name: string) {
    const login = await a.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name, password: PASSWORD },
    });
    assert.equal(login.statusCode, 200, login.body);
    const headers = {
      cookie: String(login.headers['set-cookie']).split(';')[0]!,
      'x-csrf-token': (login.json() as { csrfToken: string }).csrfToken,
    };
    const post = (url: string, payload: object) => a.request({ method: 'POST', url, headers, payload });
    const { secret } = (await post('/api/v1/me/mfa', { password: PASSWORD })).json() as { secret: string };
    const confirmed = await post('/api/v1/me/mfa/confirm', { code: totpCode(secret, a.clock.now()) });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    const issued = await post('/api/v1/tokens', {});
    assert.equal(issued.statusCode, 201, issued.body);
    return { authorization: `Bearer ${(issued.json() as { token: string }).token}` };
  }

  it("refuses on another process an admin's cached token once the admin's second factor is removed", async () => {
    const admin = await a.user('tc.m.admin', 'LT', ['admin'], PASSWORD);
    await a.user('tc.m.colleague', 'LT', ['admin'], PASSWORD);
    const token = await enrolledToken('tc.m.admin');
    const colleague = await enrolledToken('tc.m.colleague');
    const users = (node: TestNode, headers: Record<string, string>) =>
      node.request({ method: 'GET', url: '/api/v1/users', headers });
    // Cached on b.
    for (let i = 0; i < 3; i++) assert.equal((await users(b, token)).statusCode, 200);
    const reset = await a.request({
      method: 'DELETE',
      url: `/api/v1/users/${admin.id}/mfa`,
      headers: colleague,
    });
    assert.equal(reset.statusCode, 200, reset.body);
    let status = 200;
    for (let i = 0; i < 40 && status === 200; i++) {
      status = (await users(b, token)).statusCode;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(status, 403, 'b kept trusting the token of an admin who must enrol again');
  });
});
