import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Framework } from '@vytis/contracts';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { submitRequest, vote } from '../../test/requests.fixtures.ts';
import { DEFAULT_FRAMEWORK_RULES as DEFAULT_RULES } from '../framework/framework.defaults.ts';
import { assessEligibility } from './eligibility.ts';

const MEMBERS = ['EE', 'HR', 'LT', 'NL', 'PL', 'RO'];
/** A request filed on 2 December 2026: its mission window and awareness after that day began. */
const DECEMBER = {
  window: { from: '2026-12-02T18:00:00Z', to: '2026-12-09T18:00:00Z' },
  awareAt: '2026-12-02T07:00:00Z',
};

describe('eligibility', () => {
  let node: TestNode;
  let admin: TestUser;
  const poc: Record<string, TestUser> = {};
  let fiCouncil: TestUser;

  before(async () => {
    node = await startTestNode();
    admin = await node.user('admin', 'LT', ['admin']);
    for (const party of ['LT', 'FI', 'EU', 'UA', 'DE', 'MD', 'SI'])
      poc[party] = await node.user(`${party.toLowerCase()}.poc`, party, ['poc']);
    fiCouncil = await node.user('fi.council', 'FI', ['council']);
  });
  after(() => node.close());

  const get = async (id: string, user: TestUser) => {
    const res = await node.request({ method: 'GET', url: `/api/v1/requests/${id}`, headers: user.headers });
    assert.equal(res.statusCode, 200, res.body);
    return json(res);
  };
  const timeline = async (id: string, user: TestUser) =>
    json(await node.request({ method: 'GET', url: `/api/v1/requests/${id}/timeline`, headers: user.headers }))
      .items as any[];
  const changeStatus = async (code: string, status: string, effectiveFrom: string, note: string) => {
    const res = await node.request({
      method: 'POST',
      url: `/api/v1/parties/${code}/statuses`,
      headers: admin.headers,
      payload: { status, effectiveFrom, note },
    });
    assert.equal(res.statusCode, 201, res.body);
    return json(res);
  };

  it('decides from the requester’s status on the day of submission', async () => {
    const matrix = [
      { party: 'LT', status: 'member', requires: 'majority', says: 'LT is a member on 2026-11-23' },
      { party: 'FI', status: 'observer', requires: 'majority', says: 'FI is an observer on 2026-11-23' },
      {
        party: 'EU',
        status: 'eu_institution',
        requires: 'majority',
        says: 'EU is an EU institution on 2026-11-23',
      },
      { party: 'UA', status: 'partner', requires: 'unanimity', says: 'UA is a partner on 2026-11-23' },
      { party: 'DE', status: 'external', requires: null, says: 'DE is an external state on 2026-11-23' },
    ];
    for (const row of matrix) {
      const request = await submitRequest(node, poc[row.party]!, {
        location: { country: row.party === 'EU' ? 'BE' : row.party },
      });
      const { eligibility } = request;
      const eligible = row.requires !== null;
      assert.equal(eligibility.eligible, eligible, row.party);
      assert.equal(eligibility.requires, row.requires, row.party);
      assert.equal(eligibility.partyStatus, row.status, row.party);
      assert.equal(eligibility.day, '2026-11-23');
      assert.equal(eligibility.frameworkVersion, 1);
      assert.equal(eligibility.reasons[0], row.says);

      const why = eligibility.reasons.slice(1).join('; ');
      const events = (await timeline(request.id, poc[row.party]!)).map((e) => e.kind);
      if (eligible) {
        assert.equal(request.status, 'voting', row.party);
        assert.match(
          why,
          row.requires === 'unanimity'
            ? /partners may be helped only by a unanimous council decision/
            : /may request assistance.*the council decides by majority/,
          row.party,
        );
        assert.equal(request.council.rule, row.requires);
        assert.deepEqual(request.council.electorate, MEMBERS);
        assert.deepEqual(request.deadlines.map((d: any) => [d.kind, d.state]).sort(), [
          ['answer', 'running'],
          ['decision', 'running'],
          ['nis2_early_warning', 'running'],
          ['nis2_notification', 'running'],
          ['response', 'running'],
        ]);
        assert.deepEqual(events, ['created', 'submitted', 'voting']);
      } else {
        assert.equal(request.status, 'ineligible');
        assert.match(why, /external states are not eligible for assistance/);
        assert.deepEqual(request.deadlines, [], 'no clock runs for an ineligible request');
        assert.equal(request.council, null);
        assert.equal(request.decision, null);
        assert.deepEqual(events, ['created', 'submitted', 'ineligible']);
        const entry = (await timeline(request.id, poc[row.party]!)).at(-1);
        assert.deepEqual(entry.detail.reasons, eligibility.reasons, 'the timeline says why');
      }
      assert.deepEqual((await get(request.id, poc[row.party]!)).eligibility, eligibility, 'stored as shown');
    }
  });

  let fiNovember: any;
  let mdNovember: any;

  it('reads a status change only from the day it takes effect', async () => {
    const fi = await changeStatus('FI', 'member', '2026-12-01', 'Finland joins the project');
    assert.deepEqual(
      fi.statusHistory.map((h: any) => [h.status, h.from, h.to]),
      [
        ['observer', '2018-03-06', '2026-12-01'],
        ['member', '2026-12-01', null],
      ],
    );
    await changeStatus('MD', 'external', '2026-12-01', 'Moldova leaves the partnership');

    fiNovember = await submitRequest(node, poc['FI']!, { location: { country: 'FI' } });
    assert.equal(fiNovember.eligibility.partyStatus, 'observer', 'on 23 November FI is still an observer');
    assert.equal(fiNovember.eligibility.reasons[0], 'FI is an observer on 2026-11-23');
    assert.deepEqual(fiNovember.council.electorate, MEMBERS, 'FI does not vote yet');

    mdNovember = await submitRequest(node, poc['MD']!, { location: { country: 'MD' } });
    assert.equal(mdNovember.status, 'voting');
    assert.equal(mdNovember.eligibility.partyStatus, 'partner');
    assert.equal(mdNovember.eligibility.requires, 'unanimity');
  });

  it('keeps a request’s eligibility when the status changes later; new requests see the new status', async () => {
    node.clock.set('2026-12-02T09:00:00Z');

    const fiAgain = await get(fiNovember.id, poc['FI']!);
    assert.deepEqual(fiAgain.eligibility, fiNovember.eligibility, 'history is not rewritten');
    assert.deepEqual(fiAgain.council, fiNovember.council);
    assert.equal(fiAgain.eligibility.partyStatus, 'observer');
    assert.deepEqual((await get(mdNovember.id, poc['MD']!)).eligibility, mdNovember.eligibility);

    const fiDecember = await submitRequest(node, poc['FI']!, { ...DECEMBER, location: { country: 'FI' } });
    assert.equal(fiDecember.status, 'voting');
    assert.equal(fiDecember.eligibility.partyStatus, 'member');
    assert.equal(fiDecember.eligibility.requires, 'majority');
    assert.equal(fiDecember.eligibility.day, '2026-12-02');
    assert.equal(fiDecember.eligibility.reasons[0], 'FI is a member on 2026-12-02');

    const ltDecember = await submitRequest(node, poc['LT']!, DECEMBER);
    const withFinland = ['EE', 'FI', 'HR', 'LT', 'NL', 'PL', 'RO'];
    assert.deepEqual(fiDecember.council.electorate, withFinland);
    assert.deepEqual(ltDecember.council.electorate, withFinland, 'FI now sits on the council');

    const voted = await vote(node, fiCouncil, ltDecember.id, 'activate');
    assert.equal(voted.statusCode, 200, voted.body);
    assert.deepEqual(
      json(voted).votes.map((v: any) => [v.party, v.vote]),
      [['FI', 'activate']],
    );
    const tooEarly = await vote(node, fiCouncil, fiNovember.id, 'activate');
    assert.equal(tooEarly.statusCode, 403, 'FI was not on the council when that request was submitted');
    assert.equal(
      json(tooEarly).error.message,
      'FI does not sit on the council for this request; its members are EE, HR, LT, NL, PL, RO',
    );
  });

  it('refuses a party that has become external, saying why', async () => {
    const request = await submitRequest(node, poc['MD']!, { ...DECEMBER, location: { country: 'MD' } });
    assert.equal(request.status, 'ineligible');
    assert.equal(request.eligibility.eligible, false);
    assert.equal(request.eligibility.requires, null);
    assert.equal(request.eligibility.partyStatus, 'external');
    assert.equal(request.eligibility.reasons[0], 'MD is an external state on 2026-12-02');
    assert.match(request.eligibility.reasons[1], /external states are not eligible for assistance/);
    assert.deepEqual(request.deadlines, []);
    assert.equal(request.council, null);
  });

  it('does not rewrite a stored eligibility when the history is corrected after the fact', async () => {
    const before = await submitRequest(node, poc['SI']!, { ...DECEMBER, location: { country: 'SI' } });
    assert.equal(before.eligibility.partyStatus, 'observer');

    await changeStatus('SI', 'external', '2026-11-15', 'correction: Slovenia left the project in November');
    const reread = await get(before.id, poc['SI']!);
    assert.equal(reread.status, 'voting');
    assert.deepEqual(reread.eligibility, before.eligibility);

    const after = await submitRequest(node, poc['SI']!, { ...DECEMBER, location: { country: 'SI' } });
    assert.equal(after.status, 'ineligible');
    assert.equal(after.eligibility.reasons[0], 'SI is an external state on 2026-12-02');
  });
});

describe('assessEligibility', () => {
  const framework = (rules: Partial<Framework['rules']> = {}): Framework => ({
    version: 3,
    effectiveFrom: '2026-01-01T00:00:00.000Z',
    note: null,
    createdAt: '2025-12-01T00:00:00.000Z',
    createdBy: 'admin',
    rules: { ...DEFAULT_RULES, ...rules },
  });

  it('refuses a party with no status on the day', () => {
    assert.deepEqual(assessEligibility('XK', null, '2026-11-23', framework()), {
      partyStatus: null,
      day: '2026-11-23',
      frameworkVersion: 3,
      eligible: false,
      requires: null,
      reasons: ['XK has no status with the force on 2026-11-23'],
    });
  });

  it('follows the rules of the framework version it is given', () => {
    const partnersByMajority = framework({
      council: { ...DEFAULT_RULES.council, partnerRule: 'majority' },
    });
    const partner = assessEligibility('UA', 'partner', '2026-11-23', partnersByMajority);
    assert.equal(partner.requires, 'majority');
    assert.equal(
      partner.reasons[1],
      'under framework version 3, partners may be helped only by a majority council decision',
    );

    const observersOut = framework({
      eligibility: {
        eligible: ['member', 'eu_institution'],
        unanimousCouncilRequired: ['partner'],
        notEligible: ['observer', 'external'],
      },
    });
    const observer = assessEligibility('FI', 'observer', '2026-11-23', observersOut);
    assert.equal(observer.eligible, false);
    assert.deepEqual(observer.reasons, [
      'FI is an observer on 2026-11-23',
      'under framework version 3, observers are not eligible for assistance from the force',
    ]);
  });
});
