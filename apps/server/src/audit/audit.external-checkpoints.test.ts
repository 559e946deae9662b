import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type AdminCommand, runCommand } from '../cli/commands.ts';
import { describeError } from '../cli/describe-error.ts';
import { vytisCommand } from '../cli/vytis-command.fixtures.ts';
import { inTransaction } from '../platform/db/transaction.ts';
import {
  createDurableStorage,
  type DurableStorage,
  json,
  startTestNode,
  type TestNode,
} from '../test/harness.ts';
import { GENESIS_HASH } from './audit.chain.ts';
import { verifyChain } from './audit.verifier.ts';

// An attacker with ordinary database access (SQL), but not the node's files nor its key, tries to
// cut the audit log quietly. Only checkpoints kept outside the database, or their absence, tell.

const MINUTE = 60_000;

async function appendEvents(node: TestNode, count: number, tag: string) {
  await inTransaction(node.database.db, (trx) =>
    node.services.audit.recordMany(
      trx,
      node.cli,
      Array.from({ length: count }, (_, i) => ({
        action: 'test.event',
        objectType: 'thing',
        objectId: `${tag}-${i}`,
      })),
    ),
  );
}

async function checkpointNow(node: TestNode, auditorHeaders: Record<string, string>) {
  const response = await node.request({
    method: 'POST',
    url: '/api/v1/audit/checkpoints',
    headers: auditorHeaders,
  });
  assert.equal(response.statusCode, 201, response.body);
  return json(response) as { size: number };
}

/** The careful cut: events after `keep` go, with the checkpoint rows that vouched for them, and the head moves back. */
async function cutTail(node: TestNode, keep: number) {
  const { db } = node.database;
  const hashOf = async (seq: number) =>
    seq === 0
      ? GENESIS_HASH
      : (await db.selectFrom('audit_events').select('hash').where('seq', '=', seq).executeTakeFirstOrThrow())
          .hash;
  await sql`delete from audit_events where seq > ${keep}`.execute(db);
  await sql`delete from audit_checkpoints where size > ${keep}`.execute(db);
  await sql`update audit_head set seq = ${keep}, hash = ${await hashOf(keep)}, prev_hash = ${await hashOf(keep - 1)}`.execute(
    db,
  );
}

const checkpointFile = (node: TestNode) => path.join(node.dataDir, 'audit-checkpoints.jsonl');
const fileLines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
const verifyOverHttp = async (node: TestNode, headers: Record<string, string>) => {
  const response = await node.request({ method: 'GET', url: '/api/v1/audit/verify', headers });
  assert.equal(response.statusCode, 200, response.body);
  return json(response);
};
const codes = (result: Record<string, any>) => result.problems.map((p: { code: string }) => p.code);

function serve(body: string) {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  return new Promise<{ url: string; close: () => Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/witness/checkpoint.json`,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

/** `vytis audit verify` as the CLI runs it in-process: a thrown error becomes its message and exit 1. */
async function verifyCommand(node: TestNode, command: AdminCommand) {
  try {
    return await runCommand(node.services, command);
  } catch (error) {
    return { exitCode: 1, stdout: '', stderr: describeError(error) };
  }
}

function runCli(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, vytisCommand(args), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('an audit log that cannot be cut quietly', () => {
  const nodes: TestNode[] = [];
  const storages: DurableStorage[] = [];
  after(async () => {
    for (const node of nodes) await node.close().catch(() => {});
    for (const storage of storages) await storage.destroy();
  });
  async function newNode(options: Parameters<typeof startTestNode>[0] = {}) {
    const node = await startTestNode(options);
    nodes.push(node);
    const auditor = await node.user('eu.auditor', 'EU', ['auditor']);
    return { node, auditor: auditor.headers };
  }

  it('appends every checkpoint it signs to VYTIS_DATA_DIR/audit-checkpoints.jsonl, one signed line each', async () => {
    const { node, auditor } = await newNode();
    await appendEvents(node, 5, 'a');
    await checkpointNow(node, auditor);
    await appendEvents(node, 5, 'b');
    await checkpointNow(node, auditor);
    const quiet = await node.services.audit.checkpoint();
    assert.equal(quiet.created, false, 'an unchanged chain is not signed again');

    const lines = fileLines(checkpointFile(node));
    const rows = await node.database.db.selectFrom('audit_checkpoints').selectAll().orderBy('id').execute();
    assert.equal(lines.length, 2);
    assert.deepEqual(
      lines.map((line) => JSON.parse(line).signature),
      rows.map((row) => row.signature),
    );
    assert.equal((await node.services.audit.verify()).externalCheckpoints, 2);

    // A crash in the middle of a write leaves a fragment: the next checkpoint is not glued to it,
    // and the fragment is reported rather than passed over.
    fs.appendFileSync(checkpointFile(node), '{"size":12,"he');
    await appendEvents(node, 1, 'c');
    await checkpointNow(node, auditor);
    const afterCrash = fileLines(checkpointFile(node));
    assert.equal(afterCrash.length, 4);
    assert.equal(JSON.parse(afterCrash[3]!).size, (await node.services.audit.verify()).events);
    const verified = await node.services.audit.verify();
    assert.deepEqual(
      verified.problems.map((p) => p.message),
      [`${checkpointFile(node)} line 3: not JSON`],
    );
  });

  it('catches the newest events deleted together with their checkpoint rows: the file names what is missing', async () => {
    const { node, auditor } = await newNode();
    await appendEvents(node, 10, 'a');
    const kept = await checkpointNow(node, auditor);
    await appendEvents(node, 10, 'b');
    const cut = await checkpointNow(node, auditor);
    const saved = path.join(node.dataDir, 'witness-copy.jsonl');
    fs.copyFileSync(checkpointFile(node), saved);

    await cutTail(node, kept.size);

    // What the database alone still says: a consistent chain, every remaining checkpoint holds.
    const keys = new Map([[node.services.key.keyId, node.services.key.publicKey]]);
    assert.equal((await verifyChain(node.database.db, { trustedKeys: keys })).ok, true);

    const first = kept.size + 1;
    const command = await verifyCommand(node, { name: 'audit.verify', checkpointSources: [saved] });
    assert.equal(command.exitCode, 1);
    assert.equal(command.stdout, `${first}\n`);
    assert.match(
      command.stderr,
      new RegExp(`audit chain broken at event ${first}: events ${first}\\.\\.${cut.size} are missing`),
    );
    assert.match(command.stderr, /witness-copy\.jsonl line 2/);
    assert.match(command.stderr, /no longer in the database .*their rows were deleted|its row was deleted/);

    // The node checks its own file on every verification, over HTTP too.
    const result = await verifyOverHttp(node, auditor);
    assert.equal(result.ok, false);
    assert.equal(result.firstBadSeq, first);
    assert.ok(codes(result).includes('events_missing'));
    assert.ok(codes(result).includes('checkpoints_deleted'));
  });

  it('catches every checkpoint deleted: by the external copy at once, and by their age without one', async () => {
    const { node, auditor } = await newNode({ checkpointSeconds: 300 });
    await appendEvents(node, 5, 'a');
    await checkpointNow(node, auditor);
    await appendEvents(node, 5, 'b');
    await checkpointNow(node, auditor);
    assert.equal((await verifyOverHttp(node, auditor)).ok, true);

    await sql`delete from audit_checkpoints`.execute(node.database.db);
    const withFile = await verifyOverHttp(node, auditor);
    assert.equal(withFile.ok, false);
    assert.deepEqual(codes(withFile), ['checkpoints_deleted']);
    assert.match(withFile.reason, /2 checkpoints are no longer in the database/);

    // Even with the file gone too, a chain with no checkpoint for two intervals is flagged.
    fs.rmSync(checkpointFile(node));
    node.clock.advance(4 * MINUTE);
    assert.equal((await verifyOverHttp(node, auditor)).ok, true, 'a young chain may not be signed yet');
    node.clock.advance(7 * MINUTE);
    const noCheckpoint = await verifyOverHttp(node, auditor);
    assert.equal(noCheckpoint.ok, false);
    assert.deepEqual(codes(noCheckpoint), ['checkpoints_stale']);
    assert.match(noCheckpoint.reason, /no checkpoint at all/);
  });

  it('flags a chain whose newest checkpoint is older than twice the checkpoint interval', async () => {
    const { node, auditor } = await newNode({ checkpointSeconds: 300 });
    await appendEvents(node, 3, 'a');
    await checkpointNow(node, auditor);
    node.clock.advance(9 * MINUTE);
    assert.equal((await verifyOverHttp(node, auditor)).ok, true, 'within two intervals');
    node.clock.advance(2 * MINUTE);
    const stale = await verifyOverHttp(node, auditor);
    assert.equal(stale.ok, false);
    assert.equal(stale.firstBadSeq, null);
    assert.deepEqual(codes(stale), ['checkpoints_stale']);
    assert.match(stale.reason, /older than twice the checkpoint interval \(600 s\)/);
    const command = await verifyCommand(node, { name: 'audit.verify' });
    assert.equal(command.exitCode, 1);
    assert.match(command.stderr, /^audit log does not verify: the newest checkpoint/);

    // A new checkpoint ends the staleness, but the 11 minutes without one stay on record.
    const renewed = await node.services.audit.checkpoint({ renewAfterMs: 150_000 });
    assert.equal(renewed.created, true);
    assert.equal((await node.services.audit.checkpoint({ renewAfterMs: 150_000 })).created, false);
    const afterGap = await verifyOverHttp(node, auditor);
    assert.deepEqual(codes(afterGap), ['checkpoints_gap']);
    assert.match(
      afterGap.reason,
      /no checkpoint between the checkpoint of (\d+) events, signed 2026-11-23T12:00:00.000Z and the checkpoint of \1 events, signed 2026-11-23T12:11:00.000Z/,
    );

    // The node's timer renews the checkpoint of a quiet chain, so a healthy node never looks stale.
    const { node: healthy, auditor: healthyAuditor } = await newNode({ checkpointSeconds: 300 });
    await appendEvents(healthy, 3, 'a');
    for (let tick = 0; tick < 6; tick++) {
      await healthy.services.audit.checkpoint({ renewAfterMs: 150_000 });
      healthy.clock.advance(5 * MINUTE);
    }
    assert.equal((await verifyOverHttp(healthy, healthyAuditor)).ok, true);
  });

  it('publishes the latest signed checkpoint without an account, verifiable with the node key alone', async () => {
    const { node, auditor } = await newNode();
    const before = await node.request({ method: 'GET', url: '/api/v1/audit/checkpoints/latest' });
    assert.equal(before.statusCode, 404);
    assert.match(json(before).error.message, /has not signed a checkpoint yet/);

    await appendEvents(node, 4, 'a');
    const signed = await checkpointNow(node, auditor);
    const response = await node.request({ method: 'GET', url: '/api/v1/audit/checkpoints/latest' });
    assert.equal(response.statusCode, 200, response.body);
    const checkpoint = json(response);
    assert.equal(checkpoint.size, signed.size);
    assert.equal(JSON.parse(fileLines(checkpointFile(node)).at(-1)!).signature, checkpoint.signature);

    // A witness pins the key from /node/keys and checks the documented payload with any Ed25519 library.
    const [pinned] = json(await node.request({ method: 'GET', url: '/api/v1/node/keys' })).keys;
    assert.equal(checkpoint.keyId, pinned.kid);
    assert.equal(checkpoint.publicKey.x, pinned.x);
    const publicKey = crypto.createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: pinned.x },
      format: 'jwk',
    });
    // Since the Merkle tree, the payload names the tree head too (RFC 8785 key order).
    assert.match(checkpoint.root, /^[0-9a-f]{64}$/);
    const payload = `{"head":"${checkpoint.head}","keyId":"${checkpoint.keyId}","root":"${checkpoint.root}","signedAt":"${checkpoint.signedAt}","size":${checkpoint.size}}`;
    assert.equal(
      crypto.verify(null, Buffer.from(payload), publicKey, Buffer.from(checkpoint.signature, 'base64url')),
      true,
    );
    const forged = payload.replace(`"size":${checkpoint.size}`, `"size":${checkpoint.size - 1}`);
    assert.equal(
      crypto.verify(null, Buffer.from(forged), publicKey, Buffer.from(checkpoint.signature, 'base64url')),
      false,
    );

    const api = json(await node.request({ method: 'GET', url: '/openapi.json' }));
    const documented = api.paths['/api/v1/audit/checkpoints/latest'].get;
    assert.deepEqual(documented['x-vytis-access'], { public: true });
    assert.ok(documented.responses['200'].content['application/json'].schema.properties.signature);
  });

  it('checks checkpoints fetched from a URL: the node’s public endpoint, or a witness that kept one', async () => {
    const { node, auditor } = await newNode();
    await appendEvents(node, 6, 'a');
    await checkpointNow(node, auditor);
    await node.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = node.app.server.address() as AddressInfo;
    const published = `http://127.0.0.1:${port}/api/v1/audit/checkpoints/latest`;
    const fine = await verifyCommand(node, { name: 'audit.verify', checkpointSources: [published] });
    assert.equal(fine.exitCode, 0, fine.stderr);

    // A witness kept that answer. Then the whole history is replaced by a longer forged one, the
    // checkpoint rows deleted, even the node's own file, and a new checkpoint is signed over the
    // forgery: the database and the node now agree with it.
    const kept = await (await fetch(published)).text();
    const witnessed = JSON.parse(kept).size as number;
    const witness = await serve(kept);
    try {
      await sql`delete from audit_events`.execute(node.database.db);
      await sql`delete from audit_checkpoints`.execute(node.database.db);
      await sql`update audit_head set seq = 0, hash = ${GENESIS_HASH}, prev_hash = ${GENESIS_HASH}`.execute(
        node.database.db,
      );
      fs.rmSync(checkpointFile(node));
      await appendEvents(node, witnessed + 5, 'forged');
      await checkpointNow(node, auditor);
      assert.equal(
        (await verifyOverHttp(node, auditor)).ok,
        true,
        'the database and the new file agree with the forgery',
      );

      const caught = await verifyCommand(node, {
        name: 'audit.verify',
        checkpointSources: [witness.url],
      });
      assert.equal(caught.exitCode, 1);
      assert.match(
        caught.stderr,
        /were rewritten: they no longer match the checkpoint in http:\/\/127\.0\.0\.1:\d+\/witness/,
      );
    } finally {
      await witness.close();
    }

    const unreachable = await verifyCommand(node, {
      name: 'audit.verify',
      checkpointSources: [`http://127.0.0.1:${port}/api/v1/no/such/checkpoints`],
    });
    assert.equal(unreachable.exitCode, 1);
    assert.match(
      unreachable.stderr,
      /cannot fetch checkpoints from http:\/\/127\.0\.0\.1:\d+\/api\/v1\/no\/such\/checkpoints: HTTP 404/,
    );
  });

  it('reports a tampered, foreign or unreadable line instead of trusting it', async () => {
    const { node, auditor } = await newNode();
    await appendEvents(node, 5, 'a');
    await checkpointNow(node, auditor);
    await appendEvents(node, 5, 'b');
    await checkpointNow(node, auditor);
    const [first, second] = fileLines(checkpointFile(node)).map((line) => JSON.parse(line));
    const stranger = crypto.generateKeyPairSync('ed25519');
    const lines = [
      JSON.stringify(first),
      // Moved back to hide a cut: the signature no longer covers what it says.
      JSON.stringify({ ...second, size: second.size - 3 }),
      JSON.stringify({
        ...second,
        keyId: 'someone-else',
        signature: crypto.sign(null, Buffer.from('x'), stranger.privateKey).toString('base64url'),
      }),
      'this is not json',
      JSON.stringify({ size: 'ten' }),
    ];
    const file = path.join(node.dataDir, 'tampered.jsonl');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);

    const result = await verifyCommand(node, { name: 'audit.verify', checkpointSources: [file] });
    assert.equal(result.exitCode, 1);
    assert.equal(result.stdout, '', 'no event is to blame: the chain itself holds');
    assert.match(
      result.stderr,
      /tampered\.jsonl line 2: invalid signature — this checkpoint was altered and is not trusted/,
    );
    assert.match(result.stderr, /tampered\.jsonl line 3: signed by unknown key someone-else/);
    assert.match(result.stderr, /tampered\.jsonl line 4: not JSON/);
    assert.match(result.stderr, /tampered\.jsonl line 5: not a checkpoint: missing or invalid size .*head/);
    assert.doesNotMatch(result.stderr, /missing:|rewritten/, 'the altered line is not taken at its word');

    const missing = await verifyCommand(node, {
      name: 'audit.verify',
      checkpointSources: [path.join(node.dataDir, 'nowhere.jsonl')],
    });
    assert.equal(missing.exitCode, 1);
    assert.match(missing.stderr, /cannot read checkpoint file .*nowhere\.jsonl: ENOENT/);
  });

  it('`vytis audit verify --checkpoints FILE` in its own process exits non-zero on a cut log', async () => {
    const storage = await createDurableStorage();
    storages.push(storage);
    const { node, auditor } = await newNode({ storage, now: new Date().toISOString() });
    await appendEvents(node, 8, 'a');
    const kept = await checkpointNow(node, auditor);
    await appendEvents(node, 8, 'b');
    await checkpointNow(node, auditor);
    const saved = path.join(storage.dataDir, 'offsite.jsonl');
    fs.copyFileSync(checkpointFile(node), saved);
    await cutTail(node, kept.size);
    await node.close();

    const env = {
      ...process.env,
      VYTIS_DATA_DIR: storage.dataDir,
      DATABASE_URL: storage.databaseUrl ?? '',
      LOG_LEVEL: 'silent',
    };
    fs.rmSync(checkpointFile(node)); // what is checked here is the copy named on the command line
    const cut = await runCli(['audit', 'verify', '--checkpoints', saved], env);
    assert.equal(cut.code, 1, cut.stderr);
    assert.equal(cut.stdout, `${kept.size + 1}\n`);
    assert.match(cut.stderr, /^vytis: audit chain broken at event \d+: events \d+\.\.\d+ are missing/);
  });
});
