import fc from 'fast-check';

/**
 * The shapes an attacker with an ordinary account sends to find a 500: each is a value that passes
 * a naive check (it is a string, it parses as a date, it decodes as base64) and breaks something
 * further in (a database type's range, a recursive walk, a date shifted past year 9999).
 * The route fuzzer (http/routes.test.ts) sends them to every route the API document lists.
 */

/** Path parameter values, inserted into the URL exactly as written (already percent-encoded). */
export const HOSTILE_PATH_VALUES = [
  '%00',
  'a%00b',
  'x'.repeat(10_000),
  'not-a-uuid',
  '%',
  '%ZZ',
  '%E0%A4%A',
  '%ED%A0%80', // a lone surrogate, UTF-8 encoded
  '%F4%90%80%80', // beyond U+10FFFF
  '%C0%AE%C0%AE', // overlong dots
  '%2e%2e%2f%2e%2e',
  '9223372036854775808',
  '-9223372036854775809',
  '1e400',
  '-0',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  'lt',
  '%E2%80%AE', // right-to-left override
] as const;

const base64url = (text: string) => Buffer.from(text).toString('base64url');
const SOME_UUID = '9b2f5d3e-1c4a-4f6e-8d7b-2a1c3e5f7a9b';

/** Keyset cursors and sequence numbers a server never gave out. */
export const HOSTILE_CURSORS = [
  '9223372036854775808',
  '-9223372036854775809',
  '99999999999999999999999999999',
  '1e400',
  '-0',
  '!!!!',
  '====',
  'a'.repeat(199),
  base64url('[9223372036854775808,"2026-11-23T12:00:00Z","9b2f5d3e-1c4a-4f6e-8d7b-2a1c3e5f7a9b"]'),
  base64url(`[1e400,"2026-11-23T12:00:00Z","${SOME_UUID}"]`),
  base64url(`[-0,"0000-01-01T00:00:00Z","${SOME_UUID}"]`),
  base64url(`["+275760-09-13T00:00:00Z","${SOME_UUID}"]`),
  base64url(`["9999-12-31T23:59:59Z","${SOME_UUID}"]`),
  base64url(`["\\u0000","${SOME_UUID}"]`),
  base64url(`["\\ud800","${SOME_UUID}"]`),
  base64url('['.repeat(60)),
  base64url('{"__proto__":{"x":1}}'),
  base64url('null'),
] as const;

/** Integer query values (limits, sequence numbers) outside every range a column has. */
export const HOSTILE_INTEGERS = [
  '9223372036854775808',
  '-9223372036854775809',
  '1e400',
  '-0',
  'NaN',
  'Infinity',
  '0x10',
  '1.5',
] as const;

/** Versions a write claims to be based on (`If-Match`), beyond every integer column. */
export const HOSTILE_IF_MATCH = [
  '"9223372036854775808"',
  '"1e400"',
  'W/"-1"',
  '"1", "2"',
  '"' + '9'.repeat(500) + '"',
] as const;

/** RFC 3339-looking times a calendar, JavaScript or PostgreSQL cannot all hold. */
export const HOSTILE_TIMES = [
  '0000-01-01T00:00:00Z',
  '0001-01-01T00:00:00+23:59',
  '0999-12-31T23:59:59Z',
  '10000-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '2026-12-31T23:59:60Z',
  '2026-11-23T12:00:00+23:59',
  '2026-11-23T12:00:00-23:59',
  '9998-12-31T23:59:59-14:00',
  '9999-12-31T23:59:59Z',
  '9999-12-31T23:59:59-23:59',
  '9999-12-20T00:00:00Z',
] as const;

/** Calendar days at and past the ends of every calendar. */
export const HOSTILE_DAYS = [
  '0000-01-01',
  '0001-01-01',
  '9999-12-31',
  '10000-01-01',
  '+275760-09-13',
  '-000001-01-01',
  '2026-02-30',
] as const;

/**
 * JSON texts that are valid JSON but hostile in a JSON literal's place: numbers beyond every
 * numeric type, negative zero, NUL and lone surrogates in strings.
 */
export const HOSTILE_JSON_LITERALS = [
  '1e400',
  '-1e400',
  '-0',
  '9223372036854775808',
  '123456789012345678901234567890',
  '5e-324',
  '"\\u0000"',
  '"\\ud800"',
  '"a\\udfffb"',
] as const;

/** Arrays or objects nested `depth` deep: `[[[…]]]`, `{"a":{"a":…}}`. */
export const nestedArrays = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
export const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

export const DEEP_BODIES = [
  nestedArrays(10_000),
  nestedObjects(10_000),
  nestedArrays(2_000),
  nestedObjects(2_000),
  `{"a":${nestedArrays(10_000)}}`,
] as const;

// ----- walking the API document's JSON Schemas -----

export interface JsonSchema {
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

/** A value a schema accepts, as plain as possible: the base a single hostile value is put into. */
export function exampleOf(schema: JsonSchema, seed = 1): unknown {
  if (schema.default !== undefined) return schema.default;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return exampleOf(union.find((s) => s.type !== 'null') ?? union[0]!, seed);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object':
      return Object.fromEntries(
        (schema.required ?? []).map((key) => [key, exampleOf(schema.properties?.[key] ?? {}, seed)]),
      );
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => exampleOf(schema.items ?? {}, seed));
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    case 'string':
      return exampleString(schema, seed);
    default:
      return null;
  }
}

function exampleString(schema: JsonSchema, seed: number): string {
  if (schema.format === 'date-time') return '2026-12-01T08:00:00Z';
  if (schema.format === 'uuid') return SOME_UUID;
  if (schema.format === 'uri') return 'http://127.0.0.1:9/hook';
  if (schema.pattern === '^[A-Z]{2}$') return 'LT';
  if (schema.pattern === '^\\d{4}-\\d{2}-\\d{2}$') return '2026-12-01';
  if (schema.pattern) {
    const [sample] = fc.sample(fc.stringMatching(new RegExp(schema.pattern)), { numRuns: 1, seed });
    return sample!;
  }
  return 'x'.repeat(Math.max(schema.minLength ?? 1, 1));
}

export type LeafKind = 'time' | 'day' | 'number' | 'string';

export interface Leaf {
  /** Keys from the body's root to the leaf (array items at index 0). */
  path: (string | number)[];
  kind: LeafKind;
}

/** Every scalar a body may carry, optional ones included, with the kind of hostile value it gets. */
export function leavesOf(schema: JsonSchema, path: (string | number)[] = [], depth = 0): Leaf[] {
  if (depth > 8) return [];
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.flatMap((s) => leavesOf(s, path, depth + 1)).filter(uniqueLeaf());
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (type === 'object') {
    return Object.entries(schema.properties ?? {}).flatMap(([key, sub]) =>
      leavesOf(sub, [...path, key], depth + 1),
    );
  }
  if (type === 'array') return leavesOf(schema.items ?? {}, [...path, 0], depth + 1);
  if (type === 'integer' || type === 'number') return [{ path, kind: 'number' }];
  if (type === 'string') {
    if (schema.format === 'date-time') return [{ path, kind: 'time' }];
    if (schema.pattern?.startsWith('^\\d{4}-')) return [{ path, kind: 'day' }];
    if (schema.enum) return [];
    return [{ path, kind: 'string' }];
  }
  return [];
}

function uniqueLeaf() {
  const seen = new Set<string>();
  return (leaf: Leaf) => {
    const key = JSON.stringify(leaf.path);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
}

const RAW = '__hostile_raw_json__';

/**
 * `base` with the value at `path` replaced by the JSON text `raw`, written as text so literals
 * JSON.stringify cannot produce (1e400, -0, lone surrogates) reach the server as sent.
 */
export function withRawAt(base: unknown, path: (string | number)[], raw: string): string {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let target: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    if (target[key] === undefined || target[key] === null || typeof target[key] !== 'object') {
      target[key] = typeof key === 'number' ? [] : {};
    }
    target = target[key] as Record<string | number, unknown>;
  }
  if (path.length === 0) return raw;
  target[path.at(-1)!] = RAW;
  return JSON.stringify(copy).replace(JSON.stringify(RAW), () => raw);
}

export function hostileLiteralsFor(kind: LeafKind): readonly string[] {
  switch (kind) {
    case 'time':
      return HOSTILE_TIMES.map((t) => JSON.stringify(t));
    case 'day':
      return HOSTILE_DAYS.map((d) => JSON.stringify(d));
    case 'number':
      return HOSTILE_JSON_LITERALS.slice(0, 6);
    case 'string':
      return [...HOSTILE_JSON_LITERALS.slice(6), nestedArrays(2_000)];
  }
}
