// Precompiles the server and the CLI with esbuild into apps/server/dist, so `npx vytis`, `npm start`
// and the tests' child processes start without tsx compiling every module. Run by `npm install`
// (postinstall) and, with --if-stale, by `npm start` (prestart) and `npm test`: then it builds only
// when the last build is missing or a file it was made from has changed.
//
// Our TypeScript (and @vytis/contracts, a workspace package of .ts files) is bundled into ESM;
// other packages stay external (see BUNDLED for the few exceptions) and load from node_modules.
// `import.meta.url`, `.dirname` and `.filename` are replaced in each source file by that file's
// own location, so data files, the web app's dist and the team solver's worker (which pool.ts
// bundles from its source at run time) are found where they are. Migrations are imported, not
// listed from a directory, so they are in the bundle.
//
// Atomic: each build goes to its own directory dist/<id>, and dist/current.json (renamed into
// place) points at it only once it is complete; a process running an older build keeps finding
// its chunks, as older builds are removed only 15 minutes after they were replaced.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { currentFile, distDir, freshBuild, serverDir } from './built.mjs';

const ENTRIES = { cli: 'src/cli/main.ts', main: 'src/main.ts' };
/** Besides the bundled sources, these decide what a build contains. */
const SETTINGS = [
  'scripts/build.mjs',
  'package.json',
  'tsconfig.json',
  '../../tsconfig.base.json',
  '../../packages/contracts/package.json',
];
// A process loads its chunks in its first seconds (all of them for a node), so this is ample.
const KEEP_REPLACED_MS = 15 * 60 * 1000;

if (process.argv.includes('--if-stale') && Object.keys(ENTRIES).every((e) => freshBuild(`${e}.js`))) {
  process.exit(0);
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('vytis: building the server needs esbuild: run npm install');
  process.exit(1);
}

// Packages are loaded from node_modules at run time, except our workspace package and a few pure
// ESM packages of hundreds of small files each that only our code imports (typebox alone is ~370
// modules: loading them one by one was most of the time `vytis --help` took). Bundle only a package
// nothing else in node_modules imports, or it would run twice, as two copies with two states.
const BUNDLED = /^(@vytis\/|(typebox|kysely|zod|jose)(\/|$))/;
const META = /\bimport\.meta\.(url|dirname|filename)\b/g;
const ourSources = {
  name: 'vytis-sources',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      BUNDLED.test(args.path) ? undefined : { path: args.path, external: true },
    );
    build.onLoad({ filter: /\.ts$/, namespace: 'file' }, async (args) => {
      const dir = path.dirname(args.path);
      const where = { url: pathToFileURL(args.path).href, dirname: dir, filename: args.path };
      const source = await fs.promises.readFile(args.path, 'utf8');
      const contents = source.replace(META, (_, what) => JSON.stringify(where[what]));
      if (/\bimport\.meta\b/.test(contents)) {
        return {
          errors: [
            {
              text: `${args.path} uses import.meta beyond url/dirname/filename, which the build cannot keep`,
            },
          ],
        };
      }
      return { contents, loader: 'ts', resolveDir: dir };
    });
  },
};

const id = `${Date.now()}-${process.pid}`;
const outdir = path.join(distDir, id);
// Sources changed from here on make this build stale (with a margin for coarse file clocks).
const startedAt = Date.now() - 100;
let result;
try {
  result = await esbuild.build({
    absWorkingDir: serverDir,
    entryPoints: Object.entries(ENTRIES).map(([out, entry]) => ({ in: entry, out })),
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false, // the maps point at the sources, which are right there
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
    plugins: [ourSources],
  });
} catch {
  fs.rmSync(outdir, { recursive: true, force: true });
  console.error(
    'vytis: the server build failed (see above); bin/vytis.js runs the sources through tsx meanwhile',
  );
  process.exit(1);
}

// What the build was made from: our files, and of each bundled package its package.json (which
// an install of another version replaces), not its hundreds of files: a start checks them all.
const packageOf = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/;
const inputs = [
  ...new Set([
    ...Object.keys(result.metafile.inputs).map((input) => {
      const file = path.relative(serverDir, path.resolve(serverDir, input));
      const inPackage = packageOf.exec(file);
      return inPackage ? path.join(inPackage[1], 'package.json') : file;
    }),
    ...SETTINGS,
  ]),
].filter((input) => fs.existsSync(path.resolve(serverDir, input)));
let replaced;
try {
  replaced = JSON.parse(fs.readFileSync(currentFile, 'utf8')).build;
} catch {}
const pointer = `${currentFile}.${id}.tmp`;
fs.writeFileSync(pointer, `${JSON.stringify({ build: id, serverDir, startedAt, inputs }, null, 1)}\n`);
fs.renameSync(pointer, currentFile);

// The replaced build is dated now: processes started from it may still load its chunks. Builds
// replaced longer ago than that, and leftovers of failed runs, go.
if (typeof replaced === 'string' && replaced !== id) {
  const now = new Date();
  try {
    fs.utimesSync(path.join(distDir, replaced), now, now);
  } catch {}
}
for (const entry of fs.readdirSync(distDir, { withFileTypes: true })) {
  const full = path.join(distDir, entry.name);
  if (entry.name === id || full === currentFile) continue;
  const stat = fs.statSync(full, { throwIfNoEntry: false });
  if (stat && Date.now() - stat.mtimeMs > KEEP_REPLACED_MS) fs.rmSync(full, { recursive: true, force: true });
}
