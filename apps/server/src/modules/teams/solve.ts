import type { TeamProblem, TeamSolution } from './solver/types.ts';

/** The node's solver: exact, and off the request thread. */
export async function solveOffThread(_problem: TeamProblem): Promise<TeamSolution> {
  throw new Error('solver not wired yet');
}
