// The reference the tests hold the solver to: every subset of a small roster, scored with the
// same lexicographic objective. Exponential — for rosters of up to about 16 candidates.
import { compareObjectives, evaluate, objectiveTuple, prepare, withinLimits } from './prepare.ts';
import type { TeamProblem } from './types.ts';

export interface BruteForceOptimum {
  /** shortfall, startHours, size, recentDeployments, largestParty */
  objective: readonly number[];
  /** Every optimal team, as candidate ids. */
  teams: string[][];
  /** Per optimal team: its unmet needs as "skill/minLevel:covered" keys, sorted. */
  unmet: string[][];
}

export function bruteForce(problem: TeamProblem): BruteForceOptimum {
  const prep = prepare(problem);
  const n = prep.cands.length;
  if (n > 20) throw new Error('brute force: too many candidates');
  let best: readonly number[] | undefined;
  let teams: number[][] = [];
  for (let bits = 0; bits < 1 << n; bits++) {
    const team: number[] = [];
    for (let i = 0; i < n; i++) if (bits & (1 << i)) team.push(i);
    if (!withinLimits(prep, team)) continue;
    const tuple = objectiveTuple(evaluate(prep, team));
    const cmp = best === undefined ? -1 : compareObjectives(tuple, best);
    if (cmp < 0) {
      best = tuple;
      teams = [team];
    } else if (cmp === 0) teams.push(team);
  }
  return {
    objective: best!,
    teams: teams.map((t) => t.map((i) => prep.cands[i]!.id)),
    unmet: teams.map((t) => unmetKeys(problem, evaluate(prep, t).covered)),
  };
}

export function unmetKeys(problem: TeamProblem, covered: readonly number[]): string[] {
  return problem.needs
    .flatMap((need, j) => (covered[j]! < need.count ? [`${need.skill}/${need.minLevel}:${covered[j]}`] : []))
    .sort();
}
