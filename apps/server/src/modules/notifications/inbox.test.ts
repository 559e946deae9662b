import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Ctx } from '../../context.ts';
import type { Tx } from '../../platform/db/transaction.ts';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { HOUR, submitRequest } from '../../test/requests.fixtures.ts';
import type { RequestsService } from '../requests/requests.service.ts';
import { Dispatcher } from './dispatch.ts';
import { InboxService } from './inbox.service.ts';
import { MailSink } from './mail-sink.fixtures.ts';

const PUBLIC_URL = 'https://vytis.example';
const TITLE = 'Ransomware at the national grid operator';

describe('notifications: in the app and by e-mail, each person choosing', () => {
  let node: TestNode;
  const sink = new MailSink();
  let poc: TestUser;
  let councilEE: TestUser;
  let councilQuiet: TestUser;
  let councilBE: TestUser;
  let pocEE: TestUser;
  let admin: TestUser;
  let requestId: string;

  const inbox = async (user: TestUser, query = '') => {
    const response = await node.request({
      method: 'GET',
      url: `/api/v1/me/notifications${query}`,
      headers: user.headers,
    });
    assert.equal(response.statusCode, 200, response.body);
    return json(response) as { items: any[]; unreadCount: number; nextCursor: string | null };
  };
  const settings = (user: TestUser, payload: Record<string, unknown>) =>
    node.request({ method: 'PUT', url: '/api/v1/me/notification-settings', headers: user.headers, payload });
  const count = async (table: 'inbox_items' | 'mail_outbox') =>
    Number(
      (
        await node.database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const settle = async () => {
    await node.services.inbox.dispatch();
    await node.services.inbox.sendDue();
  };

  before(async () => {
    await sink.start();
    node = await startTestNode({
      mail: { smtpUrl: sink.url, from: 'vytis@node.example' },
      publicUrl: PUBLIC_URL,
    });
    // The test runs each round itself, so what it sees happened when it says.
    await node.services.inbox.stopBackground();
    poc = await node.user('poc-lt', 'LT', ['poc']);
    councilEE = await node.user('council-ee', 'EE', ['council']);
    councilQuiet = await node.user('council-hr', 'HR', ['council']);
    councilBE = await node.user('council-be', 'BE', ['council']);
    pocEE = await node.user('poc-ee', 'EE', ['poc']);
    admin = await node.user('admin-x', 'LT', ['admin']);
    for (const [user, email] of [
      [councilEE, 'council.ee@example.ee'],
      [councilQuiet, 'council.hr@example.hr'],
      [councilBE, 'council.be@example.be'],
      [pocEE, 'poc.ee@example.ee'],
    ] as const) {
      assert.equal((await settings(user, { email })).statusCode, 200);
    }
    // Croatia's council member wants the vote in the app only.
    const quiet = await settings(councilQuiet, {
      kinds: [{ kind: 'vote.opened', inApp: true, email: false }],
    });
    assert.equal(quiet.statusCode, 200, quiet.body);
  });

  after(async () => {
    await node.close();
    await sink.stop();
  });

  it('has defaults per kind: everything in the app, e-mail only for acts with a clock and clocks run out', async () => {
    const response = await node.request({
      method: 'GET',
      url: '/api/v1/me/notification-settings',
      headers: pocEE.headers,
    });
    assert.equal(response.statusCode, 200, response.body);
    const body = json(response);
    assert.equal(body.email, 'poc.ee@example.ee');
    assert.equal(body.mailConfigured, true);
    const byKind = Object.fromEntries(body.kinds.map((k: any) => [k.kind, k]));
    assert.deepEqual(
      Object.values(byKind)
        .filter((k: any) => k.email)
        .map((k: any) => k.kind)
        .sort(),
      ['acceptance.asked', 'clock.overdue', 'release.asked'],
    );
    assert.equal(byKind['vote.opened'], undefined, 'a PoC has no vote: not offered');
    const council = json(
      await node.request({
        method: 'GET',
        url: '/api/v1/me/notification-settings',
        headers: councilBE.headers,
      }),
    );
    assert.deepEqual(
      council.kinds.filter((k: any) => k.email).map((k: any) => k.kind),
      ['vote.opened', 'clock.overdue'],
    );
    assert.ok(Object.values(byKind).every((k: any) => k.inApp && k.isDefault));
  });

  it('refuses settings it cannot keep, with what to fix', async () => {
    const badEmail = await settings(councilEE, { email: 'not an address' });
    assert.equal(badEmail.statusCode, 400);
    assert.match(badEmail.body, /email/);
    const badKind = await settings(councilEE, { kinds: [{ kind: 'everything', inApp: true, email: true }] });
    assert.equal(badKind.statusCode, 400);
    const unknownField = await settings(councilEE, { pager: true });
    assert.equal(unknownField.statusCode, 400);
    const anonymous = await node.request({ method: 'GET', url: '/api/v1/me/notifications' });
    assert.equal(anonymous.statusCode, 401);
  });

  it('tells a council member of a voting party that a vote opened, in the app and by e-mail', async () => {
    const request = await submitRequest(node, poc);
    requestId = request.id;
    assert.equal(request.status, 'voting');
    await settle();

    const ee = await inbox(councilEE);
    assert.equal(ee.unreadCount, 1);
    assert.equal(ee.items.length, 1);
    const [item] = ee.items;
    assert.equal(item.kind, 'vote.opened');
    assert.equal(item.href, `/requests/${requestId}`);
    assert.equal(item.read, false);
    assert.match(item.title, /Council vote open on “Ransomware at the national grid operator”/);
    assert.equal(item.at, '2026-11-23T12:00:00.000Z');

    const mails = await sink.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Croatia chose no e-mail for votes; Belgium (an observer) and Estonia's PoC have no vote.
    assert.deepEqual(
      sink.received.map((m) => m.to),
      [['council.ee@example.ee']],
    );
    const [mail] = mails;
    assert.equal(mail!.subject, 'Vytis: A council vote waits for your party');
    assert.ok(mail!.body.includes(`${PUBLIC_URL}/requests/${requestId}`), mail!.body);
    assert.ok(mail!.body.includes(`href="${PUBLIC_URL}/requests/${requestId}"`), 'the HTML part links too');
    // TLP:AMBER request: nothing of it in the mail, not even its title.
    assert.ok(!mail!.body.includes(TITLE), 'the request title stays out of the mail');
    assert.ok(!mail!.body.includes('Control systems'), 'the request text stays out of the mail');
  });

  it('reaches only those addressed: the quiet member in the app only, no one outside the council', async () => {
    const hr = await inbox(councilQuiet);
    assert.deepEqual(
      hr.items.map((i) => i.kind),
      ['vote.opened'],
    );
    assert.equal((await inbox(councilBE)).items.length, 0, 'an observer party has no vote');
    assert.equal((await inbox(pocEE)).items.length, 0, 'a PoC is not the council');
  });

  it('does not tell someone who may not see the request', async () => {
    // A copy its origin no longer shows this node (federation): nobody here may see it any more.
    const request = await submitRequest(node, poc, { title: 'Second incident' });
    await node.database.db
      .updateTable('requests')
      .set({ mirror_retracted: true })
      .where('id', '=', request.id)
      .execute();
    await settle();
    const ee = await inbox(councilEE);
    assert.ok(!ee.items.some((i) => i.requestId === request.id), 'no notification of what is not visible');
  });

  it('marks read one by one or all, only the reader’s own', async () => {
    const ee = await inbox(councilEE);
    const [item] = ee.items;
    const others = await node.request({
      method: 'POST',
      url: '/api/v1/me/notifications/read',
      headers: councilQuiet.headers,
      payload: { ids: [item.id] },
    });
    assert.equal(others.statusCode, 200);
    assert.equal(json(others).marked, 0, "someone else's notification is not theirs to mark");

    const marked = await node.request({
      method: 'POST',
      url: '/api/v1/me/notifications/read',
      headers: councilEE.headers,
      payload: { ids: [item.id] },
    });
    assert.equal(marked.statusCode, 200, marked.body);
    assert.deepEqual(json(marked), { marked: 1, unreadCount: 0 });
    const after = await inbox(councilEE);
    assert.equal(after.items[0].read, true);
    assert.equal((await inbox(councilEE, '?unread=true')).items.length, 0);

    const all = await node.request({
      method: 'POST',
      url: '/api/v1/me/notifications/read',
      headers: councilQuiet.headers,
      payload: { all: true },
    });
    assert.deepEqual(json(all), { marked: 1, unreadCount: 0 });
    await node.services.audit.seal();
    const audited = await node.database.db
      .selectFrom('audit_events')
      .select('envelope')
      .where('envelope', 'like', '%"notification.read"%')
      .execute();
    assert.equal(audited.length, 2, 'each marking is audited');
    const neither = await node.request({
      method: 'POST',
      url: '/api/v1/me/notifications/read',
      headers: councilEE.headers,
      payload: { ids: [] },
    });
    assert.equal(neither.statusCode, 400);
  });

  it('doubles nothing when a dispatcher starts again, even from an old cursor', async () => {
    const items = await count('inbox_items');
    const mails = await count('mail_outbox');
    assert.ok(items > 0 && mails > 0);
    // Another process (or this one after a restart) on the same database, from the very start.
    await node.database.db.updateTable('inbox_cursor').set({ seq: 0 }).execute();
    const again = new InboxService({
      db: node.database.db,
      clock: node.clock,
      audit: node.services.audit,
      requests: node.services.requests,
      mail: { smtpUrl: sink.url, from: 'vytis@node.example' },
    });
    await Promise.all([again.dispatch(), node.services.inbox.dispatch()]);
    await again.sendDue();
    await again.stop();
    assert.equal(await count('inbox_items'), items);
    assert.equal(await count('mail_outbox'), mails);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(sink.received.length, 1, 'no mail sent twice');
  });

  it('sends no mail for a kind switched off, and keeps the in-app one', async () => {
    await settings(councilEE, { kinds: [{ kind: 'vote.opened', inApp: false, email: false }] });
    const before = sink.received.length;
    const request = await submitRequest(node, poc, { title: 'Third incident' });
    await settle();
    const ee = await inbox(councilEE);
    assert.ok(!ee.items.some((i) => i.requestId === request.id), 'switched off in the app');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(sink.received.length, before, 'switched off by e-mail');
    await settings(councilEE, { kinds: [{ kind: 'vote.opened', inApp: true, email: true }] });
  });

  it('retries a mail later when the SMTP server is down, without holding up the act', async () => {
    await sink.stop();
    const before = sink.received.length;
    const request = await submitRequest(node, poc, { title: 'Fourth incident' });
    assert.equal(request.status, 'voting', 'the act goes through with the mail server down');
    await settle();
    const row = await node.database.db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('user_id', '=', councilEE.id)
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(row.state, 'pending');
    assert.equal(row.attempts, 1);
    assert.ok(row.last_error, 'the failure is kept');
    assert.ok(row.next_attempt_at!.getTime() > node.clock.now().getTime(), 'tried again later, not at once');

    await sink.start();
    await node.services.inbox.sendDue();
    assert.equal(sink.received.length, before, 'not before its time');
    node.clock.advance(HOUR);
    await node.services.inbox.sendDue();
    await sink.waitFor(before + 1);
    const sent = await node.database.db
      .selectFrom('mail_outbox')
      .select(['state', 'attempts'])
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(sent, { state: 'sent', attempts: 2 });
  });

  it('lets an admin set someone’s address, and nobody else', async () => {
    const byAdmin = await node.request({
      method: 'PUT',
      url: `/api/v1/users/${pocEE.id}/email`,
      headers: admin.headers,
      payload: { email: 'duty@cert.example.ee' },
    });
    assert.equal(byAdmin.statusCode, 200, byAdmin.body);
    const mine = json(
      await node.request({ method: 'GET', url: '/api/v1/me/notification-settings', headers: pocEE.headers }),
    );
    assert.equal(mine.email, 'duty@cert.example.ee');
    const byPoc = await node.request({
      method: 'PUT',
      url: `/api/v1/users/${councilEE.id}/email`,
      headers: poc.headers,
      payload: { email: 'x@example.lt' },
    });
    assert.equal(byPoc.statusCode, 403);
  });

  it('pages newest first', async () => {
    const first = await inbox(councilEE, '?limit=1');
    assert.equal(first.items.length, 1);
    assert.ok(first.nextCursor);
    const second = await inbox(councilEE, `?limit=1&cursor=${first.nextCursor}`);
    assert.equal(second.items.length, 1);
    assert.ok(second.items[0].at <= first.items[0].at);
    assert.notEqual(second.items[0].id, first.items[0].id);
    node.clock.advance(-HOUR);
  });

  it('sets an event it cannot handle aside, names it, and goes on with the next ones', async () => {
    await submitRequest(node, poc, { title: 'First of two' });
    await submitRequest(node, poc, { title: 'Second of two' });
    const last = await node.database.db
      .selectFrom('notifications')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirstOrThrow();
    const setAside: number[] = [];
    let composed = 0;
    const dispatcher = new Dispatcher({
      db: node.database.db,
      clock: node.clock,
      requests: node.services.requests,
      mailEnabled: false,
      // The first event that reaches anyone fails half-way, as a payload of an unexpected shape would.
      publicUrl: () => {
        if (composed++ === 0) throw new Error('an event of an unexpected shape');
        return null;
      },
      onDeadLetter: (seq) => setAside.push(seq),
    });
    await dispatcher.dispatch();
    assert.equal(setAside.length, 1, 'one event set aside');
    const titles = (await inbox(councilEE)).items.map((i) => i.title as string);
    assert.ok(
      titles.some((t) => t.includes('Second of two')),
      'the events after it are dispatched',
    );
    const cursor = await node.database.db.selectFrom('inbox_cursor').select('seq').executeTakeFirstOrThrow();
    assert.equal(Number(cursor.seq), Number(last.seq), 'the cursor moved past it');
  });

  it('sets aside an event whose statement fails in the database, and retries a batch the database failed', async () => {
    await submitRequest(node, poc, { title: 'Third of four' });
    await submitRequest(node, poc, { title: 'Fourth of four' });
    const cursorNow = async () =>
      Number((await node.database.db.selectFrom('inbox_cursor').select('seq').executeTakeFirstOrThrow()).seq);
    const before = await cursorNow();
    // The database's own trouble (here a serialization failure) is not the event's: nothing is set
    // aside, the batch is not committed, and the next round tries it again.
    const passing = Object.assign(new Error('could not serialize access'), { code: '40001' });
    const setAside: number[] = [];
    const failing = (failure: (trx: Tx) => Promise<unknown>) =>
      new Dispatcher({
        db: node.database.db,
        clock: node.clock,
        requests: {
          viewer: async (ctx: Ctx, trx: Tx) => {
            await failure(trx);
            return node.services.requests.viewer(ctx, trx);
          },
        } as unknown as RequestsService,
        mailEnabled: false,
        publicUrl: () => null,
        onDeadLetter: (seq) => setAside.push(seq),
      });
    await assert.rejects(failing(() => Promise.reject(passing)).dispatch(), /could not serialize/);
    assert.equal(await cursorNow(), before, 'the batch was not committed');
    assert.deepEqual(setAside, []);
    // A statement that fails for the event (division by zero) aborts only its savepoint.
    let calls = 0;
    await failing(async (trx) => {
      if (calls++ === 0) await sql`select 1 / 0`.execute(trx);
    }).dispatch();
    assert.equal(setAside.length, 1, 'that event is set aside');
    const titles = (await inbox(councilEE)).items.map((i) => i.title as string);
    assert.ok(!titles.some((t) => t.includes('Third of four')), 'the failed event made nothing');
    assert.ok(
      titles.some((t) => t.includes('Fourth of four')),
      'the batch went on after it',
    );
    assert.ok((await cursorNow()) > before, 'and was committed');
  });
});
