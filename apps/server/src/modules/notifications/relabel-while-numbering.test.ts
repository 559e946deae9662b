import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { caseBody } from '../../cli/node-process.fixtures.ts';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';

const api = '/api/v1';

// A relabel gives an item's past events its new label, pending ones included, while the sequencer
// moves pending events into the numbered log, and other relabels of the case do the same. On
// PostgreSQL some of these changes end today as a deadlock (40P01 in relabelItemEvents), answered
// with a 500: a known hole, so the test is marked todo (it runs, and its failure is reported
// without failing the run) until the fix lands.
describe('relabelling items while their events are being numbered', () => {
  let node: TestNode;
  let lt: TestUser;
  let caseId: string;

  const call = (method: 'POST' | 'PATCH', url: string, payload: object) =>
    node.request({ method, url: `${api}${url}`, headers: lt.headers, payload });

  before(async () => {
    node = await startTestNode();
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    const res = await call('POST', '/cases', caseBody('Wiper at the port authority'));
    assert.equal(res.statusCode, 201, res.body);
    caseId = json(res).id;
  });
  after(() => node.close());

  it('never answers a relabel or an add with an error', {
    todo: 'relabels deadlock on PostgreSQL',
  }, async () => {
    const statuses: number[] = [];
    for (let round = 0; round < 1; round++) {
      const added = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          call('POST', `/cases/${caseId}/observables`, {
            type: 'domain',
            value: `c2-${round}-${i}.example.org`,
          }),
        ),
      );
      const ids = added.map((res) => {
        assert.equal(res.statusCode, 201, res.body);
        return json(res).id as string;
      });
      // Each relabel comes with an add, whose event the sequencer numbers meanwhile.
      const changed = await Promise.all(
        ids.flatMap((id, i) => [
          call('PATCH', `/cases/${caseId}/observables/${id}`, { tlp: 'amber+strict', reason: 'asked by EE' }),
          call('POST', `/cases/${caseId}/observables`, {
            type: 'domain',
            value: `more-${round}-${i}.example.org`,
          }),
        ]),
      );
      statuses.push(...changed.map((res) => res.statusCode));
    }
    assert.deepEqual(
      statuses.filter((status) => status >= 300),
      [],
      'every relabel and add went through',
    );
  });
});
