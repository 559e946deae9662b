import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import { parsePattern } from './stix-pattern.ts';

/**
 * Offline validation of STIX 2.1 bundles for tests: the 57 OASIS schemas (draft 2020-12), each
 * registered by its `$id` so their relative `$ref`s resolve without a network, plus the TLP 2.0
 * marking extension's schema; and the checks the schemas cannot make (patterns parse, every
 * reference resolves inside the bundle, ids are unique).
 */

// The OASIS schemas and examples, copied from ../shared/data/stix2 with their licence.
export const STIX_DATA = path.resolve(import.meta.dirname, '../../../data/stix2');

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = ((formatsPlugin as unknown as { default?: unknown }).default ?? formatsPlugin) as (
  ajv: Ajv2020,
) => Ajv2020;

const BASE = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/';

function load() {
  // The schemas' patterns are ECMA-262 without the u flag (they escape `-` outside classes).
  const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  const dir = path.join(STIX_DATA, 'schemas');
  let count = 0;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.json')) continue;
    const schema = JSON.parse(fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8'));
    ajv.addSchema(schema);
    count++;
  }
  ajv.addSchema(
    JSON.parse(fs.readFileSync(path.join(STIX_DATA, 'tlp2-marking-extension-schema.json'), 'utf8')),
  );
  return { ajv, count };
}

let loaded: ReturnType<typeof load> | undefined;
const schemas = () => {
  loaded ??= load();
  return loaded;
};

export const schemaCount = () => schemas().count;

function schemaFor(type: string): string | null {
  const folders = ['sdos', 'sros', 'observables'];
  for (const folder of folders) {
    if (fs.existsSync(path.join(STIX_DATA, 'schemas', folder, `${type}.json`)))
      return `${BASE}${folder}/${type}.json`;
  }
  return type === 'marking-definition' ? `${BASE}common/marking-definition.json` : null;
}

let listed: Set<string> | undefined;
/** The types bundle.json names in its list of standard objects. */
function listedTypes() {
  if (!listed) {
    const schema = JSON.parse(fs.readFileSync(path.join(STIX_DATA, 'schemas/common/bundle.json'), 'utf8'));
    const refs: { $ref: string }[] = schema.properties.objects.items.anyOf[0].oneOf;
    listed = new Set(refs.map((r) => path.basename(r.$ref, '.json')));
  }
  return listed;
}

const TLP2_EXTENSION = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

/** Every problem with a bundle, as "object id: what"; empty when it is valid. */
/** A STIX object or bundle as parsed JSON. */
export interface StixJson {
  type: string;
  id: string;
  objects?: StixJson[];
  [property: string]: unknown;
}

export function bundleProblems(bundle: StixJson): string[] {
  const { ajv } = schemas();
  const problems: string[] = [];
  const describe = (errors: typeof ajv.errors) =>
    (errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath} ${e.message}`)
      .join('; ');
  // A single object (one example file is) is checked as a bundle of one.
  if (bundle.type !== 'bundle')
    return bundleProblems({ type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects: [bundle] });
  // bundle.json lists the standard types one by one and takes any other as a custom object through
  // `oneOf [core, cyber-observable-core]` — which every SDO matches twice (cyber-observable-core
  // requires only type and id). So the types its list forgets (grouping, note, opinion, location,
  // incident) can never pass it. The envelope is checked by bundle.json with those left out, and
  // every object, those too, by the schema of its own type — as the OASIS validator does.
  const listed = { ...bundle, objects: (bundle.objects ?? []).filter((o) => listedTypes().has(o.type)) };
  if (!ajv.validate(`${BASE}common/bundle.json`, listed)) problems.push(`bundle: ${describe(ajv.errors)}`);
  const objects = bundle.objects ?? [];
  const ids = new Set<string>();
  for (const object of objects) {
    if (ids.has(object.id)) problems.push(`${object.id}: appears twice`);
    ids.add(object.id);
    const schema = schemaFor(object.type);
    if (!schema) problems.push(`${object.id}: no schema for type ${object.type}`);
    else if (!ajv.validate(schema, object)) problems.push(`${object.id}: ${describe(ajv.errors)}`);
    if (
      object.type === 'marking-definition' &&
      (object.extensions as Record<string, unknown> | undefined)?.[TLP2_EXTENSION]
    ) {
      if (!ajv.validate('tlp2.0.json', object))
        problems.push(`${object.id}: TLP 2.0 ${describe(ajv.errors)}`);
    }
    if (object.type === 'indicator' && object.pattern_type === 'stix') {
      const parsed = parsePattern(String(object.pattern));
      if (!parsed.ok) problems.push(`${object.id}: pattern ${object.pattern}: ${parsed.message}`);
    }
    if (object.type !== 'marking-definition' && object.type !== 'bundle') {
      if (!Array.isArray(object.object_marking_refs) || object.object_marking_refs.length === 0)
        problems.push(`${object.id}: no object_marking_refs`);
    }
  }
  // Every reference names an object of the bundle.
  const walk = (value: unknown, key: string, owner: string) => {
    if (Array.isArray(value)) {
      if (key.endsWith('_refs'))
        for (const ref of value) if (!ids.has(ref)) problems.push(`${owner}: ${key} ${ref} dangles`);
      for (const item of value) walk(item, '', owner);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, k, owner);
    } else if (typeof value === 'string' && key.endsWith('_ref') && !ids.has(value)) {
      problems.push(`${owner}: ${key} ${value} dangles`);
    }
  };
  for (const object of objects) walk(object, '', object.id);
  return problems;
}
