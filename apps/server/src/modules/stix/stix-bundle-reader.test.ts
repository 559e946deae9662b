import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BundleError, type BundleObject, readBundleObjects } from './stix-bundle-reader.ts';

async function* chunks(text: string | Buffer, size: number) {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function read(text: string | Buffer, size = 7, limits = {}) {
  const out: BundleObject[] = [];
  for await (const object of readBundleObjects(chunks(text, size), limits)) out.push(object);
  return out;
}

/** The error reading `text` ends with, and how many objects came before it. */
async function failure(text: string | Buffer, size = 7, limits = {}) {
  const out: BundleObject[] = [];
  try {
    for await (const object of readBundleObjects(chunks(text, size), limits)) out.push(object);
  } catch (error) {
    assert.ok(error instanceof BundleError, String(error));
    return { error, yielded: out.length };
  }
  assert.fail(`no error reading ${String(text).slice(0, 80)}`);
}

const malware = (n: number) =>
  JSON.stringify({
    type: 'malware',
    spec_version: '2.1',
    id: `malware--${n}`,
    name: `Wiper ${n}`,
    is_family: false,
  });

describe('STIX bundle reader', () => {
  it('yields the objects in order, whatever the chunk size', async () => {
    const text = `{ "type": "bundle", "id": "bundle--1",\n "objects": [ ${malware(0)} ,\n${malware(1)}, {"type":"note","id":"note--1","content":"a \\"quoted\\" } ] \\\\","object_refs":[]}]}\n`;
    for (const size of [1, 2, 3, 7, 64, 100_000]) {
      const objects = await read(text, size);
      assert.deepEqual(
        objects.map((o) => [o.index, o.object.id]),
        [
          [0, 'malware--0'],
          [1, 'malware--1'],
          [2, 'note--1'],
        ],
      );
      assert.equal(objects[2]!.object.content, 'a "quoted" } ] \\');
    }
  });

  it('reads a multi-byte character split across chunks, from bytes or strings', async () => {
    const name = 'Vytis € Ž 😀 ąčęėįšųūž';
    const text = `{"type":"bundle","id":"bundle--1","objects":[{"type":"malware","id":"malware--1","name":"${name}"}]}`;
    for (const size of [1, 2, 3, 5]) assert.equal((await read(text, size))[0]!.object.name, name);
    const strings = async function* () {
      yield text.slice(0, 60);
      yield text.slice(60);
    };
    const objects = [];
    for await (const object of readBundleObjects(strings())) objects.push(object);
    assert.equal(objects[0]!.object.name, name);
    // A byte order mark is tolerated.
    assert.equal(
      (await read(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), 1)).length,
      1,
    );
  });

  it('yields nothing for empty objects, and objects without type or id as they are', async () => {
    assert.deepEqual(await read('{"type":"bundle","id":"bundle--1","objects":[]}'), []);
    const objects = await read('{"type":"bundle","objects":[{"name":"no type"},{"type":"malware"}]}');
    assert.deepEqual(
      objects.map((o) => o.object),
      [{ name: 'no type' }, { type: 'malware' }],
    );
  });

  it('reads objects before type, and still refuses at the end what is no bundle', async () => {
    const before = `{"objects":[${malware(0)},${malware(1)}],"id":"bundle--1","type":"bundle"}`;
    assert.equal((await read(before, 3)).length, 2);
    const { error, yielded } = await failure(`{"objects":[${malware(0)}],"type":"report"}`);
    assert.equal(yielded, 1);
    assert.match(error.message, /"report", not "bundle"/);
    const none = await failure(`{"objects":[${malware(0)}]}`);
    assert.match(none.error.message, /no type/);
  });

  it('refuses what is not JSON, saying at which byte', async () => {
    for (const [text, message] of [
      ['', /the input is empty/],
      ['hello', /not JSON: unexpected 'h' at byte 0/],
      [
        `{"type":"bundle","objects":[${malware(0)},{"a":1,}]}`,
        /^not JSON: .* at byte 1\d\d \(in object 1\)$/,
      ],
      ['{"type":"bundle","objects":[{"a":[}]}', /not JSON: unexpected '}' at byte 34/],
      ['{"type":"bundle","objects":[{"a":1},]}', /not JSON: a comma before \] at byte 36/],
      ['{"type":"bundle","objects":[{"a":1}', /the input ends at byte 35/],
      ['{"type":"bundle","objects":[]} {}', /after the end of the bundle at byte 31/],
      ['{"type":"bundle" "objects":[]}', /expected ':'|expected ',' or '}'/],
      [
        Buffer.from([...Buffer.from('{"type":"bundle","objects":[{"a":"'), 0xff, ...Buffer.from('"}]}')]),
        /not valid UTF-8/,
      ],
    ] as const) {
      const { error } = await failure(text, 4);
      assert.match(error.message, message, String(text));
    }
  });

  it('refuses what is JSON but no STIX 2.1 bundle', async () => {
    for (const [text, message] of [
      ['[{"type":"bundle"}]', /the top level is not a JSON object/],
      ['"bundle"', /the top level is not a JSON object/],
      ['{"type":"report","objects":[]}', /the top-level type is "report", not "bundle"/],
      [
        '{"type":"bundle","id":"bundle--1","spec_version":"2.0","objects":[]}',
        /this is a STIX 2.0 bundle.*Vytis reads STIX 2.1/,
      ],
      ['{"type":"bundle","id":"bundle--1"}', /the bundle has no objects/],
      ['{"type":"bundle","objects":{"a":1}}', /objects is not an array/],
      ['{"type":"bundle","objects":null}', /objects is not an array/],
      ['{"type":"bundle","objects":[{},"malware--1"]}', /object 1 is not a JSON object/],
      ['{"type":"bundle","type":"bundle","objects":[]}', /the key "type" twice/],
    ] as const) {
      const { error } = await failure(text);
      assert.match(error.message, message, text);
    }
    const { error } = await failure('{"type":"bundle","objects":[{},[1]]}');
    assert.equal(error.objectIndex, 1);
  });

  it('refuses nesting deeper than the limit, before parsing and without recursion', async () => {
    const deep = `{"type":"bundle","objects":[{"type":"x-deep","id":"x-deep--1","v":${'['.repeat(10_000)}${']'.repeat(10_000)}}]}`;
    const { error, yielded } = await failure(deep, 512);
    assert.equal(yielded, 0);
    assert.equal(error.objectIndex, 0);
    assert.match(error.message, /object 0 nests deeper than 64 levels.*the limit is 64/);
    // The object itself counts as the first level.
    const nested = (levels: number) =>
      `{"type":"bundle","objects":[${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}]}`;
    assert.equal((await read(nested(5), 3, { maxDepth: 5 })).length, 1);
    assert.match((await failure(nested(6), 3, { maxDepth: 5 })).error.message, /deeper than 5 levels/);
    // Other top-level values too.
    assert.match(
      (await failure(`{"type":"bundle","x-extra":${'['.repeat(100)}${']'.repeat(100)},"objects":[]}`)).error
        .message,
      /the top-level value of x-extra nests deeper than 64/,
    );
  });

  it('reads a 5 MB string across many small chunks, and refuses an object over the size limit', async () => {
    const big = 'A'.repeat(5 * 1024 * 1024);
    const text = `{"type":"bundle","objects":[{"type":"artifact","id":"artifact--1","payload_bin":"${big}"},${malware(1)}]}`;
    const objects = await read(text, 4096);
    assert.equal(objects.length, 2);
    assert.equal((objects[0]!.object.payload_bin as string).length, big.length);
    const { error, yielded } = await failure(text, 4096, { maxObjectBytes: 1024 * 1024 });
    assert.equal(yielded, 0);
    assert.equal(error.objectIndex, 0);
    assert.match(error.message, /object 0 is larger than 1048576 bytes/);
  });
});
