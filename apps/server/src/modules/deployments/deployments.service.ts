import crypto from 'node:crypto';
import type {
  AcceptanceBody,
  Deployment,
  DeploymentStatus,
  ReleaseBody,
  TeamProposal,
} from '@vytis/contracts';
import type { Kysely, Selectable } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import { type Ctx, hasRole } from '../../context.ts';
import { conflict, forbidden, notFound } from '../../errors.ts';
import type { Database, DeploymentsTable } from '../../platform/db/schema.ts';
import { type Executor, inTransaction, type Tx } from '../../platform/db/transaction.ts';
import type { NodeKey } from '../../platform/keys.ts';
import { issuePass } from '../passes/pass.ts';
import { passQrSvg } from '../passes/qr.ts';
import type { RequestJournal } from '../requests/journal.ts';
import type { RequestRow, RequestsService } from '../requests/requests.service.ts';
import type { TeamsService } from '../teams/teams.service.ts';
import * as repo from './deployments.repository.ts';
import { AT_WORK, DEPLOYMENT_MOVES } from './lifecycle.ts';
import type { DeploymentMoves } from './moves.ts';
import { presentDeployment } from './present.ts';

export interface DeploymentsDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  key: NodeKey;
  requests: RequestsService;
  journal: RequestJournal;
  moves: DeploymentMoves;
  /** A decline re-solves the gap it leaves. */
  teams: TeamsService;
}

type DeploymentRow = Selectable<DeploymentsTable>;

/** Solves of the gap a decline leaves before the decline gives up: each lost a race for the team. */
const DECLINE_ATTEMPTS = 3;

/**
 * A deployment after adoption: each home state's release, the host's acceptance, the moves of
 * DEPLOYMENT_MOVES (in step with the request's), and the responders' passes. Everything that
 * happens here is journalled on the request: timeline, live events and webhooks.
 */
export class DeploymentsService {
  constructor(private readonly deps: DeploymentsDeps) {}

  /**
   * Locks the request, then the deployment: the order every path takes (adoption and the
   * request's own moves lock the request first), so two of them never wait on each other.
   */
  private async lockWithRequest(trx: Tx, ctx: Ctx, deploymentId: string) {
    const seen = await repo.findVisibleDeployment(trx, ctx.actor, deploymentId);
    if (!seen) throw notFound(`deployment ${deploymentId}`);
    const request = await this.deps.requests.lockForSystem(trx, seen.request_id);
    const deployment = await repo.lockVisibleDeployment(trx, ctx.actor, deploymentId);
    if (!deployment) throw notFound(`deployment ${deploymentId}`);
    return { request, deployment };
  }

  /** Deployments the viewer may see: of one request, or (`mine`) those the caller is on as a responder. */
  async list(ctx: Ctx, query: { requestId?: string | undefined; mine?: boolean | undefined }) {
    const rows = await repo.listVisibleDeployments(this.deps.db, ctx.actor, {
      requestId: query.requestId,
      ...(query.mine ? { memberUserId: ctx.actor.id ?? '00000000-0000-0000-0000-000000000000' } : {}),
    });
    return { items: await Promise.all(rows.map((row) => this.present(ctx, row))) };
  }

  async get(ctx: Ctx, id: string) {
    const row = await repo.findVisibleDeployment(this.deps.db, ctx.actor, id);
    if (!row) throw notFound(`deployment ${id}`);
    return this.present(ctx, row);
  }

  /**
   * A home state's PoC releases or declines one of its own people. A decline re-solves without
   * them: the solver works outside the transaction, then the new team is applied under lock if the
   * deployment has not changed meanwhile and its newcomers are still free — else it solves again.
   */
  async release(ctx: Ctx, deploymentId: string, responderId: string, body: ReleaseBody) {
    if (body.decision === 'release') {
      const row = await inTransaction(this.deps.db, async (trx) => {
        const { request, deployment } = await this.lockWithRequest(trx, ctx, deploymentId);
        const { member } = await this.decidable(trx, ctx, deployment, responderId);
        await this.recordDecision(trx, ctx, request, deploymentId, member, body);
        return this.releaseIfComplete(trx, ctx, request, deployment, deployment.proposal_id);
      });
      return this.present(ctx, row);
    }
    for (let attempt = 1; attempt <= DECLINE_ATTEMPTS; attempt++) {
      const seen = await repo.findVisibleDeployment(this.deps.db, ctx.actor, deploymentId);
      if (!seen) throw notFound(`deployment ${deploymentId}`);
      // Refusals come before the solver works, and again under the lock.
      const { members } = await this.decidable(this.deps.db, ctx, seen, responderId);
      const staying = members
        .filter((m) => repo.BOOKED_MEMBER.includes(m.status) && m.responder_id !== responderId)
        .map((m) => m.responder_id);
      const request = await this.deps.requests.findForSystem(seen.request_id);
      const solved = await this.deps.teams.solveAfterDecline(request, deploymentId, responderId, staying);
      const row = await inTransaction(this.deps.db, async (trx) => {
        const { request, deployment } = await this.lockWithRequest(trx, ctx, deploymentId);
        const { member, members: current } = await this.decidable(trx, ctx, deployment, responderId);
        if (deployment.version !== seen.version) return null;
        const alreadyOn = new Set(
          current.filter((m) => repo.BOOKED_MEMBER.includes(m.status)).map((m) => m.responder_id),
        );
        const proposal = await this.deps.teams.adoptAfterDecline(trx, ctx, request, solved, alreadyOn);
        if (!proposal) return null;
        await this.recordDecision(trx, ctx, request, deploymentId, member, body);
        const afterDecision = await repo.members(trx, deploymentId);
        await this.applyTeam(trx, ctx, request, deploymentId, afterDecision, solved.stored.members);
        return this.releaseIfComplete(trx, ctx, request, deployment, proposal.id);
      });
      if (row) return this.present(ctx, row);
    }
    throw conflict(
      'the team changed while the gap left by this decline was being solved, again and again: try again',
    );
  }

  /** The member a PoC may decide on now (theirs, pending, on a deployment still open to releases), and the team. */
  private async decidable(db: Executor, ctx: Ctx, deployment: DeploymentRow, responderId: string) {
    const members = await repo.members(db, deployment.id);
    const member = members.find((m) => m.responder_id === responderId);
    if (!member) throw notFound(`responder ${responderId} on this deployment`);
    if (!hasRole(ctx.actor, 'poc') || ctx.actor.party !== member.party_code) {
      throw forbidden(
        `only a PoC of ${member.party_code} releases or declines ${member.party_code}'s people`,
      );
    }
    if (deployment.status !== 'proposed')
      throw conflict(`the deployment is ${deployment.status}: releases are closed`);
    if (member.status !== 'pending') throw conflict(`${member.name} is already ${member.status}`);
    return { member, members };
  }

  private async recordDecision(
    trx: Tx,
    ctx: Ctx,
    request: RequestRow,
    deploymentId: string,
    member: { responder_id: string; party_code: string },
    body: ReleaseBody,
  ) {
    const released = body.decision === 'release';
    await repo.updateMember(trx, deploymentId, member.responder_id, {
      status: released ? 'released' : 'declined',
      decided_by: ctx.actor.name,
      decided_at: this.deps.clock.now(),
      decision_reason: body.reason ?? null,
    });
    await this.deps.audit.record(trx, ctx, {
      action: released ? 'deployment.member.release' : 'deployment.member.decline',
      objectType: 'deployment',
      objectId: deploymentId,
      summary: { responderId: member.responder_id, party: member.party_code, reason: body.reason ?? null },
    });
    await this.deps.journal.record(trx, ctx, request, {
      kind: released ? 'deployment.member.released' : 'deployment.member.declined',
      // The home state's reason stays on the deployment, for those who see it.
      detail: { deploymentId, responderId: member.responder_id, party: member.party_code },
    });
  }

  /** Once everyone on a team that meets every need is released, the deployment is released. */
  private async releaseIfComplete(
    trx: Tx,
    ctx: Ctx,
    request: RequestRow,
    deployment: DeploymentRow,
    proposalId: string,
  ) {
    const active = (await repo.members(trx, deployment.id)).filter((m) =>
      repo.BOOKED_MEMBER.includes(m.status),
    );
    // A re-solve after a decline that could not meet every need holds the team back.
    const proposal = await this.deps.teams.proposalOf(trx, deployment.request_id, proposalId);
    if (proposal?.feasible && active.length > 0 && active.every((m) => m.status === 'released')) {
      return this.deps.moves.apply(trx, ctx, request, deployment, 'released', {
        changes: { proposal_id: proposalId },
        audit: { members: active.map((m) => m.responder_id) },
      });
    }
    return repo.updateDeployment(trx, deployment.id, {
      proposal_id: proposalId,
      updated_at: this.deps.clock.now(),
    });
  }

  /**
   * Brings the deployment's members in line with a re-solved team: those it drops are replaced,
   * those it brings join as pending — also someone replaced earlier whom it picks again.
   */
  private async applyTeam(
    trx: Tx,
    ctx: Ctx,
    request: RequestRow,
    deploymentId: string,
    current: Awaited<ReturnType<typeof repo.members>>,
    team: TeamProposal['members'],
  ) {
    const wanted = new Set(team.map((m) => m.responderId));
    for (const m of current) {
      if (repo.BOOKED_MEMBER.includes(m.status) && !wanted.has(m.responder_id)) {
        await repo.updateMember(trx, deploymentId, m.responder_id, { status: 'replaced' });
        await this.deps.journal.record(trx, ctx, request, {
          kind: 'deployment.member.replaced',
          detail: { deploymentId, responderId: m.responder_id, party: m.party_code },
        });
      }
    }
    const byId = new Map(current.map((m) => [m.responder_id, m]));
    const newcomers = team.filter((m) => !repo.BOOKED_MEMBER.includes(byId.get(m.responderId)?.status ?? ''));
    for (const m of newcomers.filter((n) => byId.has(n.responderId))) {
      await repo.updateMember(trx, deploymentId, m.responderId, {
        status: 'pending',
        reasons: JSON.stringify(m.reasons),
        decided_by: null,
        decided_at: null,
        decision_reason: null,
      });
    }
    await repo.insertMembers(
      trx,
      newcomers
        .filter((m) => !byId.has(m.responderId))
        .map((m) => ({
          deployment_id: deploymentId,
          responder_id: m.responderId,
          party_code: m.party,
          status: 'pending',
          reasons: JSON.stringify(m.reasons),
        })),
    );
    for (const m of newcomers) {
      await this.deps.journal.record(trx, ctx, request, {
        kind: 'deployment.member.added',
        detail: { deploymentId, responderId: m.responderId, party: m.party },
      });
    }
  }

  /** The host party's PoC accepts the released team on its territory: the request is deployed. */
  async accept(ctx: Ctx, deploymentId: string, body: AcceptanceBody) {
    const row = await inTransaction(this.deps.db, async (trx) => {
      const { request, deployment } = await this.lockWithRequest(trx, ctx, deploymentId);
      if (!hasRole(ctx.actor, 'poc') || ctx.actor.party !== deployment.host_party) {
        throw forbidden(`only a PoC of the host, ${deployment.host_party}, accepts the team`);
      }
      if (deployment.status !== 'released') {
        throw conflict(
          deployment.status === 'proposed'
            ? 'every home state must release its people before the host accepts the team'
            : `the deployment is already ${deployment.status}`,
        );
      }
      const now = this.deps.clock.now();
      const acceptance = {
        personnelStatus: body.personnelStatus,
        access: body.access,
        liabilityAgreementSha256: body.liabilityAgreementSha256,
        note: body.note ?? null,
        acceptedAt: now.toISOString(),
        acceptedBy: ctx.actor.name,
      };
      const accepted = await this.deps.moves.apply(trx, ctx, request, deployment, 'accepted', {
        changes: { acceptance: JSON.stringify(acceptance) },
        audit: {
          hostParty: deployment.host_party,
          liabilityAgreementSha256: body.liabilityAgreementSha256,
        },
      });
      // The host's acceptance, and only it, deploys the request and meets its response clock.
      await this.deps.requests.applyTransition(trx, ctx, request, DEPLOYMENT_MOVES.accepted.request!);
      return accepted;
    });
    return this.present(ctx, row);
  }

  /**
   * A move of DEPLOYMENT_MOVES by a coordinator or the host's PoC, checked against the mission's
   * mode; standing down stands the request down too and ends the passes.
   */
  async setStatus(ctx: Ctx, deploymentId: string, status: 'en_route' | 'remote' | 'on_site' | 'stood_down') {
    const row = await inTransaction(this.deps.db, async (trx) => {
      const { request, deployment } = await this.lockWithRequest(trx, ctx, deploymentId);
      const hostPoc = hasRole(ctx.actor, 'poc') && ctx.actor.party === deployment.host_party;
      if (!hasRole(ctx.actor, 'coordinator') && !hostPoc) {
        throw forbidden("only a coordinator or the host's PoC moves a deployment along");
      }
      const moved = await this.deps.moves.apply(trx, ctx, request, deployment, status);
      const requestMove = DEPLOYMENT_MOVES[status].request;
      if (requestMove) await this.deps.requests.applyTransition(trx, ctx, request, requestMove);
      return moved;
    });
    return this.present(ctx, row);
  }

  /**
   * A released member's pass, once the host has accepted: for the responder's home and host PoCs,
   * coordinators and admins. The pass id is fixed at first issue, so a revocation sticks.
   */
  async pass(ctx: Ctx, deploymentId: string, responderId: string) {
    const deployment = await repo.findVisibleDeployment(this.deps.db, ctx.actor, deploymentId);
    if (!deployment) throw notFound(`deployment ${deploymentId}`);
    const member = (await repo.members(this.deps.db, deploymentId)).find(
      (m) => m.responder_id === responderId,
    );
    if (member?.status !== 'released')
      throw notFound(`a released responder ${responderId} on this deployment`);
    const mayHold =
      hasRole(ctx.actor, 'coordinator', 'admin') ||
      (hasRole(ctx.actor, 'poc') &&
        [member.party_code, deployment.host_party].includes(ctx.actor.party ?? '')) ||
      (ctx.actor.id !== null && (await repo.userOfResponder(this.deps.db, responderId)) === ctx.actor.id);
    if (!mayHold)
      throw forbidden(
        'only the responder themself, their home or host PoC, coordinators and admins get passes',
      );
    requireAtWork(deployment.status);
    const request = await this.deps.requests.findForSystem(deployment.request_id);
    const { passId, issuedAt } = await this.passFor(ctx, request, deploymentId, member);
    const token = await issuePass(
      this.deps.key,
      {
        responderId,
        responderName: member.name,
        homeParty: member.party_code,
        hostParty: deployment.host_party,
        deploymentId,
        requestId: deployment.request_id,
        window: { from: deployment.window_from.toISOString(), to: deployment.window_to.toISOString() },
        skills: member.skills as { skill: string; level: number }[],
        exercise: request.exercise,
      },
      issuedAt,
      passId,
    );
    return {
      pass: token,
      passId,
      keyId: this.deps.key.keyId,
      expiresAt: deployment.window_to.toISOString(),
      qrSvg: await passQrSvg(token),
    };
  }

  /** The pass's id and time of issue, fixed the first time it is asked for. */
  private async passFor(
    ctx: Ctx,
    request: RequestRow,
    deploymentId: string,
    member: { responder_id: string; party_code: string; pass_id: string | null; pass_issued_at: Date | null },
  ) {
    if (member.pass_id && member.pass_issued_at)
      return { passId: member.pass_id, issuedAt: member.pass_issued_at };
    return inTransaction(this.deps.db, async (trx) => {
      // A stand-down that committed since the check above has revoked every fixed pass but this one.
      requireAtWork((await repo.shareLockDeployment(trx, deploymentId))?.status ?? 'cancelled');
      const fixed = await repo.fixPass(
        trx,
        deploymentId,
        member.responder_id,
        crypto.randomUUID(),
        this.deps.clock.now(),
      );
      if (fixed.created) {
        await this.deps.audit.record(trx, ctx, {
          action: 'pass.issue',
          objectType: 'deployment',
          objectId: deploymentId,
          summary: { responderId: member.responder_id, passId: fixed.passId },
        });
        await this.deps.journal.record(trx, ctx, request, {
          kind: 'pass.issued',
          detail: {
            deploymentId,
            responderId: member.responder_id,
            party: member.party_code,
            passId: fixed.passId,
          },
        });
      }
      return { passId: fixed.passId, issuedAt: fixed.issuedAt };
    });
  }

  async revokePass(ctx: Ctx, deploymentId: string, responderId: string, reason: string | undefined) {
    return inTransaction(this.deps.db, async (trx) => {
      const { request, deployment } = await this.lockWithRequest(trx, ctx, deploymentId);
      const member = (await repo.members(trx, deploymentId)).find((m) => m.responder_id === responderId);
      if (!member?.pass_id) throw notFound(`a pass of responder ${responderId} on this deployment`);
      const mayRevoke =
        hasRole(ctx.actor, 'coordinator', 'admin') ||
        (hasRole(ctx.actor, 'poc') &&
          [member.party_code, deployment.host_party].includes(ctx.actor.party ?? ''));
      if (!mayRevoke)
        throw forbidden("only the responder's home or host PoC, coordinators and admins revoke passes");
      const inserted = await repo.insertRevocation(trx, {
        pass_id: member.pass_id,
        deployment_id: deploymentId,
        responder_id: responderId,
        revoked_at: this.deps.clock.now(),
        revoked_by: ctx.actor.name,
        reason: reason ?? null,
      });
      if (!inserted) throw conflict('this pass is already revoked');
      await this.deps.moves.passRevoked(trx, ctx, request, deploymentId, member, reason ?? null);
      return { revoked: [member.pass_id], updatedAt: inserted.revoked_at.toISOString() };
    });
  }

  present(ctx: Ctx, row: DeploymentRow): Promise<Deployment> {
    return presentDeployment(this.deps.db, ctx.actor, row);
  }
}

function requireAtWork(status: string) {
  if (AT_WORK.includes(status as DeploymentStatus)) return;
  throw conflict(
    status === 'stood_down'
      ? 'the deployment stood down: its passes ended with the mission'
      : `passes are issued once the host has accepted the team; the deployment is ${status}`,
  );
}
