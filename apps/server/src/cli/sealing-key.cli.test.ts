import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { secretBoxKeyFile } from '../platform/secret-box.ts';
import {
  enrolSecondFactor,
  type NodeProcess,
  type ProcessStorage,
  passwordStep,
  processStorage,
  startNode,
  vytis,
  withServices,
} from './node-process.fixtures.ts';

const PASSWORD = 'correct horse battery staple';

describe('a node whose key for sealed secrets is lost', () => {
  let storage: ProcessStorage;
  let node: NodeProcess | undefined;

  before(async () => {
    storage = await processStorage('sealing-key');
    await withServices(storage.env, async (services, cli) => {
      for (const name of ['lt.careful', 'lt.plain']) {
        await services.identity.createUser(cli, {
          name,
          party: 'LT',
          roles: ['analyst'],
          password: PASSWORD,
        });
      }
    });
    node = await startNode(storage.env);
    await enrolSecondFactor(node.base, 'lt.careful', PASSWORD);
    assert.equal((await passwordStep(node.base, 'lt.careful', PASSWORD)).status, 202, 'a code is asked for');
    assert.equal(await node.stop(), 0);
    node = undefined;
  });
  after(async () => {
    if (node && node.child.exitCode === null) await node.stop();
    await storage.destroy();
  });

  it('does not start, and says how to go on; commands that need no key still run, a backup does not', async () => {
    const notLost = await vytis(['key', 'new-sealing-key', '--yes'], storage.env);
    assert.equal(notLost.code, 1);
    assert.match(notLost.stderr, /holds the key .* it is not lost, and nothing was changed/);

    fs.rmSync(secretBoxKeyFile(storage.dataDir));
    const refused = await vytis(['start'], storage.env);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /secrets-aes256gcm\.key is missing.*copy the node's keys\/.*vytis key new-sealing-key/,
    );
    assert.equal(fs.existsSync(secretBoxKeyFile(storage.dataDir)), false, 'it made no key of its own');

    const look = await vytis(['user', 'end-sessions', 'lt.plain'], storage.env);
    assert.equal(look.code, 0, look.stderr);
    assert.equal(fs.existsSync(secretBoxKeyFile(storage.dataDir)), false, 'nor did a command');
    const backup = await vytis(['backup', path.join(storage.dataDir, '..', 'keyless.tar.gz')], storage.env);
    assert.equal(backup.code, 1);
    assert.match(backup.stderr, /cannot back up this node from here: .*secrets-aes256gcm\.key is missing/);
  });

  it('gets a new key only with --yes, losing every second factor, audited; then it starts and the users log in with the password', async () => {
    const unconfirmed = await vytis(['key', 'new-sealing-key'], storage.env);
    assert.equal(unconfirmed.code, 1);
    assert.match(unconfirmed.stderr, /removes every user's second factor.*--yes/);
    assert.equal(fs.existsSync(secretBoxKeyFile(storage.dataDir)), false);

    const replaced = await vytis(['key', 'new-sealing-key', '--yes'], storage.env);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.match(
      replaced.stdout,
      /^new key for sealed secrets in .*secrets-aes256gcm\.key; 1 second factor removed \(lt\.careful\): they enrol again\.\n/,
    );
    assert.equal((fs.statSync(secretBoxKeyFile(storage.dataDir)).mode & 0o777).toString(8), '600');

    node = await startNode(storage.env);
    assert.equal(
      (await passwordStep(node.base, 'lt.careful', PASSWORD)).status,
      200,
      'the password alone now',
    );
    assert.equal(await node.stop(), 0);
    node = undefined;
    const events = await withServices(storage.env, (services) =>
      services.audit.page({ action: 'node.sealing-key.replace' }, 'asc', 10),
    );
    assert.equal(events.items.length, 1);
    assert.deepEqual(events.items[0]!.summary, { secondFactorsRemoved: 1, users: ['lt.careful'] });
    const verified = await vytis(['audit', 'verify'], storage.env);
    assert.equal(verified.code, 0, verified.stderr);
  });
});
