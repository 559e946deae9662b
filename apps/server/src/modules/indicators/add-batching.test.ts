import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { caseViewerOf } from '../cases/case-viewer.ts';
import { duplicateProbe } from './observables.repository.ts';

/**
 * Issue 16 (bench/load): adds of observables to one case made at the same time are written in one
 * transaction (group commit), and each request still gets the answer, the audit event and the live
 * event it would have had alone.
 */

const api = '/api/v1';

const caseBody = (overrides: Record<string, unknown> = {}) => ({
  title: 'Credential phishing at the grid operator',
  incidentClass: 'rsit:fraud="phishing"',
  severity: 'high',
  tlp: 'amber',
  pap: 'amber',
  ...overrides,
});

describe('adds to one case at the same time are written together', () => {
  let node: TestNode;
  let lt: TestUser;
  let ltAuditor: TestUser;
  let ee: TestUser;
  let fi: TestUser;
  let caseId: string;
  let visibleId: string;
  let hiddenId: string;

  const add = (user: TestUser, payload: object, requestId?: string) =>
    node.request({
      method: 'POST',
      url: `${api}/cases/${caseId}/observables`,
      headers: { ...user.headers, ...(requestId ? { 'x-request-id': requestId } : {}) },
      payload,
    });
  const audit = async (action: string) =>
    (await node.services.audit.page({ action, objectId: caseId }, 'asc', 10_000)).items;

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    // Of the owner party, so they read the AMBER case; but not one who works cases.
    ltAuditor = await node.user('lt.auditor', 'LT', ['auditor']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    fi = await node.user('fi.analyst', 'FI', ['analyst']);
    const created = await node.request({
      method: 'POST',
      url: `${api}/cases`,
      headers: lt.headers,
      payload: caseBody({ shares: { parties: ['EE'] } }),
    });
    assert.equal(created.statusCode, 201, created.body);
    caseId = json(created).id;
    const visible = await add(lt, { type: 'domain', value: 'visible.example' });
    assert.equal(visible.statusCode, 201, visible.body);
    visibleId = json(visible).id;
    const hidden = await add(lt, { type: 'domain', value: 'held-red.example', tlp: 'red' });
    assert.equal(hidden.statusCode, 201, hidden.body);
    hiddenId = json(hidden).id;
  });
  after(() => node.close());

  it('answers 50 concurrent adds each on its own, stores each once and audits each with its request id', async () => {
    const batchesBefore = { ...node.services.observables.addBatching };
    const eventMark = await node.services.events.latestSeq();
    const values = Array.from({ length: 50 }, (_, i) => `host-${i}.batch.example`);
    const responses = await Promise.all(
      values.map((value, i) => add(lt, { type: 'domain', value }, `batch-request-${i}`)),
    );
    for (const [i, res] of responses.entries()) {
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(json(res).value, values[i]);
      assert.equal(res.headers['x-request-id'], `batch-request-${i}`);
    }
    const ids = responses.map((res) => json(res).id as string);
    assert.equal(new Set(ids).size, 50);

    const listed = json(
      await node.request({
        method: 'GET',
        url: `${api}/cases/${caseId}/observables?q=batch.example&limit=200`,
        headers: lt.headers,
      }),
    );
    assert.equal(listed.total, 50, 'each value stored once');
    assert.deepEqual(listed.items.map((o: { id: string }) => o.id).sort(), [...ids].sort());

    const created = (await audit('observable.create')).filter((e) =>
      ids.includes((e.summary as { observableId: string }).observableId),
    );
    assert.equal(created.length, 50, 'one audit event per add');
    for (const event of created) {
      const i = ids.indexOf((event.summary as { observableId: string }).observableId);
      assert.equal(event.requestId, `batch-request-${i}`, 'each event carries its own request id');
      assert.equal(event.actor.name, 'lt.analyst');
      assert.deepEqual(event.summary, { observableId: ids[i], type: 'domain', tlp: 'amber' });
    }
    assert.equal((await node.services.audit.verify()).ok, true, 'the audit chain verifies');

    // The live events are numbered just after the answers, as a stream would receive them.
    // (Events of earlier adds may be numbered after the mark too: only these adds' are counted.)
    const created50 = async () =>
      (await node.services.events.since(node.cli, eventMark, 1000)).filter(
        (e) => e.type === 'observable.create' && ids.includes(e.data.itemId as string),
      );
    let events = await created50();
    for (
      const until = Date.now() + 10_000;
      events.length < 50 && Date.now() < until;
      events = await created50()
    )
      await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      events.map((e) => e.data.itemId as string).sort(),
      [...ids].sort(),
      'one live event per add',
    );
    for (const event of events) assert.equal(event.data.by, 'lt.analyst');

    const batching = node.services.observables.addBatching;
    assert.equal(batching.items - batchesBefore.items, 50);
    assert.ok(
      batching.batches - batchesBefore.batches < 50,
      `fewer transactions than adds (${batching.batches - batchesBefore.batches} for 50)`,
    );
  });

  it('answers at commit, then places the audit event in the chain and numbers the live event by itself', async () => {
    const res = await add(lt, { type: 'domain', value: 'placed-soon.example' });
    assert.equal(res.statusCode, 201, res.body);
    const id = json(res).id as string;
    // Nobody reads the log or the events here (a read would place them first): the node does it.
    const placed = async () => {
      const [inChain, numbered] = await Promise.all([
        sql<{ n: number }>`select count(*)::int as n from audit_events
          where position(${id} in envelope) > 0`.execute(node.database.db),
        sql<{ n: number }>`select count(*)::int as n from notifications
          where type = 'observable.create' and position(${id} in data::text) > 0`.execute(node.database.db),
      ]);
      return inChain.rows[0]!.n === 1 && numbered.rows[0]!.n === 1;
    };
    const until = Date.now() + 10_000;
    while (!(await placed()) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.ok(await placed(), 'the event is in the chain and the live event numbered');
  });

  it('gives each add of a mixed batch its own answer', async () => {
    const deniedBefore = (
      await node.services.audit.page({ action: 'access.denied', actorName: 'lt.auditor' }, 'asc', 100)
    ).items.length;
    const [duplicate, twiceA, twiceB, hiddenCopy, forbidden, invisible, ...fresh] = await Promise.all([
      add(ee, { type: 'domain', value: 'Visible[.]example' }),
      add(lt, { type: 'domain', value: 'twice.example' }),
      add(lt, { type: 'domain', value: 'twice.example' }),
      add(ee, { type: 'domain', value: 'held-red.example' }),
      add(ltAuditor, { type: 'domain', value: 'auditor.example' }),
      add(fi, { type: 'domain', value: 'outsider.example' }),
      ...Array.from({ length: 10 }, (_, i) =>
        add(i % 2 ? lt : ee, { type: 'ip-dst', value: `192.0.2.${i + 1}` }),
      ),
    ]);

    assert.equal(duplicate!.statusCode, 409, duplicate!.body);
    assert.equal(json(duplicate!).error.message, 'the case already has the domain visible.example');
    assert.deepEqual(json(duplicate!).error.details, { id: visibleId });

    const twice = [twiceA!, twiceB!].map((res) => res.statusCode).sort();
    assert.deepEqual(twice, [201, 409], `${twiceA!.body} / ${twiceB!.body}`);
    const lost = twiceA!.statusCode === 409 ? twiceA! : twiceB!;
    const won = twiceA!.statusCode === 201 ? twiceA! : twiceB!;
    assert.equal(json(lost).error.message, 'the case already has the domain twice.example');
    assert.deepEqual(json(lost).error.details, { id: json(won).id });

    assert.equal(hiddenCopy!.statusCode, 201, hiddenCopy!.body);
    assert.notEqual(json(hiddenCopy!).id, hiddenId, 'their own copy, not the RED row');
    assert.equal(json(hiddenCopy!).originParty, 'EE');
    assert.equal(json(hiddenCopy!).tlp, 'amber');
    assert.doesNotMatch(hiddenCopy!.body, new RegExp(hiddenId));

    assert.equal(forbidden!.statusCode, 403, forbidden!.body);
    assert.match(json(forbidden!).error.message, /you may read this case but not add observables/);
    const denied = (
      await node.services.audit.page({ action: 'access.denied', actorName: 'lt.auditor' }, 'asc', 100)
    ).items;
    assert.equal(denied.length, deniedBefore + 1, 'the refusal is audited, once');
    assert.deepEqual(denied.at(-1)!.summary, { status: 403, reason: json(forbidden!).error.message });

    assert.equal(invisible!.statusCode, 404, invisible!.body);
    assert.equal(json(invisible!).error.message, `case ${caseId} not found`);

    for (const res of fresh) assert.equal(res.statusCode, 201, res.body);
    const stored = await node.database.db
      .selectFrom('observables')
      .select(['value', 'created_by'])
      .where('case_id', '=', caseId)
      .where('value', 'in', ['auditor.example', 'outsider.example', 'twice.example'])
      .execute();
    assert.deepEqual(stored, [{ value: 'twice.example', created_by: 'lt.analyst' }]);
    assert.equal((await node.services.audit.verify()).ok, true);
  });

  it('adds each of a batch that fails as a whole on its own, with its own answer', async () => {
    // A failure that only a batch meets: the database refuses any statement inserting more than
    // one observable, as a serialization failure (which single adds never meet).
    await sql`create function refuse_many_observables() returns trigger language plpgsql as $$
      begin
        if (select count(*) from inserted) > 1 then
          raise exception 'more than one observable at once' using errcode = '40001';
        end if;
        return null;
      end $$`.execute(node.database.db);
    await sql`create trigger refuse_many_observables after insert on observables
      referencing new table as inserted for each statement execute function refuse_many_observables()`.execute(
      node.database.db,
    );
    try {
      const fallbacksBefore = node.services.observables.addBatching.fallbacks;
      const auditsBefore = (await audit('observable.create')).length;
      const [duplicate, forbidden, ...fresh] = await Promise.all([
        add(lt, { type: 'domain', value: 'visible.example' }),
        add(ltAuditor, { type: 'domain', value: 'auditor-2.example' }),
        ...Array.from({ length: 20 }, (_, i) =>
          add(i % 2 ? lt : ee, { type: 'url', value: `https://fallback.example/${i}` }, `fallback-${i}`),
        ),
      ]);
      assert.ok(
        node.services.observables.addBatching.fallbacks > fallbacksBefore,
        'a batch failed and its adds went one by one',
      );
      assert.equal(duplicate!.statusCode, 409, duplicate!.body);
      assert.deepEqual(json(duplicate!).error, {
        code: 'conflict',
        message: 'the case already has the domain visible.example',
        details: { id: visibleId },
      });
      assert.equal(forbidden!.statusCode, 403, forbidden!.body);
      for (const [i, res] of fresh.entries()) {
        assert.equal(res.statusCode, 201, res.body);
        assert.equal(json(res).value, `https://fallback.example/${i}`);
        assert.equal(json(res).createdBy, i % 2 ? 'lt.analyst' : 'ee.analyst');
      }
      const created = (await audit('observable.create')).slice(auditsBefore);
      assert.equal(created.length, 20, 'each add audited once, none twice');
      assert.deepEqual(created.map((e) => e.requestId).sort(), fresh.map((_, i) => `fallback-${i}`).sort());
    } finally {
      await sql`drop trigger refuse_many_observables on observables`.execute(node.database.db);
      await sql`drop function refuse_many_observables()`.execute(node.database.db);
    }
    assert.equal((await node.services.audit.verify()).ok, true);
  });

  it('probes the value index for duplicates with a plan made before the table had statistics', async () => {
    // A generic plan made while the table was small (a new node) is kept per connection: one that
    // took another index of the case would read every row of the case for every value probed.
    const { db } = node.database;
    const viewer = caseViewerOf(node.clock, {
      actor: { type: 'user', id: lt.id, name: lt.name, party: 'LT', roles: ['analyst'] },
      requestId: null,
    });
    const plan = await db.connection().execute(async (conn) => {
      await sql`set plan_cache_mode = force_generic_plan`.execute(conn);
      try {
        const probe = duplicateProbe(conn, viewer, caseId, [
          { type: 'domain', value: 'probe.example' },
        ]).compile(conn);
        await sql.raw(`prepare duplicate_probe as ${probe.sql}`).execute(conn);
        const args = probe.parameters.map((p) => `'${String(p).replaceAll("'", "''")}'`).join(', ');
        const explained = await sql
          .raw<Record<string, string>>(`explain execute duplicate_probe(${args})`)
          .execute(conn);
        await sql`deallocate duplicate_probe`.execute(conn);
        return explained.rows.map((row) => Object.values(row)[0]).join('\n');
      } finally {
        await sql`reset plan_cache_mode`.execute(conn);
      }
    });
    assert.match(plan, /observables_case_value_creator/, plan);
    assert.doesNotMatch(plan, /observables_case_(last_seen|first_seen|added)/, plan);
  });
});
