import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../config.ts';
import { systemCtx } from '../context.ts';
import { openServices } from '../node.ts';
import { createPostgresDatabase, onPostgres } from '../test/harness.ts';
import { seedMigratedDatabase, vytisCommand } from './node-process.fixtures.ts';

// `vytis user disable|enable|roles|password|end-sessions` as an operator types them, in real
// processes on one data directory with no node running (the CLI opens the database itself).

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('the command line contains accounts', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let dropDatabase = async () => {};

  const vytis = (args: string[], input = '') =>
    new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, vytisCommand(args), { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-user-cli-'));
    seedMigratedDatabase(dataDir);
    env = { ...process.env, VYTIS_DATA_DIR: dataDir, LOG_LEVEL: 'warn', VYTIS_TEST_PGLITE_TEMPLATE: '' };
    if (onPostgres()) {
      const created = await createPostgresDatabase();
      env.DATABASE_URL = created.url;
      dropDatabase = created.drop;
    }
  });
  after(async () => {
    await dropDatabase();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('sets a password read from standard input, never from the command line', async () => {
    assert.equal((await vytis(['user', 'add', 'root', '--party', 'LT', '--role', 'admin'])).code, 0);
    const added = await vytis(['user', 'add', 'bob', '--party', 'PL', '--role', 'analyst']);
    assert.equal(added.code, 0, added.stderr);

    const onArgv = await vytis(['user', 'password', 'bob', 'a password typed on the line']);
    assert.equal(onArgv.code, 1, 'a password is never taken from argv');
    assert.match(onArgv.stderr, /too many arguments/);
    const short = await vytis(['user', 'password', 'bob'], 'short\n');
    assert.equal(short.code, 1);
    assert.match(short.stderr, /12 to 1024 characters/);
    const set = await vytis(['user', 'password', 'bob'], 'a long enough passphrase\n');
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'password of bob set; their web sessions ended\n');
  });

  it('disables, sets roles, enables; refuses to disable the last admin', async () => {
    const disabled = await vytis(['user', 'disable', 'bob', '--reason', 'left the team']);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.match(disabled.stdout, /^disabled bob/);
    const roles = await vytis(['user', 'roles', 'bob', '--role', 'responder', '--role', 'council']);
    assert.equal(roles.stdout, 'bob: responder, council\n', roles.stderr);
    const badRole = await vytis(['user', 'roles', 'bob', '--role', 'wizard']);
    assert.equal(badRole.code, 1);
    const last = await vytis(['user', 'disable', 'root']);
    assert.equal(last.code, 1);
    assert.match(last.stderr, /^vytis: root is the last active admin/);
    const nobody = await vytis(['user', 'enable', 'nobody']);
    assert.equal(nobody.stderr, 'vytis: no user named nobody\n');

    // Disabled, bob cannot log in; enabled again, bob logs in with the password set above.
    const config = parseConfig(env);
    assert.ok(config.ok);
    const login = async () => {
      const { services } = await openServices(config.config);
      try {
        return await services.identity.login(systemCtx(), 'bob', 'a long enough passphrase');
      } catch (error) {
        return error as Error;
      } finally {
        await services.database.close();
      }
    };
    assert.match(String(((await login()) as Error).message), /wrong user name or password/);
    assert.equal((await vytis(['user', 'enable', 'bob'])).code, 0);
    const result = await login();
    assert.ok(!(result instanceof Error) && result.kind === 'session', String(result));
    const audit = await vytis(['audit', 'verify']);
    assert.equal(audit.code, 0, audit.stderr);
  });
});
