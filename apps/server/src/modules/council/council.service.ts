import type { Decision, NewVote, VoteChoice } from '@vytis/contracts';
import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import type { Database, RequestsTable } from '../../platform/db/schema.ts';
import { inTransaction, readerOf, type Tx } from '../../platform/db/transaction.ts';
import type { RequestJournal } from '../requests/journal.ts';
import { assertMay } from '../requests/permissions.ts';
import * as repo from '../requests/requests.repository.ts';
import { type CouncilSettings, type RequestsService, requireReason } from '../requests/requests.service.ts';
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
      // Who sits on the council, and whether its vote is open: permissions.ts, as the API's can.vote.
      assertMay(ctx.actor, request, 'vote', this.deps.clock.now());
      // A decline refuses help to a state under attack: the council says why.
      if (input.vote === 'decline') requireReason(input, 'why your party declines', 'comment');
      const party = ctx.actor.party!;
      const comment = input.comment?.trim() || undefined;
      if (request.mirrored_from) {
        // The vote is counted, and the decision taken, on the node that speaks for the request.
        await this.deps.requests.forward(trx, ctx, {
          kind: 'vote',
          targetParty: request.mirrored_from,
          targetId: requestId,
          body: { vote: input.vote, ...(comment ? { comment } : {}) },
        });
        return request;
      }
      const previous = (await repo.votes(trx, requestId)).find((v) => v.party_code === party);
      await repo.upsertVote(trx, {
        request_id: requestId,
        party_code: party,
        vote: input.vote,
        comment: comment ?? null,
        cast_by: ctx.actor.name,
        cast_at: this.deps.clock.now(),
      });
      await this.deps.journal.record(trx, ctx, request, {
        kind: 'vote',
        detail: {
          voter: party,
          vote: input.vote,
          ...(comment ? { comment } : {}),
          ...(previous ? { changedFrom: previous.vote } : {}),
        },
      });
      return (await this.decide(trx, ctx, request, false)) ?? request;
    });
    return this.deps.requests.present(readerOf(this.deps.db), row, ctx);
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
