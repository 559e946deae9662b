import type { Decision, VoteChoice } from '@vytis/contracts';

export type CouncilRule = 'majority' | 'unanimity';
export type Outcome = Decision['outcome'];

export interface Tally {
  activate: number;
  partial: number;
  decline: number;
  abstain: number;
  notVoted: string[];
}

export function tally(electorate: readonly string[], votes: ReadonlyMap<string, VoteChoice>): Tally {
  const counts: Tally = { activate: 0, partial: 0, decline: 0, abstain: 0, notVoted: [] };
  for (const party of electorate) {
    const vote = votes.get(party);
    if (vote) counts[vote] += 1;
    else counts.notVoted.push(party);
  }
  return counts;
}

/**
 * The council's outcome, or null while it is still open. Before the deadline (`final` false) an
 * outcome is returned only when no way the remaining members could vote would change it; at the
 * deadline whatever was cast decides.
 *
 * Majority: more than half of all members (not of votes cast) to activate activates; more than half
 * for activate or partial activates partially. Unanimity: every member must vote activate or
 * partial — a decline or an abstention blocks it, and so does silence at the deadline.
 */
export function councilOutcome(
  rule: CouncilRule,
  electorate: readonly string[],
  votes: ReadonlyMap<string, VoteChoice>,
  final: boolean,
): { outcome: Outcome; reason: string } | null {
  const t = tally(electorate, votes);
  const members = electorate.length;
  const remaining = t.notVoted.length;
  const support = t.activate + t.partial;
  const of = `of ${members} members`;

  if (rule === 'majority') {
    const needed = Math.floor(members / 2) + 1;
    const majority = `a majority is ${needed}`;
    if (t.activate >= needed)
      return { outcome: 'activated', reason: `${t.activate} ${of} voted to activate; ${majority}` };
    if (support >= needed && (final || t.activate + remaining < needed)) {
      return {
        outcome: 'partially_activated',
        reason: `${support} ${of} support assistance (${t.activate} full, ${t.partial} partial); ${majority}`,
      };
    }
    if (support + remaining < needed || final) {
      return {
        outcome: 'declined',
        reason:
          final && support + remaining >= needed
            ? `only ${support} ${of} supported assistance by the deadline; ${majority}`
            : `at most ${support + remaining} ${of} can still support assistance; ${majority}`,
      };
    }
    return null;
  }

  const blockers = electorate.filter((p) => votes.get(p) === 'decline' || votes.get(p) === 'abstain');
  if (blockers.length > 0) {
    return {
      outcome: 'declined',
      reason: `not unanimous: ${blockers.join(', ')} did not support assistance`,
    };
  }
  if (remaining > 0) {
    return final
      ? {
          outcome: 'declined',
          reason: `not unanimous: ${t.notVoted.join(', ')} did not vote by the deadline`,
        }
      : null;
  }
  if (members === 0) return { outcome: 'declined', reason: 'the council has no members' };
  return t.partial === 0
    ? { outcome: 'activated', reason: `all ${members} members voted to activate` }
    : {
        outcome: 'partially_activated',
        reason: `all ${members} members support assistance, ${t.partial} only partially`,
      };
}
