import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  createDurableStorage,
  type DurableStorage,
  json,
  onPostgres,
  startTestNode,
  type TestNode,
} from '../../test/harness.ts';

const api = '/api/v1';

/** PostgreSQL's ErrorResponse for a broken connection (SQLSTATE 08006). */
function connectionFailure() {
  const fields = Buffer.from('SERROR\0VERROR\0C08006\0Mconnection failure\0\0', 'latin1');
  const header = Buffer.alloc(5);
  header[0] = 0x45;
  header.writeUInt32BE(4 + fields.length, 1);
  return Buffer.concat([header, fields]);
}

/**
 * A loopback relay in front of the PostgreSQL server that can lose the acknowledgement of one
 * commit: the server has committed, the client hears only that the connection failed — what a
 * network failure or a restarted proxy does at the worst moment. (The connection itself is kept,
 * so the test observes the evidence service and not the pool's handling of a dead connection.)
 */
async function startRelay(target: URL) {
  let loseNextCommitOf: string | null = null;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    let sentMarkedStatement = false;
    let pending = Buffer.alloc(0);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (bytes) => {
      if (loseNextCommitOf && bytes.includes(loseNextCommitOf)) sentMarkedStatement = true;
      upstream.write(bytes);
    });
    upstream.on('data', (bytes) => {
      pending = Buffer.concat([pending, bytes]);
      // Server messages are a type byte and a length; relay whole ones, so a commit can be held back.
      while (pending.length >= 5 && pending.length >= 1 + pending.readUInt32BE(1)) {
        const size = 1 + pending.readUInt32BE(1);
        const message = pending.subarray(0, size);
        pending = pending.subarray(size);
        const isCommitDone = message[0] === 0x43 && message.subarray(5).toString('latin1') === 'COMMIT\0';
        if (isCommitDone && sentMarkedStatement) {
          // The server has committed; the client is told the connection failed instead.
          loseNextCommitOf = null;
          sentMarkedStatement = false;
          client.write(connectionFailure());
          continue;
        }
        client.write(message);
      }
    });
    client.on('error', cut);
    upstream.on('error', cut);
    client.on('close', cut);
    upstream.on('close', cut);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    /** The next commit of a transaction that sent `statement` is applied, but its answer never arrives. */
    loseCommitOf(statement: string) {
      loseNextCommitOf = statement;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('evidence whose recording commit was applied but not acknowledged', {
  skip: !onPostgres() && 'the embedded database runs in the process: no acknowledgement can be lost',
}, () => {
  let storage: DurableStorage;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let node: TestNode;

  before(async () => {
    storage = await createDurableStorage();
    relay = await startRelay(new URL(storage.databaseUrl!));
    node = await startTestNode({ storage: { ...storage, databaseUrl: relay.url } });
  });
  after(async () => {
    await node?.close();
    await relay?.close();
    await storage?.destroy();
  });

  it('keeps the content of an item that was committed, though the upload was told it failed', async () => {
    const lt = await node.user('lt.analyst', 'LT', ['analyst']);
    const created = await node.request({
      method: 'POST',
      url: `${api}/cases`,
      headers: lt.headers,
      payload: {
        title: 'Wiper at the port authority',
        description: 'Disk images of two hosts',
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'high',
        tlp: 'amber',
        pap: 'amber',
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const caseId = json(created).id;
    const bytes = crypto.randomBytes(3000);

    relay.loseCommitOf('insert into "evidence" (');
    const upload = await node.request({
      method: 'POST',
      url: `${api}/cases/${caseId}/evidence?filename=host1.img`,
      headers: { ...lt.headers, 'content-type': 'application/octet-stream' },
      payload: bytes,
    });
    assert.ok(
      upload.statusCode >= 500,
      `the uploader cannot know it worked: ${upload.statusCode} ${upload.body}`,
    );

    const items = json(
      await node.request({ method: 'GET', url: `${api}/cases/${caseId}/evidence`, headers: lt.headers }),
    ).items;
    assert.equal(items.length, 1, 'the commit was applied: the item stands');
    const down = await node.request({
      method: 'GET',
      url: `${api}/cases/${caseId}/evidence/${items[0].id}/content`,
      headers: lt.headers,
    });
    assert.equal(down.statusCode, 200, down.body);
    assert.deepEqual(down.rawPayload, bytes, 'and so does its content');
  });
});
