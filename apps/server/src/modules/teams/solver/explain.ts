// Plain-word explanations of a solved team: why each member, why not the nearest others, and,
// when no full team exists, which needs cannot be met.
//
// Why-not is computed, not guessed: for a candidate left out, every team one step away (the team
// plus them, or the team with one member swapped for them) that keeps the size and party limits is
// evaluated, and the best of those is compared with the proposed team objective by objective; the
// first objective on which it is worse is the reason. (The proposed team is optimal, so none is
// better.)
import type { Skill } from '@vytis/contracts';
import {
  compareObjectives,
  type Evaluation,
  evaluate,
  objectiveTuple,
  type Prepared,
  withinLimits,
} from './prepare.ts';
import type { TeamMember, TeamSolution, UnmetNeed } from './types.ts';

export const hours = (h: number) => `${Number(h.toFixed(2))} h`;
const deploymentsText = (n: number) =>
  n === 0 ? 'no deployments in the last year' : `${n} deployment${n === 1 ? '' : 's'} in the last year`;
const needText = (prep: Prepared, j: number) => {
  const need = prep.needs[j]!;
  return `${need.skill} level ${need.minLevel}${need.minLevel < 3 ? '+' : ''}`;
};

function coveredSkills(prep: Prepared, i: number): Skill[] {
  const skills: Skill[] = [];
  for (let j = 0; j < prep.needs.length; j++) {
    const skill = prep.needs[j]!.skill;
    if (prep.mask[i]! & (1 << j) && !skills.includes(skill)) skills.push(skill);
  }
  return skills;
}

export function explainMembers(prep: Prepared, team: readonly number[], result: Evaluation): TeamMember[] {
  const ordered = [...team].sort(
    (a, b) => prep.start[a]! - prep.start[b]! || prep.cands[a]!.name.localeCompare(prep.cands[b]!.name),
  );
  return ordered.map((i) => {
    const c = prep.cands[i]!;
    const reasons: string[] = [];
    for (let j = 0; j < prep.needs.length; j++) {
      if (!(prep.mask[i]! & (1 << j))) continue;
      const need = prep.needs[j]!;
      reasons.push(
        `${need.skill} level ${c.skills[need.skill]} (needs ${need.count} at level ${need.minLevel}${need.minLevel < 3 ? ' or above' : ''})`,
      );
    }
    if (prep.mask[i] === 0)
      reasons.push(
        `covers none of the needs: fills the team to ${prep.minSize > 0 ? `its minimum size of ${prep.minSize}` : 'its size'}`,
      );
    const lastToStart = team.length > 1 && prep.start[i] === result.startHours;
    reasons.push(`can start in ${hours(prep.start[i]!)}${lastToStart ? ' (the team starts then)' : ''}`);
    reasons.push(deploymentsText(prep.deployments[i]!));
    const fromParty = result.perParty.get(prep.partyOf[i]!) ?? 0;
    reasons.push(fromParty === 1 ? `the only one from ${c.party}` : `one of ${fromParty} from ${c.party}`);
    return { id: c.id, name: c.name, party: c.party, covers: coveredSkills(prep, i), reasons };
  });
}

export function explainExcluded(
  prep: Prepared,
  team: readonly number[],
  result: Evaluation,
  limit: number,
): TeamSolution['excluded'] {
  const inTeam = new Set(team);
  // "Why not them?" matters most for those declined by their home state, then for those who had
  // something the team needs; those covering no need come last. Within each, by start, deployments.
  const group = (i: number) => (prep.excluded[i] ? 0 : prep.mask[i] === 0 ? 2 : 1);
  const before = (a: number, b: number) =>
    group(a) - group(b) ||
    prep.start[a]! - prep.start[b]! ||
    prep.deployments[a]! - prep.deployments[b]! ||
    a - b;
  // The `limit` best-ranked candidates not in the team, by one pass keeping a short sorted list.
  const nearest: number[] = [];
  for (let i = 0; i < prep.cands.length && limit > 0; i++) {
    if (inTeam.has(i)) continue;
    if (nearest.length === limit && before(i, nearest[limit - 1]!) >= 0) continue;
    let at = nearest.length;
    while (at > 0 && before(i, nearest[at - 1]!) < 0) at--;
    nearest.splice(at, 0, i);
    if (nearest.length > limit) nearest.pop();
  }
  return nearest.map((i) => {
    const c = prep.cands[i]!;
    return { id: c.id, name: c.name, party: c.party, reason: whyNot(prep, team, result, i) };
  });
}

function whyNot(prep: Prepared, team: readonly number[], result: Evaluation, b: number): string {
  const c = prep.cands[b]!;
  if (prep.excluded[b]) return prep.problem.excludedReasons?.[c.id] ?? 'declined by the home state';
  const p = prep.partyOf[b]!;
  if (prep.limit[p] === 0) return `${c.party} sends no one on this mission (its limit is 0)`;
  const current = objectiveTuple(result);
  // The best team one step away that includes b: b added, or b in place of one member.
  let best: { tuple: readonly number[]; evaluation: Evaluation; replaced?: number } | undefined;
  const consider = (next: number[], replaced?: number) => {
    if (!withinLimits(prep, next)) return;
    const evaluation = evaluate(prep, next);
    const tuple = objectiveTuple(evaluation);
    if (!best || compareObjectives(tuple, best.tuple) < 0) best = { tuple, evaluation, replaced };
  };
  consider([...team, b]);
  for (const a of team)
    consider(
      team.map((x) => (x === a ? b : x)),
      a,
    );
  const fromParty = result.perParty.get(p) ?? 0;
  const partyFull = fromParty >= prep.cap[p]!;
  const fullText =
    fromParty >= prep.limit[p]!
      ? `${c.party} already has ${fromParty} member${fromParty === 1 ? '' : 's'} (the limit)`
      : `the team is at its largest size (${prep.maxSize})`;
  if (!best) return fullText;
  const { tuple, evaluation, replaced } = best;
  const other = replaced === undefined ? undefined : prep.cands[replaced]!.name;
  const prefix = partyFull ? `${fullText}; ` : '';
  const level = tuple.findIndex((v, k) => v !== current[k]);
  switch (level) {
    case 0: {
      const lost: string[] = [];
      for (let j = 0; j < prep.needs.length; j++)
        if (evaluation.covered[j]! < Math.min(prep.needs[j]!.count, result.covered[j]!))
          lost.push(needText(prep, j));
      const what = lost.length > 0 ? lost.join(', ') : 'the team below its minimum size';
      return `${prefix}taking them instead of ${other} would leave ${what} short`;
    }
    case 1:
      return `${prefix}starts in ${hours(prep.start[b]!)}; the team can start in ${hours(result.startHours)}`;
    case 2: {
      const still: string[] = [];
      for (let j = 0; j < prep.needs.length; j++)
        if (prep.mask[b]! & (1 << j) && result.covered[j]! < prep.needs[j]!.count)
          still.push(needText(prep, j));
      if (prep.mask[b] === 0) return `${prefix}covers none of the needs, and the team needs no more members`;
      if (still.length === 0)
        return `${prefix}covers nothing the team still needs (${coveredSkills(prep, b).join(', ')} already covered)`;
      return `${prefix}would only make the team larger`;
    }
    case 3:
      return `${prefix}${deploymentsText(prep.deployments[b]!)}; ${other}, whose place they could take, has ${prep.deployments[replaced!]!} (fairness)`;
    case 4:
      return `${prefix}taking them instead of ${other} would make ${c.party} ${evaluation.largestParty} strong, the largest group (national balance)`;
    default:
      return other === undefined
        ? `${prefix}an equal alternative`
        : `${prefix}as good as ${other}, who was preferred on a tie`;
  }
}

export function explainUnmet(prep: Prepared, result: Evaluation): { unmet: UnmetNeed[]; problems: string[] } {
  const unmet: UnmetNeed[] = [];
  const problems: string[] = [];
  for (let j = 0; j < prep.needs.length; j++) {
    const need = prep.needs[j]!;
    const covered = result.covered[j]!;
    if (covered >= need.count) continue;
    const perParty = new Map<number, number>();
    for (const i of prep.usable)
      if (prep.mask[i]! & (1 << j)) perParty.set(prep.partyOf[i]!, (perParty.get(prep.partyOf[i]!) ?? 0) + 1);
    let available = 0;
    for (const [p, k] of perParty) available += Math.min(k, prep.cap[p]!);
    available = Math.min(available, prep.maxSize);
    unmet.push({ skill: need.skill, minLevel: need.minLevel, needed: need.count, covered, available });
    problems.push(
      `${needText(prep, j)}: needs ${need.count}, the best team has ${covered}; ` +
        (available < need.count
          ? `only ${available} such candidate${available === 1 ? '' : 's'} can be on a team within the size and party limits`
          : 'the size and party limits leave no room for more alongside the other needs'),
    );
  }
  if (result.size < prep.minSize)
    problems.push(
      `the team needs at least ${prep.minSize} members, but only ${result.size} can be found within the party limits`,
    );
  return { unmet, problems };
}
