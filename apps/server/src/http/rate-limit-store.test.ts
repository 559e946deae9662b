import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { startTestNode, type TestNode } from '../test/harness.ts';
import { databaseRateLimitStore } from './rate-limit-store.ts';

// The store behind @fastify/rate-limit's per-route limits, as two processes of one node hold it:
// two stores on one database, each with the route's child, as the plugin makes them.
describe('rate limits counted in the database, over all processes', () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(async () => node.close());

  const route = { routeInfo: { method: 'PUT', url: '/api/v1/me/password' } };
  type Store = InstanceType<ReturnType<typeof databaseRateLimitStore>>;
  const incr = (store: Store, key: string) =>
    new Promise<{ current: number; ttl: number }>((resolve, reject) =>
      store.incr(key, (error, counted) => (error ? reject(error) : resolve(counted!)), 60_000),
    );

  it('adds the hits of both processes in one window, per route and source', async () => {
    const Store = databaseRateLimitStore(node.services.database.db);
    const here = new Store({}).child(route);
    const there = new Store({}).child(route);
    assert.equal((await incr(here, '10.0.0.1')).current, 1);
    assert.equal((await incr(there, '10.0.0.1')).current, 2);
    const third = await incr(here, '10.0.0.1');
    assert.equal(third.current, 3);
    assert.ok(third.ttl > 55_000 && third.ttl <= 60_000, `ttl ${third.ttl}`);
    assert.equal((await incr(there, '10.0.0.2')).current, 1, 'another source counts on its own');
    const otherRoute = new Store({}).child({ routeInfo: { method: 'POST', url: '/api/v1/session/mfa' } });
    assert.equal((await incr(otherRoute, '10.0.0.1')).current, 1, 'another route counts on its own');
  });

  it('starts a window again at one once it has ended', async () => {
    const Store = databaseRateLimitStore(node.services.database.db);
    const store = new Store({}).child(route);
    await incr(store, '10.0.0.3');
    await incr(store, '10.0.0.3');
    await sql`update rate_limit_windows set ends_at = now() - interval '1 second'`.execute(
      node.services.database.db,
    );
    assert.equal((await incr(store, '10.0.0.3')).current, 1);
  });
});
