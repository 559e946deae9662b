// Pruning that provably keeps the optimum, and the bounds that feed it.
//
// DOMINANCE (used by every stage of the pruned solve). Each MILP stage optimises one objective
// with the earlier ones fixed (see solve.ts); per stage at most one number of a candidate still
// matters: nothing (stage "shortfall"), its start time (stage "start"), or its recent deployments
// (stage "rest"). Call that number its key. Fix a strict total order of candidates: by key, then
// by position in the input. Say A dominates B when A and B are from the same party, A satisfies
// every need B satisfies (mask(A) ⊇ mask(B)), and A precedes B in that order (so key(A) ≤ key(B)).
// Let c_p = min(cap of party p, maxSize): no team holds more than c_p members of p.
//
//   Claim: dropping every candidate that has at least c_p dominators keeps an optimal team.
//   Exchange: take an optimal team containing a dropped B of party p. At most c_p − 1 other
//   members are from p, so one of B's ≥ c_p dominators, A, is not in the team. Swap B for A:
//   the size and every party's count are unchanged (same party), every need keeps at least as many
//   members (mask(A) ⊇ mask(B)), so the shortfall does not grow, and the stage's objective does not
//   worsen (start: max over members with key(A) ≤ key(B); deployments: a sum with key(A) ≤ key(B);
//   largest party: unchanged). So the new team is optimal too. Each swap moves a member strictly
//   earlier in the total order, so repeating it ends, at an optimal team with no dropped member
//   (while one remains, the swap applies). Dominators are counted over the whole set, dropped or
//   not, so one pass decides every candidate.
//
//   Candidates that satisfy no need (mask 0, "fillers") are dominated by every earlier candidate of
//   their party: at most c_p of each party survive. Within one (party, mask) group at most c_p
//   survive, and fewer when candidates of superset masks come earlier.
//
//   Note: ranking a group by (startHours, recentDeployments) and keeping its first c_p is NOT safe
//   when both numbers matter at once: a dropped B with a later start but fewer deployments can be
//   what an optimal team needs when another member sets the team's start anyway. That is why the
//   stages take one key each (or a candidate would need ≥ c_p dominators on both numbers).
//
// START-TIME BOUNDS (stage "start" of the pruned solve, when a full team exists):
//   - Lower bound T_LB: for each need, walk its candidates by start time taking at most c_p per
//     party; the count-th one taken starts no later than the count-th fastest member of any team
//     meeting the need (greedy on a partition matroid gives the smallest k-th value for every k).
//     The same for minSize over all candidates. T_LB is the largest of these: every full team has
//     T ≥ T_LB. Hence replacing each start s by max(s, T_LB) changes no full team's T (the max of
//     the clamped values is max(T, T_LB) = T), and candidates starting before T_LB tie on the key —
//     which makes the dominance much stronger. If T_LB equals the start of a full team found
//     greedily, that team's T is optimal and the start stage needs no MILP.
//   - Upper bound T0: the start of any full team (a greedy one, or the shortfall stage's). Every
//     optimal team has T ≤ T0, so no member starts after T0: such candidates are dropped.
import { ascending, type Prepared, popcount, sortByKey } from './prepare.ts';

/**
 * The candidates of `cols` with fewer than c_p dominators (see above). `key` orders candidates
 * (lower is better); without it only the input order breaks ties.
 */
export function dominancePrune(prep: Prepared, cols: readonly number[], key?: ArrayLike<number>): number[] {
  const byParty = new Map<number, number[]>();
  for (const i of key ? sortByKey(cols, key) : ascending(cols)) {
    const p = prep.partyOf[i]!;
    const list = byParty.get(p);
    if (list) list.push(i);
    else byParty.set(p, [i]);
  }
  // Each party's list is now in the total order: by key, then index.
  const kept: number[] = [];
  for (const [p, list] of byParty) {
    const cap = prep.cap[p]!;
    if (list.length <= cap) {
      kept.push(...list);
      continue;
    }
    // Masks seen so far in this party and how many candidates had each.
    const seenMasks: number[] = [];
    const seenCount = new Map<number, number>();
    for (const i of list) {
      const m = prep.mask[i]!;
      let dominators = 0;
      for (let s = 0; s < seenMasks.length && dominators < cap; s++) {
        const sm = seenMasks[s]!;
        if ((sm & m) === m) dominators += seenCount.get(sm)!;
      }
      if (dominators < cap) kept.push(i);
      const k = seenCount.get(m);
      if (k === undefined) {
        seenMasks.push(m);
        seenCount.set(m, 1);
      } else seenCount.set(m, k + 1);
    }
  }
  return ascending(kept);
}

/** `cols` sorted by start time (then input order). */
export function byStart(prep: Prepared, cols: readonly number[]): number[] {
  return sortByKey(cols, prep.start);
}

/**
 * T_LB (see above) over `sorted` (by start), or null when some need, or minSize, cannot be met even
 * on its own within the size and party limits — then no full team exists.
 */
export function startLowerBound(prep: Prepared, sorted: readonly number[]): number | null {
  const kthWithCaps = (count: number, bit: number): number | null => {
    if (count === 0) return 0;
    if (count > prep.maxSize) return null;
    const taken = new Map<number, number>();
    let k = 0;
    for (const i of sorted) {
      if (bit >= 0 && !(prep.mask[i]! & (1 << bit))) continue;
      const p = prep.partyOf[i]!;
      const t = taken.get(p) ?? 0;
      if (t >= prep.cap[p]!) continue;
      taken.set(p, t + 1);
      if (++k === count) return prep.start[i]!;
    }
    return null;
  };
  let bound = kthWithCaps(prep.minSize, -1);
  if (bound === null) return null;
  for (let j = 0; j < prep.needs.length; j++) {
    const b = kthWithCaps(prep.needs[j]!.count, j);
    if (b === null) return null;
    bound = Math.max(bound, b);
  }
  return bound;
}

/**
 * A full team (every need met, size and party limits kept) drawn from `sorted[0..limit)`, built
 * greedily: the candidate covering the most still-needed units (then fewest deployments, earliest
 * start), then fillers to minSize. Null when the greedy does not find one (one may still exist).
 */
function greedyTeam(prep: Prepared, sorted: readonly number[], limit: number): number[] | null {
  const remaining = prep.needs.map((n) => n.count);
  let remMask = 0;
  for (let j = 0; j < remaining.length; j++) if (remaining[j]! > 0) remMask |= 1 << j;
  const perParty = new Int32Array(prep.parties.length);
  const used = new Set<number>();
  const team: number[] = [];
  const better = (a: number, b: number) =>
    prep.deployments[a]! - prep.deployments[b]! || prep.start[a]! - prep.start[b]! || a - b;
  while (remMask !== 0) {
    if (team.length >= prep.maxSize) return null;
    let best = -1;
    let bestGain = 0;
    for (let s = 0; s < limit; s++) {
      const i = sorted[s]!;
      const p = prep.partyOf[i]!;
      if (perParty[p]! >= prep.cap[p]! || used.has(i)) continue;
      const gain = popcount(prep.mask[i]! & remMask);
      if (gain > bestGain || (gain === bestGain && gain > 0 && better(i, best) < 0)) {
        best = i;
        bestGain = gain;
      }
    }
    if (best < 0) return null;
    team.push(best);
    used.add(best);
    perParty[prep.partyOf[best]!]!++;
    const m = prep.mask[best]! & remMask;
    for (let j = 0; j < remaining.length; j++)
      if (m & (1 << j) && --remaining[j]! === 0) remMask &= ~(1 << j);
  }
  while (team.length < prep.minSize) {
    let best = -1;
    for (let s = 0; s < limit; s++) {
      const i = sorted[s]!;
      const p = prep.partyOf[i]!;
      if (perParty[p]! >= prep.cap[p]! || used.has(i)) continue;
      if (best < 0 || better(i, best) < 0) best = i;
    }
    if (best < 0) return null;
    team.push(best);
    used.add(best);
    perParty[prep.partyOf[best]!]!++;
  }
  return team;
}

/**
 * A full team found greedily among the candidates starting by a threshold, trying thresholds from
 * `lowerBound` upwards (the next distinct start times, then doubling steps). Null if none found.
 */
export function greedyFullTeam(
  prep: Prepared,
  sorted: readonly number[],
  lowerBound: number,
): number[] | null {
  // prefix[k]: how many of `sorted` start no later than the k-th distinct start time.
  const prefix: number[] = [];
  for (let s = 0; s < sorted.length; s++) {
    const next = sorted[s + 1];
    if (next === undefined || prep.start[next]! !== prep.start[sorted[s]!]!) prefix.push(s + 1);
  }
  let k = prefix.findIndex((end) => prep.start[sorted[end - 1]!]! >= lowerBound);
  if (k < 0) k = prefix.length - 1;
  if (k < 0) return greedyTeam(prep, sorted, 0);
  for (let step = 1; ; step *= 2) {
    const team = greedyTeam(prep, sorted, prefix[k]!);
    if (team) return team;
    if (k === prefix.length - 1) return null;
    k = Math.min(prefix.length - 1, k + step);
  }
}
