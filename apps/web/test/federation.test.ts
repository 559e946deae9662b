import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { buildDescriptor } from '../../server/src/modules/federation/node-descriptor.ts';
import { type NodeKey, nodeKeyFromPrivatePem } from '../../server/src/platform/keys.ts';
import { startTestNode } from '../../server/src/test/harness.ts';
import { BrowserWorld, call, ensureBuilt, type Person, SCREENSHOTS, shot } from './browser.ts';

/** The browser world with its node federated as LT (BrowserWorld.start takes no node options). */
class FederatedWorld extends BrowserWorld {
  override async start() {
    ensureBuilt();
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    this.node = await startTestNode({
      now: new Date().toISOString(),
      loginAttemptsPerMinute: 10_000,
      federation: { party: 'LT', role: 'national', pullSeconds: 3600 },
    });
    await this.node.app.listen({ host: '127.0.0.1', port: 0 });
    const address = this.node.app.server.address() as AddressInfo;
    this.base = `http://127.0.0.1:${address.port}`;
    this.browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }
}

const newKey = (): NodeKey => {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  return nodeKeyFromPrivatePem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
};

/** A peer's node as `peer add` sees it: its signed descriptor at /federation/v1/node, on loopback. */
async function peerNode(party: string) {
  const key = newKey();
  const server = http.createServer((req, res) => {
    if (req.url !== '/federation/v1/node') {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(
        JSON.stringify(buildDescriptor({ party, url: base(), role: 'national', key, issuedAt: new Date() })),
      );
  });
  const base = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: base(), key, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('Federation page: this node, its peers with their lag and last error; add, remove', () => {
  const world = new FederatedWorld();
  let admin: Person;
  let coordinator: Person;
  let ee: Awaited<ReturnType<typeof peerNode>>;
  let fi: Awaited<ReturnType<typeof peerNode>>;

  before(async () => {
    await world.start();
    ee = await peerNode('EE');
    fi = await peerNode('FI');
    const people = await world.people([
      ['lt.admin', 'LT', ['admin']],
      ['lt.coord', 'LT', ['coordinator']],
    ]);
    admin = people['lt.admin']!;
    coordinator = people['lt.coord']!;
    // EE is added through the API and has been pulled: 3 changes behind, then an error.
    await call(world, admin.user, 'POST', '/federation/peers', {
      url: ee.base,
      party: 'EE',
      pin: ee.key.keyId,
    });
    const peers = world.node.services.federation.peers;
    await peers.recordPull('EE', { ok: true, cursor: 7, remoteHead: 10, applied: 7, refused: 0 });
    await peers.recordPull('EE', { ok: false, error: 'the peer answered HTTP 503' });
  });
  after(async () => {
    try {
      await world.stop();
    } finally {
      await ee?.close();
      await fi?.close();
    }
  });

  it('lists a peer added through the API with its lag and last error; an admin adds and removes one', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Federation' }).click();
    await page.getByRole('heading', { name: 'Federation', level: 1 }).waitFor();
    const node = page.getByTestId('federation-node');
    assert.equal(await node.getByTestId('federation-node-party').textContent(), 'LT');
    assert.equal(
      await node.getByTestId('federation-node-key').textContent(),
      world.node.services.federation.peers.node().keyId,
    );

    const row = page.locator('tr[data-peer="EE"]');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', new RegExp(ee.key.keyId));
    assert.match((await row.getByTestId('federation-peer-lag').textContent()) ?? '', /^3 change\(s\) behind/);
    assert.match(
      (await row.getByTestId('federation-peer-error').textContent()) ?? '',
      /^the peer answered HTTP 503/,
    );
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing with a peer listed');
    await shot(page, 'federation-peers');

    // A wrong pin is refused, naming both key ids.
    world.allow(/^POST \/api\/v1\/federation\/peers 400$/);
    await page.getByRole('textbox', { name: 'Node URL' }).fill(fi.base);
    await page.getByRole('textbox', { name: 'Party' }).fill('FI');
    await page.getByRole('textbox', { name: 'Pinned key id' }).fill(ee.key.keyId);
    await page.getByRole('button', { name: 'Add peer' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: `signs with the key ${fi.key.keyId}, not the pinned ${ee.key.keyId}` })
      .waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing with the refusal shown');

    await page.getByRole('textbox', { name: 'Pinned key id' }).fill(fi.key.keyId);
    await page.getByRole('button', { name: 'Add peer' }).click();
    await page.getByTestId('federation-peer-added').waitFor();
    const fiRow = page.locator('tr[data-peer="FI"]');
    await fiRow.waitFor();
    assert.equal(await fiRow.getByTestId('federation-peer-lag').textContent(), 'not pulled yet');

    await fiRow.getByRole('button', { name: 'Remove FI' }).click();
    const dialog = page.getByRole('dialog', { name: "Stop trusting FI's node?" });
    await dialog.waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the confirmation');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await fiRow.getByRole('button', { name: 'Remove FI' }).count(), 1, 'cancel keeps it');
    await fiRow.getByRole('button', { name: 'Remove FI' }).click();
    await dialog.getByRole('button', { name: 'Remove peer' }).click();
    await fiRow.getByText('removed', { exact: true }).waitFor();
    assert.equal(await fiRow.getByRole('button', { name: 'Remove FI' }).count(), 0);
    assert.equal(await world.node.services.federation.peers.peerByKeyId(fi.key.keyId), null);
    world.assertClean();
  });

  it('a coordinator sees the same page read-only', async () => {
    const { page } = coordinator;
    await page.getByRole('link', { name: 'Federation' }).click();
    const row = page.locator('tr[data-peer="EE"]');
    await row.waitFor();
    assert.match((await row.getByTestId('federation-peer-lag').textContent()) ?? '', /^3 change\(s\) behind/);
    assert.equal(await page.getByRole('button', { name: 'Add peer' }).count(), 0);
    assert.equal(await row.getByRole('button').count(), 0, 'no pull or remove');
    world.assertClean();
  });
});
