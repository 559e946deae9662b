import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { buildApp } from '../app.ts';
import { parseConfig } from '../config.ts';
import { ANONYMOUS } from '../context.ts';
import { startTestNode, type TestNode, type TestUser } from '../test/harness.ts';
import { DenialLimiter } from './denial-limiter.ts';
import { DEFAULT_HTTP_LIMITS } from './timeouts.ts';

/** How long a test waits for something it expects before it fails (never to prove an absence). */
const WAIT_MS = 10_000;

describe('hardening: floods, streams and slow clients', () => {
  let node: TestNode;
  let analyst: TestUser;

  before(async () => {
    node = await startTestNode({ deniedAuditedPerMinute: 10 });
    analyst = await node.user('lt.prober', 'LT', ['analyst']);
  });
  after(() => node.close());

  const deniedRows = async (action: string) =>
    (await node.services.audit.page({ action }, 'asc', 1000)).items as { summary: Record<string, any> }[];

  it('a flood of bad tokens grows the audit log by a bounded number of rows, and counts every one', async () => {
    const before = (await deniedRows('access.denied')).length;
    for (let i = 0; i < 200; i++) {
      const res = await node.request({
        method: 'GET',
        url: '/api/v1/cases',
        headers: { authorization: 'Bearer vyt_guessing-a-token' },
      });
      assert.equal(res.statusCode, 401);
    }
    assert.equal(
      (await deniedRows('access.denied')).length - before,
      10,
      'the first ten are written one by one',
    );
    assert.equal(
      (await deniedRows('access.denied.aggregated')).length,
      0,
      'the rest wait for the window to end',
    );
    // The minute ends; the next denial (or the node's timer) writes the count.
    node.clock.advance(61_000);
    const next = await node.request({ method: 'GET', url: '/api/v1/cases' });
    assert.equal(next.statusCode, 401);
    const aggregated = await deniedRows('access.denied.aggregated');
    assert.equal(aggregated.length, 1);
    assert.equal(aggregated[0]!.summary.count, 190);
    assert.deepEqual(aggregated[0]!.summary.statuses, { 401: 190 });
    assert.deepEqual(aggregated[0]!.summary.routes, ['GET /api/v1/cases']);
    assert.equal(
      (await deniedRows('access.denied')).length - before,
      11,
      'a new window starts one by one again',
    );
  });

  it('counts a signed-in user’s forbidden calls under that user, apart from other sources', async () => {
    const before = (await deniedRows('access.denied')).length;
    for (let i = 0; i < 30; i++) {
      const res = await node.request({ method: 'GET', url: '/api/v1/audit', headers: analyst.headers });
      assert.equal(res.statusCode, 403);
    }
    assert.equal((await deniedRows('access.denied')).length - before, 10);
    node.clock.advance(61_000);
    await node.request({ method: 'GET', url: '/api/v1/audit', headers: analyst.headers });
    const aggregated = await deniedRows('access.denied.aggregated');
    const mine = aggregated.find((row) => row.summary.count === 20);
    assert.ok(mine, JSON.stringify(aggregated.map((r) => r.summary)));
    assert.deepEqual(mine.summary.statuses, { 403: 20 });
  });
});

describe("hardening: a source's denials are counted for the node, not for one of its processes", () => {
  let node: TestNode;

  before(async () => {
    node = await startTestNode({ deniedAuditedPerMinute: 10 });
  });
  after(() => node.close());

  it('one window over all processes, and a count outlives the process that made it', async () => {
    // A second process of the node: its own app on the same database.
    const { app: other } = await buildApp(
      { database: node.database, clock: node.clock, key: node.services.key, secrets: node.services.secrets },
      {
        deniedAuditedPerMinute: 10,
        schemaCompilation: 'on-first-use',
        evidenceDir: path.join(node.dataDir, 'evidence'),
      },
    );
    const probe = (through: { inject: TestNode['request'] }) =>
      through.inject({
        method: 'GET',
        url: '/api/v1/cases',
        remoteAddress: '198.51.100.7',
        headers: { authorization: 'Bearer vyt_guessing-a-token' },
      });
    const rows = async (action: string, objectId?: string) =>
      (await node.services.audit.page({ action, objectId }, 'asc', 1000)).items as {
        summary: Record<string, any>;
      }[];
    const before = (await rows('access.denied')).length;
    try {
      for (let i = 0; i < 6; i++) {
        assert.equal((await probe({ inject: node.request })).statusCode, 401);
        assert.equal((await probe(other)).statusCode, 401);
      }
      assert.equal((await rows('access.denied')).length - before, 10, 'ten one by one, for the node');
    } finally {
      // Gone with its windows open (as a crashed process would be): their counts are the node's.
      await other.close();
    }
    node.clock.advance(61_000);
    await node.services.audit.seal();
    assert.equal((await probe({ inject: node.request })).statusCode, 401);
    const aggregated = await rows('access.denied.aggregated', 'address:198.51.100.7');
    assert.equal(aggregated.length, 1);
    assert.equal(aggregated[0]!.summary.count, 2);
    assert.deepEqual(aggregated[0]!.summary.statuses, { 401: 2 });
  });
});

describe('hardening: the denial limiter under floods of sources and of denials', () => {
  let node: TestNode;
  const ctx = { actor: ANONYMOUS, requestId: null };
  const denial = (route: string) => ({
    action: 'access.denied',
    objectType: 'route',
    objectId: route,
    summary: { status: 401 },
  });
  const limiter = (scope: string, options: { perWindow: number; maxSources?: number }) =>
    new DenialLimiter({
      db: node.database.db,
      clock: node.clock,
      audit: node.services.audit,
      scope,
      ...options,
    });
  const events = async (action: string) =>
    (await node.services.audit.page({ action }, 'asc', 5000)).items as {
      object: { id: string | null };
      summary: Record<string, any>;
    }[];

  before(async () => {
    node = await startTestNode();
  });
  after(() => node.close());

  it('past maxSources sources a window, new ones share one: rotating addresses cannot write an event each', async () => {
    const denials = limiter('rotating', { perWindow: 1, maxSources: 2 });
    const before = (await events('access.denied')).length;
    for (const source of ['2001:db8:1::', '2001:db8:2::', '2001:db8:3::', '2001:db8:4::', '2001:db8:5::']) {
      await denials.deny(`address:${source}`, ctx, denial('GET /api/v1/cases'));
    }
    assert.equal((await events('access.denied')).length - before, 3, 'two sources and the shared one');
    const user = { type: 'user' as const, id: 'u-1', name: 'lt.curious', party: 'LT', roles: [] };
    await denials.deny('user:u-1', { actor: user, requestId: null }, denial('GET /api/v1/cases'));
    const mine = (await events('access.denied')).at(-1) as unknown as { actor: { name: string } };
    assert.equal(mine.actor.name, 'lt.curious', 'a signed-in user keeps a window of their own');
    node.clock.advance(61_000);
    await denials.flushDue();
    const shared = (await events('access.denied.aggregated')).filter((e) => e.object.id === 'others');
    assert.deepEqual(
      shared.map((e) => [e.summary.count, (e as unknown as { actor: { name: string } }).actor.name]),
      [[2, 'anonymous']],
    );
  });

  it('writes a denial on its own, with no error, when its window keeps ending under a skewed process', async () => {
    // Another process whose clock is over a window behind restarts the window each time this one
    // ends it: a trigger does it here at once, every time, in the same transaction.
    const skewed = limiter('skewed', { perWindow: 1 });
    const source = 'address:203.0.113.99';
    await skewed.deny(source, ctx, denial('GET /api/v1/cases'));
    await skewed.deny(source, ctx, denial('GET /api/v1/cases'));
    const { db } = node.database;
    try {
      await sql`create function restart_skewed_window() returns trigger language plpgsql as $$
        begin
          insert into denial_windows select old.* on conflict do nothing;
          return old;
        end $$`.execute(db);
      await sql`create trigger restart_skewed_window after delete on denial_windows
        for each row when (old.key like 'skewed:%') execute function restart_skewed_window()`.execute(db);
      node.clock.advance(61_000);
      const before = (await events('access.denied')).length;
      await skewed.deny(source, ctx, denial('GET /api/v1/requests'));
      const written = (await events('access.denied')).slice(before);
      assert.deepEqual(
        written.map((e) => e.object.id),
        ['GET /api/v1/requests'],
        'the denial is in the log',
      );
    } finally {
      await sql`drop trigger if exists restart_skewed_window on denial_windows`.execute(db);
      await sql`drop function if exists restart_skewed_window()`.execute(db);
      await sql`delete from denial_windows where key like 'skewed:%'`.execute(db);
    }
  });

  it('counts every denial of a flood, and writes many ended windows in batches', async () => {
    const flood = limiter('flood', { perWindow: 1 });
    for (let i = 0; i < 300; i++) await flood.deny('address:192.0.2.50', ctx, denial('GET /api/v1/requests'));
    const many = limiter('many', { perWindow: 0, maxSources: 1000 });
    for (let i = 0; i < 600; i++)
      await many.deny(`address:198.18.${i >> 8}.${i & 255}`, ctx, denial('GET /api/v1/me'));
    node.clock.advance(61_000);
    await flood.flushDue();
    const aggregated = await events('access.denied.aggregated');
    const fromFlood = aggregated.filter((e) => e.object.id === 'address:192.0.2.50');
    assert.deepEqual(
      fromFlood.map((e) => [e.summary.count, e.summary.written]),
      [[299, 1]],
    );
    assert.equal(aggregated.filter((e) => e.object.id?.startsWith('address:198.18.')).length, 600);
    const left = await node.database.db.selectFrom('denial_windows').select('key').execute();
    assert.deepEqual(left, [], 'every ended window is written and gone');
  });
});

describe('hardening: live event streams and slow clients on a real socket', () => {
  let node: TestNode;
  let analyst: TestUser;
  let port: number;

  before(async () => {
    node = await startTestNode({
      eventStreamsPerUser: 5,
      http: {
        ...DEFAULT_HTTP_LIMITS,
        headersTimeoutMs: 500,
        bodyMinBytesPerSecond: 1000,
        bodyGraceMs: 300,
        checkIntervalMs: 100,
      },
    });
    analyst = await node.user('lt.streamer', 'LT', ['analyst']);
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    port = (node.app.server.address() as AddressInfo).port;
  });
  after(() => node.close());

  const openStream = (headers: Record<string, string>) =>
    new Promise<{ status: number; body: Promise<string>; close(): void }>((resolve, reject) => {
      const request = http.get({ host: '127.0.0.1', port, path: '/api/v1/events', headers }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          text += chunk;
        });
        const body = new Promise<string>((done) => response.on('close', () => done(text)));
        resolve({ status: response.statusCode ?? 0, body, close: () => request.destroy() });
      });
      request.on('error', reject);
    });

  it('refuses a sixth live event stream of one user with 429, and frees the slot of a closed one', async () => {
    const streams = [];
    for (let i = 0; i < 5; i++) {
      const stream = await openStream(analyst.headers);
      assert.equal(stream.status, 200);
      streams.push(stream);
    }
    const sixth = await openStream(analyst.headers);
    assert.equal(sixth.status, 429);
    assert.match(JSON.parse(await sixth.body).error.message, /already have 5 live event streams open/);
    // Another user is not affected.
    const other = await node.user('ee.streamer', 'EE', ['analyst']);
    const theirs = await openStream(other.headers);
    assert.equal(theirs.status, 200);
    theirs.close();
    // Closing one frees its slot (once the node has seen the close).
    streams.pop()!.close();
    const deadline = Date.now() + WAIT_MS;
    let again = await openStream(analyst.headers);
    while (again.status === 429 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      again = await openStream(analyst.headers);
    }
    assert.equal(again.status, 200);
    for (const stream of [...streams, again]) stream.close();
  });

  it('keeps no place for a client that went away before its stream began', async () => {
    const user = await node.user('lt.hasty', 'LT', ['analyst']);
    // Ten clients that hang up as soon as they have asked: none of them may hold one of the five places.
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.write(
            `GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${user.headers.authorization}\r\n\r\n`,
            () => {
              socket.destroy();
              resolve();
            },
          );
        });
      });
    }
    const deadline = Date.now() + WAIT_MS;
    const held = async () =>
      Number(
        (
          await node.database.db
            .selectFrom('event_stream_claims')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('holder', '=', user.id)
            .executeTakeFirstOrThrow()
        ).n,
      );
    while ((await held()) > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await held(), 0, 'every place given back');
    const stream = await openStream(user.headers);
    assert.equal(stream.status, 200);
    stream.close();
  });

  it('cuts an upload whose body trickles in with a 408, and a request whose headers never end', async () => {
    const answer = (send: (socket: net.Socket) => void) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => send(socket));
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk) => {
          text += chunk;
        });
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
        socket.setTimeout(WAIT_MS, () => {
          socket.destroy();
          reject(new Error('the node kept the connection open'));
        });
      });
    const slowBody = await answer((socket) => {
      socket.write(
        `POST /api/v1/cases HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: ${analyst.headers.authorization}\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n{"title":`,
      );
    });
    assert.match(slowBody, /^HTTP\/1\.1 408/);
    assert.match(slowBody, /arrived too slowly/);
    const slowHeaders = await answer((socket) => {
      socket.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ');
    });
    assert.match(slowHeaders, /^HTTP\/1\.1 408/);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200, 'the node still answers');
  });
});

describe('hardening: limits are configured', () => {
  it('has sane defaults, takes the environment, and says what is wrong', () => {
    const defaults = parseConfig({});
    assert.ok(defaults.ok);
    assert.equal(defaults.config.eventStreamsPerUser, 5);
    assert.equal(defaults.config.deniedAuditedPerMinute, 10);
    assert.deepEqual(defaults.config.http, DEFAULT_HTTP_LIMITS);
    const set = parseConfig({
      VYTIS_HTTP_IDLE_TIMEOUT_SECONDS: '30',
      VYTIS_UPLOAD_MIN_BYTES_PER_SECOND: '1024',
    });
    assert.ok(set.ok);
    assert.equal(set.config.http.idleTimeoutMs, 30_000);
    assert.equal(set.config.http.bodyMinBytesPerSecond, 1024);
    const wrong = parseConfig({
      VYTIS_HTTP_HEADERS_TIMEOUT_SECONDS: '120',
      VYTIS_HTTP_REQUEST_TIMEOUT_SECONDS: '60',
    });
    assert.equal(wrong.ok, false);
    assert.match(
      !wrong.ok ? wrong.problems.join('\n') : '',
      /VYTIS_HTTP_HEADERS_TIMEOUT_SECONDS must not be longer/,
    );
    const zero = parseConfig({ VYTIS_EVENT_STREAMS_PER_USER: '0' });
    assert.equal(zero.ok, false);
  });
});
