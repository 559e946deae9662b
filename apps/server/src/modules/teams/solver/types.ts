// The team-assembly solver's contract: a pure problem in, an explained optimal team out. No
// database, no HTTP: the teams service filters candidates (clearance, languages, availability over
// the window, home-state restrictions, overlapping deployments) and computes start times; this
// module picks the team.
import type { Skill } from '@vytis/contracts';

export type Level = 1 | 2 | 3;

export interface Candidate {
  id: string;
  name: string;
  party: string;
  affiliation: 'military' | 'civilian';
  skills: Partial<Record<Skill, Level>>;
  /** Hours until this person can start on this request (the caller computes it: remote readiness, or travel time from great-circle distance + on-site readiness). Finite, ≥ 0; fractions are fine. */
  startHours: number;
  /** Deployments in the last 12 months (fairness: fewer is better). An integer ≥ 0. */
  recentDeployments: number;
}

export interface Need {
  skill: Skill;
  count: number;
  minLevel: Level;
}

export interface TeamProblem {
  needs: Need[];
  /** Already filtered by the caller for clearance, languages, availability over the window, home-state restrictions, overlapping deployments. */
  candidates: Candidate[];
  minSize: number;
  maxSize: number;
  /** The framework's limit of members from one party. */
  maxPerParty: number;
  /** Tighter per-party caps (home-state restriction "at most N per mission"). */
  partyCaps?: Record<string, number>;
  /** Never chosen, e.g. people whose home state declined them. */
  excludedIds?: string[];
  /** Why an excluded id is excluded, in plain words (default: "declined by the home state"). */
  excludedReasons?: Record<string, string>;
}

export interface TeamObjective {
  /** The team's start time: the largest startHours of its members (0 for an empty team). */
  startHours: number;
  size: number;
  /** Sum of the members' recentDeployments. */
  recentDeployments: number;
  /** The largest number of members from one party. */
  largestParty: number;
}

export interface TeamMember {
  id: string;
  name: string;
  party: string;
  /** The skills of the needs this member satisfies at the needed level. */
  covers: Skill[];
  reasons: string[];
}

export interface UnmetNeed {
  skill: Skill;
  minLevel: number;
  needed: number;
  /** How many members of the proposed (partial) team have the skill at the level. */
  covered: number;
  /** The most members with this skill at this level that any team could have within the size and party limits. */
  available: number;
}

export interface TeamSolution {
  /** Whether a team meeting every need and the size bounds exists. */
  feasible: boolean;
  /** The optimal team; when infeasible, the best partial team. */
  members: TeamMember[];
  objective: TeamObjective & {
    /** Need units left uncovered plus members missing below minSize: 0 when feasible. */
    shortfall: number;
  };
  /** The nearest candidates not chosen (best-ranked by startHours, then recentDeployments), each with why not. */
  excluded: { id: string; name: string; party: string; reason: string }[];
  /** When infeasible: the needs the best partial team leaves short. */
  unmet: UnmetNeed[];
  /** When infeasible: why, in plain words (unmet needs and a team below its minimum size). */
  problems: string[];
  stats: {
    candidates: number;
    /** The most candidates given to HiGHS in one model (all of them with prune: false). */
    afterPruning: number;
    solveMs: number;
    /** Each MILP solved: which objective, how many candidate columns, how long. */
    milps: { stage: 'shortfall' | 'start' | 'rest'; candidates: number; ms: number }[];
    /** Where it ran: the caller's thread, or a solver worker. */
    thread: 'main' | 'worker';
  };
}

export interface SolveOptions {
  /** Drop candidates that provably cannot change the optimum (default true). */
  prune?: boolean;
  /** With pruning: look for a greedy full team first, to skip the shortfall stage and bound the start (default true; false runs every MILP stage — for tests). */
  greedy?: boolean;
  /** HiGHS time limit over all stages, in seconds (default none); exceeded → SolverTimeoutError. */
  timeLimitSeconds?: number;
  /** How many not-chosen candidates to explain (default 10). */
  explainExcluded?: number;
}

export class SolverTimeoutError extends Error {
  override name = 'SolverTimeoutError';
}

/** The problem is malformed (bad numbers, duplicate ids, minSize > maxSize, …). */
export class SolverInputError extends Error {
  override name = 'SolverInputError';
}
