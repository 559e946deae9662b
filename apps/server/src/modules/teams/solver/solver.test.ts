import assert from 'node:assert/strict';
import os from 'node:os';
import { after, describe, it } from 'node:test';
import type { Skill } from '@vytis/contracts';
import fc from 'fast-check';
import { bruteForce, unmetKeys } from './brute-force.ts';
import {
  type Candidate,
  closeSolverPool,
  type Need,
  SolverInputError,
  solveTeam,
  solveTeamInWorker,
  type TeamProblem,
  type TeamSolution,
} from './index.ts';

after(() => closeSolverPool());

const SKILLS: Skill[] = ['digital-forensics', 'malware-analysis', 'legal', 'ot-ics'];
const PARTIES = ['LT', 'PL', 'EE', 'FR'];
const STARTS = [0, 0.5, 1.25, 2, 2, 3.75, 6, 30];

const candidateArb = (i: number) =>
  fc
    .record({
      party: fc.constantFrom(...PARTIES),
      military: fc.boolean(),
      skills: fc.dictionary(fc.constantFrom(...SKILLS), fc.constantFrom<1 | 2 | 3>(1, 2, 3), { maxKeys: 3 }),
      startHours: fc.constantFrom(...STARTS),
      recentDeployments: fc.integer({ min: 0, max: 4 }),
    })
    .map(
      (c): Candidate => ({
        id: `c${i}`,
        name: `Responder ${i}`,
        party: c.party,
        affiliation: c.military ? 'military' : 'civilian',
        skills: c.skills,
        startHours: c.startHours,
        recentDeployments: c.recentDeployments,
      }),
    );

const needArb = fc.record({
  skill: fc.constantFrom(...SKILLS),
  count: fc.integer({ min: 1, max: 3 }),
  minLevel: fc.constantFrom<1 | 2 | 3>(1, 2, 3),
});

/** A random problem over `min..max` candidates; partyCaps and excluded ids now and then. */
const problemArb = (min: number, max: number) =>
  fc
    .integer({ min, max })
    .chain((n) =>
      fc.record({
        candidates: fc.tuple(...Array.from({ length: n }, (_, i) => candidateArb(i))),
        needs: fc.array(needArb, { maxLength: 3 }),
        minSize: fc.integer({ min: 0, max: 4 }),
        extra: fc.integer({ min: 0, max: 5 }),
        maxPerParty: fc.integer({ min: 0, max: 4 }),
        partyCaps: fc.option(fc.dictionary(fc.constantFrom(...PARTIES), fc.integer({ min: 0, max: 2 })), {
          nil: undefined,
        }),
        excluded: fc.array(fc.integer({ min: 0, max: Math.max(0, n - 1) }), { maxLength: 2 }),
      }),
    )
    .map(
      (r): TeamProblem => ({
        needs: r.needs,
        candidates: [...r.candidates],
        minSize: r.minSize,
        maxSize: r.minSize + r.extra,
        maxPerParty: r.maxPerParty,
        ...(r.partyCaps ? { partyCaps: r.partyCaps } : {}),
        ...(r.candidates.length > 0 ? { excludedIds: r.excluded.map((i) => `c${i}`) } : {}),
      }),
    );

/** Rosters where full teams usually exist and start times vary, slower for people with more skills. */
const feasibleLeaningArb = (min: number, max: number) =>
  fc
    .integer({ min, max })
    .chain((n) =>
      fc.record({
        candidates: fc.tuple(
          ...Array.from({ length: n }, (_, i) =>
            fc
              .record({
                party: fc.constantFrom(...PARTIES),
                skills: fc.dictionary(fc.constantFrom(...SKILLS), fc.constantFrom<1 | 2 | 3>(1, 2, 3), {
                  minKeys: 1,
                  maxKeys: 3,
                }),
                quarters: fc.integer({ min: 0, max: 40 }),
                recentDeployments: fc.integer({ min: 0, max: 4 }),
              })
              .map(
                (c): Candidate => ({
                  id: `c${i}`,
                  name: `Responder ${i}`,
                  party: c.party,
                  affiliation: 'civilian',
                  skills: c.skills,
                  startHours: (c.quarters + 12 * Object.keys(c.skills).length) / 4,
                  recentDeployments: c.recentDeployments,
                }),
              ),
          ),
        ),
        needs: fc.array(
          fc.record({
            skill: fc.constantFrom(...SKILLS),
            count: fc.integer({ min: 1, max: 2 }),
            minLevel: fc.constantFrom<1 | 2 | 3>(1, 2),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        minSize: fc.integer({ min: 0, max: 3 }),
        extra: fc.integer({ min: 1, max: 5 }),
        maxPerParty: fc.integer({ min: 1, max: 3 }),
      }),
    )
    .map(
      (r): TeamProblem => ({
        needs: r.needs,
        candidates: [...r.candidates],
        minSize: r.minSize,
        maxSize: r.minSize + r.extra,
        maxPerParty: r.maxPerParty,
      }),
    );

/** The pruned solve, the pruned solve with every MILP stage (no greedy shortcut), the full model. */
const MODES = [{}, { greedy: false }, { prune: false }] as const;

const tuple = (s: TeamSolution) => [
  s.objective.shortfall,
  s.objective.startHours,
  s.objective.size,
  s.objective.recentDeployments,
  s.objective.largestParty,
];
const meets = (c: Candidate, need: Need) => (c.skills[need.skill] ?? 0) >= need.minLevel;

/** Every hard limit, and the needs and minSize when the solution says it is feasible. */
function assertValid(problem: TeamProblem, s: TeamSolution) {
  const byId = new Map(problem.candidates.map((c) => [c.id, c]));
  const team = s.members.map((m) => byId.get(m.id)!);
  assert.ok(
    team.every((c) => c !== undefined),
    'members are candidates',
  );
  assert.equal(new Set(s.members.map((m) => m.id)).size, team.length, 'no one twice');
  assert.ok(team.length <= problem.maxSize, 'size ≤ maxSize');
  for (const c of team) assert.ok(!problem.excludedIds?.includes(c.id), `${c.id} was excluded`);
  const perParty = new Map<string, number>();
  for (const c of team) perParty.set(c.party, (perParty.get(c.party) ?? 0) + 1);
  for (const [party, k] of perParty) {
    assert.ok(k <= problem.maxPerParty, `${party} ≤ maxPerParty`);
    assert.ok(k <= (problem.partyCaps?.[party] ?? Number.POSITIVE_INFINITY), `${party} ≤ its cap`);
  }
  const covered = problem.needs.map((need) => team.filter((c) => meets(c, need)).length);
  if (s.feasible) {
    assert.ok(team.length >= problem.minSize, 'size ≥ minSize');
    problem.needs.forEach((need, j) => {
      assert.ok(covered[j]! >= need.count, `${need.skill} met`);
    });
    assert.deepEqual(s.unmet, []);
  }
  // The reported objective is the team's.
  assert.equal(s.objective.size, team.length);
  assert.equal(s.objective.startHours, Math.max(0, ...team.map((c) => c.startHours)));
  assert.equal(
    s.objective.recentDeployments,
    team.reduce((a, c) => a + c.recentDeployments, 0),
  );
  assert.equal(s.objective.largestParty, Math.max(0, ...perParty.values()));
  // unmet lists exactly the needs this team leaves short.
  assert.deepEqual(
    s.unmet.map((u) => `${u.skill}/${u.minLevel}:${u.covered}`).sort(),
    unmetKeys(problem, covered),
  );
}

describe('team solver: properties', () => {
  it('every proposed team keeps every hard constraint, with and without pruning', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(problemArb(0, 14), feasibleLeaningArb(0, 14)), async (problem) => {
        for (const mode of MODES) assertValid(problem, await solveTeam(problem, mode));
      }),
      { numRuns: 150 },
    );
  });

  it('equals the brute-force lexicographic optimum on small rosters, with and without pruning', async () => {
    let infeasible = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(problemArb(1, 12), feasibleLeaningArb(4, 12)), async (problem) => {
        const best = bruteForce(problem);
        for (const mode of MODES) {
          const s = await solveTeam(problem, mode);
          assert.deepEqual(tuple(s), best.objective, JSON.stringify(mode));
          assert.equal(s.feasible, best.objective[0] === 0);
          if (!s.feasible) {
            infeasible += 1;
            // What is left short is what some optimal partial team leaves short.
            const keys = s.unmet.map((u) => `${u.skill}/${u.minLevel}:${u.covered}`).sort();
            assert.ok(
              best.unmet.some((u) => JSON.stringify(u) === JSON.stringify(keys)),
              `unmet ${keys} is an optimal partial team's (${JSON.stringify(best.unmet)})`,
            );
          }
        }
      }),
      { numRuns: 400 },
    );
    assert.ok(infeasible > 20, `infeasible instances were exercised (${infeasible})`);
  });

  it('pruned and unpruned objectives are equal on larger rosters', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(problemArb(20, 60), feasibleLeaningArb(20, 60)), async (problem) => {
        const pruned = await solveTeam(problem);
        const full = await solveTeam(problem, { prune: false });
        assert.deepEqual(tuple(pruned), tuple(full));
        assert.deepEqual(tuple(await solveTeam(problem, { greedy: false })), tuple(full));
        assert.ok(pruned.stats.afterPruning <= full.stats.afterPruning);
      }),
      { numRuns: 80 },
    );
  });

  it('infeasible instances report exactly the unmet needs when the brute force agrees on them', async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(problemArb(1, 10), async (problem) => {
        const best = bruteForce(problem);
        const distinct = new Set(best.unmet.map((u) => JSON.stringify(u)));
        if (best.objective[0] === 0 || distinct.size !== 1) return;
        checked += 1;
        const s = await solveTeam(problem);
        assert.equal(s.feasible, false);
        assert.deepEqual(s.unmet.map((u) => `${u.skill}/${u.minLevel}:${u.covered}`).sort(), best.unmet[0]);
        for (const u of s.unmet) {
          assert.ok(u.covered < u.needed);
          assert.ok(
            s.problems.some((p) => p.startsWith(u.skill)),
            `a problem names ${u.skill}`,
          );
        }
      }),
      { numRuns: 300 },
    );
    assert.ok(checked > 20, `exercised (${checked})`);
  });

  it('explanations name the covered skills, the start, the deployments and the party', async () => {
    await fc.assert(
      fc.asyncProperty(problemArb(1, 12), async (problem) => {
        const s = await solveTeam(problem);
        const byId = new Map(problem.candidates.map((c) => [c.id, c]));
        for (const m of s.members) {
          const c = byId.get(m.id)!;
          const expected = [...new Set(problem.needs.filter((n) => meets(c, n)).map((n) => n.skill))];
          assert.deepEqual([...m.covers].sort(), expected.sort());
          for (const skill of m.covers)
            assert.ok(
              m.reasons.some((r) => r.startsWith(`${skill} level ${c.skills[skill]}`)),
              `${skill} in ${m.reasons}`,
            );
          assert.ok(m.reasons.some((r) => r.startsWith('can start in ')));
          assert.ok(m.reasons.some((r) => r.includes('in the last year')));
          assert.ok(m.reasons.some((r) => r.includes(`from ${c.party}`)));
        }
        const chosen = new Set(s.members.map((m) => m.id));
        assert.ok(s.excluded.length <= 10);
        assert.equal(s.excluded.length, Math.min(10, problem.candidates.length - chosen.size));
        for (const x of s.excluded) {
          assert.ok(!chosen.has(x.id));
          assert.ok(x.reason.length > 0);
          if (problem.excludedIds?.includes(x.id)) assert.equal(x.reason, 'declined by the home state');
        }
      }),
      { numRuns: 150 },
    );
  });
});

const person = (
  id: string,
  party: string,
  skills: Candidate['skills'],
  startHours: number,
  recentDeployments = 0,
): Candidate => ({
  id,
  name: id,
  party,
  affiliation: 'civilian',
  skills,
  startHours,
  recentDeployments,
});

const example: TeamProblem = {
  needs: [
    { skill: 'digital-forensics', count: 2, minLevel: 2 },
    { skill: 'legal', count: 1, minLevel: 1 },
  ],
  candidates: [
    person('Ana', 'LT', { 'digital-forensics': 3 }, 4, 1),
    person('Bo', 'PL', { 'digital-forensics': 2, legal: 1 }, 6, 0),
    person('Cy', 'PL', { 'digital-forensics': 2 }, 30, 0),
    person('Di', 'EE', { legal: 2 }, 2, 3),
    person('Ed', 'EE', { 'digital-forensics': 1 }, 1, 0),
  ],
  minSize: 2,
  maxSize: 4,
  maxPerParty: 2,
  excludedIds: ['Ed'],
};

describe('team solver: examples', () => {
  it('picks the fastest team and explains members and the nearest others', async () => {
    const s = await solveTeam(example);
    assert.equal(s.feasible, true);
    assert.deepEqual(
      s.members.map((m) => m.id),
      ['Ana', 'Bo'],
    );
    assert.deepEqual(s.objective, {
      shortfall: 0,
      startHours: 6,
      size: 2,
      recentDeployments: 1,
      largestParty: 1,
    });
    const bo = s.members[1]!;
    assert.deepEqual(bo.covers, ['digital-forensics', 'legal']);
    assert.deepEqual(bo.reasons, [
      'digital-forensics level 2 (needs 2 at level 2 or above)',
      'legal level 1 (needs 1 at level 1 or above)',
      'can start in 6 h (the team starts then)',
      'no deployments in the last year',
      'the only one from PL',
    ]);
    assert.deepEqual(s.excluded, [
      { id: 'Ed', name: 'Ed', party: 'EE', reason: 'declined by the home state' },
      {
        id: 'Di',
        name: 'Di',
        party: 'EE',
        reason: 'covers nothing the team still needs (legal already covered)',
      },
      { id: 'Cy', name: 'Cy', party: 'PL', reason: 'starts in 30 h; the team can start in 6 h' },
    ]);
  });

  it('says when a party is at its limit, and uses fractional start times exactly', async () => {
    const s = await solveTeam({
      needs: [{ skill: 'malware-analysis', count: 2, minLevel: 1 }],
      candidates: [
        person('p1', 'PL', { 'malware-analysis': 2 }, 1.25),
        person('p2', 'PL', { 'malware-analysis': 2 }, 1.5),
        person('e1', 'EE', { 'malware-analysis': 1 }, 1.75),
        person('l1', 'LT', { 'malware-analysis': 1 }, 1.3),
      ],
      minSize: 1,
      maxSize: 5,
      maxPerParty: 4,
      partyCaps: { PL: 1 },
    });
    assert.deepEqual(s.members.map((m) => m.id).sort(), ['l1', 'p1']);
    assert.equal(s.objective.startHours, 1.3);
    assert.equal(
      s.excluded.find((x) => x.id === 'p2')?.reason,
      'PL already has 1 member (the limit); starts in 1.5 h; the team can start in 1.3 h',
    );
    assert.equal(
      s.excluded.find((x) => x.id === 'e1')?.reason,
      'starts in 1.75 h; the team can start in 1.3 h',
    );
  });

  it('keeps the fairer of two when another member sets the start (a ranking by start alone would not)', async () => {
    // PL may send one. Fast has the earlier start but 5 deployments; Fair starts later with none.
    // The team starts at 10 h anyway (only Slow covers legal), so Fair is the optimum.
    const s = await solveTeam({
      needs: [
        { skill: 'digital-forensics', count: 1, minLevel: 1 },
        { skill: 'legal', count: 1, minLevel: 1 },
      ],
      candidates: [
        person('Fast', 'PL', { 'digital-forensics': 1 }, 1, 5),
        person('Fair', 'PL', { 'digital-forensics': 1 }, 2, 0),
        person('Slow', 'EE', { legal: 1 }, 10, 0),
      ],
      minSize: 1,
      maxSize: 4,
      maxPerParty: 1,
    });
    assert.deepEqual(s.members.map((m) => m.id).sort(), ['Fair', 'Slow']);
    assert.equal(s.objective.recentDeployments, 0);
    assert.match(
      s.excluded[0]!.reason,
      /^PL already has 1 member \(the limit\); 5 deployments in the last year; Fair, whose place they could take, has 0/,
    );
  });

  it('prefers national balance last', async () => {
    const s = await solveTeam({
      needs: [{ skill: 'legal', count: 2, minLevel: 1 }],
      candidates: [
        person('a', 'PL', { legal: 1 }, 2),
        person('b', 'PL', { legal: 1 }, 2),
        person('c', 'LT', { legal: 1 }, 2),
      ],
      minSize: 2,
      maxSize: 2,
      maxPerParty: 2,
    });
    assert.equal(s.objective.largestParty, 1);
    assert.ok(s.members.some((m) => m.id === 'c'));
  });

  it('when no team is possible, says which needs cannot be met and offers the best partial team', async () => {
    const s = await solveTeam({
      needs: [
        { skill: 'ot-ics', count: 2, minLevel: 3 },
        { skill: 'legal', count: 1, minLevel: 1 },
      ],
      candidates: [
        person('ot', 'LT', { 'ot-ics': 3 }, 3),
        person('ot2', 'LT', { 'ot-ics': 2 }, 1),
        person('law', 'EE', { legal: 2 }, 5),
      ],
      minSize: 2,
      maxSize: 5,
      maxPerParty: 3,
    });
    assert.equal(s.feasible, false);
    assert.deepEqual(s.members.map((m) => m.id).sort(), ['law', 'ot']);
    assert.deepEqual(s.unmet, [{ skill: 'ot-ics', minLevel: 3, needed: 2, covered: 1, available: 1 }]);
    assert.deepEqual(s.problems, [
      'ot-ics level 3: needs 2, the best team has 1; only 1 such candidate can be on a team within the size and party limits',
    ]);
    assert.equal(s.objective.shortfall, 1);
  });

  it('an empty roster gives an empty, infeasible team', async () => {
    const s = await solveTeam({
      needs: [{ skill: 'legal', count: 1, minLevel: 1 }],
      candidates: [],
      minSize: 1,
      maxSize: 3,
      maxPerParty: 2,
    });
    assert.equal(s.feasible, false);
    assert.deepEqual(s.members, []);
    assert.equal(s.objective.shortfall, 2);
    assert.equal(s.problems.length, 2);
  });

  it('refuses malformed problems', async () => {
    await assert.rejects(solveTeam({ ...example, minSize: 5, maxSize: 4 }), SolverInputError);
    await assert.rejects(
      solveTeam({ ...example, candidates: [...example.candidates, example.candidates[0]!] }),
      /appears twice/,
    );
    await assert.rejects(
      solveTeam({ ...example, candidates: [{ ...example.candidates[0]!, startHours: Number.NaN }] }),
      /startHours/,
    );
  });
});

describe('team solver: in a worker thread', () => {
  it('gives the same answer as on the calling thread, also after the working directory changed', async () => {
    const cwd = process.cwd();
    process.chdir(os.tmpdir());
    try {
      await fc.assert(
        fc.asyncProperty(problemArb(0, 30), async (problem) => {
          const [here, there] = await Promise.all([solveTeam(problem), solveTeamInWorker(problem)]);
          assert.equal(there.stats.thread, 'worker');
          assert.deepEqual(there.members, here.members);
          assert.deepEqual(there.objective, here.objective);
          assert.deepEqual(there.excluded, here.excluded);
          assert.deepEqual(there.unmet, here.unmet);
        }),
        { numRuns: 40 },
      );
      await assert.rejects(solveTeamInWorker({ ...example, minSize: 9 }), SolverInputError);
    } finally {
      process.chdir(cwd);
    }
  });
});
