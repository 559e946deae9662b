// solveTeamInWorker: the solver off the request thread, in a small reused pool of worker threads.
//
// On Node 20 a Worker cannot load TypeScript through tsx, so at first use the worker entry
// (worker.ts and the solver it imports) is bundled by esbuild into one CommonJS script, kept in
// memory, and each worker runs it with `eval: true`. HiGHS stays outside the bundle: the bundle
// require()s its CommonJS build by absolute path, so HiGHS finds its .wasm next to itself and
// nothing depends on the process's working directory (resolved once, here, from this file).
// Idle workers are unref()'d: an idle pool never keeps the process alive.
//
// Fallback: only if the pool cannot be started at all (esbuild missing, the bundle failing, or a
// every worker dying before its script has run) problems are solved on the calling thread, with one process
// warning. A worker that dies while solving fails that one call and is replaced.
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { solveTeam } from './solve.ts';
import {
  type SolveOptions,
  SolverInputError,
  SolverTimeoutError,
  type TeamProblem,
  type TeamSolution,
} from './types.ts';
import type { SolverReply, SolverRequest } from './worker.ts';

const POOL_SIZE = Math.max(1, Math.min(2, os.availableParallelism() - 1));

interface Task {
  request: SolverRequest;
  resolve: (solution: TeamSolution) => void;
  reject: (err: Error) => void;
}
interface Slot {
  worker: Worker;
  /** The worker's script has run (it said so); before that, a death means it cannot start. */
  online: boolean;
  task?: Task;
}

let bundle: Promise<string> | undefined;
let slots: Slot[] = [];
const queue: Task[] = [];
let nextId = 1;
/** Set when the pool cannot start: solve on the calling thread from then on. */
let unavailable: Error | undefined;

async function bundleWorker(): Promise<string> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const highsPath = createRequire(import.meta.url).resolve('highs'); // its CommonJS build
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: [path.join(here, 'worker.ts')],
    absWorkingDir: here,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'highs-by-absolute-path',
        setup(b) {
          b.onResolve({ filter: /^highs$/ }, () => ({ path: highsPath, external: true }));
        },
      },
    ],
  });
  return out.outputFiles[0]!.text;
}

const reviveError = ({ name, message }: { name: string; message: string }) =>
  name === 'SolverTimeoutError'
    ? new SolverTimeoutError(message)
    : name === 'SolverInputError'
      ? new SolverInputError(message)
      : Object.assign(new Error(message), { name });

function startSlot(code: string): Slot {
  const worker = new Worker(code, { eval: true, execArgv: [] });
  const slot: Slot = { worker, online: false };
  worker.unref();
  worker.on('message', (reply: SolverReply) => {
    if ('ready' in reply) {
      slot.online = true;
      return;
    }
    const task = slot.task;
    if (!task || task.request.id !== reply.id) return;
    slot.task = undefined;
    worker.unref();
    if (reply.ok) task.resolve(reply.solution);
    else task.reject(reviveError(reply.error));
    dispatch();
  });
  const fail = (err: Error) => {
    if (!slots.includes(slot)) return;
    slots = slots.filter((s) => s !== slot);
    const task = slot.task;
    slot.task = undefined;
    if (!slot.online) {
      // It never came up: its task goes back to the queue and it is not replaced. When no worker
      // is left, the pool cannot start here: solve on the calling thread from now on.
      if (task) queue.unshift(task);
      if (slots.length === 0) {
        unavailable = err;
        process.emitWarning(`team solver workers cannot start (${err.message}); solving on the main thread`);
        for (const t of queue.splice(0)) solveHere(t);
        return;
      }
    } else {
      // It died while running: that call fails, a new worker takes its place.
      task?.reject(err);
      slots.push(startSlot(code));
    }
    dispatch();
  };
  worker.on('error', fail);
  worker.on('exit', (exitCode) => fail(new Error(`team solver worker exited with code ${exitCode}`)));
  return slot;
}

function solveHere(task: Task) {
  solveTeam(task.request.problem, task.request.options).then(task.resolve, task.reject);
}

function dispatch() {
  for (const slot of slots) {
    if (slot.task) continue;
    const task = queue.shift();
    if (!task) return;
    slot.task = task;
    slot.worker.ref();
    slot.worker.postMessage(task.request);
  }
}

async function ensurePool(): Promise<void> {
  if (unavailable || slots.length > 0) return;
  try {
    bundle ??= bundleWorker();
    const code = await bundle;
    if (!unavailable && slots.length === 0) for (let k = 0; k < POOL_SIZE; k++) slots.push(startSlot(code));
  } catch (err) {
    if (!unavailable) {
      unavailable = err instanceof Error ? err : new Error(String(err));
      process.emitWarning(
        `team solver workers cannot start (${unavailable.message}); solving on the main thread`,
      );
    }
  }
}

/** Starts the pool ahead of the first problem (bundling and HiGHS loading take a few hundred ms). */
export async function warmSolverPool(): Promise<void> {
  await ensurePool();
}

/** solveTeam in a pooled worker thread (see above); the same answer, off the calling thread. */
export async function solveTeamInWorker(
  problem: TeamProblem,
  options: SolveOptions = {},
): Promise<TeamSolution> {
  await ensurePool();
  return new Promise<TeamSolution>((resolve, reject) => {
    const task: Task = { request: { id: nextId++, problem, options }, resolve, reject };
    if (unavailable) solveHere(task);
    else {
      queue.push(task);
      dispatch();
    }
  });
}

/** Stops the workers (pending calls fail); the next call starts a new pool. */
export async function closeSolverPool(): Promise<void> {
  const closing = slots;
  slots = [];
  for (const task of queue.splice(0)) task.reject(new Error('team solver pool closed'));
  for (const slot of closing) {
    slot.task?.reject(new Error('team solver pool closed'));
    slot.task = undefined;
  }
  await Promise.all(closing.map((s) => s.worker.terminate()));
}
