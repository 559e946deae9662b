import { solveTeamInWorker } from './solver/index.ts';
import type { TeamProblem, TeamSolution } from './solver/types.ts';

/** The node's solver: exact (HiGHS after pruning), and off the request thread in a worker pool. */
export function solveOffThread(problem: TeamProblem): Promise<TeamSolution> {
  return solveTeamInWorker(problem);
}
