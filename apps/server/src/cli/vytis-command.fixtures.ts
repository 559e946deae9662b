import path from 'node:path';

/** The CLI as users run it (`npx vytis`). */
export const cliBin = path.resolve(import.meta.dirname, '..', '..', 'bin', 'vytis.js');

/**
 * The node arguments of a short `vytis` command spawned by a test. A command on the embedded
 * database runs for a second or two: too short for V8's optimising compiler to pay back compiling
 * PGlite's WebAssembly again in the background, so it keeps to the baseline compiler (about a
 * third less CPU per command, measured; the command does the same). `vytis start` is spawned
 * without it, as users run it.
 */
export const vytisCommand = (args: string[]) => ['--liftoff-only', cliBin, ...args];
