import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { json, onPostgres } from '../../test/harness.ts';
import { openTransaction, settledOrWaiting } from '../../test/transactions.fixtures.ts';
import { type FeedVersion, signPage } from './change-feed.ts';
import { feedCarrier, type Party, peerOf, startParty } from './federation.fixtures.ts';

// Three nodes in one process, each its own database and key, the feed carried between them by hand
// (the HTTP transport and its signatures are tested in http-signatures.test.ts and the
// three-process test): what each party's node receives, and how it applies it.

const api = '/api/v1';
const caseBody = (title: string, tlp: string, parties: string[] = []) => ({
  title,
  incidentClass: 'rsit:malicious-code="infected-system"',
  severity: 'high',
  tlp,
  pap: 'amber',
  shares: { parties },
});

describe('change feed between LT, EE and FI', () => {
  let lt: Party;
  let ee: Party;
  let fi: Party;
  const { cursors, sync } = feedCarrier();

  const get = (party: Party, url: string) =>
    party.node.request({ method: 'GET', url: `${api}${url}`, headers: party.analyst.headers });
  const post = (party: Party, url: string, payload: unknown) =>
    party.node.request({
      method: 'POST',
      url: `${api}${url}`,
      headers: party.analyst.headers,
      payload: payload as object,
    });

  before(async () => {
    lt = await startParty('LT');
    ee = await startParty('EE');
    fi = await startParty('FI');
  });
  after(async () => {
    await Promise.all([lt, ee, fi].map((p) => p?.node.close()));
  });

  let amberCase: string;
  let greenCase: string;
  let redNote: string;

  it('an AMBER case shared with EE reaches EE and not FI; a GREEN one reaches both; RED never leaves', async () => {
    const amber = await post(lt, '/cases', caseBody('Ransomware at the grid operator', 'amber', ['EE']));
    assert.equal(amber.statusCode, 201, amber.body);
    amberCase = json(amber).id;
    const green = await post(lt, '/cases', caseBody('Phishing wave', 'green'));
    assert.equal(green.statusCode, 201, green.body);
    greenCase = json(green).id;
    const observable = await post(lt, `/cases/${amberCase}/observables`, {
      type: 'ip-dst',
      value: '203.0.113.7',
    });
    assert.equal(observable.statusCode, 201, observable.body);
    const red = await post(lt, `/cases/${amberCase}/notes`, {
      body: 'the source is a named insider',
      tlp: 'red',
    });
    assert.equal(red.statusCode, 201, red.body);
    redNote = json(red).id;

    await sync(lt, ee);
    await sync(lt, fi);

    const eeCases = json(await get(ee, '/cases'))
      .items.map((c: { title: string }) => c.title)
      .sort();
    assert.deepEqual(eeCases, ['Phishing wave', 'Ransomware at the grid operator']);
    const fiCases = json(await get(fi, '/cases')).items.map((c: { title: string }) => c.title);
    assert.deepEqual(fiCases, ['Phishing wave']);

    const eeObservables = json(await get(ee, `/cases/${amberCase}/observables`)).items;
    assert.deepEqual(
      eeObservables.map((o: { value: string }) => o.value),
      ['203.0.113.7'],
    );
    const eeNotes = json(await get(ee, `/cases/${amberCase}/notes`)).items;
    assert.equal(eeNotes.length, 0, 'the RED note stays on LT');
    const held = await ee.node.database.db
      .selectFrom('case_notes')
      .select('id')
      .where('id', '=', redNote)
      .execute();
    assert.equal(held.length, 0);
    // FI's lookup of LT's AMBER value finds nothing; EE's finds LT's case.
    const fiLookup = json(await get(fi, '/indicators/lookup?value=203.0.113.7'));
    assert.equal(JSON.stringify(fiLookup).includes(amberCase), false);
    const eeLookup = json(await get(ee, '/indicators/lookup?value=203.0.113.7'));
    assert.equal(JSON.stringify(eeLookup).includes(amberCase), true);
  });

  it("a copy is read-only: EE cannot edit LT's case, but adds a note of its own that reaches LT", async () => {
    const edit = await ee.node.request({
      method: 'PATCH',
      url: `${api}/cases/${amberCase}`,
      headers: ee.analyst.headers,
      payload: { title: 'renamed by EE' },
    });
    assert.equal(edit.statusCode, 403, edit.body);
    // A bulk act refuses LT's observables by name, and a hidden or absent id looks absent.
    const [copied] = json(await get(ee, `/cases/${amberCase}/observables`)).items;
    const absent = crypto.randomUUID();
    const tagged = await post(ee, `/cases/${amberCase}/observables/bulk`, {
      action: 'tag',
      ids: [copied.id, absent],
      tags: ['seen-at-ee'],
    });
    assert.equal(tagged.statusCode, 200, tagged.body);
    assert.deepEqual(json(tagged).results, [
      { id: copied.id, outcome: 'refused', message: "it is a read-only copy from LT's node" },
      { id: absent, outcome: 'not-found' },
    ]);
    // Below the services, the database itself keeps copies read-only.
    await assert.rejects(
      ee.node.database.db.updateTable('cases').set({ title: 'x' }).where('id', '=', amberCase).execute(),
      /read-only copy from LT's node/,
    );
    await assert.rejects(
      ee.node.database.db
        .insertInto('case_tasks')
        .values({
          id: crypto.randomUUID(),
          case_id: amberCase,
          title: 't',
          description: '',
          status: 'open',
          assignee_id: null,
          due_at: null,
          done_at: null,
          created_by: 'x',
          created_at: new Date(),
          updated_at: new Date(),
          version: 1,
        })
        .execute(),
      /read-only copy from LT's node/,
    );
    const note = await post(ee, `/cases/${amberCase}/notes`, {
      body: 'EE saw the same IP at its TSO',
      tlp: 'amber',
    });
    assert.equal(note.statusCode, 201, note.body);
    const result = await sync(ee, lt);
    assert.equal(result.applied, 1);
    const ltNotes = json(await get(lt, `/cases/${amberCase}/notes`)).items.map(
      (n: { body: string }) => n.body,
    );
    assert.ok(ltNotes.includes('EE saw the same IP at its TSO'), JSON.stringify(ltNotes));
    // LT cannot edit EE's note either, nor does LT's own feed speak for it.
    const fromLt = await lt.node.services.federation.feed.page('FI', cursors.get('LT->FI') ?? 0, 1000);
    assert.equal(
      fromLt.changes.some((c) => c.type === 'case_note'),
      false,
    );
  });

  it('a narrowing retracts: LT unshares the AMBER case from EE and EE removes it', async () => {
    const narrowed = await lt.node.request({
      method: 'PUT',
      url: `${api}/cases/${amberCase}/shares`,
      headers: lt.analyst.headers,
      payload: { parties: [] },
    });
    assert.equal(narrowed.statusCode, 200, narrowed.body);
    const result = await sync(lt, ee);
    assert.ok(result.retracted >= 1, JSON.stringify(result));
    const eeCases = json(await get(ee, '/cases')).items.map((c: { id: string }) => c.id);
    assert.equal(eeCases.includes(amberCase), false);
    assert.equal((await get(ee, `/cases/${amberCase}`)).statusCode, 404);
    const observables = await ee.node.database.db
      .selectFrom('observables')
      .select('id')
      .where('case_id', '=', amberCase)
      .where('mirrored_from', 'is not', null)
      .execute();
    assert.equal(observables.length, 0);
    // FI never held it: it gets no retraction naming the case.
    const fiPage = await lt.node.services.federation.feed.page('FI', cursors.get('LT->FI') ?? 0, 1000);
    assert.equal(
      fiPage.changes.some((c) => c.id === amberCase),
      false,
    );
  });

  it('relaxing again brings the case and its items back', async () => {
    const relaxed = await lt.node.request({
      method: 'PUT',
      url: `${api}/cases/${amberCase}/shares`,
      headers: lt.analyst.headers,
      payload: { parties: ['EE'] },
    });
    assert.equal(relaxed.statusCode, 200, relaxed.body);
    await sync(lt, ee);
    assert.equal((await get(ee, `/cases/${amberCase}`)).statusCode, 200);
    const observables = json(await get(ee, `/cases/${amberCase}/observables`)).items;
    assert.equal(observables.length, 1);
  });

  it("EE's sighting of LT's value is EE's own observable, and reaches LT", async () => {
    const [copy] = json(await get(ee, `/cases/${amberCase}/observables`)).items;
    const sighting = await post(ee, `/cases/${amberCase}/observables/${copy.id}/sightings`, {});
    assert.equal(sighting.statusCode, 200, sighting.body);
    const own = json(sighting);
    assert.notEqual(own.id, copy.id);
    assert.equal(own.sightings, 1);
    assert.equal(own.value, '203.0.113.7');
    await sync(ee, lt);
    const atLt = json(await get(lt, `/cases/${amberCase}/observables`)).items;
    assert.deepEqual(atLt.map((o: { sightings: number }) => o.sightings).sort(), [0, 1]);
  });

  it('a node cannot speak for another party: a version of an LT case signed by EE is refused and audited', async () => {
    const cursor = cursors.get('EE->FI') ?? 0;
    const id = crypto.randomUUID();
    const at = new Date('2026-11-23T12:00:00Z').toISOString();
    const forged: FeedVersion = {
      type: 'case',
      id,
      origin: 'LT',
      version: cursor + 1,
      at,
      caseId: id,
      data: {
        id,
        owner_party: 'LT',
        title: 'forged',
        description: '',
        incident_class: 'x',
        severity: 'high',
        status: 'open',
        tlp: 'green',
        pap: 'amber',
        exercise: false,
        created_by: 'x',
        created_at: at,
        updated_at: at,
        version: 1,
        shares: { parties: [], groups: [] },
      },
    };
    const page = signPage(ee.node.services.key, {
      party: 'EE',
      after: cursor,
      head: cursor + 1,
      next: cursor + 1,
      more: false,
      changes: [forged],
    });
    const peer = peerOf(ee, cursor);
    const { versions } = fi.node.services.federation.feed.checkPage(peer, page);
    const result = await fi.node.services.federation.feed.apply(peer, versions, {
      from: cursor,
      to: cursor + 1,
    });
    assert.equal(result.refused, 1);
    assert.equal(result.applied, 0);
    const audited = json(
      await fi.node.request({
        method: 'GET',
        url: `${api}/audit?action=federation.change.refused`,
        headers: (await fi.node.user('fi.auditor', 'FI', ['auditor'])).headers,
      }),
    );
    assert.ok(
      JSON.stringify(audited).includes('cannot speak for an object of LT'),
      JSON.stringify(audited).slice(0, 400),
    );
  });

  it('a tampered version is refused whole; a reordered or duplicated page converges', async () => {
    const ltTitle = await lt.node.request({
      method: 'PATCH',
      url: `${api}/cases/${greenCase}`,
      headers: lt.analyst.headers,
      payload: { title: 'Phishing wave (update 1)' },
    });
    assert.equal(ltTitle.statusCode, 200, ltTitle.body);
    await lt.node.request({
      method: 'PATCH',
      url: `${api}/cases/${greenCase}`,
      headers: lt.analyst.headers,
      payload: { title: 'Phishing wave (update 2)' },
    });
    const cursor = cursors.get('LT->FI') ?? 0;
    const page = await lt.node.services.federation.feed.page('FI', cursor, 1000);
    const peer = peerOf(lt, cursor);
    const tampered = structuredClone(page);
    const version = tampered.changes.find((c) => c.id === greenCase)!;
    version.data!.title = 'Phishing wave (tampered)';
    assert.throws(() => fi.node.services.federation.feed.checkPage(peer, tampered), /bad signature/);
    // A page answered for another cursor, or cut short, is refused too.
    assert.throws(() => fi.node.services.federation.feed.checkPage(peerOf(lt, cursor + 1), page), /cursor/);
    const cut = { ...structuredClone(page), changes: page.changes.slice(1) };
    assert.throws(() => fi.node.services.federation.feed.checkPage(peer, cut), /bad signature/);
    // Reordered and duplicated: the same versions, backwards and twice.
    // The origin's own page, re-signed backwards and twice over (as a buggy origin might serve it).
    const shuffled = signPage(lt.node.services.key, {
      ...page,
      changes: [...page.changes].reverse().concat(page.changes),
    });
    const { versions } = fi.node.services.federation.feed.checkPage(peer, shuffled);
    await fi.node.services.federation.feed.apply(peer, versions, { from: cursor, to: page.next });
    // An older version after a newer one changes nothing.
    await fi.node.services.federation.feed.apply(peer, versions, { from: cursor, to: page.next });
    cursors.set('LT->FI', page.next);
    const title = json(await get(fi, `/cases/${greenCase}`)).title;
    assert.equal(title, 'Phishing wave (update 2)');
  });

  it('refuses a cursor from the future', async () => {
    await assert.rejects(
      lt.node.services.federation.feed.page('EE', 10_000_000, 10),
      /ahead of this node's feed/,
    );
  });
});

describe('applying a page while a local writer works on the copy', {
  skip: !onPostgres() && 'needs PostgreSQL: the embedded database runs one transaction at a time',
}, () => {
  let lt: Party;
  let ee: Party;
  const { sync } = feedCarrier();

  before(async () => {
    lt = await startParty('LT');
    ee = await startParty('EE');
  });
  after(async () => {
    await Promise.all([lt, ee].map((p) => p?.node.close()));
  });

  it('retracts the case and its items once the writer is done, and neither fails', async () => {
    const created = await lt.node.request({
      method: 'POST',
      url: `${api}/cases`,
      headers: lt.analyst.headers,
      payload: caseBody('Wiper at the port authority', 'amber', ['EE']),
    });
    assert.equal(created.statusCode, 201, created.body);
    const caseId = json(created).id;
    const observable = await lt.node.request({
      method: 'POST',
      url: `${api}/cases/${caseId}/observables`,
      headers: lt.analyst.headers,
      payload: { type: 'domain', value: 'wiper-c2.example' },
    });
    assert.equal(observable.statusCode, 201, observable.body);
    await sync(lt, ee);
    const unshared = await lt.node.request({
      method: 'PUT',
      url: `${api}/cases/${caseId}/shares`,
      headers: lt.analyst.headers,
      payload: { parties: [] },
    });
    assert.equal(unshared.statusCode, 200, unshared.body);
    const db = ee.node.database.db;
    // EE's writer of the copy's items, as a sighting takes its locks: the case shared, then the item.
    const writer = await openTransaction(db, (trx) =>
      sql`select id from cases where id = ${caseId} for share`.execute(trx),
    );
    const applying = sync(lt, ee);
    let itemLocked: unknown;
    let first: string;
    try {
      first = await settledOrWaiting(db, applying);
      itemLocked = await writer.run((trx) =>
        sql`select id from observables where id = ${json(observable).id} for update`.execute(trx),
      );
    } finally {
      await writer.commit();
    }
    const result = await applying;
    assert.equal(first, 'waiting', 'the page waited for the writer');
    assert.ok(itemLocked, 'the writer had its item');
    assert.ok(result.retracted >= 1, JSON.stringify(result));
    const held = await ee.node.request({
      method: 'GET',
      url: `${api}/cases/${caseId}`,
      headers: ee.analyst.headers,
    });
    assert.equal(held.statusCode, 404, 'the copy is gone');
  });
});
