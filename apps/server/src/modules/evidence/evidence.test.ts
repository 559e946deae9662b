import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';

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
const sha256 = (data: Buffer | string) => crypto.createHash('sha256').update(data).digest('hex');

describe('evidence: files of a case with their chain of custody', () => {
  let node: TestNode;
  let lt: TestUser;
  let lt2: TestUser;
  let ee: TestUser;
  let fi: TestUser;
  let amberCase: string;
  let greenCase: string;
  let dir: string;

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

  const stored = () => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);
  const actions = async (caseId: string) =>
    (await node.services.audit.page({ objectId: caseId }, 'asc', 500)).items
      .map((e) => e.action)
      .filter((a) => a.startsWith('evidence.'));

  before(async () => {
    node = await startTestNode({ evidenceMaxBytes: 1000 });
    dir = path.join(node.dataDir, 'evidence');
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
    assert.deepEqual(stored(), [item.id], 'the file is named by the id only, no temporary file left');
    assert.deepEqual(fs.readFileSync(path.join(dir, item.id)), bytes);

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
    const before = stored();
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
    assert.deepEqual(stored(), before, 'no file, temporary or not, is left');
    assert.equal((await actions(amberCase)).length, audited, 'nothing to audit: nothing changed');
    assert.equal(json(await call('GET', lt, `/cases/${amberCase}/evidence`)).items.length, count);
    const exact = await upload(lt, amberCase, { filename: 'exact.bin' }, Buffer.alloc(1000, 3));
    assert.equal(exact.statusCode, 201, 'exactly the limit is fine');
  });

  it('refuses path tricks in file names, storing nothing, and keeps unicode names', async () => {
    const before = stored();
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
    assert.deepEqual(stored(), before);
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
    const before = stored();
    const anonymous = await upload(null, greenCase, { filename: 'a.txt' }, 'a');
    assert.equal(anonymous.statusCode, 401);
    assert.equal((await call('GET', null, `/cases/${greenCase}/evidence`)).statusCode, 401);
    // FI is in the community: it reads a GREEN case, but does not work on it.
    const reader = await upload(fi, greenCase, { filename: 'a.txt' }, 'a');
    assert.equal(reader.statusCode, 403, reader.body);
    assert.equal(json(reader).error.code, 'forbidden');
    assert.deepEqual(stored(), before);
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
    const before = stored();
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
    assert.deepEqual(stored(), before);
    assert.equal(json(await call('GET', lt, `/cases/${greenCase}/evidence`)).items.length, count);
  });

  it('does not deliver a file that changed on disk, and says so in the audit log', async () => {
    const res = await upload(lt, greenCase, { filename: 'log.txt' }, 'original content');
    const id = json(res).id;
    const content = `/cases/${greenCase}/evidence/${id}/content`;
    fs.writeFileSync(path.join(dir, id), 'tampered content');
    const tampered = await call('GET', lt, content);
    assert.equal(tampered.statusCode, 500);
    assert.match(json(tampered).error.message, /no longer matches its recorded SHA-256/);
    fs.writeFileSync(path.join(dir, id), 'short');
    const short = await call('GET', lt, content);
    assert.equal(short.statusCode, 500);
    assert.match(json(short).error.message, /5 bytes on disk but 16 were recorded/);
    fs.rmSync(path.join(dir, id));
    assert.match(json(await call('GET', lt, content)).error.message, /missing/);
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
  });
});
