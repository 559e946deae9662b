// bench/team-assembly — the exact team solver on realistic rosters, pruned vs the full model.
// Rosters of 1k, 10k and 50k responders over 27 parties (sizes, skills, levels, readiness and base
// locations drawn from a seeded generator); one realistic on-site/hybrid request to Vilnius. Each
// roster is solved with the default method (pruning, then HiGHS), median of several runs, and with
// HiGHS on the full, unpruned model (fewer runs, each capped by a time limit), in the same process.
// The two objectives must be equal; a difference prints MISMATCH and makes the exit code 1.
// Goals (reported, not asserted): 10k under 100 ms median and ≥ 20× faster than unpruned; 50k
// under 500 ms.
// Usage: node --import tsx bench/team-assembly.ts [--sizes 1000,10000,50000] [--runs 9]
//          [--full-runs 3] [--full-timeout 120] [--seed 7]
import { parseArgs } from 'node:util';
import type { Skill } from '@vytis/contracts';
import { solveTeam } from '../apps/server/src/modules/teams/solver/solve.ts';
import {
  type Candidate,
  type Level,
  SolverTimeoutError,
  type TeamProblem,
  type TeamSolution,
} from '../apps/server/src/modules/teams/solver/types.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,50000' },
    runs: { type: 'string', default: '9' },
    'full-runs': { type: 'string', default: '3' },
    'full-timeout': { type: 'string', default: '120' },
    seed: { type: 'string', default: '7' },
  },
});
const SIZES = values.sizes.split(',').map(Number);
const RUNS = Number(values.runs);
const FULL_RUNS = Number(values['full-runs']);
const FULL_TIMEOUT = Number(values['full-timeout']);

// A small seeded generator (mulberry32), so every run benchmarks the same rosters.
let state = Number(values.seed) >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(weighted: readonly (readonly [T, number])[]): T => {
  let r = random() * weighted.reduce((a, [, w]) => a + w, 0);
  for (const [v, w] of weighted) {
    r -= w;
    if (r < 0) return v;
  }
  return weighted.at(-1)![0];
};

// 27 parties: capital coordinates and a weight for how many responders each contributes.
const PARTIES: readonly (readonly [string, number, number, number])[] = [
  ['LT', 54.69, 25.28, 3],
  ['EE', 59.44, 24.75, 3],
  ['HR', 45.81, 15.98, 2],
  ['PL', 52.23, 21.01, 6],
  ['NL', 52.37, 4.9, 5],
  ['RO', 44.43, 26.1, 4],
  ['BE', 50.85, 4.35, 3],
  ['GR', 37.98, 23.73, 2],
  ['ES', 40.42, -3.7, 6],
  ['IT', 41.9, 12.5, 6],
  ['FR', 48.86, 2.35, 8],
  ['SI', 46.06, 14.51, 1],
  ['FI', 60.17, 24.94, 3],
  ['DE', 52.52, 13.4, 9],
  ['AT', 48.21, 16.37, 3],
  ['CZ', 50.08, 14.44, 3],
  ['SK', 48.15, 17.11, 2],
  ['HU', 47.5, 19.04, 2],
  ['BG', 42.7, 23.32, 2],
  ['PT', 38.72, -9.14, 2],
  ['IE', 53.35, -6.26, 2],
  ['DK', 55.68, 12.57, 2],
  ['SE', 59.33, 18.07, 3],
  ['LV', 56.95, 24.11, 2],
  ['CY', 35.17, 33.36, 1],
  ['MT', 35.9, 14.51, 1],
  ['LU', 49.61, 6.13, 1],
];
// How often a responder has each skill (a responder has 1–4 of them).
const SKILL_FREQUENCY: readonly (readonly [Skill, number])[] = [
  ['incident-coordination', 12],
  ['digital-forensics', 16],
  ['malware-analysis', 11],
  ['network-forensics', 13],
  ['threat-intelligence', 12],
  ['ot-ics', 4],
  ['cloud-security', 9],
  ['vulnerability-assessment', 10],
  ['penetration-testing', 8],
  ['legal', 2],
  ['crisis-communication', 3],
];
const LEVELS: readonly (readonly [Level, number])[] = [
  [1, 50],
  [2, 38],
  [3, 12],
];
const DEPLOYMENTS: readonly (readonly [number, number])[] = [
  [0, 40],
  [1, 25],
  [2, 15],
  [3, 10],
  [4, 6],
  [5, 4],
];
const HOST = { lat: 54.69, lon: 25.28 }; // Vilnius

const kmBetween = (a: { lat: number; lon: number }, b: { lat: number; lon: number }) => {
  const rad = Math.PI / 180;
  const h =
    Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lon - a.lon) * rad) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
};

function roster(size: number): Candidate[] {
  state = (Number(values.seed) * 1_000_003 + size) >>> 0; // each size its own roster, whatever ran before
  const weighted = PARTIES.map((p) => [p, p[3]] as const);
  const people: Candidate[] = [];
  for (let k = 0; k < size; k++) {
    const [party, lat, lon] = pick(weighted);
    const skills: Candidate['skills'] = {};
    const howMany = pick([
      [1, 35],
      [2, 35],
      [3, 20],
      [4, 10],
    ] as const);
    for (let s = 0; s < howMany; s++) skills[pick(SKILL_FREQUENCY)] = pick(LEVELS);
    const military = random() < 0.3;
    // Civilians mostly start remotely (readiness 1–12 h, in quarter hours); the others need to be
    // on site: on-site readiness (4–24 h) plus travel (1.5 h at the airports + 750 km/h).
    const base = { lat: lat + (random() - 0.5) * 3, lon: lon + (random() - 0.5) * 4 };
    const startHours =
      !military && random() < 0.8
        ? 1 + Math.floor(random() * 45) / 4
        : Math.round((4 + random() * 20 + 1.5 + kmBetween(base, HOST) / 750) * 60) / 60;
    people.push({
      id: `r${k}`,
      name: `Responder ${k}`,
      party,
      affiliation: military ? 'military' : 'civilian',
      skills,
      startHours,
      recentDeployments: pick(DEPLOYMENTS),
    });
  }
  return people;
}

const request = (candidates: Candidate[]): TeamProblem => ({
  needs: [
    { skill: 'incident-coordination', count: 1, minLevel: 2 },
    { skill: 'digital-forensics', count: 2, minLevel: 2 },
    { skill: 'malware-analysis', count: 1, minLevel: 3 },
    { skill: 'network-forensics', count: 2, minLevel: 2 },
    { skill: 'ot-ics', count: 1, minLevel: 2 },
    { skill: 'legal', count: 1, minLevel: 1 },
  ],
  candidates,
  minSize: 2,
  maxSize: 12,
  maxPerParty: 4,
  partyCaps: { FR: 2, DE: 3 }, // home-state restrictions: "at most N per mission"
  excludedIds: candidates.filter((_, i) => i % 997 === 3).map((c) => c.id), // declined earlier
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));
const objectiveText = (s: TeamSolution) => {
  const o = s.objective;
  return `start ${o.startHours} h, size ${o.size}, deployments ${o.recentDeployments}, largest party ${o.largestParty}${s.feasible ? '' : `, shortfall ${o.shortfall}`}`;
};
const sameObjective = (a: TeamSolution, b: TeamSolution) =>
  JSON.stringify(a.objective) === JSON.stringify(b.objective) && a.feasible === b.feasible;

// Load HiGHS before timing anything.
await solveTeam({ needs: [], candidates: [], minSize: 0, maxSize: 0, maxPerParty: 0 });
console.log(`team-assembly benchmark, node ${process.version}, 27 parties, seed ${values.seed}`);
console.log(
  'request: incident-coordination 1×L2, digital-forensics 2×L2, malware-analysis 1×L3, network-forensics 2×L2, ' +
    'ot-ics 1×L2, legal 1×L1; team 2–12; at most 4 per party (FR 2, DE 3)',
);

let mismatches = 0;
for (const size of SIZES) {
  const problem = request(roster(size));
  const pruned: number[] = [];
  let ours: TeamSolution | undefined;
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    ours = await solveTeam(problem);
    pruned.push(performance.now() - start);
  }
  const solution = ours!;
  const full: number[] = [];
  let baseline: TeamSolution | undefined;
  let timedOut = false;
  for (let run = 0; run < FULL_RUNS && !timedOut; run++) {
    const start = performance.now();
    try {
      baseline = await solveTeam(problem, { prune: false, timeLimitSeconds: FULL_TIMEOUT });
      full.push(performance.now() - start);
    } catch (err) {
      if (!(err instanceof SolverTimeoutError)) throw err;
      timedOut = true;
    }
  }
  const label = `${size / 1000}k`;
  const oursMs = median(pruned);
  const stages = solution.stats.milps.map((m) => `${m.stage} ${m.candidates}`).join(', ') || 'none';
  console.log(
    `${label} responders: pruned ${ms(oursMs)} ms median of ${RUNS} (runs ${pruned.map(ms).join(', ')} ms); ` +
      `kept ${solution.stats.afterPruning} of ${size} (MILP stages: ${stages}); objective: ${objectiveText(solution)}`,
  );
  if (baseline && full.length > 0) {
    const fullMs = median(full);
    console.log(
      `${label} responders: unpruned HiGHS ${ms(fullMs)} ms median of ${full.length} (runs ${full.map(ms).join(', ')} ms); ` +
        `objective: ${objectiveText(baseline)}; ratio ${(fullMs / oursMs).toFixed(1)}x`,
    );
    if (!sameObjective(solution, baseline)) {
      mismatches++;
      console.log(`${label} responders: MISMATCH between the pruned and the unpruned objective`);
    } else console.log(`${label} responders: objectives equal`);
  } else
    console.log(
      `${label} responders: unpruned HiGHS timed out after ${FULL_TIMEOUT} s (no objective to compare; ratio > ${(
        (FULL_TIMEOUT * 1000) / oursMs
      ).toFixed(0)}x)`,
    );
  if (size === 10_000)
    console.log(
      `goal 10k: < 100 ms median and >= 20x faster than unpruned — ${oursMs < 100 ? 'met' : 'NOT met'} (${ms(oursMs)} ms)`,
    );
  if (size === 50_000)
    console.log(`goal 50k: < 500 ms median — ${oursMs < 500 ? 'met' : 'NOT met'} (${ms(oursMs)} ms)`);
}
if (mismatches > 0) {
  console.log(`MISMATCH: ${mismatches} roster(s) where pruning changed the objective`);
  process.exitCode = 1;
}
