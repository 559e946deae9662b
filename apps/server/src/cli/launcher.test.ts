import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

// How `npx vytis` starts (bin/vytis.js): precompiled when the build is fresh, else from the sources
// through tsx; either way a command loads only what it needs.
const serverDir = path.resolve(import.meta.dirname, '..', '..');
const cliBin = path.join(serverDir, 'bin', 'vytis.js');
const cliSource = path.join(serverDir, 'src', 'cli', 'main.ts');

// Reports every module the process loads, on stderr, one `loaded <url>` line each. Node 22.15+ has
// in-thread hooks (registerHooks); older lines only off-thread ones (register), whose writes a
// short-lived process on Node 24 can exit before flushing, so the in-thread form is used first.
const traceModules = `data:text/javascript,${encodeURIComponent(
  `import * as mod from 'node:module';
   const load = (url, context, next) => { process.stderr.write('loaded ' + url + '\\n'); return next(url, context); };
   if (mod.registerHooks) mod.registerHooks({ load });
   else mod.register('data:text/javascript,' + encodeURIComponent(
     'export async function load(url, context, next) { process.stderr.write("loaded " + url + "\\\\n"); return next(url, context); }'));`,
)}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  loaded: string[];
}

function run(nodeArgs: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', traceModules, ...nodeArgs], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      const lines = stderr.split('\n');
      resolve({
        code,
        stdout,
        stderr: lines.filter((l) => !l.startsWith('loaded ')).join('\n'),
        loaded: lines.filter((l) => l.startsWith('loaded ')).map((l) => l.slice('loaded '.length)),
      });
    });
  });
}

const SERVER_OR_DRIVER =
  /\/node_modules\/(fastify|@electric-sql\/pglite|pg|kysely)\/|\/src\/(node|app|main)\.ts$|\/src\/platform\/db\//;

describe('vytis, as it starts', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-launcher-'));
    env = { ...process.env, VYTIS_DATA_DIR: dataDir, DATABASE_URL: '' };
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  const commands: [string, string[], RegExp][] = [
    ['--help', ['--help'], /^Usage: vytis /],
    ['an argument error', ['user', 'add', 'alice'], /required option '--party <code>' not specified/],
    ['an offline pass verify', ['pass', 'verify', 'not.a.pass'], /this node has no key/],
  ];
  for (const [what, args, says] of commands) {
    it(`loads neither the server nor a database driver for ${what}`, async () => {
      const result = await run([cliBin, ...args], env);
      assert.match(result.stdout + result.stderr, says);
      assert.ok(result.loaded.length > 0, 'the modules are traced');
      assert.deepEqual(
        result.loaded.filter((url) => SERVER_OR_DRIVER.test(url)),
        [],
        'nothing of the server, the database or its drivers',
      );
    });
  }

  it('runs the build when it is fresh, and says the same as the sources do', async () => {
    const build = () =>
      spawnSync(process.execPath, [path.join(serverDir, 'scripts', 'build.mjs'), '--if-stale'], {
        stdio: 'inherit',
      }).status;
    for (const [, args] of commands) {
      // A source edited meanwhile (in a working copy, not CI) makes the build stale: build again.
      let precompiled: Run | undefined;
      for (let attempt = 0; attempt < 3 && !precompiled; attempt++) {
        assert.equal(build(), 0);
        const result = await run([cliBin, ...args], env);
        if (result.loaded.some((url) => /\/apps\/server\/dist\/[^/]+\/cli\.js$/.test(url)))
          precompiled = result;
      }
      assert.ok(precompiled, 'the CLI comes from the build');
      assert.ok(!precompiled.loaded.some((url) => url.endsWith('.ts')), 'no TypeScript is loaded');
      const fromSources = await run(['--import', 'tsx', cliSource, ...args], env);
      assert.deepEqual(
        { code: precompiled.code, stdout: precompiled.stdout, stderr: precompiled.stderr },
        { code: fromSources.code, stdout: fromSources.stdout, stderr: fromSources.stderr },
      );
    }
  });
});

describe('the build is used only while it is fresh', () => {
  type FreshBuildIn = (dir: string, entry: string) => string | undefined;
  let freshBuildIn: FreshBuildIn;
  let dir: string;
  let source: string;
  const startedAt = Date.now() - 60_000;
  const writeCurrent = (fields: object = {}) =>
    fs.writeFileSync(
      path.join(dir, 'dist', 'current.json'),
      JSON.stringify({ build: 'b1', serverDir: dir, startedAt, inputs: ['src/a.ts'], ...fields }),
    );
  const setSourceTime = (ms: number) => fs.utimesSync(source, new Date(ms), new Date(ms));

  before(async () => {
    const builtModule = path.join(serverDir, 'scripts', 'built.mjs');
    ({ freshBuildIn } = (await import(builtModule)) as { freshBuildIn: FreshBuildIn });
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-build-')));
    fs.mkdirSync(path.join(dir, 'src'));
    fs.mkdirSync(path.join(dir, 'dist', 'b1'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'dist', 'b1', 'cli.js'), '');
    source = path.join(dir, 'src', 'a.ts');
    fs.writeFileSync(source, '');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is used when no source changed since it was started', () => {
    writeCurrent();
    setSourceTime(startedAt - 1000);
    assert.equal(freshBuildIn(dir, 'cli.js'), path.join(dir, 'dist', 'b1', 'cli.js'));
  });

  it('is not used once a source changed, or is gone', () => {
    writeCurrent();
    setSourceTime(startedAt + 1);
    assert.equal(freshBuildIn(dir, 'cli.js'), undefined);
    setSourceTime(startedAt - 1000);
    writeCurrent({ inputs: ['src/a.ts', 'src/gone.ts'] });
    assert.equal(freshBuildIn(dir, 'cli.js'), undefined);
  });

  it('is not used when it was made in another directory, is incomplete or missing', () => {
    setSourceTime(startedAt - 1000);
    writeCurrent({ serverDir: path.join(dir, 'elsewhere') });
    assert.equal(freshBuildIn(dir, 'cli.js'), undefined, 'a moved clone');
    writeCurrent();
    assert.equal(freshBuildIn(dir, 'main.js'), undefined, 'an entry the build lacks');
    fs.writeFileSync(path.join(dir, 'dist', 'current.json'), '{"build":');
    assert.equal(freshBuildIn(dir, 'cli.js'), undefined, 'a torn pointer');
    fs.rmSync(path.join(dir, 'dist', 'current.json'));
    assert.equal(freshBuildIn(dir, 'cli.js'), undefined, 'no build');
  });
});
