import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ROLES, type Role } from '@vytis/contracts';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { json, startTestNode, type TestNode, type TestUser } from '../test/harness.ts';

// Every operation of the API document, checked the same way: so a new route is covered the day
// it is added, not when someone remembers to write its access tests.
interface Operation {
  method: InjectOptions['method'];
  path: string;
  access: { public?: true; roles?: Role[] | 'any' };
  /** Server-sent events never end: driven over a real socket in their own tests. */
  streams: boolean;
}

const fill = (path: string, value: string) => path.replace(/\{[^}]+\}/g, encodeURIComponent(value));

describe('every route of the API', () => {
  let node: TestNode;
  let operations: Operation[];
  let everything: TestUser;
  const byRole = new Map<Role, TestUser>();

  before(async () => {
    node = await startTestNode();
    everything = await node.user('all.roles', 'LT', [...ROLES]);
    for (const role of ROLES) byRole.set(role, await node.user(`only.${role}`, 'PL', [role]));
    const doc = json(await node.request({ method: 'GET', url: '/openapi.json' }));
    operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method: method.toUpperCase() as Operation['method'],
        path,
        access: op['x-vytis-access'],
        streams: Boolean(op.responses?.['200']?.content?.['text/event-stream']),
      })),
    );
  });
  after(() => node.close());

  it('declares in the API document who may call it', () => {
    assert.ok(operations.length >= 20, `found ${operations.length} operations`);
    for (const op of operations) assert.ok(op.access, `${op.method} ${op.path} documents its access`);
    const find = (method: string, path: string) =>
      operations.find((o) => o.method === method && o.path === path)!;
    assert.deepEqual(find('POST', '/api/v1/users').access, { roles: ['admin'] });
    assert.deepEqual(find('GET', '/healthz').access, { public: true });
  });

  it('refuses anonymous callers with 401 in the error shape', async () => {
    for (const op of operations.filter((o) => !o.access.public)) {
      const res = await node.request({
        method: op.method,
        url: fill(op.path, 'LT'),
        payload: op.method === 'GET' || op.method === 'DELETE' ? undefined : {},
      });
      assert.equal(res.statusCode, 401, `${op.method} ${op.path}`);
      assert.equal(json(res).error.code, 'unauthenticated');
    }
  });

  it('refuses callers without the role with 403, and audits the refusal', async () => {
    const restricted = operations.filter((o) => Array.isArray(o.access.roles));
    assert.ok(restricted.length >= 5);
    for (const op of restricted) {
      const roles = op.access.roles as Role[];
      const outsider = ROLES.find((r) => !roles.includes(r))!;
      const user = byRole.get(outsider)!;
      const before = (
        await node.services.audit.page({ action: 'access.denied', actorName: user.name }, 'asc', 500)
      ).items.length;
      const res = await node.request({
        method: op.method,
        url: fill(op.path, 'LT'),
        headers: user.headers,
        payload: op.method === 'GET' || op.method === 'DELETE' ? undefined : {},
      });
      assert.equal(res.statusCode, 403, `${op.method} ${op.path} as ${outsider}`);
      assert.equal(json(res).error.code, 'forbidden');
      const afterCount = (
        await node.services.audit.page({ action: 'access.denied', actorName: user.name }, 'asc', 500)
      ).items.length;
      assert.equal(afterCount, before + 1, `${op.method} ${op.path}: the refusal is audited`);
    }
  });

  it('never answers a client with a 500, whatever it sends', async () => {
    const anything = fc.oneof(
      fc.string(),
      fc.uuid(),
      fc.constantFrom('LT', 'eu', 'XX', '..', '%00', 'a'.repeat(300)),
    );
    const body = fc.oneof(
      fc.jsonValue().map((v) => ({ payload: JSON.stringify(v), type: 'application/json' })),
      fc.string().map((v) => ({ payload: v, type: 'application/json' })),
      fc.string().map((v) => ({ payload: v, type: 'text/plain' })),
      fc
        .record({
          name: fc.string(),
          party: anything,
          roles: fc.array(fc.string()),
          status: fc.string(),
          effectiveFrom: fc.string(),
        })
        .map((v) => ({ payload: JSON.stringify(v), type: 'application/json' })),
    );
    const query = fc.dictionary(
      fc.constantFrom('asOf', 'status', 'limit', 'cursor', 'order', 'since', 'party', 'x'),
      fc.string(),
      { maxKeys: 3 },
    );
    for (const op of operations.filter((o) => !o.streams)) {
      await fc.assert(
        fc.asyncProperty(anything, query, body, async (param, q, b) => {
          const withBody = op.method !== 'GET' && op.method !== 'DELETE';
          const res = await node.request({
            method: op.method,
            url: fill(op.path, param),
            query: q,
            headers: { ...everything.headers, ...(withBody ? { 'content-type': b.type } : {}) },
            ...(withBody ? { payload: b.payload } : {}),
          });
          assert.ok(
            res.statusCode < 500,
            `${op.method} ${op.path} answered ${res.statusCode}: ${res.body.slice(0, 300)}`,
          );
          if (res.statusCode >= 400)
            assert.ok(
              json(res).error?.message,
              `${op.method} ${op.path} ${res.statusCode}: ${res.body.slice(0, 300)}`,
            );
        }),
        { numRuns: 25, seed: Number.parseInt(crypto.randomBytes(3).toString('hex'), 16) },
      );
    }
  });
});
