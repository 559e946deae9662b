import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { runCommand } from '../cli/commands.ts';
import { describeError } from '../cli/describe-error.ts';
import { inTransaction } from '../platform/db/transaction.ts';
import { sign } from '../platform/keys.ts';
import { json, startTestNode, type TestNode } from '../test/harness.ts';
import { checkpointPayload, GENESIS_HASH } from './audit.chain.ts';
import { MAX_SOURCE_BYTES, MAX_SOURCE_ENTRIES, readCheckpointSource } from './audit.checkpoint-source.ts';
import { CHECKS_PER_TURN, SignatureChecks } from './audit.signature-checks.ts';
import { verifyChain } from './audit.verifier.ts';

// An attacker with SQL access but neither the node's files nor its key: blocking checkpoints for a
// while, then cutting what was written meanwhile, must show; so must deleting the node's own
// file. A node that was merely stopped cleanly must not look attacked. And no checkpoint source,
// however slow, long or repetitive, may hold the node.

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
const codes = (result: { problems: { code: string }[] }) => result.problems.map((p) => p.code);
/** What the node's timer does every interval; a failed tick is logged, and the timer goes on. */
const tick = (node: TestNode) => node.services.audit.checkpoint({ renewAfterMs: 150_000 }).catch(() => null);

describe('checkpoints that keep coming, and sources that cannot hold the node', () => {
  const nodes: TestNode[] = [];
  after(async () => {
    for (const node of nodes) await node.close().catch(() => {});
  });
  async function newNode(checkpointSeconds: number | null = 300) {
    const node = await startTestNode({ checkpointSeconds });
    nodes.push(node);
    const auditor = await node.user('eu.auditor', 'EU', ['auditor']);
    const verify = async () => {
      const response = await node.request({
        method: 'GET',
        url: '/api/v1/audit/verify',
        headers: auditor.headers,
      });
      assert.equal(response.statusCode, 200, response.body);
      return json(response) as {
        ok: boolean;
        reason: string | null;
        problems: { code: string; message: string }[];
      };
    };
    return { node, verify };
  }

  it('writes a checkpoint to the file even when the database refuses its row, so a cut made meanwhile shows', async () => {
    const { node, verify } = await newNode();
    await appendEvents(node, 5, 'before');
    await tick(node);
    const kept = (await node.database.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow())
      .seq;

    // Every checkpoint row now fails; half an hour of events is written, then cut, and the
    // checkpoints are let through again.
    await sql`alter table audit_checkpoints add constraint refuse_all check (false) not valid`.execute(
      node.database.db,
    );
    for (let i = 0; i < 6; i++) {
      await appendEvents(node, 3, `hidden-${i}`);
      node.clock.advance(5 * MINUTE);
      assert.equal(await tick(node), null, 'the row is refused');
    }
    await cutTail(node, kept);
    await sql`alter table audit_checkpoints drop constraint refuse_all`.execute(node.database.db);
    await tick(node);
    await appendEvents(node, 2, 'after');
    node.clock.advance(5 * MINUTE);
    await tick(node);

    const result = await verify();
    assert.equal(result.ok, false);
    assert.ok(codes(result).includes('events_missing'), result.reason ?? '');
    // The file kept what the database was made to refuse: the last of it vouched for 18 more events.
    assert.match(result.reason!, new RegExp(`events \\d+\\.\\.${kept + 18} are missing`));
  });

  it('flags a stretch without checkpoints even when none was refused, but not a clean stop', async () => {
    const { node, verify } = await newNode();
    await appendEvents(node, 4, 'a');
    await tick(node);
    node.clock.advance(5 * MINUTE);
    await tick(node);

    // The node was prevented from signing for half an hour (no row, no line), then signs again.
    node.clock.advance(30 * MINUTE);
    await tick(node);
    const gap = await verify();
    assert.deepEqual(codes(gap), ['checkpoints_gap']);
    assert.match(
      gap.reason!,
      /no checkpoint between .* longer than twice the checkpoint interval \(600 s\), and no clean stop in between/,
    );
  });

  it('accepts a node stopped cleanly for hours: while it is down, and after it starts again', async () => {
    const { node, verify } = await newNode();
    await node.services.audit.markLifecycle('start');
    await appendEvents(node, 4, 'a');
    await tick(node);
    node.clock.advance(5 * MINUTE);
    await tick(node);
    // What main.ts does on SIGTERM.
    await node.services.audit.checkpoint();
    await node.services.audit.markLifecycle('stop');

    node.clock.advance(180 * MINUTE);
    const whileDown = await verify();
    assert.equal(whileDown.ok, true, whileDown.reason ?? '');

    await node.services.audit.markLifecycle('start');
    await tick(node);
    await appendEvents(node, 2, 'b');
    node.clock.advance(5 * MINUTE);
    await tick(node);
    const afterRestart = await verify();
    assert.equal(afterRestart.ok, true, afterRestart.reason ?? '');

    // A stop line cannot be made from a checkpoint line: the signature covers the event.
    const lines = fs.readFileSync(checkpointFile(node), 'utf8').trim().split('\n');
    const plain = JSON.parse(lines.at(-1)!);
    fs.appendFileSync(checkpointFile(node), `${JSON.stringify({ event: 'stop', ...plain })}\n`);
    node.clock.advance(180 * MINUTE);
    const forged = await verify();
    assert.ok(codes(forged).includes('external_bad_signature'));
    assert.ok(
      codes(forged).includes('checkpoints_stale'),
      'the forged stop line does not excuse the silence',
    );
  });

  it('reports a crash followed by a long stop: no stop line opened the gap', async () => {
    const { node, verify } = await newNode();
    await node.services.audit.markLifecycle('start');
    await appendEvents(node, 2, 'a');
    await tick(node);
    node.clock.advance(90 * MINUTE);
    await node.services.audit.markLifecycle('start');
    await tick(node);
    const result = await verify();
    assert.deepEqual(codes(result), ['checkpoints_gap']);
    assert.match(result.reason!, /and the start line of \d+ events.*or the node crashed and stayed down/);
  });

  it('flags the node’s own checkpoint file gone while its embedded database holds checkpoints it signed', async () => {
    const { node, verify } = await newNode(null);
    await appendEvents(node, 3, 'a');
    await node.services.audit.checkpoint({ force: true });
    assert.equal((await verify()).ok, true);

    fs.rmSync(checkpointFile(node));
    const result = await verify();
    if (node.database.kind === 'postgres') {
      // Processes of one node share its key, each with its own file: one without a file yet is normal.
      assert.equal(result.ok, true, result.reason ?? '');
      return;
    }
    assert.equal(result.ok, false);
    assert.deepEqual(codes(result), ['checkpoint_file_missing']);
    assert.match(
      result.reason!,
      /the checkpoint file .*audit-checkpoints\.jsonl is missing, though the database holds checkpoints this node signed/,
    );

    // Acknowledged: the next checkpoint starts a new file.
    await node.services.audit.checkpoint({ force: true });
    assert.equal((await verify()).ok, true);
  });

  it('checks each checkpoint’s signature once, giving other work a turn between batches', async () => {
    const { node } = await newNode(null);
    await appendEvents(node, 3, 'a');
    await node.services.audit.checkpoint({ force: true });
    node.clock.advance(MINUTE);
    await node.services.audit.checkpoint({ force: true });
    const file = checkpointFile(node);
    const lines = fs.readFileSync(file, 'utf8');
    // The same two checkpoints (already in the database) a thousand times over.
    fs.writeFileSync(file, lines.repeat(1000));
    const keys = new Map([[node.services.key.keyId, node.services.key.publicKey]]);
    const { readOwnCheckpointFile } = await import('./audit.checkpoint-source.ts');
    const repeated = await readOwnCheckpointFile(file);
    const once = new SignatureChecks();
    const result = await verifyChain(node.database.db, {
      trustedKeys: keys,
      external: repeated.entries,
      signatures: once,
    });
    assert.equal(result.ok, true);
    assert.equal(result.externalCheckpoints, 2000);
    assert.equal(once.checked, 2, 'two distinct checkpoints, each checked once');

    // Distinct checkpoints are all checked, in batches with a turn for others after each.
    const distinct = Array.from({ length: 10 * CHECKS_PER_TURN }, (_, i) => {
      const signedAt = new Date(Date.UTC(2026, 10, 1, 0, 0, i));
      const signature = sign(
        node.services.key,
        checkpointPayload(0, GENESIS_HASH, signedAt, node.services.key.keyId),
      );
      return {
        where: `line ${i + 1}`,
        checkpoint: { size: 0, head: GENESIS_HASH, signedAt, keyId: node.services.key.keyId, signature },
      };
    });
    const batched = new SignatureChecks();
    const otherWork: number[] = [];
    const verifying = verifyChain(node.database.db, {
      trustedKeys: keys,
      external: distinct,
      signatures: batched,
    });
    let done = false;
    void verifying.finally(() => (done = true));
    // Something else the node has to do meanwhile: it gets turns while signatures are checked.
    while (!done) {
      await new Promise((resolve) => setImmediate(resolve));
      if (batched.checked > 0 && batched.checked < distinct.length + 2) otherWork.push(batched.checked);
    }
    await verifying;
    assert.equal(batched.checked, distinct.length + 2);
    assert.ok(batched.yielded >= 10, `yielded ${batched.yielded} times`);
    assert.ok(new Set(otherWork).size >= 10, 'other work ran between batches of checks');
  });

  it('refuses a checkpoint list longer than one verification checks, with what to do instead', async () => {
    const { node, verify } = await newNode(null);
    const long = path.join(node.dataDir, 'long.jsonl');
    fs.writeFileSync(long, '{}\n'.repeat(MAX_SOURCE_ENTRIES + 1));
    let failure: unknown;
    try {
      await runCommand(node.services, { name: 'audit.verify', checkpointSources: [long] });
    } catch (error) {
      failure = error;
    }
    assert.match(
      describeError(failure),
      new RegExp(`long\\.jsonl holds more than ${MAX_SOURCE_ENTRIES} checkpoints.*tail -n`),
    );

    // The node's own file that long is reported as unreadable, not a 500 nor minutes of work.
    fs.copyFileSync(long, checkpointFile(node));
    const own = await verify();
    assert.deepEqual(codes(own), ['external_unreadable']);
    assert.match(own.reason!, /holds more than \d+ checkpoints/);
  });

  it('stops reading a URL that trickles its answer, or sends more than a checkpoint list holds', async () => {
    let trickles: NodeJS.Timeout | undefined;
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url === '/slow') {
        trickles = setInterval(() => res.write(' '), 20);
        res.on('close', () => clearInterval(trickles));
        return;
      }
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const more = () => {
        while (sent <= MAX_SOURCE_BYTES) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => {});
      more();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await assert.rejects(readCheckpointSource(`${base}/slow`, { timeoutMs: 300 }), (error: Error) => {
        assert.equal(
          error.message,
          `cannot fetch checkpoints from ${base}/slow: no complete answer within 0.3 s`,
        );
        return true;
      });
      await assert.rejects(readCheckpointSource(`${base}/huge`), /are larger than 67108864 bytes/);
    } finally {
      clearInterval(trickles);
      server.closeAllConnections();
      server.close();
    }
  });
});
