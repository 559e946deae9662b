import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { json } from '../../test/harness.ts';
import { type FeedVersion, signPage } from './change-feed.ts';
import { feedCarrier, type Party, peerOf, startParty } from './federation.fixtures.ts';

const api = '/api/v1';

// Peers that misbehave with valid keys, and groups changed under other parties' cases: what a review
// of the federation tried, each now refused or kept in bounds.
describe('federation against misbehaving peers', () => {
  let lt: Party;
  let ee: Party;
  let fi: Party;
  const { cursors, sync } = feedCarrier();

  /** `from` (malicious, with its own valid key) serves `to` a forged page of `changes`. */
  async function forge(from: Party, to: Party, make: (v: (n: number) => number) => FeedVersion[]) {
    const key = `${from.code}->${to.code}`;
    const cursor = cursors.get(key) ?? 0;
    const changes = make((n) => cursor + n);
    const next = Math.max(cursor, ...changes.map((c) => c.version));
    const page = signPage(from.node.services.key, {
      party: from.code,
      after: cursor,
      head: next,
      next,
      more: false,
      changes,
    });
    const peer = peerOf(from, cursor);
    const { versions } = to.node.services.federation.feed.checkPage(peer, JSON.parse(JSON.stringify(page)));
    const r = await to.node.services.federation.feed.apply(peer, versions, { from: cursor, to: next });
    cursors.set(key, next);
    return r;
  }
  const req = (
    p: Party,
    method: string,
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) =>
    p.node.request({
      method: method as 'GET',
      url: `${api}${url}`,
      headers: { ...p.analyst.headers, ...headers },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const newCase = async (p: Party, title: string, tlp: string, shares: object) => {
    const res = await req(p, 'POST', '/cases', {
      title,
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'high',
      tlp,
      pap: 'amber',
      shares,
    });
    assert.equal(res.statusCode, 201, res.body);
    return json(res).id as string;
  };

  before(async () => {
    lt = await startParty('LT');
    ee = await startParty('EE');
    fi = await startParty('FI');
  });
  after(async () => {
    await Promise.all([lt, ee, fi].map((p) => p?.node.close()));
  });

  let groupG: string;
  let eeCase: string;
  it("a group's owner does not widen another party's case by changing the group's members", async () => {
    const g = await req(lt, 'POST', '/sharing-groups', { name: 'Baltic+Nordic', parties: ['EE', 'FI'] });
    assert.equal(g.statusCode, 201, g.body);
    groupG = json(g).id;
    await sync(lt, ee);
    eeCase = await newCase(ee, 'EE grid incident (AMBER, group G)', 'amber', {
      parties: [],
      groups: [groupG],
    });
    const before = await ee.node.services.federation.feed.page('LT', 0, 1000);
    assert.equal(
      before.changes.some((c) => c.id === eeCase),
      false,
      'LT is not in G: EE case not served',
    );
    const patch = await req(
      lt,
      'PATCH',
      `/sharing-groups/${groupG}`,
      { parties: ['EE', 'FI', 'LT'] },
      { 'if-match': String(json(g).version ?? 1) },
    );
    assert.equal(patch.statusCode, 200, patch.body);
    await sync(lt, ee);
    const afterPage = await ee.node.services.federation.feed.page('LT', 0, 1000);
    assert.equal(
      afterPage.changes.some((c) => c.id === eeCase),
      false,
      'EE does not serve its AMBER case to LT',
    );
    await sync(ee, lt);
    assert.equal((await req(lt, 'GET', `/cases/${eeCase}`)).statusCode, 404);
    // EE's case keeps exactly the parties it had through the group.
    const shares = json(await req(ee, 'GET', `/cases/${eeCase}/shares`));
    assert.deepEqual([...shares.parties].sort(), ['EE', 'FI']);
  });

  it("a group's owner still changes its group when it holds a copy of a case shared with it", async () => {
    const cur = json(await req(lt, 'GET', `/sharing-groups/${groupG}`));
    const patch = await req(
      lt,
      'PATCH',
      `/sharing-groups/${groupG}`,
      { parties: ['EE', 'LT'] },
      { 'if-match': String(cur.version) },
    );
    assert.equal(patch.statusCode, 200, patch.body);
  });

  let groupH: string;
  let fiCase: string;
  it("a peer cannot retract another party's group (and strip its cases of their audience)", async () => {
    const h = await req(fi, 'POST', '/sharing-groups', { name: 'FI-EE', parties: ['EE'] });
    assert.equal(h.statusCode, 201, h.body);
    groupH = json(h).id;
    fiCase = await newCase(fi, 'FI case via group H', 'amber', { parties: [], groups: [groupH] });
    await sync(fi, ee);
    assert.equal((await req(ee, 'GET', `/cases/${fiCase}`)).statusCode, 200);
    const r = await forge(lt, ee, (v) => [
      {
        type: 'sharing_group',
        id: groupH,
        origin: 'LT',
        version: v(1),
        at: ee.node.services.clock.now().toISOString(),
        caseId: null,
        retracted: true,
      },
    ]);
    assert.equal(r.retracted, 0, JSON.stringify(r));
    assert.equal((await req(ee, 'GET', `/cases/${fiCase}`)).statusCode, 200);
  });

  it('versions waiting for a case that never comes are kept once each', async () => {
    const noteId = crypto.randomUUID();
    const ghost = crypto.randomUUID();
    const at = ee.node.services.clock.now().toISOString();
    for (let round = 0; round < 3; round++) {
      await forge(lt, ee, (v) =>
        Array.from({ length: 50 }, (_, i) => ({
          type: 'case_note' as const,
          id: i === 0 ? noteId : crypto.randomUUID(),
          origin: 'LT',
          version: v(i + 1),
          at,
          caseId: ghost,
          data: {
            id: i === 0 ? noteId : crypto.randomUUID(),
            case_id: ghost,
            body: 'x'.repeat(1000),
            tlp: 'green',
            origin_party: 'LT',
            created_by: 'x',
            created_at: at,
          },
        })).map((x) => ({ ...x, data: { ...x.data, id: x.id } })),
      );
    }
    const rows = await ee.node.database.db
      .selectFrom('federation_parked')
      .select('object_id')
      .where('object_id', '=', noteId)
      .execute();
    assert.equal(rows.length, 1, 'one row per object, its newest version');
  });

  it("a peer cannot add attributes to another party's MISP event, nor retract it", async () => {
    const mispCase = await newCase(ee, 'EE MISP case', 'green', { parties: [] });
    const event = {
      Event: {
        uuid: crypto.randomUUID(),
        info: 'EE event',
        date: '2026-11-20',
        threat_level_id: '1',
        analysis: '1',
        distribution: '2',
        timestamp: '1700000000',
        Orgc: { name: 'CERT-EE', uuid: crypto.randomUUID() },
        Tag: [{ name: 'tlp:green' }],
        Attribute: [
          {
            uuid: crypto.randomUUID(),
            type: 'ip-dst',
            category: 'Network activity',
            value: '198.51.100.1',
            to_ids: true,
            timestamp: '1700000000',
            distribution: '5',
          },
        ],
      },
    };
    const imp = await ee.node.request({
      method: 'POST',
      url: `${api}/cases/${mispCase}/misp`,
      headers: { ...ee.analyst.headers, 'content-type': 'application/json' },
      payload: JSON.stringify(event),
    });
    assert.equal(imp.statusCode, 200, imp.body);
    const db = ee.node.database.db;
    const ev = await db
      .selectFrom('misp_events')
      .selectAll()
      .where('case_id', '=', mispCase)
      .executeTakeFirstOrThrow();
    const part = await db
      .selectFrom('misp_event_parts')
      .selectAll()
      .where('event_id', '=', ev.id)
      .executeTakeFirstOrThrow();
    const elements = (JSON.parse(part.elements) as any[]).map((el) => ({
      ...el,
      u: crypto.randomUUID(),
      p: el.p + 100,
      e: { ...el.e, uuid: undefined, value: '6.6.6.6', comment: 'planted by FI' },
    }));
    for (const el of elements) {
      el.e.uuid = el.u;
      if (el.v) el.v = '6.6.6.6';
    }
    const at = ee.node.services.clock.now().toISOString();
    const partId = crypto.randomUUID();
    const r = await forge(fi, ee, (v) => [
      {
        type: 'misp_event_part',
        id: partId,
        origin: 'FI',
        version: v(1),
        at,
        caseId: mispCase,
        data: {
          id: partId,
          case_id: mispCase,
          event_id: ev.id,
          position: part.position + 1,
          elements: JSON.stringify(elements),
          attributes: elements.length,
          objects: 0,
          tlp: 'green',
          origin_party: 'FI',
          created_at: at,
          updated_at: at,
        },
      },
    ]);
    assert.equal(r.applied, 0);
    assert.equal(r.refused, 1);
    const exp = await req(ee, 'GET', `/cases/${mispCase}/misp`);
    assert.equal(exp.statusCode, 200);
    assert.equal(exp.body.includes('6.6.6.6'), false);
    const r2 = await forge(lt, ee, (v) => [
      { type: 'misp_event', id: ev.id, origin: 'LT', version: v(1), at, caseId: null, retracted: true },
    ]);
    assert.equal(r2.retracted, 0);
    assert.ok(
      await db.selectFrom('misp_events').select('id').where('id', '=', ev.id).executeTakeFirst(),
      'EE keeps its event',
    );
  });
});
