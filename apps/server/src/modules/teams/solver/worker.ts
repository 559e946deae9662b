// The solver worker's entry (bundled by pool.ts): solves each problem it is sent, one at a time.
import { parentPort } from 'node:worker_threads';
import { getHighs } from './milp.ts';
import { solveTeam } from './solve.ts';
import type { SolveOptions, TeamProblem } from './types.ts';

export interface SolverRequest {
  id: number;
  problem: TeamProblem;
  options: SolveOptions;
}
export type SolverReply =
  | { ready: true }
  | { id: number; ok: true; solution: Awaited<ReturnType<typeof solveTeam>> }
  | { id: number; ok: false; error: { name: string; message: string } };

const port = parentPort;
if (port) {
  // Load HiGHS while the first problem is on its way.
  getHighs().catch(() => {});
  port.on('message', async ({ id, problem, options }: SolverRequest) => {
    let reply: SolverReply;
    try {
      const solution = await solveTeam(problem, options);
      solution.stats.thread = 'worker';
      reply = { id, ok: true, solution };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      reply = { id, ok: false, error: { name: e.name, message: e.message } };
    }
    port.postMessage(reply);
  });
  // This script ran to here: the worker is up (the pool counts a worker dying before this as one
  // that cannot start).
  port.postMessage({ ready: true } satisfies SolverReply);
}
