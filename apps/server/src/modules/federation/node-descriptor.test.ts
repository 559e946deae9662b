import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../platform/canonical-json.ts';
import {
  keyFile,
  loadOrCreateNodeKey,
  type NodeKey,
  nodeKeyFromPrivatePem,
  sign,
} from '../../platform/keys.ts';
import {
  buildDescriptor,
  DescriptorRefused,
  loadKeyRotation,
  previousKeyFile,
  publicJwk,
  rotateNodeKey,
  rotationFile,
  signRotation,
  verifyDescriptor,
} from './node-descriptor.ts';

const newKey = (): NodeKey => {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  return nodeKeyFromPrivatePem(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
};
const at = new Date('2026-11-23T12:00:00Z');
const describeNode = (key: NodeKey, extra: Partial<Parameters<typeof buildDescriptor>[0]> = {}) =>
  buildDescriptor({
    party: 'EE',
    url: 'https://vytis.cert.ee',
    role: 'national',
    key,
    issuedAt: at,
    ...extra,
  });
/** Re-signs a descriptor changed by a test, so only the change is wrong. */
const resign = (key: NodeKey, descriptor: Record<string, unknown>) => {
  const { signature: _, ...rest } = descriptor;
  return { ...rest, signature: sign(key, canonicalJson(rest)) };
};
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof DescriptorRefused, String(error));
    return error.message;
  }
  assert.fail('the descriptor was accepted');
};

describe('node descriptor', () => {
  const key = newKey();

  it('is signed by the key it lists, whose kid is its RFC 7638 thumbprint', () => {
    const descriptor = describeNode(key);
    assert.deepEqual(Object.keys(descriptor).sort(), [
      'issuedAt',
      'keys',
      'party',
      'protocol',
      'role',
      'signature',
      'url',
    ]);
    assert.equal(descriptor.protocol, 'vytis-federation/1');
    assert.deepEqual(descriptor.keys, [
      { kty: 'OKP', crv: 'Ed25519', x: descriptor.keys[0]!.x, kid: key.keyId, use: 'sig' },
    ]);
    const verified = verifyDescriptor(JSON.stringify(descriptor), { pinnedKeyId: key.keyId });
    assert.equal(verified.party, 'EE');
    assert.equal(verified.url, 'https://vytis.cert.ee');
    assert.equal(verified.role, 'national');
    assert.equal(verified.keyId, key.keyId);
    assert.equal(verified.rotatedFrom, undefined);
    // Without a pin it verifies too (what `peer add` does before comparing the pin itself).
    assert.equal(verifyDescriptor(descriptor).keyId, key.keyId);
  });

  it('refuses bad JSON, a bad shape, an unknown protocol and a bad signature, saying which', () => {
    const good = describeNode(key) as unknown as Record<string, unknown>;
    assert.match(
      refusal(() => verifyDescriptor('{not json')),
      /not JSON/,
    );
    assert.match(
      refusal(() => verifyDescriptor('[]')),
      /not a JSON object/,
    );
    assert.match(
      refusal(() => verifyDescriptor({ ...good, extra: 1 })),
      /unknown field "extra"/,
    );
    assert.match(
      refusal(() => verifyDescriptor({ ...good, party: 'lt' })),
      /party code/,
    );
    assert.match(
      refusal(() => verifyDescriptor({ ...good, keys: [] })),
      /exactly one key/,
    );
    assert.match(
      refusal(() => verifyDescriptor(resign(key, { ...good, protocol: 'vytis-federation/2' }))),
      /protocol "vytis-federation\/2"; this node speaks vytis-federation\/1/,
    );
    assert.match(
      refusal(() => verifyDescriptor({ ...good, url: 'https://elsewhere.example' })),
      /signature does not verify/,
    );
    const other = newKey();
    assert.match(
      refusal(() => verifyDescriptor({ ...good, keys: [{ ...publicJwk(key.publicKey), kid: other.keyId }] })),
      /names kid .* but its thumbprint is/,
    );
    assert.match(
      refusal(() => verifyDescriptor({ ...good, keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] })),
      /not an Ed25519 key/,
    );
  });

  it('refuses a key other than the pinned one, naming both thumbprints', () => {
    const pinned = newKey();
    const message = refusal(() => verifyDescriptor(describeNode(key), { pinnedKeyId: pinned.keyId }));
    assert.ok(message.includes(key.keyId) && message.includes(pinned.keyId), message);
  });

  it('moves from the pinned key to a new one only on a rotation statement the pinned key signed', () => {
    const old = newKey();
    const next = newKey();
    const rotated = describeNode(next, { rotation: signRotation(old, next.keyId) });
    const verified = verifyDescriptor(rotated, { pinnedKeyId: old.keyId, pinnedKey: old.publicKey });
    assert.equal(verified.keyId, next.keyId);
    assert.equal(verified.rotatedFrom, old.keyId);
    // Pinned to the new key already: no rotation to follow.
    assert.equal(verifyDescriptor(rotated, { pinnedKeyId: next.keyId }).rotatedFrom, undefined);

    // Signed by another key, carrying the pinned key's JWK: refused.
    const forger = newKey();
    const forged = {
      previousKeyId: old.keyId,
      previousKey: publicJwk(old.publicKey),
      signature: signRotation(forger, next.keyId).signature,
    };
    assert.match(
      refusal(() => verifyDescriptor(describeNode(next, { rotation: forged }), { pinnedKeyId: old.keyId })),
      new RegExp(`not signed by the pinned key ${old.keyId}`),
    );
    // The forger's own key as the previous one: it is not the pinned key.
    assert.match(
      refusal(() =>
        verifyDescriptor(
          describeNode(next, { rotation: { ...signRotation(forger, next.keyId), previousKeyId: old.keyId } }),
          {
            pinnedKeyId: old.keyId,
          },
        ),
      ),
      /not signed by the pinned key/,
    );
    // A statement of the pinned key naming another new key does not carry over to this one.
    const elsewhere = describeNode(next, { rotation: signRotation(old, forger.keyId) });
    assert.match(
      refusal(() => verifyDescriptor(elsewhere, { pinnedKeyId: old.keyId })),
      /not signed by the pinned key/,
    );
    // A rotation from a key that is not the pinned one.
    assert.match(
      refusal(() => verifyDescriptor(rotated, { pinnedKeyId: forger.keyId })),
      /names .* as the previous key, not the pinned one/,
    );
  });

  it('`key rotate` keeps the old key and its statement beside the new one; the node serves it after restart', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-rotate-'));
    try {
      const before = loadOrCreateNodeKey(dataDir);
      assert.equal(loadKeyRotation(dataDir, before), null, 'never rotated: no statement');
      const outcome = rotateNodeKey(dataDir, at);
      assert.equal(outcome.previousKeyId, before.keyId);
      const after = loadOrCreateNodeKey(dataDir);
      assert.equal(after.keyId, outcome.keyId);
      assert.notEqual(after.keyId, before.keyId);
      assert.equal(
        nodeKeyFromPrivatePem(fs.readFileSync(previousKeyFile(dataDir), 'utf8')).keyId,
        before.keyId,
      );
      assert.equal((fs.statSync(keyFile(dataDir)).mode & 0o777).toString(8), '600');
      const rotation = loadKeyRotation(dataDir, after);
      assert.ok(rotation);
      const served = describeNode(after, { rotation });
      assert.equal(verifyDescriptor(served, { pinnedKeyId: before.keyId }).rotatedFrom, before.keyId);
      // A statement that names a key not in use (a rotation cut short) is not served.
      assert.equal(loadKeyRotation(dataDir, before), null);
      // A statement edited on disk is not served either.
      const stored = JSON.parse(fs.readFileSync(rotationFile(dataDir), 'utf8'));
      const flipped = `${stored.signature.startsWith('A') ? 'B' : 'A'}${stored.signature.slice(1)}`;
      fs.writeFileSync(rotationFile(dataDir), JSON.stringify({ ...stored, signature: flipped }));
      assert.equal(loadKeyRotation(dataDir, after), null);

      // Rotated again: the first key is kept under its id, the second is the previous one.
      const again = rotateNodeKey(dataDir, at);
      assert.equal(again.previousKeyId, after.keyId);
      assert.equal(
        nodeKeyFromPrivatePem(fs.readFileSync(previousKeyFile(dataDir), 'utf8')).keyId,
        after.keyId,
      );
      const retired = path.join(dataDir, 'keys', `node-ed25519.retired-${before.keyId}.pem`);
      assert.equal(nodeKeyFromPrivatePem(fs.readFileSync(retired, 'utf8')).keyId, before.keyId);
      assert.ok(loadKeyRotation(dataDir, loadOrCreateNodeKey(dataDir)));
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('`key rotate` without a key says to start the node first', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-rotate-'));
    try {
      assert.throws(() => rotateNodeKey(dataDir), /no key to rotate .* start it once first/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
