// Builds the web app into apps/web/dist with Vite. Run by `npm install` (postinstall) and, with
// --if-stale, by `npm start` (prestart) and the browser tests: then it builds only when a source is
// newer than the last build, so a clean clone needs no extra step and a warm one waits for nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const web = path.resolve(import.meta.dirname, '..');
const built = path.join(web, 'dist', 'index.html');
const sources = [
  'src',
  'public',
  'index.html',
  'vite.config.ts',
  'package.json',
  '../../packages/contracts/src',
];

const newest = (p) => {
  const full = path.join(web, p);
  if (!fs.existsSync(full)) return 0;
  const stat = fs.statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs
    .readdirSync(full, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .reduce((m, e) => Math.max(m, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs), 0);
};

if (process.argv.includes('--if-stale') && fs.existsSync(built)) {
  const builtAt = fs.statSync(built).mtimeMs;
  if (Math.max(...sources.map(newest)) <= builtAt) process.exit(0);
}
// npm hoists vite to the root node_modules, or keeps it in the workspace's own.
const vite = [path.join(web, 'node_modules'), path.join(web, '../../node_modules')]
  .map((dir) => path.join(dir, 'vite', 'bin', 'vite.js'))
  .find((file) => fs.existsSync(file));
if (!vite) {
  console.error('vytis: the web app needs vite: run npm install');
  process.exit(1);
}
const run = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
  cwd: web,
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
