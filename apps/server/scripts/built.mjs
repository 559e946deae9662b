// Where the precompiled server is, and whether it may run: the build (apps/server/dist, made by
// scripts/build.mjs) is used only when it was made in this very directory and no file it was made
// from has changed since, so an edit never runs stale code: then bin/vytis.js falls back to tsx.
// Cheap on purpose (one small JSON read and a stat of each bundled file), as every CLI start pays it.
import fs from 'node:fs';
import path from 'node:path';

export const serverDir = path.resolve(import.meta.dirname, '..');
export const distDir = path.join(serverDir, 'dist');
/** The pointer to the current build, replaced atomically when a new one is complete. */
export const currentFile = path.join(distDir, 'current.json');

/**
 * The file of a fresh build's entry (`cli.js`, `main.js`), or undefined when there is no build,
 * it was made elsewhere (a moved or copied clone: it holds absolute paths), or a file it was made
 * from is newer than the start of that build, or is gone.
 */
export const freshBuild = (entry) => freshBuildIn(serverDir, entry);

/** freshBuild of the server in `dir` (its dist/current.json). */
export function freshBuildIn(dir, entry) {
  let current;
  try {
    current = JSON.parse(fs.readFileSync(path.join(dir, 'dist', 'current.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (current?.serverDir !== dir || !Array.isArray(current.inputs)) return undefined;
  for (const input of current.inputs) {
    const stat = fs.statSync(path.resolve(dir, input), { throwIfNoEntry: false });
    if (!stat || stat.mtimeMs >= current.startedAt) return undefined;
  }
  const file = path.join(dir, 'dist', String(current.build), entry);
  return fs.existsSync(file) ? file : undefined;
}
