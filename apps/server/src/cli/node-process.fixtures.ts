import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfigOrExit } from '../config.ts';
import { CLI_ACTOR, type Ctx } from '../context.ts';
import type { Services } from '../http/services.ts';
import { openServices } from '../node.ts';
import { createPostgresDatabase, onPostgres } from '../test/harness.ts';
import { totpCode } from '../test/totp.ts';
import { cliBin, vytisCommand } from './vytis-command.fixtures.ts';

export { vytisCommand };

// Real node and CLI processes on one data directory (and, on PostgreSQL runs, a database of their
// own), for tests of what survives a process: crashes, backups, restores.

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function vytis(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, vytisCommand(args), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

/** A data directory (and database) for real processes; `destroy` removes both. */
export interface ProcessStorage {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  destroy(): Promise<void>;
}

/**
 * On the embedded database, a fresh data directory starts as a copy of the run's migrated one
 * (made once by scripts/test.mjs), when there is one: its first process would otherwise run every
 * migration, seconds of WebAssembly each time. A newcomer's first start is node.e2e.test.ts's.
 */
export function seedMigratedDatabase(dataDir: string): void {
  const template = process.env.VYTIS_TEST_PGLITE_TEMPLATE_DIR;
  if (onPostgres() || !template) return;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.cpSync(template, path.join(dataDir, 'db'), { recursive: true });
}

/** `migrated: false` leaves the data directory empty (a restore's target must be). */
export async function processStorage(name: string, { migrated = true } = {}): Promise<ProcessStorage> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `vytis-${name}-`));
  const dataDir = path.join(root, 'data');
  if (migrated) seedMigratedDatabase(dataDir);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    VYTIS_DATA_DIR: dataDir,
    PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    VYTIS_TEST_PGLITE_TEMPLATE: '',
    DATABASE_URL: '',
  };
  let drop = async () => {};
  if (onPostgres()) {
    const created = await createPostgresDatabase();
    env.DATABASE_URL = created.url;
    drop = created.drop;
  }
  return {
    env,
    dataDir,
    async destroy() {
      await drop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The services over the storage, in this process, for setup while no node runs. */
export async function withServices<T>(
  env: NodeJS.ProcessEnv,
  fn: (services: Services, cli: Ctx) => Promise<T>,
) {
  const { services } = await openServices(loadConfigOrExit(env));
  try {
    return await fn(services, { actor: CLI_ACTOR, requestId: null });
  } finally {
    await services.database.close();
  }
}

export interface NodeProcess {
  child: ChildProcess;
  base: string;
  stderr(): string;
  /** `kill -9`: no shutdown of any kind. */
  crash(): Promise<void>;
  /** SIGTERM, the graceful stop; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startNode(env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<NodeProcess> {
  const child = spawn(process.execPath, [cliBin, 'start'], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${env.PORT}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`node exited with ${child.exitCode ?? child.signalCode}: ${stderr}`);
    }
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`node did not become healthy: ${stderr}`);
    }
    const healthy = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    base,
    stderr: () => stderr,
    async crash() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A user's view of a node's HTTP API; never throws for a refused or cut-off call (status 0). */
export function client(base: string, token: string) {
  const send = async (method: string, url: string, body?: unknown, contentType = 'application/json') => {
    try {
      const res = await fetch(`${base}/api/v1${url}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': contentType }),
        },
        ...(body === undefined
          ? {}
          : { body: contentType === 'application/json' ? JSON.stringify(body) : (body as string | Buffer) }),
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      let json: any = null;
      try {
        json = JSON.parse(bytes.toString('utf8'));
      } catch {}
      return { status: res.status, json, bytes };
    } catch {
      return { status: 0, json: null as any, bytes: Buffer.alloc(0) };
    }
  };
  return {
    get: (url: string) => send('GET', url),
    post: (url: string, body?: unknown, contentType?: string) => send('POST', url, body, contentType),
  };
}

export type Client = ReturnType<typeof client>;

export const caseBody = (title: string) => ({
  title,
  incidentClass: 'rsit:malicious-code="infected-system"',
  severity: 'high' as const,
  tlp: 'amber' as const,
  pap: 'amber' as const,
});

/** A web login's first step, as the browser sends it. */
export const passwordStep = (base: string, name: string, password: string) =>
  fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, password }),
  });

/** The user turns on a second factor from a web session, as in the web app; returns its secret. */
export async function enrolSecondFactor(base: string, name: string, password: string): Promise<string> {
  const login = await passwordStep(base, name, password);
  assert.equal(login.status, 200);
  const headers = {
    'content-type': 'application/json',
    cookie: String(login.headers.get('set-cookie')).split(';')[0]!,
    'x-csrf-token': ((await login.json()) as { csrfToken: string }).csrfToken,
  };
  const begin = await fetch(`${base}/api/v1/me/mfa`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ password }),
  });
  assert.equal(begin.status, 200);
  const { secret } = (await begin.json()) as { secret: string };
  const confirm = await fetch(`${base}/api/v1/me/mfa/confirm`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ code: totpCode(secret, new Date()) }),
  });
  assert.equal(confirm.status, 200);
  return secret;
}
