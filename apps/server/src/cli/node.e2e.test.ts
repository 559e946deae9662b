import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from '../platform/db/database.ts';
import { createPostgresDatabase, onPostgres } from '../test/harness.ts';

// The node as an operator runs it: `npm start` (`vytis start`) and `npx vytis` (bin/vytis.js), as
// separate processes on one data directory, with and without the node running.
const serverDir = path.resolve(import.meta.dirname, '..', '..');
const cliBin = path.join(serverDir, 'bin', 'vytis.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

async function waitForHealth(base: string, child: ChildProcess, timeoutMs = 60_000) {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`node exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return Date.now() - start;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('node did not become healthy');
}

describe('a node and its command line, as an operator uses them', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let dropDatabase = async () => {};
  let base: string;
  const vytis = (args: string[], input?: string) => run([cliBin, ...args], env, input);
  const startNode = () => {
    const child = spawn(process.execPath, [cliBin, 'start'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    return { child, stderr: () => stderr };
  };

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-e2e-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      VYTIS_DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      VYTIS_TEST_PGLITE_TEMPLATE: '',
    };
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

  it('refuses a bad configuration with one line per problem and no stack trace', async () => {
    const result = await run([cliBin, 'start'], {
      ...env,
      PORT: 'eighty',
      DATABASE_URL: 'mysql://x/y',
    });
    assert.equal(result.code, 1);
    const lines = result.stderr.trim().split('\n');
    assert.deepEqual(lines, [
      'vytis: config: PORT must be a number (got "eighty")',
      'vytis: config: DATABASE_URL must be a postgres:// or postgresql:// URL with a host, e.g. postgres://postgres@127.0.0.1:5432/vytis (got "mysql://x/y")',
    ]);
  });

  let adminToken = '';
  it('manages users and tokens while no node is running', async () => {
    const added = await vytis([
      'user',
      'add',
      'alice',
      '--party',
      'LT',
      '--role',
      'admin',
      '--role',
      'auditor',
    ]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^[0-9a-f-]{36}\n$/);
    const duplicate = await vytis(['user', 'add', 'alice', '--party', 'LT', '--role', 'admin']);
    assert.equal(duplicate.code, 1);
    assert.equal(duplicate.stderr, 'vytis: a user named alice already exists\n');
    const issued = await vytis(['token', 'issue', 'alice']);
    assert.equal(issued.code, 0, issued.stderr);
    assert.match(issued.stdout, /^vyt_\S+\n$/, 'the token alone on stdout');
    adminToken = issued.stdout.trim();
  });

  it('serves, goes through the running node, and loses no acknowledged write on shutdown', async () => {
    const node = startNode();
    await waitForHealth(base, node.child);
    const ready = (await (await fetch(`${base}/readyz`)).json()) as { status: string };
    assert.equal(ready.status, 'ready');
    // Beside the JSON logs, one plain line says where to open the app.
    for (let i = 0; i < 100 && !node.stderr().includes('Vytis is ready'); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(node.stderr(), new RegExp(`^Vytis is ready: open ${base} in your browser$`, 'm'));

    const added = await vytis(
      ['user', 'add', 'bob', '--party', 'PL', '--role', 'poc', '--password-stdin'],
      'a long enough password\n',
    );
    assert.equal(added.code, 0, added.stderr);
    const bobToken = (await vytis(['token', 'issue', 'bob'])).stdout.trim();
    const meResponse = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${bobToken}` } });
    const me = (await meResponse.json()) as { name: string };
    assert.equal(me.name, 'bob');
    const login = await fetch(`${base}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bob', password: 'a long enough password' }),
    });
    assert.equal(login.status, 200, 'the password read from stdin works for web login');

    const writes = Array.from({ length: 30 }, (_, i) =>
      fetch(`${base}/api/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `burst.${i}`, party: 'EE', roles: ['analyst'] }),
      }).then(
        (r) => r.status,
        () => 0,
      ),
    );
    await new Promise((r) => setTimeout(r, 20));
    node.child.kill('SIGTERM');
    const statuses = await Promise.all(writes);
    const [code] = await new Promise<[number | null]>((resolve) =>
      node.child.on('exit', (c) => resolve([c])),
    );
    assert.equal(code, 0, node.stderr());
    assert.equal(fs.existsSync(path.join(dataDir, 'admin.sock')), false, 'the admin socket is gone');

    const acknowledged = statuses.map((s, i) => (s === 201 ? `burst.${i}` : null)).filter((n) => n !== null);
    const verify = await vytis(['audit', 'verify']);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /^ok \d+ events, \d+ checkpoints\n$/);

    const database = await openDatabase({
      databaseUrl: env.DATABASE_URL,
      pgliteDir: path.join(dataDir, 'db'),
    });
    try {
      const stored = new Set(
        (await database.db.selectFrom('users').select('name').execute()).map((u) => u.name),
      );
      for (const name of acknowledged)
        assert.ok(stored.has(name), `${name} was acknowledged, so it must be stored`);
      const events = await sql<{ n: number }>`
        select count(*)::int as n from audit_events where envelope::jsonb ->> 'action' = 'user.create'`.execute(
        database.db,
      );
      assert.equal(events.rows[0]!.n, stored.size, 'every stored user has its audit event');
      // Tampering by hand, as someone with access to the database would.
      await sql`update audit_events set envelope = replace(envelope, '"action":"', '"action":"forged.') where seq = 3`.execute(
        database.db,
      );
    } finally {
      await database.close();
    }
    const tampered = await vytis(['audit', 'verify']);
    assert.equal(tampered.code, 1);
    assert.equal(tampered.stdout, '3\n');
    assert.match(tampered.stderr, /audit chain broken at event 3: event 3 was altered/);
  });
});
