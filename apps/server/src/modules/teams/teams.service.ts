import crypto from 'node:crypto';
import type {
  Clearance,
  Deployment,
  Framework,
  HomeStateRestriction,
  NewRequest,
  PartyStatus,
  Skill,
  TeamProposal,
} from '@vytis/contracts';
import { CLEARANCES } from '@vytis/contracts';
import type { Kysely, Selectable } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import { type Ctx, hasRole } from '../../context.ts';
import { AppError, conflict, forbidden, notFound } from '../../errors.ts';
import { utcDay } from '../../platform/days.ts';
import type { Database, TeamProposalsTable } from '../../platform/db/schema.ts';
import { type Executor, inTransaction, readerOf, type Tx } from '../../platform/db/transaction.ts';
import { CAPITALS, distanceKm, travelHours } from '../../platform/geo.ts';
import * as deployments from '../deployments/deployments.repository.ts';
import { presentDeployment } from '../deployments/present.ts';
import type { FrameworkService } from '../framework/framework.service.ts';
import * as parties from '../parties/parties.repository.ts';
import type { RequestJournal } from '../requests/journal.ts';
import { assertMay, PROPOSABLE_STATUSES } from '../requests/permissions.ts';
import type { RequestRow, RequestsService } from '../requests/requests.service.ts';
import type { Candidate, Need, TeamProblem, TeamSolution } from './solver/types.ts';
import * as repo from './teams.repository.ts';

export interface TeamsDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  framework: FrameworkService;
  requests: RequestsService;
  journal: RequestJournal;
  /** The exact solver, off the request thread in the node. */
  solve: (problem: TeamProblem) => Promise<TeamSolution>;
}

const YEAR_MS = 365 * 86_400_000;
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

/**
 * The day whose party statuses judge home-state restrictions: the day the request was submitted,
 * on which its eligibility was judged — not today, so a host that joins or leaves the framework
 * later is still judged as the state that asked.
 */
const requestDay = (request: RequestRow, now: Date) => utcDay(request.submitted_at ?? now);

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
 * Team assembly for activated requests: proposals from the exact solver, their adoption into a
 * deployment (whose life then belongs to DeploymentsService), and the re-solve after a decline.
 */
export class TeamsService {
  constructor(private readonly deps: TeamsDeps) {}

  private requireCoordinator(ctx: Ctx) {
    if (!hasRole(ctx.actor, 'coordinator')) throw forbidden('only a coordinator assembles teams');
  }

  async propose(ctx: Ctx, requestId: string): Promise<TeamProposal> {
    this.requireCoordinator(ctx);
    const request = await this.deps.requests.findForTeam(ctx, requestId);
    // The same rule as the request's `can.proposeTeam`.
    assertMay(ctx.actor, request, 'proposeTeam', this.deps.clock.now());
    const declined = await deployments.declinedFor(this.deps.db, requestId);
    const row = await this.solveAndStore(ctx, request, declined);
    return presentProposal(row);
  }

  private async solveAndStore(ctx: Ctx, request: RequestRow, excludedIds: string[]) {
    const solved = await this.solve(request, excludedIds);
    return inTransaction(this.deps.db, (trx) => this.store(trx, ctx, request, solved, 'proposed'));
  }

  /**
   * Solves a team for the request on the committed roster, outside any transaction: the solver
   * holds no lock while it works. Whoever it picks is checked again under lock before they are booked.
   */
  private async solve(
    request: RequestRow,
    excludedIds: string[],
    ownDeploymentId: string | null = null,
    /** Members who stay (a re-solve after a decline): only the gap they leave is solved. */
    keepIds: readonly string[] = [],
  ): Promise<SolvedTeam> {
    // A decline applied for a peer (IntentExecutor) solves inside the transaction it joined.
    const db = readerOf(this.deps.db);
    const now = this.deps.clock.now();
    const fields = request.fields as NewRequest;
    const framework: Framework = await this.deps.framework.inForce(now, db);
    const [host] = await parties.statusesOn(db, requestDay(request, now), request.party_code);
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
    return { feasible: solution.feasible, stored, excludedIds };
  }

  private async store(
    tx: Tx,
    ctx: Ctx,
    request: RequestRow,
    solved: SolvedTeam,
    status: 'proposed' | 'adopted',
  ) {
    await repo.supersedeProposals(tx, request.id);
    const proposal = await repo.insertProposal(tx, {
      id: crypto.randomUUID(),
      request_id: request.id,
      status,
      feasible: solved.feasible,
      solution: JSON.stringify(solved.stored),
      excluded_ids: JSON.stringify(solved.excludedIds),
      created_at: this.deps.clock.now(),
      created_by: ctx.actor.name,
    });
    await this.deps.journal.record(tx, ctx, request, {
      kind: 'team.proposed',
      detail: {
        proposalId: proposal.id,
        feasible: solved.feasible,
        members: solved.stored.members.length,
        startHours: solved.stored.objective.startHours,
      },
    });
    return proposal;
  }

  async proposals(ctx: Ctx, requestId: string) {
    this.requireCoordinator(ctx);
    await this.deps.requests.findForTeam(ctx, requestId);
    return { items: (await repo.listProposals(this.deps.db, requestId)).map(presentProposal) };
  }

  /**
   * Adopting a proposal creates the deployment, each member waiting for their home state. The
   * members are locked and re-checked first: whoever was booked, went on leave or was ruled out
   * since the proposal makes it a 409 naming them, with the re-solve to call.
   */
  async adopt(ctx: Ctx, requestId: string, proposalId: string): Promise<Deployment> {
    this.requireCoordinator(ctx);
    let refused: BookingConflict[] = [];
    const deployment = await inTransaction(this.deps.db, async (trx) => {
      const request = await this.deps.requests.lockForChange(trx, ctx, requestId, undefined);
      const proposal = await repo.findProposal(trx, requestId, proposalId);
      if (!proposal) throw notFound(`team proposal ${proposalId}`);
      if (proposal.status !== 'proposed')
        throw conflict(`this proposal is ${proposal.status}: propose a new team`);
      if (!proposal.feasible) throw conflict('this proposal does not meet every need: it cannot be adopted');
      if (!PROPOSABLE_STATUSES.includes(request.status)) {
        throw conflict(
          `a team is adopted only for an activated request; this one is ${request.status.replace('_', ' ')}`,
        );
      }
      if (await deployments.liveDeploymentOf(trx, requestId)) {
        throw conflict('this request already has a deployment under way');
      }
      const fields = request.fields as NewRequest;
      const solution = proposal.solution as { members: TeamProposal['members'] };
      await deployments.lockResponders(
        trx,
        solution.members.map((m) => m.responderId),
      );
      refused = await this.bookingConflicts(trx, request, solution.members);
      if (refused.length > 0) throw bookingConflictError(requestId, refused);
      const now = this.deps.clock.now();
      const created = await deployments.insertDeployment(trx, {
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
      await deployments.insertMembers(
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
      await this.deps.journal.record(trx, ctx, request, {
        kind: 'deployment.proposed',
        detail: { deploymentId: created.id, proposalId, members: solution.members.length, mode: fields.mode },
      });
      return created;
    }).catch(async (error: unknown) => {
      // The refusal is rolled back with the transaction; the audit trail keeps it all the same.
      if (refused.length > 0) await this.auditRefusal(ctx, requestId, proposalId, refused);
      throw error;
    });
    return presentDeployment(this.deps.db, ctx.actor, deployment);
  }

  private async auditRefusal(ctx: Ctx, requestId: string, proposalId: string, conflicts: BookingConflict[]) {
    await inTransaction(this.deps.db, (trx) =>
      this.deps.audit.record(trx, ctx, {
        action: 'team.adopt.refused',
        objectType: 'request',
        objectId: requestId,
        summary: {
          proposalId,
          conflicts: conflicts.map((c) => ({ responderId: c.responderId, clash: c.clash, reason: c.reason })),
        },
      }),
    );
  }

  /** A proposal of the request, for the deployment it was adopted into. */
  proposalOf(db: Executor, requestId: string, proposalId: string) {
    return repo.findProposal(db, requestId, proposalId);
  }

  /**
   * After a home state's decline, outside any transaction: re-solves the gap without everyone
   * declined for the request (and `declining`, whose decline is not written yet), keeping `staying`.
   */
  async solveAfterDecline(
    request: RequestRow,
    deploymentId: string,
    declining: string,
    staying: readonly string[],
  ): Promise<SolvedTeam> {
    const declined = await deployments.declinedFor(readerOf(this.deps.db), request.id);
    return this.solve(request, [...new Set([...declined, declining])], deploymentId, staying);
  }

  /**
   * Adopts a re-solve for the deployment, under the caller's lock of the request and deployment:
   * the newcomers are locked and checked as an adoption checks its members. Returns the adopted
   * proposal, or null when someone it picked was booked, went on leave or was ruled out
   * meanwhile — the caller then solves again.
   */
  async adoptAfterDecline(
    trx: Tx,
    ctx: Ctx,
    request: RequestRow,
    solved: SolvedTeam,
    alreadyOn: ReadonlySet<string>,
  ) {
    const members = solved.stored.members;
    const newcomers = members.filter((m) => !alreadyOn.has(m.responderId)).map((m) => m.responderId);
    await deployments.lockResponders(trx, newcomers);
    const refused = (await this.bookingConflicts(trx, request, members)).filter((c) =>
      newcomers.includes(c.responderId),
    );
    if (refused.length > 0) return null;
    return this.store(trx, ctx, request, solved, 'adopted');
  }

  /**
   * Whoever of the team can no longer go, re-checked at adoption under the caller's lock on the
   * members' rows: booked on another deployment, on leave, or ruled out by the rules of the day
   * (a home state's new restriction, a lapsed clearance or travel document).
   */
  private async bookingConflicts(
    trx: Tx,
    request: RequestRow,
    members: TeamProposal['members'],
  ): Promise<BookingConflict[]> {
    const fields = request.fields as NewRequest;
    const from = new Date(fields.window.from);
    const to = new Date(fields.window.to);
    const ids = members.map((m) => m.responderId);
    const now = this.deps.clock.now();
    const [bookings, leave, rows, framework, [host]] = await Promise.all([
      deployments.bookingsOverlapping(trx, ids, from, to, request.id),
      deployments.unavailabilityOverlapping(trx, ids, from, to),
      repo.rosterForWindow(trx, from, to, new Date(now.getTime() - YEAR_MS), null, ids) as Promise<
        RosterRow[]
      >,
      this.deps.framework.inForce(now, trx),
      parties.statusesOn(trx, requestDay(request, now), request.party_code),
    ]);
    const hostStatus = (host?.status as PartyStatus | undefined) ?? null;
    const restrictions = framework.rules.restrictions ?? {};
    const byId = new Map(rows.map((r) => [r.id, r]));
    const conflicts: BookingConflict[] = [];
    const day = (at: Date) => at.toISOString().slice(0, 16).replace('T', ' ');
    for (const member of members) {
      const who = { responderId: member.responderId, name: member.name, party: member.party };
      const booking = bookings.find((b) => b.responder_id === member.responderId);
      if (booking) {
        conflicts.push({
          ...who,
          clash: 'deployment',
          reason: `booked on deployment ${booking.deployment_id} (request ${booking.request_id}, ${booking.status.replace('_', ' ')}) from ${day(booking.window_from)} to ${day(booking.window_to)} UTC`,
          deploymentId: booking.deployment_id,
          requestId: booking.request_id,
        });
        continue;
      }
      const away = leave.find((l) => l.responder_id === member.responderId);
      if (away) {
        conflicts.push({
          ...who,
          clash: 'unavailable',
          reason: `${away.kind.replace('_', ' ')} from ${day(away.starts_at)} to ${day(away.ends_at)} UTC`,
        });
        continue;
      }
      const row = byId.get(member.responderId);
      const why = row
        ? hardExclusion(row, fields, hostStatus, restrictions[member.party])
        : 'no longer on the roster';
      if (why) conflicts.push({ ...who, clash: 'restriction', reason: why });
    }
    const { maxPerParty } = framework.rules.deployments;
    for (const party of new Set(members.map((m) => m.party))) {
      const cap = Math.min(restrictions[party]?.maxPerMission ?? maxPerParty, maxPerParty);
      const ofParty = members.filter((m) => m.party === party);
      for (const member of ofParty.slice(cap)) {
        if (conflicts.some((c) => c.responderId === member.responderId)) continue;
        conflicts.push({
          responderId: member.responderId,
          name: member.name,
          party,
          clash: 'restriction',
          reason: `${party} sends at most ${cap} per mission`,
        });
      }
    }
    return conflicts;
  }
}

/** The 409 of an adoption that would book someone twice: who, what clashes, and the re-solve to call. */
function bookingConflictError(requestId: string, conflicts: BookingConflict[]) {
  const named = conflicts.map((c) => `${c.name} (${c.party}): ${c.reason}`).join('; ');
  const href = `/api/v1/requests/${requestId}/team-proposals`;
  return new AppError(
    'conflict',
    `this team can no longer be adopted: ${named}. Propose a new team (POST ${href}) to solve around them`,
    { conflicts, resolve: { method: 'POST', href } },
  );
}

/** A solver's team for a request, ready to be stored as a proposal. */
export interface SolvedTeam {
  feasible: boolean;
  stored: Omit<TeamProposal, 'id' | 'requestId' | 'status' | 'feasible' | 'createdAt' | 'createdBy'>;
  excludedIds: string[];
}

export interface BookingConflict {
  responderId: string;
  name: string;
  party: string;
  clash: 'deployment' | 'unavailable' | 'restriction';
  reason: string;
  deploymentId?: string;
  requestId?: string;
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
