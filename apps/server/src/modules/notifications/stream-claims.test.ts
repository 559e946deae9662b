import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { startTestNode, type TestNode } from '../../test/harness.ts';
import { StreamClaims } from './stream-claims.ts';

// The claims behind the per-user cap on live event streams, as two processes of one node would
// hold them: two StreamClaims on one database.
describe('live event stream claims: one cap per user over all processes', () => {
  let node: TestNode;
  let here: StreamClaims;
  let there: StreamClaims;

  before(async () => {
    node = await startTestNode();
    here = new StreamClaims(node.services.database.db);
    there = new StreamClaims(node.services.database.db);
  });
  after(async () => {
    here.close();
    there.close();
    await node.close();
  });

  const claimed = async (holder: string) =>
    Number(
      (
        await node.services.database.db
          .selectFrom('event_stream_claims')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('holder', '=', holder)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('counts the claims of both processes against one cap, and a release frees a place', async () => {
    const first = await here.claim('u1', 3);
    const second = await there.claim('u1', 3);
    const third = await here.claim('u1', 3);
    assert.ok(first.id && second.id && third.id);
    assert.deepEqual(await there.claim('u1', 3), { id: null, held: 3 });
    assert.ok((await there.claim('u2', 3)).id, 'another user has places of their own');
    await here.release(first.id);
    const fourth = await there.claim('u1', 3);
    assert.ok(fourth.id, 'the released place is taken');
    assert.equal(await claimed('u1'), 3);
  });

  it('lets simultaneous opens take no more than the cap', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? here : there).claim('u3', 5)),
    );
    assert.equal(results.filter((r) => r.id !== null).length, 5);
    assert.equal(await claimed('u3'), 5);
  });

  it("puts back an open stream's claim that lapsed and was taken away while the database was out of reach", async () => {
    const open = await here.claim('u5', 1);
    assert.ok(open.id);
    await sql`update event_stream_claims set seen_at = now() - interval '2 minutes' where holder = 'u5'`.execute(
      node.services.database.db,
    );
    // Another process sees the lapsed claim and takes the place...
    const taken = await there.claim('u5', 1);
    assert.ok(taken.id);
    // ...and the stream, still open, is counted again at its next refresh: none may open now.
    await here.refresh();
    assert.equal(await claimed('u5'), 2);
    assert.deepEqual(await there.claim('u5', 1), { id: null, held: 2 });
  });

  it("stops counting a gone process's claims once they lapse; a live process keeps its own fresh", async () => {
    const gone = await there.claim('u4', 2);
    const live = await here.claim('u4', 2);
    assert.ok(gone.id && live.id);
    assert.equal((await here.claim('u4', 2)).id, null);
    // Neither was moved on for two minutes; then the live process moves its own on.
    await sql`update event_stream_claims set seen_at = now() - interval '2 minutes' where holder = 'u4'`.execute(
      node.services.database.db,
    );
    await here.refresh();
    const next = await here.claim('u4', 2);
    assert.ok(next.id, "the gone process's claim no longer counts");
    assert.equal((await here.claim('u4', 2)).id, null, 'the refreshed claim still does');
    assert.equal(await claimed('u4'), 2);
  });
});
