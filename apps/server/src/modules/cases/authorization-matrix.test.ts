import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { Ctx } from '../../context.ts';
import { json, onPostgres, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { submitRequest } from '../../test/requests.fixtures.ts';

/**
 * The authorization matrix (issue 5, item 7): every read route of cases, their items, indicators
 * and the live event stream, asked by every kind of principal about a case of every TLP label,
 * shared with another party or not. What each answer should be comes from `oracle` below — the
 * TLP 2.0 rules written out plainly, without the server's policy code — and every disagreement is
 * collected and reported at the end.
 *
 * Fixture: ten cases opened by one LT analyst (each label × shared with EE or not), each with a
 * task, a timeline entry and an observable, note and evidence item of its own label, of every
 * stricter label and of CLEAR, and in those shared with EE that EE sees, an observable and a note EE
 * added at the case's label and at RED; principals include the PoCs of LT and EE (issue 16: they
 * read what their own party originated, whatever its label); and every signed-in principal's own
 * CLEAR case holding all the probe
 * values, from which correlations are asked. Routes: GET /cases (listed, counts, total, filtered
 * totals), /cases/:id (+ counts), …/shares, …/tasks, …/notes, …/timeline, …/observables (+ total),
 * …/observables/:itemId, …/correlations (of the item, and from the viewer's own case),
 * …/observables/export (rows), …/evidence, …/evidence/:itemId, …/evidence/:itemId/content,
 * /indicators/lookup, and the event stream (its rows via `events.since`, plus one real stream).
 * And one submitted request of every label filed by LT (issue 17, item 6: GREEN has the one meaning
 * it has for cases): GET /requests/:id, GET /requests (listed) and the stream's request events.
 */

const api = '/api/v1';

// ---------------------------------------------------------------------------------------------
// The oracle: TLP 2.0 as the design states it (design.md §3), in words.
// ---------------------------------------------------------------------------------------------

const LABELS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
type Label = (typeof LABELS)[number];

/** The parties this test uses, with their status in the framework (the seed's membership). */
const PARTY_STATUS = {
  LT: 'member',
  EE: 'member',
  PL: 'member',
  FI: 'observer',
  EU: 'eu_institution',
  UA: 'partner',
  DE: 'external',
} as const;
type Party = keyof typeof PARTY_STATUS;

/** The community GREEN reaches: every party of the framework, whatever its standing in it. */
const inCommunity = (party: Party) =>
  ['member', 'observer', 'eu_institution', 'partner'].includes(PARTY_STATUS[party]);

interface Who {
  /** null: nobody signed in. */
  party: Party | null;
  userId: string | null;
  /** A PoC or coordinator: reads whatever their own party originated (issue 16, item 3). */
  originStaff?: boolean;
}

interface CaseFacts {
  label: Label;
  ownerParty: Party;
  sharedWith: Party[];
  creatorId: string;
}

/**
 * May `who` read something labelled `label` that belongs to the case `c` (everything in this test
 * is created by the case's creator)?
 *   CLEAR: anyone signed in.
 *   GREEN: the community, the owner party, and the parties the case is shared with.
 *   AMBER, AMBER+STRICT: the owner party and the parties it is shared with — nobody else.
 *   RED: only named people — here, the person who created the case and its items.
 * The creator, being named, reads whatever they created. And whatever the label, the PoCs and
 * coordinators of the party an object came from (the case's owner; an item's adder's party) read
 * it, so no narrowing takes it from that party (issue 16, item 3).
 */
function mayRead(who: Who, label: Label, c: CaseFacts, author: Author = caseAuthor(c)): boolean {
  if (who.userId === null) return false;
  if (who.originStaff && who.party === author.origin) return true;
  const isCreator = who.userId === author.creatorId;
  const ownerParty = who.party === c.ownerParty;
  const sharedParty = who.party !== null && c.sharedWith.includes(who.party);
  const community = who.party !== null && inCommunity(who.party);
  switch (label) {
    case 'clear':
      return true;
    case 'green':
      return community || ownerParty || sharedParty || isCreator;
    case 'amber':
    case 'amber+strict':
      return ownerParty || sharedParty || isCreator;
    case 'red':
      return isCreator;
  }
}

/** Who made an object: the person, and the party it came from. */
interface Author {
  creatorId: string;
  origin: Party;
}
const caseAuthor = (c: CaseFacts): Author => ({ creatorId: c.creatorId, origin: c.ownerParty });

/**
 * May `who` read a submitted request of `label` filed by `requester`? Beyond the parties a request
 * concerns (here only its own: none of these principals votes, coordinates or deploys), its label
 * decides, and GREEN means what it means for cases: the community.
 */
function mayReadRequest(who: Who, label: Label, requester: Party): boolean {
  if (who.userId === null) return false;
  if (who.party === requester) return true;
  if (label === 'clear') return true;
  if (label === 'green') return who.party !== null && inCommunity(who.party);
  return false;
}

const oracle = {
  /** The case itself: by its own label. */
  seesCase: (who: Who, c: CaseFacts) => mayRead(who, c.label, c),
  /**
   * An item (observable, note, evidence): only inside a case the viewer sees, and by its own label
   * and its own author — not the case's (issue 16, item 2).
   */
  seesItem: (who: Who, c: CaseFacts, item: ProbeItem) =>
    mayRead(who, c.label, c) && mayRead(who, item.label, c, item.author),
  /**
   * Exports carry what may be passed on: nothing that is RED, and nothing AMBER+STRICT except for
   * the owner party's own people (the parties it was shared with may not pass it on) — whether the
   * label is the item's or its case's.
   */
  exports: (who: Who, c: CaseFacts, item: ProbeItem) =>
    oracle.seesItem(who, c, item) &&
    [item.label, c.label].every(
      (label) => label !== 'red' && (label !== 'amber+strict' || who.party === c.ownerParty),
    ),
};

// ---------------------------------------------------------------------------------------------
// Outcomes and the ledger of probes.
// ---------------------------------------------------------------------------------------------

/** `allow`: answered / present; `deny`: 404 / absent; `unauthenticated`: 401; a number: a count. */
type Outcome = 'allow' | 'deny' | 'unauthenticated' | number | `HTTP ${number}`;

const statusOutcome = (res: { statusCode: number }): Outcome =>
  res.statusCode === 200
    ? 'allow'
    : res.statusCode === 404
      ? 'deny'
      : res.statusCode === 401
        ? 'unauthenticated'
        : `HTTP ${res.statusCode}`;

/** Whether something is in a list the route answered; the route's own outcome when it did not. */
const presence = (res: { statusCode: number }, present: () => boolean): Outcome =>
  res.statusCode === 200 ? (present() ? 'allow' : 'deny') : statusOutcome(res);

interface Probe {
  route: string;
  principal: string;
  caseLabel: Label | '-';
  shared: boolean | '-';
  /** The item's label, and who added it when that was not the case's creator. */
  item: string;
  expected: Outcome;
  got: Outcome;
}

type Verdict = 'ok' | 'allow' | 'denial' | 'other';
function verdict(p: Probe): Verdict {
  if (p.expected === p.got) return 'ok';
  if (typeof p.expected === 'number' && typeof p.got === 'number') {
    return p.got > p.expected ? 'allow' : 'denial';
  }
  if (p.got === 'allow') return 'allow';
  if (p.expected === 'allow') return 'denial';
  return 'other';
}

// ---------------------------------------------------------------------------------------------
// The principals and the fixture.
// ---------------------------------------------------------------------------------------------

interface Principal extends Who {
  key: string;
  user: TestUser | null;
  /** Their own CLEAR case (signed-in principals), from which correlations are probed. */
  own: { caseId: string; observableByValue: Map<string, string> } | null;
}

interface ProbeItem {
  label: Label;
  author: Author;
  id: string;
  /** The observable's value (unique in the whole fixture) or the note's body marker. */
  value: string;
  eventSeq: number;
}

interface ProbeCase extends CaseFacts {
  id: string;
  shared: boolean;
  taskId: string;
  timelineId: string;
  caseEventSeq: number;
  observables: ProbeItem[];
  notes: ProbeItem[];
  evidence: ProbeItem[];
}

/**
 * The labels of the items put in a case: its own label, every stricter one, and CLEAR (a label
 * wider than the case's; any wider label should behave as CLEAR does — never seen beyond the case).
 */
const itemLabels = (caseLabel: Label) =>
  LABELS.filter((l) => l === 'clear' || LABELS.indexOf(l) >= LABELS.indexOf(caseLabel));

const slug = (label: Label) => label.replace('+', '-');
const obsValue = (caseLabel: Label, shared: boolean, item: Label) =>
  `mx-${slug(caseLabel)}-${shared ? 'shared' : 'unshared'}-${slug(item)}.example`;

/** Runs `tasks` with at most `width` at a time. */
async function pool(tasks: (() => Promise<void>)[], width: number) {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      await task();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

describe('authorization matrix: every read route × principal × TLP × shared', () => {
  let node: TestNode;
  let owner: TestUser;
  const principals: Principal[] = [];
  const cases: ProbeCase[] = [];
  /** One submitted request per label, filed by LT's PoC, with the seq of its `request.submitted` event. */
  const requests: { id: string; label: Label; requester: Party; submittedSeq: number }[] = [];
  /** Every case in the database, for the expected `total` of GET /cases. */
  const allCases: CaseFacts[] = [];
  let lastSeq = 0;

  const get = (user: TestUser | null, url: string) =>
    node.request({ method: 'GET', url: `${api}${url}`, headers: user?.headers ?? {} });

  async function send(user: TestUser, method: 'POST' | 'PUT', url: string, payload: object) {
    const res = await node.request({ method, url: `${api}${url}`, headers: user.headers, payload });
    assert.ok(res.statusCode === 200 || res.statusCode === 201, `${method} ${url}: ${res.body}`);
    return json(res);
  }

  /** The one event of `type` about `caseId` since the last call (fixtures are made one at a time). */
  async function eventOf(caseId: string, type: string) {
    const events = await node.services.events.since(node.cli, lastSeq, 1000);
    lastSeq = Math.max(lastSeq, ...events.map((e) => e.seq));
    const mine = events.filter((e) => e.caseId === caseId && e.type === type);
    assert.equal(mine.length, 1, `one ${type} event for ${caseId}, got ${JSON.stringify(events)}`);
    return mine[0]!.seq;
  }

  before(async () => {
    node = await startTestNode();
    const made: [string, Party | null, string, 'analyst' | 'poc'][] = [
      ['owner analyst (LT, creator)', 'LT', 'lt.owner', 'analyst'],
      ['owner-party analyst (LT)', 'LT', 'lt.colleague', 'analyst'],
      ['owner-party PoC (LT)', 'LT', 'lt.poc', 'poc'],
      ['shared-party PoC (EE)', 'EE', 'ee.poc', 'poc'],
      ['shared-party analyst (EE)', 'EE', 'ee.analyst', 'analyst'],
      ['community member analyst (PL)', 'PL', 'pl.analyst', 'analyst'],
      ['observer analyst (FI)', 'FI', 'fi.analyst', 'analyst'],
      ['EU institution analyst (EU)', 'EU', 'eu.analyst', 'analyst'],
      ['partner analyst (UA)', 'UA', 'ua.analyst', 'analyst'],
      ['external analyst (DE)', 'DE', 'de.analyst', 'analyst'],
      ['anonymous', null, '', 'analyst'],
    ];
    for (const [key, party, name, role] of made) {
      const user = party ? await node.user(name, party, [role]) : null;
      principals.push({
        key,
        party,
        user,
        userId: user?.id ?? null,
        originStaff: role === 'poc',
        own: null,
      });
    }
    owner = principals[0]!.user!;

    // One case per label × shared or not, opened by the owner analyst, with a task, a timeline
    // entry, and one observable, note and evidence item of each of its `itemLabels`.
    for (const label of LABELS) {
      for (const shared of [false, true]) {
        const c = await send(owner, 'POST', '/cases', {
          title: `Matrix ${label} ${shared ? 'shared' : 'not shared'}`,
          incidentClass: 'rsit:malicious-code="infected-system"',
          severity: 'medium',
          tlp: label,
          pap: 'amber',
        });
        const probe: ProbeCase = {
          id: c.id,
          label,
          shared,
          ownerParty: 'LT',
          sharedWith: shared ? ['EE'] : [],
          creatorId: owner.id,
          taskId: '',
          timelineId: '',
          caseEventSeq: await eventOf(c.id, 'case.create'),
          observables: [],
          notes: [],
          evidence: [],
        };
        if (shared) {
          const shares = await send(owner, 'PUT', `/cases/${c.id}/shares`, { parties: ['EE'] });
          assert.deepEqual(shares.parties, ['EE']);
          await eventOf(c.id, 'case.share.relax');
        }
        probe.taskId = (await send(owner, 'POST', `/cases/${c.id}/tasks`, { title: 'Image the host' })).id;
        await eventOf(c.id, 'case.task.create');
        probe.timelineId = (
          await send(owner, 'POST', `/cases/${c.id}/timeline`, {
            happenedAt: '2026-11-22T08:00:00Z',
            text: 'First alert',
          })
        ).id;
        await eventOf(c.id, 'case.timeline.create');
        for (const item of itemLabels(label)) {
          const value = obsValue(label, shared, item);
          const o = await send(owner, 'POST', `/cases/${c.id}/observables`, {
            type: 'domain',
            value,
            tlp: item,
          });
          assert.equal(o.tlp, item);
          const author = caseAuthor(probe);
          probe.observables.push({
            label: item,
            author,
            id: o.id,
            value,
            eventSeq: await eventOf(c.id, 'observable.create'),
          });
          const body = `note ${value}`;
          const n = await send(owner, 'POST', `/cases/${c.id}/notes`, { body, tlp: item });
          probe.notes.push({
            label: item,
            author,
            id: n.id,
            value: body,
            eventSeq: await eventOf(c.id, 'case.note.create'),
          });
          const res = await node.request({
            method: 'POST',
            url: `${api}/cases/${c.id}/evidence?filename=${encodeURIComponent(`${value}.bin`)}&tlp=${encodeURIComponent(item)}`,
            headers: { ...owner.headers, 'content-type': 'application/octet-stream' },
            payload: Buffer.from(`evidence ${value}\n`),
          });
          assert.equal(res.statusCode, 201, res.body);
          assert.equal(json(res).tlp, item);
          probe.evidence.push({
            label: item,
            author,
            id: json(res).id,
            value,
            eventSeq: await eventOf(c.id, 'evidence.upload'),
          });
        }
        if (shared && label !== 'red') {
          // The party it is shared with adds its own items, at the case's label and at RED: they
          // are judged by their own author, not the case's creator (issue 16, item 2).
          const partner = principals.find((p) => p.key === 'shared-party analyst (EE)')!;
          const author: Author = { creatorId: partner.userId!, origin: 'EE' };
          for (const item of new Set<Label>([label, 'red'])) {
            const value = `mx-${slug(label)}-shared-by-ee-${slug(item)}.example`;
            const o = await send(partner.user!, 'POST', `/cases/${c.id}/observables`, {
              type: 'domain',
              value,
              tlp: item,
            });
            probe.observables.push({
              label: item,
              author,
              id: o.id,
              value,
              eventSeq: await eventOf(c.id, 'observable.create'),
            });
            const body = `note ${value}`;
            const n = await send(partner.user!, 'POST', `/cases/${c.id}/notes`, { body, tlp: item });
            probe.notes.push({
              label: item,
              author,
              id: n.id,
              value: body,
              eventSeq: await eventOf(c.id, 'case.note.create'),
            });
          }
        }
        cases.push(probe);
        allCases.push(probe);
      }
    }

    const ltPoc = principals.find((p) => p.key === 'owner-party PoC (LT)')!.user!;
    for (const label of LABELS) {
      const request = await submitRequest(node, ltPoc, { title: `Matrix request ${label}`, tlp: label });
      const events = await node.services.events.since(node.cli, lastSeq, 1000);
      lastSeq = Math.max(lastSeq, ...events.map((e) => e.seq));
      const submitted = events.filter((e) => e.requestId === request.id && e.type === 'request.submitted');
      assert.equal(submitted.length, 1, `one request.submitted event for ${request.id}`);
      requests.push({ id: request.id, label, requester: 'LT', submittedSeq: submitted[0]!.seq });
    }

    // Every signed-in principal's own CLEAR case, holding every probe value, to correlate from.
    const csv = `${cases.flatMap((c) => c.observables.map((o) => `domain,${o.value}`)).join('\n')}\n`;
    for (const p of principals) {
      if (!p.user) continue;
      const c = await send(p.user, 'POST', '/cases', {
        title: `Own case of ${p.key}`,
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'low',
        tlp: 'clear',
        pap: 'clear',
      });
      allCases.push({ label: 'clear', ownerParty: p.party!, sharedWith: [], creatorId: p.user.id });
      const imported = await node.request({
        method: 'POST',
        url: `${api}/indicators/bulk?caseId=${c.id}`,
        headers: { ...p.user.headers, 'content-type': 'text/csv' },
        payload: csv,
      });
      assert.equal(imported.statusCode, 200, imported.body);
      assert.equal(json(imported).imported, cases.flatMap((probe) => probe.observables).length);
      const list = json(await get(p.user, `/cases/${c.id}/observables?limit=500`));
      p.own = {
        caseId: c.id,
        observableByValue: new Map(list.items.map((o: any) => [o.value as string, o.id as string])),
      };
    }
  });
  after(() => node?.close());

  it('the oracle’s party statuses are those of the framework in force', async () => {
    const parties = json(await get(owner, '/parties')).items as { code: string; status: string }[];
    for (const [code, status] of Object.entries(PARTY_STATUS)) {
      assert.equal(parties.find((p) => p.code === code)?.status, status, code);
    }
  });

  it('answers every probe as the TLP rules say', async () => {
    const started = Date.now();
    const probes: Probe[] = [];
    const record = (
      route: string,
      p: Principal,
      c: ProbeCase | null,
      item: ProbeItem | null,
      expected: Outcome,
      got: Outcome,
    ) =>
      probes.push({
        route,
        principal: p.key,
        caseLabel: c?.label ?? '-',
        shared: c?.shared ?? '-',
        item: item
          ? `${item.label}${item.author.creatorId === c?.creatorId ? '' : ` added by ${item.author.origin}`}`
          : '-',
        expected,
        got,
      });
    /** allow/deny for signed-in principals; 401 for anonymous. */
    const expect = (p: Principal, allowed: boolean): Outcome =>
      p.user === null ? 'unauthenticated' : allowed ? 'allow' : 'deny';
    const count = (p: Principal, c: ProbeCase, items: ProbeItem[]) =>
      items.filter((i) => oracle.seesItem(p, c, i)).length;

    const recordRequest = (route: string, p: Principal, r: (typeof requests)[number], got: Outcome) =>
      probes.push({
        route,
        principal: p.key,
        caseLabel: r.label,
        shared: '-',
        item: '-',
        expected: expect(p, mayReadRequest(p, r.label, r.requester)),
        got,
      });

    const tasks: (() => Promise<void>)[] = [];
    const downloads: (() => Promise<void>)[] = [];
    for (const p of principals) {
      // Requests: each one, and whether the board lists it.
      for (const r of requests) {
        tasks.push(async () => {
          recordRequest('GET /requests/:id', p, r, statusOutcome(await get(p.user, `/requests/${r.id}`)));
        });
      }
      tasks.push(async () => {
        const res = await get(p.user, '/requests?limit=200');
        for (const r of requests) {
          recordRequest(
            'GET /requests (listed)',
            p,
            r,
            presence(res, () => json(res).items.some((x: any) => x.id === r.id)),
          );
        }
      });

      // GET /cases: which probe cases are listed, with what counts, and the total.
      tasks.push(async () => {
        const res = await get(p.user, '/cases?limit=500');
        const listed = res.statusCode === 200 ? (json(res).items as any[]) : [];
        for (const c of cases) {
          const row = listed.find((r) => r.id === c.id);
          record(
            'GET /cases (listed)',
            p,
            c,
            null,
            expect(p, oracle.seesCase(p, c)),
            presence(res, () => !!row),
          );
          if (row) {
            record(
              'GET /cases (counts.observables)',
              p,
              c,
              null,
              count(p, c, c.observables),
              row.counts.observables,
            );
            record('GET /cases (counts.notes)', p, c, null, count(p, c, c.notes), row.counts.notes);
            record('GET /cases (counts.evidence)', p, c, null, count(p, c, c.evidence), row.counts.evidence);
          }
        }
        record(
          'GET /cases (total)',
          p,
          null,
          null,
          p.user === null ? 'unauthenticated' : allCases.filter((c) => oracle.seesCase(p, c)).length,
          res.statusCode === 200 ? (json(res).total as number) : statusOutcome(res),
        );
      });
      // Filtered lists count only what the viewer sees too: by label, and by words of the title.
      const filters: [string, (c: CaseFacts) => boolean][] = [
        ...LABELS.map((l): [string, (c: CaseFacts) => boolean] => [
          `tlp=${encodeURIComponent(l)}`,
          (c) => c.label === l,
        ]),
        ['q=Matrix', (c) => cases.some((probe) => probe === c)],
      ];
      for (const [query, matches] of filters) {
        tasks.push(async () => {
          const res = await get(p.user, `/cases?${query}`);
          record(
            `GET /cases?${decodeURIComponent(query)} (total)`,
            p,
            null,
            null,
            p.user === null
              ? 'unauthenticated'
              : allCases.filter((c) => matches(c) && oracle.seesCase(p, c)).length,
            res.statusCode === 200 ? (json(res).total as number) : statusOutcome(res),
          );
        });
      }

      // The live event stream's rows (services.events.since is what the stream sends).
      tasks.push(async () => {
        let seqs: Set<number> | null = null;
        let streamOutcome: Outcome = 'allow';
        if (p.user) {
          const actor = await node.services.identity.authenticateToken(p.user.token);
          assert.ok(actor);
          const ctx: Ctx = { actor, requestId: null };
          seqs = new Set((await node.services.events.since(ctx, 0, 100_000)).map((e) => e.seq));
        } else {
          streamOutcome = statusOutcome(await get(null, '/events'));
          record('GET /events', p, null, null, 'unauthenticated', streamOutcome);
        }
        const seen = (seq: number): Outcome => (seqs ? (seqs.has(seq) ? 'allow' : 'deny') : streamOutcome);
        for (const r of requests)
          recordRequest('GET /events (request.submitted)', p, r, seen(r.submittedSeq));
        for (const c of cases) {
          record(
            'GET /events (case.create)',
            p,
            c,
            null,
            expect(p, oracle.seesCase(p, c)),
            seen(c.caseEventSeq),
          );
          for (const o of c.observables) {
            record(
              'GET /events (observable.create)',
              p,
              c,
              o,
              expect(p, oracle.seesItem(p, c, o)),
              seen(o.eventSeq),
            );
          }
          for (const e of c.evidence) {
            record(
              'GET /events (evidence.upload)',
              p,
              c,
              e,
              expect(p, oracle.seesItem(p, c, e)),
              seen(e.eventSeq),
            );
          }
          for (const n of c.notes) {
            record(
              'GET /events (case.note.create)',
              p,
              c,
              n,
              expect(p, oracle.seesItem(p, c, n)),
              seen(n.eventSeq),
            );
          }
        }
      });

      for (const c of cases) {
        const seesCase = oracle.seesCase(p, c);
        tasks.push(async () => {
          const res = await get(p.user, `/cases/${c.id}`);
          record('GET /cases/:id', p, c, null, expect(p, seesCase), statusOutcome(res));
          if (res.statusCode === 200) {
            const counts = json(res).counts;
            record(
              'GET /cases/:id (counts.observables)',
              p,
              c,
              null,
              count(p, c, c.observables),
              counts.observables,
            );
            record('GET /cases/:id (counts.notes)', p, c, null, count(p, c, c.notes), counts.notes);
            record('GET /cases/:id (counts.evidence)', p, c, null, count(p, c, c.evidence), counts.evidence);
          }
        });
        tasks.push(async () => {
          const res = await get(p.user, `/cases/${c.id}/shares`);
          record('GET /cases/:id/shares', p, c, null, expect(p, seesCase), statusOutcome(res));
        });
        tasks.push(async () => {
          const res = await get(p.user, `/cases/${c.id}/tasks`);
          record('GET /cases/:id/tasks', p, c, null, expect(p, seesCase), statusOutcome(res));
          record(
            'GET /cases/:id/tasks (task listed)',
            p,
            c,
            null,
            expect(p, seesCase),
            presence(res, () => json(res).items.some((t: any) => t.id === c.taskId)),
          );
        });
        tasks.push(async () => {
          const res = await get(p.user, `/cases/${c.id}/timeline`);
          record('GET /cases/:id/timeline', p, c, null, expect(p, seesCase), statusOutcome(res));
          record(
            'GET /cases/:id/timeline (entry listed)',
            p,
            c,
            null,
            expect(p, seesCase),
            presence(res, () => json(res).items.some((t: any) => t.id === c.timelineId)),
          );
        });
        tasks.push(async () => {
          const res = await get(p.user, `/cases/${c.id}/notes`);
          record('GET /cases/:id/notes', p, c, null, expect(p, seesCase), statusOutcome(res));
          for (const n of c.notes) {
            record(
              'GET /cases/:id/notes (note listed)',
              p,
              c,
              n,
              expect(p, oracle.seesItem(p, c, n)),
              presence(res, () => json(res).items.some((x: any) => x.id === n.id)),
            );
          }
        });
        tasks.push(async () => {
          const res = await get(p.user, `/cases/${c.id}/observables?limit=500`);
          record('GET /cases/:id/observables', p, c, null, expect(p, seesCase), statusOutcome(res));
          if (res.statusCode === 200) {
            record(
              'GET /cases/:id/observables (total)',
              p,
              c,
              null,
              count(p, c, c.observables),
              json(res).total,
            );
          }
          for (const o of c.observables) {
            record(
              'GET /cases/:id/observables (listed)',
              p,
              c,
              o,
              expect(p, oracle.seesItem(p, c, o)),
              presence(res, () => json(res).items.some((x: any) => x.id === o.id)),
            );
          }
        });
        tasks.push(async () => {
          const res = await get(p.user, `/cases/${c.id}/observables/export?format=ndjson`);
          record('GET /cases/:id/observables/export', p, c, null, expect(p, seesCase), statusOutcome(res));
          const values = new Set(
            res.statusCode === 200
              ? res.body
                  .split('\n')
                  .filter(Boolean)
                  .map((line) => JSON.parse(line).value as string)
              : [],
          );
          for (const o of c.observables) {
            record(
              'GET /cases/:id/observables/export (row)',
              p,
              c,
              o,
              expect(p, oracle.exports(p, c, o)),
              presence(res, () => values.has(o.value)),
            );
          }
        });
        tasks.push(async () => {
          const res = await get(p.user, `/cases/${c.id}/evidence`);
          record('GET /cases/:id/evidence', p, c, null, expect(p, seesCase), statusOutcome(res));
          for (const e of c.evidence) {
            record(
              'GET /cases/:id/evidence (listed)',
              p,
              c,
              e,
              expect(p, oracle.seesItem(p, c, e)),
              presence(res, () => json(res).items.some((x: any) => x.id === e.id)),
            );
          }
        });

        for (const o of c.observables) {
          const seesItem = oracle.seesItem(p, c, o);
          tasks.push(async () => {
            const res = await get(p.user, `/cases/${c.id}/observables/${o.id}`);
            record('GET /cases/:id/observables/:itemId', p, c, o, expect(p, seesItem), statusOutcome(res));
          });
          tasks.push(async () => {
            const res = await get(p.user, `/cases/${c.id}/observables/${o.id}/correlations`);
            record(
              'GET /cases/:id/observables/:itemId/correlations',
              p,
              c,
              o,
              expect(p, seesItem),
              statusOutcome(res),
            );
          });
          tasks.push(async () => {
            // From the principal's own case (which they see): is the probe item among the correlations?
            let res: LightMyRequestResponse;
            if (p.own) {
              const mine = p.own.observableByValue.get(o.value);
              assert.ok(mine, `own observable for ${o.value}`);
              res = await get(p.user, `/cases/${p.own.caseId}/observables/${mine}/correlations`);
            } else {
              res = await get(p.user, `/cases/${c.id}/observables/${o.id}/correlations`);
            }
            record(
              'GET …/correlations (from own case)',
              p,
              c,
              o,
              expect(p, seesItem),
              presence(res, () => json(res).items.some((x: any) => x.observableId === o.id)),
            );
          });
          tasks.push(async () => {
            const res = await get(p.user, `/indicators/lookup?value=${encodeURIComponent(o.value)}`);
            record(
              'GET /indicators/lookup',
              p,
              c,
              o,
              expect(p, seesItem),
              presence(res, () => json(res).items.some((x: any) => x.observableId === o.id)),
            );
          });
        }

        for (const e of c.evidence) {
          const seesItem = oracle.seesItem(p, c, e);
          tasks.push(async () => {
            const res = await get(p.user, `/cases/${c.id}/evidence/${e.id}`);
            record('GET /cases/:id/evidence/:itemId', p, c, e, expect(p, seesItem), statusOutcome(res));
          });
          // A download is a custody step written in a transaction: run those one at a time.
          downloads.push(async () => {
            const res = await get(p.user, `/cases/${c.id}/evidence/${e.id}/content`);
            record(
              'GET /cases/:id/evidence/:itemId/content',
              p,
              c,
              e,
              expect(p, seesItem),
              statusOutcome(res),
            );
            if (res.statusCode === 200) {
              assert.equal(res.body, `evidence ${e.value}\n`);
            }
          });
        }
      }
    }

    // PGlite runs one statement at a time: more than two in flight only queue.
    await pool(tasks, onPostgres() ? 4 : 2);
    await pool(downloads, 1);

    const tally = { ok: 0, allow: 0, denial: 0, other: 0 };
    const wrong: Probe[] = [];
    for (const probe of probes) {
      const v = verdict(probe);
      tally[v]++;
      if (v !== 'ok') wrong.push(probe);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `# authorization matrix: ${probes.length} probes, ${tally.allow} unexpected allows, ${tally.denial} unexpected denials` +
        `${tally.other > 0 ? `, ${tally.other} other mismatches` : ''} (${tasks.length + downloads.length} calls in ${seconds} s)`,
    );
    const show = (p: Probe) =>
      `${verdict(p).padEnd(6)} ${p.route} | ${p.principal} | case ${p.caseLabel}${p.shared === true ? ' shared' : p.shared === false ? ' not shared' : ''} | item ${p.item} | expected ${p.expected}, got ${p.got}`;
    assert.equal(
      wrong.length,
      0,
      `mismatches:\n${wrong.slice(0, 60).map(show).join('\n')}${wrong.length > 60 ? `\n… and ${wrong.length - 60} more` : ''}`,
    );
  });

  it('the real event stream carries exactly what the matrix read for the shared party', async () => {
    const ee = principals.find((p) => p.key === 'shared-party analyst (EE)')!;
    const actor = await node.services.identity.authenticateToken(ee.user!.token);
    assert.ok(actor);
    const expected = (await node.services.events.since({ actor, requestId: null }, 0, 100_000)).map(
      (e) => e.seq,
    );
    assert.ok(expected.length > 0);
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (node.app.server.address() as AddressInfo).port;
    // Read frames until as many as expected arrived, then a little longer for any that should not.
    const got = await new Promise<number[]>((resolve, reject) => {
      const seqs: number[] = [];
      let buffer = '';
      let settling: NodeJS.Timeout | null = null;
      const finish = () => {
        clearTimeout(deadline);
        request.destroy();
        resolve(seqs);
      };
      const deadline = setTimeout(finish, 10_000);
      const request = http.get(
        { host: '127.0.0.1', port, path: `${api}/events?since=0`, headers: ee.user!.headers },
        (response) => {
          if (response.statusCode !== 200) {
            clearTimeout(deadline);
            reject(new Error(`GET /events answered ${response.statusCode}`));
          }
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            buffer += chunk;
            for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
              const id = /^id: (\d+)$/m.exec(buffer.slice(0, end));
              buffer = buffer.slice(end + 2);
              if (id) seqs.push(Number(id[1]));
            }
            if (seqs.length >= expected.length && !settling) settling = setTimeout(finish, 300);
          });
        },
      );
      request.on('error', () => {});
    });
    assert.deepEqual(got, expected);
  });
});
