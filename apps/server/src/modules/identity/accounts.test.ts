import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { runCommand } from '../../cli/commands.ts';
import { hashPassword } from '../../platform/secrets.ts';
import { json, onPostgres, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { totpCode } from '../../test/totp.ts';
import { openTransaction, settledOrWaiting } from '../../test/transactions.fixtures.ts';
import { lockUserById, updateUser } from './identity.repository.ts';
import { endChallenges } from './mfa.repository.ts';
import { acceptedStep } from './totp.ts';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new long passphrase';

/** A web login, as the browser does it: the session cookie and its CSRF token. */
interface WebSession {
  cookie: string;
  csrf: string;
  headers: { cookie: string; 'x-csrf-token': string };
}

const sessionOf = (res: LightMyRequestResponse): WebSession => {
  const cookie = String(res.headers['set-cookie']).split(';')[0]!;
  const csrf = json(res).csrfToken as string;
  return { cookie, csrf, headers: { cookie, 'x-csrf-token': csrf } };
};

async function login(node: TestNode, name: string, password = PASSWORD): Promise<WebSession> {
  const res = await node.request({ method: 'POST', url: '/api/v1/session', payload: { name, password } });
  assert.equal(res.statusCode, 200, res.body);
  return sessionOf(res);
}

const me = (node: TestNode, headers: Record<string, string>) =>
  node.request({ method: 'GET', url: '/api/v1/me', headers });

describe('containing accounts: disable, enable, roles, passwords, sessions', () => {
  let node: TestNode;
  let root: TestUser;
  let otherAdmin: TestUser;
  let plPoc: TestUser;
  let eePoc: TestUser;
  let plAnalyst: TestUser;
  let plAdmin: TestUser;
  let eeAnalyst: TestUser;

  before(async () => {
    node = await startTestNode({ loginAttemptsPerMinute: 1000 });
    root = await node.user('root', 'LT', ['admin']);
    otherAdmin = await node.user('second.admin', 'LT', ['admin']);
    plPoc = await node.user('pl.poc', 'PL', ['poc'], PASSWORD);
    eePoc = await node.user('ee.poc', 'EE', ['poc']);
    plAnalyst = await node.user('pl.analyst', 'PL', ['analyst'], PASSWORD);
    plAdmin = await node.user('pl.admin', 'PL', ['admin']);
    eeAnalyst = await node.user('ee.analyst', 'EE', ['analyst'], PASSWORD);
  });
  after(() => node.close());

  const act = (user: { headers: Record<string, string> }, method: string, url: string, payload?: object) =>
    node.request({
      method: method as 'POST',
      url: `/api/v1${url}`,
      headers: user.headers,
      ...(payload ? { payload } : {}),
    });

  it("an admin disables a user: the user's token and open session are refused at once", async () => {
    const victim = await node.user('pl.victim', 'PL', ['responder'], PASSWORD);
    const web = await login(node, 'pl.victim');
    assert.equal((await me(node, web.headers)).statusCode, 200);
    assert.equal((await me(node, victim.headers)).statusCode, 200);

    const read = json(await act(root, 'GET', `/users/${victim.id}`));
    const res = await node.request({
      method: 'POST',
      url: `/api/v1/users/${victim.id}/disable`,
      headers: { ...root.headers, 'if-match': `"${read.version}"` },
      payload: { reason: 'laptop stolen' },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.ok(json(res).disabledAt);
    assert.equal(res.headers.etag, `"${json(res).version}"`);
    assert.equal(json(res).can.enable, true);

    assert.equal((await me(node, web.headers)).statusCode, 401, 'the open session is refused');
    assert.equal((await me(node, victim.headers)).statusCode, 401, 'the API token is refused');
    const again = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'pl.victim', password: PASSWORD },
    });
    assert.equal(again.statusCode, 401, 'a disabled user cannot log in');
    assert.equal((await act(root, 'POST', `/users/${victim.id}/disable`)).statusCode, 409);

    const enabled = await act(root, 'POST', `/users/${victim.id}/enable`);
    assert.equal(enabled.statusCode, 200, enabled.body);
    assert.equal(json(enabled).disabledAt, null);
    assert.equal((await me(node, victim.headers)).statusCode, 401, 'old tokens stay revoked');
    assert.equal((await me(node, web.headers)).statusCode, 401, 'old sessions stay ended');
    await login(node, 'pl.victim');
    assert.equal((await act(root, 'POST', `/users/${victim.id}/enable`)).statusCode, 409);
  });

  it("a PoC contains its own party's users; other parties' are absent (404), admins off limits (403)", async () => {
    const target = await node.user('pl.target', 'PL', ['responder']);
    const listed = json(await act(plPoc, 'GET', '/users?limit=100')).items as any[];
    const row = listed.find((u) => u.id === target.id);
    assert.deepEqual(
      { ...row.can, grantRoles: [...row.can.grantRoles].sort() },
      {
        disable: true,
        enable: false,
        setRoles: true,
        resetPassword: true,
        endSessions: true,
        resetMfa: false,
        grantRoles: ['analyst', 'council', 'poc', 'responder'],
      },
    );
    const admin = listed.find((u) => u.id === plAdmin.id);
    assert.equal(admin.can.disable, false, 'the server says the PoC may not touch an admin');

    assert.equal((await act(plPoc, 'POST', `/users/${target.id}/disable`)).statusCode, 200);
    assert.equal((await me(node, target.headers)).statusCode, 401);
    assert.equal((await act(plPoc, 'POST', `/users/${target.id}/enable`)).statusCode, 200);

    for (const [method, url, payload] of [
      ['POST', `/users/${eeAnalyst.id}/disable`, undefined],
      ['POST', `/users/${eeAnalyst.id}/enable`, undefined],
      ['PUT', `/users/${eeAnalyst.id}/roles`, { roles: ['analyst', 'responder'] }],
      ['PUT', `/users/${eeAnalyst.id}/password`, { password: NEW_PASSWORD }],
      ['DELETE', `/users/${eeAnalyst.id}/sessions`, undefined],
      ['DELETE', `/users/${eeAnalyst.id}/mfa`, undefined],
    ] as const) {
      const other = await act(plPoc, method, url, payload);
      assert.equal(other.statusCode, 404, `${method} ${url}: another party's user looks absent`);
      assert.equal(json(other).error.message, 'user not found');
      const onAdmin = await act(plPoc, method, url.replace(eeAnalyst.id, plAdmin.id), payload);
      assert.equal(onAdmin.statusCode, 403, `${method} ${url}: a PoC may not act on an admin`);
      const analyst = await act(plAnalyst, method, url.replace(eeAnalyst.id, target.id), payload);
      assert.equal(analyst.statusCode, 403, `${method} ${url}: an analyst may not act at all`);
    }
    assert.equal((await me(node, eeAnalyst.headers)).statusCode, 200, 'nothing happened to them');
    assert.equal((await me(node, plAdmin.headers)).statusCode, 200);
    const denied = await node.services.audit.page(
      { action: 'access.denied', actorName: 'pl.poc' },
      'asc',
      50,
    );
    assert.ok(denied.items.length >= 5, 'each refusal (403) is audited');
  });

  it('roles: a PoC grants only national roles; nobody escalates, nor changes their own roles', async () => {
    const target = await node.user('pl.rolled', 'PL', ['responder']);
    const set = await act(plPoc, 'PUT', `/users/${target.id}/roles`, { roles: ['responder', 'analyst'] });
    assert.equal(set.statusCode, 200, set.body);
    assert.deepEqual(json(set).roles, ['responder', 'analyst']);
    assert.deepEqual(json(await me(node, target.headers)).roles, ['responder', 'analyst'], 'at once');

    for (const roles of [['admin'], ['responder', 'coordinator'], ['auditor', 'analyst']]) {
      const escalate = await act(plPoc, 'PUT', `/users/${target.id}/roles`, { roles });
      assert.equal(escalate.statusCode, 403, `a PoC cannot grant ${roles.join(', ')}`);
      assert.match(json(escalate).error.message, /you may change only poc, council, responder, analyst/);
    }
    const self = await act(plPoc, 'PUT', `/users/${plPoc.id}/roles`, { roles: ['poc', 'admin'] });
    assert.equal(self.statusCode, 403);
    assert.match(json(self).error.message, /your own roles/);
    const unknown = await act(root, 'PUT', `/users/${target.id}/roles`, { roles: ['wizard'] });
    assert.equal(unknown.statusCode, 400);
    const empty = await act(root, 'PUT', `/users/${target.id}/roles`, { roles: [] });
    assert.equal(empty.statusCode, 400);
    assert.deepEqual(json(await me(node, target.headers)).roles, ['responder', 'analyst'], 'unchanged');

    const promote = await act(root, 'PUT', `/users/${target.id}/roles`, { roles: ['admin'] });
    assert.equal(promote.statusCode, 200, 'an admin grants anything');
    assert.equal(
      (await me(node, target.headers)).statusCode,
      401,
      'tokens issued before someone became admin end with it',
    );
    const promoted = await node.services.audit.page({ action: 'user.roles', objectId: target.id }, 'desc', 1);
    assert.equal(
      (promoted.items[0]?.summary as { tokensRevoked?: number } | undefined)?.tokensRevoked,
      1,
      'and the audit says so',
    );
    const demoteSelf = await act(root, 'PUT', `/users/${root.id}/roles`, { roles: ['analyst'] });
    assert.equal(demoteSelf.statusCode, 403, 'an admin cannot lock themselves out by accident');
    const disableSelf = await act(root, 'POST', `/users/${root.id}/disable`);
    assert.equal(disableSelf.statusCode, 403);
    assert.equal((await me(node, root.headers)).statusCode, 200);
  });

  it("a PoC acts on no account holding a role it cannot grant: the force's coordinators and auditors are an admin's", async () => {
    const coordinator = await node.user('pl.coordinator', 'PL', ['coordinator', 'responder'], PASSWORD);
    const auditor = await node.user('pl.auditor', 'PL', ['auditor'], PASSWORD);
    for (const [user, role, roles] of [
      [coordinator, 'coordinator', ['coordinator', 'responder']],
      [auditor, 'auditor', ['auditor']],
    ] as const) {
      const listed = json(await act(plPoc, 'GET', `/users/${user.id}`));
      assert.deepEqual(
        listed.can,
        {
          disable: false,
          enable: false,
          setRoles: false,
          resetPassword: false,
          endSessions: false,
          resetMfa: false,
          grantRoles: [],
        },
        `the server tells the PoC it may do nothing to a ${role}`,
      );
      const web = await login(node, user.name);
      for (const [method, url, payload] of [
        ['POST', `/users/${user.id}/disable`, {}],
        ['PUT', `/users/${user.id}/roles`, { roles: [role, 'analyst'] }],
        ['PUT', `/users/${user.id}/roles`, { roles: ['responder'] }],
        ['PUT', `/users/${user.id}/password`, { password: NEW_PASSWORD }],
        ['DELETE', `/users/${user.id}/sessions`, undefined],
      ] as const) {
        const res = await act(plPoc, method, url, payload);
        assert.equal(res.statusCode, 403, `${method} ${url}`);
        assert.match(
          json(res).error.message,
          new RegExp(`roles a PoC cannot grant \\(${role}\\); ask an admin`),
        );
      }
      assert.equal((await me(node, user.headers)).statusCode, 200, `the ${role}'s token still works`);
      assert.equal((await me(node, web.headers)).statusCode, 200, `and so does their session`);
      assert.deepEqual(json(await act(root, 'GET', `/users/${user.id}`)).roles, [...roles], 'unchanged');
      assert.equal(json(await act(root, 'GET', `/users/${user.id}`)).can.disable, true, 'an admin may');
    }
  });

  it('a stale version is refused (412) and changes nothing', async () => {
    const target = await node.user('pl.versioned', 'PL', ['responder']);
    const { version } = json(await act(root, 'GET', `/users/${target.id}`));
    await act(root, 'PUT', `/users/${target.id}/roles`, { roles: ['analyst'] });
    const stale = await node.request({
      method: 'POST',
      url: `/api/v1/users/${target.id}/disable`,
      headers: { ...root.headers, 'if-match': `"${version}"` },
    });
    assert.equal(stale.statusCode, 412);
    assert.match(json(stale).error.message, /changed since you read it/);
    assert.equal((await me(node, target.headers)).statusCode, 200);
  });

  it('the last active admin can be neither disabled nor demoted, even by two admins at once', async () => {
    // Only root and second.admin are admins of LT now (pl.admin and pl.rolled are disabled here).
    await runCommand(node.services, { name: 'user.disable', userName: 'pl.admin' });
    await runCommand(node.services, { name: 'user.disable', userName: 'pl.rolled' });
    // Both tokens freshly read, so neither request waits on the database to learn who sent it: the
    // test is about the two disables racing, not one caller being disabled before it is identified.
    for (const admin of [root, otherAdmin]) assert.equal((await me(node, admin.headers)).statusCode, 200);
    const [a, b] = await Promise.all([
      act(root, 'POST', `/users/${otherAdmin.id}/disable`),
      act(otherAdmin, 'POST', `/users/${root.id}/disable`),
    ]);
    const statuses = [a.statusCode, b.statusCode].sort();
    assert.deepEqual(statuses, [200, 409], `${a.body} ${b.body}`);
    const refused = a.statusCode === 409 ? a : b;
    assert.match(json(refused).error.message, /last active admin/);
    const [survivor, survivorUser] = a.statusCode === 200 ? ['root', root] : ['second.admin', otherAdmin];
    const cli = await runCommand(node.services, { name: 'user.disable', userName: survivor }).catch((e) => e);
    assert.match(String(cli.message), /last active admin/, 'not from the command line either');
    const demote = await runCommand(node.services, {
      name: 'user.roles',
      userName: survivor,
      roles: ['analyst'],
    }).catch((e) => e);
    assert.match(String(demote.message), /last active admin/);
    assert.equal((await me(node, survivorUser.headers)).statusCode, 200);
    // Put things back for the tests after this one.
    await runCommand(node.services, {
      name: 'user.enable',
      userName: survivor === 'root' ? 'second.admin' : 'root',
    });
    await runCommand(node.services, { name: 'user.enable', userName: 'pl.admin' });
  });

  it('passwords: a reset by an admin or PoC ends web sessions; users change their own with the old one', async () => {
    const user = await node.user('pl.forgetful', 'PL', ['responder'], PASSWORD);
    const web = await login(node, 'pl.forgetful');
    const short = await act(plPoc, 'PUT', `/users/${user.id}/password`, { password: 'short' });
    assert.equal(short.statusCode, 400);
    assert.equal(json(short).error.details[0].field, 'body/password');
    const reset = await act(plPoc, 'PUT', `/users/${user.id}/password`, { password: NEW_PASSWORD });
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal((await me(node, web.headers)).statusCode, 401, 'sessions end with the reset');
    assert.equal((await me(node, user.headers)).statusCode, 200, 'API tokens stay');
    const old = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'pl.forgetful', password: PASSWORD },
    });
    assert.equal(old.statusCode, 401);
    const resetSelf = await act(plPoc, 'PUT', `/users/${plPoc.id}/password`, { password: NEW_PASSWORD });
    assert.equal(resetSelf.statusCode, 403, 'your own password needs your current one');

    const first = await login(node, 'pl.forgetful', NEW_PASSWORD);
    const second = await login(node, 'pl.forgetful', NEW_PASSWORD);
    const wrong = await node.request({
      method: 'PUT',
      url: '/api/v1/me/password',
      headers: first.headers,
      payload: { currentPassword: 'not my password', newPassword: PASSWORD },
    });
    assert.equal(wrong.statusCode, 403);
    assert.equal(json(wrong).error.details[0].field, 'body/currentPassword');
    const change = await node.request({
      method: 'PUT',
      url: '/api/v1/me/password',
      headers: first.headers,
      payload: { currentPassword: NEW_PASSWORD, newPassword: PASSWORD },
    });
    assert.equal(change.statusCode, 204, change.body);
    assert.equal((await me(node, first.headers)).statusCode, 200, 'this session goes on');
    assert.equal((await me(node, second.headers)).statusCode, 401, 'other sessions end');
    assert.equal(
      (await me(node, user.headers)).statusCode,
      401,
      'API tokens end too: whoever knew the old password may have issued one',
    );
    await login(node, 'pl.forgetful', PASSWORD);
  });

  it('ending sessions ends every web session and API token of the user', async () => {
    const user = await node.user('ee.leaky', 'EE', ['analyst'], PASSWORD);
    const web = await login(node, 'ee.leaky');
    const issued = json(await act(user, 'POST', '/tokens', {}));
    const res = await act(eePoc, 'DELETE', `/users/${user.id}/sessions`);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(json(res), { sessions: 1, tokens: 2 });
    for (const headers of [web.headers, user.headers, { authorization: `Bearer ${issued.token}` }]) {
      assert.equal((await me(node, headers)).statusCode, 401);
    }
    await login(node, 'ee.leaky');
  });

  it('the command line disables, enables, sets roles and passwords by name, audited', async () => {
    const user = await node.user('lt.cli', 'LT', ['responder'], PASSWORD);
    const disabled = await runCommand(node.services, { name: 'user.disable', userName: 'lt.cli' });
    assert.equal(disabled.exitCode, 0);
    assert.match(disabled.stdout, /disabled lt\.cli/);
    assert.equal((await me(node, user.headers)).statusCode, 401);
    await runCommand(node.services, { name: 'user.enable', userName: 'lt.cli' });
    const roles = await runCommand(node.services, {
      name: 'user.roles',
      userName: 'lt.cli',
      roles: ['analyst', 'council'],
    });
    assert.equal(roles.stdout, 'lt.cli: analyst, council\n');
    const short = await runCommand(node.services, {
      name: 'user.password',
      userName: 'lt.cli',
      password: 'short',
    }).catch((e) => e);
    assert.match(String(short.message), /12 to 1024 characters/);
    await runCommand(node.services, { name: 'user.password', userName: 'lt.cli', password: NEW_PASSWORD });
    await login(node, 'lt.cli', NEW_PASSWORD);
    const nobody = await runCommand(node.services, { name: 'user.enable', userName: 'nobody' }).catch(
      (e) => e,
    );
    assert.match(String(nobody.message), /no user named nobody/);
  });

  it('audits every act in the same transaction, and the chain holds', async () => {
    const actions = new Set((await node.services.audit.page({}, 'asc', 1000)).items.map((e) => e.action));
    for (const action of [
      'user.disable',
      'user.enable',
      'user.roles',
      'user.password.reset',
      'user.password.change',
      'user.sessions.end',
    ]) {
      assert.ok(actions.has(action), `${action} is audited`);
    }
    const disable = (await node.services.audit.page({ action: 'user.disable' }, 'asc', 1)).items[0]!;
    assert.equal((disable.summary as any).reason, 'laptop stolen');
    const verify = await node.services.audit.verify();
    assert.equal(verify.ok, true);
  });
});

describe('TOTP second factor (RFC 6238) with recovery codes', () => {
  let node: TestNode;
  let user: TestUser;
  let secret = '';
  let recoveryCodes: string[] = [];

  before(async () => {
    node = await startTestNode({ loginAttemptsPerMinute: 1000 });
    user = await node.user('ee.careful', 'EE', ['analyst'], PASSWORD);
  });
  after(() => node.close());

  const passwordStep = async (password = PASSWORD) => {
    const res = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'ee.careful', password },
    });
    return res;
  };
  const codeStep = (challenge: string, code: string) =>
    node.request({ method: 'POST', url: '/api/v1/session/mfa', payload: { challenge, code } });
  const storedSeeds = (name: string) =>
    node.database.db
      .selectFrom('users')
      .select(['mfa_secret', 'mfa_pending_secret', 'mfa_last_step'])
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
  const assertSealed = (stored: string | null, secret: string) => {
    assert.match(stored ?? '', /^sealed-v1\./, 'the seed is stored sealed');
    assert.ok(!stored!.includes(secret), 'and not readable in the database');
  };

  it('follows RFC 6238 (its SHA-1 test vector)', () => {
    // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s → 94287082 (8 digits; 6: 287082).
    const rfcSecret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    assert.equal(totpCode(rfcSecret, new Date(59_000)), '287082');
    assert.equal(acceptedStep(rfcSecret, '287082', new Date(59_000), null), 1);
    assert.equal(acceptedStep(rfcSecret, '287082', new Date(59_000), 1), null, 'never twice');
  });

  it('enrols with the password, a QR code and a first code; then shows ten recovery codes once', async () => {
    const web = await login(node, 'ee.careful');
    const other = await login(node, 'ee.careful');
    const wrongPassword = await node.request({
      method: 'POST',
      url: '/api/v1/me/mfa',
      headers: web.headers,
      payload: { password: 'not my password' },
    });
    assert.equal(wrongPassword.statusCode, 403);
    const begin = await node.request({
      method: 'POST',
      url: '/api/v1/me/mfa',
      headers: web.headers,
      payload: { password: PASSWORD },
    });
    assert.equal(begin.statusCode, 200, begin.body);
    secret = json(begin).secret;
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const uri = new URL(json(begin).uri);
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(uri.searchParams.get('secret'), secret);
    assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
    assert.equal(uri.searchParams.get('digits'), '6');
    assert.equal(uri.searchParams.get('period'), '30');
    assert.match(json(begin).qrSvg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const status = json(await node.request({ method: 'GET', url: '/api/v1/me/mfa', headers: web.headers }));
    assert.deepEqual(status, { enabled: false, enrolling: true, required: false, recoveryCodesLeft: 0 });
    assertSealed((await storedSeeds('ee.careful')).mfa_pending_secret, secret);

    const wrong = await node.request({
      method: 'POST',
      url: '/api/v1/me/mfa/confirm',
      headers: web.headers,
      payload: { code: totpCode(secret, node.clock.now(), 5) },
    });
    assert.equal(wrong.statusCode, 400);
    assert.equal(json(wrong).error.details[0].field, 'body/code');
    const confirm = await node.request({
      method: 'POST',
      url: '/api/v1/me/mfa/confirm',
      headers: web.headers,
      payload: { code: totpCode(secret, node.clock.now()) },
    });
    assert.equal(confirm.statusCode, 200, confirm.body);
    recoveryCodes = json(confirm).recoveryCodes;
    assert.equal(recoveryCodes.length, 10);
    assert.equal(new Set(recoveryCodes).size, 10);
    assertSealed((await storedSeeds('ee.careful')).mfa_secret, secret);
    const stored = await node.database.db.selectFrom('user_recovery_codes').select('code_hash').execute();
    assert.ok(
      stored.every((row) => !recoveryCodes.some((code) => row.code_hash.includes(code.replace('-', '')))),
      'stored only as hashes',
    );
    assert.equal((await me(node, web.headers)).statusCode, 200, 'the enrolling session goes on');
    assert.equal((await me(node, other.headers)).statusCode, 401, 'password-only sessions end');
    assert.equal((await me(node, user.headers)).statusCode, 401, 'and so do API tokens issued before');
    const issued = await node.request({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: web.headers,
      payload: {},
    });
    assert.equal(issued.statusCode, 201, issued.body);
    const token = json(issued).token as string;
    user = { ...user, token, headers: { authorization: `Bearer ${token}` } };
    assert.equal((await me(node, user.headers)).statusCode, 200, 'a token issued after works');
    const again = await node.request({
      method: 'POST',
      url: '/api/v1/me/mfa/confirm',
      headers: web.headers,
      payload: { code: totpCode(secret, node.clock.now()) },
    });
    assert.equal(again.statusCode, 409, 'recovery codes are shown once');
  });

  it('a login then asks for the code: wrong and reused codes are refused, a fresh one opens a session', async () => {
    node.clock.advance(30_000);
    const first = await passwordStep();
    assert.equal(first.statusCode, 202, first.body);
    assert.equal(first.headers['set-cookie'], undefined, 'no session before the code');
    const { challenge } = json(first);
    assert.match(challenge, /^vyc_/);

    const wrongCode = await codeStep(challenge, totpCode(secret, node.clock.now(), 3));
    assert.equal(wrongCode.statusCode, 401);
    assert.match(json(wrongCode).error.message, /wrong code/);
    const code = totpCode(secret, node.clock.now());
    const ok = await codeStep(challenge, code);
    assert.equal(ok.statusCode, 200, ok.body);
    const web = sessionOf(ok);
    assert.equal(json(await me(node, web.headers)).name, 'ee.careful');
    assert.equal((await codeStep(challenge, code)).statusCode, 401, 'a challenge opens one session');

    const second = json(await passwordStep()).challenge;
    const reused = await codeStep(second, code);
    assert.equal(reused.statusCode, 401, 'the same code is not accepted twice within its window');
    assert.match(json(reused).error.message, /used already/);
    const previous = await codeStep(second, totpCode(secret, node.clock.now(), -1));
    assert.equal(previous.statusCode, 401, 'nor an older one');
    node.clock.advance(30_000);
    assert.equal((await codeStep(second, totpCode(secret, node.clock.now()))).statusCode, 200);

    const denied = await node.services.audit.page({ action: 'session.login.denied' }, 'asc', 50);
    assert.ok(denied.items.length >= 3, 'refused codes are audited');
  });

  it('a wrong password never reaches the code step, and a challenge takes only a few wrong codes', async () => {
    const wrong = await passwordStep('not my password');
    assert.equal(wrong.statusCode, 401);
    assert.equal(json(wrong).challenge, undefined);

    node.clock.advance(30_000);
    const { challenge } = json(await passwordStep());
    for (let i = 0; i < 5; i++) {
      assert.equal((await codeStep(challenge, '000000')).statusCode, 401);
    }
    const late = await codeStep(challenge, totpCode(secret, node.clock.now()));
    assert.equal(late.statusCode, 401, 'five wrong codes use the challenge up');
    assert.match(json(late).error.message, /enter your password again/);
    const expiring = json(await passwordStep()).challenge;
    node.clock.advance(5 * 60_000 + 1);
    const expired = await codeStep(expiring, totpCode(secret, node.clock.now()));
    assert.equal(expired.statusCode, 401, 'a challenge expires');
  });

  it('a recovery code logs in once', async () => {
    const code = recoveryCodes[0]!;
    const ok = await codeStep(json(await passwordStep()).challenge, code.toUpperCase());
    assert.equal(ok.statusCode, 200, ok.body);
    const twice = await codeStep(json(await passwordStep()).challenge, code);
    assert.equal(twice.statusCode, 401, 'single use');
    const status = json(await me(node, sessionOf(ok).headers));
    assert.equal(status.name, 'ee.careful');
    const mfa = json(await node.request({ method: 'GET', url: '/api/v1/me/mfa', headers: user.headers }));
    assert.equal(mfa.recoveryCodesLeft, 9);
  });

  it('a code entered while an admin resets the account is refused, and the reset goes through', {
    skip: !onPostgres() && 'needs PostgreSQL: the embedded database runs one transaction at a time',
  }, async () => {
    node.clock.advance(30_000);
    const { challenge } = json(await passwordStep());
    // An admin's change of the account, in its order: the user first, then their open challenges.
    const reset = await openTransaction(node.database.db, (trx) => lockUserById(trx, user.id));
    const login = codeStep(challenge, totpCode(secret, node.clock.now()));
    await settledOrWaiting(node.database.db, login);
    try {
      await reset.run((trx) => endChallenges(trx, user.id, node.clock.now()));
    } finally {
      await reset.commit();
    }
    const answered = await login;
    assert.equal(answered.statusCode, 401, answered.body);
    assert.match(json(answered).error.message, /enter your password again/);
  });

  it('a password step under way while an admin resets the password opens nothing past the reset', {
    skip: !onPostgres() && 'needs PostgreSQL: the embedded database runs one transaction at a time',
  }, async () => {
    // The reset, held open once it has changed the password and ended the open challenges.
    const reset = await openTransaction(node.database.db, async (trx) => {
      await lockUserById(trx, user.id);
      await updateUser(trx, user.id, { password_hash: 'replaced by the reset' });
      await endChallenges(trx, user.id, node.clock.now());
    });
    const login = passwordStep();
    try {
      let first: string;
      try {
        first = await settledOrWaiting(node.database.db, login);
      } finally {
        await reset.commit();
      }
      const answered = await login;
      assert.equal(answered.statusCode, 401, answered.body);
      assert.equal(first, 'waiting', 'the login waited for the reset, and then saw it');
      const denials = await node.services.audit.page({ action: 'session.login.denied' }, 'desc', 1);
      assert.deepEqual(denials.items[0]?.summary, {
        name: 'ee.careful',
        reason: 'the account changed during the login',
      });
    } finally {
      await updateUser(node.database.db, user.id, { password_hash: await hashPassword(PASSWORD) });
    }
  });

  it("keeps seeds sealed under the data directory's key: moved to another account one does not open, and a seed an older node stored in the clear is sealed at start", async () => {
    await node.user('ee.other', 'EE', ['analyst'], PASSWORD);
    const otherLogin = async (code: string) => {
      const first = await node.request({
        method: 'POST',
        url: '/api/v1/session',
        payload: { name: 'ee.other', password: PASSWORD },
      });
      assert.equal(first.statusCode, 202, first.body);
      return codeStep(json(first).challenge, code);
    };
    const careful = await storedSeeds('ee.careful');
    await node.database.db
      .updateTable('users')
      .set({ mfa_secret: careful.mfa_secret, mfa_enabled_at: node.clock.now() })
      .where('name', '=', 'ee.other')
      .execute();
    node.clock.advance(30_000);
    const moved = await otherLogin(totpCode(secret, node.clock.now()));
    assert.equal(moved.statusCode, 401, 'a sealed seed opens only for the account it was sealed for');
    assert.match(json(moved).error.message, /cannot read the authenticator's secret.*recovery code/);

    // As a node before sealing kept it: the seed itself in the column.
    await node.database.db
      .updateTable('users')
      .set({ mfa_secret: secret, mfa_last_step: null })
      .where('name', '=', 'ee.other')
      .execute();
    assert.equal(await node.services.mfa.sealSeedsStoredInTheClear(), 1);
    assertSealed((await storedSeeds('ee.other')).mfa_secret, secret);
    assert.equal(await node.services.mfa.sealSeedsStoredInTheClear(), 0, 'once');
    const audited = await node.services.audit.page({ action: 'user.mfa.seal' }, 'asc', 10);
    assert.deepEqual(
      audited.items.map((event) => event.summary),
      [{ users: 1 }],
    );
    assert.equal((await otherLogin(totpCode(secret, node.clock.now()))).statusCode, 200);
  });

  it('turns off only with a current code; then the password alone logs in again', async () => {
    node.clock.advance(30_000);
    const wrong = await node.request({
      method: 'POST',
      url: '/api/v1/me/mfa/disable',
      headers: user.headers,
      payload: { code: '123456' },
    });
    assert.equal(wrong.statusCode, 403);
    const off = await node.request({
      method: 'POST',
      url: '/api/v1/me/mfa/disable',
      headers: user.headers,
      payload: { code: totpCode(secret, node.clock.now()) },
    });
    assert.equal(off.statusCode, 200, off.body);
    assert.equal(json(off).enabled, false);
    assert.equal((await passwordStep()).statusCode, 200);
    const actions = new Set((await node.services.audit.page({}, 'asc', 500)).items.map((e) => e.action));
    for (const action of [
      'user.mfa.enrol',
      'user.mfa.enable',
      'user.mfa.disable',
      'session.login.challenge',
    ]) {
      assert.ok(actions.has(action), `${action} is audited`);
    }
  });
});

describe('VYTIS_REQUIRE_MFA=admins', () => {
  let node: TestNode;
  let admin: TestUser;
  let adminSecret = '';
  /** An admin with a second factor, in the web app. */
  let boss: { user: TestUser; web: WebSession };

  /** Logs `name` in and enrols an authenticator; the session goes on. */
  async function enrol(name: string): Promise<{ web: WebSession; secret: string }> {
    const web = await login(node, name);
    const begin = await node.request({
      method: 'POST',
      url: '/api/v1/me/mfa',
      headers: web.headers,
      payload: { password: PASSWORD },
    });
    assert.equal(begin.statusCode, 200, begin.body);
    const secret = json(begin).secret as string;
    const confirm = await node.request({
      method: 'POST',
      url: '/api/v1/me/mfa/confirm',
      headers: web.headers,
      payload: { code: totpCode(secret, node.clock.now()) },
    });
    assert.equal(confirm.statusCode, 200, confirm.body);
    return { web, secret };
  }

  before(async () => {
    node = await startTestNode({ loginAttemptsPerMinute: 1000, requireMfa: 'admins' });
    admin = await node.user('lt.admin', 'LT', ['admin'], PASSWORD);
    await node.user('lt.analyst', 'LT', ['analyst'], PASSWORD);
    const bossUser = await node.user('lt.boss', 'LT', ['admin'], PASSWORD);
    boss = { user: bossUser, web: (await enrol('lt.boss')).web };
  });
  after(() => node.close());

  it('lets an admin without a second factor log in only to enrol one', async () => {
    const res = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'lt.admin', password: PASSWORD },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(json(res).mfaEnrolmentRequired, true);
    const web = sessionOf(res);
    const users = await node.request({ method: 'GET', url: '/api/v1/users', headers: web.headers });
    assert.equal(users.statusCode, 403);
    assert.match(json(users).error.message, /enrol a second factor/);
    const create = await node.request({
      method: 'POST',
      url: '/api/v1/users',
      headers: web.headers,
      payload: { name: 'sneaky', party: 'LT', roles: ['admin'] },
    });
    assert.equal(create.statusCode, 403);
    const status = await node.request({ method: 'GET', url: '/api/v1/me/mfa', headers: web.headers });
    assert.equal(json(status).required, true);

    const begin = json(
      await node.request({
        method: 'POST',
        url: '/api/v1/me/mfa',
        headers: web.headers,
        payload: { password: PASSWORD },
      }),
    );
    const confirm = await node.request({
      method: 'POST',
      url: '/api/v1/me/mfa/confirm',
      headers: web.headers,
      payload: { code: totpCode(begin.secret, node.clock.now()) },
    });
    assert.equal(confirm.statusCode, 200, confirm.body);
    adminSecret = begin.secret;
    assert.equal(
      (await me(node, admin.headers)).statusCode,
      401,
      'API tokens from before the second factor end with its confirmation',
    );
    const now = await node.request({ method: 'GET', url: '/api/v1/users', headers: web.headers });
    assert.equal(now.statusCode, 200, 'enrolled: the session may do everything');
    const session = await node.request({ method: 'GET', url: '/api/v1/session', headers: web.headers });
    assert.equal(json(session).mfaEnrolmentRequired, false);

    node.clock.advance(30_000);
    const off = await node.request({
      method: 'POST',
      url: '/api/v1/me/mfa/disable',
      headers: web.headers,
      payload: { code: totpCode(begin.secret, node.clock.now()) },
    });
    assert.equal(off.statusCode, 409, 'an admin may not drop the required factor');
    const next = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'lt.admin', password: PASSWORD },
    });
    assert.equal(next.statusCode, 202, 'the next login asks for the code');
  });

  it('lets another admin remove a lost second factor; the admin then enrols anew', async () => {
    const colleague = boss.web;
    const listed = json(
      await node.request({ method: 'GET', url: `/api/v1/users/${admin.id}`, headers: colleague.headers }),
    );
    assert.equal(listed.mfa, true);
    assert.equal(listed.can.resetMfa, true);
    node.clock.advance(30_000);
    const password = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'lt.admin', password: PASSWORD },
    });
    assert.equal(password.statusCode, 202);
    const withCode = await node.request({
      method: 'POST',
      url: '/api/v1/session/mfa',
      payload: { challenge: json(password).challenge, code: totpCode(adminSecret, node.clock.now()) },
    });
    assert.equal(withCode.statusCode, 200, withCode.body);
    const self = await node.request({
      method: 'DELETE',
      url: `/api/v1/users/${admin.id}/mfa`,
      headers: sessionOf(withCode).headers,
    });
    assert.equal(self.statusCode, 403, 'not your own without a code');
    const reset = await node.request({
      method: 'DELETE',
      url: `/api/v1/users/${admin.id}/mfa`,
      headers: colleague.headers,
    });
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal(json(reset).mfa, false);
    const again = await node.request({
      method: 'DELETE',
      url: `/api/v1/users/${admin.id}/mfa`,
      headers: colleague.headers,
    });
    assert.equal((await me(node, sessionOf(withCode).headers)).statusCode, 401, 'its sessions ended');
    assert.equal(again.statusCode, 409);
    const res = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'lt.admin', password: PASSWORD },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(json(res).mfaEnrolmentRequired, true, 'required for admins: enrol again');
    const audited = await node.services.audit.page({ action: 'user.mfa.reset' }, 'asc', 5);
    assert.equal(audited.items.length, 1);
  });

  it('leaves other roles free to log in with a password', async () => {
    const web = await login(node, 'lt.analyst');
    assert.equal((await me(node, web.headers)).statusCode, 200);
    assert.equal(
      (await node.request({ method: 'GET', url: '/api/v1/cases', headers: web.headers })).statusCode,
      200,
    );
  });

  it('gives a token of an admin without a second factor nothing, however it was issued', async () => {
    const get = (url: string, headers: Record<string, string>) =>
      node.request({ method: 'GET', url: `/api/v1${url}`, headers });
    const post = (url: string, headers: Record<string, string>, payload: object = {}) =>
      node.request({ method: 'POST', url: `/api/v1${url}`, headers, payload });
    const climber = await node.user('lt.climber', 'LT', ['analyst'], PASSWORD);
    const web = await login(node, 'lt.climber');
    const issued = await post('/tokens', web.headers, { label: 'my script' });
    assert.equal(issued.statusCode, 201, issued.body);
    const selfIssued = { authorization: `Bearer ${json(issued).token}` };
    assert.equal((await me(node, selfIssued)).statusCode, 200);

    const promote = await node.request({
      method: 'PUT',
      url: `/api/v1/users/${climber.id}/roles`,
      headers: boss.web.headers,
      payload: { roles: ['admin', 'analyst'] },
    });
    assert.equal(promote.statusCode, 200, promote.body);
    for (const headers of [selfIssued, climber.headers]) {
      assert.equal((await get('/users', headers)).statusCode, 401, 'tokens from before end with the grant');
    }
    assert.equal((await get('/users', web.headers)).statusCode, 403, 'the session may only enrol');
    assert.equal((await post('/tokens', web.headers)).statusCode, 403, 'nor issue itself a token');

    // Even a token an admin issues does nothing until its holder has a second factor.
    const granted = await post(`/users/${climber.id}/tokens`, boss.web.headers);
    assert.equal(granted.statusCode, 201, granted.body);
    const bearer = { authorization: `Bearer ${json(granted).token}` };
    for (const res of [
      await get('/users', bearer),
      await get('/me', bearer),
      await post('/tokens', bearer),
      await post(`/users/${boss.user.id}/tokens`, bearer),
    ]) {
      assert.equal(res.statusCode, 403, res.body);
      assert.match(json(res).error.message, /API tokens of an account that must enrol a second factor/);
    }
    const denied = await node.services.audit.page(
      { action: 'access.denied', actorName: 'lt.climber' },
      'asc',
      50,
    );
    assert.ok(denied.items.length >= 4, 'each refusal is audited under the account');

    // Enrolling ends every token obtained before it; new ones then work.
    const begin = json(await post('/me/mfa', web.headers, { password: PASSWORD }));
    const confirm = await post('/me/mfa/confirm', web.headers, {
      code: totpCode(begin.secret, node.clock.now()),
    });
    assert.equal(confirm.statusCode, 200, confirm.body);
    assert.equal((await me(node, bearer)).statusCode, 401);
    const enabled = await node.services.audit.page(
      { action: 'user.mfa.enable', objectId: climber.id },
      'desc',
      1,
    );
    assert.equal((enabled.items[0]?.summary as { tokensRevoked?: number } | undefined)?.tokensRevoked, 1);
    const fresh = await post('/tokens', web.headers);
    assert.equal(fresh.statusCode, 201, fresh.body);
    const freshBearer = { authorization: `Bearer ${json(fresh).token}` };
    for (let i = 0; i < 3; i++) assert.equal((await get('/users', freshBearer)).statusCode, 200);

    // The factor gone, the token (though cached) stops at once, until the admin enrols again.
    const reset = await node.request({
      method: 'DELETE',
      url: `/api/v1/users/${climber.id}/mfa`,
      headers: boss.web.headers,
    });
    assert.equal(reset.statusCode, 200, reset.body);
    const after = await get('/users', freshBearer);
    assert.equal(after.statusCode, 403, after.body);
    assert.match(json(after).error.message, /must enrol a second factor/);
  });

  it('ends API tokens when users change their own password', async () => {
    const user = await node.user('lt.changer', 'LT', ['analyst'], PASSWORD);
    const web = await login(node, 'lt.changer');
    const change = await node.request({
      method: 'PUT',
      url: '/api/v1/me/password',
      headers: web.headers,
      payload: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    });
    assert.equal(change.statusCode, 204, change.body);
    assert.equal((await me(node, user.headers)).statusCode, 401);
    assert.equal((await me(node, web.headers)).statusCode, 200, 'the session that changed it goes on');
    const audited = await node.services.audit.page(
      { action: 'user.password.change', objectId: user.id },
      'desc',
      1,
    );
    assert.equal((audited.items[0]?.summary as { tokensRevoked?: number } | undefined)?.tokensRevoked, 1);
  });
});

describe('the code step is rate-limited like the login', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode({ loginAttemptsPerMinute: 3 });
  });
  after(() => node.close());

  it('refuses the fourth code within a minute', async () => {
    const user = await node.user('lv.user', 'LT', ['analyst'], PASSWORD);
    const begin = json(
      await node.request({
        method: 'POST',
        url: '/api/v1/me/mfa',
        headers: user.headers,
        payload: { password: PASSWORD },
      }),
    );
    await node.request({
      method: 'POST',
      url: '/api/v1/me/mfa/confirm',
      headers: user.headers,
      payload: { code: totpCode(begin.secret, node.clock.now()) },
    });
    const res = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'lv.user', password: PASSWORD },
    });
    const { challenge } = json(res);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (
          await node.request({
            method: 'POST',
            url: '/api/v1/session/mfa',
            payload: { challenge, code: '000000' },
          })
        ).statusCode,
      );
    }
    assert.deepEqual(statuses, [401, 401, 401, 429]);
  });
});
