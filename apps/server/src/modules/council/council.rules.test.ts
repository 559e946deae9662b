import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VoteChoice } from '@vytis/contracts';
import fc from 'fast-check';
import { type CouncilRule, councilOutcome, tally } from './council.rules.ts';

const SIX = ['EE', 'HR', 'LT', 'NL', 'PL', 'RO'] as const;

/** Votes in the order given, as a map: `votes(['LT', 'activate'], …)`. */
const votes = (...cast: [string, VoteChoice][]) => new Map<string, VoteChoice>(cast);

/** The electorate's first members voting as listed: `firstVote('activate', 'decline')` → EE, HR. */
const firstVote = (...choices: VoteChoice[]) =>
  votes(...choices.map((choice, i): [string, VoteChoice] => [SIX[i]!, choice]));

const outcomeOf = (rule: CouncilRule, cast: Map<string, VoteChoice>, final = false) =>
  councilOutcome(rule, SIX, cast, final)?.outcome ?? null;

describe('council tally', () => {
  it('counts the members’ votes by choice and names who has not voted, in electorate order', () => {
    const cast = votes(['RO', 'activate'], ['EE', 'partial'], ['LT', 'decline'], ['NL', 'abstain']);
    assert.deepEqual(tally(SIX, cast), {
      activate: 1,
      partial: 1,
      decline: 1,
      abstain: 1,
      notVoted: ['HR', 'PL'],
    });
  });

  it('ignores votes of parties outside the electorate', () => {
    const cast = votes(['FI', 'activate'], ['UA', 'decline'], ['LT', 'activate']);
    assert.deepEqual(tally(SIX, cast), {
      activate: 1,
      partial: 0,
      decline: 0,
      abstain: 0,
      notVoted: ['EE', 'HR', 'NL', 'PL', 'RO'],
    });
  });
});

describe('council outcome by majority (6 members: 4 needed)', () => {
  it('activates as soon as the 4th member votes to activate, not before', () => {
    const cast = votes();
    for (const party of ['LT', 'EE', 'PL']) {
      cast.set(party, 'activate');
      assert.equal(councilOutcome('majority', SIX, cast, false), null, `open after ${cast.size} activate`);
    }
    cast.set('NL', 'activate');
    assert.deepEqual(councilOutcome('majority', SIX, cast, false), {
      outcome: 'activated',
      reason: '4 of 6 members voted to activate; a majority is 4',
    });
  });

  it('activates partially once 4 support assistance and full activation can no longer reach 4', () => {
    assert.equal(
      outcomeOf('majority', firstVote('activate', 'activate', 'partial', 'partial')),
      null,
      'the two silent members could still make it a full activation',
    );
    assert.deepEqual(
      councilOutcome(
        'majority',
        SIX,
        firstVote('activate', 'activate', 'partial', 'partial', 'decline'),
        false,
      ),
      {
        outcome: 'partially_activated',
        reason: '4 of 6 members support assistance (2 full, 2 partial); a majority is 4',
      },
    );
    assert.equal(
      outcomeOf('majority', firstVote('partial', 'partial', 'partial', 'partial')),
      'partially_activated',
      'with no full votes, the 2 silent members cannot make it a full activation',
    );
  });

  it('declines as soon as support plus the silent members cannot reach 4', () => {
    assert.equal(
      outcomeOf('majority', firstVote('decline', 'decline')),
      null,
      '0 + 4 silent can still reach 4',
    );
    assert.deepEqual(councilOutcome('majority', SIX, firstVote('decline', 'decline', 'decline'), false), {
      outcome: 'declined',
      reason: 'at most 3 of 6 members can still support assistance; a majority is 4',
    });
    assert.equal(outcomeOf('majority', firstVote('activate', 'decline', 'abstain', 'decline')), 'declined');
  });

  it('decides nothing while the outcome is open', () => {
    assert.equal(outcomeOf('majority', votes()), null, 'no votes yet');
    assert.equal(outcomeOf('majority', firstVote('activate', 'activate', 'activate', 'decline')), null);
    assert.equal(outcomeOf('majority', firstVote('activate', 'partial', 'decline', 'abstain')), null);
  });

  it('at the deadline decides from what was cast', () => {
    assert.deepEqual(councilOutcome('majority', SIX, firstVote('activate', 'activate', 'activate'), true), {
      outcome: 'declined',
      reason: 'only 3 of 6 members supported assistance by the deadline; a majority is 4',
    });
    assert.deepEqual(
      councilOutcome('majority', SIX, firstVote('activate', 'activate', 'partial', 'partial'), true),
      {
        outcome: 'partially_activated',
        reason: '4 of 6 members support assistance (2 full, 2 partial); a majority is 4',
      },
    );
    assert.equal(
      outcomeOf('majority', firstVote('activate', 'activate', 'activate', 'activate'), true),
      'activated',
    );
    assert.deepEqual(councilOutcome('majority', SIX, votes(), true), {
      outcome: 'declined',
      reason: 'only 0 of 6 members supported assistance by the deadline; a majority is 4',
    });
  });

  it('counts an abstention as not supporting: the majority is of all members, not of votes cast', () => {
    // 3 of the 5 votes cast are to activate: a majority of votes, not of members.
    const cast = firstVote('activate', 'activate', 'activate', 'abstain', 'abstain');
    assert.equal(outcomeOf('majority', cast), null, 'the last member could still make it 4');
    assert.equal(outcomeOf('majority', cast, true), 'declined');
    cast.set('RO', 'abstain');
    assert.deepEqual(councilOutcome('majority', SIX, cast, false), {
      outcome: 'declined',
      reason: 'at most 3 of 6 members can still support assistance; a majority is 4',
    });
  });

  it('needs more than half: 3 of 5, 4 of 7, 1 of 1', () => {
    const five = ['EE', 'HR', 'LT', 'NL', 'PL'];
    const three = votes(['EE', 'activate'], ['HR', 'activate'], ['LT', 'activate']);
    assert.equal(councilOutcome('majority', five, three, false)?.outcome, 'activated');
    const seven = [...SIX, 'FI'];
    assert.equal(councilOutcome('majority', seven, three, false), null);
    three.set('FI', 'activate');
    assert.equal(councilOutcome('majority', seven, three, false)?.outcome, 'activated');
    assert.equal(
      councilOutcome('majority', ['LT'], votes(['LT', 'partial']), false)?.outcome,
      'partially_activated',
    );
  });
});

describe('council outcome by unanimity (partners)', () => {
  it('declines at once on any decline or abstention, naming who blocked', () => {
    assert.deepEqual(councilOutcome('unanimity', SIX, votes(['PL', 'decline']), false), {
      outcome: 'declined',
      reason: 'not unanimous: PL did not support assistance',
    });
    const cast = firstVote('activate', 'activate', 'activate', 'activate', 'activate', 'abstain');
    assert.deepEqual(councilOutcome('unanimity', SIX, cast, false), {
      outcome: 'declined',
      reason: 'not unanimous: RO did not support assistance',
    });
    assert.match(
      councilOutcome('unanimity', SIX, votes(['HR', 'abstain'], ['EE', 'decline']), false)!.reason,
      /not unanimous: EE, HR did not support/,
    );
  });

  it('activates when every member votes to activate', () => {
    const five = firstVote('activate', 'activate', 'activate', 'activate', 'activate');
    assert.equal(outcomeOf('unanimity', five), null, 'one member has not voted');
    five.set('RO', 'activate');
    assert.deepEqual(councilOutcome('unanimity', SIX, five, false), {
      outcome: 'activated',
      reason: 'all 6 members voted to activate',
    });
  });

  it('activates partially when every member supports, some only partially', () => {
    const cast = firstVote('activate', 'partial', 'activate', 'activate', 'partial', 'activate');
    assert.deepEqual(councilOutcome('unanimity', SIX, cast, false), {
      outcome: 'partially_activated',
      reason: 'all 6 members support assistance, 2 only partially',
    });
  });

  it('at the deadline, silence blocks: declined, naming the silent members', () => {
    const cast = firstVote('activate', 'activate', 'partial', 'activate');
    assert.equal(outcomeOf('unanimity', cast), null);
    assert.deepEqual(councilOutcome('unanimity', SIX, cast, true), {
      outcome: 'declined',
      reason: 'not unanimous: PL, RO did not vote by the deadline',
    });
  });
});

describe('council outcome with an empty electorate', () => {
  it('declines under either rule, before and at the deadline', () => {
    for (const final of [false, true]) {
      assert.deepEqual(councilOutcome('unanimity', [], votes(), final), {
        outcome: 'declined',
        reason: 'the council has no members',
      });
      assert.equal(councilOutcome('majority', [], votes(), final)?.outcome, 'declined');
      assert.equal(
        councilOutcome('majority', [], votes(['LT', 'activate']), final)?.outcome,
        'declined',
        'a vote from outside the (empty) electorate does not count',
      );
    }
  });
});

describe('council outcome is certain when it is taken early', () => {
  const CODES = ['EE', 'HR', 'LT', 'NL', 'PL', 'RO', 'FI'];
  const CHOICES: readonly VoteChoice[] = ['activate', 'partial', 'decline', 'abstain'];

  /** Every way the silent members could end: each votes one of the four choices or stays silent. */
  function* completions(silent: readonly string[], cast: ReadonlyMap<string, VoteChoice>) {
    const options: (VoteChoice | null)[] = [...CHOICES, null];
    const total = options.length ** silent.length;
    for (let n = 0; n < total; n++) {
      const complete = new Map(cast);
      let rest = n;
      for (const party of silent) {
        const choice = options[rest % options.length]!;
        rest = Math.floor(rest / options.length);
        if (choice) complete.set(party, choice);
      }
      yield complete;
    }
  }

  const scenario = fc
    .tuple(
      fc.constantFrom<CouncilRule>('majority', 'unanimity'),
      fc.subarray(CODES, { minLength: 0, maxLength: 5 }),
      fc.array(fc.option(fc.constantFrom(...CHOICES), { nil: null }), { minLength: 7, maxLength: 7 }),
      fc.option(fc.constantFrom(...CHOICES), { nil: null }),
    )
    .map(([rule, electorate, choices, outsider]) => {
      const cast = new Map<string, VoteChoice>();
      electorate.forEach((party, i) => {
        if (choices[i]) cast.set(party, choices[i]);
      });
      if (outsider) cast.set('UA', outsider); // a vote from outside the electorate changes nothing
      return { rule, electorate, cast };
    });

  it('an early outcome equals the outcome at the deadline for every completion of the missing votes', () => {
    let early = 0;
    fc.assert(
      fc.property(scenario, ({ rule, electorate, cast }) => {
        const decided = councilOutcome(rule, electorate, cast, false);
        if (!decided) return;
        early += 1;
        const silent = tally(electorate, cast).notVoted;
        for (const complete of completions(silent, cast)) {
          const later = councilOutcome(rule, electorate, complete, false);
          const atDeadline = councilOutcome(rule, electorate, complete, true);
          assert.equal(atDeadline?.outcome, decided.outcome, `${rule} ${JSON.stringify([...complete])}`);
          assert.equal(later?.outcome, decided.outcome, 'later votes before the deadline agree too');
        }
      }),
      { numRuns: 400 },
    );
    assert.ok(early > 50, `the property was exercised on early outcomes (${early} of 400 runs)`);
  });

  it('once every member has voted, the outcome never waits for the deadline', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<CouncilRule>('majority', 'unanimity'),
        fc.subarray(CODES, { minLength: 0, maxLength: 7 }),
        fc.array(fc.constantFrom(...CHOICES), { minLength: 7, maxLength: 7 }),
        (rule, electorate, choices) => {
          const cast = new Map(electorate.map((party, i) => [party, choices[i]!]));
          const early = councilOutcome(rule, electorate, cast, false);
          assert.notEqual(early, null);
          assert.deepEqual(early, councilOutcome(rule, electorate, cast, true));
        },
      ),
      { numRuns: 300 },
    );
  });
});
