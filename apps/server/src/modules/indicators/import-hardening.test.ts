import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { MAX_LINE_CHARS } from './bulk-parse.ts';
import { normaliseObservable } from './observable-types.ts';

const api = '/api/v1';

const caseBody = (overrides: Record<string, unknown> = {}) => ({
  title: 'Wiper at the water utility',
  description: 'Indicators from the first responders',
  incidentClass: 'rsit:malicious-code="infected-system"',
  severity: 'high',
  tlp: 'amber',
  pap: 'amber',
  ...overrides,
});

describe('bulk import: nothing a user sends can stall the node', () => {
  let node: TestNode;
  let lt: TestUser;
  let ee: TestUser;
  let ltCase: string;

  const bulk = (query: string, contentType: string, payload: string, user = lt) =>
    node.request({
      method: 'POST',
      url: `${api}/indicators/bulk?caseId=${ltCase}${query}`,
      headers: { ...user.headers, 'content-type': contentType },
      payload,
    });
  const observableCount = async () =>
    json(
      await node.request({ method: 'GET', url: `${api}/cases/${ltCase}/observables`, headers: lt.headers }),
    ).total as number;

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.importer', 'LT', ['analyst']);
    ee = await node.user('ee.colleague', 'EE', ['analyst']);
    const created = await node.request({
      method: 'POST',
      url: `${api}/cases`,
      headers: lt.headers,
      payload: caseBody(),
    });
    assert.equal(created.statusCode, 201, created.body);
    ltCase = json(created).id;
  });
  after(() => node.close());

  it('refuses a file that is one 30 MB line, naming the line, in every format', async () => {
    const huge = 'a'.repeat(30 * 1024 * 1024);
    for (const [query, contentType, payload] of [
      ['&type=domain', 'text/plain', huge],
      ['', 'application/x-ndjson', `{"type":"domain","value":"${huge}"}\n`],
      ['', 'text/csv', `domain,${huge}\n`],
      ['&partial=true', 'text/csv', `domain,good.example\ndomain,"${huge}"\n`],
    ] as const) {
      const res = await bulk(query, contentType, payload);
      assert.equal(res.statusCode, 400, `${contentType}: ${res.body.slice(0, 300)}`);
      const error = json(res).error;
      assert.match(error.message, new RegExp(`longer than ${MAX_LINE_CHARS} characters`));
      const expectedLine = query === '&partial=true' ? 2 : 1;
      assert.equal(error.details[0].line, expectedLine, contentType);
    }
    assert.equal(await observableCount(), 0, 'nothing was written, not even the good line before it');
  });

  it('refuses an NDJSON line nested two thousand deep before parsing it', async () => {
    const deep = `${'['.repeat(2000)}${']'.repeat(2000)}`;
    const res = await bulk(
      '',
      'application/x-ndjson',
      `{"type":"domain","value":"ok.example"}\n{"type":"domain","value":${deep}}\n${'{'.repeat(2000)}\n`,
    );
    assert.equal(res.statusCode, 400, res.body);
    const details = json(res).error.details;
    assert.deepEqual(
      details.map((d: { line: number }) => d.line),
      [2, 3],
    );
    for (const d of details)
      assert.match(d.message, /nests arrays or objects; each line must be one flat object/);
    assert.equal(await observableCount(), 0);
  });

  it('refuses values defanged in a thousand nested layers, after a bounded number of passes', async () => {
    const nested = `${'['.repeat(1000)}.${']'.repeat(1000)}`;
    const direct = normaliseObservable('domain', `evil${nested}example`);
    assert.equal(direct.ok, false);
    assert.match(!direct.ok ? direct.message : '', /still defanged after 8 rounds of refanging/);
    // Three levels are real-world defanging and still work.
    const shallow = normaliseObservable('domain', 'evil[[[.]]]example');
    assert.deepEqual(shallow.ok && shallow.observable.value, 'evil.example');
    const lines = Array.from({ length: 500 }, (_, i) => `evil${i}${nested}example`).join('\n');
    const res = await bulk('&type=domain&partial=true', 'text/plain', lines);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(json(res).rejected, 500);
    assert.match(json(res).problems[0].message, /still defanged/);
  });

  it('answers another user while a large import is being written', async () => {
    const lines = ['type,value'];
    for (let i = 0; i < 20_000; i++) lines.push(`ip-dst,10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    let importDone = false;
    const importing = bulk('', 'text/csv', `${lines.join('\n')}\n`).then((res) => {
      importDone = true;
      return res;
    });
    // Wait (by polling, not by time) until the import has committed a part of its rows.
    let firstPart: number | undefined;
    while (!importDone && firstPart === undefined) {
      const events = await node.services.audit.page({ action: 'observable.import' }, 'asc', 1);
      firstPart = events.items[0]?.seq;
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(importDone, false, 'the import was still running when its first part was committed');
    // Another user's write now: it must not wait for the whole import.
    const other = await node.request({
      method: 'POST',
      url: `${api}/cases`,
      headers: ee.headers,
      payload: caseBody({ title: 'Meanwhile, elsewhere' }),
    });
    assert.equal(other.statusCode, 201, other.body);
    const res = await importing;
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(json(res), {
      imported: 20_000,
      duplicates: 0,
      rejected: 0,
      warninglisted: 20_000,
      problems: [],
    });
    const parts = (await node.services.audit.page({ action: 'observable.import' }, 'asc', 1000)).items;
    const otherSeq = (
      await node.services.audit.page({ action: 'case.create', objectId: json(other).id }, 'asc', 1)
    ).items[0]!.seq;
    assert.ok(parts.length > 1, 'written in parts');
    assert.ok(otherSeq < parts.at(-1)!.seq, 'the other user was answered before the import ended');
    const lastSummary = parts.at(-1)!.summary as Record<string, any>;
    assert.deepEqual(lastSummary.total, {
      imported: 20_000,
      duplicates: 0,
      rejected: 0,
      warninglisted: 20_000,
    });
    assert.deepEqual(
      parts.map((p) => (p.summary as Record<string, any>).part),
      parts.map((_, i) => i + 1),
    );
    assert.equal(new Set(parts.map((p) => (p.summary as Record<string, any>).importId)).size, 1);
  });
  it('runs one import at a time for each user, and says so to a second', async () => {
    // The first import's body is still arriving: it holds the user's slot.
    const body = new PassThrough();
    body.write('type,value\ndomain,first-of-two.example\n');
    const first = node.request({
      method: 'POST',
      url: `${api}/indicators/bulk?caseId=${ltCase}`,
      headers: { ...lt.headers, 'content-type': 'text/csv' },
      payload: body,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await bulk('', 'text/csv', 'type,value\ndomain,second-of-two.example\n');
    assert.equal(second.statusCode, 429, second.body);
    assert.match(json(second).error.message, /already have an import running/);
    const other = await bulk('', 'text/csv', 'type,value\ndomain,someone-else.example\n', ee);
    assert.notEqual(other.statusCode, 429, 'another user waited for this one');
    body.end();
    assert.equal((await first).statusCode, 200);
    const again = await bulk('', 'text/csv', 'type,value\ndomain,second-of-two.example\n');
    assert.equal(again.statusCode, 200, again.body);
  });
});

describe('bulk import: all or nothing, although written in parts', () => {
  let node: TestNode;
  let lt: TestUser;

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.importer', 'LT', ['analyst']);
  });
  after(() => node.close());

  const observableTotal = async (caseId: string) =>
    json(
      await node.request({ method: 'GET', url: `${api}/cases/${caseId}/observables`, headers: lt.headers }),
    ).total as number;
  const summaries = async (action: string, caseId: string) =>
    (await node.services.audit.page({ action, objectId: caseId }, 'asc', 1000)).items.map(
      (e) => e.summary as Record<string, any>,
    );

  it('a part that fails after others committed leaves nothing of the import; importing again gives what a first import would', async () => {
    const created = await node.request({
      method: 'POST',
      url: `${api}/cases`,
      headers: lt.headers,
      payload: caseBody(),
    });
    assert.equal(created.statusCode, 201, created.body);
    const caseId = json(created).id as string;
    const alone = await node.request({
      method: 'POST',
      url: `${api}/cases/${caseId}/observables`,
      headers: lt.headers,
      payload: { type: 'domain', value: 'h7.rollback.example' },
    });
    assert.equal(alone.statusCode, 201, alone.body);
    const csv = `${['type,value', ...Array.from({ length: 4000 }, (_, n) => `domain,h${n}.rollback.example`)].join('\n')}\n`;
    const bulk = () =>
      node.request({
        method: 'POST',
        url: `${api}/indicators/bulk?caseId=${caseId}`,
        headers: { ...lt.headers, 'content-type': 'text/csv' },
        payload: csv,
      });

    // A fault of the database's own (as a full disk would be) when the part holding line 3,500 is
    // written: the first part (at most 2,000 rows on either engine) has committed by then.
    const { db } = node.database;
    await sql`create function refuse_one_row() returns trigger language plpgsql as $$
      begin raise exception 'the disk is full'; end $$`.execute(db);
    await sql`create trigger refuse_one_row before insert on observables for each row
      when (new.value = 'h3500.rollback.example') execute function refuse_one_row()`.execute(db);
    const failed = await bulk();
    await sql`drop trigger refuse_one_row on observables`.execute(db);
    await sql`drop function refuse_one_row()`.execute(db);

    assert.notEqual(failed.statusCode, 200, failed.body);
    const parts = await summaries('observable.import', caseId);
    const committed = parts.reduce((sum, p) => sum + p.imported, 0);
    assert.ok(committed > 0, 'parts of the import had committed before one failed');
    assert.equal(await observableTotal(caseId), 1, 'nothing of the failed import is left');
    const rollback = await summaries('observable.import.rollback', caseId);
    assert.equal(rollback.at(-1)?.total, committed, 'the rollback is audited with what it removed');
    assert.equal(rollback.at(-1)?.importId, parts[0]!.importId);

    const again = await bulk();
    assert.equal(again.statusCode, 200, again.body);
    assert.deepEqual(json(again), {
      imported: 3999,
      duplicates: 1,
      rejected: 0,
      warninglisted: 0,
      problems: [],
    });
    assert.equal(await observableTotal(caseId), 4000);
  });

  it('in a later part too, skips what the importer sees and stores their own copy of what they do not', async () => {
    const ee = await node.user('ee.partner', 'EE', ['analyst']);
    const created = await node.request({
      method: 'POST',
      url: `${api}/cases`,
      headers: lt.headers,
      payload: caseBody({ shares: { parties: ['EE'] } }),
    });
    assert.equal(created.statusCode, 201, created.body);
    const caseId = json(created).id as string;
    const add = async (user: TestUser, value: string, tlp?: string) => {
      const res = await node.request({
        method: 'POST',
        url: `${api}/cases/${caseId}/observables`,
        headers: user.headers,
        payload: { type: 'domain', value, ...(tlp ? { tlp } : {}) },
      });
      assert.equal(res.statusCode, 201, res.body);
    };
    await add(ee, 'partner-amber.late.example');
    await add(ee, 'partner-red.late.example', 'red');
    await add(lt, 'own.late.example');
    // The three come last, after enough new lines for the import to be written in several parts.
    const fresh = Array.from({ length: 6000 }, (_, n) => `domain,n${n}.late.example`);
    const known = ['partner-amber.late.example', 'partner-red.late.example', 'own.late.example'];
    const csv = `${['type,value', ...fresh, ...known.map((v) => `domain,${v}`)].join('\n')}\n`;
    const res = await node.request({
      method: 'POST',
      url: `${api}/indicators/bulk?caseId=${caseId}`,
      headers: { ...lt.headers, 'content-type': 'text/csv' },
      payload: csv,
    });
    assert.equal(res.statusCode, 200, res.body);
    // The RED value is new to the importer, like any other: the counts do not tell it exists.
    assert.deepEqual(json(res), {
      imported: 6001,
      duplicates: 2,
      rejected: 0,
      warninglisted: 0,
      problems: [],
    });
    assert.ok((await summaries('observable.import', caseId)).length > 1, 'written in parts');
    const copies = json(
      await node.request({
        method: 'GET',
        url: `${api}/cases/${caseId}/observables?q=partner-`,
        headers: lt.headers,
      }),
    );
    assert.deepEqual(copies.items.map((o: any) => `${o.value} ${o.originParty}`).sort(), [
      'partner-amber.late.example EE',
      'partner-red.late.example LT',
    ]);
    // The importer's list: the new values, the partner's AMBER one, their own, and their RED copy.
    assert.equal(await observableTotal(caseId), 6000 + 3);
  });
});
