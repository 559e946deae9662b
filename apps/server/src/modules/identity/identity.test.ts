import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { requestBody } from '../../test/requests.fixtures.ts';

const PASSWORD = 'correct horse battery staple';

describe('users, roles and tokens', () => {
  let node: TestNode;
  let admin: TestUser;
  let plPoc: TestUser;
  let eePoc: TestUser;
  before(async () => {
    node = await startTestNode({ loginAttemptsPerMinute: 3 });
    admin = await node.user('root', 'LT', ['admin']);
    plPoc = await node.user('pl.poc', 'PL', ['poc']);
    eePoc = await node.user('ee.poc', 'EE', ['poc'], PASSWORD);
  });
  after(() => node.close());

  const createUser = (payload: unknown, user: TestUser = admin) =>
    node.request({ method: 'POST', url: '/api/v1/users', headers: user.headers, payload: payload as object });

  it('creates users in one party with roles; /me tells who you are', async () => {
    const res = await createUser({ name: 'pl.analyst', party: 'pl', roles: ['analyst', 'responder'] });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(json(res).party, 'PL');
    assert.deepEqual(json(res).roles, ['analyst', 'responder']);
    const me = await node.request({ method: 'GET', url: '/api/v1/me', headers: plPoc.headers });
    assert.deepEqual(Object.keys(json(me)).sort(), ['can', 'id', 'name', 'party', 'roles']);
    assert.equal(json(me).name, 'pl.poc');
    // What one may start comes from the rule that refuses it: a PoC files requests, an analyst does not.
    assert.deepEqual(json(me).can, { fileRequest: true });
    const analyst = await node.user('pl.analyst.2', 'PL', ['analyst']);
    const theirs = json(await node.request({ method: 'GET', url: '/api/v1/me', headers: analyst.headers }));
    assert.deepEqual(theirs.can, { fileRequest: false });
    const refused = await node.request({
      method: 'POST',
      url: '/api/v1/requests',
      headers: analyst.headers,
      payload: requestBody(),
    });
    assert.equal(refused.statusCode, 403);
  });

  it('rejects duplicates, unknown parties, unknown roles and non-admins', async () => {
    const duplicate = await createUser({ name: 'pl.analyst', party: 'PL', roles: ['analyst'] });
    assert.equal(duplicate.statusCode, 409);
    assert.match(json(duplicate).error.message, /already exists/);
    assert.equal((await createUser({ name: 'x.user', party: 'XX', roles: ['analyst'] })).statusCode, 404);
    const badRole = await createUser({ name: 'y.user', party: 'PL', roles: ['wizard'] });
    assert.equal(badRole.statusCode, 400);
    assert.equal(json(badRole).error.details[0].field, 'body/roles/0');
    const shortPassword = await createUser({
      name: 'z.user',
      party: 'PL',
      roles: ['poc'],
      password: 'short',
    });
    assert.equal(shortPassword.statusCode, 400);
    assert.equal(json(shortPassword).error.details[0].field, 'body/password');
    assert.equal((await createUser({ name: 'w.user', party: 'PL', roles: ['poc'] }, plPoc)).statusCode, 403);
    const users = await node.database.db.selectFrom('users').select('name').execute();
    assert.ok(
      !users.some((u) => ['x.user', 'y.user', 'z.user', 'w.user'].includes(u.name)),
      'nothing half-written',
    );
  });

  it('lets a PoC list only its own party’s users; others’ users are absent', async () => {
    const res = await node.request({ method: 'GET', url: '/api/v1/users', headers: plPoc.headers });
    assert.deepEqual(
      json(res)
        .items.map((u: any) => u.party)
        .every((p: string) => p === 'PL'),
      true,
    );
    const other = await node.request({
      method: 'GET',
      url: `/api/v1/users/${eePoc.id}`,
      headers: plPoc.headers,
    });
    assert.equal(other.statusCode, 404, 'invisible looks like absent');
    const analyst = await node.user('ee.analyst', 'EE', ['analyst']);
    const self = await node.request({
      method: 'GET',
      url: `/api/v1/users/${analyst.id}`,
      headers: analyst.headers,
    });
    assert.equal(json(self).name, 'ee.analyst', 'everyone sees themselves');
    const sameParty = await node.request({
      method: 'GET',
      url: `/api/v1/users/${eePoc.id}`,
      headers: analyst.headers,
    });
    assert.equal(sameParty.statusCode, 404, 'only a PoC sees the rest of its party');
    const otherParty = await node.request({
      method: 'GET',
      url: '/api/v1/users?party=EE',
      headers: plPoc.headers,
    });
    assert.deepEqual(json(otherParty).items, [], 'a PoC filtering on another party finds nobody');
    const all = await node.request({ method: 'GET', url: '/api/v1/users?limit=2', headers: admin.headers });
    assert.equal(json(all).items.length, 2);
    const next = await node.request({
      method: 'GET',
      url: `/api/v1/users?limit=50&cursor=${json(all).nextCursor}`,
      headers: admin.headers,
    });
    const names = [...json(all).items, ...json(next).items].map((u: any) => u.name);
    assert.equal(new Set(names).size, names.length, 'pages do not overlap');
    assert.ok(names.includes('ee.poc') && names.includes('root'));
  });

  it('stores tokens only as hashes, shows them once, and lets their owner revoke them', async () => {
    const issued = await node.request({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: plPoc.headers,
      payload: { label: 'script' },
    });
    assert.equal(issued.statusCode, 201);
    const { token, info } = json(issued);
    assert.match(token, /^vyt_[A-Za-z0-9_-]{43}$/);
    const stored = await sql<{
      hit: number;
    }>`select count(*)::int as hit from api_tokens where token_hash = ${token} or label = ${token}`.execute(
      node.database.db,
    );
    assert.equal(stored.rows[0]!.hit, 0, 'the secret itself is nowhere in the table');
    const list = await node.request({ method: 'GET', url: '/api/v1/tokens', headers: plPoc.headers });
    assert.ok(!list.body.includes(token));
    assert.ok(json(list).items.some((t: any) => t.id === info.id && t.label === 'script'));

    const headers = { authorization: `Bearer ${token}` };
    assert.equal((await node.request({ method: 'GET', url: '/api/v1/me', headers })).statusCode, 200);
    const stranger = await node.request({
      method: 'DELETE',
      url: `/api/v1/tokens/${info.id}`,
      headers: eePoc.headers,
    });
    assert.equal(stranger.statusCode, 404, 'someone else’s token is invisible');
    const revoke = await node.request({
      method: 'DELETE',
      url: `/api/v1/tokens/${info.id}`,
      headers: plPoc.headers,
    });
    assert.equal(revoke.statusCode, 200);
    assert.ok(json(revoke).revokedAt);
    const after = await node.request({ method: 'GET', url: '/api/v1/me', headers });
    assert.equal(after.statusCode, 401);
    assert.match(json(after).error.message, /invalid, expired or revoked/);
    assert.equal(
      (await node.request({ method: 'DELETE', url: `/api/v1/tokens/${info.id}`, headers: plPoc.headers }))
        .statusCode,
      409,
    );
  });

  it('records when a token was last used, at most once a minute', async () => {
    const issued = json(
      await node.request({ method: 'POST', url: '/api/v1/tokens', headers: plPoc.headers, payload: {} }),
    );
    const headers = { authorization: `Bearer ${issued.token}` };
    const lastUsed = async () =>
      json(await node.request({ method: 'GET', url: '/api/v1/tokens', headers: plPoc.headers })).items.find(
        (t: any) => t.id === issued.info.id,
      ).lastUsedAt;
    assert.equal(await lastUsed(), null);
    await node.request({ method: 'GET', url: '/api/v1/me', headers });
    const first = await lastUsed();
    assert.equal(first, node.clock.now().toISOString());
    node.clock.advance(30_000);
    await node.request({ method: 'GET', url: '/api/v1/me', headers });
    assert.equal(await lastUsed(), first, 'not rewritten within the minute');
    node.clock.advance(31_000);
    await node.request({ method: 'GET', url: '/api/v1/me', headers });
    assert.equal(await lastUsed(), node.clock.now().toISOString());
  });

  it('expires tokens', async () => {
    const issued = await node.request({
      method: 'POST',
      url: `/api/v1/users/${eePoc.id}/tokens`,
      headers: admin.headers,
      payload: { expiresInDays: 1 },
    });
    assert.equal(issued.statusCode, 201);
    const headers = { authorization: `Bearer ${json(issued).token}` };
    assert.equal((await node.request({ method: 'GET', url: '/api/v1/me', headers })).statusCode, 200);
    node.clock.advance(86_400_000 + 1);
    assert.equal((await node.request({ method: 'GET', url: '/api/v1/me', headers })).statusCode, 401);
  });

  it('logs in with a password into an HttpOnly SameSite session guarded against CSRF', async () => {
    const login = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'ee.poc', password: PASSWORD },
    });
    assert.equal(login.statusCode, 200, login.body);
    const setCookie = String(login.headers['set-cookie']);
    assert.match(setCookie, /vytis_session=vys_/);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    const { csrfToken } = json(login);

    const me = await node.request({ method: 'GET', url: '/api/v1/me', headers: { cookie } });
    assert.equal(json(me).name, 'ee.poc');
    const forged = await node.request({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { cookie },
      payload: {},
    });
    assert.equal(forged.statusCode, 403, 'an unsafe request without the CSRF token is refused');
    assert.match(json(forged).error.message, /X-CSRF-Token/);
    const wrong = await node.request({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { cookie, 'x-csrf-token': 'nope' },
      payload: {},
    });
    assert.equal(wrong.statusCode, 403);
    const good = await node.request({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { cookie, 'x-csrf-token': csrfToken },
      payload: {},
    });
    assert.equal(good.statusCode, 201);

    const logout = await node.request({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie, 'x-csrf-token': csrfToken },
    });
    assert.equal(logout.statusCode, 204);
    assert.equal(
      (await node.request({ method: 'GET', url: '/api/v1/me', headers: { cookie } })).statusCode,
      401,
    );
  });

  it('refuses wrong passwords alike for unknown users, audits them, and rate-limits logins', async () => {
    node.clock.advance(120_000);
    const wrong = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'ee.poc', password: 'not it at all' },
    });
    const nobody = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'nobody', password: 'not it at all' },
    });
    assert.equal(wrong.statusCode, 401);
    assert.equal(nobody.statusCode, 401);
    assert.equal(json(wrong).error.message, json(nobody).error.message);
    const denied = await node.services.audit.page({ action: 'session.login.denied' }, 'asc', 10);
    assert.deepEqual(
      denied.items.map((e) => (e.summary as any).name),
      ['ee.poc', 'nobody'],
    );
    let limited: Awaited<ReturnType<TestNode['request']>> | undefined;
    for (let i = 0; i < 5 && !limited; i++) {
      const res = await node.request({
        method: 'POST',
        url: '/api/v1/session',
        payload: { name: 'ee.poc', password: 'guess guess guess' },
      });
      if (res.statusCode === 429) limited = res;
    }
    assert.ok(limited, 'the fourth attempt within a minute is refused');
    assert.equal(json(limited).error.code, 'rate_limited');
  });

  it('audits every mutation in the same transaction: user, token, session', async () => {
    const actions = new Set((await node.services.audit.page({}, 'asc', 500)).items.map((e) => e.action));
    for (const action of [
      'user.create',
      'token.issue',
      'token.revoke',
      'session.login',
      'session.logout',
      'access.denied',
    ]) {
      assert.ok(actions.has(action), `${action} is audited`);
    }
    const verify = await node.services.audit.verify();
    assert.equal(verify.ok, true, verify.reason ?? '');
  });
});

describe('the login limit counts failed logins only', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ loginAttemptsPerMinute: 2 });
    await node.user('lt.poc', 'LT', ['poc'], PASSWORD);
  });
  after(() => node.close());

  const login = (password: string) =>
    node.request({ method: 'POST', url: '/api/v1/session', payload: { name: 'lt.poc', password } });

  it('lets colleagues behind one address log in as often as they need, and stops guessing', async () => {
    for (let i = 0; i < 6; i++) assert.equal((await login(PASSWORD)).statusCode, 200, `login ${i + 1}`);
    assert.equal((await login('a wrong guess here')).statusCode, 401);
    assert.equal((await login(PASSWORD)).statusCode, 200, 'a success in between does not count');
    assert.equal((await login('another wrong guess')).statusCode, 401);
    const limited = await login('a third wrong guess');
    assert.equal(limited.statusCode, 429);
    assert.match(json(limited).error.message, /too many failed logins from your address; try again in \d+ s/);
    assert.equal(
      (await login(PASSWORD)).statusCode,
      429,
      'the limit holds for the address, whatever it sends',
    );
    const invalid = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'lt.poc' },
    });
    assert.equal(invalid.statusCode, 400, 'bad input is judged before the limit');
  });

  it("counts an IPv6 client's guesses under its /64, and an IPv4-mapped address as the IPv4 one", async () => {
    const from = (remoteAddress: string, password: string) =>
      node.request({
        method: 'POST',
        url: '/api/v1/session',
        payload: { name: 'lt.poc', password },
        remoteAddress,
      });
    assert.equal((await from('2001:db8:7:1::a', 'guess one')).statusCode, 401);
    assert.equal((await from('2001:db8:7:1::b', 'guess two')).statusCode, 401);
    assert.equal(
      (await from('2001:db8:7:1:ffff::c', 'guess three')).statusCode,
      429,
      'a fresh address in the same /64',
    );
    assert.equal(
      (await from('2001:db8:7:2::a', 'guess four')).statusCode,
      401,
      'another /64 counts on its own',
    );
    assert.equal((await from('198.51.100.9', 'guess five')).statusCode, 401);
    assert.equal((await from('::ffff:198.51.100.9', 'guess six')).statusCode, 401);
    assert.equal((await from('198.51.100.9', 'guess seven')).statusCode, 429, 'one client over both stacks');
  });

  it('holds a burst of guesses sent at once to the limit', async () => {
    const burst = await startTestNode({ loginAttemptsPerMinute: 2 });
    try {
      await burst.user('ee.poc', 'EE', ['poc'], PASSWORD);
      const statuses = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          burst
            .request({
              method: 'POST',
              url: '/api/v1/session',
              payload: { name: 'ee.poc', password: `wrong guess number ${i}` },
            })
            .then((r) => r.statusCode),
        ),
      );
      assert.equal(statuses.filter((s) => s === 401).length, 2, statuses.join(' '));
      assert.equal(statuses.filter((s) => s === 429).length, 6, statuses.join(' '));
    } finally {
      await burst.close();
    }
  });
});
