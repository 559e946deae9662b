import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import formatsPlugin from 'ajv-formats';
import { json, startTestNode, type TestNode } from '../test/harness.ts';
import { registerStorableTimeFormat } from './time-format.ts';

interface Example {
  /** Where in the API document, as a JSON pointer. */
  at: string;
  /** The pointer of the schema it must satisfy. */
  schemaAt: string;
  value: unknown;
  /** Query and path parameters arrive as text; the API coerces them as this validator does. */
  coerce: boolean;
}

const pointer = (path: (string | number)[]) =>
  `#/${path.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;

/**
 * Every example the API document shows: on media types (`example`, `examples.*.value`), on
 * parameters, and inside schemas (`examples`, `example`), each with the schema it illustrates.
 */
function examplesIn(doc: unknown): Example[] {
  const found: Example[] = [];
  const walk = (node: unknown, path: (string | number)[]) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const [i, child] of node.entries()) walk(child, [...path, i]);
      return;
    }
    const object = node as Record<string, unknown>;
    const isParameter =
      typeof object.in === 'string' && typeof object.name === 'string' && 'schema' in object;
    const isMedia = 'schema' in object && path.at(-2) === 'content';
    if (isParameter || isMedia) {
      const schemaAt = pointer([...path, 'schema']);
      const coerce = isParameter && object.in !== 'body';
      if ('example' in object)
        found.push({ at: pointer([...path, 'example']), schemaAt, value: object.example, coerce });
      for (const [name, example] of Object.entries(
        (object.examples ?? {}) as Record<string, { value?: unknown }>,
      )) {
        found.push({ at: pointer([...path, 'examples', name]), schemaAt, value: example?.value, coerce });
      }
    }
    const isSchema =
      typeof object.type === 'string' || 'anyOf' in object || 'enum' in object || 'properties' in object;
    if (isSchema && path.at(-1) !== 'examples') {
      const schemaAt = pointer(path);
      if (Array.isArray(object.examples)) {
        for (const [i, value] of object.examples.entries()) {
          found.push({ at: pointer([...path, 'examples', i]), schemaAt, value, coerce: false });
        }
      }
      if ('example' in object)
        found.push({ at: pointer([...path, 'example']), schemaAt, value: object.example, coerce: false });
    }
    for (const [key, child] of Object.entries(object)) {
      // An example is data, not more of the document.
      if (key === 'example' || (key === 'examples' && (isSchema || isParameter || isMedia))) continue;
      walk(child, [...path, key]);
    }
  };
  walk(doc, []);
  return found;
}

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = ((formatsPlugin as unknown as { default?: unknown }).default ?? formatsPlugin) as (
  ajv: Ajv,
) => Ajv;

/** The API's own validator settings (app.ts): what passes here passes the routes. */
function validatorFor(doc: object, coerce: boolean) {
  const ajv = new Ajv({
    strict: false,
    allErrors: true,
    validateSchema: false,
    coerceTypes: coerce ? 'array' : false,
  });
  addFormats(ajv);
  registerStorableTimeFormat(ajv);
  ajv.addSchema(doc, 'openapi.json');
  return ajv;
}

describe('the API document', () => {
  let node: TestNode;
  let doc: Record<string, any>;

  before(async () => {
    node = await startTestNode();
    doc = json(await node.request({ method: 'GET', url: '/openapi.json' }));
  });
  after(() => node.close());

  it('shows only examples that its own schemas accept', () => {
    const examples = examplesIn(doc);
    console.log(`# ${examples.length} examples in the API document`);
    assert.ok(examples.length >= 3, 'the document has examples to check');
    const validators = { true: validatorFor(doc, true), false: validatorFor(doc, false) };
    const failures: string[] = [];
    for (const example of examples) {
      const ajv = validators[String(example.coerce) as 'true' | 'false'];
      const validate = ajv.compile({ $ref: `openapi.json${example.schemaAt}` });
      // Coercion rewrites its input: check a copy.
      const value = structuredClone(example.value);
      if (!validate(value)) {
        failures.push(`${example.at}: ${JSON.stringify(example.value)} — ${ajv.errorsText(validate.errors)}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('finds an example that its schema refuses (the check can fail)', () => {
    const broken = structuredClone(doc);
    const route = broken.paths['/api/v1/sharing-groups'].post.requestBody.content['application/json'];
    route.example = { name: '', parties: ['lithuania'] };
    const examples = examplesIn(broken).filter(
      (e) => e.at.endsWith('/example') && e.at.includes('sharing-groups'),
    );
    const ajv = validatorFor(broken, false);
    const refused = examples.filter((e) => !ajv.compile({ $ref: `openapi.json${e.schemaAt}` })(e.value));
    assert.equal(refused.length, 1);
  });
});
