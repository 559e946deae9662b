import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';

const api = '/api/v1';

export const caseBody = (overrides: Record<string, unknown> = {}) => ({
  title: 'Ransomware at the grid operator',
  description: 'Encrypted **SCADA** historians; see <script>alert(1)</script>',
  incidentClass: 'rsit:malicious-code="infected-system"',
  severity: 'high',
  tlp: 'amber',
  pap: 'amber',
  ...overrides,
});

describe('cases: two states work their own cases and share one', () => {
  let node: TestNode;
  let lt: TestUser;
  let lt2: TestUser;
  let ee: TestUser;
  let fi: TestUser;
  let ua: TestUser;
  let us: TestUser;
  let ltCase: string;
  let eeCase: string;

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'PUT',
    user: TestUser | null,
    url: string,
    payload?: object,
    headers: Record<string, string> = {},
  ) =>
    node.request({
      method,
      url: `${api}${url}`,
      headers: { ...(user?.headers ?? {}), ...headers },
      ...(payload ? { payload } : {}),
    });

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    lt2 = await node.user('lt.analyst2', 'LT', ['analyst']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    fi = await node.user('fi.analyst', 'FI', ['analyst']);
    ua = await node.user('ua.analyst', 'UA', ['analyst']);
    us = await node.user('de.analyst', 'DE', ['analyst']);
    const a = await call('POST', lt, '/cases', caseBody());
    assert.equal(a.statusCode, 201, a.body);
    ltCase = json(a).id;
    const b = await call(
      'POST',
      ee,
      '/cases',
      caseBody({ title: 'Phishing wave at ministries', tlp: 'green' }),
    );
    assert.equal(b.statusCode, 201, b.body);
    eeCase = json(b).id;
  });
  after(() => node.close());

  it('opens a case for the caller’s party, storing hostile text as text', async () => {
    const res = await call('GET', lt, `/cases/${ltCase}`);
    assert.equal(res.statusCode, 200);
    const c = json(res);
    assert.equal(c.ownerParty, 'LT');
    assert.equal(c.status, 'open');
    assert.equal(c.description, 'Encrypted **SCADA** historians; see <script>alert(1)</script>');
    assert.deepEqual(c.counts, {
      tasks: 0,
      openTasks: 0,
      observables: 0,
      notes: 0,
      timeline: 0,
      evidence: 0,
    });
    assert.equal(res.headers.etag, '"1"');
  });

  it('refuses a case with a wrong incident class, naming the field', async () => {
    const res = await call('POST', lt, '/cases', caseBody({ incidentClass: 'rsit:nonsense' }));
    assert.equal(res.statusCode, 400);
    assert.equal(json(res).error.details[0].field, 'body/incidentClass');
  });

  it('keeps an AMBER case with its party until it is shared; GREEN reaches the community, not outsiders', async () => {
    assert.equal((await call('GET', lt2, `/cases/${ltCase}`)).statusCode, 200);
    assert.equal((await call('GET', ee, `/cases/${ltCase}`)).statusCode, 404);
    assert.equal((await call('GET', fi, `/cases/${eeCase}`)).statusCode, 200, 'FI (observer) is community');
    assert.equal((await call('GET', ua, `/cases/${eeCase}`)).statusCode, 200, 'UA (partner) is community');
    assert.equal((await call('GET', us, `/cases/${eeCase}`)).statusCode, 404, 'DE (external) is not');
    assert.equal((await call('GET', null, `/cases/${eeCase}`)).statusCode, 401);
    const list = json(await call('GET', ee, '/cases'));
    assert.deepEqual(
      list.items.map((c: any) => c.id),
      [eeCase],
    );
    assert.equal(list.total, 1);
  });

  it('shares with EE at once; EE then works on the case but may not relax it', async () => {
    const shared = await call('PUT', lt, `/cases/${ltCase}/shares`, { parties: ['EE'] });
    assert.equal(shared.statusCode, 200, shared.body);
    assert.deepEqual(json(shared).parties, ['EE']);
    assert.equal((await call('GET', ee, `/cases/${ltCase}`)).statusCode, 200);
    const task = await call('POST', ee, `/cases/${ltCase}/tasks`, { title: 'Image the historian' });
    assert.equal(task.statusCode, 201, task.body);
    const relax = await call('PUT', ee, `/cases/${ltCase}/shares`, { tlp: 'green' });
    assert.equal(relax.statusCode, 403);
    assert.match(json(relax).error.message, /only the case's own party/);
    const onward = await call('PUT', ee, `/cases/${ltCase}/shares`, { parties: ['EE', 'FI'] });
    assert.equal(onward.statusCode, 403, 'adding a party is relaxing');
    assert.equal((await call('GET', fi, `/cases/${ltCase}`)).statusCode, 404);
  });

  it('finds the same indicator across the two states only where the labels allow', async () => {
    const add = async (user: TestUser, caseId: string, body: object) => {
      const res = await call('POST', user, `/cases/${caseId}/observables`, body);
      assert.equal(res.statusCode, 201, res.body);
      return json(res);
    };
    const mine = await add(lt, ltCase, { type: 'domain', value: 'Evil[.]Example', toIds: true });
    assert.equal(mine.value, 'evil.example');
    assert.equal(mine.tlp, 'amber', 'an item takes its case’s label by default');
    await add(ee, eeCase, { type: 'hostname', value: 'evil(dot)example', tlp: 'green' });
    // EE sees both (LT's case is shared with it); FI sees only EE's GREEN one.
    const eeLookup = json(await call('GET', ee, '/indicators/lookup?value=EVIL[.]EXAMPLE'));
    assert.equal(eeLookup.items.length, 2);
    const fiLookup = json(await call('GET', fi, '/indicators/lookup?value=evil.example'));
    assert.deepEqual(
      fiLookup.items.map((i: any) => i.caseId),
      [eeCase],
    );
    const corr = json(await call('GET', lt, `/cases/${ltCase}/observables/${mine.id}/correlations`));
    assert.deepEqual(
      corr.items.map((i: any) => i.caseId),
      [eeCase],
    );
    assert.equal(corr.overCorrelating, false);
  });

  it('narrows at once: a RED observable disappears for everyone not named', async () => {
    const obs = json(
      await call('POST', lt, `/cases/${ltCase}/observables`, { type: 'ip-dst', value: '203.0.113.7' }),
    );
    assert.equal((await call('GET', ee, `/cases/${ltCase}/observables/${obs.id}`)).statusCode, 200);
    const byPartner = await call('PATCH', ee, `/cases/${ltCase}/observables/${obs.id}`, { tlp: 'red' });
    assert.equal(byPartner.statusCode, 403, 'a party the case is shared with narrows only its own items');
    const narrowed = await call('PATCH', lt, `/cases/${ltCase}/observables/${obs.id}`, { tlp: 'red' });
    assert.equal(narrowed.statusCode, 200, narrowed.body);
    assert.equal((await call('GET', ee, `/cases/${ltCase}/observables/${obs.id}`)).statusCode, 404);
    assert.equal((await call('GET', lt2, `/cases/${ltCase}/observables/${obs.id}`)).statusCode, 404);
    assert.equal(
      (await call('GET', lt, `/cases/${ltCase}/observables/${obs.id}`)).statusCode,
      200,
      'its creator',
    );
    const counts = json(await call('GET', lt2, `/cases/${ltCase}`)).counts;
    assert.equal(counts.observables, 1, 'counts leave out what the viewer may not see');
    const audit = (await node.services.audit.page({ objectId: ltCase }, 'asc', 100)).items.map(
      (e: any) => e.action,
    );
    assert.ok(audit.includes('observable.update'));
    assert.ok(audit.includes('case.share.relax'));
  });

  it('imports 20,000 indicators in one request, idempotently', async () => {
    const lines = ['type,value,comment'];
    for (let i = 0; i < 20_000; i++)
      lines.push(`ip-dst,10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},bulk`);
    const payload = `${lines.join('\n')}\n`;
    const started = Date.now();
    const first = await node.request({
      method: 'POST',
      url: `${api}/indicators/bulk?caseId=${ltCase}`,
      headers: { ...lt.headers, 'content-type': 'text/csv' },
      payload,
    });
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(json(first), {
      imported: 20_000,
      duplicates: 0,
      rejected: 0,
      warninglisted: 20_000,
      problems: [],
    });
    const again = await node.request({
      method: 'POST',
      url: `${api}/indicators/bulk?caseId=${ltCase}`,
      headers: { ...lt.headers, 'content-type': 'text/csv' },
      payload,
    });
    assert.deepEqual(json(again), {
      imported: 0,
      duplicates: 20_000,
      rejected: 0,
      warninglisted: 20_000,
      problems: [],
    });
    console.log(`# imported 20000 indicators twice in ${Date.now() - started} ms`);
    const page = json(await call('GET', lt, `/cases/${ltCase}/observables?type=ip-dst&limit=2`));
    assert.equal(page.total, 20_001);
    assert.ok(page.nextCursor);
  });

  it('rejects a whole file for one bad line, naming it, unless partial', async () => {
    const payload = 'domain,good.example\nip-src,999.1.1.1\nnot-a-type,x\nsha256,abc\n';
    const res = await node.request({
      method: 'POST',
      url: `${api}/indicators/bulk?caseId=${eeCase}`,
      headers: { ...ee.headers, 'content-type': 'text/csv' },
      payload,
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.deepEqual(
      json(res).error.details.map((d: any) => d.line),
      [2, 3, 4],
    );
    const none = json(await call('GET', ee, '/indicators/lookup?value=good.example'));
    assert.equal(none.items.length, 0, 'nothing was written');
    const partial = await node.request({
      method: 'POST',
      url: `${api}/indicators/bulk?caseId=${eeCase}&partial=true`,
      headers: { ...ee.headers, 'content-type': 'text/csv' },
      payload,
    });
    assert.equal(partial.statusCode, 200, partial.body);
    assert.equal(json(partial).imported, 1);
    assert.equal(json(partial).rejected, 3);
  });

  it('exports what may be passed on: no RED', async () => {
    const res = await call('GET', lt, `/cases/${ltCase}/observables/export?format=ndjson`);
    assert.equal(res.statusCode, 200);
    const rows = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(rows.every((r: any) => r.tlp !== 'red'));
    assert.equal(rows.length, 20_001);
    assert.equal((await call('GET', us, `/cases/${ltCase}/observables/export`)).statusCode, 404);
  });
});

describe('cases: who may widen, change and pass on', () => {
  let node: TestNode;
  let lt: TestUser;
  let ee: TestUser;
  let fi: TestUser;
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', user: TestUser, url: string, payload?: object) =>
    node.request({ method, url: `${api}${url}`, headers: user.headers, ...(payload ? { payload } : {}) });

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    fi = await node.user('fi.analyst', 'FI', ['analyst']);
  });
  after(() => node.close());

  it('counts naming yourself as widening: only the owner party names people', async () => {
    const id = json(await call('POST', lt, '/cases', caseBody({ shares: { parties: ['EE'] } }))).id;
    const secret = await call('POST', lt, `/cases/${id}/observables`, {
      type: 'domain',
      value: 'red.example',
      tlp: 'red',
    });
    assert.equal(secret.statusCode, 201);
    const selfNamed = await call('PUT', ee, `/cases/${id}/shares`, { recipients: [ee.id] });
    assert.equal(selfNamed.statusCode, 403, selfNamed.body);
    assert.equal(json(await call('GET', ee, `/cases/${id}/observables`)).total, 0);
    const named = await call('PUT', lt, `/cases/${id}/shares`, { recipients: [ee.id] });
    assert.equal(named.statusCode, 200, named.body);
    assert.equal(json(await call('GET', ee, `/cases/${id}/observables`)).total, 1, 'named people read RED');
  });

  it('lets an assignee of another party move the status, and nothing else', async () => {
    const id = json(
      await call('POST', lt, '/cases', caseBody({ tlp: 'green', pap: 'red', assignees: [ee.id] })),
    ).id;
    const pap = await call('PATCH', ee, `/cases/${id}`, { pap: 'clear' });
    assert.equal(pap.statusCode, 403);
    const people = await call('PATCH', ee, `/cases/${id}`, { assignees: [ee.id, fi.id] });
    assert.equal(people.statusCode, 403);
    const status = await call('PATCH', ee, `/cases/${id}`, { status: 'contained' });
    assert.equal(status.statusCode, 200, status.body);
    assert.equal(json(status).pap, 'red');
  });

  it('passes on nothing of an AMBER+STRICT case to the parties it is shared with', async () => {
    const id = json(
      await call('POST', lt, '/cases', caseBody({ tlp: 'amber+strict', shares: { parties: ['EE'] } })),
    ).id;
    await call('POST', lt, `/cases/${id}/observables`, {
      type: 'domain',
      value: 'clear-item.example',
      tlp: 'clear',
    });
    const seen = json(await call('GET', ee, `/cases/${id}/observables`));
    assert.equal(seen.total, 1, 'EE reads it');
    const exported = await call('GET', ee, `/cases/${id}/observables/export?format=ndjson`);
    assert.equal(exported.statusCode, 200);
    assert.equal(exported.body, '', 'but may not pass it on');
    const own = await call('GET', lt, `/cases/${id}/observables/export?format=ndjson`);
    assert.match(own.body, /clear-item\.example/);
  });

  it('exports only the observables asked for by id, under the same rules: a RED one asked for stays home', async () => {
    const id = json(await call('POST', lt, '/cases', caseBody({ tlp: 'amber' }))).id;
    const added: Record<string, string> = {};
    for (const [value, tlp] of [
      ['one.example', 'amber'],
      ['two.example', 'green'],
      ['three.example', 'amber'],
      ['secret.example', 'red'],
    ] as const) {
      added[value] = json(
        await call('POST', lt, `/cases/${id}/observables`, { type: 'domain', value, tlp }),
      ).id;
    }
    const wanted = ['one.example', 'two.example', 'secret.example'].map((v) => added[v]!);
    const res = await call(
      'GET',
      lt,
      `/cases/${id}/observables/export?${wanted.map((w) => `ids=${w}`).join('&')}`,
    );
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-disposition']), /case-[0-9a-f-]+-selected\.csv/);
    assert.deepEqual(
      res.body
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',')[1]),
      ['one.example', 'two.example'],
    );
    const one = await call(
      'GET',
      lt,
      `/cases/${id}/observables/export?format=ndjson&ids=${added['three.example']}`,
    );
    assert.deepEqual(JSON.parse(one.body).value, 'three.example');
    const bad = await call('GET', lt, `/cases/${id}/observables/export?ids=not-an-id`);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /ids/);
  });

  it('refuses to attach a sharing group the sharer cannot see', async () => {
    const group = await call('POST', fi, '/sharing-groups', { name: 'FI private', parties: ['FI', 'SE'] });
    assert.equal(group.statusCode, 201, group.body);
    assert.equal((await call('GET', lt, `/sharing-groups/${json(group).id}`)).statusCode, 404);
    const res = await call('POST', lt, '/cases', caseBody({ shares: { groups: [json(group).id] } }));
    assert.equal(res.statusCode, 400);
    assert.equal(json(res).error.details[0].field, 'body/groups/0');
  });

  it('refuses times the databases cannot hold, as 400s', async () => {
    const id = json(await call('POST', lt, '/cases', caseBody())).id;
    for (const dueAt of ['0000-01-01T00:00:00Z', '2026-12-31T23:59:60Z', '9999-12-31T23:00:00-05:00']) {
      const res = await call('POST', lt, `/cases/${id}/tasks`, { title: 'x', dueAt });
      assert.equal(res.statusCode, 400, `${dueAt}: ${res.body}`);
    }
    const audit = (await node.services.audit.page({ objectId: id }, 'asc', 50)).items;
    assert.ok(audit.every((e: any) => !JSON.stringify(e.summary).includes('title')));
  });
});

describe('cases: what hidden items cannot be found out by', () => {
  let node: TestNode;
  let lt: TestUser;
  let ee: TestUser;
  let fi: TestUser;
  let caseId: string;
  let secretId: string;
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', user: TestUser, url: string, payload?: object) =>
    node.request({ method, url: `${api}${url}`, headers: user.headers, ...(payload ? { payload } : {}) });

  before(async () => {
    node = await startTestNode({ importMaxBytes: 2000 });
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    fi = await node.user('fi.analyst', 'FI', ['analyst']);
    caseId = json(
      await call('POST', lt, '/cases', caseBody({ tlp: 'green', shares: { parties: ['EE'] } })),
    ).id;
    const secret = await call('POST', lt, `/cases/${caseId}/observables`, {
      type: 'domain',
      value: 'mmm-secret.example',
      tlp: 'clear',
    });
    secretId = json(secret).id;
    const narrowed = await call('PATCH', lt, `/cases/${caseId}/observables/${secretId}`, { tlp: 'red' });
    assert.equal(narrowed.statusCode, 200, narrowed.body);
  });
  after(() => node.close());

  it('refuses a list cursor that names a hidden item', async () => {
    const cursor = Buffer.from(JSON.stringify([secretId])).toString('base64url');
    const res = await call('GET', ee, `/cases/${caseId}/observables?cursor=${cursor}`);
    assert.equal(res.statusCode, 400);
    assert.equal(json(res).error.details[0].field, 'querystring/cursor');
  });

  it('does not confirm a hidden duplicate: the caller’s own copy is stored', async () => {
    const res = await call('POST', ee, `/cases/${caseId}/observables`, {
      type: 'domain',
      value: 'mmm-secret.example',
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.notEqual(json(res).id, secretId);
  });

  it('takes a narrowed item’s past events out of the streams of those it no longer reaches', async () => {
    const ctx = { actor: (await node.services.identity.actorByName('fi.analyst'))!, requestId: null };
    const events = await node.services.events.since(ctx, 0, 200);
    assert.ok(
      events.some((e) => e.type === 'case.create'),
      'FI sees the GREEN case’s events',
    );
    assert.ok(
      !events.some((e) => e.type === 'observable.create' && e.data.itemId === secretId),
      'but not the narrowed item’s creation',
    );
    assert.equal((await call('GET', fi, `/cases/${caseId}/observables`)).statusCode, 200);
  });

  it('rejects an import line whose comment cannot be stored, and a file over the limit', async () => {
    const ndjson = `${JSON.stringify({ type: 'domain', value: 'ok.example' })}\n${JSON.stringify({ type: 'domain', value: 'nul.example', comment: 'a\u0000b' })}\n`;
    const res = await node.request({
      method: 'POST',
      url: `${api}/indicators/bulk?caseId=${caseId}&partial=true`,
      headers: { ...lt.headers, 'content-type': 'application/x-ndjson' },
      payload: ndjson,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual([json(res).imported, json(res).rejected, json(res).problems[0].line], [1, 1, 2]);
    const big = await node.request({
      method: 'POST',
      url: `${api}/indicators/bulk?caseId=${caseId}&type=domain`,
      headers: { ...lt.headers, 'content-type': 'text/plain' },
      payload: 'x.example\n'.repeat(400),
    });
    assert.equal(big.statusCode, 413, big.body);
  });
});
