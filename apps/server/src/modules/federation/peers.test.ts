import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { KeyRotation, NodeDescriptor } from '@vytis/contracts';
import { type NodeKey, nodeKeyFromPrivatePem } from '../../platform/keys.ts';
import {
  createDurableStorage,
  type DurableStorage,
  json,
  startTestNode,
  type TestNode,
  type TestUser,
} from '../../test/harness.ts';
import { buildDescriptor, publicJwk, rotateNodeKey, signRotation } from './node-descriptor.ts';

// Peers between real nodes: LT adds EE's node, listening on loopback, and trusts it only under the
// key its operators pinned; EE re-keys and LT follows only on the old key's signed word.

const federated = (party: string) => ({
  federation: { party, role: 'national' as const, pullSeconds: 3600 },
});

async function listen(node: TestNode): Promise<string> {
  await node.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(node.app.server.address() as AddressInfo).port}`;
}

const newKey = (): NodeKey => {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  return nodeKeyFromPrivatePem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
};

/** A node-like server whose descriptor the test writes: a forger at a peer's address. */
async function descriptorServer() {
  let body = '{}';
  const server = http.createServer((req, res) => {
    if (req.url !== '/federation/v1/node') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    serve(key: NodeKey, party: string, rotation?: KeyRotation) {
      body = JSON.stringify(
        buildDescriptor({ party, url: base, role: 'national', key, issuedAt: new Date(), rotation }),
      );
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('federation peers between real nodes', () => {
  let lt: TestNode;
  let ee: TestNode;
  let eeStorage: DurableStorage;
  let eeBase: string;
  let admin: TestUser;
  let coordinator: TestUser;
  let analyst: TestUser;

  before(async () => {
    lt = await startTestNode(federated('LT'));
    eeStorage = await createDurableStorage();
    ee = await startTestNode({ ...federated('EE'), storage: eeStorage });
    eeBase = await listen(ee);
    admin = await lt.user('lt.admin', 'LT', ['admin']);
    coordinator = await lt.user('lt.coord', 'LT', ['coordinator']);
    analyst = await lt.user('lt.analyst', 'LT', ['analyst']);
  });
  after(async () => {
    await lt.close();
    await ee.close();
    await eeStorage.destroy();
  });

  const addPeer = (body: Record<string, unknown>, user = admin) =>
    lt.request({ method: 'POST', url: '/api/v1/federation/peers', headers: user.headers, payload: body });
  const auditActions = async (node: TestNode, action: string) =>
    (
      await node.database.db
        .selectFrom('audit_events')
        .select('envelope')
        .where('envelope', 'like', `%"${action}"%`)
        .execute()
    ).map((r) => JSON.parse(r.envelope) as Record<string, any>);

  it('serves a signed descriptor at /federation/v1/node, and 404 on a node that is not federated', async () => {
    const res = await fetch(`${eeBase}/federation/v1/node`);
    assert.equal(res.status, 200);
    const descriptor = (await res.json()) as NodeDescriptor;
    assert.equal(descriptor.party, 'EE');
    assert.equal(descriptor.url, eeBase, 'without VYTIS_PUBLIC_URL: the URL it was reached at');
    assert.equal(descriptor.keys[0]!.kid, ee.services.federation.peers.node().keyId);
    assert.equal(descriptor.protocol, 'vytis-federation/1');

    const plain = await startTestNode();
    try {
      const refused = await plain.request({ method: 'GET', url: '/federation/v1/node' });
      assert.equal(refused.statusCode, 404);
      assert.equal(json(refused).error.message, 'this node is not federated: set VYTIS_NODE_PARTY');
      const admin2 = await plain.user('root', 'LT', ['admin']);
      const add = await plain.request({
        method: 'POST',
        url: '/api/v1/federation/peers',
        headers: admin2.headers,
        payload: { url: eeBase, party: 'EE', pin: ee.services.federation.peers.node().keyId },
      });
      assert.equal(add.statusCode, 409);
      assert.match(json(add).error.message, /this node is not federated: set VYTIS_NODE_PARTY/);
    } finally {
      await plain.close();
    }
  });

  it('refuses a wrong pin naming both thumbprints, a wrong party, an unknown party and its own', async () => {
    const eeKey = ee.services.federation.peers.node().keyId;
    const wrongPin = newKey().keyId;
    const pin = await addPeer({ url: eeBase, party: 'EE', pin: wrongPin });
    assert.equal(pin.statusCode, 400);
    const message = json(pin).error.message as string;
    assert.ok(message.includes(eeKey) && message.includes(wrongPin), message);
    assert.equal((await auditActions(lt, 'federation.peer.add_refused')).length, 1, 'the refusal is audited');

    const party = await addPeer({ url: eeBase, party: 'FI', pin: eeKey });
    assert.equal(party.statusCode, 400);
    assert.match(json(party).error.message, /speaks for EE, not FI/);

    const unknown = await addPeer({ url: eeBase, party: 'ZZ', pin: eeKey });
    assert.equal(unknown.statusCode, 400);
    assert.match(json(unknown).error.message, /no party ZZ is known/);

    const own = await addPeer({ url: eeBase, party: 'LT', pin: eeKey });
    assert.equal(own.statusCode, 400);
    assert.match(json(own).error.message, /LT is this node's own party/);

    const nobody = await addPeer({ url: 'http://127.0.0.1:9/', party: 'EE', pin: eeKey });
    assert.equal(nobody.statusCode, 400);
    assert.match(
      json(nobody).error.message,
      /cannot fetch the node descriptor at http:\/\/127\.0\.0\.1:9\/federation\/v1\/node/,
    );

    assert.deepEqual(await lt.services.federation.peers.activePeers(), [], 'nothing was added');
  });

  it('adds a peer with the right pin; admins and coordinators see it, others do not; only admins add', async () => {
    const eeKey = ee.services.federation.peers.node().keyId;
    assert.equal((await addPeer({ url: eeBase, party: 'EE', pin: eeKey }, coordinator)).statusCode, 403);
    const added = await addPeer({ url: `${eeBase}/`, party: 'EE', pin: eeKey });
    assert.equal(added.statusCode, 201, added.body);
    assert.deepEqual(
      { ...json(added), addedAt: undefined },
      {
        party: 'EE',
        url: eeBase,
        role: 'national',
        keyId: eeKey,
        status: 'active',
        addedAt: undefined,
        addedBy: 'lt.admin',
        removedAt: null,
        cursor: 0,
        remoteHead: null,
        lag: null,
        lastPullAt: null,
        lastOkAt: null,
        lastError: null,
        lastErrorAt: null,
        appliedTotal: 0,
        refusedTotal: 0,
      },
    );
    const [audited] = await auditActions(lt, 'federation.peer.add');
    assert.ok(audited, 'the add is audited');

    const list = await lt.request({
      method: 'GET',
      url: '/api/v1/federation/peers',
      headers: coordinator.headers,
    });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(json(list).node, {
      party: 'LT',
      role: 'national',
      url: null,
      keyId: lt.services.federation.peers.node().keyId,
    });
    assert.deepEqual(
      json(list).items.map((p: any) => [p.party, p.status]),
      [['EE', 'active']],
    );
    assert.equal(json(list).can.manage, false, 'a coordinator reads only');
    assert.equal(
      (await lt.request({ method: 'GET', url: '/api/v1/federation/peers', headers: analyst.headers }))
        .statusCode,
      403,
    );

    const trusted = await lt.services.federation.peers.peerByKeyId(eeKey);
    assert.equal(trusted?.party, 'EE');
    assert.equal(
      trusted!.publicKey.export({ format: 'jwk' }).x,
      ee.services.federation.peers.deps.key.publicKey.export({ format: 'jwk' }).x,
    );
    const [peer] = await lt.services.federation.peers.activePeers();
    assert.equal(peer?.url, eeBase);
    assert.equal(peer?.cursor, 0);

    // An active peer under another pin: remove it first.
    const other = await addPeer({ url: eeBase, party: 'EE', pin: newKey().keyId });
    assert.equal(other.statusCode, 400, 'the pin is checked against the descriptor first');
  });

  it('shows what pulls came to: cursor, remote head, lag, totals, last error', async () => {
    const peers = lt.services.federation.peers;
    await peers.recordPull('EE', { ok: true, cursor: 40, remoteHead: 52, applied: 40, refused: 2 });
    lt.clock.advance(60_000);
    await peers.recordPull('EE', { ok: false, error: 'the feed answered HTTP 503' });
    const status = await peers.status('EE');
    assert.equal(status.cursor, 40);
    assert.equal(status.remoteHead, 52);
    assert.equal(status.lag, 12);
    assert.equal(status.appliedTotal, 40);
    assert.equal(status.refusedTotal, 2);
    assert.equal(status.lastError, 'the feed answered HTTP 503');
    assert.ok(status.lastOkAt && status.lastErrorAt && status.lastPullAt);
    assert.equal(status.lastPullAt, status.lastErrorAt);
    await peers.recordPull('EE', { ok: true, cursor: 52, remoteHead: 52, applied: 12, refused: 0 });
    const caught = await peers.status('EE');
    assert.equal(caught.lag, 0);
    assert.equal(caught.appliedTotal, 52);
  });

  it('removes a peer: not pulled, its key no longer trusted; adding it again reactivates it', async () => {
    const eeKey = ee.services.federation.peers.node().keyId;
    const removed = await lt.request({
      method: 'DELETE',
      url: '/api/v1/federation/peers/EE',
      headers: admin.headers,
    });
    assert.equal(removed.statusCode, 200, removed.body);
    assert.equal(json(removed).status, 'removed');
    assert.deepEqual(await lt.services.federation.peers.activePeers(), []);
    assert.equal(await lt.services.federation.peers.peerByKeyId(eeKey), null);
    assert.equal((await auditActions(lt, 'federation.peer.remove')).length, 1);
    assert.equal(
      (await lt.request({ method: 'DELETE', url: '/api/v1/federation/peers/FI', headers: admin.headers }))
        .statusCode,
      404,
    );

    const again = await addPeer({ url: eeBase, party: 'EE', pin: eeKey });
    assert.equal(again.statusCode, 201, again.body);
    assert.equal(json(again).status, 'active');
    assert.equal(json(again).cursor, 52, 'what was applied from it stays applied');
    assert.equal((await lt.services.federation.peers.peerByKeyId(eeKey))?.party, 'EE');
  });

  it('follows a re-keyed peer only on the statement its pinned key signed', async () => {
    const peers = lt.services.federation.peers;
    const oldKey = ee.services.federation.peers.node().keyId;
    // EE re-keys (`vytis key rotate`) and restarts with the new key and the old key's statement.
    const rotated = rotateNodeKey(eeStorage.dataDir);
    assert.equal(rotated.previousKeyId, oldKey);
    const port = (ee.app.server.address() as AddressInfo).port;
    await ee.close();
    ee = await startTestNode({ ...federated('EE'), storage: eeStorage });
    assert.equal(ee.services.federation.peers.node().keyId, rotated.keyId);
    await ee.app.listen({ host: '127.0.0.1', port });

    const refreshed = await peers.refreshDescriptor('EE');
    assert.deepEqual(refreshed, { keyId: rotated.keyId, rotatedFrom: oldKey });
    assert.equal((await peers.status('EE')).keyId, rotated.keyId);
    assert.equal((await peers.peerByKeyId(rotated.keyId))?.party, 'EE');
    assert.equal(await peers.peerByKeyId(oldKey), null, 'the old key is no longer trusted');
    const [event] = await auditActions(lt, 'federation.peer.key_rotated');
    assert.ok(event, 'the rotation is audited');
    // Nothing new: a second refresh changes nothing.
    assert.deepEqual(await peers.refreshDescriptor('EE'), { keyId: rotated.keyId, rotatedFrom: null });
  });

  it('refuses a forged rotation (signed by another key) and audits it; the pinned key stays', async () => {
    const peers = lt.services.federation.peers;
    const forger = await descriptorServer();
    try {
      const fiKey = newKey();
      forger.serve(fiKey, 'FI');
      const added = await addPeer({ url: forger.base, party: 'FI', pin: fiKey.keyId });
      assert.equal(added.statusCode, 201, added.body);

      // Someone else at FI's address, with a statement that FI's key did not sign.
      const intruder = newKey();
      const other = newKey();
      forger.serve(intruder, 'FI', {
        previousKeyId: fiKey.keyId,
        previousKey: publicJwk(fiKey.publicKey),
        signature: signRotation(other, intruder.keyId).signature,
      });
      await assert.rejects(peers.refreshDescriptor('FI'), (error: Error) => {
        assert.match(error.message, new RegExp(`not signed by the pinned key ${fiKey.keyId}`));
        return true;
      });
      // A new key with no statement at all.
      forger.serve(intruder, 'FI');
      await assert.rejects(
        peers.refreshDescriptor('FI'),
        /carries no rotation statement signed by the pinned key/,
      );
      assert.equal((await peers.status('FI')).keyId, fiKey.keyId, 'still trusted under the pinned key only');
      assert.equal(await peers.peerByKeyId(intruder.keyId), null);
      const refused = await auditActions(lt, 'federation.peer.key_refused');
      assert.equal(refused.length, 2, 'each refusal is audited');

      // The genuine statement of FI's key is followed.
      forger.serve(intruder, 'FI', signRotation(fiKey, intruder.keyId));
      assert.equal((await peers.refreshDescriptor('FI')).rotatedFrom, fiKey.keyId);
    } finally {
      await forger.close();
    }
  });

  it('pulls a peer now through the admin API and answers its status', async () => {
    const pulled = await lt.request({
      method: 'POST',
      url: '/api/v1/federation/peers/EE/pull',
      headers: admin.headers,
    });
    assert.equal(pulled.statusCode, 200, pulled.body);
    assert.equal(json(pulled).party, 'EE');
    assert.ok(json(pulled).lastPullAt, 'the pull is recorded, whatever it came to');
    assert.equal(
      (
        await lt.request({
          method: 'POST',
          url: '/api/v1/federation/peers/EE/pull',
          headers: coordinator.headers,
        })
      ).statusCode,
      403,
    );
  });
});
