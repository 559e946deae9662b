import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROLES } from '@vytis/contracts';
import type { InjectOptions } from 'fastify';
import { json, startTestNode, type TestNode, type TestUser } from '../test/harness.ts';
import { exampleOf, type JsonSchema } from '../test/hostile-shapes.ts';
import { submitRequest } from '../test/requests.fixtures.ts';

interface OptionalBodyRoute {
  method: InjectOptions['method'];
  path: string;
  documentedRequired: boolean | undefined;
  params: { name: string; schema: JsonSchema }[];
}

// Every route whose body has nothing required, found in the API document: a new one is covered
// the day it is added.
describe('routes whose body is all optional', () => {
  let node: TestNode;
  let everything: TestUser;
  let routes: OptionalBodyRoute[];

  before(async () => {
    node = await startTestNode();
    everything = await node.user('all.roles', 'LT', [...ROLES]);
    const doc = json(await node.request({ method: 'GET', url: '/openapi.json' }));
    routes = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([method]) => ['post', 'put', 'patch'].includes(method))
        .filter(([, op]) => {
          const schema = op.requestBody?.content?.['application/json']?.schema;
          return schema && schema.type === 'object' && (schema.required ?? []).length === 0;
        })
        .map(([method, op]) => ({
          method: method.toUpperCase() as InjectOptions['method'],
          path,
          documentedRequired: op.requestBody.required,
          params: (op.parameters ?? [])
            .filter((p: any) => p.in === 'path')
            .map((p: any) => ({ name: p.name, schema: p.schema })),
        })),
    );
  });
  after(() => node.close());

  const urlOf = (route: OptionalBodyRoute) =>
    route.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const param = route.params.find((p) => p.name === name);
      return encodeURIComponent(String(param ? exampleOf(param.schema) : 'x'));
    });

  it('are found, submit among them, and documented as taking an optional body', () => {
    assert.ok(routes.length >= 10, `found ${routes.length}`);
    assert.ok(routes.some((r) => r.method === 'POST' && r.path === '/api/v1/requests/{id}/submit'));
    for (const route of routes) {
      assert.equal(route.documentedRequired, false, `${route.method} ${route.path}: requestBody.required`);
    }
  });

  it('answer no body and an empty JSON body exactly as they answer {}', async () => {
    const mismatches: string[] = [];
    for (const route of routes) {
      const send = (variant: Partial<InjectOptions>) =>
        node.request({
          method: route.method,
          url: urlOf(route),
          ...variant,
          headers: { ...everything.headers, ...(variant.headers ?? {}) },
        });
      const reference = await send({ payload: {} });
      const variants = {
        'no body': await send({}),
        'an empty JSON body': await send({ payload: '', headers: { 'content-type': 'application/json' } }),
        'a blank JSON body': await send({ payload: ' \n', headers: { 'content-type': 'application/json' } }),
      };
      for (const [what, res] of Object.entries(variants)) {
        const code = (r: typeof res) => (r.statusCode >= 400 ? json(r).error.code : null);
        if (res.statusCode !== reference.statusCode || code(res) !== code(reference)) {
          mismatches.push(
            `${route.method} ${route.path} with ${what}: ${res.statusCode} ${res.body.slice(0, 160)} ` +
              `(with {}: ${reference.statusCode})`,
          );
        }
      }
    }
    assert.deepEqual(mismatches, []);
  });

  it('refuse a withdrawal without a body: its reason is required, and the answer says so', async () => {
    const poc = await node.user('lt.poc', 'LT', ['poc']);
    const request = await submitRequest(node, poc);
    const res = await node.request({
      method: 'POST',
      url: `/api/v1/requests/${request.id}/withdraw`,
      headers: poc.headers,
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.match(json(res).error.message + JSON.stringify(json(res).error.details), /reason/);
  });

  it('still name the body when it is needed, or when the JSON sent is not an object', async () => {
    const poc = await node.user('lv.poc', 'LV', ['poc']);
    const noBody = await node.request({ method: 'POST', url: '/api/v1/requests', headers: poc.headers });
    assert.equal(noBody.statusCode, 400);
    assert.equal(json(noBody).error.details[0].field, 'body');
    const request = await submitRequest(node, poc);
    const nullBody = await node.request({
      method: 'POST',
      url: `/api/v1/requests/${request.id}/withdraw`,
      headers: { ...poc.headers, 'content-type': 'application/json' },
      payload: 'null',
    });
    assert.equal(nullBody.statusCode, 400, nullBody.body);
    assert.equal(json(nullBody).error.details[0].field, 'body');
  });
});
