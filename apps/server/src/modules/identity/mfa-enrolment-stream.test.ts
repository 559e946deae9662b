import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../../cli/commands.ts';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { fileRequest } from '../../test/requests.fixtures.ts';

const PASSWORD = 'correct horse battery staple';
/** How long the test waits for what it expects before it fails (never to prove an absence). */
const WAIT_MS = 5_000;

/** One open GET /api/v1/events on a real socket: the request ids it carried, and when it ended. */
class Stream {
  readonly requestIds: string[] = [];
  status = 0;
  endedCleanly = false;
  readonly done: Promise<void>;
  private buffer = '';
  private wake: (() => void) | null = null;

  constructor(
    private readonly request: http.ClientRequest,
    response: http.IncomingMessage,
  ) {
    this.status = response.statusCode ?? 0;
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
        const data = this.buffer
          .slice(0, end)
          .split('\n')
          .find((line) => line.startsWith('data:'));
        this.buffer = this.buffer.slice(end + 2);
        if (data) this.requestIds.push(JSON.parse(data.slice(5)).requestId);
      }
      this.wake?.();
    });
    response.on('end', () => {
      this.endedCleanly = true;
    });
    this.done = new Promise((resolve) => response.on('close', resolve));
  }

  async sees(requestId: string) {
    const deadline = Date.now() + WAIT_MS;
    while (!this.requestIds.includes(requestId)) {
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`no event about ${requestId} within ${WAIT_MS} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close() {
    this.request.destroy();
  }
}

describe('VYTIS_REQUIRE_MFA=admins and live events', () => {
  let node: TestNode;
  let port: number;
  let eePoc: TestUser;
  let plPoc: TestUser;
  const streams: Stream[] = [];

  before(async () => {
    node = await startTestNode({ loginAttemptsPerMinute: 1000, requireMfa: 'admins' });
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    port = (node.app.server.address() as AddressInfo).port;
    eePoc = await node.user('ee.poc', 'EE', ['poc']);
    plPoc = await node.user('pl.poc', 'PL', ['poc']);
  });
  after(async () => {
    for (const stream of streams) stream.close();
    await node.close();
  });

  const connect = (cookie: string) =>
    new Promise<Stream>((resolve, reject) => {
      const request = http.get(
        { host: '127.0.0.1', port, path: '/api/v1/events', headers: { accept: 'text/event-stream', cookie } },
        (response) => {
          const stream = new Stream(request, response);
          streams.push(stream);
          resolve(stream);
        },
      );
      request.on('error', reject);
    });

  const draft = async (poc: TestUser, title: string) => {
    const res = await fileRequest(node, poc, { tlp: 'green', title });
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  };

  it('ends the stream of a session made admin, which must now enrol a second factor first', async () => {
    await node.user('ee.rising', 'EE', ['analyst'], PASSWORD);
    const login = await node.request({
      method: 'POST',
      url: '/api/v1/session',
      payload: { name: 'ee.rising', password: PASSWORD },
    });
    assert.equal(login.statusCode, 200, login.body);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const stream = await connect(cookie);
    assert.equal(stream.status, 200);
    await stream.sees(await draft(eePoc, 'A draft of my own party'));

    const promoted = await runCommand(node.services, {
      name: 'user.roles',
      userName: 'ee.rising',
      roles: ['admin', 'analyst'],
    });
    assert.equal(promoted.exitCode, 0);
    // Another party's draft: only its party and admins see it, and this admin has no second factor.
    const hidden = await draft(plPoc, 'A draft only admins may see');
    const ended = await Promise.race([
      stream.done.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), WAIT_MS)),
    ]);
    assert.ok(ended, 'the stream ended');
    assert.ok(stream.endedCleanly, 'the server finished the response');
    assert.ok(!stream.requestIds.includes(hidden), 'it carried nothing an admin alone may see');

    const again = await connect(cookie);
    assert.equal(again.status, 403, 'nor may the session open a new one before enrolling');
  });
});
