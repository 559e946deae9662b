import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { caseBody } from '../../cli/node-process.fixtures.ts';
import { LOCKS, lockForTransaction } from '../../platform/db/locks.ts';
import type { Tx } from '../../platform/db/transaction.ts';
import { json, onPostgres, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { openTransaction, untilWaitingForLocks } from '../../test/transactions.fixtures.ts';
import { numberPending, relabelItemEvents } from './notifications.repository.ts';

const api = '/api/v1';

// A relabel gives an item's past events its new label, pending ones included, while the sequencer
// moves pending events into the numbered log, and other relabels of the case do the same. Each
// writer of a case's items holds the case's row shared; a relabel that then also locked it for
// update waited on every other such writer, and two of them on each other: a deadlock (40P01),
// answered with a 500.
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

  it('never answers a relabel or an add with an error', async () => {
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

// The pending events' own locks, held open by a transaction of the test's.
describe('pending events changed while the sequencer takes them', {
  skip: !onPostgres() && 'needs PostgreSQL: the embedded database runs one transaction at a time',
}, () => {
  let node: TestNode;
  let caseId: string;

  before(async () => {
    node = await startTestNode();
    const lt = await node.user('lt.analyst', 'LT', ['analyst']);
    const res = await node.request({
      method: 'POST',
      url: `${api}/cases`,
      headers: lt.headers,
      payload: caseBody('Wiper at the port authority'),
    });
    assert.equal(res.statusCode, 201, res.body);
    caseId = json(res).id;
    await node.services.notifier.sequence();
  });
  after(() => node.close());

  const db = () => node.database.db;

  /** A pending event about the item, committed; its id. */
  async function pendingAbout(itemId: string, tlp: string) {
    const { rows } = await sql<{ id: string }>`
      insert into notifications_pending (at, type, party_only, data, case_id, tlp)
      values (now(), 'observable.update', false, ${JSON.stringify({ itemId })}::jsonb, ${caseId}, ${tlp})
      returning id`.execute(db());
    return rows[0]!.id;
  }

  /** Whether another transaction can lock the pending event now. */
  async function free(id: string) {
    return db()
      .transaction()
      .execute(async (trx) => {
        await sql`select id from notifications_pending where id = ${id} for update nowait`.execute(trx);
        return true;
      })
      .catch((error: { code?: string }) => {
        if (error.code === '55P03') return false;
        throw error;
      });
  }

  it('relabels an event the sequencer numbers while the relabel runs', async () => {
    const itemId = crypto.randomUUID();
    await pendingAbout(itemId, 'green');
    const sequencer = await openTransaction(db(), async (trx) => {
      await lockForTransaction(trx, LOCKS.notifications);
      assert.equal((await numberPending(trx, 100)).length, 1);
    });
    const relabel = db()
      .transaction()
      .execute((trx) => relabelItemEvents(trx, caseId, [{ itemId, tlp: 'amber' }]));
    try {
      await untilWaitingForLocks(db(), 1);
    } finally {
      await sequencer.commit();
      await relabel;
    }
    const numbered = await db()
      .selectFrom('notifications')
      .select('tlp')
      .where(sql<boolean>`data ->> 'itemId' = ${itemId}`)
      .execute();
    assert.deepEqual(numbered, [{ tlp: 'amber' }], 'the numbered event has the new label');
  });

  for (const [taker, take] of [
    [
      'a relabel of two items',
      // The items in the other order than their events: the statement orders its locks itself.
      (trx: Tx, items: readonly string[]) =>
        relabelItemEvents(
          trx,
          caseId,
          [...items].reverse().map((itemId) => ({ itemId, tlp: 'amber+strict' })),
        ),
    ],
    [
      'the sequencer',
      async (trx: Tx) => {
        await lockForTransaction(trx, LOCKS.notifications);
        await numberPending(trx, 100);
      },
    ],
  ] as const) {
    it(`${taker} locks pending events in their numbering order, as every other writer of them`, async () => {
      const items = [crypto.randomUUID(), crypto.randomUUID()];
      const first = await pendingAbout(items[0]!, 'green');
      const second = await pendingAbout(items[1]!, 'green');
      // The first one changed: its new version lies after the second in the table.
      await sql`update notifications_pending set tlp = 'amber' where id = ${first}`.execute(db());
      const holder = await openTransaction(db(), (trx) =>
        sql`select id from notifications_pending where id = ${first} for update`.execute(trx),
      );
      const taking = db()
        .transaction()
        .execute((trx) => take(trx, items));
      let secondFree: boolean;
      try {
        await untilWaitingForLocks(db(), 1);
        secondFree = await free(second);
      } finally {
        await holder.commit();
        await taking;
      }
      assert.equal(secondFree, true, 'while it waits for the first, it holds no later one');
    });
  }
});
