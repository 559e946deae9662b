import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { fileRequest } from '../../test/requests.fixtures.ts';

/**
 * Issue 16, items 2 and 3, tried as an attacker with an ordinary account would: a label never
 * confirms what it hides (adding, importing, the event stream), and a party a case is shared with
 * cannot take the case, or what the owner added to it, from the owner.
 */

const api = '/api/v1';

const caseBody = (overrides: Record<string, unknown> = {}) => ({
  title: 'Wiper at the port authority',
  incidentClass: 'rsit:malicious-code="infected-system"',
  severity: 'high',
  tlp: 'amber',
  pap: 'amber',
  ...overrides,
});

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT';

function caller(node: () => TestNode) {
  return (method: Method, user: TestUser, url: string, payload?: object) =>
    node().request({ method, url: `${api}${url}`, headers: user.headers, ...(payload ? { payload } : {}) });
}

describe('labels never reveal what they hide', () => {
  let node: TestNode;
  let lt: TestUser;
  let ee: TestUser;
  let caseId: string;
  let hiddenId: string;
  const call = caller(() => node);

  const importCsv = (user: TestUser, csv: string) =>
    node.request({
      method: 'POST',
      url: `${api}/indicators/bulk?caseId=${caseId}`,
      headers: { ...user.headers, 'content-type': 'text/csv' },
      payload: csv,
    });

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    caseId = json(await call('POST', lt, '/cases', caseBody({ shares: { parties: ['EE'] } }))).id;
    const hidden = await call('POST', lt, `/cases/${caseId}/observables`, {
      type: 'domain',
      value: 'held-red.example',
      tlp: 'red',
    });
    assert.equal(hidden.statusCode, 201, hidden.body);
    hiddenId = json(hidden).id;
  });
  after(() => node.close());

  it('stores a shared party’s own copy of a value the owner holds RED, with no hint of it', async () => {
    const before = json(await call('GET', ee, `/cases/${caseId}`)).counts.observables;
    const res = await call('POST', ee, `/cases/${caseId}/observables`, {
      type: 'domain',
      value: 'Held-Red[.]example',
    });
    assert.equal(res.statusCode, 201, res.body);
    const copy = json(res);
    assert.notEqual(copy.id, hiddenId);
    assert.equal(copy.value, 'held-red.example');
    assert.equal(copy.tlp, 'amber');
    assert.equal(copy.originParty, 'EE');
    assert.equal(json(await call('GET', ee, `/cases/${caseId}`)).counts.observables, before + 1);
    const listed = json(await call('GET', ee, `/cases/${caseId}/observables`));
    assert.deepEqual(
      listed.items.map((o: any) => o.id),
      [copy.id],
    );
    const lookup = json(await call('GET', ee, '/indicators/lookup?value=held-red.example'));
    assert.deepEqual(
      lookup.items.map((o: any) => o.observableId),
      [copy.id],
    );
    // A duplicate the caller can see is still one: their own copy.
    const again = await call('POST', ee, `/cases/${caseId}/observables`, {
      type: 'domain',
      value: 'held-red.example',
    });
    assert.equal(again.statusCode, 409, again.body);
    assert.equal(json(again).error.details.id, copy.id);
    // The owner's creator reads both copies, and pages through them without losing one.
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `type=domain&q=held-red&limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const page = json(await call('GET', lt, `/cases/${caseId}/observables?${query}`));
      assert.equal(page.total, 2);
      ids.push(...page.items.map((o: any) => o.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual([...ids].sort(), [copy.id, hiddenId].sort());
  });

  it('counts hidden values in an import as new, and stores the importer’s copies', async () => {
    for (const [value, tlp] of [
      ['198.51.100.1', 'red'],
      ['198.51.100.2', 'red'],
      ['198.51.100.3', 'amber'],
    ] as const) {
      const res = await call('POST', lt, `/cases/${caseId}/observables`, { type: 'ip-dst', value, tlp });
      assert.equal(res.statusCode, 201, res.body);
    }
    const csv = 'ip-dst,198.51.100.1\nip-dst,198.51.100.2\nip-dst,198.51.100.3\nip-dst,198.51.100.4\n';
    const first = await importCsv(ee, csv);
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(json(first), {
      imported: 3,
      duplicates: 1,
      rejected: 0,
      warninglisted: 4,
      problems: [],
    });
    const again = await importCsv(ee, csv);
    assert.deepEqual(json(again), {
      imported: 0,
      duplicates: 4,
      rejected: 0,
      warninglisted: 4,
      problems: [],
    });
    const mine = json(await call('GET', ee, `/cases/${caseId}/observables?type=ip-dst`));
    assert.deepEqual(mine.items.map((o: any) => `${o.value} ${o.originParty}`).sort(), [
      '198.51.100.1 EE',
      '198.51.100.2 EE',
      '198.51.100.3 LT',
      '198.51.100.4 EE',
    ]);
    // The owner's own import of the same file skips what it sees, EE's copies included.
    const owner = await importCsv(lt, csv);
    assert.deepEqual(json(owner), {
      imported: 0,
      duplicates: 4,
      rejected: 0,
      warninglisted: 4,
      problems: [],
    });
  });

  it('counts a sighting on the caller’s copy, not on the hidden row', async () => {
    const copy = json(await call('GET', ee, `/cases/${caseId}/observables?type=domain`)).items[0];
    const res = await call('POST', ee, `/cases/${caseId}/observables/${copy.id}/sightings`, {});
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(json(res).sightings, 1);
    assert.equal(json(await call('GET', lt, `/cases/${caseId}/observables/${hiddenId}`)).sightings, 0);
    const hidden = await call('POST', ee, `/cases/${caseId}/observables/${hiddenId}/sightings`, {});
    assert.equal(hidden.statusCode, 404);
  });

  it('does not move the case’s time for what a reader of the case may not see', async () => {
    const updatedAt = async () => json(await call('GET', ee, `/cases/${caseId}`)).updatedAt as string;
    const start = await updatedAt();
    node.clock.advance(60_000);
    const red = await call('POST', lt, `/cases/${caseId}/observables`, {
      type: 'domain',
      value: 'quietly-added.example',
      tlp: 'red',
    });
    assert.equal(red.statusCode, 201, red.body);
    const note = await call('POST', lt, `/cases/${caseId}/notes`, { body: 'only for LT', tlp: 'red' });
    assert.equal(note.statusCode, 201, note.body);
    const imported = await node.request({
      method: 'POST',
      url: `${api}/indicators/bulk?caseId=${caseId}&tlp=red`,
      headers: { ...lt.headers, 'content-type': 'text/csv' },
      payload: 'type,value\ndomain,quietly-imported.example\n',
    });
    assert.equal(imported.statusCode, 200, imported.body);
    assert.equal(await updatedAt(), start, 'the case told EE that something hidden was added');
    const listed = json(await call('GET', ee, '/cases')).items.find((c: any) => c.id === caseId);
    assert.equal(listed.updatedAt, start);

    node.clock.advance(60_000);
    const seen = await call('POST', lt, `/cases/${caseId}/observables`, {
      type: 'domain',
      value: 'openly-added.example',
    });
    assert.equal(seen.statusCode, 201, seen.body);
    assert.notEqual(await updatedAt(), start, 'a change every reader sees moves the case’s time');
  });
});

describe('the event stream judges an item’s events by the item’s own audience', () => {
  let node: TestNode;
  let lt: TestUser;
  let ltPoc: TestUser;
  let ee: TestUser;
  let eePoc: TestUser;
  let caseId: string;
  const hiddenSeqs: number[] = [];
  let sentinelSeq = 0;
  const call = caller(() => node);

  const seqsOf = async (user: TestUser) => {
    const actor = await node.services.identity.authenticateToken(user.token);
    assert.ok(actor);
    return (await node.services.events.since({ actor, requestId: null }, 0, 10_000)).map((e) => e.seq);
  };

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.creator', 'LT', ['analyst']);
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    eePoc = await node.user('ee.poc', 'EE', ['poc']);
    caseId = json(await call('POST', lt, '/cases', caseBody({ shares: { parties: ['EE'] } }))).id;
    const mark = await node.services.events.latestSeq();
    const observable = await call('POST', ee, `/cases/${caseId}/observables`, {
      type: 'domain',
      value: 'ee-red.example',
      tlp: 'red',
    });
    assert.equal(observable.statusCode, 201, observable.body);
    const note = await call('POST', ee, `/cases/${caseId}/notes`, { body: 'EE eyes only', tlp: 'red' });
    assert.equal(note.statusCode, 201, note.body);
    const sighting = await call(
      'POST',
      ee,
      `/cases/${caseId}/observables/${json(observable).id}/sightings`,
      {},
    );
    assert.equal(sighting.statusCode, 200, sighting.body);
    const imported = await node.request({
      method: 'POST',
      url: `${api}/indicators/bulk?caseId=${caseId}&tlp=red`,
      headers: { ...ee.headers, 'content-type': 'text/csv' },
      payload: 'domain,ee-red-2.example\n',
    });
    assert.equal(imported.statusCode, 200, imported.body);
    const ctx = { actor: node.cli.actor, requestId: null };
    hiddenSeqs.push(...(await node.services.events.since(ctx, mark, 100)).map((e) => e.seq));
    assert.equal(
      hiddenSeqs.length,
      4,
      'observable.create, case.note.create, observable.sighting, observable.import',
    );
    const task = await call('POST', lt, `/cases/${caseId}/tasks`, { title: 'After the RED items' });
    assert.equal(task.statusCode, 201, task.body);
    sentinelSeq = await node.services.events.latestSeq();
  });
  after(() => node.close());

  it('does not send the case’s creator the events of RED items others added', async () => {
    const seen = await seqsOf(lt);
    assert.ok(seen.includes(sentinelSeq), 'the creator sees the case’s own events');
    assert.deepEqual(
      hiddenSeqs.filter((seq) => seen.includes(seq)),
      [],
    );
  });

  it('sends them to their creator and to the PoC of the party they came from, not the owner’s PoC', async () => {
    const byCreator = await seqsOf(ee);
    assert.deepEqual(
      hiddenSeqs.filter((seq) => byCreator.includes(seq)),
      hiddenSeqs,
    );
    const byEePoc = await seqsOf(eePoc);
    assert.deepEqual(
      hiddenSeqs.filter((seq) => byEePoc.includes(seq)),
      hiddenSeqs,
    );
    const byLtPoc = await seqsOf(ltPoc);
    assert.ok(byLtPoc.includes(sentinelSeq));
    assert.deepEqual(
      hiddenSeqs.filter((seq) => byLtPoc.includes(seq)),
      [],
    );
  });

  it('replays past events after Last-Event-ID without them', async () => {
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (node.app.server.address() as AddressInfo).port;
    const got = await new Promise<number[]>((resolve, reject) => {
      const seqs: number[] = [];
      let buffer = '';
      const request = http.get(
        {
          host: '127.0.0.1',
          port,
          path: `${api}/events`,
          headers: { ...lt.headers, accept: 'text/event-stream', 'last-event-id': '0' },
        },
        (response) => {
          if (response.statusCode !== 200) reject(new Error(`GET /events answered ${response.statusCode}`));
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            buffer += chunk;
            for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
              const id = /^id: (\d+)$/m.exec(buffer.slice(0, end));
              buffer = buffer.slice(end + 2);
              if (id) seqs.push(Number(id[1]));
            }
            // Events come in order: once the last one is here, every earlier one was sent or not.
            if (seqs.includes(sentinelSeq)) {
              request.destroy();
              resolve(seqs);
            }
          });
        },
      );
      request.on('error', () => {});
    });
    assert.ok(got.length > 1);
    assert.deepEqual(
      hiddenSeqs.filter((seq) => got.includes(seq)),
      [],
    );
  });
});

describe('a partner cannot take a case from its owner', () => {
  let node: TestNode;
  let lt: TestUser;
  let lt2: TestUser;
  let ltPoc: TestUser;
  let ee: TestUser;
  let caseId: string;
  let ltItem: string;
  let eeItem: string;
  const call = caller(() => node);

  const sharesOf = async (user: TestUser) => json(await call('GET', user, `/cases/${caseId}/shares`));

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    lt2 = await node.user('lt.analyst2', 'LT', ['analyst']);
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    caseId = json(await call('POST', lt, '/cases', caseBody({ shares: { parties: ['EE', 'PL'] } }))).id;
    ltItem = json(
      await call('POST', lt, `/cases/${caseId}/observables`, { type: 'domain', value: 'lt.example' }),
    ).id;
    eeItem = json(
      await call('POST', ee, `/cases/${caseId}/observables`, { type: 'domain', value: 'ee.example' }),
    ).id;
  });
  after(() => node.close());

  it('refuses a shared party that narrows the owner’s case, saying who may', async () => {
    for (const change of [
      { tlp: 'red' },
      { tlp: 'amber+strict' },
      { parties: ['EE'] },
      { recipients: [ee.id] },
    ]) {
      const res = await call('PUT', ee, `/cases/${caseId}/shares`, change);
      assert.equal(res.statusCode, 403, `${JSON.stringify(change)}: ${res.body}`);
      assert.match(json(res).error.message, /only the case's own party \(LT\)/);
    }
    assert.equal((await sharesOf(ee)).can.change, false, 'the shared party is told it may not');
    const shares = await sharesOf(lt2);
    assert.equal(shares.can.change, true);
    assert.equal(shares.tlp, 'amber');
    assert.deepEqual(shares.parties, ['EE', 'PL']);
    assert.equal((await call('GET', lt2, `/cases/${caseId}`)).statusCode, 200);
    const audit = (await node.services.audit.page({ objectId: caseId }, 'asc', 100)).items.map(
      (e: any) => e.action,
    );
    assert.ok(!audit.includes('case.share.narrow'));
  });

  it('lets a shared party narrow only what it added itself', async () => {
    const theirs = await call('PATCH', ee, `/cases/${caseId}/observables/${ltItem}`, { tlp: 'red' });
    assert.equal(theirs.statusCode, 403, theirs.body);
    assert.match(json(theirs).error.message, /narrows only what it added itself/);
    assert.equal(json(await call('GET', lt2, `/cases/${caseId}/observables/${ltItem}`)).tlp, 'amber');
    const own = await call('PATCH', ee, `/cases/${caseId}/observables/${eeItem}`, { tlp: 'amber+strict' });
    assert.equal(own.statusCode, 200, own.body);
  });

  it('lets the owner narrow a partner’s item, and only the partner relax it', async () => {
    const narrowed = await call('PATCH', lt, `/cases/${caseId}/observables/${eeItem}`, { tlp: 'red' });
    assert.equal(narrowed.statusCode, 200, narrowed.body);
    assert.equal((await call('GET', lt2, `/cases/${caseId}/observables/${eeItem}`)).statusCode, 404);
    const relaxed = await call('PATCH', ee, `/cases/${caseId}/observables/${eeItem}`, { tlp: 'amber' });
    assert.equal(relaxed.statusCode, 200, relaxed.body);
    assert.equal((await call('GET', lt2, `/cases/${caseId}/observables/${eeItem}`)).statusCode, 200);
  });

  it('keeps the owner’s PoC reading a case narrowed to RED, so the owner can always relax it', async () => {
    const red = await call('PUT', lt, `/cases/${caseId}/shares`, { tlp: 'red' });
    assert.equal(red.statusCode, 200, red.body);
    assert.equal((await call('GET', ee, `/cases/${caseId}`)).statusCode, 404);
    assert.equal((await call('GET', lt2, `/cases/${caseId}`)).statusCode, 404);
    assert.equal((await call('GET', ltPoc, `/cases/${caseId}`)).statusCode, 200, 'the owner party’s PoC');
    const back = await call('PUT', ltPoc, `/cases/${caseId}/shares`, { tlp: 'amber' });
    assert.equal(back.statusCode, 200, back.body);
    assert.equal((await call('GET', lt2, `/cases/${caseId}`)).statusCode, 200);
    assert.equal((await call('GET', ee, `/cases/${caseId}`)).statusCode, 200);
  });

  it('keeps the owner’s PoC reading the party’s own RED item, and relaxing it', async () => {
    const red = await call('PATCH', lt, `/cases/${caseId}/observables/${ltItem}`, { tlp: 'red' });
    assert.equal(red.statusCode, 200, red.body);
    assert.equal((await call('GET', lt2, `/cases/${caseId}/observables/${ltItem}`)).statusCode, 404);
    const seen = await call('GET', ltPoc, `/cases/${caseId}/observables/${ltItem}`);
    assert.equal(seen.statusCode, 200, seen.body);
    const back = await call('PATCH', ltPoc, `/cases/${caseId}/observables/${ltItem}`, { tlp: 'amber' });
    assert.equal(back.statusCode, 200, back.body);
    assert.equal((await call('GET', ee, `/cases/${caseId}/observables/${ltItem}`)).statusCode, 200);
  });
});

describe('writers of one case go together, and still never store one value twice', () => {
  let node: TestNode;
  let first: TestUser;
  let second: TestUser;
  let caseId: string;
  const call = caller(() => node);

  before(async () => {
    node = await startTestNode();
    first = await node.user('lt.analyst', 'LT', ['analyst']);
    second = await node.user('lt.analyst2', 'LT', ['analyst']);
    caseId = json(await call('POST', first, '/cases', caseBody())).id;
  });
  after(() => node.close());

  it('lets exactly one of two people adding the same value at once store it', async () => {
    // Items are added under a shared lock of the case: without the value's own lock, both adders
    // (whose copies the unique index tells apart) could find no visible row and both store one.
    for (let round = 0; round < 20; round++) {
      const value = `race-${round}.example`;
      const answers = await Promise.all(
        [first, second].map((user) =>
          call('POST', user, `/cases/${caseId}/observables`, { type: 'domain', value }),
        ),
      );
      assert.deepEqual(
        answers.map((a) => a.statusCode).sort(),
        [201, 409],
        answers.map((a) => a.body).join('\n'),
      );
    }
    const listed = json(await call('GET', first, `/cases/${caseId}/observables?limit=100`));
    assert.equal(listed.items.length, 20);
    // An add is answered at its commit; its event, committed with it, is placed in the chain just after.
    await node.services.audit.seal();
    const audit = await node.database.db
      .selectFrom('audit_events')
      .select('envelope')
      .where(sql<boolean>`envelope::jsonb ->> 'action' = 'observable.create'`)
      .execute();
    assert.equal(audit.length, 20, 'one audit event per stored value');
    assert.equal((await node.services.audit.verify()).ok, true);
  });

  it('moves the case’s time after a visible item is added, though writers share the case', async () => {
    const before = json(await call('GET', first, `/cases/${caseId}`)).updatedAt;
    node.clock.advance(5_000);
    const added = await call('POST', second, `/cases/${caseId}/notes`, { body: 'seen by all readers' });
    assert.equal(added.statusCode, 201, added.body);
    assert.notEqual(json(await call('GET', first, `/cases/${caseId}`)).updatedAt, before);
  });
});

describe('a case is an exercise exactly when its request is one', () => {
  let node: TestNode;
  let poc: TestUser;
  let analyst: TestUser;
  const call = caller(() => node);

  before(async () => {
    node = await startTestNode();
    poc = await node.user('lt.poc', 'LT', ['poc']);
    analyst = await node.user('lt.analyst', 'LT', ['analyst']);
  });
  after(() => node.close());

  it('refuses a real case for a drill, or a drill for a real request, naming the field', async () => {
    const drill = json(await fileRequest(node, poc, { exercise: true, title: 'EXERCISE Cyber Coalition' }));
    const real = json(await fileRequest(node, poc));
    for (const [request, exercise] of [
      [drill, false],
      [real, true],
    ] as const) {
      const refused = await call('POST', analyst, '/cases', caseBody({ requestId: request.id, exercise }));
      assert.equal(refused.statusCode, 400, refused.body);
      assert.ok(
        json(refused).error.details.some((d: { field: string }) => d.field === 'body/exercise'),
        refused.body,
      );
    }
    const inherited = await call('POST', analyst, '/cases', caseBody({ requestId: drill.id }));
    assert.equal(inherited.statusCode, 201, inherited.body);
    assert.equal(json(inherited).exercise, true);
  });
});
