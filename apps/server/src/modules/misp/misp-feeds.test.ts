import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FeedCommand, runFeedCommand } from '../../cli/feed-command.ts';
import type { Ctx } from '../../context.ts';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { parseMispEvents } from './misp-event.ts';
import { eventHashLines, manifestProblems } from './misp-feed-format.ts';
import { type MispFeedsDeps, MispFeedsService } from './misp-feeds.service.ts';

const api = '/api/v1';
const MISP_EVENTS = path.resolve(import.meta.dirname, '../../../data/misp/events');
const REAL_EVENTS = ['galaxy_1.json', 'japanese_test.json', 'mainly_objects_1.json', 'sighting_1.json'];

const uuidOf = (n: number) => `7a1b2c3d-4e5f-4a6b-8c7d-${String(n).padStart(12, '0')}`;

/** A small MISP event as PyMISP writes one to a feed. */
function generatedEvent(n: number, timestamp: number) {
  return {
    Event: {
      uuid: uuidOf(n),
      info: `Generated event ${n}`,
      date: '2026-11-20',
      threat_level_id: '2',
      analysis: '1',
      timestamp: String(timestamp),
      published: true,
      Orgc: { name: 'CERT-EE', uuid: '7a1b2c3d-4e5f-4a6b-8c7d-eeeeeeeeeeee' },
      Tag: [{ name: 'tlp:green', colour: '#33FF00' }],
      Attribute: [1, 2, 3].map((a) => ({
        uuid: uuidOf(n * 100 + a),
        type: 'ip-dst',
        category: 'Network activity',
        value: `203.0.113.${(n * 3 + a) % 250}`,
        to_ids: true,
        timestamp: String(timestamp),
      })),
    },
  };
}

/**
 * A MISP feed directory on disk, as PyMISP's feed generator writes one: every event file, and its
 * manifest and hashes.csv built from them (`rewrite` regenerates both).
 */
class FeedDir {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-feed-'));
  /** What the manifest says, when a test makes it differ from the files. */
  readonly manifestOverrides = new Map<string, number>();
  readonly extraHashes: string[] = [];

  write(event: { Event: Record<string, unknown> }) {
    fs.writeFileSync(path.join(this.dir, `${event.Event.uuid}.json`), JSON.stringify(event));
  }

  rewrite() {
    const manifest: Record<string, unknown> = {};
    const hashes: string[] = [];
    for (const file of fs.readdirSync(this.dir).filter((f) => /^[0-9a-f-]{36}\.json$/.test(f))) {
      const parsed = parseMispEvents(JSON.parse(fs.readFileSync(path.join(this.dir, file), 'utf8')));
      assert.ok('events' in parsed);
      const event = parsed.events[0]!;
      manifest[event.uuid] = {
        Orgc: { name: event.orgc?.name, uuid: event.orgc?.uuid },
        Tag: event.tags.map((t) => ({ name: t.name, ...(t.colour ? { colour: t.colour } : {}) })),
        info: event.info,
        date: event.date,
        analysis: event.analysis,
        threat_level_id: event.threatLevelId,
        timestamp: this.manifestOverrides.get(event.uuid) ?? event.timestamp,
      };
      hashes.push(...eventHashLines(event));
    }
    fs.writeFileSync(path.join(this.dir, 'manifest.json'), JSON.stringify(manifest));
    fs.writeFileSync(path.join(this.dir, 'hashes.csv'), `${[...hashes, ...this.extraHashes].join('\n')}\n`);
  }
}

/**
 * Serves feed directories over HTTP on loopback, counting requests by path. `/slow/…` never
 * answers; `/endless/…` streams bytes without end (a 10 GB answer).
 */
async function startFeedServer(dirs: Record<string, FeedDir>) {
  const requests: string[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    const [, prefix, file] = /^\/([^/]+)\/(.+)$/.exec(url) ?? [];
    if (prefix === 'slow') {
      hanging.add(res);
      return;
    }
    if (prefix === 'endless') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (res.write(chunk)) {
          /* until the socket pushes back */
        }
      };
      res.on('drain', pump);
      res.on('close', () => res.off('drain', pump));
      res.write('{"');
      pump();
      return;
    }
    const dir = prefix ? dirs[prefix] : undefined;
    const filePath = dir && file ? path.join(dir.dir, path.basename(file)) : null;
    if (!filePath || !fs.existsSync(filePath)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file!.endsWith('.csv') ? 'text/csv' : 'application/json' });
    fs.createReadStream(filePath).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests,
    since(mark: number) {
      return requests.slice(mark);
    },
    /** Ends the requests held unanswered, as a connection dropped. */
    releaseHanging() {
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('MISP feeds: published and pulled', () => {
  let node: TestNode;
  let lt: TestUser;
  let ltReader: TestUser;
  let fi: TestUser;
  let feedServer: Awaited<ReturnType<typeof startFeedServer>>;
  const main = new FeedDir();
  const other = new FeedDir();
  /** An event this node cannot store (a NUL in its info), beside one it can. */
  const broken = new FeedDir();
  const many = new FeedDir();

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    user: TestUser | null,
    url: string,
    payload?: object,
  ) =>
    node.request({
      method,
      url: `${api}${url}`,
      headers: {
        ...(user ? user.headers : {}),
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });
  const newCase = async (user: TestUser, title: string, tlp = 'green') => {
    const res = await call('POST', user, '/cases', {
      title,
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'high',
      tlp,
      pap: 'amber',
    });
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  };
  const addFeed = async (user: TestUser, body: object, status = 201) => {
    const res = await call('POST', user, '/misp/feeds', body);
    assert.equal(res.statusCode, status, res.body);
    return json(res);
  };
  const pull = async (user: TestUser, id: string, status = 200) => {
    const res = await call('POST', user, `/misp/feeds/${id}/pull`);
    assert.equal(res.statusCode, status, res.body);
    return json(res);
  };
  const eventsOf = async (caseId: string) => {
    const res = await call('GET', lt, `/cases/${caseId}/misp/events`);
    assert.equal(res.statusCode, 200, res.body);
    return json(res).items as { uuid: string; timestamp: string | null; info: string }[];
  };
  const ctxOf = async (name: string): Promise<Ctx> => ({
    actor: (await node.services.identity.actorByName(name))!,
    requestId: null,
  });
  /** A service like the node's, with its own limits (timeouts, sizes, networks) for one test. */
  const serviceWith = (limits: Partial<MispFeedsDeps>) => {
    const s = node.services;
    return new MispFeedsService({
      db: s.database.db,
      clock: s.clock,
      audit: s.audit,
      cases: s.cases,
      misp: s.misp,
      identity: s.identity,
      allowPrivateNetworks: true,
      ...limits,
    });
  };

  before(async () => {
    node = await startTestNode({ importMaxBytes: 8 * 1024 * 1024 });
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    ltReader = await node.user('lt.council', 'LT', ['council']);
    fi = await node.user('fi.analyst', 'FI', ['analyst']);
    for (const file of REAL_EVENTS)
      fs.copyFileSync(path.join(MISP_EVENTS, file), path.join(main.dir, `${file}.tmp`));
    // Real events are named by their uuid in a feed.
    for (const file of REAL_EVENTS) {
      const text = fs.readFileSync(path.join(main.dir, `${file}.tmp`), 'utf8');
      main.write(JSON.parse(text));
      fs.rmSync(path.join(main.dir, `${file}.tmp`));
    }
    for (const n of [1, 2, 3]) main.write(generatedEvent(n, 1_760_000_000 + n));
    main.rewrite();
    other.write(generatedEvent(50, 1_760_000_050));
    other.rewrite();
    const unstorable = generatedEvent(60, 1_760_000_060);
    unstorable.Event.info = 'Generated event 60 \u0000 with a NUL';
    broken.write(unstorable);
    broken.write(generatedEvent(61, 1_760_000_061));
    broken.write(generatedEvent(62, 1_760_000_062));
    broken.rewrite();
    for (const n of [70, 71, 72]) many.write(generatedEvent(n, 1_760_000_000 + n));
    many.rewrite();
    feedServer = await startFeedServer({ main, other, broken, many });
  });
  after(async () => {
    await feedServer.close();
    await node.close();
    fs.rmSync(main.dir, { recursive: true, force: true });
    for (const dir of [other, broken, many]) fs.rmSync(dir.dir, { recursive: true, force: true });
  });

  it('publishes a feed MISP takes, of what each caller may pass on', async () => {
    const green = await newCase(lt, 'Published green');
    const amber = await newCase(lt, 'Published amber', 'amber');
    for (const [id, file] of [
      [green, 'japanese_test.json'],
      [amber, 'sighting_1.json'],
    ] as const) {
      const res = await node.request({
        method: 'POST',
        url: `${api}/cases/${id}/misp`,
        headers: { ...lt.headers, 'content-type': 'application/json' },
        payload: fs.readFileSync(path.join(MISP_EVENTS, file)),
      });
      assert.equal(res.statusCode, 200, res.body);
    }
    const japanese = JSON.parse(fs.readFileSync(path.join(MISP_EVENTS, 'japanese_test.json'), 'utf8')).Event;
    const sighting = JSON.parse(fs.readFileSync(path.join(MISP_EVENTS, 'sighting_1.json'), 'utf8')).Event;

    const res = await call('GET', lt, '/misp/feed/manifest.json');
    assert.equal(res.statusCode, 200, res.body);
    const manifest = json(res);
    assert.deepEqual(manifestProblems(manifest), []);
    assert.ok(manifest[japanese.uuid] && manifest[sighting.uuid], JSON.stringify(Object.keys(manifest)));
    // The same feed at its stable address (../shared/api.md), outside /api/v1.
    const stable = await node.request({
      method: 'GET',
      url: '/misp/feed/manifest.json',
      headers: lt.headers,
    });
    assert.equal(stable.statusCode, 200, stable.body);
    assert.deepEqual(json(stable), manifest);
    const entry = manifest[japanese.uuid];
    assert.equal(entry.timestamp, Number(japanese.timestamp), 'the timestamp MISP compares, as an integer');
    assert.equal(entry.info, japanese.info);
    assert.equal(entry.Orgc.name, japanese.Orgc.name);
    assert.equal(typeof entry.threat_level_id, 'number');

    // The event file is what the manifest announced, and parses as one MISP event.
    const file = await call('GET', lt, `/misp/feed/${japanese.uuid}.json`);
    assert.equal(file.statusCode, 200, file.body);
    assert.match(file.headers['content-type'] as string, /^application\/json/);
    const published = parseMispEvents(JSON.parse(file.body));
    assert.ok('events' in published, 'the published file is a MISP event');
    assert.equal(published.events[0]!.uuid, japanese.uuid);
    assert.equal(published.events[0]!.timestamp, entry.timestamp);

    // hashes.csv: md5 of each value, with its event's uuid.
    const hashes = await call('GET', lt, '/misp/feed/hashes.csv');
    assert.equal(hashes.statusCode, 200, hashes.body);
    assert.match(hashes.headers['content-type'] as string, /^text\/csv/);
    const lines = hashes.body.trim().split('\n');
    assert.ok(
      lines.every((line) => /^[0-9a-f]{32},[0-9a-f-]{36}$/.test(line)),
      lines[0],
    );
    const value = japanese.Attribute[0].value as string;
    const md5 = crypto.createHash('md5').update(value).digest('hex');
    assert.ok(lines.includes(`${md5},${japanese.uuid}`), 'a value of the event is listed');

    // Another party sees the green case, not the amber one.
    const theirs = json(await call('GET', fi, '/misp/feed/manifest.json'));
    assert.deepEqual(manifestProblems(theirs), []);
    assert.ok(Object.keys(theirs).length > 0 && Object.keys(theirs).length < Object.keys(manifest).length);
    assert.equal(theirs[sighting.uuid], undefined, 'not what they may not see');
    assert.equal((await call('GET', fi, `/misp/feed/${sighting.uuid}.json`)).statusCode, 404);
    assert.ok(!(await call('GET', fi, '/misp/feed/hashes.csv')).body.includes(sighting.uuid));
    // Token-authenticated: HTTP Basic as MISP's feed settings can send it, and nothing without.
    const basic = Buffer.from(`fi.analyst:${fi.token}`).toString('base64');
    const withBasic = await node.request({
      method: 'GET',
      url: `${api}/misp/feed/manifest.json`,
      headers: { authorization: `Basic ${basic}` },
    });
    assert.equal(withBasic.statusCode, 200, withBasic.body);
    assert.equal((await call('GET', null, '/misp/feed/manifest.json')).statusCode, 401);
    assert.equal((await call('GET', lt, '/misp/feed/not-an-event.json')).statusCode, 400);
  });

  let caseId: string;
  let feedId: string;

  it('pulls a feed served from disk, then pulls nothing when nothing changed', async () => {
    caseId = await newCase(lt, 'Feed target', 'amber');
    const feed = await addFeed(lt, {
      name: 'ee-feed',
      url: `${feedServer.base}/main/`,
      caseId,
      header: { name: 'Authorization', value: 'Bearer secret-of-the-feed' },
    });
    feedId = feed.id;
    assert.equal(feed.header, 'Authorization');
    assert.ok(!JSON.stringify(feed).includes('secret-of-the-feed'), 'the header value is never shown');
    assert.equal(feed.intervalMinutes, 60);
    assert.deepEqual(feed.can, { pull: true, change: true });

    const mark = feedServer.requests.length;
    const first = await pull(lt, feedId);
    assert.equal(first.error, null, JSON.stringify(first));
    assert.equal(first.listed, 7);
    assert.equal(first.fetched, 7);
    assert.equal(first.imported, 7, JSON.stringify(first.failures));
    assert.equal(first.failed, 0);
    assert.ok(first.attributesAdded > 0);
    assert.equal((await eventsOf(caseId)).length, 7);
    assert.equal(
      feedServer.since(mark).filter((p) => p.endsWith('.json') && !p.endsWith('manifest.json')).length,
      7,
    );

    // Again: the manifest alone is fetched, and nothing changes.
    const again = feedServer.requests.length;
    const second = await pull(lt, feedId);
    assert.deepEqual(feedServer.since(again), ['/main/manifest.json']);
    assert.equal(second.fetched, 0);
    assert.equal(second.unchanged, 7);
    assert.equal(second.imported, 0);
    assert.equal((await eventsOf(caseId)).length, 7);

    const listed = json(await call('GET', lt, '/misp/feeds')).items;
    assert.equal(listed.length, 1);
    assert.equal(listed[0].events, 7);
    assert.equal(listed[0].lastError, null);
    assert.equal(listed[0].lastResult.unchanged, 7);
    assert.ok(listed[0].lastRunAt && listed[0].lastOkAt);
    const audit = (await node.services.audit.page({ objectId: feedId }, 'asc', 50)).items.map(
      (e: any) => e.action,
    );
    assert.deepEqual(audit, ['misp.feed.create', 'misp.feed.pull', 'misp.feed.pull']);
  });

  it('refetches only the event whose timestamp rose', async () => {
    main.write(generatedEvent(2, 1_770_000_000));
    main.rewrite();
    const mark = feedServer.requests.length;
    const run = await pull(lt, feedId);
    assert.equal(run.fetched, 1);
    assert.equal(run.imported, 1, JSON.stringify(run.failures));
    assert.equal(run.unchanged, 6);
    assert.deepEqual(
      feedServer.since(mark).filter((p) => p !== '/main/manifest.json' && p !== '/main/hashes.csv'),
      [`/main/${uuidOf(2)}.json`],
    );
    const updated = (await eventsOf(caseId)).find((e) => e.uuid === uuidOf(2));
    assert.ok(updated);
  });

  it('refuses an event the manifest lies about, naming it, and imports the others', async () => {
    // The manifest announces a later timestamp than the file holds; a new event comes beside it.
    main.manifestOverrides.set(uuidOf(3), 1_790_000_000);
    main.write(generatedEvent(4, 1_760_000_004));
    main.rewrite();
    const before = (await eventsOf(caseId)).find((e) => e.uuid === uuidOf(3));
    const run = await pull(lt, feedId);
    assert.equal(run.fetched, 2);
    assert.equal(run.imported, 1);
    assert.equal(run.failed, 1);
    assert.equal(run.failures[0].uuid, uuidOf(3));
    assert.match(
      run.failures[0].message,
      new RegExp(`event ${uuidOf(3)}: the manifest says timestamp 1790000000`),
    );
    const events = await eventsOf(caseId);
    assert.ok(
      events.some((e) => e.uuid === uuidOf(4)),
      'the others are imported',
    );
    assert.deepEqual(
      events.find((e) => e.uuid === uuidOf(3)),
      before,
      'nothing of the refused event was written',
    );
    const [feed] = json(await call('GET', lt, '/misp/feeds')).items;
    assert.match(feed.lastError, /1 event\(s\) could not be imported/);
    // Refused events are not remembered: the next pull tries again (and, still lying, refuses again).
    const retry = await pull(lt, feedId);
    assert.equal(retry.fetched, 1);
    assert.equal(retry.failed, 1);
    main.manifestOverrides.clear();
    main.rewrite();
  });

  it('refuses an event whose values are not those hashes.csv lists', async () => {
    main.write(generatedEvent(5, 1_760_000_005));
    main.extraHashes.push(`${'0'.repeat(32)},${uuidOf(5)}`);
    main.rewrite();
    const run = await pull(lt, feedId);
    assert.equal(run.failed, 1);
    assert.match(
      run.failures[0].message,
      new RegExp(`event ${uuidOf(5)}: its values do not match hashes.csv`),
    );
    assert.ok(!(await eventsOf(caseId)).some((e) => e.uuid === uuidOf(5)));
    main.extraHashes.length = 0;
    main.rewrite();
    assert.equal((await pull(lt, feedId)).imported, 1);
  });

  it('records a clear error for a feed that never answers, or answers without end, and stays well', async () => {
    const id = await newCase(lt, 'Bad feeds', 'amber');
    const ctx = await ctxOf('lt.analyst');
    const limited = serviceWith({ timeoutMs: 400, manifestMaxBytes: 1024 * 1024 });
    const slow = await limited.create(ctx, { name: 'slow-feed', url: `${feedServer.base}/slow`, caseId: id });
    const t0 = performance.now();
    const slowRun = await limited.pull(ctx, slow.id);
    assert.ok(performance.now() - t0 < 3000, 'given up at its time limit');
    assert.equal(slowRun.error, 'cannot fetch manifest.json: no complete answer within 0.4 s');

    const endless = await limited.create(ctx, {
      name: 'endless-feed',
      url: `${feedServer.base}/endless`,
      caseId: id,
    });
    const endlessRun = await limited.pull(ctx, endless.id);
    assert.equal(
      endlessRun.error,
      'cannot fetch manifest.json: it is larger than 1 MiB, the most a feed file may be',
    );
    const listed = json(await call('GET', lt, '/misp/feeds')).items.find(
      (f: any) => f.name === 'endless-feed',
    );
    assert.match(listed.lastError, /larger than 1 MiB/);
    assert.equal(listed.lastOkAt, null);
    // The node is unharmed.
    assert.equal((await call('GET', lt, '/misp/feeds')).statusCode, 200);
    assert.equal((await node.request({ method: 'GET', url: '/healthz' })).statusCode, 200);
    for (const feed of [slow, endless]) await limited.remove(ctx, feed.id, undefined);
  });

  it('refuses private addresses unless the node allows them', async () => {
    const ctx = await ctxOf('lt.analyst');
    const strict = serviceWith({ allowPrivateNetworks: false });
    await assert.rejects(
      strict.create(ctx, { name: 'private-feed', url: `${feedServer.base}/other`, caseId }),
      /feeds may only be fetched from public hosts unless the node allows private networks: 127\.0\.0\.1 is not a public address/,
    );
    // A feed added while allowed is not fetched once the node no longer allows it.
    const run = await strict.pull(ctx, feedId);
    assert.match(run.error ?? '', /cannot fetch manifest\.json: 127\.0\.0\.1 is not a public address/);
    const allowedList = serviceWith({ allowPrivateNetworks: ['127.0.0.0/8'] });
    assert.equal((await allowedList.pull(ctx, feedId)).error, null);
  });

  it('lets those who work on the case add, pull and change feeds; others neither see nor pull them', async () => {
    // Another party sees neither the case nor its feed.
    assert.equal(json(await call('GET', fi, '/misp/feeds')).items.length, 0);
    assert.equal((await call('POST', fi, `/misp/feeds/${feedId}/pull`)).statusCode, 404);
    // A reader of the case, who may not import into it, does not see its feeds either (their
    // URL, owner, header name and errors are for those who work on it).
    assert.equal((await call('GET', ltReader, `/cases/${caseId}`)).statusCode, 200, 'they read the case');
    assert.deepEqual(json(await call('GET', ltReader, '/misp/feeds')).items, []);
    assert.equal((await call('GET', ltReader, `/misp/feeds/${feedId}`)).statusCode, 404);
    assert.equal((await call('POST', ltReader, `/misp/feeds/${feedId}/pull`)).statusCode, 404);
    assert.equal(
      (await call('PATCH', ltReader, `/misp/feeds/${feedId}`, { enabled: false })).statusCode,
      404,
    );
    assert.equal((await call('DELETE', ltReader, `/misp/feeds/${feedId}`)).statusCode, 404);
    // Bad input is named.
    const neither = await addFeed(lt, { name: 'x', url: `${feedServer.base}/other` }, 400);
    assert.match(neither.error.message, /caseId, or newCase/);
    const both = await addFeed(
      lt,
      { name: 'x', url: `${feedServer.base}/other`, caseId, newCase: { title: 't', tlp: 'green' } },
      400,
    );
    assert.match(both.error.message, /caseId, or newCase/);
    const creds = await addFeed(lt, { name: 'x', url: 'http://u:p@127.0.0.1/feed', caseId }, 400);
    assert.match(creds.error.message, /no credentials in the URL/);
    const taken = await addFeed(lt, { name: 'ee-feed', url: `${feedServer.base}/other`, caseId }, 409);
    assert.match(taken.error.message, /you have a feed named ee-feed already/);
    // Access comes first: another party learns nothing of the case's feeds' names.
    assert.equal(
      (await addFeed(fi, { name: 'ee-feed', url: `${feedServer.base}/other`, caseId }, 404)).error.code,
      'not_found',
    );
    assert.equal(
      (await addFeed(ltReader, { name: 'ee-feed', url: `${feedServer.base}/other`, caseId }, 403)).error.code,
      'forbidden',
    );
    // Names are each owner's: theirs may be the same as ours.
    const fiCase = await newCase(fi, 'FI feed target', 'amber');
    const fiFeed = await addFeed(fi, { name: 'ee-feed', url: `${feedServer.base}/other`, caseId: fiCase });
    assert.equal(fiFeed.owner, 'fi.analyst');
    assert.equal((await call('DELETE', fi, `/misp/feeds/${fiFeed.id}`)).statusCode, 204);
    // A new case for the feed.
    const opened = await addFeed(lt, {
      name: 'other-feed',
      url: `${feedServer.base}/other`,
      newCase: { title: 'From the other feed', tlp: 'amber' },
      intervalMinutes: 30,
    });
    assert.notEqual(opened.caseId, caseId);
    assert.equal((await pull(lt, opened.id)).imported, 1);
    // Changing and removing, with If-Match.
    const stale = await node.request({
      method: 'PATCH',
      url: `${api}/misp/feeds/${opened.id}`,
      headers: { ...lt.headers, 'content-type': 'application/json', 'if-match': '"999"' },
      payload: JSON.stringify({ enabled: false }),
    });
    assert.equal(stale.statusCode, 412, stale.body);
    const patched = await call('PATCH', lt, `/misp/feeds/${opened.id}`, {
      enabled: false,
      intervalMinutes: 120,
    });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(json(patched).enabled, false);
    assert.equal(json(patched).intervalMinutes, 120);
    assert.equal((await call('DELETE', lt, `/misp/feeds/${opened.id}`)).statusCode, 204);
    assert.equal((await call('GET', lt, `/misp/feeds/${opened.id}`)).statusCode, 404);
    assert.equal((await eventsOf(opened.caseId)).length, 1, 'what it imported stays');
    const audit = (await node.services.audit.page({ objectId: opened.id }, 'asc', 50)).items.map(
      (e: any) => e.action,
    );
    assert.deepEqual(audit, ['misp.feed.create', 'misp.feed.pull', 'misp.feed.update', 'misp.feed.delete']);
  });

  it('builds hashes.csv from one index of the feed, and one feed file at a time for each user', async () => {
    const s = node.services;
    let indexes = 0;
    let exports = 0;
    // The node's MISP service, counting how often the feed is indexed and a case exported.
    const counting = Object.create(s.misp) as typeof s.misp;
    counting.feedIndex = (ctx) => {
      indexes++;
      return s.misp.feedIndex(ctx);
    };
    counting.exportCase = (ctx, id, options) => {
      exports++;
      return s.misp.exportCase(ctx, id, options);
    };
    const ctx = await ctxOf('lt.analyst');
    const csv = await serviceWith({ misp: counting }).hashes(ctx);
    const events = Object.keys(json(await call('GET', lt, '/misp/feed/manifest.json'))).length;
    assert.ok(events >= 3, `the feed holds ${events} events`);
    assert.equal(indexes, 1, 'the feed is indexed once, not once per event');
    assert.equal(exports, events, 'each event is exported once');
    assert.equal(csv, (await call('GET', lt, '/misp/feed/hashes.csv')).body);

    // Two builds of one user at once: the second is refused, saying what to do.
    const both = await Promise.all([
      call('GET', lt, '/misp/feed/hashes.csv'),
      call('GET', lt, '/misp/feed/manifest.json'),
    ]);
    assert.deepEqual(both.map((r) => r.statusCode).sort(), [200, 429]);
    const refused = json(both.find((r) => r.statusCode === 429)!);
    assert.equal(refused.error.code, 'rate_limited');
    assert.match(refused.error.message, /being built for you already: ask for the next when it has come/);
    // Others are not held up by it, and the user's next request is answered.
    const apart = await Promise.all([
      call('GET', lt, '/misp/feed/hashes.csv'),
      call('GET', fi, '/misp/feed/hashes.csv'),
    ]);
    assert.deepEqual(
      apart.map((r) => r.statusCode),
      [200, 200],
    );
  });

  it('records an error of one event as its failure, pulls the rest, and goes on to the other feeds', async () => {
    const s = node.services;
    // The node's MISP service, its second import failing as a database error would (a query's
    // words in its message), and not as a refusal of ours.
    // Counted per case: the round pulls the two feeds in either order.
    let imports = 0;
    let badCase = '';
    const failing = Object.create(s.misp) as typeof s.misp;
    failing.importEvents = (...args) => {
      if (args[1] === badCase && ++imports === 2)
        return Promise.reject(new Error('insert into "misp_events" values ($1): connection reset'));
      return s.misp.importEvents(...args);
    };
    const reported: unknown[] = [];
    const service = serviceWith({ misp: failing, onError: (error) => reported.push(error) });
    badCase = await newCase(lt, 'Feed with broken events', 'amber');
    const bad = await addFeed(lt, { name: 'broken-feed', url: `${feedServer.base}/broken`, caseId: badCase });
    const otherCase = await newCase(lt, 'Feed after the broken one', 'amber');
    const after = await addFeed(lt, {
      name: 'after-broken',
      url: `${feedServer.base}/other`,
      caseId: otherCase,
    });
    assert.equal(await service.pullDue(), 2, 'both feeds of the round are pulled');
    const [brokenFeed, afterFeed] = [
      json(await call('GET', lt, `/misp/feeds/${bad.id}`)),
      json(await call('GET', lt, `/misp/feeds/${after.id}`)),
    ];
    const run = brokenFeed.lastResult;
    assert.equal(run.error, null, JSON.stringify(run));
    assert.deepEqual([run.fetched, run.imported, run.failed], [3, 1, 2], JSON.stringify(run));
    assert.deepEqual(
      run.failures.map((f: any) => f.uuid),
      [uuidOf(60), uuidOf(61)],
    );
    assert.match(run.failures[0].message, /holds a NUL character .*, which cannot be stored/);
    assert.equal(
      run.failures[1].message,
      `event ${uuidOf(61)}: it could not be imported: an error of this node (its log says more)`,
    );
    assert.equal(reported.length, 1, 'the error itself goes to the log');
    assert.deepEqual(
      (await eventsOf(badCase)).map((e) => e.uuid),
      [uuidOf(62)],
    );
    assert.equal(afterFeed.lastResult.imported, 1, 'the next feed of the round is pulled');
    for (const id of [bad.id, after.id]) await call('DELETE', lt, `/misp/feeds/${id}`);
  });

  it('runs one pull at a time on the node: a manual one is refused, scheduled ones wait', async () => {
    const waitingCase = await newCase(lt, 'Feed waiting its turn', 'amber');
    const held = await addFeed(lt, { name: 'held-feed', url: `${feedServer.base}/slow`, caseId });
    const mark = feedServer.requests.length;
    const running = call('POST', lt, `/misp/feeds/${held.id}/pull`);
    for (let i = 0; i < 500 && !feedServer.since(mark).includes('/slow/manifest.json'); i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const waiting = await addFeed(lt, {
      name: 'waiting-feed',
      url: `${feedServer.base}/other`,
      caseId: waitingCase,
    });
    const refused = await pull(lt, feedId, 429);
    assert.equal(refused.error.message, 'a pull is running, try again shortly');
    assert.equal(await node.services.mispFeeds.pullDue(), 0, 'the round waits for the next');
    const stillDue = json(await call('GET', lt, `/misp/feeds/${waiting.id}`));
    assert.equal(stillDue.lastRunAt, null);
    assert.ok(new Date(stillDue.nextPullAt) <= node.clock.now(), 'still due');

    feedServer.releaseHanging();
    const ended = await running;
    assert.equal(ended.statusCode, 200, ended.body);
    assert.match(json(ended).error, /^cannot fetch manifest\.json: /);
    assert.equal(await node.services.mispFeeds.pullDue(), 1, 'pulled with the next round');
    assert.equal(json(await call('GET', lt, `/misp/feeds/${waiting.id}`)).lastResult.imported, 1);
    for (const id of [held.id, waiting.id]) await call('DELETE', lt, `/misp/feeds/${id}`);
  });

  it('bounds a run by its events and its time, leaving the rest for the next; due feeds take turns', async () => {
    const ctx = await ctxOf('lt.analyst');
    const manyCase = await newCase(lt, 'A large feed', 'amber');
    const capped = serviceWith({ maxEventsPerRun: 2 });
    const feed = await capped.create(ctx, {
      name: 'many-feed',
      url: `${feedServer.base}/many`,
      caseId: manyCase,
    });
    const first = await capped.pull(ctx, feed.id);
    assert.deepEqual([first.fetched, first.imported, first.left, first.error], [2, 2, 1, null]);
    const second = await capped.pull(ctx, feed.id);
    assert.deepEqual([second.unchanged, second.fetched, second.left], [2, 1, 0]);
    assert.equal((await eventsOf(manyCase)).length, 3);

    many.write(generatedEvent(73, 1_760_000_073));
    many.rewrite();
    const timed = await serviceWith({ runDeadlineMs: 0 }).pull(ctx, feed.id);
    assert.deepEqual([timed.fetched, timed.left, timed.error], [0, 1, null], 'past its time, it stops');
    const listed = json(await call('GET', lt, `/misp/feeds/${feed.id}`));
    assert.equal(listed.lastResult.left, 1, 'the feed shows what was left');
    assert.equal((await capped.pull(ctx, feed.id)).fetched, 1, 'the next run takes it');
    await capped.remove(ctx, feed.id, undefined);

    // Due feeds are taken longest waiting first: a round of one takes each in turn.
    const early = await addFeed(lt, { name: 'due-early', url: `${feedServer.base}/other`, caseId: manyCase });
    node.clock.advance(60_000);
    const late = await addFeed(lt, { name: 'due-late', url: `${feedServer.base}/other`, caseId: manyCase });
    assert.equal(await node.services.mispFeeds.pullDue({ limit: 1 }), 1);
    assert.ok(json(await call('GET', lt, `/misp/feeds/${early.id}`)).lastRunAt);
    assert.equal(json(await call('GET', lt, `/misp/feeds/${late.id}`)).lastRunAt, null);
    assert.equal(await node.services.mispFeeds.pullDue({ limit: 1 }), 1);
    assert.ok(json(await call('GET', lt, `/misp/feeds/${late.id}`)).lastRunAt);
    for (const id of [early.id, late.id]) await call('DELETE', lt, `/misp/feeds/${id}`);
  });

  it('leaves no case behind when the feed opened for it cannot be added', async () => {
    const title = 'Case of a feed added twice at once';
    const body = {
      name: 'twice-feed',
      url: `${feedServer.base}/other`,
      newCase: { title, tlp: 'amber' },
    };
    const both = await Promise.all([
      call('POST', lt, '/misp/feeds', body),
      call('POST', lt, '/misp/feeds', body),
    ]);
    assert.deepEqual(both.map((r) => r.statusCode).sort(), [201, 409], both.map((r) => r.body).join('\n'));
    const cases = json(await call('GET', lt, `/cases?q=${encodeURIComponent(title)}`)).items;
    assert.equal(cases.length, 1, 'the case of the feed not added is gone');
    const added = json(both.find((r) => r.statusCode === 201)!);
    assert.equal(cases[0].id, added.caseId);
    await call('DELETE', lt, `/misp/feeds/${added.id}`);
  });

  it('names feeds on the command line among the user’s own, or the one of that name', async () => {
    const fiCase = await newCase(fi, 'FI command line feed', 'amber');
    const ltCase = await newCase(lt, 'LT command line feed', 'amber');
    await addFeed(lt, { name: 'same-name', url: `${feedServer.base}/other`, caseId: ltCase });
    await addFeed(fi, { name: 'same-name', url: `${feedServer.base}/other`, caseId: fiCase });
    const feed = (command: Omit<FeedCommand, 'feedName'> & { name: 'feed.pull' | 'feed.remove' }) =>
      runFeedCommand(node.services, { ...command, feedName: 'same-name' } as FeedCommand);

    const ambiguous = await feed({ name: 'feed.pull' });
    assert.equal(ambiguous.exitCode, 1);
    assert.match(
      ambiguous.stderr,
      /^2 feeds are named same-name \(added by fi\.analyst, lt\.analyst\): say whose with --as NAME/,
    );
    const theirs = await feed({ name: 'feed.pull', as: 'fi.analyst' });
    assert.equal(theirs.exitCode, 0, theirs.stderr);
    assert.match(theirs.stdout, /imported 1, failed 0, left for the next run 0;/);
    assert.equal((await eventsOf(ltCase)).length, 0, 'not the other user’s feed');
    assert.equal((await feed({ name: 'feed.remove', as: 'lt.analyst' })).exitCode, 0);
    // One left of that name: the operator's command finds it.
    const alone = await feed({ name: 'feed.pull' });
    assert.equal(alone.exitCode, 0, alone.stderr);
    assert.match(alone.stdout, /unchanged 1, fetched 0/);
    const gone = await feed({ name: 'feed.remove', as: 'lt.analyst' });
    assert.match(gone.stderr, /feed same-name of lt\.analyst not found/);
    assert.equal((await feed({ name: 'feed.remove' })).exitCode, 0);
  });

  it('pulls due feeds on schedule, one pull of a feed at a time, as its owner while they may', async () => {
    const limited = serviceWith({ timeoutMs: 500 });
    const ctx = await ctxOf('lt.analyst');
    const slow = await limited.create(ctx, { name: 'slow-2', url: `${feedServer.base}/slow`, caseId });
    const both = await Promise.allSettled([limited.pull(ctx, slow.id), limited.pull(ctx, slow.id)]);
    const refused = both.filter((r) => r.status === 'rejected');
    assert.equal(refused.length, 1, 'one of two pulls at once is refused');
    assert.match(String((refused[0] as PromiseRejectedResult).reason), /slow-2 is being pulled now/);
    await call('DELETE', lt, `/misp/feeds/${slow.id}`);

    main.write(generatedEvent(6, 1_760_000_006));
    main.rewrite();
    assert.equal(await node.services.mispFeeds.pullDue(), 0, 'not due yet');
    node.clock.advance(61 * 60_000);
    assert.equal(await node.services.mispFeeds.pullDue(), 1);
    const [feed] = json(await call('GET', lt, '/misp/feeds')).items.filter((f: any) => f.id === feedId);
    assert.equal(feed.lastResult.trigger, 'scheduled');
    assert.equal(feed.lastResult.imported, 1);
    assert.ok(new Date(feed.nextPullAt) > node.clock.now());

    // The owner disabled: the next pull pulls nothing and says why.
    await node.services.accounts.disable(
      node.cli,
      (await node.services.identity.userIdByName('lt.analyst'))!,
      {},
    );
    node.clock.advance(61 * 60_000);
    assert.equal(await node.services.mispFeeds.pullDue(), 1);
    const [after] = (await node.services.mispFeeds.list(node.cli)).items.filter((f) => f.id === feedId);
    assert.match(after!.lastError ?? '', /lt\.analyst, who added the feed, is disabled: nothing was pulled/);
  });
});
