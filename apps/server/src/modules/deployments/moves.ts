import type { Selectable } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import { conflict } from '../../errors.ts';
import type { DeploymentsTable, RequestsTable } from '../../platform/db/schema.ts';
import type { Tx } from '../../platform/db/transaction.ts';
import { forwardIntent, type Intent } from '../federation/loop/intents.ts';
import type { RequestJournal } from '../requests/journal.ts';
import type { TransitionName } from '../requests/lifecycle.ts';
import * as repo from './deployments.repository.ts';
import {
  DEPLOYMENT_MOVES,
  type DeploymentMoveName,
  REQUEST_MOVES_WITH_DEPLOYMENT,
  whyNotMove,
} from './lifecycle.ts';

type DeploymentRow = Selectable<DeploymentsTable>;
type RequestRow = Selectable<RequestsTable>;

/** The audit action of each move, as the deployment's audit trail has always named them. */
const AUDIT_ACTION: Record<DeploymentMoveName, string> = {
  released: 'deployment.released',
  accepted: 'deployment.accept',
  en_route: 'deployment.en_route',
  remote: 'deployment.remote',
  on_site: 'deployment.on_site',
  stood_down: 'deployment.stood_down',
  cancelled: 'deployment.cancelled',
};

/**
 * What a request's move asks of its deployment, run by the requests service under the request's
 * lock; and how a move made on a copy is sent to the node that speaks for it.
 */
export interface RequestMoveGuard {
  beforeRequestMove(trx: Tx, ctx: Ctx, request: RequestRow, name: TransitionName): Promise<void>;
  forward(trx: Tx, ctx: Ctx, intent: Intent): Promise<string>;
}

/**
 * The one place a deployment changes state: each move is checked against DEPLOYMENT_MOVES (from,
 * mode, the request's state), audited on the deployment, journalled on the request (timeline, live
 * events, webhooks), and ends the passes when the table says so. It needs no other service, so the
 * requests service can hold it to move a deployment along with the request's own moves.
 */
export class DeploymentMoves implements RequestMoveGuard {
  constructor(private readonly deps: { clock: Clock; audit: AuditService; journal: RequestJournal }) {}

  /**
   * Moves a deployment the caller has locked (after its request). The request's own move that goes
   * with it (DEPLOYMENT_MOVES[to].request) is the caller's to make.
   */
  async apply(
    trx: Tx,
    ctx: Ctx,
    request: RequestRow,
    deployment: DeploymentRow,
    to: DeploymentMoveName,
    extra: {
      audit?: Record<string, unknown>;
      changes?: { acceptance?: string; proposal_id?: string };
      reason?: string;
      /**
       * The request has already made its move on the node that speaks for it (a carried withdrawal
       * or stand-down): its copy here may show either side of that move, so it is not checked.
       */
      requestMoved?: boolean;
    } = {},
  ): Promise<DeploymentRow> {
    const requestStatus = extra.requestMoved ? DEPLOYMENT_MOVES[to].requestIn[0]! : request.status;
    const why = whyNotMove(to, deployment, requestStatus);
    if (why) throw conflict(why);
    const now = this.deps.clock.now();
    const moved = await repo.updateDeployment(trx, deployment.id, {
      status: to,
      updated_at: now,
      ...extra.changes,
    });
    await this.deps.audit.record(trx, ctx, {
      action: AUDIT_ACTION[to],
      objectType: 'deployment',
      objectId: deployment.id,
      summary: { from: deployment.status, to, ...extra.audit },
    });
    await this.deps.journal.record(trx, ctx, request, {
      kind: `deployment.${to}`,
      detail: {
        deploymentId: deployment.id,
        deploymentStatus: to,
        previousStatus: deployment.status,
        mode: deployment.mode,
        ...(extra.reason ? { reason: extra.reason } : {}),
      },
    });
    if (to === 'stood_down') await this.endPasses(trx, ctx, request, deployment.id, now);
    return moved;
  }

  /** Sends what a user did to a copy to the node that speaks for it, in the caller's transaction. */
  forward(trx: Tx, ctx: Ctx, intent: Intent): Promise<string> {
    return forwardIntent(trx, ctx, this.deps, intent);
  }

  /** Standing down is the end of the mission: every pass still valid joins the revocation list. */
  private async endPasses(trx: Tx, ctx: Ctx, request: RequestRow, deploymentId: string, now: Date) {
    const reason = 'the mission stood down';
    for (const member of await repo.unrevokedPasses(trx, deploymentId)) {
      const inserted = await repo.insertRevocation(trx, {
        pass_id: member.pass_id!,
        deployment_id: deploymentId,
        responder_id: member.responder_id,
        revoked_at: now,
        revoked_by: ctx.actor.name,
        reason,
      });
      if (!inserted) continue;
      await this.passRevoked(trx, ctx, request, deploymentId, member, reason);
    }
  }

  /** A revoked pass, on the deployment's audit trail and the request's journal. */
  async passRevoked(
    trx: Tx,
    ctx: Ctx,
    request: RequestRow,
    deploymentId: string,
    member: { responder_id: string; party_code: string; pass_id: string | null },
    reason: string | null,
  ) {
    await this.deps.audit.record(trx, ctx, {
      action: 'pass.revoke',
      objectType: 'deployment',
      objectId: deploymentId,
      summary: { responderId: member.responder_id, passId: member.pass_id, reason },
    });
    await this.deps.journal.record(trx, ctx, request, {
      kind: 'pass.revoked',
      detail: {
        deploymentId,
        responderId: member.responder_id,
        party: member.party_code,
        passId: member.pass_id,
        reason,
      },
    });
  }

  /**
   * A request's own move (its route) keeps its deployment in step: `deploy` needs a deployment the
   * host accepted; `stand-down` stands the team down with it; `withdraw` cancels a team still
   * being assembled. Called under the request's lock, before the request moves.
   */
  async beforeRequestMove(trx: Tx, ctx: Ctx, request: RequestRow, name: TransitionName) {
    const rule = REQUEST_MOVES_WITH_DEPLOYMENT[name];
    if (!rule) return;
    const deployment = await repo.lockLiveDeploymentOf(trx, request.id);
    if (rule.carries && deployment?.mirrored_from) {
      // The team is kept on another node: it moves there, when that node applies this.
      await this.forward(trx, ctx, {
        kind: 'carry',
        targetParty: deployment.mirrored_from,
        targetId: deployment.id,
        body: {
          move: rule.carries,
          reason: `the request was ${name === 'withdraw' ? 'withdrawn' : 'stood down'}`,
          requestId: request.id,
        },
      });
      return;
    }
    if (rule.requires && !(deployment && rule.requires.includes(deployment.status as never))) {
      throw conflict(
        deployment
          ? `cannot ${name} this request: its deployment is ${deployment.status.replace('_', ' ')}; the request is deployed when the host accepts the team (POST /deployments/${deployment.id}/acceptance)`
          : `cannot ${name} this request: it has no deployment the host accepted; adopt a team proposal, have each home state release its people and the host accept the team`,
      );
    }
    if (rule.carries && deployment) {
      await this.apply(trx, ctx, request, deployment, rule.carries, {
        reason: `the request was ${name === 'withdraw' ? 'withdrawn' : 'stood down'}`,
      });
    }
  }
}
