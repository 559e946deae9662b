// Checks a TeamProblem and turns it into flat arrays the solver stages share: per candidate its
// party, the bit mask of the needs it satisfies at their levels, its start time and deployments;
// per party its cap. Also the one evaluator of a team's objective, used to read every solution.
import { type Candidate, type Need, SolverInputError, type TeamProblem } from './types.ts';

/** Needs are bits of a 31-bit mask; a request has at most 20 (the contracts' limit). */
const MAX_NEEDS = 30;
/** Candidate indices are packed below this in sortByKey. */
const INDEX_LIMIT = 2 ** 21;

export interface Prepared {
  problem: TeamProblem;
  needs: Need[];
  cands: Candidate[];
  /** Per candidate: index into `parties`. */
  partyOf: Int32Array;
  /** Per candidate: bit j set when its level in needs[j].skill is ≥ needs[j].minLevel. */
  mask: Int32Array;
  start: Float64Array;
  deployments: Int32Array;
  excluded: Uint8Array;
  parties: string[];
  /** Per party: min(maxPerParty, partyCaps[party]) — the limit as the framework states it. */
  limit: Int32Array;
  /** Per party: min(limit, maxSize) — the most members of the party any team can hold. */
  cap: Int32Array;
  /** Candidates a team may contain: not excluded, from a party whose cap is above 0. */
  usable: number[];
  minSize: number;
  maxSize: number;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;

export function prepare(problem: TeamProblem): Prepared {
  const { needs, candidates: cands, minSize, maxSize, maxPerParty } = problem;
  const bad = (message: string): never => {
    throw new SolverInputError(message);
  };
  if (needs.length > MAX_NEEDS) bad(`at most ${MAX_NEEDS} needs (got ${needs.length})`);
  for (const need of needs) {
    if (!isCount(need.count)) bad(`need ${need.skill}: count must be an integer ≥ 0`);
    if (![1, 2, 3].includes(need.minLevel)) bad(`need ${need.skill}: minLevel must be 1, 2 or 3`);
  }
  if (!isCount(minSize) || !isCount(maxSize) || minSize > maxSize)
    bad(`team size bounds must be integers with 0 ≤ minSize ≤ maxSize (got ${minSize}..${maxSize})`);
  if (!isCount(maxPerParty)) bad('maxPerParty must be an integer ≥ 0');
  for (const [party, cap] of Object.entries(problem.partyCaps ?? {}))
    if (!isCount(cap)) bad(`partyCaps.${party} must be an integer ≥ 0`);

  const n = cands.length;
  const partyIndex = new Map<string, number>();
  const parties: string[] = [];
  const partyOf = new Int32Array(n);
  const mask = new Int32Array(n);
  const start = new Float64Array(n);
  const deployments = new Int32Array(n);
  const excluded = new Uint8Array(n);
  if (n >= INDEX_LIMIT) bad(`at most ${INDEX_LIMIT - 1} candidates (got ${n})`);
  // Per skill and level: the bits of the needs that level satisfies.
  const bitsFor = new Map<string, number[]>();
  for (let j = 0; j < needs.length; j++) {
    const need = needs[j]!;
    let levels = bitsFor.get(need.skill);
    if (!levels) {
      levels = [0, 0, 0, 0];
      bitsFor.set(need.skill, levels);
    }
    for (let level = need.minLevel; level <= 3; level++) levels[level]! |= 1 << j;
  }
  const ids = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const c = cands[i]!;
    if (ids.has(c.id)) bad(`candidate ${c.id} appears twice`);
    ids.set(c.id, i);
    if (!Number.isFinite(c.startHours) || c.startHours < 0)
      bad(`candidate ${c.id}: startHours must be a finite number ≥ 0`);
    if (!isCount(c.recentDeployments)) bad(`candidate ${c.id}: recentDeployments must be an integer ≥ 0`);
    let p = partyIndex.get(c.party);
    if (p === undefined) {
      p = parties.length;
      partyIndex.set(c.party, p);
      parties.push(c.party);
    }
    partyOf[i] = p;
    start[i] = c.startHours;
    deployments[i] = c.recentDeployments;
    let m = 0;
    for (const skill in c.skills) {
      const level = c.skills[skill as keyof Candidate['skills']];
      if (level !== 1 && level !== 2 && level !== 3)
        bad(`candidate ${c.id}: ${skill} level must be 1, 2 or 3`);
      m |= bitsFor.get(skill)?.[level as number] ?? 0;
    }
    mask[i] = m;
  }
  for (const id of problem.excludedIds ?? []) {
    const i = ids.get(id);
    if (i !== undefined) excluded[i] = 1;
  }
  const limit = new Int32Array(parties.length);
  const cap = new Int32Array(parties.length);
  for (let p = 0; p < parties.length; p++) {
    limit[p] = Math.min(maxPerParty, problem.partyCaps?.[parties[p]!] ?? Number.MAX_SAFE_INTEGER);
    cap[p] = Math.min(limit[p]!, maxSize);
  }
  const usable: number[] = [];
  for (let i = 0; i < n; i++) if (!excluded[i] && cap[partyOf[i]!]! > 0) usable.push(i);
  return {
    problem,
    needs,
    cands,
    partyOf,
    mask,
    start,
    deployments,
    excluded,
    parties,
    limit,
    cap,
    usable,
    minSize,
    maxSize,
  };
}

export interface Evaluation {
  /** Uncovered need units plus members missing below minSize. */
  shortfall: number;
  startHours: number;
  size: number;
  recentDeployments: number;
  largestParty: number;
  /** Per need: members satisfying it. */
  covered: number[];
  /** Per party index: members from it. */
  perParty: Map<number, number>;
}

export function evaluate(prep: Prepared, team: readonly number[]): Evaluation {
  const covered = prep.needs.map(() => 0);
  const perParty = new Map<number, number>();
  let startHours = 0;
  let recentDeployments = 0;
  for (const i of team) {
    startHours = Math.max(startHours, prep.start[i]!);
    recentDeployments += prep.deployments[i]!;
    const p = prep.partyOf[i]!;
    perParty.set(p, (perParty.get(p) ?? 0) + 1);
    const m = prep.mask[i]!;
    for (let j = 0; j < covered.length; j++) if (m & (1 << j)) covered[j]!++;
  }
  let shortfall = Math.max(0, prep.minSize - team.length);
  for (let j = 0; j < covered.length; j++) shortfall += Math.max(0, prep.needs[j]!.count - covered[j]!);
  let largestParty = 0;
  for (const k of perParty.values()) largestParty = Math.max(largestParty, k);
  return {
    shortfall,
    startHours,
    size: team.length,
    recentDeployments,
    largestParty,
    covered,
    perParty,
  };
}

/** The lexicographic objective as a tuple: shortfall, start, size, deployments, largest party. */
export const objectiveTuple = (e: Evaluation) =>
  [e.shortfall, e.startHours, e.size, e.recentDeployments, e.largestParty] as const;

/** Negative when a is lexicographically better than b, 0 when equal. */
export function compareObjectives(a: readonly number[], b: readonly number[]): number {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
  return 0;
}

/** The team breaks no hard limit (size ≤ maxSize, party caps, excluded ids); needs are separate. */
export function withinLimits(prep: Prepared, team: readonly number[]): boolean {
  if (team.length > prep.maxSize || new Set(team).size !== team.length) return false;
  const perParty = new Map<number, number>();
  for (const i of team) {
    if (prep.excluded[i]) return false;
    const p = prep.partyOf[i]!;
    const k = (perParty.get(p) ?? 0) + 1;
    if (k > prep.cap[p]!) return false;
    perParty.set(p, k);
  }
  return true;
}

export function popcount(m: number): number {
  let x = m - ((m >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * `cols` sorted by `key[i]` ascending, ties by candidate index. Exact and fast on large rosters: the
 * distinct key values are ranked (one native sort, then binary search), and (rank, index) is packed into one float
 * (rank · 2^21 + index < 2^53) for a second native sort, with no comparator calls.
 */
export function sortByKey(cols: readonly number[], key: ArrayLike<number>): number[] {
  const n = cols.length;
  const sorted = new Float64Array(n);
  for (let c = 0; c < n; c++) sorted[c] = key[cols[c]!]!;
  sorted.sort();
  let distinct = 0;
  for (let c = 0; c < n; c++)
    if (c === 0 || sorted[c] !== sorted[distinct - 1]) sorted[distinct++] = sorted[c]!;
  const packed = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    const i = cols[c]!;
    const v = key[i]!;
    let lo = 0;
    let hi = distinct - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    packed[c] = lo * INDEX_LIMIT + i;
  }
  packed.sort();
  const out = new Array<number>(n);
  for (let c = 0; c < n; c++) out[c] = packed[c]! % INDEX_LIMIT;
  return out;
}

/** Candidate indices in increasing order (a native sort). */
export const ascending = (cols: readonly number[]): number[] => Array.from(Int32Array.from(cols).sort());
