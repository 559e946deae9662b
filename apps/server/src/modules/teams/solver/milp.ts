// The MILP, built as sparse arrays for HiGHS (npm `highs`, WebAssembly, loaded once per thread).
//
// Variables: x_i ∈ {0,1} per candidate column (1 = in the team); with `slack`, u_j ∈ [0, count_j]
// per need and u_size ∈ [0, minSize] (integers: units left short); for the start stage the ladder
// y_k ∈ {0,1}; for the rest stage the integer L (largest party).
//
//   need j:      Σ_{i satisfies j} x_i + u_j ≥ count_j          (no u_j without slack)
//   size:        minSize ≤ Σ x_i + u_size,  Σ x_i ≤ maxSize
//   party p:     Σ_{i ∈ p} x_i ≤ cap_p                          (only when p has more columns)
//   shortfall:   Σ u ≤ maxShortfall                            (when an earlier stage fixed it)
//   ladder:      x_i ≤ y_rank(i),  y_k ≤ y_(k−1)                (start stage)
//   balance:     Σ_{i ∈ p} x_i ≤ L                              (rest stage)
//
// START TIMES, EXACTLY: the distinct start values above `base` (every team's start is ≥ base) are
// sorted, t_1 < … < t_K, and y_k = 1 means "the team starts at t_k or later". A member with start
// t_r forces y_r = 1 and the chain forces y_1 … y_(r−1); so at the optimum Σ y_k is the rank of the
// team's start T = max startHours among t_1..t_K (0 when T ≤ base). Ranks order the same way as the
// fractional hours themselves, so minimising Σ y minimises T exactly, with integer objective values.
//
// OBJECTIVES: every stage's objective is an integer combination of integer variables: "shortfall"
// Σ u; "start" Σ y; "rest" W_S·Σx + W_F·Σ r_i x_i + L with W_F = maxSize + 1 > L and
// W_S = (F_max + 1)·W_F > W_F·F + L, where F_max is the sum of the maxSize largest r_i among the
// columns. These weights make the rest objective lexicographic — size, then deployments, then the
// largest party — exactly (a mixed-radix number). HiGHS runs with mip_rel_gap = 0 and the default
// absolute gap of 1e-6: integer objective values mean its incumbent is the optimum. The solution is
// read by rounding x and re-evaluated in JavaScript.
import highsModule, { type Highs, type VariableType } from 'highs';
import type { Prepared } from './prepare.ts';
import { SolverTimeoutError } from './types.ts';

// The package's types describe its CommonJS build (module.exports.default is the loader) while Node
// loads its ES build (the loader is the default export): take the loader either way.
type Loader = typeof highsModule.default;
const loadHighs: Loader =
  (highsModule as unknown as { default?: Loader }).default ?? (highsModule as unknown as Loader);

let highsPromise: Promise<Highs> | undefined;

/** The HiGHS runtime of this thread, loaded at first use and reused. */
export function getHighs(): Promise<Highs> {
  const loading =
    highsPromise ??
    loadHighs().catch((err: unknown) => {
      highsPromise = undefined;
      throw err;
    });
  highsPromise = loading;
  return loading;
}

export type Stage = 'shortfall' | 'start' | 'rest';

/** The options of every solve (the unpruned baseline's too). */
export const HIGHS_OPTIONS = {
  output_flag: false,
  // Exact: stop only at a zero gap (objectives are integers; see above).
  mip_rel_gap: 0,
  // The feasibility-jump heuristic costs ~10 ms per run even on a model of 30 columns, and these
  // models are small after pruning.
  mip_heuristic_run_feasibility_jump: false,
  // HiGHS 1.15's presolve rule "parallel rows and columns" (bit 13 of presolve_rule_off) wrongly
  // declared some of these models infeasible (about 1 in 3,000 random small rosters; a model whose
  // all-zero x with full slack is plainly feasible). Off, no error in 24,000 fuzzed solves checked
  // against brute force. Every stage's model is feasible by construction, so a non-optimal status
  // other than the time limit is retried once with presolve off.
  presolve_rule_off: 1 << 13,
};

export interface StageModel {
  stage: Stage;
  /** Candidate indices, one column each. */
  cols: readonly number[];
  /** Add shortfall variables (the need and minSize rows may then be left short). */
  slack: boolean;
  /** With slack: the largest total shortfall allowed. */
  maxShortfall?: number;
  /** For the start stage: each candidate's start value (indexed by candidate) and the base. */
  startKey?: ArrayLike<number>;
  startBase?: number;
  /** Seconds HiGHS may spend. */
  timeLimit?: number;
}

class SparseRows {
  readonly starts: number[] = [0];
  readonly indices: number[] = [];
  readonly values: number[] = [];
  readonly lower: number[] = [];
  readonly upper: number[] = [];
  add(indices: readonly number[], values: readonly number[], lower: number, upper: number) {
    for (let k = 0; k < indices.length; k++) {
      this.indices.push(indices[k]!);
      this.values.push(values[k]!);
    }
    this.starts.push(this.indices.length);
    this.lower.push(lower);
    this.upper.push(upper);
  }
  get count() {
    return this.lower.length;
  }
}

/** Solves one stage; returns the chosen candidate indices. */
export function solveStage(highs: Highs, prep: Prepared, spec: StageModel): number[] {
  const { cols, slack, stage } = spec;
  // No columns: the empty team is the only one (the caller checked it is allowed).
  if (cols.length === 0) return [];
  const inf = highs.infinity;
  const m = cols.length;
  const needs = prep.needs;
  const cost: number[] = [];
  const lower: number[] = [];
  const upper: number[] = [];
  const integrality: VariableType[] = [];
  const addVar = (c: number, lo: number, hi: number, integer: boolean) => {
    cost.push(c);
    lower.push(lo);
    upper.push(hi);
    integrality.push(integer ? 1 : 0);
    return cost.length - 1;
  };
  const ones = (k: number) => new Array<number>(k).fill(1);

  // x columns first: column c is candidate cols[c].
  let weightSize = 0;
  let weightDeployments = 0;
  if (stage === 'rest') {
    const largest = cols
      .map((i) => prep.deployments[i]!)
      .sort((a, b) => b - a)
      .slice(0, prep.maxSize);
    const maxDeployments = largest.reduce((a, b) => a + b, 0);
    weightDeployments = prep.maxSize + 1;
    weightSize = (maxDeployments + 1) * weightDeployments;
  }
  for (const i of cols) addVar(weightSize + weightDeployments * prep.deployments[i]!, 0, 1, true);

  const rows = new SparseRows();
  // Needs.
  const slackCols: number[] = [];
  for (let j = 0; j < needs.length; j++) {
    const count = needs[j]!.count;
    if (count === 0) continue;
    const idx: number[] = [];
    for (let c = 0; c < m; c++) if (prep.mask[cols[c]!]! & (1 << j)) idx.push(c);
    if (slack) {
      const u = addVar(stage === 'shortfall' ? 1 : 0, 0, count, true);
      slackCols.push(u);
      idx.push(u);
    }
    rows.add(idx, ones(idx.length), count, inf);
  }
  // Size.
  const all = cols.map((_, c) => c);
  if (slack && prep.minSize > 0) {
    const u = addVar(stage === 'shortfall' ? 1 : 0, 0, prep.minSize, true);
    slackCols.push(u);
    rows.add([...all, u], ones(m + 1), prep.minSize, inf);
    rows.add(all, ones(m), -inf, prep.maxSize);
  } else rows.add(all, ones(m), prep.minSize, prep.maxSize);
  if (slack && spec.maxShortfall !== undefined)
    rows.add(slackCols, ones(slackCols.length), -inf, spec.maxShortfall);
  // Parties.
  const byParty = new Map<number, number[]>();
  for (let c = 0; c < m; c++) {
    const p = prep.partyOf[cols[c]!]!;
    const list = byParty.get(p);
    if (list) list.push(c);
    else byParty.set(p, [c]);
  }
  for (const [p, list] of byParty)
    if (list.length > prep.cap[p]!) rows.add(list, ones(list.length), -inf, prep.cap[p]!);
  if (stage === 'rest') {
    const largest = addVar(1, 0, prep.maxSize, true);
    for (const list of byParty.values()) rows.add([...list, largest], [...ones(list.length), -1], -inf, 0);
  }
  // The start ladder.
  if (stage === 'start') {
    const key = spec.startKey ?? prep.start;
    const base = spec.startBase ?? 0;
    const levels = [...new Set(cols.map((i) => key[i]!).filter((v) => v > base))].sort((a, b) => a - b);
    const rung = new Map<number, number>();
    let previous = -1;
    for (const v of levels) {
      const y = addVar(1, 0, 1, true);
      rung.set(v, y);
      if (previous >= 0) rows.add([y, previous], [1, -1], -inf, 0);
      previous = y;
    }
    for (let c = 0; c < m; c++) {
      const y = rung.get(key[cols[c]!]!);
      if (y !== undefined) rows.add([c, y], [1, -1], -inf, 0);
    }
  }

  const model = highs.createModel({
    numCols: cost.length,
    numRows: rows.count,
    colCost: cost,
    colLower: lower,
    colUpper: upper,
    rowLower: rows.lower,
    rowUpper: rows.upper,
    matrix: {
      format: 'csr',
      numRows: rows.count,
      numCols: cost.length,
      starts: rows.starts,
      indices: rows.indices,
      values: rows.values,
    },
    integrality,
  });
  try {
    model.options.set(HIGHS_OPTIONS);
    if (spec.timeLimit !== undefined) {
      if (spec.timeLimit <= 0) throw new SolverTimeoutError('the solver ran out of time');
      model.options.set({ time_limit: spec.timeLimit });
    }
    const codes = highs.constants.modelStatus;
    model.run();
    let status = model.getModelStatus();
    if (status !== codes.optimal && status !== codes.timeLimit) {
      model.clearSolver();
      model.options.set({ presolve: 'off' });
      model.run();
      status = model.getModelStatus();
    }
    if (status === codes.timeLimit) throw new SolverTimeoutError('the solver ran out of time');
    if (status !== codes.optimal)
      throw new Error(`team solver: HiGHS ended the ${stage} stage with status ${status}`);
    const values = model.getSolution().colValue;
    const chosen: number[] = [];
    for (let c = 0; c < m; c++) if (values[c]! > 0.5) chosen.push(cols[c]!);
    return chosen;
  } finally {
    model.dispose();
  }
}
