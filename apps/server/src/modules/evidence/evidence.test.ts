import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { json, onPostgres, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';

const api = '/api/v1';

// As in cases.test.ts; importing it from there would run that file's suite here too.
const caseBody = (overrides: Record<string, unknown> = {}) => ({
  title: 'Ransomware at the grid operator',
  description: 'Encrypted SCADA historians',
  incidentClass: 'rsit:malicious-code="infected-system"',
  severity: 'high',
  tlp: 'amber',
  pap: 'amber',
  ...overrides,
});
/** Polls until `done` holds; fails after a while (it waits for the node, it never times it). */
async function waitFor(done: () => Promise<boolean>, what = 'the node to catch up') {
  for (let i = 0; i < 200; i++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const sha256 = (data: Buffer | string) => crypto.createHash('sha256').update(data).digest('hex');

/**
 * The evidence store as someone with access to the machine sees it: files under the data directory
 * on the embedded database, rows of `evidence_chunks` on PostgreSQL. Tests corrupt it through this,
 * as an intruder or a failing disk would.
 */
function storeOf(node: TestNode) {
  const dir = path.join(node.dataDir, 'evidence');
  const db = node.database.db;
  if (!onPostgres()) {
    return {
      /** Every name in the store: item ids, and anything left of an upload. */
      keys: async () => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []),
      content: async (id: string) => fs.readFileSync(path.join(dir, id)),
      overwrite: async (id: string, bytes: Buffer | string) => fs.writeFileSync(path.join(dir, id), bytes),
      flipByte: async (id: string, at: number) => {
        const bytes = fs.readFileSync(path.join(dir, id));
        bytes[at] = bytes[at]! ^ 0xff;
        fs.writeFileSync(path.join(dir, id), bytes);
      },
      delete: async (id: string) => fs.rmSync(path.join(dir, id)),
      /** What a process that died mid-upload leaves behind. */
      abandon: async (id: string, startedAt: Date) => {
        fs.mkdirSync(dir, { recursive: true });
        const file = path.join(dir, `.incoming-${id}`);
        fs.writeFileSync(file, 'half a file');
        fs.utimesSync(file, startedAt, startedAt);
      },
      /** What a process that died between placing content and committing its item leaves behind. */
      orphan: async (id: string, storedAt: Date) => {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, id), 'a whole file, never recorded');
        fs.utimesSync(path.join(dir, id), storedAt, storedAt);
      },
      /** Makes stored content look written at `storedAt`. */
      age: async (id: string, storedAt: Date) => fs.utimesSync(path.join(dir, id), storedAt, storedAt),
    };
  }
  const pieces = (id: string) =>
    db
      .selectFrom('evidence_chunks')
      .select(['seq', 'data'])
      .where('evidence_id', '=', id)
      .orderBy('seq')
      .execute();
  return {
    keys: async () =>
      (
        await db
          .selectFrom('evidence_chunks')
          .select('evidence_id')
          .distinct()
          .orderBy('evidence_id')
          .execute()
      ).map((r) => r.evidence_id),
    content: async (id: string) => Buffer.concat((await pieces(id)).map((p) => p.data)),
    overwrite: async (id: string, bytes: Buffer | string) => {
      await db.deleteFrom('evidence_chunks').where('evidence_id', '=', id).execute();
      await db
        .insertInto('evidence_chunks')
        .values({ evidence_id: id, seq: 0, data: Buffer.from(bytes), stored_at: new Date() })
        .execute();
    },
    flipByte: async (id: string, at: number) => {
      let offset = at;
      for (const piece of await pieces(id)) {
        if (offset < piece.data.length) {
          const data = Buffer.from(piece.data);
          data[offset] = data[offset]! ^ 0xff;
          await sql`update evidence_chunks set data = ${data} where evidence_id = ${id} and seq = ${piece.seq}`.execute(
            db,
          );
          return;
        }
        offset -= piece.data.length;
      }
      throw new Error(`no byte ${at} in ${id}`);
    },
    delete: async (id: string) => {
      await db.deleteFrom('evidence_chunks').where('evidence_id', '=', id).execute();
    },
    abandon: async (id: string, startedAt: Date) => {
      await db
        .insertInto('evidence_chunks')
        .values({ evidence_id: id, seq: 0, data: Buffer.from('half a file'), stored_at: startedAt })
        .execute();
    },
    orphan: async (id: string, storedAt: Date) => {
      await db
        .insertInto('evidence_chunks')
        .values({
          evidence_id: id,
          seq: 0,
          data: Buffer.from('a whole file, never recorded'),
          stored_at: storedAt,
        })
        .execute();
    },
    age: async (id: string, storedAt: Date) => {
      await db
        .updateTable('evidence_chunks')
        .set({ stored_at: storedAt })
        .where('evidence_id', '=', id)
        .execute();
    },
  };
}

describe('evidence: files of a case with their chain of custody', () => {
  let node: TestNode;
  let lt: TestUser;
  let lt2: TestUser;
  let ee: TestUser;
  let fi: TestUser;
  let amberCase: string;
  let greenCase: string;
  let store: ReturnType<typeof storeOf>;

  const call = (method: 'GET' | 'POST' | 'PUT', user: TestUser | null, url: string, payload?: object) =>
    node.request({
      method,
      url: `${api}${url}`,
      headers: user?.headers ?? {},
      ...(payload ? { payload } : {}),
    });

  const upload = (
    user: TestUser | null,
    caseId: string,
    query: Record<string, string>,
    payload: Buffer | string | Readable,
    contentType: string | null = 'application/octet-stream',
  ) =>
    node.request({
      method: 'POST',
      url: `${api}/cases/${caseId}/evidence?${new URLSearchParams(query)}`,
      headers: { ...(user?.headers ?? {}), ...(contentType ? { 'content-type': contentType } : {}) },
      payload,
    });

  const stored = () => store.keys();
  const actions = async (caseId: string) =>
    (await node.services.audit.page({ objectId: caseId }, 'asc', 500)).items
      .map((e) => e.action)
      .filter((a) => a.startsWith('evidence.'));

  before(async () => {
    node = await startTestNode({ evidenceMaxBytes: 1000 });
    store = storeOf(node);
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    lt2 = await node.user('lt.analyst2', 'LT', ['analyst']);
    ee = await node.user('ee.analyst', 'EE', ['analyst']);
    fi = await node.user('fi.analyst', 'FI', ['analyst']);
    const a = await call('POST', lt, '/cases', caseBody());
    assert.equal(a.statusCode, 201, a.body);
    amberCase = json(a).id;
    const b = await call('POST', lt, '/cases', caseBody({ title: 'Phishing wave', tlp: 'green' }));
    assert.equal(b.statusCode, 201, b.body);
    greenCase = json(b).id;
  });
  after(() => node.close());

  it('stores an upload byte for byte, under its id, and serves it back with its sha256', async () => {
    const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('pcap')]);
    const res = await upload(
      lt,
      amberCase,
      { filename: 'historian.pcap', note: 'imaged from the historian' },
      bytes,
      'application/vnd.tcpdump.pcap',
    );
    assert.equal(res.statusCode, 201, res.body);
    const item = json(res);
    assert.equal(item.sha256, sha256(bytes));
    assert.equal(item.size, bytes.length);
    assert.equal(item.filename, 'historian.pcap');
    assert.equal(item.mediaType, 'application/vnd.tcpdump.pcap');
    assert.equal(item.tlp, 'amber', 'the label defaults to the case’s');
    assert.equal(item.custodian, 'lt.analyst');
    assert.equal(item.originParty, 'LT');
    assert.deepEqual(
      item.custody.map((c: any) => [c.action, c.actor, c.party, c.custodian, c.sha256, c.note]),
      [['upload', 'lt.analyst', 'LT', 'lt.analyst', sha256(bytes), 'imaged from the historian']],
    );
    assert.deepEqual(await stored(), [item.id], 'kept under the id only, nothing temporary left');
    assert.deepEqual(await store.content(item.id), bytes);

    const list = json(await call('GET', lt, `/cases/${amberCase}/evidence`));
    assert.deepEqual(
      list.items.map((i: any) => [i.id, i.custody]),
      [[item.id, undefined]],
    );
    const theCase = json(await call('GET', lt, `/cases/${amberCase}`));
    assert.equal(theCase.counts.evidence, 1);

    const down = await call('GET', lt2, `/cases/${amberCase}/evidence/${item.id}/content`);
    assert.equal(down.statusCode, 200, down.body);
    assert.deepEqual(down.rawPayload, bytes);
    assert.equal(sha256(down.rawPayload), item.sha256);
    assert.equal(down.headers['content-type'], 'application/vnd.tcpdump.pcap');
    assert.equal(down.headers['content-length'], String(bytes.length));
    assert.equal(down.headers.etag, `"sha256-${item.sha256}"`);
    assert.equal(down.headers.digest, `sha-256=${Buffer.from(item.sha256, 'hex').toString('base64')}`);
    assert.equal(down.headers['x-content-type-options'], 'nosniff');
    assert.equal(down.headers['content-security-policy'], 'sandbox');
    assert.equal(
      down.headers['content-disposition'],
      `attachment; filename="historian.pcap"; filename*=UTF-8''historian.pcap`,
    );
    const head = await node.request({
      method: 'HEAD',
      url: `${api}/cases/${amberCase}/evidence/${item.id}/content`,
      headers: lt.headers,
    });
    assert.equal(head.statusCode, 404, 'no HEAD: it would record a download that hands nothing over');
  });

  it('keeps any media type as the file (a JSON file is not parsed) and defaults to octet-stream', async () => {
    const text = '{"not": "parsed",   "kept": true}\n';
    const asJson = await upload(lt, amberCase, { filename: 'event.json' }, text, 'application/json');
    assert.equal(asJson.statusCode, 201, asJson.body);
    const down = await call('GET', lt, `/cases/${amberCase}/evidence/${json(asJson).id}/content`);
    assert.equal(down.body, text);
    assert.equal(down.headers['content-type'], 'application/json');

    const bare = await upload(lt, amberCase, { filename: 'blob.bin' }, Buffer.from([1, 2, 3]), null);
    assert.equal(bare.statusCode, 201, bare.body);
    assert.equal(json(bare).mediaType, 'application/octet-stream');

    const empty = await upload(lt, amberCase, { filename: 'empty.log' }, Buffer.alloc(0));
    assert.equal(empty.statusCode, 201, empty.body);
    assert.equal(json(empty).sha256, sha256(''));
    assert.equal(json(empty).size, 0);
    const emptyDown = await call('GET', lt, `/cases/${amberCase}/evidence/${json(empty).id}/content`);
    assert.equal(emptyDown.statusCode, 200);
    assert.equal(emptyDown.rawPayload.length, 0);

    const bad = await upload(lt, amberCase, { filename: 'x.bin' }, 'x', 'not a media type');
    assert.equal(bad.statusCode, 415, bad.body);
    assert.equal(json(bad).error.code, 'unsupported_media_type');
  });

  it('keeps the chain of custody: upload, download, transfer, in order, each audited', async () => {
    const res = await upload(lt, amberCase, { filename: 'disk.img' }, 'disk image');
    assert.equal(res.statusCode, 201, res.body);
    const id = json(res).id;
    const down = await call('GET', lt, `/cases/${amberCase}/evidence/${id}/content`);
    assert.equal(down.body, 'disk image');
    const moved = await call('POST', lt2, `/cases/${amberCase}/evidence/${id}/transfer`, {
      custodian: 'LT forensic lab',
      note: 'sealed bag 17',
    });
    assert.equal(moved.statusCode, 200, moved.body);
    assert.equal(json(moved).custodian, 'LT forensic lab');
    const item = json(await call('GET', lt, `/cases/${amberCase}/evidence/${id}`));
    assert.equal(item.custodian, 'LT forensic lab');
    assert.deepEqual(
      item.custody.map((c: any) => [c.action, c.actor, c.custodian, c.note]),
      [
        ['upload', 'lt.analyst', 'lt.analyst', ''],
        ['download', 'lt.analyst', 'lt.analyst', ''],
        ['transfer', 'lt.analyst2', 'LT forensic lab', 'sealed bag 17'],
      ],
    );
    assert.ok(item.custody.every((c: any) => c.sha256 === sha256('disk image')));

    const again = await call('POST', lt, `/cases/${amberCase}/evidence/${id}/transfer`, {
      custodian: 'LT forensic lab',
    });
    assert.equal(again.statusCode, 409, 'the same custodian again is not a transfer');
    const blank = await call('POST', lt, `/cases/${amberCase}/evidence/${id}/transfer`, { custodian: '  ' });
    assert.equal(blank.statusCode, 400);
    assert.equal(json(blank).error.details[0].field, 'body/custodian');

    const events = (await node.services.audit.page({ objectId: amberCase }, 'asc', 500)).items.filter(
      (e) => (e.summary as any)?.evidenceId === id,
    );
    assert.deepEqual(
      events.map((e) => [e.action, e.actor.name]),
      [
        ['evidence.upload', 'lt.analyst'],
        ['evidence.download', 'lt.analyst'],
        ['evidence.transfer', 'lt.analyst2'],
      ],
    );
    assert.deepEqual(events[2]!.summary, { evidenceId: id, from: 'lt.analyst', to: 'LT forensic lab' });
  });

  it('hides AMBER evidence from another party until the case is shared; RED stays with its named people', async () => {
    const amber = json(await upload(lt, amberCase, { filename: 'amber.txt' }, 'amber'));
    const redRes = await upload(lt, amberCase, { filename: 'red.txt', tlp: 'red' }, 'red');
    assert.equal(redRes.statusCode, 201, redRes.body);
    const red = json(redRes);
    assert.equal(red.tlp, 'red');
    for (const url of [
      `/cases/${amberCase}/evidence`,
      `/cases/${amberCase}/evidence/${amber.id}`,
      `/cases/${amberCase}/evidence/${amber.id}/content`,
    ]) {
      assert.equal((await call('GET', ee, url)).statusCode, 404, url);
    }
    const sneak = await upload(ee, amberCase, { filename: 'x.txt' }, 'x');
    assert.equal(sneak.statusCode, 404, 'a case you may not see takes no evidence from you');

    const shared = await call('PUT', lt, `/cases/${amberCase}/shares`, { parties: ['EE'] });
    assert.equal(shared.statusCode, 200, shared.body);
    const list = json(await call('GET', ee, `/cases/${amberCase}/evidence`));
    assert.ok(list.items.some((i: any) => i.id === amber.id));
    assert.ok(!list.items.some((i: any) => i.id === red.id), 'RED is not listed for a shared party');
    const down = await call('GET', ee, `/cases/${amberCase}/evidence/${amber.id}/content`);
    assert.equal(down.statusCode, 200);
    assert.equal(down.body, 'amber');
    for (const user of [ee, lt2]) {
      assert.equal((await call('GET', user, `/cases/${amberCase}/evidence/${red.id}`)).statusCode, 404);
      const content = await call('GET', user, `/cases/${amberCase}/evidence/${red.id}/content`);
      assert.equal(content.statusCode, 404);
      const moved = await call('POST', user, `/cases/${amberCase}/evidence/${red.id}/transfer`, {
        custodian: user.name,
      });
      assert.equal(moved.statusCode, 404);
    }
    assert.equal((await call('GET', lt, `/cases/${amberCase}/evidence/${red.id}`)).statusCode, 200);
    const redCustody = json(await call('GET', lt, `/cases/${amberCase}/evidence/${red.id}`)).custody;
    assert.deepEqual(
      redCustody.map((c: any) => c.action),
      ['upload'],
      'refused reads leave no custody entry',
    );
    const theirs = await upload(ee, amberCase, { filename: 'ee-memory.raw' }, 'memory');
    assert.equal(theirs.statusCode, 201, 'a party the case is shared with works on it');
    assert.equal(json(theirs).originParty, 'EE');
    const missing = crypto.randomUUID();
    assert.equal((await call('GET', lt, `/cases/${amberCase}/evidence/${missing}`)).statusCode, 404);
  });

  it('refuses a file over the limit with 413 and keeps nothing', async () => {
    const before = await stored();
    const audited = (await actions(amberCase)).length;
    const count = json(await call('GET', lt, `/cases/${amberCase}/evidence`)).items.length;
    const declared = await upload(lt, amberCase, { filename: 'big.bin' }, Buffer.alloc(1001, 7));
    assert.equal(declared.statusCode, 413, declared.body);
    assert.equal(json(declared).error.code, 'payload_too_large');
    // Without a length to go by, the limit is found while the file arrives.
    const streamed = await upload(
      lt,
      amberCase,
      { filename: 'big.bin' },
      Readable.from([Buffer.alloc(600, 1), Buffer.alloc(600, 2)]),
    );
    assert.equal(streamed.statusCode, 413, streamed.body);
    assert.equal(json(streamed).error.code, 'payload_too_large');
    assert.deepEqual(await stored(), before, 'no file, temporary or not, is left');
    assert.equal((await actions(amberCase)).length, audited, 'nothing to audit: nothing changed');
    assert.equal(json(await call('GET', lt, `/cases/${amberCase}/evidence`)).items.length, count);
    const exact = await upload(lt, amberCase, { filename: 'exact.bin' }, Buffer.alloc(1000, 3));
    assert.equal(exact.statusCode, 201, 'exactly the limit is fine');
  });

  it('refuses path tricks in file names, storing nothing, and keeps unicode names', async () => {
    const before = await stored();
    const audited = (await actions(amberCase)).length;
    const count = json(await call('GET', lt, `/cases/${amberCase}/evidence`)).items.length;
    for (const filename of [
      '../../etc/passwd',
      'a/b',
      '..',
      '.',
      'x\u0000y',
      'a\\b',
      'line\nbreak',
      'invoice\u202Efdp.exe',
    ]) {
      const res = await upload(lt, amberCase, { filename }, 'x');
      assert.equal(res.statusCode, 400, `${JSON.stringify(filename)}: ${res.body}`);
      assert.equal(json(res).error.code, 'invalid_input');
      assert.equal(json(res).error.details[0].field, 'querystring/filename');
    }
    assert.deepEqual(await stored(), before);
    assert.equal(json(await call('GET', lt, `/cases/${amberCase}/evidence`)).items.length, count);
    assert.equal((await actions(amberCase)).length, audited);

    const name = 'Ataskaita – ąčęėįšųūž 报告.pdf';
    const res = await upload(lt, amberCase, { filename: name }, '%PDF', 'application/pdf');
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(json(res).filename, name);
    const down = await call('GET', lt, `/cases/${amberCase}/evidence/${json(res).id}/content`);
    assert.equal(
      down.headers['content-disposition'],
      `attachment; filename="Ataskaita _ _________ __.pdf"; filename*=UTF-8''${encodeURIComponent(name)}`,
    );
  });

  it('stores a hostile name as text and never lets it into the download header raw', async () => {
    const filename = 'evil"; filename=x.exe; <script>alert(1)<script>.html';
    const res = await upload(lt, greenCase, { filename }, '<script>alert(1)</script>', 'text/html');
    assert.equal(res.statusCode, 201, res.body);
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    assert.equal(json(res).filename, filename, 'kept as given, as a JSON string');
    assert.equal(
      json(await call('GET', lt, `/cases/${greenCase}/evidence/${json(res).id}`)).filename,
      filename,
    );
    const down = await call('GET', lt, `/cases/${greenCase}/evidence/${json(res).id}/content`);
    assert.equal(down.statusCode, 200);
    assert.equal(
      down.headers['content-disposition'],
      `attachment; filename="evil__ filename_x.exe_ _script_alert(1)_script_.html"; ` +
        `filename*=UTF-8''evil%22%3B%20filename%3Dx.exe%3B%20%3Cscript%3Ealert%281%29%3Cscript%3E.html`,
    );
    assert.equal(down.headers['content-type'], 'text/html');
    assert.equal(down.headers['x-content-type-options'], 'nosniff');
    assert.equal(down.headers['content-security-policy'], 'sandbox');
  });

  it('asks who you are (401) and whether you work on the case (403) before reading a file', async () => {
    const before = await stored();
    const anonymous = await upload(null, greenCase, { filename: 'a.txt' }, 'a');
    assert.equal(anonymous.statusCode, 401);
    assert.equal((await call('GET', null, `/cases/${greenCase}/evidence`)).statusCode, 401);
    // FI is in the community: it reads a GREEN case, but does not work on it.
    const reader = await upload(fi, greenCase, { filename: 'a.txt' }, 'a');
    assert.equal(reader.statusCode, 403, reader.body);
    assert.equal(json(reader).error.code, 'forbidden');
    assert.deepEqual(await stored(), before);
    const list = json(await call('GET', fi, `/cases/${greenCase}/evidence`));
    assert.equal(list.items.length, 1);
    const id = list.items[0].id;
    assert.equal((await call('GET', fi, `/cases/${greenCase}/evidence/${id}/content`)).statusCode, 200);
    const moved = await call('POST', fi, `/cases/${greenCase}/evidence/${id}/transfer`, { custodian: 'FI' });
    assert.equal(moved.statusCode, 403);
    const denials = (await node.services.audit.page({ action: 'access.denied' }, 'asc', 500)).items;
    assert.ok(
      denials.some((e) => e.actor.name === 'fi.analyst'),
      'the refusal is audited',
    );
  });

  it('leaves the JSON-only rule of every other route alone (415)', async () => {
    const asBytes = await node.request({
      method: 'POST',
      url: `${api}/cases`,
      headers: { ...lt.headers, 'content-type': 'application/octet-stream' },
      payload: JSON.stringify(caseBody()),
    });
    assert.equal(asBytes.statusCode, 415, asBytes.body);
    assert.equal(json(asBytes).error.code, 'unsupported_media_type');
    const item = json(await call('GET', lt, `/cases/${greenCase}/evidence`)).items[0];
    const transfer = await node.request({
      method: 'POST',
      url: `${api}/cases/${greenCase}/evidence/${item.id}/transfer`,
      headers: { ...lt.headers, 'content-type': 'text/plain' },
      payload: 'custodian=me',
    });
    assert.equal(transfer.statusCode, 415, transfer.body);
    const task = await node.request({
      method: 'POST',
      url: `${api}/cases/${greenCase}/tasks`,
      headers: { ...lt.headers, 'content-type': 'text/plain' },
      payload: 'Image the historian',
    });
    assert.equal(task.statusCode, 415, task.body);
  });

  it('removes the stored file when the database write fails', async () => {
    const before = await stored();
    const count = json(await call('GET', lt, `/cases/${greenCase}/evidence`)).items.length;
    const cases = node.services.cases;
    const record = cases.record;
    cases.record = async () => {
      throw new Error('the audit log is unavailable');
    };
    try {
      const res = await upload(lt, greenCase, { filename: 'lost.txt' }, 'lost');
      assert.equal(res.statusCode, 500);
    } finally {
      cases.record = record;
    }
    assert.deepEqual(await stored(), before);
    assert.equal(json(await call('GET', lt, `/cases/${greenCase}/evidence`)).items.length, count);
  });

  it('refuses content that no longer matches its record with 409 integrity_failed, audited, never a 500', async () => {
    const res = await upload(lt, greenCase, { filename: 'log.txt' }, 'original content');
    const id = json(res).id;
    const content = `/cases/${greenCase}/evidence/${id}/content`;
    const refused = async (reason: RegExp) => {
      const answer = await call('GET', lt, content);
      assert.equal(answer.statusCode, 409, answer.body);
      const { error } = json(answer);
      assert.equal(error.code, 'integrity_failed');
      assert.equal(error.details.evidenceId, id);
      assert.match(error.details.reason, reason);
      assert.match(error.message, /restore/, 'it says what is to be done');
      assert.doesNotMatch(answer.body, /tampered|short/, 'none of the stored bytes are handed out');
    };
    await store.overwrite(id, 'tampered content');
    await refused(/no longer matches its recorded SHA-256/);
    await store.overwrite(id, 'short');
    await refused(/5 bytes .* but 16 were recorded/);
    await store.delete(id);
    await refused(/missing/);
    const custody = json(await call('GET', lt, `/cases/${greenCase}/evidence/${id}`)).custody;
    assert.deepEqual(
      custody.map((c: any) => c.action),
      ['upload'],
      'a refused download is not a custody step',
    );
    const failures = (
      await node.services.audit.page({ objectId: greenCase, action: 'evidence.integrity-failure' }, 'asc', 10)
    ).items;
    assert.equal(failures.length, 3);
    assert.ok(failures.every((e) => (e.summary as any).evidenceId === id && e.actor.name === 'lt.analyst'));
  });

  it('sweeps what an upload abandoned a day ago (its process died) on a later upload', async () => {
    const abandoned = crypto.randomUUID();
    const recent = crypto.randomUUID();
    const now = node.clock.now();
    await store.abandon(abandoned, new Date(now.getTime() - 25 * 3_600_000));
    await store.abandon(recent, new Date(now.getTime() - 3_600_000));
    // Sweeps happen at most hourly per process.
    node.clock.set(new Date(now.getTime() + 2 * 3_600_000));
    const res = await upload(lt, greenCase, { filename: 'later.txt' }, 'later');
    assert.equal(res.statusCode, 201, res.body);
    const keys = (await stored()).join(' ');
    assert.doesNotMatch(keys, new RegExp(abandoned), 'an upload begun 25 h ago is gone');
    assert.match(keys, new RegExp(recent), 'one begun an hour before may still be arriving');
    assert.match(keys, new RegExp(json(res).id));
  });

  it('sweeps content placed for an item that was never committed (a crash mid-commit), never an item’s own', async () => {
    const orphan = crypto.randomUUID();
    const now = node.clock.now();
    const dayAndMore = new Date(now.getTime() - 25 * 3_600_000);
    await store.orphan(orphan, dayAndMore);
    const old = await upload(lt, greenCase, { filename: 'old.txt' }, 'kept for a long time');
    assert.equal(old.statusCode, 201, old.body);
    const kept = json(old).id;
    await store.age(kept, dayAndMore);
    node.clock.set(new Date(now.getTime() + 2 * 3_600_000));
    const res = await upload(lt, greenCase, { filename: 'next.txt' }, 'next');
    assert.equal(res.statusCode, 201, res.body);
    const keys = await stored();
    assert.equal(keys.includes(orphan), false, 'content with no item, a day old, is gone');
    assert.equal(keys.includes(kept), true, 'an item’s content is never swept, however old');
    const down = await call('GET', lt, `/cases/${greenCase}/evidence/${kept}/content`);
    assert.equal(down.statusCode, 200, down.body);
    assert.equal(down.body, 'kept for a long time');
  });

  it('refuses a new custodian whose name hides what it says (bidi controls, unpaired surrogates)', async () => {
    const id = json(await upload(lt, greenCase, { filename: 'seized.bin' }, 'seized')).id;
    for (const custodian of ['b\u202e', 'lab \u2066x\u2069', 'half \ud800']) {
      const res = await call('POST', lt, `/cases/${greenCase}/evidence/${id}/transfer`, { custodian });
      assert.equal(res.statusCode, 400, `${JSON.stringify(custodian)}: ${res.body}`);
      assert.equal(json(res).error.code, 'invalid_input');
      assert.equal(json(res).error.details[0].field, 'body/custodian');
    }
    const item = json(await call('GET', lt, `/cases/${greenCase}/evidence/${id}`));
    assert.equal(item.custodian, 'lt.analyst', 'custody did not move');
    assert.deepEqual(
      item.custody.map((c: any) => c.action),
      ['upload'],
    );
    const ok = await call('POST', lt, `/cases/${greenCase}/evidence/${id}/transfer`, {
      custodian: 'Vilniaus laboratorija',
    });
    assert.equal(ok.statusCode, 200, ok.body);
  });
});

describe('evidence content larger than one stored piece', () => {
  const MiB = 1024 * 1024;
  let node: TestNode;
  let lt: TestUser;
  let caseId: string;
  let store: ReturnType<typeof storeOf>;

  before(async () => {
    node = await startTestNode({ evidenceMaxBytes: 4 * MiB });
    store = storeOf(node);
    lt = await node.user('lt.analyst', 'LT', ['analyst']);
    const created = await node.request({
      method: 'POST',
      url: `${api}/cases`,
      headers: lt.headers,
      payload: caseBody(),
    });
    assert.equal(created.statusCode, 201, created.body);
    caseId = json(created).id;
  });
  after(() => node.close());

  /** Bytes that differ from piece to piece, arriving in odd-sized parts that straddle piece boundaries. */
  const content = (size: number) => {
    const bytes = Buffer.alloc(size);
    for (let i = 0; i + 4 <= size; i += 4) bytes.writeUInt32BE(i, i);
    return bytes;
  };
  const inParts = (bytes: Buffer, part = 300_007) =>
    Readable.from(
      (function* () {
        for (let i = 0; i < bytes.length; i += part) yield bytes.subarray(i, i + part);
      })(),
    );
  const uploadAs = (payload: Buffer | Readable, filename = 'memory.raw') =>
    node.request({
      method: 'POST',
      url: `${api}/cases/${caseId}/evidence?filename=${filename}`,
      headers: { ...lt.headers, 'content-type': 'application/octet-stream' },
      payload,
    });
  const download = (id: string) =>
    node.request({
      method: 'GET',
      url: `${api}/cases/${caseId}/evidence/${id}/content`,
      headers: lt.headers,
    });

  it('keeps a file of several pieces byte for byte and serves it back whole', async () => {
    const bytes = content(3 * MiB + 12_345);
    const res = await uploadAs(inParts(bytes));
    assert.equal(res.statusCode, 201, res.body);
    const item = json(res);
    assert.equal(item.size, bytes.length);
    assert.equal(item.sha256, sha256(bytes));
    assert.deepEqual(await store.content(item.id), bytes);
    if (onPostgres()) {
      const pieces = await node.database.db
        .selectFrom('evidence_chunks')
        .select(sql<number>`length(data)`.as('length'))
        .where('evidence_id', '=', item.id)
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        pieces.map((p) => Number(p.length)),
        [MiB, MiB, MiB, 12_345],
        'stored in pieces of a MiB',
      );
    }
    const down = await download(item.id);
    assert.equal(down.statusCode, 200);
    assert.equal(down.rawPayload.length, bytes.length);
    assert.equal(sha256(down.rawPayload), item.sha256);
  });

  it('refuses content with one byte changed deep inside with 409 integrity_failed', async () => {
    const bytes = content(2 * MiB + 77);
    const item = json(await uploadAs(bytes, 'disk.img'));
    await store.flipByte(item.id, MiB + 1000);
    const down = await download(item.id);
    assert.equal(down.statusCode, 409, down.body);
    assert.equal(json(down).error.code, 'integrity_failed');
    await store.flipByte(item.id, MiB + 1000);
    assert.equal((await download(item.id)).statusCode, 200, 'restored, it is served again');
  });

  it('on PostgreSQL, takes in a file kept on disk before, on its first download, for every process', {
    skip: !onPostgres() && 'only PostgreSQL keeps evidence in the database',
  }, async () => {
    const bytes = content(MiB + 5);
    const item = json(await uploadAs(bytes, 'before-the-upgrade.raw'));
    // As the node had it before: the file in its data directory, nothing in the database.
    const dir = path.join(node.dataDir, 'evidence');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, item.id), bytes);
    await store.delete(item.id);
    const first = await download(item.id);
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(sha256(first.rawPayload), item.sha256);
    assert.deepEqual(await store.content(item.id), bytes, 'now in the database');
    fs.rmSync(path.join(dir, item.id));
    assert.equal((await download(item.id)).statusCode, 200, 'served without the file');

    const changed = json(await uploadAs(content(10), 'changed.raw'));
    fs.writeFileSync(path.join(dir, changed.id), 'not what was uploaded');
    await store.delete(changed.id);
    const refused = await download(changed.id);
    assert.equal(refused.statusCode, 409, refused.body);
    assert.equal(json(refused).error.code, 'integrity_failed');
    assert.deepEqual(await store.keys().then((keys) => keys.includes(changed.id)), false, 'not taken in');
  });

  describe('on PostgreSQL, taking in files kept on disk before, when things go wrong', {
    skip: !onPostgres() && 'only PostgreSQL keeps evidence in the database',
  }, () => {
    const legacyDir = () => path.join(node.dataDir, 'evidence');
    /** An item as the upgrade found it: its file on this process's disk, awaiting adoption. */
    const recordedBeforeTheUpgrade = async (bytes: Buffer, name: string, fileHere = true) => {
      const item = json(await uploadAs(bytes, name));
      if (fileHere) {
        fs.mkdirSync(legacyDir(), { recursive: true });
        fs.writeFileSync(path.join(legacyDir(), item.id), bytes);
      }
      await store.delete(item.id);
      await node.database.db.insertInto('evidence_files_to_adopt').values({ evidence_id: item.id }).execute();
      return item;
    };
    const integrityFailures = async () =>
      (await node.services.audit.page({ action: 'evidence.integrity-failure' }, 'asc', 500)).items.length;

    it('finishes an adoption that was cut off half-way on the next download', async () => {
      const bytes = content(3 * MiB + 9);
      const item = await recordedBeforeTheUpgrade(bytes, 'cut-off.raw');
      // What a process that died after writing two pieces of the file under the item left.
      await node.database.db
        .insertInto('evidence_chunks')
        .values(
          [0, 1].map((seq) => ({
            evidence_id: item.id,
            seq,
            data: bytes.subarray(seq * MiB, (seq + 1) * MiB),
            stored_at: new Date(),
          })),
        )
        .execute();
      const down = await download(item.id);
      assert.equal(down.statusCode, 200, down.body);
      assert.equal(sha256(down.rawPayload), item.sha256);
      assert.deepEqual(await store.content(item.id), bytes, 'now whole in the database');
      fs.rmSync(path.join(legacyDir(), item.id));
      assert.equal((await download(item.id)).statusCode, 200, 'served without the file');
    });

    it('serves concurrent first downloads of a file kept on disk, and takes it in once', async () => {
      const bytes = content(2 * MiB + 3);
      const item = await recordedBeforeTheUpgrade(bytes, 'popular.raw');
      const answers = await Promise.all([download(item.id), download(item.id), download(item.id)]);
      assert.deepEqual(
        answers.map((a) => a.statusCode),
        [200, 200, 200],
        answers.map((a) => a.body.slice(0, 200)).join('\n'),
      );
      for (const answer of answers) assert.equal(sha256(answer.rawPayload), item.sha256);
      assert.deepEqual(await store.content(item.id), bytes);
      const unowned = await sql<{ n: number }>`
        select count(*)::int as n from evidence_chunks c
        where not exists (select 1 from evidence e where e.id = c.evidence_id)`.execute(node.database.db);
      assert.equal(unowned.rows[0]!.n, 0, 'no staging pieces are left behind');
    });

    it('says a file on another process is not here yet (503), without calling it an integrity failure', async () => {
      const bytes = content(MiB + 1);
      const item = await recordedBeforeTheUpgrade(bytes, 'elsewhere.raw', false);
      const failures = await integrityFailures();
      const refused = await download(item.id);
      assert.equal(refused.statusCode, 503, refused.body);
      assert.equal(json(refused).error.code, 'unavailable');
      assert.match(json(refused).error.message, /process that received it/);
      assert.equal(await integrityFailures(), failures, 'not audited as an integrity failure');
      // Once the process that has the file serves it, every process does.
      fs.mkdirSync(legacyDir(), { recursive: true });
      fs.writeFileSync(path.join(legacyDir(), item.id), bytes);
      assert.equal((await download(item.id)).statusCode, 200);
      fs.rmSync(path.join(legacyDir(), item.id));
      await store.delete(item.id);
      const lost = await download(item.id);
      assert.equal(lost.statusCode, 409, 'content lost after it was taken in is an integrity failure');
      assert.equal(json(lost).error.code, 'integrity_failed');
      assert.equal(await integrityFailures(), failures + 1);
    });
  });

  it('refuses a file over the limit while it arrives and keeps none of it', async () => {
    const before = await store.keys();
    const res = await uploadAs(inParts(content(4 * MiB + 4)));
    assert.equal(res.statusCode, 413, res.body);
    assert.deepEqual(await store.keys(), before);
  });

  it('leaves nothing behind when the uploader goes away mid-file', async () => {
    const address = await node.app.listen({ port: 0, host: '127.0.0.1' });
    const before = await store.keys();
    const count = json(
      await node.request({ method: 'GET', url: `${api}/cases/${caseId}/evidence`, headers: lt.headers }),
    ).items.length;
    const socket = net.connect(Number(new URL(address).port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      `POST ${api}/cases/${caseId}/evidence?filename=cut.bin HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
        `authorization: ${lt.headers.authorization}\r\ncontent-type: application/octet-stream\r\n` +
        `content-length: ${3 * MiB}\r\n\r\n`,
    );
    socket.write(content(MiB + MiB / 2));
    // The node has begun to keep it (a first piece, or the temporary file) when the client vanishes.
    await waitFor(async () => (await store.keys()).length > before.length, 'the upload to begin');
    socket.destroy();
    await waitFor(async () => (await store.keys()).length === before.length, 'the upload to be cleaned');
    assert.deepEqual(await store.keys(), before, 'no content, partial or temporary, is left');
    const after = json(
      await node.request({ method: 'GET', url: `${api}/cases/${caseId}/evidence`, headers: lt.headers }),
    );
    assert.equal(after.items.length, count, 'no item');
  });
});
