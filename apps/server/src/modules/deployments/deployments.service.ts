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
import type { Ctx } from '../../context.ts';
import { conflict, forbidden, invalidInput, notFound } from '../../errors.ts';
import type { Database, DeploymentsTable } from '../../platform/db/schema.ts';
import { type Executor, inTransaction, readerOf, type Tx } from '../../platform/db/transaction.ts';
import type { NodeKey } from '../../platform/keys.ts';
import { selfParty } from '../federation/feed.repository.ts';
import { forwardIntent, type Intent } from '../federation/loop/intents.ts';
import { mirroredPass } from '../passes/mirrored-pass.ts';
import { issuePass } from '../passes/pass.ts';
import { passQrSvg } from '../passes/qr.ts';
import type { RequestJournal } from '../requests/journal.ts';
import type { RequestRow, RequestsService } from '../requests/requests.service.ts';
import type { TeamsService } from '../teams/teams.service.ts';
import * as repo from './deployments.repository.ts';
import { AT_WORK, DEPLOYMENT_MOVES, whyNotMove } from './lifecycle.ts';
import type { DeploymentMoves } from './moves.ts';
import { memberPassClaims } from './pass-claims.ts';
import {
  deploymentPermissions,
  isHomePoc,
  isHostPoc,
  isMover,
  isPassStaff,
  memberPermissions,
} from './permissions.ts';
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
    if (body.decision === 'decline') body = { ...body, reason: requireReason(body.reason, 'a decline') };
    if (body.decision === 'release') {
      const row = await inTransaction(this.deps.db, async (trx) => {
        const { request, deployment } = await this.lockWithRequest(trx, ctx, deploymentId);
        const { member } = await this.decidable(trx, ctx, deployment, responderId);
        if (deployment.mirrored_from) return this.forwardDecision(trx, ctx, deployment, responderId, body);
        await this.recordDecision(trx, ctx, request, deploymentId, member, body);
        return this.releaseIfComplete(trx, ctx, request, deployment, deployment.proposal_id);
      });
      return this.present(ctx, row);
    }
    const db = readerOf(this.deps.db);
    for (let attempt = 1; attempt <= DECLINE_ATTEMPTS; attempt++) {
      const seen = await repo.findVisibleDeployment(db, ctx.actor, deploymentId);
      if (!seen) throw notFound(`deployment ${deploymentId}`);
      // Refusals come before the solver works, and again under the lock.
      const { members } = await this.decidable(db, ctx, seen, responderId);
      if (seen.mirrored_from) {
        // The gap is solved where the team is kept, never here: this node's roster is not the force's.
        const row = await inTransaction(this.deps.db, async (trx) => {
          const { deployment } = await this.lockWithRequest(trx, ctx, deploymentId);
          await this.decidable(trx, ctx, deployment, responderId);
          return this.forwardDecision(trx, ctx, deployment, responderId, body);
        });
        return this.present(ctx, row);
      }
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

  /** A home state's decision on a copied deployment, sent to the node that keeps the team. */
  private async forwardDecision(
    trx: Tx,
    ctx: Ctx,
    deployment: DeploymentRow,
    responderId: string,
    body: ReleaseBody,
  ) {
    await this.forward(trx, ctx, {
      kind: 'release',
      targetParty: deployment.mirrored_from!,
      targetId: deployment.id,
      body: { responderId, decision: body.decision, ...(body.reason ? { reason: body.reason } : {}) },
    });
    return deployment;
  }

  private forward(trx: Tx, ctx: Ctx, intent: Intent) {
    return forwardIntent(trx, ctx, this.deps, intent);
  }

  /** The member a PoC may decide on now (theirs, pending, on a deployment still open to releases), and the team. */
  private async decidable(db: Executor, ctx: Ctx, deployment: DeploymentRow, responderId: string) {
    const members = await repo.members(db, deployment.id);
    const member = members.find((m) => m.responder_id === responderId);
    if (!member) throw notFound(`responder ${responderId} on this deployment`);
    if (memberPermissions(ctx.actor, deployment, member, false).release) return { member, members };
    if (!isHomePoc(ctx.actor, member)) {
      throw forbidden(
        `only a PoC of ${member.party_code} releases or declines ${member.party_code}'s people`,
      );
    }
    if (deployment.status !== 'proposed')
      throw conflict(`the deployment is ${deployment.status}: releases are closed`);
    throw conflict(`${member.name} is already ${member.status}`);
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
      // The reason is the home state's word about its own person: it stays on the deployment, for
      // those who see the member in full (coordinators, admins, the home party), and in the audit
      // log; the request's timeline reaches the host and, for a GREEN request, the whole community.
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
      if (!deploymentPermissions(ctx.actor, deployment).accept) {
        if (!isHostPoc(ctx.actor, deployment)) {
          throw forbidden(`only a PoC of the host, ${deployment.host_party}, accepts the team`);
        }
        throw conflict(
          deployment.status === 'proposed'
            ? 'every home state must release its people before the host accepts the team'
            : `the deployment is already ${deployment.status}`,
        );
      }
      if (deployment.mirrored_from) {
        await this.forward(trx, ctx, {
          kind: 'accept',
          targetParty: deployment.mirrored_from,
          targetId: deploymentId,
          body: {
            personnelStatus: body.personnelStatus,
            access: body.access,
            liabilityAgreementSha256: body.liabilityAgreementSha256,
            ...(body.note ? { note: body.note } : {}),
          },
        });
        return deployment;
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
      if (await selfParty(trx)) {
        // Federated: each pass is fixed now, so this node can sign it for the home and host nodes.
        for (const member of await repo.members(trx, deploymentId)) {
          if (member.status === 'released') await this.fixPassIn(trx, ctx, request, deploymentId, member);
        }
      }
      return accepted;
    });
    return this.present(ctx, row);
  }

  /**
   * A move of DEPLOYMENT_MOVES by a coordinator or the host's PoC, checked against the mission's
   * mode; standing down stands the request down too and ends the passes.
   */
  async setStatus(
    ctx: Ctx,
    deploymentId: string,
    status: 'en_route' | 'remote' | 'on_site' | 'stood_down',
    reason?: string | undefined,
  ) {
    const why = reason?.trim() ? reason.trim() : undefined;
    const row = await inTransaction(this.deps.db, async (trx) => {
      const { request, deployment } = await this.lockWithRequest(trx, ctx, deploymentId);
      const can = deploymentPermissions(ctx.actor, deployment);
      const allowed = status === 'stood_down' ? can.standDown : can.moveTo.includes(status);
      if (!allowed && !isMover(ctx.actor, deployment)) {
        throw forbidden("only a coordinator or the host's PoC moves a deployment along");
      }
      const whyNot = whyNotMove(status, deployment, request.status);
      if (whyNot) throw conflict(whyNot);
      if (deployment.mirrored_from) {
        await this.forward(trx, ctx, {
          kind: 'deployment-status',
          targetParty: deployment.mirrored_from,
          targetId: deploymentId,
          body: { status, ...(why ? { reason: why } : {}) },
        });
        return deployment;
      }
      const moved = await this.deps.moves.apply(trx, ctx, request, deployment, status, {
        ...(why ? { reason: why, audit: { reason: why } } : {}),
      });
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
    const isThemself = ctx.actor.id !== null && member.user_id === ctx.actor.id;
    if (!memberPermissions(ctx.actor, deployment, member, isThemself).pass) {
      if (!isPassStaff(ctx.actor, deployment, member) && !isThemself)
        throw forbidden(
          'only the responder themself, their home or host PoC, coordinators and admins get passes',
        );
      requireAtWork(deployment.status);
      throw forbidden('only a responder opens their own pass');
    }
    // The node that keeps the team signs its passes; a copy holds the ones it sent.
    if (deployment.mirrored_from) return mirroredPass(this.deps.db, deploymentId, responderId);
    const request = await this.deps.requests.findForSystem(deployment.request_id);
    const { passId, issuedAt } = await this.passFor(ctx, request, deploymentId, member);
    const token = await issuePass(
      this.deps.key,
      memberPassClaims(deployment, member, request.exercise),
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
      return this.fixPassIn(trx, ctx, request, deploymentId, member);
    });
  }

  /** Fixes a member's pass id and time of issue in the caller's transaction, once; audited and journalled the first time. */
  private async fixPassIn(
    trx: Tx,
    ctx: Ctx,
    request: RequestRow,
    deploymentId: string,
    member: { responder_id: string; party_code: string },
  ) {
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
  }

  /** Revokes a member's pass, for a reason (required: it goes on the timeline and the audit log). */
  async revokePass(ctx: Ctx, deploymentId: string, responderId: string, given: string | undefined) {
    const reason = requireReason(given, 'a pass revocation');
    return inTransaction(this.deps.db, async (trx) => {
      const { request, deployment } = await this.lockWithRequest(trx, ctx, deploymentId);
      const member = (await repo.members(trx, deploymentId)).find((m) => m.responder_id === responderId);
      if (!member?.pass_id) throw notFound(`a pass of responder ${responderId} on this deployment`);
      if (!memberPermissions(ctx.actor, deployment, member, false).revokePass) {
        if (!isPassStaff(ctx.actor, deployment, member))
          throw forbidden("only the responder's home or host PoC, coordinators and admins revoke passes");
        throw conflict('this pass is already revoked');
      }
      if (deployment.mirrored_from) {
        // The revocation list is signed by the node that issued the pass.
        await this.forward(trx, ctx, {
          kind: 'revoke-pass',
          targetParty: deployment.mirrored_from,
          targetId: deploymentId,
          body: { responderId, reason },
        });
        return { revoked: [member.pass_id], updatedAt: this.deps.clock.now().toISOString() };
      }
      const inserted = await repo.insertRevocation(trx, {
        pass_id: member.pass_id,
        deployment_id: deploymentId,
        responder_id: responderId,
        revoked_at: this.deps.clock.now(),
        revoked_by: ctx.actor.name,
        reason,
      });
      if (!inserted) throw conflict('this pass is already revoked');
      await this.deps.moves.passRevoked(trx, ctx, request, deploymentId, member, reason);
      return { revoked: [member.pass_id], updatedAt: inserted.revoked_at.toISOString() };
    });
  }

  /**
   * A request's withdrawal or stand-down, made on the node of the request's party (`requestParty`),
   * carried to its team kept here: the deployment is cancelled or stood down with it.
   */
  async carryRequestMove(
    ctx: Ctx,
    requestParty: string,
    input: { requestId: string; deploymentId: string; move: 'cancelled' | 'stood_down'; reason: string },
  ) {
    return inTransaction(this.deps.db, async (trx) => {
      const request = await this.deps.requests.lockForSystem(trx, input.requestId).catch(() => undefined);
      if (!request) throw notFound(`request ${input.requestId}`);
      if (request.party_code !== requestParty || request.mirrored_from !== requestParty) {
        throw forbidden(`only ${request.party_code}'s node moves the team of its request along with it`);
      }
      // The request's own move arrives before the intent that carries it (same page, in order).
      const carried = input.move === 'cancelled' ? 'withdrawn' : 'stood_down';
      if (request.status !== carried) {
        throw conflict(`the request is ${request.status}, not ${carried}: its team moves only with it`);
      }
      const deployment = await repo.lockLiveDeploymentOf(trx, request.id);
      if (!deployment || deployment.id !== input.deploymentId || deployment.mirrored_from) {
        throw conflict(`deployment ${input.deploymentId} of this request is not under way on this node`);
      }
      return this.deps.moves.apply(trx, ctx, request, deployment, input.move, {
        reason: input.reason,
        requestMoved: true,
      });
    });
  }

  present(ctx: Ctx, row: DeploymentRow): Promise<Deployment> {
    return presentDeployment(readerOf(this.deps.db), ctx.actor, row);
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

/** A reason the law wants (a decline, a pass revocation): a 400 naming the field when it is missing. */
function requireReason(reason: string | undefined, act: string): string {
  const text = reason?.trim() ?? '';
  if (text === '') {
    throw invalidInput(`${act} needs a reason: say why, it is recorded in the timeline and the audit log`, [
      { field: 'body/reason', message: `is required for ${act}` },
    ]);
  }
  return text;
}
