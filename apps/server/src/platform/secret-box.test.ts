import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { SecretBox } from './secret-box.ts';

describe('secrets sealed under the node key', () => {
  const nodeKey = crypto.generateKeyPairSync('ed25519').privateKey;
  const box = new SecretBox(nodeKey, 'totp-secret');
  const seed = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

  it('opens what it sealed, for the row it was sealed for, and shows nothing of it', () => {
    const sealed = box.seal(seed, 'user-1');
    assert.match(sealed, /^sealed:v1:[A-Za-z0-9_-]+$/);
    assert.ok(!sealed.includes(seed));
    assert.notEqual(box.seal(seed, 'user-1'), sealed, 'a fresh nonce each time');
    assert.equal(box.open(sealed, 'user-1'), seed);
    assert.equal(
      new SecretBox(nodeKey, 'totp-secret').open(sealed, 'user-1'),
      seed,
      'another process, same key',
    );
  });

  it('refuses a value moved to another row, sealed under another key or for another purpose, or altered', () => {
    const sealed = box.seal(seed, 'user-1');
    assert.throws(() => box.open(sealed, 'user-2'), /does not open with this node key/);
    const otherKey = crypto.generateKeyPairSync('ed25519').privateKey;
    assert.throws(() => new SecretBox(otherKey, 'totp-secret').open(sealed, 'user-1'), /does not open/);
    assert.throws(() => new SecretBox(nodeKey, 'another-purpose').open(sealed, 'user-1'), /does not open/);
    const flipped = sealed.slice(0, -2) + (sealed.at(-2) === 'A' ? 'B' : 'A') + sealed.at(-1);
    assert.throws(() => box.open(flipped, 'user-1'), /does not open/);
  });

  it('reads a value stored before sealing as it is', () => {
    assert.equal(box.open(seed, 'user-1'), seed);
    assert.equal(box.isSealed(seed), false);
  });
});
