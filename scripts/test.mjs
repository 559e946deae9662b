// `npm test`: the whole suite on node's test runner. It first migrates one template database for all
// test files: a PGlite dump on the embedded database; with DATABASE_URL set, a database on that
// server, which each file copies into its own (and which is dropped after the run). Extra arguments
// are passed to `node --test` (e.g. a file).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const roots = ['apps/server/src', 'packages/contracts/src', 'scripts', 'apps/web/test'];
const findTests = (dir) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
        .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    : [];

// The longest files start first, so none of them runs alone at the end of the run.
const LONGEST_FIRST = [/^apps\/web\/test\//, /\.e2e\.test\.ts$/, /\.cli\.test\.ts$/, /demo\.test\.ts$/];
const rank = (file) => {
  const at = LONGEST_FIRST.findIndex((pattern) => pattern.test(file));
  return at === -1 ? LONGEST_FIRST.length : at;
};
// VYTIS_TEST_BROWSER=0 leaves out the browser tests (CI runs them on the embedded database only).
const withBrowser = process.env.VYTIS_TEST_BROWSER !== '0';
const args = process.argv.slice(2);
const files = args.some((a) => a.endsWith('.ts'))
  ? []
  : roots
      .flatMap((d) => findTests(path.join(root, d)))
      .filter((file) => withBrowser || !file.startsWith('apps/web/test/'))
      .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
const env = { ...process.env };
// The tests run `vytis` and the node in child processes as users do: precompiled, when fresh.
const built = spawnSync(process.execPath, ['apps/server/scripts/build.mjs', '--if-stale'], {
  cwd: root,
  stdio: 'inherit',
});
if (built.status !== 0) process.exit(built.status ?? 1);
let tmp;
let pgTemplate;
if (!env.DATABASE_URL) {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-template-'));
  env.VYTIS_TEST_PGLITE_TEMPLATE = path.join(tmp, 'migrated.tar');
  env.VYTIS_TEST_PGLITE_TEMPLATE_DIR = path.join(tmp, 'migrated');
  const made = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/make-test-template.ts',
      env.VYTIS_TEST_PGLITE_TEMPLATE,
      env.VYTIS_TEST_PGLITE_TEMPLATE_DIR,
    ],
    { cwd: root, stdio: 'inherit' },
  );
  if (made.status !== 0) process.exit(made.status ?? 1);
} else {
  const made = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'scripts/make-test-template.ts', '--postgres', env.DATABASE_URL],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
  );
  if (made.status !== 0) process.exit(made.status ?? 1);
  pgTemplate = made.stdout.trim();
  env.VYTIS_TEST_PG_TEMPLATE = pgTemplate;
}
console.log(`vytis tests on ${env.DATABASE_URL ? 'PostgreSQL' : 'the embedded database (PGlite)'}`);
// A test that hangs fails after ten minutes, and a file whose tests are done exits even if something
// it opened still holds the event loop (scripts/test-exit.mjs): neither can hold the whole run until
// CI's limit.
const runTests = (testArgs, outcomesFile) =>
  spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      path.join(root, 'scripts', 'test-exit.mjs'),
      '--test',
      '--test-concurrency=2',
      '--test-timeout=600000',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      `--test-reporter=${path.join(root, 'scripts', 'crashed-files.mjs')}`,
      '--test-reporter-destination=stdout',
      ...testArgs,
    ],
    { cwd: root, env: { ...env, VYTIS_TEST_OUTCOMES: outcomesFile }, stdio: 'inherit' },
  );
const outcomesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-test-outcomes-'));
const outcomesOf = (file) => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return { crashed: [], otherFailures: 1, done: false };
  }
};
let run = runTests([...args, ...files], path.join(outcomesDir, 'run.json'));
// V8 now and then aborts a process that creates and frees many WebAssembly instances (PGlite's; see
// nodejs/node#64500). When that is the only thing that went wrong in a run that got to its end, the
// files it killed run once more, and that second run decides. A failing test is never run again.
const outcomes = outcomesOf(path.join(outcomesDir, 'run.json'));
if (
  run.signal === null &&
  run.status === 1 &&
  outcomes.done &&
  outcomes.crashed.length > 0 &&
  outcomes.otherFailures === 0
) {
  const again = outcomes.crashed.map((file) => path.relative(root, file));
  console.log(
    `\nvytis tests: V8 aborted the process of ${again.join(', ')} (a crash of its own, not a failing test): running ${again.length === 1 ? 'it' : 'them'} once more`,
  );
  run = runTests([...args.filter((a) => !a.endsWith('.ts')), ...again], path.join(outcomesDir, 'again.json'));
}
fs.rmSync(outcomesDir, { recursive: true, force: true });
if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
if (pgTemplate) {
  const pg = createRequire(path.join(root, 'apps', 'server', 'package.json'))('pg');
  const admin = new pg.Client({ connectionString: env.DATABASE_URL });
  await admin.connect();
  await admin.query(`drop database if exists "${pgTemplate}" with (force)`);
  await admin.end();
}
process.exit(run.status ?? 1);
