import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openTestDatabase } from '../../test/harness.ts';
import type { DatabaseHandle } from './database.ts';
import { afterCommit, inTransaction, joinTransaction, readerOf } from './transaction.ts';

describe('a transaction others join', () => {
  let database: DatabaseHandle;
  let drop: () => Promise<void>;
  const notes = async () =>
    (await sql<{ note: string }>`select note from join_probe order by note`.execute(database.db)).rows.map(
      (r) => r.note,
    );

  before(async () => {
    ({ database, drop } = await openTestDatabase());
    await sql`create table join_probe (note text not null)`.execute(database.db);
  });
  after(async () => {
    await database.close();
    await drop();
  });

  it('runs the inner work on the joined transaction, its hooks after the outer commit', async () => {
    const order: string[] = [];
    await inTransaction(database.db, async (outer) => {
      await joinTransaction(outer, async () => {
        const inner = await inTransaction(database.db, async (trx) => {
          assert.equal(trx, outer);
          await sql`insert into join_probe values ('inner')`.execute(trx);
          afterCommit(trx, 'probe', async () => {
            order.push(`hook saw ${(await notes()).join('+')}`);
          });
          return 'done';
        });
        assert.equal(inner, 'done');
        order.push('inner returned');
        // What the inner work wrote is seen where a service reads around its transaction.
        const seen = await sql<{ n: number }>`select count(*)::int as n from join_probe`.execute(
          readerOf(database.db),
        );
        assert.equal(seen.rows[0]!.n, 1);
      });
      await sql`insert into join_probe values ('outer')`.execute(outer);
    });
    assert.deepEqual(order, ['inner returned', 'hook saw inner+outer']);
    await sql`delete from join_probe`.execute(database.db);
  });

  it('rolls the inner work back with the outer transaction, and runs none of its hooks', async () => {
    let hooked = false;
    await assert.rejects(
      inTransaction(database.db, async (outer) => {
        await joinTransaction(outer, () =>
          inTransaction(database.db, async (trx) => {
            await sql`insert into join_probe values ('lost')`.execute(trx);
            afterCommit(trx, 'probe', async () => {
              hooked = true;
            });
          }),
        );
        throw new Error('the outer change fails');
      }),
      /the outer change fails/,
    );
    assert.deepEqual(await notes(), []);
    assert.equal(hooked, false);
  });

  it('leaves transactions outside it, and after it, their own', async () => {
    let late: Promise<unknown> | undefined;
    await inTransaction(database.db, async (outer) => {
      await joinTransaction(outer, async () => {
        // Started inside, run after the joined transaction has ended: it opens its own.
        late = new Promise((resolve) => setTimeout(resolve, 20)).then(() =>
          inTransaction(database.db, async (trx) => {
            assert.notEqual(trx, outer);
            await sql`insert into join_probe values ('late')`.execute(trx);
          }),
        );
      });
    });
    await late;
    assert.equal(readerOf(database.db), database.db);
    await inTransaction(database.db, async (trx) => {
      await sql`insert into join_probe values ('alone')`.execute(trx);
    });
    assert.deepEqual(await notes(), ['alone', 'late']);
  });
});
