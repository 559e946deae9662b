// solveTeam: the exact, explained optimal team.
//
// THE OBJECTIVE, lexicographic: (0) the shortfall — need units left uncovered plus members missing
// below minSize — which is 0 exactly when a full team exists (the partial team of an infeasible
// problem maximises covered need units); (1) the team's start T = the largest startHours of its
// members; (2) its size; (3) its members' recent deployments (fairness); (4) the largest number of
// members from one party (national balance). Hard limits: size ≤ maxSize, per party ≤
// min(maxPerParty, partyCaps[party]), excluded ids never; the needs and minSize are hard too once a
// full team exists (shortfall 0).
//
// EXACTNESS: sequential solves of the one MILP (milp.ts), each with the earlier objectives fixed:
//   "shortfall": minimise the shortfall U*;
//   "start":     with shortfall ≤ U*, minimise the rank of T among the distinct start values (ranks
//                order like the hours themselves, so fractional hours are exact) → T*;
//   "rest":      with shortfall ≤ U* and only candidates starting by T* (which fixes T = T*: a team
//                of them starting earlier would have beaten T* in the previous stage), minimise
//                size, deployments, largest party with mixed-radix integer weights that provably
//                dominate (W_F = maxSize + 1 > L, W_S = (F_max + 1)·W_F > W_F·F + L).
// Every stage's objective is an integer, so HiGHS with mip_rel_gap = 0 (absolute gap 1e-6 < 1)
// returns a true optimum of the stage; the stages together give the lexicographic optimum.
//
// PRUNING (prune: true, the default), each step proved in prune.ts:
//   - a greedy full team gives U* = 0 without a MILP and an upper bound T0 on T*; the lower bound
//     T_LB (capped k-th fastest per need) lets starts be clamped to ≥ T_LB; T_LB = T0 gives T*
//     without a MILP;
//   - each stage keeps only candidates with fewer than c_p dominators on that stage's one key.
// With prune: false every stage gets every usable candidate (the benchmark's baseline).
import { explainExcluded, explainMembers, explainUnmet } from './explain.ts';
import { getHighs, type Stage, solveStage } from './milp.ts';
import { evaluate, prepare, withinLimits } from './prepare.ts';
import { byStart, dominancePrune, greedyFullTeam, startLowerBound } from './prune.ts';
import type { SolveOptions, TeamProblem, TeamSolution } from './types.ts';

export async function solveTeam(problem: TeamProblem, options: SolveOptions = {}): Promise<TeamSolution> {
  const began = performance.now();
  const prep = prepare(problem);
  const highs = await getHighs();
  const prune = options.prune ?? true;
  const deadline =
    options.timeLimitSeconds === undefined ? undefined : began + options.timeLimitSeconds * 1000;
  const milps: TeamSolution['stats']['milps'] = [];
  let afterPruning = 0;
  const run = (
    stage: Stage,
    cols: readonly number[],
    shortfall: number | undefined,
    extra: { startKey?: ArrayLike<number>; startBase?: number } = {},
  ) => {
    const t = performance.now();
    const chosen = solveStage(highs, prep, {
      stage,
      cols,
      slack: shortfall === undefined || shortfall > 0,
      ...(shortfall !== undefined && shortfall > 0 ? { maxShortfall: shortfall } : {}),
      ...(deadline === undefined ? {} : { timeLimit: (deadline - t) / 1000 }),
      ...extra,
    });
    milps.push({ stage, candidates: cols.length, ms: performance.now() - t });
    afterPruning = Math.max(afterPruning, cols.length);
    return chosen;
  };
  const teamStart = (team: readonly number[]) => evaluate(prep, team).startHours;
  const usable = prep.usable;

  let team: number[];
  if (!prune) {
    const shortfall = evaluate(prep, run('shortfall', usable, undefined)).shortfall;
    const start = teamStart(run('start', usable, shortfall));
    team = run(
      'rest',
      usable.filter((i) => prep.start[i]! <= start),
      shortfall,
    );
  } else {
    const sorted = byStart(prep, usable);
    const lowerBound = startLowerBound(prep, sorted);
    let shortfall: number | undefined;
    let upperBound = Number.POSITIVE_INFINITY;
    if (lowerBound !== null && options.greedy !== false) {
      const greedy = greedyFullTeam(prep, sorted, lowerBound);
      if (greedy) {
        shortfall = 0;
        upperBound = teamStart(greedy);
      }
    }
    if (shortfall === undefined) {
      const found = run('shortfall', dominancePrune(prep, usable), undefined);
      const result = evaluate(prep, found);
      shortfall = result.shortfall;
      upperBound = result.startHours;
    }
    // Starts below T_LB matter to no full team (prune.ts); partial teams get no clamp.
    const base = shortfall === 0 && lowerBound !== null ? lowerBound : 0;
    let start: number;
    if (shortfall === 0 && upperBound <= base) start = base;
    else {
      const key = prep.start.map((s) => Math.max(s, base));
      const cols = dominancePrune(
        prep,
        usable.filter((i) => prep.start[i]! <= upperBound),
        key,
      );
      start = Math.max(base, teamStart(run('start', cols, shortfall, { startKey: key, startBase: base })));
    }
    const cols = dominancePrune(
      prep,
      usable.filter((i) => prep.start[i]! <= start),
      prep.deployments,
    );
    team = run('rest', cols, shortfall);
  }

  const result = evaluate(prep, team);
  if (!withinLimits(prep, team))
    throw new Error('team solver: the solution breaks a size or party limit (a solver bug)');
  const feasible = result.shortfall === 0;
  const { unmet, problems } = feasible ? { unmet: [], problems: [] } : explainUnmet(prep, result);
  return {
    feasible,
    members: explainMembers(prep, team, result),
    objective: {
      shortfall: result.shortfall,
      startHours: result.startHours,
      size: result.size,
      recentDeployments: result.recentDeployments,
      largestParty: result.largestParty,
    },
    excluded: explainExcluded(prep, team, result, options.explainExcluded ?? 10),
    unmet,
    problems,
    stats: {
      candidates: problem.candidates.length,
      afterPruning,
      solveMs: performance.now() - began,
      milps,
      thread: 'main',
    },
  };
}
