import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildDescriptor } from '../modules/federation/node-descriptor.ts';
import { keyFile, type NodeKey, nodeKeyFromPrivatePem } from '../platform/keys.ts';
import { type ProcessStorage, processStorage, startNode, vytis } from './node-process.fixtures.ts';

// `vytis peer add|list|status|remove` and `vytis key rotate` as an operator types them: on a data
// directory with no node running (the CLI opens the database itself), then through a running node.

const newKey = (): NodeKey => {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  return nodeKeyFromPrivatePem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
};

/** EE's node as far as `peer add` sees it: its signed descriptor on loopback. */
async function eeDescriptor(key: NodeKey) {
  const server = http.createServer((req, res) => {
    if (req.url !== '/federation/v1/node') {
      res.writeHead(404).end();
      return;
    }
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(
        JSON.stringify(
          buildDescriptor({ party: 'EE', url: base, role: 'national', key, issuedAt: new Date() }),
        ),
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('vytis peer and vytis key rotate', () => {
  let storage: ProcessStorage;
  let env: NodeJS.ProcessEnv;
  let ee: Awaited<ReturnType<typeof eeDescriptor>>;
  const eeKey = newKey();

  before(async () => {
    storage = await processStorage('peer-cli');
    env = { ...storage.env, VYTIS_NODE_PARTY: 'LT', VYTIS_WEBHOOK_PRIVATE_NETWORKS: 'true' };
    ee = await eeDescriptor(eeKey);
  });
  after(async () => {
    await ee.close();
    await storage.destroy();
  });

  it('needs VYTIS_NODE_PARTY to add a peer', async () => {
    const run = await vytis(['peer', 'add', ee.base, '--party', 'EE', '--pin', eeKey.keyId], {
      ...env,
      VYTIS_NODE_PARTY: '',
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^vytis: this node is not federated: set VYTIS_NODE_PARTY/);
  });

  it('adds, lists, shows and removes a peer on the data directory; a wrong pin is one line, exit 1', async () => {
    const empty = await vytis(['peer', 'list'], env);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /^this node: LT, national, key [A-Za-z0-9_-]{43}\nno peers\n$/);

    const wrong = newKey().keyId;
    const refused = await vytis(['peer', 'add', ee.base, '--party', 'EE', '--pin', wrong], env);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr.split('\n').filter(Boolean).length, 1, refused.stderr);
    assert.ok(refused.stderr.includes(eeKey.keyId) && refused.stderr.includes(wrong), refused.stderr);

    const added = await vytis(['peer', 'add', ee.base, '--party', 'EE', '--pin', eeKey.keyId], env);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, new RegExp(`^trusting EE at ${ee.base} under key ${eeKey.keyId}`));

    const list = await vytis(['peer', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    const [, header, row] = list.stdout.split('\n');
    assert.match(header!, /^PARTY\s+URL\s+KEY ID\s+STATUS\s+LAG\s+LAST OK\s+LAST ERROR$/);
    assert.match(row!, new RegExp(`^EE\\s+${ee.base}\\s+${eeKey.keyId}\\s+active\\s+-\\s+-\\s+-$`));

    const status = await vytis(['peer', 'status', 'EE'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^party:\s+EE$/m);
    assert.match(status.stdout, /^cursor:\s+0$/m);
    assert.match(status.stdout, /^lag:\s+-$/m);
    const nobody = await vytis(['peer', 'status', 'FI'], env);
    assert.equal(nobody.code, 1);
    assert.equal(nobody.stderr, 'vytis: peer FI not found\n');

    const removed = await vytis(['peer', 'remove', 'EE'], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match((await vytis(['peer', 'list'], env)).stdout, /^EE\s.*\sremoved\s/m);
  });

  it('works through a running node, and `key rotate` keeps the old key for the next start', async () => {
    const node = await startNode(env);
    try {
      const readded = await vytis(['peer', 'add', ee.base, '--party', 'EE', '--pin', eeKey.keyId], env);
      assert.equal(readded.code, 0, readded.stderr);
      assert.match((await vytis(['peer', 'list'], env)).stdout, /^EE\s.*\sactive\s/m);

      const before = nodeKeyFromPrivatePem(fs.readFileSync(keyFile(storage.dataDir), 'utf8')).keyId;
      const rotated = await vytis(['key', 'rotate'], env);
      assert.equal(rotated.code, 0, rotated.stderr);
      const after = nodeKeyFromPrivatePem(fs.readFileSync(keyFile(storage.dataDir), 'utf8')).keyId;
      assert.notEqual(after, before);
      assert.match(rotated.stdout, new RegExp(`^new node key ${after}; the previous key ${before} is kept`));
      assert.match(rotated.stdout, /Restart the node/);
      // The running node still speaks with the key it started with.
      assert.match((await vytis(['peer', 'list'], env)).stdout, new RegExp(`key ${before}`));
    } finally {
      await node.stop();
    }
  });
});
