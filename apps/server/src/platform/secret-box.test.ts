import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openTestDatabase } from '../test/harness.ts';
import type { DatabaseHandle } from './db/database.ts';
import { copyNodeKeys } from './keys.ts';
import { openSecretBox, prepareNewKey, secretBoxKeyFile } from './secret-box.ts';

describe("the key sealing stored secrets is the node's, in every process", () => {
  let database: DatabaseHandle;
  let drop: () => Promise<void>;
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-secret-box-'));
    dirs.push(dir);
    return dir;
  };
  const now = new Date('2026-12-07T12:00:00Z');

  before(async () => {
    ({ database, drop } = await openTestDatabase());
  });
  after(async () => {
    await database.close();
    await drop();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the first process creates the key (0600); one given a copy of keys/ opens what the first sealed', async () => {
    const first = dataDir();
    const box = await openSecretBox(first, database.db, now);
    assert.equal((fs.statSync(secretBoxKeyFile(first)).mode & 0o777).toString(8), '600');
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'totp-seed:a');
    assert.doesNotMatch(sealed, /JBSWY3DPEHPK3PXP/);
    assert.equal(box.open(sealed, 'totp-seed:a'), 'JBSWY3DPEHPK3PXP');
    assert.equal(box.open(sealed, 'totp-seed:b'), null, 'bound to its context');
    assert.equal(box.open(`${sealed.slice(0, -2)}AA`, 'totp-seed:a'), null, 'and to its bytes');
    assert.equal(box.open('JBSWY3DPEHPK3PXP', 'totp-seed:a'), null, 'a value never sealed does not open');

    const second = dataDir();
    copyNodeKeys(first, second);
    const other = await openSecretBox(second, database.db, now);
    assert.equal(other.open(sealed, 'totp-seed:a'), 'JBSWY3DPEHPK3PXP');
    assert.equal(box.open(other.seal('seed', 'ctx'), 'ctx'), 'seed');
  });

  it("a command without the node's key creates and records none, and seals nothing", async () => {
    const fresh = await openTestDatabase();
    const elsewhere = dataDir();
    try {
      const box = await openSecretBox(elsewhere, fresh.database.db, now, 'ifPresent');
      assert.equal(box.fingerprint, null);
      assert.throws(() => box.seal('seed', 'ctx'), /does not have the node's key/);
      assert.equal(fs.existsSync(secretBoxKeyFile(elsewhere)), false);
      const recorded = await fresh.database.db.selectFrom('sealing_keys').selectAll().execute();
      assert.deepEqual(recorded, []);
    } finally {
      await fresh.database.close();
      await fresh.drop();
    }
  });

  it('a new key recorded by a replacement cut short before its file was put in place is put in place at the next start', async () => {
    const alone = await openTestDatabase();
    const dir = dataDir();
    try {
      const old = await openSecretBox(dir, alone.database.db, now);
      const replacement = prepareNewKey(dir, now);
      await replacement.recordNew(alone.database.db);
      // The process ends here: the database names the new key, the directory still holds the old.
      const box = await openSecretBox(dir, alone.database.db, now);
      assert.notEqual(box.fingerprint, old.fingerprint);
      assert.equal(fs.existsSync(`${secretBoxKeyFile(dir)}.new`), false);
      assert.equal(box.open(box.seal('seed', 'ctx'), 'ctx'), 'seed');
      assert.equal(old.open(box.seal('seed', 'ctx'), 'ctx'), null);
    } finally {
      await alone.database.close();
      await alone.drop();
    }
  });

  it('refuses a process without the key, and leaves no key of its own behind', async () => {
    const bare = dataDir();
    await assert.rejects(openSecretBox(bare, database.db, now), (error: Error) => {
      assert.match(
        error.message,
        /secrets-aes256gcm\.key is missing.*fingerprint [0-9a-f]{32}.*copy the node's keys\//,
      );
      return true;
    });
    assert.equal(fs.existsSync(secretBoxKeyFile(bare)), false);
  });

  it('refuses a process with another key, naming both fingerprints', async () => {
    const stranger = dataDir();
    const alone = await openTestDatabase();
    try {
      await openSecretBox(stranger, alone.database.db, now);
    } finally {
      await alone.database.close();
      await alone.drop();
    }
    await assert.rejects(openSecretBox(stranger, database.db, now), (error: Error) => {
      assert.match(
        error.message,
        /is not the key this node's secrets are sealed under \(fingerprint [0-9a-f]{32}, this one [0-9a-f]{32}\)/,
      );
      return true;
    });
    assert.ok(fs.existsSync(secretBoxKeyFile(stranger)), 'a key it did not make now is not deleted');
  });
});
