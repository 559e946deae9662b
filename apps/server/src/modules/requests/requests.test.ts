import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { fileRequest, HOUR, requestBody, submitRequest, vote } from '../../test/requests.fixtures.ts';
import { deployTeam, registerAnalyst } from '../deployments/deployments.fixtures.ts';

const api = '/api/v1';

describe('assistance requests', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  let ltAnalyst: TestUser;
  let eePoc: TestUser;
  let eeCouncil: TestUser;
  let fiPoc: TestUser;
  let fiCouncil: TestUser;
  let coordinator: TestUser;
  let admin: TestUser;
  const council = new Map<string, TestUser>();

  before(async () => {
    node = await startTestNode();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    ltAnalyst = await node.user('lt.analyst', 'LT', ['analyst']);
    eePoc = await node.user('ee.poc', 'EE', ['poc']);
    eeCouncil = await node.user('ee.council', 'EE', ['council']);
    fiPoc = await node.user('fi.poc', 'FI', ['poc']);
    fiCouncil = await node.user('fi.council', 'FI', ['council']);
    coordinator = await node.user('duty.officer', 'PL', ['coordinator']);
    admin = await node.user('root', 'LT', ['admin']);
    for (const party of ['LT', 'EE', 'HR', 'PL', 'NL', 'RO']) {
      council.set(
        party,
        party === 'EE' ? eeCouncil : await node.user(`${party.toLowerCase()}.council`, party, ['council']),
      );
    }
  });
  after(() => node.close());

  const get = (user: TestUser, url: string) =>
    node.request({ method: 'GET', url: `${api}${url}`, headers: user.headers });
  const post = (user: TestUser, url: string, payload?: object, headers: Record<string, string> = {}) =>
    node.request({
      method: 'POST',
      url: `${api}${url}`,
      headers: { ...user.headers, ...headers },
      ...(payload ? { payload } : {}),
    });
  const activate = async (id: string) => {
    for (const party of ['LT', 'EE', 'PL', 'NL'])
      assert.equal((await vote(node, council.get(party)!, id, 'activate')).statusCode, 200);
  };

  describe('filing a draft', () => {
    it('creates a draft of the caller’s party with its priority and reasons', async () => {
      const res = await fileRequest(node, ltPoc);
      assert.equal(res.statusCode, 201, res.body);
      const body = json(res);
      assert.equal(body.status, 'draft');
      assert.equal(body.party, 'LT');
      assert.equal(body.version, 1);
      assert.equal(res.headers.etag, '"1"');
      assert.equal(body.eligibility, null);
      assert.deepEqual(body.deadlines, []);
      assert.equal(body.legalInstrument, 'crrt-mou');
      // critical 40 + essential 20 + impact not rated 0 + spread not assessed 0 + measures 10
      assert.equal(body.priority.score, 70);
      assert.deepEqual(
        body.priority.reasons.map((r: any) => [r.criterion, r.points]),
        [
          ['severity', 40],
          ['entity', 20],
          ['impact', 0],
          ['cross-border', 0],
          ['measures', 10],
        ],
      );
    });

    it('scores the full set of criteria up to 100', async () => {
      const res = await fileRequest(node, ltPoc, {
        impactLevel: 'severe',
        crossBorder: { risk: 'likely', countries: ['LV', 'PL'] },
      });
      const { priority } = json(res);
      assert.equal(priority.score, 100);
      assert.match(
        priority.reasons.find((r: any) => r.criterion === 'cross-border').reason,
        /likely \(LV, PL\)/,
      );
    });

    it('keeps hostile text as text', async () => {
      const title = '<img src=x onerror=alert(1)><script>alert(2)</script>';
      const res = await fileRequest(node, ltPoc, { title });
      assert.equal(res.statusCode, 201);
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(json(res).title, title);
    });

    it('refuses a tag that is not in RSIT, naming the field and the valid types', async () => {
      // The example body of the API brief uses "ransomware", which RSIT does not have.
      const res = await fileRequest(node, ltPoc, { incidentClass: 'rsit:malicious-code="ransomware"' });
      assert.equal(res.statusCode, 400);
      const { error } = json(res);
      assert.equal(error.details[0].field, 'body/incidentClass');
      assert.match(error.details[0].message, /has no type "ransomware"; types: infected-system/);
      const unknownClass = json(await fileRequest(node, ltPoc, { incidentClass: 'rsit:nonsense="x"' }));
      assert.match(unknownClass.error.message, /RSIT has no class "nonsense"/);
      const notATag = json(await fileRequest(node, ltPoc, { incidentClass: 'ransomware' }));
      assert.match(notATag.error.message, /must be an RSIT machine tag/);
    });

    it('refuses impossible windows, unknown skills and languages, future awareness, each by name', async () => {
      const cases: [object, string, RegExp][] = [
        [
          { window: { from: '2026-12-02T00:00:00Z', to: '2026-12-01T00:00:00Z' } },
          'body/window/to',
          /after window\/from/,
        ],
        [{ needs: [{ skill: 'hacking', count: 1, minLevel: 1 }] }, 'body/needs/0/skill', /allowed values/],
        [{ needs: [{ skill: 'legal', count: 1, minLevel: 4 }] }, 'body/needs/0/minLevel', /<= 3/],
        [
          {
            needs: [
              { skill: 'legal', count: 1, minLevel: 1 },
              { skill: 'legal', count: 2, minLevel: 2 },
            ],
          },
          'body/needs/1/skill',
          /listed twice/,
        ],
        [{ languages: ['en', 'xx'] }, 'body/languages/1', /not an ISO 639-1 language/],
        [{ awareAt: '2026-11-24T12:00:00Z' }, 'body/awareAt', /in the future/],
        // Refused at the edge by the API's time format, or by the request's own 1970 floor.
        [{ awareAt: '2026-06-30T23:59:60Z' }, 'body/awareAt', /RFC 3339 time .* from the year 1000 to 9998/],
        [{ awareAt: '0000-01-01T00:00:00Z' }, 'body/awareAt', /RFC 3339 time .* from the year 1000 to 9998/],
        [{ awareAt: '1969-12-31T23:59:59Z' }, 'body/awareAt', /between 1970 and 9999/],
        [
          { window: { from: '2026-11-24T06:00:00+05', to: '2026-12-01T18:00:00Z' } },
          'body/window/from',
          /RFC 3339 time .* from the year 1000 to 9998/,
        ],
        [{ severity: 'apocalyptic' }, 'body/severity', /allowed values/],
        [{ tlp: 'white' }, 'body/tlp', /allowed values/],
        [
          { affectedEntity: { name: 'x', sector: 'casinos', essential: false } },
          'body/affectedEntity/sector',
          /allowed values/,
        ],
      ];
      for (const [override, field, message] of cases) {
        const res = await fileRequest(node, ltPoc, override as never);
        assert.equal(res.statusCode, 400, `${field}: ${res.body}`);
        const problem = json(res).error.details.find((d: any) => d.field === field);
        assert.ok(problem, `${field} named in ${res.body}`);
        assert.match(problem.message, message);
      }
      const { title: _t, ...untitled } = requestBody();
      const missing = await node.request({
        method: 'POST',
        url: `${api}/requests`,
        headers: ltPoc.headers,
        payload: untitled,
      });
      assert.equal(missing.statusCode, 400);
      assert.deepEqual(json(missing).error.details, [{ field: 'body/title', message: 'is required' }]);
    });

    it('lets only PoCs file, always for their own party', async () => {
      const res = await fileRequest(node, ltAnalyst);
      assert.equal(res.statusCode, 403);
      const sneaky = await node.request({
        method: 'POST',
        url: `${api}/requests`,
        headers: ltPoc.headers,
        payload: { ...requestBody(), party: 'EE' },
      });
      assert.equal(sneaky.statusCode, 400);
      assert.equal(json(sneaky).error.details[0].field, 'body/party');
    });
  });

  describe('any body', () => {
    it('is answered with 201 or a 400 naming a field, never a 500 or a half-written draft', async () => {
      const before = json(await get(admin, '/requests?limit=1')).total;
      let created = 0;
      const fields = Object.keys(requestBody());
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...fields),
          fc.oneof(
            fc.anything(),
            fc.string(),
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
            fc.constantFrom(
              'rsit:test="test"',
              'rsit:other',
              '',
              '\u0000',
              '<script>',
              '2026-02-30T00:00:00Z',
            ),
          ),
          async (field, value) => {
            const res = await node.request({
              method: 'POST',
              url: `${api}/requests`,
              headers: ltPoc.headers,
              payload: { ...requestBody(), [field]: value },
            });
            assert.ok(
              res.statusCode === 201 || res.statusCode === 400,
              `${field}=${JSON.stringify(value)}: ${res.body}`,
            );
            if (res.statusCode === 201) created += 1;
            else assert.ok(json(res).error.details.length > 0, `a 400 names the field: ${res.body}`);
          },
        ),
        { numRuns: 150 },
      );
      const after = json(await get(admin, '/requests?limit=1')).total;
      assert.equal(after, before + created, 'only accepted bodies left a draft');
    });
  });

  describe('editing a draft', () => {
    it('takes If-Match versions, and answers 412 to a stale one', async () => {
      const draft = json(await fileRequest(node, ltPoc));
      const patch = (payload: object, ifMatch?: string, user = ltPoc) =>
        node.request({
          method: 'PATCH',
          url: `${api}/requests/${draft.id}`,
          headers: { ...user.headers, ...(ifMatch ? { 'if-match': ifMatch } : {}) },
          payload,
        });
      const edited = await patch({ severity: 'medium', title: 'Edited title' }, '"1"');
      assert.equal(edited.statusCode, 200, edited.body);
      assert.equal(json(edited).version, 2);
      assert.equal(json(edited).title, 'Edited title');
      assert.equal(json(edited).priority.score, 45, 'priority follows the edit');
      assert.equal(edited.headers.etag, '"2"');

      const stale = await patch({ severity: 'high' }, '1');
      assert.equal(stale.statusCode, 412);
      assert.match(json(stale).error.message, /version 1, it is now at version 2/);
      assert.equal(
        json(await get(ltPoc, `/requests/${draft.id}`)).severity,
        'medium',
        'the stale write changed nothing',
      );

      assert.equal((await patch({ severity: 'high' }, 'yesterday')).statusCode, 400);
      assert.equal(
        (await patch({ window: { from: '2026-12-02T00:00:00Z', to: '2026-12-01T00:00:00Z' } })).statusCode,
        400,
      );
      assert.equal(
        (await patch({ severity: 'high' }, undefined, eePoc)).statusCode,
        404,
        "another party's draft is invisible",
      );
      assert.equal((await patch({ severity: 'high' })).statusCode, 200, 'If-Match is optional');
      assert.equal(
        (await patch({ severity: 'high' }, '*')).statusCode,
        200,
        'If-Match: * matches any version',
      );
      const offset = await patch({ awareAt: '2026-11-23T11:30:00+02:00' });
      assert.equal(json(offset).awareAt, '2026-11-23T09:30:00.000Z', 'offsets are stored as UTC');

      await post(ltPoc, `/requests/${draft.id}/submit`);
      const late = await patch({ severity: 'low' });
      assert.equal(late.statusCode, 409);
      assert.match(json(late).error.message, /only a draft can be edited/);
    });
  });

  describe('submission', () => {
    it('decides eligibility, opens the council and starts every clock', async () => {
      const body = await submitRequest(node, ltPoc);
      assert.equal(body.status, 'voting');
      assert.equal(body.submittedAt, '2026-11-23T12:00:00.000Z');
      assert.equal(body.eligibility.eligible, true);
      assert.equal(body.eligibility.partyStatus, 'member');
      assert.deepEqual(body.council.electorate, ['EE', 'HR', 'LT', 'NL', 'PL', 'RO']);
      assert.equal(body.council.rule, 'majority');
      const due = Object.fromEntries(body.deadlines.map((d: any) => [d.kind, d.dueAt]));
      assert.deepEqual(due, {
        decision: '2026-11-24T12:00:00.000Z',
        answer: '2026-11-25T12:00:00.000Z',
        response: '2026-11-26T12:00:00.000Z',
        nis2_early_warning: '2026-11-24T09:30:00.000Z',
        nis2_notification: '2026-11-26T09:30:00.000Z',
      });
      assert.deepEqual(body.missingForSubmission, []);
      assert.ok(body.deadlines.every((d: any) => d.state === 'running'));
      const again = await post(ltPoc, `/requests/${body.id}/submit`);
      assert.equal(again.statusCode, 409);
      assert.match(json(again).error.message, /cannot submit this request/);
    });

    it('refuses a window that has already ended', async () => {
      const draft = json(
        await fileRequest(node, ltPoc, {
          window: { from: '2026-11-20T00:00:00Z', to: '2026-11-22T00:00:00Z' },
          awareAt: '2026-11-19T00:00:00Z',
        }),
      );
      const res = await post(ltPoc, `/requests/${draft.id}/submit`);
      assert.equal(res.statusCode, 409);
      assert.match(json(res).error.message, /mission window has already ended/);
    });

    it('is for the requesting party’s PoC only', async () => {
      const draft = json(await fileRequest(node, ltPoc, { tlp: 'green' }));
      assert.equal((await post(eePoc, `/requests/${draft.id}/submit`)).statusCode, 404, 'a draft is private');
      assert.equal((await post(ltAnalyst, `/requests/${draft.id}/submit`)).statusCode, 403);
    });
  });

  describe('the whole lifecycle', () => {
    it('runs from draft to closed, with every clock met and every step on the timeline', async () => {
      const request = await submitRequest(node, ltPoc);
      const id = request.id;
      await activate(id);
      const activated = json(await get(ltPoc, `/requests/${id}`));
      assert.equal(activated.status, 'activated');
      assert.equal(activated.decision.closedEarly, true);

      node.clock.advance(2 * HOUR);
      const assembling = json(
        await post(coordinator, `/requests/${id}/assemble`, { reason: 'team proposed' }),
      );
      assert.equal(assembling.status, 'assembling');
      node.clock.advance(10 * HOUR);
      // Only the host's acceptance of a team deploys a request (and meets its response clock).
      const bare = await post(coordinator, `/requests/${id}/deploy`, {});
      assert.equal(bare.statusCode, 409);
      assert.match(json(bare).error.message, /no deployment the host accepted/);
      for (const name of ['Forensic One', 'Forensic Two'])
        await registerAnalyst(node, ltPoc, 'LT', `${name} (lifecycle)`);
      await deployTeam(node, id, { coordinator, host: ltPoc, pocs: { LT: ltPoc } });
      const deployed = json(await get(ltPoc, `/requests/${id}`));
      assert.equal(deployed.status, 'deployed');
      const state = (body: any, kind: string) => body.deadlines.find((d: any) => d.kind === kind);
      assert.equal(state(deployed, 'answer').state, 'met');
      assert.equal(state(deployed, 'answer').metAt, '2026-11-23T14:00:00.000Z');
      assert.equal(state(deployed, 'response').state, 'met');
      assert.equal(state(deployed, 'response').late, false);

      const early = await post(ltPoc, `/requests/${id}/withdraw`, { reason: 'contained at home' });
      assert.equal(early.statusCode, 409);
      assert.match(json(early).error.message, /already deployed/);

      node.clock.advance(5 * 24 * HOUR);
      const stood = json(await post(ltPoc, `/requests/${id}/stand-down`, {}));
      assert.equal(stood.status, 'stood_down');
      assert.equal(state(stood, 'post_action_report').dueAt, '2026-12-29T00:00:00.000Z');
      assert.equal(state(stood, 'post_action_report').state, 'running');

      const noSummary = await post(coordinator, `/requests/${id}/report`, {});
      assert.equal(noSummary.statusCode, 400);
      const reported = json(
        await post(coordinator, `/requests/${id}/report`, { summary: 'Grid restored; IOCs shared.' }),
      );
      assert.equal(reported.status, 'reported');
      assert.deepEqual(reported.report, {
        summary: 'Grid restored; IOCs shared.',
        reportedAt: '2026-11-29T00:00:00.000Z',
        reportedBy: 'duty.officer',
      });
      assert.equal(state(reported, 'post_action_report').state, 'met');
      const closed = json(await post(coordinator, `/requests/${id}/close`, {}));
      assert.equal(closed.status, 'closed');

      const timeline = json(await get(ltAnalyst, `/requests/${id}/timeline`)).items;
      assert.deepEqual(
        timeline.filter((e: any) => e.toStatus).map((e: any) => e.toStatus),
        [
          'draft',
          'submitted',
          'voting',
          'activated',
          'assembling',
          'deployed',
          'stood_down',
          'reported',
          'closed',
        ],
      );
      assert.equal(timeline.filter((e: any) => e.kind === 'vote').length, 4);
      assert.equal(timeline.find((e: any) => e.toStatus === 'assembling').detail.reason, 'team proposed');

      const audited = await node.services.audit.page({ objectId: id }, 'asc', 100);
      assert.deepEqual(
        audited.items.filter((e: any) => e.summary.to).map((e: any) => [e.action, e.summary.to]),
        [
          ['request.draft', 'draft'],
          ['request.submitted', 'submitted'],
          ['request.voting', 'voting'],
          ['request.decision', 'activated'],
          ['request.assembling', 'assembling'],
          ['request.deployed', 'deployed'],
          ['request.stood_down', 'stood_down'],
          ['request.reported', 'reported'],
          ['request.closed', 'closed'],
        ].map(([a, t]) => [a === 'request.draft' ? 'request.created' : a, t]),
      );
      node.clock.set('2026-11-23T12:00:00Z');
    });

    it('answers an illegal move with 409 and why, and a wrong role with 403', async () => {
      const { id } = await submitRequest(node, ltPoc);
      const early = await post(coordinator, `/requests/${id}/assemble`, {});
      assert.equal(early.statusCode, 409);
      assert.match(json(early).error.message, /the council has not decided yet/);
      const deploy = await post(coordinator, `/requests/${id}/deploy`, {});
      assert.equal(deploy.statusCode, 409);
      assert.equal((await post(ltPoc, `/requests/${id}/assemble`, {})).statusCode, 403);
      assert.equal(
        (await post(coordinator, `/requests/${id}/withdraw`, { reason: 'not mine to withdraw' })).statusCode,
        403,
      );
      const report = await post(coordinator, `/requests/${id}/close`, {});
      assert.equal(report.statusCode, 409);
      assert.match(json(report).error.message, /allowed only when reported, declined, ineligible, withdrawn/);
    });

    it('withdraws before deployment: the force’s clocks stop, the entity’s NIS2 clocks run on', async () => {
      const { id } = await submitRequest(node, ltPoc);
      const green = await submitRequest(node, ltPoc, { tlp: 'green' });
      assert.equal(
        (await post(eePoc, `/requests/${green.id}/withdraw`, { reason: 'not ours' })).statusCode,
        403,
        'only the requester withdraws',
      );
      const withdrawn = json(
        await post(ltPoc, `/requests/${id}/withdraw`, { reason: 'contained by national CSIRT' }),
      );
      assert.equal(withdrawn.status, 'withdrawn');
      const states = Object.fromEntries(withdrawn.deadlines.map((d: any) => [d.kind, d.state]));
      assert.deepEqual(states, {
        decision: 'cancelled',
        answer: 'cancelled',
        response: 'cancelled',
        nis2_early_warning: 'running',
        nis2_notification: 'running',
      });
      const voteAfter = await vote(node, eeCouncil, id, 'activate');
      assert.equal(voteAfter.statusCode, 409);
      assert.match(json(voteAfter).error.message, /withdrawn/);
      const closed = json(await post(coordinator, `/requests/${id}/close`, {}));
      assert.equal(closed.status, 'closed');
      assert.deepEqual(
        Object.fromEntries(closed.deadlines.map((d: any) => [d.kind, d.state])),
        { ...states, nis2_early_warning: 'running', nis2_notification: 'running' },
        "closed by the force, the entity's NIS2 clocks still run",
      );
    });

    it('assembles a partially activated request; closes declined and ineligible ones', async () => {
      const partial = await submitRequest(node, ltPoc);
      for (const party of ['LT', 'EE', 'PL', 'NL'])
        await vote(node, council.get(party)!, partial.id, 'partial');
      assert.equal(json(await get(ltPoc, `/requests/${partial.id}`)).status, 'partially_activated');
      assert.equal(
        json(await post(coordinator, `/requests/${partial.id}/assemble`, {})).status,
        'assembling',
      );
      const withdrawn = json(
        await post(ltPoc, `/requests/${partial.id}/withdraw`, { reason: 'the operator recovered' }),
      );
      assert.equal(withdrawn.status, 'withdrawn', 'still possible while assembling');

      const declined = await submitRequest(node, ltPoc);
      for (const party of ['LT', 'EE', 'PL', 'NL'])
        await vote(node, council.get(party)!, declined.id, 'decline', 'not a case for the force');
      assert.equal(json(await get(ltPoc, `/requests/${declined.id}`)).status, 'declined');
      const noAssembly = await post(coordinator, `/requests/${declined.id}/assemble`, {});
      assert.equal(noAssembly.statusCode, 409);
      assert.match(json(noAssembly).error.message, /the council declined it/);
      assert.equal(json(await post(coordinator, `/requests/${declined.id}/close`, {})).status, 'closed');

      const dePoc = await node.user('de.poc', 'DE', ['poc']);
      const refused = await submitRequest(node, dePoc, { location: { country: 'DE' } });
      assert.equal(refused.status, 'ineligible');
      assert.deepEqual(refused.deadlines, [], 'no clocks for a request the force cannot take');
      assert.match(refused.eligibility.reasons.join(' '), /DE is an external state on 2026-11-23/);
      assert.equal(json(await post(coordinator, `/requests/${refused.id}/close`, {})).status, 'closed');
    });

    it('withdraws a draft, which stays with its party', async () => {
      const draft = json(await fileRequest(node, ltPoc, { tlp: 'green', impact: 'internal musings' }));
      assert.equal(
        json(await post(ltPoc, `/requests/${draft.id}/withdraw`, { reason: 'filed twice' })).status,
        'withdrawn',
      );
      for (const user of [fiPoc, coordinator, eeCouncil]) {
        assert.equal((await get(user, `/requests/${draft.id}`)).statusCode, 404, user.name);
      }
      assert.equal((await get(ltAnalyst, `/requests/${draft.id}`)).statusCode, 200);
    });

    it('records the entity’s NIS2 reports, once each', async () => {
      const { id } = await submitRequest(node, ltPoc);
      const complete = (
        user: TestUser,
        kind: string,
        payload: object = { filedAt: '2026-11-23T11:00:00Z' },
      ) => post(user, `/requests/${id}/deadlines/${kind}/complete`, payload);
      const done = await complete(ltPoc, 'nis2_early_warning');
      assert.equal(done.statusCode, 200, done.body);
      const warning = json(done).deadlines.find((d: any) => d.kind === 'nis2_early_warning');
      assert.equal(warning.state, 'met');
      assert.equal(warning.late, false);
      assert.equal((await complete(ltPoc, 'nis2_early_warning')).statusCode, 409);
      assert.equal((await complete(ltPoc, 'decision')).statusCode, 400);
      assert.equal((await complete(eePoc, 'nis2_notification')).statusCode, 404);
      assert.equal((await complete(ltAnalyst, 'nis2_notification')).statusCode, 403);
    });
  });

  describe('the Act’s template at submission', () => {
    const patch = (id: string, payload: object) =>
      node.request({ method: 'PATCH', url: `${api}/requests/${id}`, headers: ltPoc.headers, payload });

    it('keeps an incomplete draft, refuses to submit it naming every missing field, then submits it once complete', async () => {
      const filed = await fileRequest(node, ltPoc, {
        affectedEntity: { name: '   ', sector: 'energy', essential: true },
        impact: undefined,
        helpNeeded: ' \n ',
        measuresTaken: undefined,
        otherHelp: undefined,
      });
      assert.equal(filed.statusCode, 201, 'a draft may be incomplete');
      const draft = json(filed);
      const missing = [
        'body/affectedEntity/name',
        'body/impact',
        'body/helpNeeded',
        'body/measuresTaken',
        'body/otherHelp',
      ];
      assert.deepEqual(
        draft.missingForSubmission.map((p: any) => p.field),
        missing,
      );

      const refused = await post(ltPoc, `/requests/${draft.id}/submit`);
      assert.equal(refused.statusCode, 400, refused.body);
      const { error } = json(refused);
      assert.equal(error.code, 'invalid_input');
      assert.deepEqual(
        error.details.map((d: any) => d.field),
        missing,
        'every missing field, by its body path',
      );
      assert.ok(error.details.every((d: any) => /is required to submit/.test(d.message)));
      assert.match(error.message, /Cyber Solidarity Act's template still needs body\/affectedEntity\/name/);
      const unchanged = json(await get(ltPoc, `/requests/${draft.id}`));
      assert.equal(unchanged.status, 'draft');
      assert.equal(unchanged.version, draft.version, 'the refused submission changed nothing');
      assert.deepEqual(unchanged.deadlines, []);

      const half = json(
        await patch(draft.id, {
          affectedEntity: { name: 'Grid operator', sector: 'energy', essential: true },
          impact: 'Control systems encrypted.',
        }),
      );
      assert.deepEqual(
        half.missingForSubmission.map((p: any) => p.field),
        ['body/helpNeeded', 'body/measuresTaken', 'body/otherHelp'],
      );
      const stillRefused = await post(ltPoc, `/requests/${draft.id}/submit`);
      assert.deepEqual(
        json(stillRefused).error.details.map((d: any) => d.field),
        ['body/helpNeeded', 'body/measuresTaken', 'body/otherHelp'],
      );
      const complete = json(
        await patch(draft.id, {
          helpNeeded: 'Forensics.',
          measuresTaken: 'Segments isolated.',
          otherHelp: 'None.',
        }),
      );
      assert.deepEqual(complete.missingForSubmission, []);
      const submitted = await post(ltPoc, `/requests/${draft.id}/submit`);
      assert.equal(submitted.statusCode, 200, submitted.body);
      assert.equal(json(submitted).status, 'voting');
      assert.deepEqual(json(submitted).missingForSubmission, []);
    });

    it('says so in the API document', async () => {
      const doc = json(await node.request({ method: 'GET', url: '/openapi.json' }));
      const submit = doc.paths['/api/v1/requests/{id}/submit'].post;
      assert.match(submit.description, /helpNeeded, measuresTaken and otherHelp/);
      const filing =
        doc.paths['/api/v1/requests/{id}/deadlines/{kind}/complete'].post.requestBody.content[
          'application/json'
        ];
      assert.deepEqual(filing.schema.required, ['filedAt']);
      // Each example is a filing the API accepts (for an entity aware before it).
      const { id } = await submitRequest(node, ltPoc, { awareAt: '2026-03-02T08:00:00Z' });
      const examples = Object.values(filing.examples).map((e: any) => e.value);
      assert.equal(examples.length, 2);
      for (const [example, kind] of examples.map((e, i) => [
        e,
        ['nis2_early_warning', 'nis2_notification'][i],
      ])) {
        const res = await post(ltPoc, `/requests/${id}/deadlines/${kind}/complete`, example);
        assert.equal(res.statusCode, 200, `${JSON.stringify(example)}: ${res.body}`);
      }
    });
  });

  describe('the entity’s NIS2 reports', () => {
    const complete = (id: string, kind: string, payload?: object, user = ltPoc) =>
      post(user, `/requests/${id}/deadlines/${kind}/complete`, payload);
    const clock = (body: any, kind: string) => body.deadlines.find((d: any) => d.kind === kind);
    beforeEach(() => node.clock.set('2026-11-23T12:00:00Z'));
    after(() => node.clock.set('2026-11-23T12:00:00Z'));

    it('are met at the time the entity filed them, not when the PoC records it', async () => {
      node.clock.set('2026-11-23T12:00:00Z');
      const { id } = await submitRequest(node, ltPoc); // aware since 2026-11-23T09:30Z
      node.clock.set('2026-11-25T12:00:00Z'); // the early warning was due on the 24th, 09:30
      await node.services.scheduler.tick();
      assert.equal(clock(json(await get(ltPoc, `/requests/${id}`)), 'nis2_early_warning').state, 'overdue');

      const recorded = await complete(id, 'nis2_early_warning', { filedAt: '2026-11-23T20:00:00+02:00' });
      assert.equal(recorded.statusCode, 200, recorded.body);
      const warning = clock(json(recorded), 'nis2_early_warning');
      assert.equal(warning.state, 'met');
      assert.equal(warning.metAt, '2026-11-23T18:00:00.000Z', 'the filing time, in UTC');
      assert.equal(warning.late, false, 'filed in time, though recorded late');

      const timeline = json(await get(ltPoc, `/requests/${id}/timeline`)).items;
      const entry = timeline.find((e: any) => e.kind === 'deadline.met');
      assert.deepEqual(entry.detail, {
        deadline: 'nis2_early_warning',
        dueAt: '2026-11-24T09:30:00.000Z',
        filedAt: '2026-11-23T18:00:00.000Z',
        late: false,
      });
      const audited = await node.services.audit.page(
        { objectId: id, action: 'request.deadline.met' },
        'asc',
        10,
      );
      assert.equal(audited.items.length, 1, 'audited');

      const onTime = await complete(id, 'nis2_notification', { filedAt: '2026-11-25T11:00:00Z' });
      assert.equal(clock(json(onTime), 'nis2_notification').late, false, 'due on the 26th, 09:30');
    });

    it('refuses a filing time in the future, before awareness, or without one, naming the field', async () => {
      const { id } = await submitRequest(node, ltPoc);
      const cases: [object | undefined, string, RegExp][] = [
        [{ filedAt: '2026-11-23T13:00:00Z' }, 'body/filedAt', /in the future/],
        [{ filedAt: '2026-11-23T09:00:00Z' }, 'body/filedAt', /before the entity became aware/],
        [{}, 'body/filedAt', /required/],
        [undefined, 'body', /./],
        [{ filedAt: 'yesterday' }, 'body/filedAt', /./],
        [
          { filedAt: '2026-11-23T11:00:00Z', timeZone: 'Mars/Olympus' },
          'body/timeZone',
          /not an IANA time zone/,
        ],
        [{ filedAt: '2026-11-23T11:00:00Z', timeZone: '+02:00' }, 'body/timeZone', /not an IANA time zone/],
      ];
      for (const [payload, field, message] of cases) {
        const res = await complete(id, 'nis2_notification', payload);
        assert.equal(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`);
        const problem = json(res).error.details?.find((d: any) => d.field === field);
        assert.ok(problem, `${field} named in ${res.body}`);
        assert.match(problem.message, message);
      }
      const after = json(await get(ltPoc, `/requests/${id}`));
      assert.equal(clock(after, 'nis2_notification').state, 'running', 'nothing was recorded');
      assert.equal(clock(after, 'nis2_final_report'), undefined);
    });

    it('start the final report when the notification is filed: one calendar month on the entity’s own calendar', async () => {
      const { id } = await submitRequest(node, ltPoc);
      assert.equal(
        clock(await submitRequest(node, ltPoc), 'nis2_final_report'),
        undefined,
        'not at submission',
      );
      const early = await complete(id, 'nis2_final_report', { filedAt: '2026-11-23T11:00:00Z' });
      assert.equal(early.statusCode, 409);
      assert.match(json(early).error.message, /record the notification first/);

      node.clock.set('2026-12-02T12:00:00Z');
      // 22:30 UTC on 30 November is 00:30 on 1 December in Vilnius: the month ends at 00:30 on
      // 1 January there, which is 22:30 UTC on 31 December (in UTC it would be 30 December).
      const notified = json(await complete(id, 'nis2_notification', { filedAt: '2026-11-30T22:30:00Z' }));
      assert.equal(clock(notified, 'nis2_notification').metAt, '2026-11-30T22:30:00.000Z');
      assert.equal(clock(notified, 'nis2_notification').late, true, 'due 26 November 09:30');
      const final = clock(notified, 'nis2_final_report');
      assert.equal(final.dueAt, '2026-12-31T22:30:00.000Z', 'not awareness + 30 days (23 December)');
      assert.equal(final.state, 'running');
      assert.equal(final.warnAt, '2026-12-28T22:30:00.000Z');
      const entry = json(await get(ltPoc, `/requests/${id}/timeline`)).items.findLast(
        (e: any) => e.kind === 'deadline.met',
      );
      assert.equal(entry.detail.finalReportDueAt, '2026-12-31T22:30:00.000Z');
      assert.equal(entry.detail.timeZone, 'Europe/Vilnius');

      const before = await complete(id, 'nis2_final_report', { filedAt: '2026-11-30T22:00:00Z' });
      assert.equal(before.statusCode, 400);
      assert.match(json(before).error.details[0].message, /before the incident notification was filed/);
      const filed = json(await complete(id, 'nis2_final_report', { filedAt: '2026-12-01T09:00:00Z' }));
      assert.equal(clock(filed, 'nis2_final_report').state, 'met');
      assert.equal(clock(filed, 'nis2_final_report').late, false);
    });

    it('count the month in the zone given, across daylight saving and short months', async () => {
      node.clock.set('2027-01-30T12:00:00Z');
      // A token of its own: lt.poc's expires before spring.
      const poc = await node.user('lt.poc.2027', 'LT', ['poc']);
      const window = { from: '2027-02-01T00:00:00Z', to: '2027-04-30T00:00:00Z' };
      const dst = (await submitRequest(node, poc, { awareAt: '2027-01-30T08:00:00Z', window })).id;
      const shortMonth = (await submitRequest(node, poc, { awareAt: '2027-01-30T08:00:00Z', window })).id;
      node.clock.set('2027-03-20T12:00:00Z');
      // 12:00 in Vilnius on 10 March (winter time, UTC+2): 12:00 on 10 April is summer time, UTC+3.
      const spring = json(
        await complete(
          dst,
          'nis2_notification',
          {
            filedAt: '2027-03-10T10:00:00Z',
            timeZone: 'Europe/Vilnius',
          },
          poc,
        ),
      );
      assert.equal(clock(spring, 'nis2_final_report').dueAt, '2027-04-10T09:00:00.000Z');
      // 31 January + one month: the last day of February, same local time.
      const february = json(
        await complete(shortMonth, 'nis2_notification', { filedAt: '2027-01-31T10:00:00Z' }, poc),
      );
      assert.equal(clock(february, 'nis2_final_report').dueAt, '2027-02-28T10:00:00.000Z');
    });

    it('needs the zone for a state whose zone Vytis does not know', async () => {
      const { id } = await submitRequest(node, ltPoc, { location: { country: 'JP' } });
      const without = await complete(id, 'nis2_notification', { filedAt: '2026-11-23T11:00:00Z' });
      assert.equal(without.statusCode, 400);
      assert.equal(json(without).error.details[0].field, 'body/timeZone');
      const given = json(
        await complete(id, 'nis2_notification', { filedAt: '2026-11-23T11:00:00Z', timeZone: 'Asia/Tokyo' }),
      );
      assert.equal(clock(given, 'nis2_final_report').dueAt, '2026-12-23T11:00:00.000Z');
    });

    it('outlive the request: closed by the force, the clocks still fire and filings are still recorded', async () => {
      const { id } = await submitRequest(node, ltPoc);
      assert.equal(
        json(await post(ltPoc, `/requests/${id}/withdraw`, { reason: 'contained at home' })).status,
        'withdrawn',
      );
      const closed = json(await post(coordinator, `/requests/${id}/close`, {}));
      assert.equal(closed.status, 'closed');
      assert.equal(clock(closed, 'nis2_early_warning').state, 'running');
      assert.equal(clock(closed, 'nis2_notification').state, 'running');
      assert.equal(clock(closed, 'decision').state, 'cancelled');

      node.clock.set('2026-11-24T10:00:00Z');
      await node.services.scheduler.tick();
      const overdue = json(await get(ltPoc, `/requests/${id}`));
      assert.equal(clock(overdue, 'nis2_early_warning').state, 'overdue', 'still watched after close');
      assert.ok(
        json(await get(ltPoc, '/requests?status=closed&limit=200')).items.some(
          (r: any) => r.id === id && r.nextDeadline?.kind === 'nis2_early_warning',
        ),
        'and shown on the board',
      );
      const recorded = await complete(id, 'nis2_notification', { filedAt: '2026-11-24T09:00:00Z' });
      assert.equal(recorded.statusCode, 200, recorded.body);
      const after = json(recorded);
      assert.equal(after.status, 'closed');
      assert.equal(clock(after, 'nis2_notification').state, 'met');
      assert.equal(clock(after, 'nis2_final_report').dueAt, '2026-12-24T09:00:00.000Z');
    });
  });

  describe('visibility', () => {
    let amber: string;
    let green: string;
    let draft: string;

    before(async () => {
      amber = (await submitRequest(node, ltPoc, { title: 'Amber matter' })).id;
      green = (await submitRequest(node, ltPoc, { title: 'Green matter', tlp: 'green' })).id;
      draft = json(await fileRequest(node, ltPoc, { title: 'Draft matter', tlp: 'clear' })).id;
    });

    it('shows an AMBER request to its party, voting council members, coordinators and admins only', async () => {
      for (const user of [ltPoc, ltAnalyst, eeCouncil, coordinator, admin]) {
        assert.equal((await get(user, `/requests/${amber}`)).statusCode, 200, user.name);
      }
      for (const user of [eePoc, fiPoc, fiCouncil]) {
        const res = await get(user, `/requests/${amber}`);
        assert.equal(res.statusCode, 404, user.name);
        assert.deepEqual(json(res).error, { code: 'not_found', message: `request ${amber} not found` });
        assert.equal((await get(user, `/requests/${amber}/timeline`)).statusCode, 404);
      }
    });

    it('shows CLEAR and GREEN requests to the whole community', async () => {
      for (const user of [eePoc, fiPoc, fiCouncil]) {
        assert.equal((await get(user, `/requests/${green}`)).statusCode, 200, user.name);
      }
    });

    it('keeps a draft to its own party (and admins), whatever its label', async () => {
      assert.equal((await get(ltAnalyst, `/requests/${draft}`)).statusCode, 200);
      assert.equal((await get(admin, `/requests/${draft}`)).statusCode, 200);
      for (const user of [coordinator, eeCouncil, fiPoc]) {
        assert.equal((await get(user, `/requests/${draft}`)).statusCode, 404, user.name);
      }
    });

    it('keeps what happened before submission off the timeline of other parties', async () => {
      const draftId = json(
        await fileRequest(node, ltPoc, { title: 'DRAFT-SECRET insider at Y', tlp: 'green' }),
      ).id;
      await node.request({
        method: 'PATCH',
        url: `${api}/requests/${draftId}`,
        headers: ltPoc.headers,
        payload: { title: 'Intrusion at a utility' },
      });
      await post(ltPoc, `/requests/${draftId}/submit`);
      const kinds = async (user: TestUser) =>
        json(await get(user, `/requests/${draftId}/timeline`)).items.map((e: any) => e.kind);
      assert.deepEqual(await kinds(ltAnalyst), ['created', 'edited', 'submitted', 'voting']);
      assert.deepEqual(await kinds(admin), ['created', 'edited', 'submitted', 'voting']);
      assert.deepEqual(await kinds(fiPoc), ['submitted', 'voting']);
      assert.deepEqual(await kinds(coordinator), ['submitted', 'voting']);
      const seen = JSON.stringify(json(await get(coordinator, `/requests/${draftId}/timeline`)));
      assert.ok(!seen.includes('DRAFT-SECRET'), 'the draft title never reaches the coordinator');
    });

    it('leaves what is invisible out of lists, totals and figures', async () => {
      const seen = async (user: TestUser) => {
        const list = json(await get(user, '/requests?limit=200'));
        return { ids: new Set(list.items.map((r: any) => r.id)), total: list.total };
      };
      const fi = await seen(fiPoc);
      assert.ok(fi.ids.has(green));
      assert.ok(!fi.ids.has(amber) && !fi.ids.has(draft));
      assert.equal(fi.total, fi.ids.size);
      const fiStats = json(await get(fiPoc, '/requests/stats'));
      assert.equal(fiStats.real.total, fi.total);

      const lt = await seen(ltAnalyst);
      assert.ok(lt.ids.has(amber) && lt.ids.has(green) && lt.ids.has(draft));
      const coordinatorView = await seen(coordinator);
      assert.ok(coordinatorView.ids.has(amber) && !coordinatorView.ids.has(draft));
      assert.ok(fi.total < coordinatorView.total);
    });
  });

  describe('the board', () => {
    it('sorts by priority, then age, and pages without overlap', async () => {
      const low = await submitRequest(node, eePoc, {
        severity: 'low',
        tlp: 'green',
        location: { country: 'EE' },
      });
      node.clock.advance(60_000);
      const top1 = await submitRequest(node, eePoc, {
        impactLevel: 'severe',
        crossBorder: { risk: 'likely' },
        tlp: 'green',
      });
      node.clock.advance(60_000);
      const top2 = await submitRequest(node, eePoc, {
        impactLevel: 'severe',
        crossBorder: { risk: 'likely' },
        tlp: 'green',
      });
      node.clock.set('2026-11-23T12:00:00Z');

      const all = json(await get(eePoc, '/requests?party=EE&limit=200')).items;
      assert.deepEqual(
        all.map((r: any) => r.id),
        [top1.id, top2.id, low.id],
      );
      const pages: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = json(
          await get(eePoc, `/requests?party=EE&limit=1${cursor ? `&cursor=${cursor}` : ''}`),
        );
        assert.equal(page.total, 3);
        pages.push(...page.items.map((r: any) => r.id));
        cursor = page.nextCursor;
      } while (cursor && pages.length < 10);
      assert.deepEqual(pages, [top1.id, top2.id, low.id]);
      const item = all[0];
      assert.equal(item.priority, 100);
      assert.equal(item.nextDeadline.kind, 'nis2_early_warning');
    });

    it('filters by status, severity and exercise; refuses a forged cursor', async () => {
      const voting = json(await get(coordinator, '/requests?status=voting&limit=200')).items;
      assert.ok(voting.length > 0 && voting.every((r: any) => r.status === 'voting'));
      const severities = json(await get(coordinator, '/requests?severity=low')).items;
      assert.ok(severities.length > 0 && severities.every((r: any) => r.severity === 'low'));
      const cursor = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
      const id = '00000000-0000-4000-8000-000000000000';
      for (const bad of [
        'bm9wZQ',
        cursor([1e300, '2026-11-23T12:00:00.000Z', id]),
        cursor([3_000_000_000, '2026-11-23T12:00:00.000Z', id]),
        cursor([50, '+275760-09-13T00:00:00.000Z', id]),
        cursor([50, '-000001-01-01T00:00:00.000Z', id]),
        cursor([50, '2026-11-23T12:00:00.000Z', 'x']),
      ]) {
        const forged = await get(coordinator, `/requests?cursor=${bad}`);
        assert.equal(forged.statusCode, 400, `${bad}: ${forged.body}`);
        assert.equal(json(forged).error.details[0].field, 'querystring/cursor');
      }
      assert.equal((await get(coordinator, '/requests?status=sleeping')).statusCode, 400);
    });
  });

  describe('exercises', () => {
    it('run the same flow, are marked everywhere and kept out of real figures', async () => {
      const before = json(await get(coordinator, '/requests/stats'));
      const drill = await submitRequest(node, ltPoc, { exercise: true, title: 'EXERCISE Cyber Coalition' });
      assert.equal(drill.exercise, true);
      assert.equal(drill.status, 'voting');
      await activate(drill.id);
      const after = json(await get(coordinator, '/requests/stats'));
      assert.deepEqual(after.real, before.real, 'real figures do not move');
      assert.equal(after.exercise.total, before.exercise.total + 1);
      assert.equal(after.exercise.byStatus.activated, (before.exercise.byStatus.activated ?? 0) + 1);

      const listed = json(await get(coordinator, '/requests?exercise=true')).items;
      assert.ok(listed.length >= 1 && listed.every((r: any) => r.exercise === true));
      assert.ok(
        json(await get(coordinator, '/requests?exercise=false&limit=200')).items.every(
          (r: any) => !r.exercise,
        ),
      );
      const audited = await node.services.audit.page({ objectId: drill.id }, 'asc', 100);
      assert.ok(audited.items.length > 5);
      assert.ok(
        audited.items.every((e: any) => e.summary.exercise === true),
        'every event is marked',
      );
    });
  });
});
