import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type NodeProcess, type ProcessStorage, processStorage, startNode } from './node-process.fixtures.ts';

const root = path.resolve(import.meta.dirname, '..', '..', '..', '..');

/** The README's first-steps block: the shell lines a newcomer pastes after `npm start`. */
function firstSteps(): string {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const after = readme.slice(readme.indexOf('For a world to look at'));
  const block = /```sh\n([\s\S]*?)```/.exec(after);
  assert.ok(block, 'the README has the first-steps block');
  return block[1]!;
}

function bash(script: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the README's examples, pasted as they are", () => {
  let storage: ProcessStorage;
  let node: NodeProcess;
  before(async () => {
    storage = await processStorage('readme');
    node = await startNode(storage.env);
  });
  after(async () => {
    await node?.stop();
    await storage?.destroy();
  });

  it('load the demo, make a user who can log in, set TOKEN and call the API', async () => {
    // The README speaks of the default port; this node listens on a free one.
    const script = firstSteps().replaceAll('127.0.0.1:8080', `127.0.0.1:${storage.env.PORT}`);
    const run = await bash(script, storage.env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /loading the demo \(1\/5\): people for every role…/,
      'the demo shows its progress',
    );
    assert.match(run.stdout, /^demo world loaded: added /m);
    const parties = JSON.parse(run.stdout.slice(run.stdout.lastIndexOf('{"items"'))) as {
      items: { code: string }[];
    };
    assert.ok(
      parties.items.some((p) => p.code === 'LT'),
      'the curl with $TOKEN answers the parties',
    );
    const login = await fetch(`${node.base}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ana', password: 'a long enough password' }),
    });
    assert.equal(login.status, 200, 'the user made by the example logs in with its password');
  });
});
