import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { NewRequest, Notification } from '@vytis/contracts';
import { buildApp } from '../../app.ts';
import { openDatabase } from '../../platform/db/database.ts';
import { json, onPostgres, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { fileRequest, vote } from '../../test/requests.fixtures.ts';

/** How long a test waits for an event it expects before it fails (never to prove an absence). */
const WAIT_MS = 5_000;

/** One open GET /api/v1/events on a real socket, parsed frame by frame as it arrives. */
class EventStream {
  /** Every event frame received, in order. */
  readonly events: Notification[] = [];
  /** `id:` and `event:` lines of each event frame, as sent. */
  readonly frames: { id: string | undefined; event: string | undefined }[] = [];
  readonly retries: string[] = [];
  /** The whole body as received (for error answers). */
  text = '';
  /** True once the response ended properly (the server finished it); false if it was cut. */
  endedCleanly = false;
  closed = false;
  readonly done: Promise<void>;
  private buffer = '';
  private consumed = 0;
  private wake: (() => void) | null = null;

  constructor(
    readonly response: http.IncomingMessage,
    private readonly request: http.ClientRequest,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.text += chunk;
      this.buffer += chunk;
      this.parse();
      this.poke();
    });
    response.on('end', () => {
      this.endedCleanly = true;
    });
    this.done = new Promise((resolve) => {
      response.on('close', () => {
        this.closed = true;
        this.poke();
        resolve();
      });
    });
  }

  get status() {
    return this.response.statusCode;
  }

  private poke() {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private parse() {
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const fields: Record<string, string> = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue; // a comment (keep-alive)
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        fields[name] = name === 'data' && fields.data !== undefined ? `${fields.data}\n${value}` : value;
      }
      if (fields.retry !== undefined) this.retries.push(fields.retry);
      if (fields.data === undefined) continue;
      this.frames.push({ id: fields.id, event: fields.event });
      this.events.push(JSON.parse(fields.data) as Notification);
    }
  }

  /**
   * Reads events (those not read yet) until one satisfies `predicate`, and returns all it read,
   * the matching one last. Fails if none arrives within WAIT_MS or the stream ends first.
   */
  async until(predicate: (event: Notification) => boolean, what: string): Promise<Notification[]> {
    const deadline = Date.now() + WAIT_MS;
    const read: Notification[] = [];
    for (;;) {
      while (this.consumed < this.events.length) {
        const event = this.events[this.consumed++]!;
        read.push(event);
        if (predicate(event)) return read;
      }
      const left = deadline - Date.now();
      if (this.closed || left <= 0) {
        assert.fail(
          `${what}: ${this.closed ? 'the stream ended' : `nothing within ${WAIT_MS} ms`}; read ${show(read)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Reads until the event of `type` about `requestId`. */
  through(requestId: string, type: string) {
    return this.until(
      (e) => e.requestId === requestId && e.type === type,
      `waiting for ${type} of request ${requestId}`,
    );
  }

  close() {
    this.request.destroy();
  }
}

const show = (events: Notification[]) =>
  `[${events.map((e) => `${e.seq} ${e.type} ${e.requestId}`).join(', ')}]`;
const kinds = (events: Notification[]) => events.map((e) => e.type);

describe('live events (GET /api/v1/events)', () => {
  let node: TestNode;
  let port: number;
  const agent = new http.Agent({ keepAlive: true });
  const open: EventStream[] = [];
  /** The TLP of every request this file filed, and which of them were submitted. */
  const tlpOf = new Map<string, string>();
  const submitted = new Set<string>();
  let eePoc: TestUser;
  let eeResponder: TestUser;
  let plPoc: TestUser;
  let coordinator: TestUser;
  let ltCouncil: TestUser;
  let fiPoc: TestUser;
  let fiCouncil: TestUser;
  let plResponder: TestUser;
  let admin: TestUser;

  /** Opens the stream as `user` (anonymous when null) and resolves once the answer's head arrived. */
  function connect(
    user: TestUser | null,
    options: { lastEventId?: string; query?: string } = {},
  ): Promise<EventStream> {
    return new Promise((resolve, reject) => {
      const request = http.get(
        {
          host: '127.0.0.1',
          port,
          agent,
          path: `/api/v1/events${options.query ?? ''}`,
          headers: {
            accept: 'text/event-stream',
            ...(user ? user.headers : {}),
            ...(options.lastEventId !== undefined ? { 'last-event-id': options.lastEventId } : {}),
          },
        },
        (response) => {
          const stream = new EventStream(response, request);
          open.push(stream);
          resolve(stream);
        },
      );
      request.on('error', reject);
    });
  }

  async function file(poc: TestUser, overrides: Partial<NewRequest> = {}) {
    const created = await fileRequest(node, poc, overrides);
    assert.equal(created.statusCode, 201, created.body);
    const id = json(created).id as string;
    tlpOf.set(id, overrides.tlp ?? 'amber');
    return id;
  }

  async function submit(poc: TestUser, id: string) {
    const res = await node.request({
      method: 'POST',
      url: `/api/v1/requests/${id}/submit`,
      headers: poc.headers,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(json(res).status, 'voting');
    submitted.add(id);
    return id;
  }

  const fileAndSubmit = async (poc: TestUser, overrides: Partial<NewRequest> = {}) =>
    submit(poc, await file(poc, overrides));

  before(async () => {
    node = await startTestNode();
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    port = (node.app.server.address() as AddressInfo).port;
    eePoc = await node.user('ee.poc', 'EE', ['poc']);
    eeResponder = await node.user('ee.responder', 'EE', ['responder']);
    plPoc = await node.user('pl.poc', 'PL', ['poc']);
    coordinator = await node.user('hr.coordinator', 'HR', ['coordinator']);
    ltCouncil = await node.user('lt.council', 'LT', ['council']);
    fiPoc = await node.user('fi.poc', 'FI', ['poc']);
    fiCouncil = await node.user('fi.council', 'FI', ['council']);
    plResponder = await node.user('pl.responder', 'PL', ['responder']);
    admin = await node.user('admin', 'NL', ['admin']);
  });

  after(async () => {
    for (const stream of open) stream.close();
    agent.destroy();
    await node.close();
  });

  const closeAll = () => {
    for (const stream of open.splice(0)) stream.close();
  };

  // A stream without Last-Event-ID starts at the newest event. Tests that are not about drafts file
  // their drafts before connecting, so that they check only what they are about.

  it('streams an AMBER request live to its party, the coordinators and the council of voting parties', async () => {
    const id = await file(eePoc, { tlp: 'amber', title: 'Wiper on the port authority' });
    const [requester, coord, council] = await Promise.all([
      connect(eePoc),
      connect(coordinator),
      connect(ltCouncil),
    ]);
    for (const stream of [requester, coord, council]) {
      assert.equal(stream.status, 200);
      assert.match(String(stream.response.headers['content-type']), /^text\/event-stream/);
    }

    await submit(eePoc, id);
    const voted = await vote(node, ltCouncil, id, 'activate');
    assert.equal(voted.statusCode, 200, voted.body);

    for (const stream of [requester, coord, council]) {
      assert.deepEqual(kinds(await stream.through(id, 'request.vote')), [
        'request.submitted',
        'request.voting',
        'request.vote',
      ]);
    }

    // Each frame names its event and carries its sequence number as the id, in order.
    const events = requester.events;
    events.forEach((event, i) => {
      assert.equal(requester.frames[i]!.id, String(event.seq));
      assert.equal(requester.frames[i]!.event, event.type);
      if (i > 0) assert.ok(event.seq > events[i - 1]!.seq, 'ids increase');
    });
    assert.deepEqual(requester.retries, ['3000'], 'the stream tells clients how soon to reconnect');
    const votingEvent = events.find((e) => e.type === 'request.voting')!;
    assert.equal(votingEvent.requestId, id);
    assert.equal(votingEvent.exercise, false);
    assert.equal(votingEvent.at, node.clock.now().toISOString());
    assert.equal(votingEvent.data.title, 'Wiper on the port authority');
    assert.equal(votingEvent.data.party, 'EE');
    assert.equal(votingEvent.data.from, 'submitted');
    assert.equal(votingEvent.data.to, 'voting');
    assert.equal(votingEvent.data.status, 'voting');
    assert.equal(votingEvent.data.exercise, false);
    const voteEvent = events.find((e) => e.type === 'request.vote')!;
    assert.equal(voteEvent.data.voter, 'LT');
    assert.equal(voteEvent.data.vote, 'activate');
    assert.equal(voteEvent.data.party, 'EE', "the request's party");
    // Everyone who sees the request sees the same events.
    assert.deepEqual(coord.events, events);
    assert.deepEqual(council.events, events);
    closeAll();
  });

  it('does not stream an AMBER request to observers, observer councils or responders of other parties', async () => {
    const amber = await file(eePoc, { tlp: 'amber', title: 'Amber: ministry mail server' });
    const green = await file(eePoc, { tlp: 'green', title: 'Green: DDoS on e-government' });
    const [watcher, observer, observerCouncil, otherResponder] = await Promise.all([
      connect(eePoc),
      connect(fiPoc),
      connect(fiCouncil),
      connect(plResponder),
    ]);
    await submit(eePoc, amber);
    await watcher.through(amber, 'request.voting'); // published and committed
    await submit(eePoc, green);
    await watcher.through(green, 'request.voting');

    // Events arrive in sequence order: had any AMBER event reached them, it would have come first.
    for (const stream of [observer, observerCouncil, otherResponder]) {
      const read = await stream.through(green, 'request.voting');
      assert.deepEqual(
        read.map((e) => [e.requestId, e.type]),
        [
          [green, 'request.submitted'],
          [green, 'request.voting'],
        ],
        'the GREEN events come first and alone',
      );
      assert.equal(read[0]!.data.title, 'Green: DDoS on e-government');
    }
    closeAll();
  });

  it("streams a draft's events live to its own party (and admins) only", async () => {
    const marker = await file(plPoc, { tlp: 'green', title: 'Marker: PL green request' });
    const [requester, colleague, adminStream, coord, council, observer] = await Promise.all([
      connect(eePoc),
      connect(eeResponder),
      connect(admin),
      connect(coordinator),
      connect(ltCouncil),
      connect(fiPoc),
    ]);
    const draft = await file(eePoc, { tlp: 'clear', title: 'Draft: still being written' });
    const edited = await node.request({
      method: 'PATCH',
      url: `/api/v1/requests/${draft}`,
      headers: eePoc.headers,
      payload: { title: 'Draft: phishing wave on hospitals' },
    });
    assert.equal(edited.statusCode, 200, edited.body);
    await submit(plPoc, marker);

    for (const stream of [requester, colleague, adminStream]) {
      const read = await stream.through(draft, 'request.edited');
      assert.deepEqual(kinds(read), ['request.created', 'request.edited']);
      assert.equal(read[1]!.data.title, 'Draft: phishing wave on hospitals');
      assert.equal(read[1]!.data.status, 'draft');
      await stream.through(marker, 'request.voting');
    }
    // Outside EE, even a CLEAR draft is invisible: the first event they get is the later marker's.
    for (const stream of [coord, council, observer]) {
      const read = await stream.through(marker, 'request.submitted');
      assert.deepEqual(
        read.map((e) => [e.requestId, e.type]),
        [[marker, 'request.submitted']],
      );
      await stream.through(marker, 'request.voting');
    }

    // Once submitted, the others get it from its submission on, not its drafting.
    await submit(eePoc, draft);
    for (const stream of [coord, council, observer]) {
      assert.deepEqual(kinds(await stream.through(draft, 'request.voting')), [
        'request.submitted',
        'request.voting',
      ]);
    }
    closeAll();
  });

  it('replays exactly the missed visible events after Last-Event-ID, then goes on live', async () => {
    const seenLive = await file(eePoc, { tlp: 'amber', title: 'Seen live' });
    const missedAmber = await file(eePoc, { tlp: 'amber', title: 'Missed amber' });
    const missedGreen = await file(plPoc, { tlp: 'green', title: 'Missed green' });
    const afterReplay = await file(eePoc, { tlp: 'red', title: 'After the replay' });

    const first = await connect(ltCouncil);
    await submit(eePoc, seenLive);
    const live = await first.through(seenLive, 'request.voting');
    const lastId = first.frames.at(-1)!.id!;
    assert.equal(lastId, String(live.at(-1)!.seq));
    first.close();
    await first.done;

    // While it is away: an AMBER request it may see, a draft of another party it may not, a GREEN one.
    await submit(eePoc, missedAmber);
    const hiddenDraft = await file(plPoc, { tlp: 'green', title: 'PL draft' });
    await submit(plPoc, missedGreen);

    const resumed = await connect(ltCouncil, { lastEventId: lastId });
    assert.equal(resumed.status, 200);
    const replayed = await resumed.through(missedGreen, 'request.voting');
    assert.deepEqual(
      replayed.map((e) => [e.requestId, e.type]),
      [
        [missedAmber, 'request.submitted'],
        [missedAmber, 'request.voting'],
        [missedGreen, 'request.submitted'],
        [missedGreen, 'request.voting'],
      ],
    );
    assert.ok(replayed[0]!.seq > Number(lastId), 'nothing it already had');
    assert.ok(!replayed.some((e) => e.requestId === hiddenDraft));
    // And then it is live again.
    await submit(eePoc, afterReplay);
    assert.deepEqual(kinds(await resumed.through(afterReplay, 'request.voting')), [
      'request.submitted',
      'request.voting',
    ]);
    closeAll();
  });

  it("replays everything visible with ?since=0, still filtered: others never get a request's drafting", async () => {
    const lastGreen = await fileAndSubmit(plPoc, { tlp: 'clear', title: 'Last of the replay' });
    const end = await node.database.db
      .selectFrom('notifications')
      .select('seq')
      .where('request_id', '=', lastGreen)
      .where('type', '=', 'request.voting')
      .executeTakeFirstOrThrow();
    // Every event so far, as published: which request, and its status then.
    const published = (
      await node.database.db
        .selectFrom('notifications')
        .select(['seq', 'request_id', 'data'])
        .where('seq', '<=', end.seq)
        .orderBy('seq')
        .execute()
    ).map((n) => {
      assert.ok(tlpOf.has(n.request_id!), `event ${n.seq} is about a request this file filed`);
      return {
        seq: n.seq,
        tlp: tlpOf.get(n.request_id!)!,
        submitted: submitted.has(n.request_id!),
        whileDraft: (n.data as { status: string }).status === 'draft',
      };
    });
    const earlierGreen = published.filter((n) => n.tlp === 'green' && n.submitted && !n.whileDraft);
    assert.ok(earlierGreen.length >= 6, 'the earlier tests published GREEN events to replay');

    const cases = [
      // An observer: the CLEAR/GREEN requests, from their submission on.
      {
        user: fiPoc,
        sees: (n: (typeof published)[number]) =>
          n.submitted && !n.whileDraft && ['clear', 'green'].includes(n.tlp),
      },
      // A coordinator: every submitted request, from its submission on.
      { user: coordinator, sees: (n: (typeof published)[number]) => n.submitted && !n.whileDraft },
    ];
    for (const { user, sees } of cases) {
      const stream = await connect(user, { query: '?since=0' });
      const everything = await stream.through(lastGreen, 'request.voting');
      const drafting = everything.filter((e) => e.data.status === 'draft');
      assert.deepEqual(
        drafting.map((e) => `${e.seq} ${e.type} of ${e.data.party}`),
        [],
        `${user.name} must not get events published while another party's request was a draft`,
      );
      assert.deepEqual(
        everything.map((e) => e.seq),
        published.filter(sees).map((n) => n.seq),
        `${user.name} replays exactly what it may see`,
      );
    }
    closeAll();
  });

  it('refuses a bad Last-Event-ID or since with a 400, and anonymous or bad credentials with a 401', async () => {
    for (const lastEventId of ['abc', '-1', '1.5', '9'.repeat(16)]) {
      const bad = await connect(eePoc, { lastEventId });
      assert.equal(bad.status, 400, `Last-Event-ID: ${lastEventId}`);
      assert.match(String(bad.response.headers['content-type']), /^application\/json/);
      await bad.done;
      const body = JSON.parse(bad.text);
      assert.deepEqual(Object.keys(body), ['error']);
      assert.equal(body.error.code, 'invalid_input');
      assert.match(body.error.message, /Last-Event-ID/);
      assert.deepEqual(
        body.error.details.map((d: any) => d.field),
        ['headers/last-event-id'],
      );
    }
    for (const query of ['?since=-1', '?since=abc', '?from=3']) {
      const bad = await connect(eePoc, { query });
      assert.equal(bad.status, 400, query);
      await bad.done;
      assert.equal(JSON.parse(bad.text).error.code, 'invalid_input');
    }
    const anonymous = await connect(null);
    assert.equal(anonymous.status, 401);
    await anonymous.done;
    assert.equal(JSON.parse(anonymous.text).error.code, 'unauthenticated');
    const forged = await connect({ ...eePoc, headers: { authorization: 'Bearer vyt_not-a-token' } });
    assert.equal(forged.status, 401);
    await forged.done;
    assert.equal(JSON.parse(forged.text).error.code, 'unauthenticated');
    closeAll();
  });

  it('wakes streams on events committed by another process on the same PostgreSQL database', {
    skip: onPostgres() ? false : 'one process only on the embedded database',
  }, async () => {
    // LISTEN holds a connection of its own, outside the pool.
    const listeners = await node.database.db
      .selectFrom('pg_stat_activity' as any)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('datname' as any, '=', new URL(node.databaseUrl!).pathname.slice(1))
      .where('query' as any, 'ilike', 'LISTEN %')
      .executeTakeFirstOrThrow();
    assert.ok(Number(listeners.n) >= 1, 'a connection listens for events');

    const otherDatabase = await openDatabase({ databaseUrl: node.databaseUrl, poolSize: 2 });
    const other = await buildApp({
      database: otherDatabase,
      clock: node.clock,
      key: node.services.key,
      secrets: node.services.secrets,
    });
    try {
      const id = await file(eePoc, { tlp: 'amber', title: 'Filed through another process' });
      const stream = await connect(coordinator);
      const res = await other.app.inject({
        method: 'POST',
        url: `/api/v1/requests/${id}/submit`,
        headers: eePoc.headers,
      });
      assert.equal(res.statusCode, 200, res.body);
      submitted.add(id);
      // Well before the 15 s keep-alive: woken by NOTIFY, not by its timer.
      assert.deepEqual(kinds(await stream.through(id, 'request.voting')), [
        'request.submitted',
        'request.voting',
      ]);
    } finally {
      await other.app.close();
      await otherDatabase.close();
      closeAll();
    }
  });

  it('marks the events of an exercise', async () => {
    const stream = await connect(eePoc);
    const drill = await fileAndSubmit(eePoc, {
      tlp: 'amber',
      exercise: true,
      title: 'EXERCISE Locked Shields',
    });
    const real = await fileAndSubmit(eePoc, { tlp: 'amber', title: 'A real one' });
    const drillEvents = await stream.through(drill, 'request.voting');
    assert.deepEqual(kinds(drillEvents), ['request.created', 'request.submitted', 'request.voting']);
    for (const event of drillEvents) {
      assert.equal(event.exercise, true, event.type);
      assert.equal(event.data.exercise, true, event.type);
    }
    const realEvents = await stream.through(real, 'request.voting');
    assert.deepEqual(kinds(realEvents), ['request.created', 'request.submitted', 'request.voting']);
    for (const event of realEvents) {
      assert.equal(event.exercise, false, event.type);
      assert.equal(event.data.exercise, false, event.type);
    }
    closeAll();
  });

  it('ends the stream once its token is revoked', async () => {
    const temp = await node.user('ee.temp', 'EE', ['poc']);
    const stream = await connect(temp);
    const first = await fileAndSubmit(eePoc, { tlp: 'green', title: 'Seen while the token is good' });
    await stream.until((e) => e.requestId === first && e.type === 'request.voting', 'the first request');
    const tokens = json(await node.request({ method: 'GET', url: '/api/v1/tokens', headers: temp.headers }));
    const revoke = await node.request({
      method: 'DELETE',
      url: `/api/v1/tokens/${tokens.items[0].id}`,
      headers: temp.headers,
    });
    assert.equal(revoke.statusCode, 200, revoke.body);
    const second = await fileAndSubmit(eePoc, { tlp: 'green', title: 'After the revocation' });
    const ended = await Promise.race([
      stream.done.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5000)),
    ]);
    assert.ok(ended, 'the stream ended');
    assert.ok(stream.endedCleanly, 'the server finished the response');
    assert.ok(!stream.events.some((e) => e.requestId === second), 'nothing after the revocation');
  });

  it('starts from the newest event when asked to resume beyond it', async () => {
    const stream = await connect(eePoc, { query: '?since=9007199254740991' });
    const id = await fileAndSubmit(eePoc, { tlp: 'green', title: 'After a far-future resume point' });
    const seen = await stream.until(
      (e) => e.requestId === id && e.type === 'request.voting',
      'the new request',
    );
    assert.ok(seen.some((e) => e.requestId === id && e.type === 'request.submitted'));
    const tooFar = await connect(eePoc, { query: '?since=9007199254740992' });
    assert.equal(tooFar.status, 400);
  });
});

describe('live events when the node stops', () => {
  let node: TestNode;
  let closed = false;

  before(async () => {
    node = await startTestNode();
    await node.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    if (!closed) await node.close();
  });

  it('ends open streams cleanly and closes without hanging', async () => {
    const port = (node.app.server.address() as AddressInfo).port;
    const poc = await node.user('lt.poc', 'LT', ['poc']);
    const keepAlive = new http.Agent({ keepAlive: true });
    const streams = await Promise.all(
      [keepAlive, false as const].map(
        (agent) =>
          new Promise<EventStream>((resolve, reject) => {
            const request = http.get(
              { host: '127.0.0.1', port, agent, path: '/api/v1/events', headers: poc.headers },
              (response) => resolve(new EventStream(response, request)),
            );
            request.on('error', reject);
          }),
      ),
    );
    // The streams are live: an event reaches both before the node stops.
    const created = await fileRequest(node, poc, { title: 'Before the stop' });
    assert.equal(created.statusCode, 201);
    for (const stream of streams) await stream.through(json(created).id, 'request.created');

    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hung'>((resolve) => {
      timer = setTimeout(() => resolve('hung'), 10_000);
    });
    try {
      closed = true; // whatever happens, once: a second close() would wait on the first
      const outcome = await Promise.race([node.close().then(() => 'closed' as const), hang]);
      assert.equal(outcome, 'closed', 'node.close() finishes while event streams are open');
      await Promise.race([Promise.all(streams.map((s) => s.done)), hang]);
      for (const stream of streams) {
        assert.ok(stream.closed, 'the stream is over');
        assert.ok(stream.endedCleanly, 'the server ended the stream, it was not cut');
      }
    } finally {
      clearTimeout(timer);
      for (const stream of streams) stream.close();
      keepAlive.destroy();
    }
  });
});
