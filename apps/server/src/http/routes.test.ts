import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ROLES, type Role } from '@vytis/contracts';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { json, startTestNode, type TestNode, type TestUser } from '../test/harness.ts';
import {
  DEEP_BODIES,
  exampleOf,
  HOSTILE_CURSORS,
  HOSTILE_DAYS,
  HOSTILE_IF_MATCH,
  HOSTILE_INTEGERS,
  HOSTILE_PATH_VALUES,
  HOSTILE_TIMES,
  hostileLiteralsFor,
  type JsonSchema,
  leavesOf,
  nestedArrays,
  withRawAt,
} from '../test/hostile-shapes.ts';
import { requestBody } from '../test/requests.fixtures.ts';

// Every operation of the API document, checked the same way: so a new route is covered the day
// it is added, not when someone remembers to write its access tests.
interface Operation {
  method: InjectOptions['method'];
  path: string;
  access: { public?: true; roles?: Role[] | 'any' };
  /** Server-sent events never end: driven over a real socket in their own tests. */
  streams: boolean;
  pathParams: string[];
  query: { name: string; schema: JsonSchema }[];
  /** The JSON request body's schema, when the route takes one. */
  body: JsonSchema | undefined;
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
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
        query: (op.parameters ?? [])
          .filter((p: any) => p.in === 'query')
          .map((p: any) => ({ name: p.name, schema: p.schema })),
        body: op.requestBody?.content?.['application/json']?.schema,
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

  it('answers hostile path parameters, queries and bodies with a 4xx that says what to fix', async () => {
    const world = await buildWorld(node, everything);
    const probes = hostileProbes(
      operations.filter((o) => !o.streams),
      world,
    );
    const failures: string[] = [];
    const routes = new Set<string>();
    let count = 0;
    for (const probe of probes) {
      for (const caller of probe.anonymousToo ? [undefined, everything] : [everything]) {
        count += 1;
        routes.add(`${probe.op.method} ${probe.op.path}`);
        const res = await node.request({
          method: probe.op.method,
          url: probe.url,
          headers: {
            ...(caller?.headers ?? {}),
            ...(probe.payload === undefined ? {} : { 'content-type': 'application/json' }),
            ...probe.headers,
          },
          ...(probe.payload === undefined ? {} : { payload: probe.payload }),
        });
        const problem = problemWith(res.statusCode, res.body);
        if (problem) {
          failures.push(
            `${probe.op.method} ${probe.url.slice(0, 160)} ${caller ? '(admin)' : '(anonymous)'} ` +
              `[${probe.what}] → ${res.statusCode} ${problem}: ${res.body.slice(0, 200)}`,
          );
        }
      }
    }
    const fiveHundreds = failures.filter((f) => / → 5\d\d /.test(f)).length;
    console.log(`# route fuzzer: ${count} probes over ${routes.size} routes, ${fiveHundreds} × 5xx`);
    for (const failure of failures) console.log(`# ${failure}`);
    assert.deepEqual(failures, []);
  });
});

const API_ERROR_CODES = new Set([
  'invalid_input',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'precondition_failed',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
]);

/** What is wrong with an answer to hostile input, or null: no 5xx, and every 4xx explains itself. */
function problemWith(status: number, body: string): string | null {
  if (status >= 500) return 'server error';
  if (status < 400) return null;
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = JSON.parse(body).error;
  } catch {
    return 'not JSON';
  }
  if (!error || typeof error.code !== 'string' || !API_ERROR_CODES.has(error.code)) return 'no error code';
  if (typeof error.message !== 'string' || error.message.length < 10) return 'no message saying what to fix';
  return null;
}

/** Real objects, so that a probe on one parameter gets past the lookups of the others. */
interface World {
  ids: Record<string, string>;
  bodies: Record<string, unknown>;
}

async function buildWorld(node: TestNode, user: TestUser): Promise<World> {
  const post = async (url: string, payload: unknown) => {
    const res = await node.request({
      method: 'POST',
      url: `/api/v1${url}`,
      headers: user.headers,
      payload: payload as object,
    });
    assert.ok(res.statusCode < 300, `${url}: ${res.statusCode} ${res.body}`);
    return json(res);
  };
  const responderBody = {
    name: 'Ona Fuzz',
    affiliation: 'civilian',
    skills: [{ skill: 'digital-forensics', level: 2 }],
    languages: ['en'],
    clearance: 'secret',
    base: { city: 'Vilnius', country: 'LT', lat: 54.7, lon: 25.3, timeZone: 'Europe/Vilnius' },
    readiness: { remoteHours: 2, onsiteHours: 12 },
  };
  const responder = await post('/responders', responderBody);
  const rotationBody = {
    party: 'LT',
    name: 'Fuzz rota',
    timeZone: 'Europe/Vilnius',
    startsOn: '2026-11-01',
    shiftStart: '08:00',
    shiftHours: 12,
    shiftDays: 1,
    responderIds: [responder.id],
  };
  const rotation = await post('/rotations', rotationBody);
  const request = await post('/requests', requestBody());
  const caseBody = {
    title: 'Fuzzed case',
    incidentClass: 'rsit:malicious-code="infected-system"',
    severity: 'high',
    tlp: 'amber',
    pap: 'amber',
  };
  const openCase = await post('/cases', caseBody);
  const task = await post(`/cases/${openCase.id}/tasks`, { title: 'Look' });
  const observableBody = { type: 'ip-dst', value: '203.0.113.5' };
  const observable = await post(`/cases/${openCase.id}/observables`, observableBody);
  const group = await post('/sharing-groups', { name: 'Fuzzers', parties: ['LT'] });
  const token = await post('/tokens', {});
  return {
    ids: {
      requests: request.id,
      cases: openCase.id,
      tasks: task.id,
      observables: observable.id,
      responders: responder.id,
      rotations: rotation.id,
      users: user.id,
      tokens: token.id ?? token.token?.id,
      'sharing-groups': group.id,
      parties: 'LT',
      deadlines: 'answer',
    },
    bodies: {
      'POST /api/v1/requests': requestBody(),
      'PATCH /api/v1/requests/{id}': { title: 'Still ransomware' },
      'POST /api/v1/responders': responderBody,
      'POST /api/v1/rotations': { ...rotationBody, name: 'Second rota', startsOn: '2027-01-01' },
      'POST /api/v1/cases': caseBody,
      'POST /api/v1/cases/{id}/observables': observableBody,
    },
  };
}

interface Probe {
  op: Operation;
  url: string;
  payload: string | undefined;
  what: string;
  anonymousToo: boolean;
  headers?: Record<string, string>;
}

/** The value of a path parameter: the real object named by the segment before it. */
function realParam(world: World, path: string, param: string): string {
  const segments = path.split('/');
  const before = segments[segments.indexOf(`{${param}}`) - 1]!;
  if (param === 'responderId') return world.ids.responders!;
  return world.ids[before] ?? '9b2f5d3e-1c4a-4f6e-8d7b-2a1c3e5f7a9b';
}

const isDestructive = (op: Operation) =>
  op.method === 'DELETE' || /\/(withdraw|close|disable|revoke|stand-down)$/.test(op.path);

function hostileProbes(operations: Operation[], world: World): Probe[] {
  const ordered = [...operations].sort((a, b) => Number(isDestructive(a)) - Number(isDestructive(b)));
  const probes: Probe[] = [];
  for (const op of ordered) {
    const key = `${op.method} ${op.path}`;
    const base = op.body ? (world.bodies[key] ?? exampleOf(op.body)) : undefined;
    const basePayload = base === undefined ? undefined : JSON.stringify(base);
    const urlWith = (params: Record<string, string>, query = '') =>
      op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => params[name] ?? realParam(world, op.path, name)) +
      query;
    const add = (
      what: string,
      url: string,
      payload = basePayload,
      anonymousToo = false,
      headers?: Record<string, string>,
    ) => probes.push({ op, url, payload, what, anonymousToo, ...(headers ? { headers } : {}) });

    for (const param of op.pathParams) {
      for (const value of HOSTILE_PATH_VALUES)
        add(`path ${param}=${value.slice(0, 20)}`, urlWith({ [param]: value }), basePayload, true);
    }
    for (const { name, schema } of op.query) {
      const values =
        name === 'cursor'
          ? HOSTILE_CURSORS
          : schema.type === 'integer'
            ? HOSTILE_INTEGERS
            : schema.format === 'date-time' || /^(asOf|since|until|from|to)$/.test(name)
              ? [...HOSTILE_TIMES, ...HOSTILE_DAYS]
              : schema.type === 'string' && !schema.enum
                ? ['%00', '%ED%A0%80', 'x'.repeat(10_000)]
                : [];
      for (const value of values) {
        add(`query ${name}=${value.slice(0, 30)}`, urlWith({}, `?${name}=${encodeQueryValue(value)}`));
      }
    }
    // Every route, even one without parameters: a query it does not know, carrying a NUL.
    add('unknown query with NUL', urlWith({}, '?zzz=%00'), basePayload, true);
    if (op.method === 'PATCH' || op.method === 'PUT' || op.method === 'DELETE') {
      for (const version of HOSTILE_IF_MATCH) {
        add(`if-match ${version}`, urlWith({}), basePayload, false, { 'if-match': version });
      }
    }
    const names = new Set(op.query.map((q) => q.name));
    if (names.has('from') && names.has('to')) {
      for (const [from, to] of [
        ['9999-12-20T00:00:00Z', '9999-12-31T23:59:59Z'],
        ['9999-12-31T00:00:00Z', undefined],
        ['0001-01-01T00:00:00Z', '0001-01-05T00:00:00Z'],
        ['1000-01-01T00:00:00Z', undefined],
      ] as const) {
        const query = `?from=${encodeQueryValue(from)}${to ? `&to=${encodeQueryValue(to)}` : ''}`;
        add(`range ${from}..${to ?? ''}`, urlWith({}, query));
      }
    }
    if (op.method !== 'GET') {
      for (const deep of DEEP_BODIES) add(`deep body ${deep.slice(0, 12)}…`, urlWith({}), deep, true);
    }
    if (op.body) {
      for (const leaf of leavesOf(op.body)) {
        for (const literal of hostileLiteralsFor(leaf.kind)) {
          add(
            `body /${leaf.path.join('/')}=${literal.slice(0, 30)}`,
            urlWith({}),
            withRawAt(base, leaf.path, literal),
          );
        }
      }
      add('deep in a field', urlWith({}), withRawAt(base, ['zzz'], nestedArrays(10_000)));
    }
  }
  return probes;
}

/** Percent-encodes what a URL cannot carry, keeping `%XX` sequences that are already there. */
const encodeQueryValue = (value: string) =>
  /%[0-9A-Fa-f]{2}/.test(value) ? value : encodeURIComponent(value);
