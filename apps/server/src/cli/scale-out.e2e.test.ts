import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Notification } from '@vytis/contracts';
import { copyNodeKeys } from '../platform/keys.ts';
import {
  createDurableStorage,
  type DurableStorage,
  onPostgres,
  startTestNode,
  type TestNode,
  type TestUser,
} from '../test/harness.ts';
import { requestBody } from '../test/requests.fixtures.ts';

// One node scaled out: three `npm start` processes, each with its own port and data directory
// (sharing only the node's key, as its processes must), on one PostgreSQL database. A client
// that goes round the three must not notice which one answers.
const serverDir = path.resolve(import.meta.dirname, '..', '..');
const cliBin = path.join(serverDir, 'bin', 'vytis.js');
const DAY = 86_400_000;
const MEMBERS = ['EE', 'HR', 'LT', 'NL', 'PL', 'RO'];

interface Proc {
  name: string;
  base: string;
  child: ChildProcess;
  dataDir: string;
  stderr: () => string;
}

interface Answer {
  status: number;
  body: any;
  headers: Headers;
  via: string;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

/** Polls until `done` holds; fails after a while (it waits for the processes, it never times them). */
async function waitFor(what: string, done: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** One open GET /api/v1/events on one process, its frames collected as they arrive. */
class EventStream {
  readonly events: Notification[] = [];
  private readonly abort = new AbortController();
  private buffer = '';

  static async open(proc: Proc, user: TestUser) {
    const stream = new EventStream();
    const response = await fetch(`${proc.base}/api/v1/events`, {
      headers: user.headers,
      signal: stream.abort.signal,
    });
    assert.equal(response.status, 200, `${proc.name}: ${response.status}`);
    void stream.read(response.body!);
    return stream;
  }

  private async read(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) {
        this.buffer += decoder.decode(chunk, { stream: true });
        let end = this.buffer.indexOf('\n\n');
        while (end >= 0) {
          const frame = this.buffer.slice(0, end);
          this.buffer = this.buffer.slice(end + 2);
          const data = frame.split('\n').find((line) => line.startsWith('data: '));
          if (data) this.events.push(JSON.parse(data.slice(6)) as Notification);
          end = this.buffer.indexOf('\n\n');
        }
      }
    } catch {
      // closed by the test
    }
  }

  of(requestId: string) {
    return this.events.filter((e) => e.requestId === requestId);
  }

  close() {
    this.abort.abort();
  }
}

describe('three node processes on one PostgreSQL serve every route interchangeably', {
  skip: !onPostgres() && 'needs PostgreSQL',
}, () => {
  let storage: DurableStorage;
  let control: TestNode;
  const procs: Proc[] = [];
  const users: Record<string, TestUser> = {};
  const password = 'a long enough password for lt.poc';
  let turn = 0;

  /** The client: each call goes to the next process in turn, unless one is named. */
  async function call(
    method: string,
    url: string,
    options: { as?: TestUser; headers?: Record<string, string>; body?: unknown; via?: Proc } = {},
  ): Promise<Answer> {
    const proc = options.via ?? procs[turn++ % procs.length]!;
    const headers: Record<string, string> = { ...(options.as?.headers ?? {}), ...(options.headers ?? {}) };
    let body: RequestInit['body'];
    if (Buffer.isBuffer(options.body)) {
      headers['content-type'] ??= 'application/octet-stream';
      body = options.body;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(`${proc.base}/api/v1${url}`, { method, headers, body });
    const type = response.headers.get('content-type') ?? '';
    const payload = type.startsWith('application/json')
      ? await response.json()
      : Buffer.from(await response.arrayBuffer());
    return { status: response.status, body: payload, headers: response.headers, via: proc.name };
  }

  const auditCount = async (action: string, objectId: string) =>
    (await control.services.audit.page({ action, objectId }, 'asc', 1000)).items.length;

  async function startProcess(name: string, sharedDataDir: string): Promise<Proc> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `vytis-scale-${name}-`));
    // A node's processes sign as one node: each gets the node's keys, nothing else of its directory.
    copyNodeKeys(sharedDataDir, dataDir);
    const port = await freePort();
    const child = spawn(process.execPath, [cliBin, 'start'], {
      env: {
        ...process.env,
        DATABASE_URL: storage.databaseUrl,
        VYTIS_DATA_DIR: dataDir,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        VYTIS_SCHEDULER_SECONDS: '1',
        VYTIS_TEST_PGLITE_TEMPLATE: '',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    return { name, base: `http://127.0.0.1:${port}`, child, dataDir, stderr: () => stderr };
  }

  async function stopProcess(proc: Proc) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.child.exitCode;
    const exited = new Promise<number | null>((resolve) => proc.child.once('exit', (code) => resolve(code)));
    proc.child.kill('SIGTERM');
    const timer = setTimeout(() => proc.child.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  before(async () => {
    storage = await createDurableStorage();
    // Migrates and seeds the shared database, and makes the users, before any process starts.
    control = await startTestNode({ storage, now: new Date().toISOString() });
    users.poc = await control.user('lt.poc', 'LT', ['poc'], password);
    users.analyst = await control.user('lt.analyst', 'LT', ['analyst']);
    users.eeAnalyst = await control.user('ee.analyst', 'EE', ['analyst']);
    for (const party of MEMBERS) {
      users[party] = await control.user(`${party.toLowerCase()}.council`, party, ['council']);
    }
    procs.push(...(await Promise.all(['a', 'b', 'c'].map((name) => startProcess(name, storage.dataDir)))));
    await Promise.all(
      procs.map((proc) =>
        waitFor(
          `${proc.name} to be ready`,
          async () => {
            if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited: ${proc.stderr()}`);
            return fetch(`${proc.base}/readyz`).then(
              (r) => r.ok,
              () => false,
            );
          },
          60_000,
        ),
      ),
    );
  });

  after(async () => {
    await Promise.all(procs.map(stopProcess));
    await control?.close();
    await storage?.destroy();
    for (const proc of procs) fs.rmSync(proc.dataDir, { recursive: true, force: true });
  });

  const a = () => procs[0]!;
  const b = () => procs[1]!;
  const c = () => procs[2]!;

  it('keeps a web session made on one process on all of them, and ends it everywhere', async () => {
    const login = await call('POST', '/session', { body: { name: 'lt.poc', password }, via: a() });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const session = { cookie, 'x-csrf-token': login.body.csrfToken as string };
    for (const proc of [b(), c()]) {
      const me = await call('GET', '/me', { headers: { cookie }, via: proc });
      assert.equal(me.status, 200, `${proc.name}: ${JSON.stringify(me.body)}`);
      assert.equal(me.body.name, 'lt.poc');
    }
    const filed = await call('POST', '/requests', { headers: session, body: requestBody(), via: b() });
    assert.equal(filed.status, 201, JSON.stringify(filed.body));
    const noCsrf = await call('POST', `/requests/${filed.body.id}/submit`, { headers: { cookie }, via: c() });
    assert.equal(noCsrf.status, 403, 'the CSRF token of the session is checked on every process');

    const logout = await call('DELETE', '/session', { headers: session, via: c() });
    assert.ok(logout.status < 300, JSON.stringify(logout.body));
    for (const proc of procs) {
      const me = await call('GET', '/me', { headers: { cookie }, via: proc });
      assert.equal(me.status, 401, `${proc.name}: a session ended on c is ended on ${proc.name}`);
    }
  });

  it('hands evidence uploaded through one process to the others, byte for byte, with one chain of custody', async () => {
    const created = await call('POST', '/cases', {
      as: users.analyst,
      body: {
        title: 'Wiper at the grid operator',
        description: 'Memory images of the historians',
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'high',
        tlp: 'amber',
        pap: 'amber',
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const caseId = created.body.id;
    // More than two stored pieces, so no process could serve it from memory of the upload.
    const bytes = crypto.randomBytes(2 * 1024 * 1024 + 4321);
    const uploaded = await call('POST', `/cases/${caseId}/evidence?filename=historian.raw`, {
      as: users.analyst,
      body: bytes,
      via: a(),
    });
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
    const id = uploaded.body.id;
    for (const proc of [b(), c(), a()]) {
      const down = await call('GET', `/cases/${caseId}/evidence/${id}/content`, {
        as: users.analyst,
        via: proc,
      });
      assert.equal(down.status, 200, `${proc.name}: ${down.status}`);
      assert.ok(bytes.equals(down.body), `${proc.name} serves the bytes uploaded through a`);
      assert.equal(down.headers.get('etag'), `"sha256-${uploaded.body.sha256}"`);
    }
    const item = await call('GET', `/cases/${caseId}/evidence/${id}`, { as: users.analyst });
    assert.deepEqual(
      item.body.custody.map((entry: any) => entry.action),
      ['upload', 'download', 'download', 'download'],
    );
    const hidden = await call('GET', `/cases/${caseId}/evidence/${id}/content`, { as: users.eeAnalyst });
    assert.equal(hidden.status, 404, 'the access policy holds on every process');
  });

  it('takes a request from submission to decision across processes, every stream seeing every step', async () => {
    const streams = await Promise.all(procs.map((proc) => EventStream.open(proc, users.poc!)));
    try {
      const now = Date.now();
      const body = requestBody({
        window: { from: new Date(now + DAY).toISOString(), to: new Date(now + 8 * DAY).toISOString() },
        awareAt: new Date(now - 60_000).toISOString(),
      });
      const filed = await call('POST', '/requests', { as: users.poc, body });
      assert.equal(filed.status, 201, JSON.stringify(filed.body));
      const id = filed.body.id;
      const submitted = await call('POST', `/requests/${id}/submit`, { as: users.poc });
      assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
      assert.equal(submitted.body.status, 'voting');
      const voters = ['EE', 'HR', 'LT', 'NL'];
      const vias: string[] = [];
      let last: Answer | undefined;
      for (const party of voters) {
        last = await call('POST', `/requests/${id}/votes`, { as: users[party], body: { vote: 'activate' } });
        assert.equal(last.status, 200, `${party} via ${last.via}: ${JSON.stringify(last.body)}`);
        vias.push(last.via);
      }
      assert.deepEqual(new Set(vias), new Set(['a', 'b', 'c']), 'the votes went through all three');
      assert.equal(last!.body.decision?.outcome, 'activated', 'a majority of six activates');
      for (const proc of procs) {
        const seen = await call('GET', `/requests/${id}`, { as: users.poc, via: proc });
        assert.equal(seen.body.status, last!.body.status, `${proc.name} reads the decided request`);
      }
      await Promise.all(
        streams.map((stream, i) =>
          waitFor(`the decision on the stream of ${procs[i]!.name}`, () =>
            stream.of(id).some((e) => e.type === 'request.decision'),
          ),
        ),
      );
      const kinds = streams.map((stream) => stream.of(id).map((e) => `${e.seq} ${e.type}`));
      assert.equal(kinds[0]!.filter((k) => k.endsWith(' request.vote')).length, 4, kinds[0]!.join('\n'));
      assert.deepEqual(kinds[1], kinds[0], 'b streamed what a streamed, in the same order');
      assert.deepEqual(kinds[2], kinds[0], 'c streamed what a streamed, in the same order');
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it('fires a clock that is due exactly once across the three schedulers', async () => {
    const streams = await Promise.all(procs.map((proc) => EventStream.open(proc, users.poc!)));
    try {
      const now = Date.now();
      // Aware of the incident 40 days ago: the NIS2 early warning and notification are overdue the
      // moment it is submitted (the final report's month starts only when the notification is filed).
      const body = requestBody({
        tlp: 'green',
        window: { from: new Date(now + DAY).toISOString(), to: new Date(now + 8 * DAY).toISOString() },
        awareAt: new Date(now - 40 * DAY).toISOString(),
      });
      const filed = await call('POST', '/requests', { as: users.poc, body });
      assert.equal(filed.status, 201, JSON.stringify(filed.body));
      const id = filed.body.id;
      assert.equal((await call('POST', `/requests/${id}/submit`, { as: users.poc })).status, 200);
      await waitFor('the two NIS2 clocks to be escalated', async () => {
        return (await auditCount('request.deadline.overdue', id)) >= 2;
      });
      // Every scheduler ticks every second; let each of them pass over the request a few more times.
      await new Promise((r) => setTimeout(r, 3_500));
      assert.equal(await auditCount('request.deadline.overdue', id), 2, 'each clock escalated once, in all');
      const clocks = (await call('GET', `/requests/${id}`, { as: users.poc })).body.deadlines;
      for (const kind of ['nis2_early_warning', 'nis2_notification']) {
        assert.equal(clocks.find((d: any) => d.kind === kind).state, 'overdue', kind);
      }
      await Promise.all(
        streams.map((stream, i) =>
          waitFor(
            `the escalations on the stream of ${procs[i]!.name}`,
            () => stream.of(id).filter((e) => e.type.endsWith('deadline.overdue')).length >= 2,
          ),
        ),
      );
      for (const [i, stream] of streams.entries()) {
        const overdue = stream.of(id).filter((e) => e.type.endsWith('deadline.overdue'));
        assert.equal(overdue.length, 2, `${procs[i]!.name} streamed each escalation once`);
      }
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it("caps one user's live event streams over the three processes together, not on each", async () => {
    /** Opens a stream on `proc`; its status, and a way to close it. */
    const open = async (proc: Proc) => {
      const abort = new AbortController();
      const response = await fetch(`${proc.base}/api/v1/events`, {
        headers: users.eeAnalyst!.headers,
        signal: abort.signal,
      });
      if (response.status !== 200) await response.body?.cancel();
      return { status: response.status, via: proc.name, close: () => abort.abort() };
    };
    const streams: Awaited<ReturnType<typeof open>>[] = [];
    try {
      // Five, the node's cap, spread over the processes (two, two and one).
      for (const proc of [a(), b(), c(), a(), b()]) streams.push(await open(proc));
      assert.deepEqual(
        streams.map((s) => s.status),
        [200, 200, 200, 200, 200],
      );
      for (const proc of procs) {
        const sixth = await open(proc);
        assert.equal(sixth.status, 429, `${proc.name} counts the streams held on the others`);
      }
      // One closed on a frees a place on c, once a has seen the close.
      streams.shift()!.close();
      let again = await open(c());
      await waitFor('the closed stream to give its place back', async () => {
        if (again.status === 200) return true;
        again = await open(c());
        return again.status === 200;
      });
      streams.push(again);
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it('counts failed logins over the three processes together: the sixth in a minute is refused on any', async () => {
    const statuses: number[] = [];
    // Five failures a minute from one address (logins that succeed do not count): the sixth attempt
    // is refused, though each process has seen only two.
    for (let i = 0; i < 6; i++) {
      const answer = await call('POST', '/session', { body: { name: 'lt.poc', password: `wrong ${i}` } });
      statuses.push(answer.status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
    for (const proc of procs) {
      const refused = await call('POST', '/session', { body: { name: 'lt.poc', password }, via: proc });
      assert.equal(refused.status, 429, `${proc.name}: even the right password waits for the minute`);
      assert.match(
        refused.body.error.message,
        /too many failed logins from your address; try again in \d+ s/,
      );
    }
  });

  it('stops cleanly, each process signing under the one key, leaving one intact audit chain', async () => {
    for (const proc of procs) {
      const code = await stopProcess(proc);
      assert.equal(code, 0, `${proc.name}: ${proc.stderr()}`);
    }
    const verified = await control.services.audit.verify();
    assert.equal(verified.ok, true, JSON.stringify(verified));
  });
});
