import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RequestCan, RequestStatus } from '@vytis/contracts';
import type { LightMyRequestResponse } from 'fastify';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { requestBody, submitRequest, vote } from '../../test/requests.fixtures.ts';
import { deployTeam, registerAnalyst } from '../deployments/deployments.fixtures.ts';
import { REQUEST_ACTIONS, type RequestAction } from './permissions.ts';

const api = '/api/v1';

/**
 * The API's `can` and its refusals come from one function (permissions.ts): for every role and
 * every status, an act the request offers succeeds, and an act it does not offer is refused.
 */
describe('what a request offers is what the API allows', () => {
  let node: TestNode;
  let ltPoc: TestUser;
  let dePoc: TestUser;
  let eePoc: TestUser;
  let coordinator: TestUser;
  let eeCouncil: TestUser;
  let fiCouncil: TestUser;
  let analyst: TestUser;
  let auditor: TestUser;
  const council: Record<string, TestUser> = {};
  let people: Record<string, TestUser>;
  let teams = 0;

  before(async () => {
    node = await startTestNode();
    ltPoc = await node.user('lt.poc', 'LT', ['poc']);
    dePoc = await node.user('de.poc', 'DE', ['poc']);
    eePoc = await node.user('ee.poc', 'EE', ['poc']);
    coordinator = await node.user('duty.officer', 'PL', ['coordinator']);
    fiCouncil = await node.user('fi.council', 'FI', ['council']);
    analyst = await node.user('lt.analyst', 'LT', ['analyst']);
    auditor = await node.user('lt.auditor', 'LT', ['auditor']);
    for (const party of ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'])
      council[party] = await node.user(`${party.toLowerCase()}.council`, party, ['council']);
    eeCouncil = council.EE!;
    people = {
      'requesting PoC': ltPoc,
      'another PoC': eePoc,
      coordinator,
      'council member': eeCouncil,
      'observer on the council': fiCouncil,
      analyst,
      auditor,
    };
  });
  after(() => node.close());

  const send = (user: TestUser, method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, payload?: object) =>
    node.request({ method, url: `${api}${url}`, headers: user.headers, ...(payload ? { payload } : {}) });
  const move = async (user: TestUser, id: string, name: string, payload: object = {}) => {
    const res = await send(user, 'POST', `/requests/${id}/${name}`, payload);
    assert.equal(res.statusCode, 200, `${name}: ${res.body}`);
  };

  /** A fresh request in `status`, taken there the way people take it. */
  async function inStatus(status: RequestStatus): Promise<string> {
    if (status === 'draft') {
      return json(await send(ltPoc, 'POST', '/requests', requestBody())).id;
    }
    if (status === 'ineligible')
      return (await submitRequest(node, dePoc, { location: { country: 'DE' } })).id;
    const { id } = await submitRequest(node, ltPoc);
    if (status === 'voting') return id;
    if (status === 'withdrawn') {
      await move(ltPoc, id, 'withdraw', { reason: 'contained at home' });
      return id;
    }
    const choice = status === 'declined' ? 'decline' : 'activate';
    for (const party of ['LT', 'EE', 'PL', 'NL']) {
      const res = await vote(node, council[party]!, id, choice, 'as the table needs');
      assert.equal(res.statusCode, 200, res.body);
      if (json(res).status !== 'voting') break; // decided as soon as the outcome is certain
    }
    if (status === 'declined' || status === 'activated') return id;
    await move(coordinator, id, 'assemble');
    if (status === 'assembling') return id;
    // Two fresh analysts a team: each deployment books its people over the window.
    teams += 1;
    for (const n of [1, 2]) await registerAnalyst(node, ltPoc, 'LT', `Analyst ${teams}.${n}`);
    await deployTeam(node, id, { coordinator, host: ltPoc, pocs: { LT: ltPoc } });
    if (status === 'deployed') return id;
    await move(coordinator, id, 'stand-down', { reason: 'restored' });
    if (status === 'stood_down') return id;
    await move(coordinator, id, 'report', { summary: 'Restored; lessons below.' });
    if (status === 'reported') return id;
    await move(coordinator, id, 'close', { reason: 'done' });
    return id;
  }

  /** Each act as its route is called, with a body the route accepts. */
  const ACTS: Record<RequestAction, (user: TestUser, id: string) => Promise<LightMyRequestResponse>> = {
    edit: (user, id) => send(user, 'PATCH', `/requests/${id}`, { title: 'Edited by the table' }),
    submit: (user, id) => send(user, 'POST', `/requests/${id}/submit`, { note: 'please hurry' }),
    withdraw: (user, id) => send(user, 'POST', `/requests/${id}/withdraw`, { reason: 'handled at home' }),
    vote: (user, id) => send(user, 'POST', `/requests/${id}/votes`, { vote: 'abstain' }),
    proposeTeam: (user, id) => send(user, 'POST', `/requests/${id}/team-proposals`),
    assemble: (user, id) => send(user, 'POST', `/requests/${id}/assemble`, {}),
    deploy: (user, id) => send(user, 'POST', `/requests/${id}/deploy`, {}),
    standDown: (user, id) => send(user, 'POST', `/requests/${id}/stand-down`, { reason: 'restored' }),
    report: (user, id) => send(user, 'POST', `/requests/${id}/report`, { summary: 'All restored.' }),
    close: (user, id) => send(user, 'POST', `/requests/${id}/close`, { reason: 'nothing left to do' }),
    openCase: (user, id) =>
      send(user, 'POST', '/cases', {
        title: 'Working the request',
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'high',
        tlp: 'amber',
        pap: 'amber',
        requestId: id,
      }),
    editReport: (user, id) =>
      send(user, 'PUT', `/requests/${id}/post-action-report`, {
        values: { findings: 'Initial access by phishing.' },
      }),
    readNis2: (user, id) => send(user, 'GET', `/requests/${id}/nis2`),
    fileNis2: (user, id) =>
      send(user, 'POST', `/requests/${id}/deadlines/nis2_early_warning/complete`, {
        filedAt: node.clock.now().toISOString(),
      }),
  };

  /** What `user` is offered on the request; a request they cannot see offers nothing. */
  async function canOf(user: TestUser, id: string): Promise<RequestCan | null> {
    const res = await send(user, 'GET', `/requests/${id}`);
    if (res.statusCode === 404) return null;
    assert.equal(res.statusCode, 200, res.body);
    return json(res).can;
  }

  const STATUSES: RequestStatus[] = [
    'draft',
    'voting',
    'activated',
    'declined',
    'assembling',
    'deployed',
    'stood_down',
    'reported',
    'closed',
    'withdrawn',
    'ineligible',
  ];
  /** What each status offers, by person (the rest of the table is refused): the rules, in brief. */
  const OFFERED: Partial<Record<RequestStatus, Record<string, RequestAction[]>>> = {
    draft: { 'requesting PoC': ['edit', 'submit', 'withdraw'] },
    voting: { 'requesting PoC': ['withdraw', 'fileNis2', 'readNis2'], 'council member': ['vote'] },
    activated: {
      'requesting PoC': ['withdraw', 'fileNis2', 'readNis2'],
      coordinator: ['proposeTeam', 'assemble', 'editReport'],
    },
    assembling: {
      'requesting PoC': ['withdraw', 'fileNis2', 'readNis2'],
      coordinator: ['proposeTeam', 'deploy', 'editReport'],
    },
    deployed: {
      'requesting PoC': ['standDown', 'fileNis2', 'readNis2'],
      coordinator: ['standDown', 'editReport'],
    },
    stood_down: { 'requesting PoC': ['fileNis2', 'readNis2'], coordinator: ['report', 'editReport'] },
    reported: { 'requesting PoC': ['fileNis2', 'readNis2'], coordinator: ['close'] },
    closed: { 'requesting PoC': ['fileNis2', 'readNis2'] },
    withdrawn: { 'requesting PoC': ['fileNis2', 'readNis2'], coordinator: ['close'] },
    declined: { 'requesting PoC': ['fileNis2', 'readNis2'], coordinator: ['close'] },
    ineligible: { 'requesting PoC': ['readNis2'], coordinator: ['close'] },
  };

  for (const status of STATUSES) {
    it(`${status}: each act succeeds for exactly those it is offered to`, async () => {
      const shared = await inStatus(status);
      const who = (name: string) =>
        status === 'ineligible' && name === 'requesting PoC' ? dePoc : people[name]!;
      const offers: [string, RequestAction][] = [];
      for (const name of Object.keys(people)) {
        const can = await canOf(who(name), shared);
        const offered = REQUEST_ACTIONS.filter((action) => can?.[action]);
        assert.deepEqual(
          offered.filter((a) => a !== 'openCase'),
          OFFERED[status]?.[name] ?? [],
          `${name} on a ${status} request`,
        );
        // Case work is open to the case workers of every party that sees the request.
        assert.equal(
          can?.openCase ?? false,
          can !== null && ['requesting PoC', 'another PoC', 'coordinator', 'analyst'].includes(name),
          `${name} opens a case for a ${status} request`,
        );
        for (const action of offered) offers.push([name, action]);
        // What is not offered is refused, and the request does not move.
        for (const action of REQUEST_ACTIONS.filter((a) => !can?.[a])) {
          const res = await ACTS[action](who(name), shared);
          // A case for a request one cannot see names its requestId as unknown (400), as for any id.
          const absent = can === null && action === 'openCase' ? [400] : [];
          assert.ok(
            [403, 404, 409, ...absent].includes(res.statusCode),
            `${name} may not ${action} a ${status} request: ${res.statusCode} ${res.body}`,
          );
        }
        const unmoved = json(await send(who('requesting PoC'), 'GET', `/requests/${shared}`));
        assert.equal(unmoved.status, status, `refusals leave the ${status} request as it was`);
      }
      // What is offered succeeds: each on a request of its own, as the act moves it on.
      for (const [name, action] of offers) {
        // A case leaves its request as it is: opened on the shared one.
        const id = action === 'openCase' ? shared : await inStatus(status);
        const res = await ACTS[action](who(name), id);
        if (action === 'deploy') {
          // The request deploys when the host accepts its team; the deployment, not the request, says so.
          assert.equal(res.statusCode, 409, res.body);
          assert.match(json(res).error.message, /no deployment the host accepted|its deployment is/);
          continue;
        }
        assert.ok(
          res.statusCode < 300,
          `${name} may ${action} a ${status} request: ${res.statusCode} ${res.body}`,
        );
      }
    });
  }
});
