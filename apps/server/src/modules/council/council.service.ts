import type { Decision, NewVote, RequestStatus, VoteChoice } from '@vytis/contracts';
import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import { conflict, forbidden } from '../../errors.ts';
import type { Database, RequestsTable } from '../../platform/db/schema.ts';
import { inTransaction, type Tx } from '../../platform/db/transaction.ts';
import type { RequestJournal } from '../requests/journal.ts';
import { illegalTransitionMessage } from '../requests/lifecycle.ts';
import * as repo from '../requests/requests.repository.ts';
import type { CouncilSettings, RequestsService } from '../requests/requests.service.ts';
import { councilOutcome, tally } from './council.rules.ts';

export interface CouncilDeps {
  db: Kysely<Database>;
  clock: Clock;
  requests: RequestsService;
  journal: RequestJournal;
}

/**
 * The council: one vote per voting party, changeable until the decision, which the framework's
 * rule takes as soon as the outcome is certain or at the decision deadline.
 */
export class CouncilService {
  constructor(private readonly deps: CouncilDeps) {}

  async vote(ctx: Ctx, requestId: string, input: NewVote) {
    const row = await inTransaction(this.deps.db, async (trx) => {
      const request = await this.deps.requests.lockForChange(trx, ctx, requestId, undefined);
      const council = request.council as CouncilSettings | null;
      if (!council) throw conflict(closedMessage(request));
      const party = ctx.actor.party;
      if (!party || !council.electorate.includes(party)) {
        throw forbidden(
          `${party ?? 'your party'} does not sit on the council for this request; its members are ${council.electorate.join(', ')}`,
        );
      }
      if (request.status !== 'voting') throw conflict(closedMessage(request));
      if (this.deps.clock.now() >= new Date(council.closesAt)) {
        // The scheduler decides at closesAt from the votes cast by then; a late vote must not count.
        throw conflict(
          `voting closed at ${council.closesAt}: the decision follows from the votes cast by then`,
        );
      }
      const previous = (await repo.votes(trx, requestId)).find((v) => v.party_code === party);
      await repo.upsertVote(trx, {
        request_id: requestId,
        party_code: party,
        vote: input.vote,
        comment: input.comment ?? null,
        cast_by: ctx.actor.name,
        cast_at: this.deps.clock.now(),
      });
      await this.deps.journal.record(trx, ctx, request, {
        kind: 'vote',
        detail: {
          voter: party,
          vote: input.vote,
          ...(input.comment ? { comment: input.comment } : {}),
          ...(previous ? { changedFrom: previous.vote } : {}),
        },
      });
      return (await this.decide(trx, ctx, request, false)) ?? request;
    });
    return this.deps.requests.present(this.deps.db, row);
  }

  /**
   * Applies the rule to the votes cast. Returns the decided request, or null while the outcome is
   * open (only possible before the deadline). `final` is the deadline's call: whatever was cast decides.
   */
  async decide(
    trx: Tx,
    ctx: Ctx,
    request: Selectable<RequestsTable>,
    final: boolean,
    at = this.deps.clock.now(),
  ) {
    const council = request.council as CouncilSettings;
    const cast = await repo.votes(trx, request.id);
    const votes = new Map(cast.map((v) => [v.party_code, v.vote as VoteChoice]));
    const result = councilOutcome(council.rule, council.electorate, votes, final);
    if (!result) return null;
    const decision: Decision = {
      outcome: result.outcome,
      rule: council.rule,
      decidedAt: at.toISOString(),
      closedEarly: !final,
      tally: tally(council.electorate, votes),
      reason: result.reason,
    };
    const decided = await repo.updateRequest(trx, request.id, {
      status: result.outcome,
      decision: JSON.stringify(decision),
      updated_at: at,
    });
    await repo.meetDeadlines(trx, request.id, ['decision'], at);
    if (result.outcome === 'declined') {
      await repo.meetDeadlines(trx, request.id, ['answer'], at);
      await repo.cancelDeadlines(trx, request.id, ['response']);
    }
    await this.deps.journal.record(trx, ctx, decided, {
      kind: 'decision',
      from: 'voting',
      to: result.outcome,
      detail: { outcome: result.outcome, reason: result.reason, closedEarly: !final, tally: decision.tally },
    });
    return decided;
  }
}

function closedMessage(request: Selectable<RequestsTable>) {
  const status = request.status as RequestStatus;
  const decision = request.decision as Decision | null;
  if (decision)
    return `the council already decided (${decision.outcome}, ${decision.decidedAt}): votes are closed`;
  if (status === 'withdrawn') return 'the request was withdrawn: there is nothing to vote on';
  if (status === 'ineligible') return 'the request is ineligible: it never went to the council';
  if (status === 'draft') return 'the request is a draft: the council votes once it is submitted';
  return illegalTransitionMessage('vote on', status, ['voting']);
}
