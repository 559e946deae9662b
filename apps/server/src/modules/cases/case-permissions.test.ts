import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';

const caseBody = (overrides: Record<string, unknown> = {}) => ({
  title: 'Ransomware at the grid operator',
  incidentClass: 'rsit:malicious-code="infected-system"',
  severity: 'high',
  tlp: 'amber',
  pap: 'amber',
  ...overrides,
});

const api = '/api/v1';

describe('case permissions: `can` says exactly what succeeds', () => {
  let node: TestNode;
  let lt: TestUser;
  let ee: TestUser;
  let ltAuditor: TestUser;
  let caseId: string;

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', user: TestUser, url: string, payload?: object) =>
    node.request({ method, url: `${api}${url}`, headers: user.headers, ...(payload ? { payload } : {}) });

  let n = 0;
  /** A fresh observable added by `by`, so each act is tried on an item nobody changed before. */
  const observable = async (by: TestUser, tlp = 'amber') => {
    n += 1;
    const res = await call('POST', by, `/cases/${caseId}/observables`, {
      type: 'domain',
      value: `c2-${n}.example.org`,
      tlp,
    });
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  };
  const canOf = async (user: TestUser, id: string) =>
    json(await call('GET', user, `/cases/${caseId}/observables/${id}`)).can;

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    ltAuditor = await node.user('lt.auditor', 'LT', ['auditor']);
    const res = await call('POST', lt, '/cases', caseBody({ tlp: 'amber', shares: { parties: ['EE'] } }));
    assert.equal(res.statusCode, 201, res.body);
    caseId = json(res).id;
  });
  after(() => node.close());

  const ITEM_ACTS = {
    edit: (user: TestUser, id: string) =>
      call('PATCH', user, `/cases/${caseId}/observables/${id}`, { comment: 'seen in the proxy logs' }),
    relabel: (user: TestUser, id: string) =>
      call('PATCH', user, `/cases/${caseId}/observables/${id}`, {
        tlp: 'amber+strict',
        reason: 'asked by EE',
      }),
    relax: (user: TestUser, id: string) =>
      call('PATCH', user, `/cases/${caseId}/observables/${id}`, { tlp: 'green' }),
    delete: async (user: TestUser, id: string) => {
      const res = await call('POST', user, `/cases/${caseId}/observables/bulk`, {
        action: 'delete',
        ids: [id],
      });
      // The bulk answer is per item: the act succeeded when the item is done.
      return { statusCode: res.statusCode === 200 && json(res).results[0].outcome === 'done' ? 200 : 403 };
    },
  } as const;

  for (const [actorName, originName] of [
    ['lt', 'lt'],
    ['lt', 'ee'],
    ['ee', 'lt'],
    ['ee', 'ee'],
    ['ltAuditor', 'lt'],
  ] as const) {
    it(`an observable of ${originName.toUpperCase()} for ${actorName}: can.X iff X succeeds`, async () => {
      const users = { lt, ee, ltAuditor };
      const actor = users[actorName];
      const origin = users[originName];
      for (const [act, run] of Object.entries(ITEM_ACTS)) {
        const id = await observable(origin);
        const can = await canOf(actor, id);
        const res = await run(actor, id);
        const succeeded = res.statusCode === 200;
        assert.equal(
          succeeded,
          can[act],
          `${actorName} ${act} on ${originName}'s item: can says ${can[act]}, the act answered ${res.statusCode}`,
        );
      }
    });
  }

  it('the expected rule: the owner narrows and removes all, a shared party only its own, only the origin relaxes', async () => {
    const ltItem = await observable(lt);
    const eeItem = await observable(ee);
    assert.deepEqual(await canOf(lt, eeItem), { edit: true, relabel: true, relax: false, delete: true });
    assert.deepEqual(await canOf(ee, ltItem), { edit: true, relabel: false, relax: false, delete: false });
    assert.deepEqual(await canOf(ee, eeItem), { edit: true, relabel: true, relax: true, delete: true });
    assert.deepEqual(await canOf(ltAuditor, ltItem), {
      edit: false,
      relabel: false,
      relax: false,
      delete: false,
    });
  });

  it('the case: can.X iff X succeeds, for the owner, a shared party and a reader', async () => {
    const CASE_ACTS: Record<string, (user: TestUser) => Promise<{ statusCode: number }>> = {
      edit: async (user) => {
        const res = await call('PATCH', user, `/cases/${caseId}`, { severity: 'high' });
        return res;
      },
      addNote: (user) => call('POST', user, `/cases/${caseId}/notes`, { body: 'a note' }),
      addTask: (user) => call('POST', user, `/cases/${caseId}/tasks`, { title: 'image the server' }),
      addObservable: async (user) => {
        n += 1;
        return call('POST', user, `/cases/${caseId}/observables`, {
          type: 'domain',
          value: `x-${n}.example.net`,
        });
      },
      addTimelineEntry: (user) =>
        call('POST', user, `/cases/${caseId}/timeline`, {
          happenedAt: new Date(node.clock.now().getTime() - 60_000).toISOString(),
          text: 'first beacon',
        }),
      exportStix: (user) => call('GET', user, `/cases/${caseId}/stix`),
      exportMisp: (user) => call('GET', user, `/cases/${caseId}/misp`),
      relabel: (user) => call('PUT', user, `/cases/${caseId}/shares`, { tlp: 'amber', reason: 'unchanged' }),
    };
    for (const user of [lt, ee, ltAuditor]) {
      const can = json(await call('GET', user, `/cases/${caseId}`)).can;
      for (const [act, run] of Object.entries(CASE_ACTS)) {
        const res = await run(user);
        const succeeded = res.statusCode >= 200 && res.statusCode < 300;
        assert.equal(succeeded, can[act], `${user.name} ${act}: can ${can[act]}, answered ${res.statusCode}`);
      }
    }
  });

  it('a note: can.relabel iff narrowing it succeeds; the reason is in the timeline and the audit log', async () => {
    const note = json(await call('POST', ee, `/cases/${caseId}/notes`, { body: 'EE note', tlp: 'amber' }));
    // A note is relabelled, never edited nor deleted: no route does either.
    assert.deepEqual(note.can, { edit: false, relabel: true, relax: true, delete: false });
    const ltView = json(await call('GET', lt, `/cases/${caseId}/notes`)).items.find(
      (x: { id: string }) => x.id === note.id,
    );
    assert.equal(ltView.can.relax, false);
    const relax = await call('PATCH', lt, `/cases/${caseId}/notes/${note.id}`, { tlp: 'green' });
    assert.equal(relax.statusCode, 403, relax.body);
    const narrow = await call('PATCH', lt, `/cases/${caseId}/notes/${note.id}`, {
      tlp: 'amber',
      reason: 'kept as it is',
    });
    assert.equal(narrow.statusCode, 200, narrow.body);
  });
});

describe('observables for analysts: filters, sorting, paging, tags and bulk acts', () => {
  let node: TestNode;
  let lt: TestUser;
  let ee: TestUser;
  let fi: TestUser;
  let caseId: string;
  const ids: Record<string, string> = {};

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', user: TestUser, url: string, payload?: object) =>
    node.request({ method, url: `${api}${url}`, headers: user.headers, ...(payload ? { payload } : {}) });
  const list = async (user: TestUser, query: string) => {
    const res = await call('GET', user, `/cases/${caseId}/observables?${query}`);
    assert.equal(res.statusCode, 200, res.body);
    return json(res) as {
      items: { id: string; value: string; tags: string[]; tlp: string }[];
      total: number;
    };
  };

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    fi = await node.user('fi.analyst', 'FI', ['analyst']);
    const res = await call('POST', lt, '/cases', caseBody({ tlp: 'amber', shares: { parties: ['EE'] } }));
    caseId = json(res).id;
    const rows = [
      ['ip-dst', '8.8.8.8', 'amber', '2026-03-01T10:00:00Z', '2026-03-05T10:00:00Z', lt],
      ['ip-dst', '203.0.113.77', 'amber', '2026-02-01T10:00:00Z', '2026-03-09T10:00:00Z', lt],
      ['domain', 'evil-update.example.com', 'green', '2026-01-10T10:00:00Z', '2026-01-11T10:00:00Z', lt],
      ['domain', 'drop.example.net', 'red', null, null, lt],
      [
        'url',
        'https://cdn.example.org/payload.bin',
        'amber',
        '2026-02-20T10:00:00Z',
        '2026-02-21T10:00:00Z',
        ee,
      ],
    ] as const;
    for (const [type, value, tlp, firstSeen, lastSeen, by] of rows) {
      const created = await call('POST', by, `/cases/${caseId}/observables`, {
        type,
        value,
        tlp,
        ...(firstSeen ? { firstSeen, lastSeen } : {}),
      });
      assert.equal(created.statusCode, 201, created.body);
      ids[value] = json(created).id;
    }
  });
  after(() => node.close());

  it('sorts by last seen (no date last) and pages by offset with the total', async () => {
    const first = await list(lt, 'sort=lastSeen&order=desc&limit=2&offset=0');
    assert.equal(first.total, 5);
    assert.deepEqual(
      first.items.map((o) => o.value),
      ['203.0.113.77', '8.8.8.8'],
    );
    const third = await list(lt, 'sort=lastSeen&order=desc&limit=2&offset=4');
    assert.deepEqual(
      third.items.map((o) => o.value),
      ['drop.example.net'],
    );
    const byLabel = await list(lt, 'sort=tlp&order=desc&limit=1');
    assert.equal(byLabel.items[0]!.value, 'drop.example.net');
    const byValue = await list(lt, 'sort=value&offset=0&limit=1');
    assert.equal(byValue.items[0]!.value, '203.0.113.77');
  });

  it('filters by type, label, text and warning lists, and refuses a cursor with another order', async () => {
    assert.equal((await list(lt, 'type=ip-dst')).total, 2);
    assert.equal((await list(lt, 'tlp=green')).total, 1);
    assert.equal((await list(lt, 'q=example')).total, 3);
    type Listed = { value: string; warnings: string[] };
    const listed = (await list(lt, 'warninglisted=only')) as unknown as { items: Listed[]; total: number };
    assert.ok(
      listed.items.some((o) => o.value === '8.8.8.8'),
      'a public resolver is on a warning list',
    );
    assert.ok(listed.items.every((o) => o.warnings.length > 0));
    const others = (await list(lt, 'warninglisted=exclude')) as unknown as { items: Listed[]; total: number };
    assert.ok(others.items.every((o) => o.warnings.length === 0));
    assert.equal(listed.total + others.total, 5);
    const bad = await call('GET', lt, `/cases/${caseId}/observables?sort=value&cursor=abc`);
    assert.equal(bad.statusCode, 400);
    const unknown = await call('GET', lt, `/cases/${caseId}/observables?sort=colour`);
    assert.equal(unknown.statusCode, 400);
  });

  it('tags many at once, filters by tag, and untags', async () => {
    const tagged = await call('POST', lt, `/cases/${caseId}/observables/bulk`, {
      action: 'tag',
      ids: [ids['8.8.8.8'], ids['203.0.113.77']],
      tags: ['c2', 'wave-2'],
    });
    assert.equal(tagged.statusCode, 200, tagged.body);
    assert.equal(json(tagged).done, 2);
    const c2 = await list(lt, 'tag=c2');
    assert.deepEqual(c2.items.map((o) => o.value).sort(), ['203.0.113.77', '8.8.8.8']);
    assert.deepEqual(c2.items[0]!.tags, ['c2', 'wave-2']);
    await call('POST', lt, `/cases/${caseId}/observables/bulk`, {
      action: 'untag',
      ids: [ids['8.8.8.8']],
      tags: ['c2'],
    });
    assert.equal((await list(lt, 'tag=c2')).total, 1);
    assert.equal((await list(lt, 'tag=wave-2')).total, 2);
  });

  it('bulk relabel acts only on what the caller may change and answers each id; invisible looks absent', async () => {
    const hidden = ids['drop.example.net']!; // RED of LT's analyst: EE does not see it
    const res = await call('POST', ee, `/cases/${caseId}/observables/bulk`, {
      action: 'relabel',
      ids: [ids['https://cdn.example.org/payload.bin'], ids['203.0.113.77'], hidden, crypto.randomUUID()],
      tlp: 'amber+strict',
      reason: 'the host asked to keep these to EE and LT',
    });
    assert.equal(res.statusCode, 200, res.body);
    const outcomes = json(res).results.map((r: { outcome: string }) => r.outcome);
    assert.deepEqual(outcomes, ['done', 'refused', 'not-found', 'not-found']);
    const ltView = await list(lt, `tlp=amber%2Bstrict`);
    assert.ok(ltView.items.some((o) => o.value === 'https://cdn.example.org/payload.bin'));
    const audit = await node.database.db
      .selectFrom('audit_events')
      .select('envelope')
      .where(sql<boolean>`envelope::jsonb ->> 'action' = 'observable.bulk.relabel'`)
      .execute();
    assert.equal(audit.length, 1);
    assert.match(String(audit[0]!.envelope), /the host asked to keep these/);
  });

  it('bulk delete by the owner removes, and says so in the timeline with the reason', async () => {
    const res = await call('POST', lt, `/cases/${caseId}/observables/bulk`, {
      action: 'delete',
      ids: [ids['evil-update.example.com']],
      reason: 'a typo of the real domain',
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(json(res).done, 1);
    assert.equal((await list(lt, 'q=evil-update')).total, 0);
    const timeline = json(await call('GET', lt, `/cases/${caseId}/timeline`)).items;
    assert.ok(
      timeline.some((t: { text: string }) => /removed by .*: a typo of the real domain/.test(t.text)),
    );
  });

  it('refuses bad bulk input with what to fix, and a reader or another party', async () => {
    const tooMany = Array.from({ length: 1001 }, () => crypto.randomUUID());
    const over = await call('POST', lt, `/cases/${caseId}/observables/bulk`, {
      action: 'delete',
      ids: tooMany,
    });
    assert.equal(over.statusCode, 400);
    const longTag = await call('POST', lt, `/cases/${caseId}/observables/bulk`, {
      action: 'tag',
      ids: [ids['8.8.8.8']],
      tags: ['x'.repeat(65)],
    });
    assert.equal(longTag.statusCode, 400);
    const noTlp = await call('POST', lt, `/cases/${caseId}/observables/bulk`, {
      action: 'relabel',
      ids: [ids['8.8.8.8']],
    });
    assert.equal(noTlp.statusCode, 400);
    assert.match(json(noTlp).error.message, /tlp/);
    const outsider = await call('POST', fi, `/cases/${caseId}/observables/bulk`, {
      action: 'delete',
      ids: [ids['8.8.8.8']],
    });
    assert.equal(outsider.statusCode, 404, 'a case FI may not see looks absent');
  });
});
