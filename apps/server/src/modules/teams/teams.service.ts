import crypto from 'node:crypto';
import type {
  AcceptanceBody,
  Clearance,
  Deployment,
  DeploymentStatus,
  Framework,
  HomeStateRestriction,
  NewRequest,
  PartyStatus,
  ReleaseBody,
  Skill,
  TeamProposal,
} from '@vytis/contracts';
import { CLEARANCES } from '@vytis/contracts';
import type { Kysely, Selectable } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import { type Ctx, hasRole } from '../../context.ts';
import { conflict, forbidden, notFound } from '../../errors.ts';
import { utcDay } from '../../platform/days.ts';
import type { Database, DeploymentsTable, TeamProposalsTable } from '../../platform/db/schema.ts';
import { inTransaction, type Tx } from '../../platform/db/transaction.ts';
import { CAPITALS, distanceKm, travelHours } from '../../platform/geo.ts';
import type { NodeKey } from '../../platform/keys.ts';
import type { FrameworkService } from '../framework/framework.service.ts';
import * as parties from '../parties/parties.repository.ts';
import { issuePass } from '../passes/pass.ts';
import { passQrSvg } from '../passes/qr.ts';
import type { RequestJournal } from '../requests/journal.ts';
import type { RequestRow, RequestsService } from '../requests/requests.service.ts';
import type { Candidate, Need, TeamProblem, TeamSolution } from './solver/types.ts';
import * as repo from './teams.repository.ts';

export interface TeamsDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  key: NodeKey;
  framework: FrameworkService;
  requests: RequestsService;
  journal: RequestJournal;
  /** The exact solver, off the request thread in the node. */
  solve: (problem: TeamProblem) => Promise<TeamSolution>;
}

const YEAR_MS = 365 * 86_400_000;
const PROPOSABLE = ['activated', 'partially_activated', 'assembling'];
const rank = (clearance: string) => CLEARANCES.indexOf(clearance as Clearance);

interface RosterRow {
  id: string;
  name: string;
  party_code: string;
  affiliation: string;
  skills: unknown;
  languages: string[];
  clearance: string;
  base: unknown;
  readiness: unknown;
  travel_documents_until: string | null;
  unavailable: boolean;
  busy: boolean;
  recent: number | string | null;
}

/** Why a person cannot be on this team before the solver even looks, or null. */
function hardExclusion(
  row: RosterRow,
  request: NewRequest,
  hostStatus: PartyStatus | null,
  restriction: HomeStateRestriction | undefined,
): string | null {
  if (rank(row.clearance) < rank(request.clearance))
    return `cleared ${row.clearance}; the request needs ${request.clearance}`;
  const languages = request.languages ?? [];
  if (languages.length > 0 && !row.languages.some((l) => languages.includes(l))) {
    return `speaks none of ${languages.join(', ')}`;
  }
  if (row.unavailable) return 'on leave or unavailable during the mission window';
  if (row.busy) return 'on another deployment during the mission window';
  if (request.mode === 'onsite') {
    if (restriction?.remoteOnly) return `${row.party_code} allows remote work only`;
    if (!row.travel_documents_until || row.travel_documents_until < request.window.to.slice(0, 10)) {
      return 'travel documents not valid until the end of the window';
    }
  }
  if (row.affiliation === 'military' && hostStatus && restriction?.noMilitaryTo?.includes(hostStatus)) {
    return `${row.party_code} sends no military personnel to ${hostStatus} parties`;
  }
  return null;
}

/** Hours until this person could start: remotely, or after travelling to the place. */
function startHours(row: RosterRow, request: NewRequest): number {
  const readiness = row.readiness as { remoteHours: number; onsiteHours: number };
  if (request.mode !== 'onsite') return readiness.remoteHours;
  const base = row.base as { lat: number; lon: number };
  const place =
    request.location.lat !== undefined && request.location.lon !== undefined
      ? { lat: request.location.lat, lon: request.location.lon }
      : CAPITALS[request.location.country];
  const travel = place ? travelHours(distanceKm(base, place)) : 24;
  return Math.round((readiness.onsiteHours + travel) * 10) / 10;
}

/**
 * Team assembly for activated requests, and the deployment that follows: proposals from the exact
 * solver, adoption, each home state's release, the host's acceptance, and the responders' passes.
 */
export class TeamsService {
  constructor(private readonly deps: TeamsDeps) {}

  private requireCoordinator(ctx: Ctx) {
    if (!hasRole(ctx.actor, 'coordinator')) throw forbidden('only a coordinator assembles teams');
  }

  async propose(ctx: Ctx, requestId: string): Promise<TeamProposal> {
    this.requireCoordinator(ctx);
    const request = await this.deps.requests.findForTeam(ctx, requestId);
    if (!PROPOSABLE.includes(request.status)) {
      throw conflict(
        `a team is proposed only for an activated request; this one is ${request.status.replace('_', ' ')}`,
      );
    }
    const declined = await repo.declinedFor(this.deps.db, requestId);
    const row = await this.solveAndStore(ctx, request, declined);
    return presentProposal(row);
  }

  private async solveAndStore(
    ctx: Ctx,
    request: RequestRow,
    excludedIds: string[],
    trx?: Tx,
    ownDeploymentId: string | null = null,
    /** Members who stay (a re-solve after a decline): only the gap they leave is solved. */
    keepIds: readonly string[] = [],
  ) {
    const db = trx ?? this.deps.db;
    const now = this.deps.clock.now();
    const fields = request.fields as NewRequest;
    const framework: Framework = await this.deps.framework.inForce(now, db);
    const [host] = await parties.statusesOn(db, utcDay(now), request.party_code);
    const hostStatus = (host?.status as PartyStatus | undefined) ?? null;
    const roster = (await repo.rosterForWindow(
      db,
      new Date(fields.window.from),
      new Date(fields.window.to),
      new Date(now.getTime() - YEAR_MS),
      ownDeploymentId,
    )) as RosterRow[];
    const restrictions = framework.rules.restrictions ?? {};
    const preExcluded: { id: string; name: string; reason: string; startHours: number; useful: boolean }[] =
      [];
    const usefulFor = (person: RosterRow) =>
      (person.skills as { skill: Skill; level: number }[]).some((s) =>
        fields.needs.some((n) => n.skill === s.skill && s.level >= n.minLevel),
      );
    const candidates: Candidate[] = [];
    for (const person of roster) {
      const restriction = restrictions[person.party_code];
      const why = hardExclusion(person, fields, hostStatus, restriction);
      const hours = startHours(person, fields);
      if (why) {
        preExcluded.push({
          id: person.id,
          name: person.name,
          reason: why,
          startHours: hours,
          useful: usefulFor(person),
        });
        continue;
      }
      const skills: Candidate['skills'] = {};
      for (const { skill, level } of person.skills as { skill: Skill; level: 1 | 2 | 3 }[]) {
        if (!restriction?.onlySkills || restriction.onlySkills.includes(skill)) skills[skill] = level;
      }
      candidates.push({
        id: person.id,
        name: person.name,
        party: person.party_code,
        affiliation: person.affiliation as Candidate['affiliation'],
        skills,
        startHours: hours,
        recentDeployments: Number(person.recent ?? 0),
      });
    }
    const partyCaps = Object.fromEntries(
      Object.entries(restrictions)
        .filter(([, r]) => r.maxPerMission !== undefined)
        .map(([party, r]) => [party, r.maxPerMission!]),
    );
    const { minTeamSize, maxTeamSize, maxPerParty } = framework.rules.deployments;
    const kept = candidates.filter((c) => keepIds.includes(c.id));
    const keptIn = (party: string) => kept.filter((k) => k.party === party).length;
    const gapCaps = Object.fromEntries(
      [...new Set([...Object.keys(partyCaps), ...kept.map((k) => k.party)])].map((party) => [
        party,
        Math.max(0, Math.min(partyCaps[party] ?? maxPerParty, maxPerParty) - keptIn(party)),
      ]),
    );
    const gap = await this.deps.solve({
      needs: (fields.needs as Need[])
        .map((n) => ({
          ...n,
          count: n.count - kept.filter((k) => (k.skills[n.skill] ?? 0) >= n.minLevel).length,
        }))
        .filter((n) => n.count > 0),
      candidates: candidates.filter((c) => !keepIds.includes(c.id)),
      minSize: Math.max(0, minTeamSize - kept.length),
      maxSize: Math.max(0, maxTeamSize - kept.length),
      maxPerParty,
      partyCaps: gapCaps,
      excludedIds,
    });
    const solution = {
      ...gap,
      members: [
        ...kept.map((k) => ({
          id: k.id,
          party: k.party,
          covers: (fields.needs as Need[])
            .filter((n) => (k.skills[n.skill] ?? 0) >= n.minLevel)
            .map((n) => n.skill),
          reasons: [
            'stays on the team: their home state has not declined them',
            `can start in ${k.startHours} h`,
          ],
        })),
        ...gap.members,
      ],
      objective: {
        ...gap.objective,
        size: gap.objective.size + kept.length,
        startHours: Math.max(gap.objective.startHours, ...kept.map((k) => k.startHours)),
      },
    };
    const names = new Map(roster.map((r) => [r.id, r.name]));
    // The solver explains the nearest of those it weighed; add the nearest ruled out before it,
    // those who had a needed skill first.
    const ruledOut = preExcluded
      .filter((p) => !excludedIds.includes(p.id))
      .sort((a, b) => Number(b.useful) - Number(a.useful) || a.startHours - b.startHours)
      .slice(0, 5);
    const stored = {
      members: solution.members.map((m) => ({
        responderId: m.id,
        name: names.get(m.id) ?? m.id,
        party: m.party,
        covers: m.covers,
        reasons: m.reasons,
      })),
      objective: solution.objective,
      excluded: [
        ...solution.excluded.map((e) => ({
          responderId: e.id,
          name: names.get(e.id) ?? e.id,
          reason: excludedIds.includes(e.id) ? 'declined by the home state' : e.reason,
        })),
        ...ruledOut.map((p) => ({ responderId: p.id, name: p.name, reason: p.reason })),
      ],
      unmet: solution.unmet,
      stats: solution.stats,
    };
    const write = async (tx: Tx) => {
      await repo.supersedeProposals(tx, request.id);
      const proposal = await repo.insertProposal(tx, {
        id: crypto.randomUUID(),
        request_id: request.id,
        status: 'proposed',
        feasible: solution.feasible,
        solution: JSON.stringify(stored),
        excluded_ids: JSON.stringify(excludedIds),
        created_at: this.deps.clock.now(),
        created_by: ctx.actor.name,
      });
      await this.deps.journal.record(tx, ctx, request, {
        kind: 'team.proposed',
        detail: {
          proposalId: proposal.id,
          feasible: solution.feasible,
          members: stored.members.length,
          startHours: solution.objective.startHours,
        },
      });
      return proposal;
    };
    return trx ? write(trx) : inTransaction(this.deps.db, write);
  }

  async proposals(ctx: Ctx, requestId: string) {
    this.requireCoordinator(ctx);
    await this.deps.requests.findForTeam(ctx, requestId);
    return { items: (await repo.listProposals(this.deps.db, requestId)).map(presentProposal) };
  }

  /** Adopting a proposal creates the deployment, each member waiting for their home state. */
  async adopt(ctx: Ctx, requestId: string, proposalId: string): Promise<Deployment> {
    this.requireCoordinator(ctx);
    const deployment = await inTransaction(this.deps.db, async (trx) => {
      const request = await this.deps.requests.lockForChange(trx, ctx, requestId, undefined);
      const proposal = await repo.findProposal(trx, requestId, proposalId);
      if (!proposal) throw notFound(`team proposal ${proposalId}`);
      if (proposal.status !== 'proposed')
        throw conflict(`this proposal is ${proposal.status}: propose a new team`);
      if (!proposal.feasible) throw conflict('this proposal does not meet every need: it cannot be adopted');
      if (!PROPOSABLE.includes(request.status)) {
        throw conflict(`a team is adopted only for an activated request; this one is ${request.status}`);
      }
      if (await repo.liveDeploymentOf(trx, requestId)) {
        throw conflict('this request already has a deployment under way');
      }
      const fields = request.fields as NewRequest;
      const solution = proposal.solution as { members: TeamProposal['members'] };
      const now = this.deps.clock.now();
      const created = await repo.insertDeployment(trx, {
        id: crypto.randomUUID(),
        request_id: requestId,
        proposal_id: proposalId,
        host_party: request.party_code,
        status: 'proposed',
        mode: fields.mode,
        window_from: new Date(fields.window.from),
        window_to: new Date(fields.window.to),
        acceptance: null,
        created_at: now,
        created_by: ctx.actor.name,
        updated_at: now,
        version: 1,
      });
      await repo.insertMembers(
        trx,
        solution.members.map((m) => ({
          deployment_id: created.id,
          responder_id: m.responderId,
          party_code: m.party,
          status: 'pending',
          reasons: JSON.stringify(m.reasons),
        })),
      );
      await repo.setProposalStatus(trx, proposalId, 'adopted');
      if (request.status !== 'assembling')
        await this.deps.requests.applyTransition(trx, ctx, request, 'assemble');
      await this.deps.audit.record(trx, ctx, {
        action: 'deployment.create',
        objectType: 'deployment',
        objectId: created.id,
        summary: { requestId, proposalId, members: solution.members.map((m) => m.responderId) },
      });
      return created;
    });
    return this.present(deployment);
  }

  /** Deployments the viewer may see: of one request, or (`mine`) those the caller is on as a responder. */
  async list(ctx: Ctx, query: { requestId?: string | undefined; mine?: boolean | undefined }) {
    const rows = await repo.listVisibleDeployments(this.deps.db, ctx.actor, {
      requestId: query.requestId,
      ...(query.mine ? { memberUserId: ctx.actor.id ?? '00000000-0000-0000-0000-000000000000' } : {}),
    });
    return { items: await Promise.all(rows.map((row) => this.present(row))) };
  }

  async get(ctx: Ctx, id: string) {
    const row = await repo.findVisibleDeployment(this.deps.db, ctx.actor, id);
    if (!row) throw notFound(`deployment ${id}`);
    return this.present(row);
  }

  /**
   * A home state's PoC releases or declines one of its own people. A decline re-solves without
   * them: the new team's newcomers join as pending, those it drops are marked replaced.
   */
  async release(ctx: Ctx, deploymentId: string, responderId: string, body: ReleaseBody) {
    const row = await inTransaction(this.deps.db, async (trx) => {
      const deployment = await repo.lockVisibleDeployment(trx, ctx.actor, deploymentId);
      if (!deployment) throw notFound(`deployment ${deploymentId}`);
      const member = (await repo.members(trx, deploymentId)).find((m) => m.responder_id === responderId);
      if (!member) throw notFound(`responder ${responderId} on this deployment`);
      if (!hasRole(ctx.actor, 'poc') || ctx.actor.party !== member.party_code) {
        throw forbidden(
          `only a PoC of ${member.party_code} releases or declines ${member.party_code}'s people`,
        );
      }
      if (deployment.status !== 'proposed')
        throw conflict(`the deployment is ${deployment.status}: releases are closed`);
      if (member.status !== 'pending') throw conflict(`${member.name} is already ${member.status}`);
      const now = this.deps.clock.now();
      const released = body.decision === 'release';
      await repo.updateMember(trx, deploymentId, responderId, {
        status: released ? 'released' : 'declined',
        decided_by: ctx.actor.name,
        decided_at: now,
        decision_reason: body.reason ?? null,
      });
      await this.deps.audit.record(trx, ctx, {
        action: released ? 'deployment.member.release' : 'deployment.member.decline',
        objectType: 'deployment',
        objectId: deploymentId,
        summary: { responderId, party: member.party_code, reason: body.reason ?? null },
      });
      const proposalId = released ? deployment.proposal_id : await this.replaceDeclined(trx, ctx, deployment);
      const current = await repo.members(trx, deploymentId);
      const active = current.filter((m) => m.status === 'pending' || m.status === 'released');
      // A re-solve after a decline that could not meet every need holds the team back.
      const currentProposal = await repo.findProposal(trx, deployment.request_id, proposalId);
      if (currentProposal?.feasible && active.length > 0 && active.every((m) => m.status === 'released')) {
        const done = await repo.updateDeployment(trx, deploymentId, { status: 'released', updated_at: now });
        await this.deps.audit.record(trx, ctx, {
          action: 'deployment.released',
          objectType: 'deployment',
          objectId: deploymentId,
          summary: { members: active.map((m) => m.responder_id) },
        });
        return done;
      }
      return repo.updateDeployment(trx, deploymentId, { updated_at: now });
    });
    return this.present(row);
  }

  /** Re-solves the gap a decline left; returns the deployment's new proposal. */
  private async replaceDeclined(
    trx: Tx,
    ctx: Ctx,
    deployment: Selectable<DeploymentsTable>,
  ): Promise<string> {
    const request = await this.deps.requests.lockForSystem(trx, deployment.request_id);
    const declined = await repo.declinedFor(trx, deployment.request_id);
    const staying = (await repo.members(trx, deployment.id))
      .filter((m) => m.status === 'pending' || m.status === 'released')
      .map((m) => m.responder_id);
    const proposal = await this.solveAndStore(ctx, request, declined, trx, deployment.id, staying);
    const solution = proposal.solution as { members: TeamProposal['members'] };
    await repo.setProposalStatus(trx, proposal.id, 'adopted');
    const current = await repo.members(trx, deployment.id);
    const wanted = new Set(solution.members.map((m) => m.responderId));
    for (const m of current) {
      if ((m.status === 'pending' || m.status === 'released') && !wanted.has(m.responder_id)) {
        await repo.updateMember(trx, deployment.id, m.responder_id, { status: 'replaced' });
      }
    }
    const present = new Set(current.map((m) => m.responder_id));
    await repo.insertMembers(
      trx,
      solution.members
        .filter((m) => !present.has(m.responderId))
        .map((m) => ({
          deployment_id: deployment.id,
          responder_id: m.responderId,
          party_code: m.party,
          status: 'pending',
          reasons: JSON.stringify(m.reasons),
        })),
    );
    await repo.updateDeployment(trx, deployment.id, {
      proposal_id: proposal.id,
      updated_at: this.deps.clock.now(),
    });
    return proposal.id;
  }

  /** The host party's PoC accepts the released team on its territory. */
  async accept(ctx: Ctx, deploymentId: string, body: AcceptanceBody) {
    const row = await inTransaction(this.deps.db, async (trx) => {
      const deployment = await repo.lockVisibleDeployment(trx, ctx.actor, deploymentId);
      if (!deployment) throw notFound(`deployment ${deploymentId}`);
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
      const accepted = await repo.updateDeployment(trx, deploymentId, {
        status: 'accepted',
        acceptance: JSON.stringify(acceptance),
        updated_at: now,
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'deployment.accept',
        objectType: 'deployment',
        objectId: deploymentId,
        summary: {
          hostParty: deployment.host_party,
          liabilityAgreementSha256: body.liabilityAgreementSha256,
        },
      });
      const request = await this.deps.requests.lockForSystem(trx, deployment.request_id);
      if (request.status === 'assembling')
        await this.deps.requests.applyTransition(trx, ctx, request, 'deploy');
      return accepted;
    });
    return this.present(row);
  }

  /** accepted → en route / remote → on site → stood down, by a coordinator or the host's PoC. */
  async setStatus(ctx: Ctx, deploymentId: string, status: 'en_route' | 'remote' | 'on_site' | 'stood_down') {
    const allowed: Record<string, DeploymentStatus[]> = {
      en_route: ['accepted'],
      remote: ['accepted', 'en_route'],
      on_site: ['accepted', 'en_route', 'remote'],
      stood_down: ['accepted', 'en_route', 'remote', 'on_site'],
    };
    const row = await inTransaction(this.deps.db, async (trx) => {
      const deployment = await repo.lockVisibleDeployment(trx, ctx.actor, deploymentId);
      if (!deployment) throw notFound(`deployment ${deploymentId}`);
      const hostPoc = hasRole(ctx.actor, 'poc') && ctx.actor.party === deployment.host_party;
      if (!hasRole(ctx.actor, 'coordinator') && !hostPoc) {
        throw forbidden("only a coordinator or the host's PoC moves a deployment along");
      }
      if (!allowed[status]!.includes(deployment.status as DeploymentStatus)) {
        throw conflict(
          `a deployment goes ${status.replace('_', ' ')} only from ${allowed[status]!.join(', ')}; it is ${deployment.status}`,
        );
      }
      const updated = await repo.updateDeployment(trx, deploymentId, {
        status,
        updated_at: this.deps.clock.now(),
      });
      await this.deps.audit.record(trx, ctx, {
        action: `deployment.${status}`,
        objectType: 'deployment',
        objectId: deploymentId,
        summary: { from: deployment.status, to: status },
      });
      return updated;
    });
    return this.present(row);
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
    if (!['accepted', 'en_route', 'remote', 'on_site'].includes(deployment.status)) {
      throw conflict(
        `passes are issued once the host has accepted the team; the deployment is ${deployment.status}`,
      );
    }
    const request = await this.deps.requests.findForSystem(deployment.request_id);
    const { passId, issuedAt } = await this.passFor(ctx, deploymentId, responderId, member);
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
    deploymentId: string,
    responderId: string,
    member: { pass_id: string | null; pass_issued_at: Date | null },
  ) {
    if (member.pass_id && member.pass_issued_at)
      return { passId: member.pass_id, issuedAt: member.pass_issued_at };
    return inTransaction(this.deps.db, async (trx) => {
      const fixed = await repo.fixPass(
        trx,
        deploymentId,
        responderId,
        crypto.randomUUID(),
        this.deps.clock.now(),
      );
      if (fixed.created) {
        await this.deps.audit.record(trx, ctx, {
          action: 'pass.issue',
          objectType: 'deployment',
          objectId: deploymentId,
          summary: { responderId, passId: fixed.passId },
        });
      }
      return { passId: fixed.passId, issuedAt: fixed.issuedAt };
    });
  }

  async revokePass(ctx: Ctx, deploymentId: string, responderId: string, reason: string | undefined) {
    return inTransaction(this.deps.db, async (trx) => {
      const deployment = await repo.lockVisibleDeployment(trx, ctx.actor, deploymentId);
      if (!deployment) throw notFound(`deployment ${deploymentId}`);
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
      await this.deps.audit.record(trx, ctx, {
        action: 'pass.revoke',
        objectType: 'deployment',
        objectId: deploymentId,
        summary: { responderId, passId: member.pass_id, reason: reason ?? null },
      });
      return { revoked: [member.pass_id], updatedAt: inserted.revoked_at.toISOString() };
    });
  }

  async revocationList() {
    const rows = await repo.revocations(this.deps.db);
    return { revoked: rows.map((r) => r.pass_id), updatedAt: rows.at(-1)?.revoked_at.toISOString() ?? null };
  }

  private async present(row: Selectable<DeploymentsTable>): Promise<Deployment> {
    const members = await repo.members(this.deps.db, row.id);
    return {
      id: row.id,
      requestId: row.request_id,
      proposalId: row.proposal_id,
      hostParty: row.host_party,
      status: row.status as DeploymentStatus,
      mode: row.mode,
      window: { from: row.window_from.toISOString(), to: row.window_to.toISOString() },
      members: members.map((m) => ({
        responderId: m.responder_id,
        name: m.name,
        party: m.party_code,
        status: m.status as 'pending',
        reasons: m.reasons as string[],
        decidedBy: m.decided_by,
        decidedAt: m.decided_at?.toISOString() ?? null,
        decisionReason: m.decision_reason,
        passId: m.pass_id,
      })),
      acceptance: (row.acceptance as Deployment['acceptance']) ?? null,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
      version: row.version,
    };
  }
}

function presentProposal(row: Selectable<TeamProposalsTable>): TeamProposal {
  const stored = row.solution as Omit<
    TeamProposal,
    'id' | 'requestId' | 'status' | 'feasible' | 'createdAt' | 'createdBy'
  >;
  return {
    id: row.id,
    requestId: row.request_id,
    status: row.status as TeamProposal['status'],
    feasible: row.feasible,
    ...stored,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
  };
}
