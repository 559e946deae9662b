import crypto from 'node:crypto';
import type {
  AssistanceRequest,
  DeadlineKind,
  Decision,
  Eligibility,
  NewRequest,
  Nis2Filing,
  PartyStatus,
  PostActionReport,
  Priority,
  ReportBody,
  RequestListQuery,
  RequestPatch,
  RequestStatus,
  RequestSummary,
  SubmitBody,
  TransitionBody,
  WithdrawBody,
} from '@vytis/contracts';
import ISO6391 from 'iso-639-1';
import type { Kysely, Selectable } from 'kysely';
import type { RequestViewer } from '../../access/policy.ts';
import type { Clock } from '../../clock.ts';
import { type Ctx, hasRole } from '../../context.ts';
import { AppError, conflict, type FieldProblem, forbidden, invalidInput, notFound } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/cursor.ts';
import { utcDay } from '../../platform/days.ts';
import type { Database, RequestsTable } from '../../platform/db/schema.ts';
import { type Executor, inTransaction, readerOf, type Tx } from '../../platform/db/transaction.ts';
import type { RequestMoveGuard } from '../deployments/moves.ts';
import { forwardedFor, type Intent } from '../federation/loop/intents.ts';
import type { FrameworkService } from '../framework/framework.service.ts';
import * as parties from '../parties/parties.repository.ts';
import {
  capitalZone,
  FORCE_CLOCKS,
  finalReportClock,
  isIanaZone,
  presentDeadline,
  reportClock,
  submissionClocks,
} from './deadlines.ts';
import { assessEligibility } from './eligibility.ts';
import type { RequestJournal } from './journal.ts';
import { illegalTransitionMessage, TRANSITIONS, type TransitionName } from './lifecycle.ts';
import {
  ACTION_OF,
  assertMay,
  mayFileRequest,
  type RequestFacts,
  requestPermissions,
} from './permissions.ts';
import { assessPriority } from './priority.ts';
import * as repo from './requests.repository.ts';
import { rsitProblem } from './taxonomy.ts';
import { missingForSubmission } from './template.ts';

export type RequestRow = Selectable<RequestsTable>;

export interface RequestsDeps {
  db: Kysely<Database>;
  clock: Clock;
  framework: FrameworkService;
  journal: RequestJournal;
  /** Keeps a deployment in step with the request's own moves (deploy, stand down, withdraw). */
  deployments: RequestMoveGuard;
}

/** How far ahead of the node's clock `awareAt` may be: clocks of devices drift. */
export const AWARE_AT_SKEW_MS = 5 * 60_000;

export interface CouncilSettings {
  electorate: string[];
  rule: 'majority' | 'unanimity';
  opensAt: string;
  closesAt: string;
}

/**
 * Assistance requests: drafting, submission with its eligibility and clocks, the moves of the
 * lifecycle, and every read through the access policy. The council's votes live in
 * CouncilService, the clocks' firing in the scheduler.
 */
export class RequestsService {
  constructor(private readonly deps: RequestsDeps) {}

  /** Who is looking, on which day (their party's place in the community), and whether their party votes in the council today. */
  async viewer(ctx: Ctx, db: Executor = this.deps.db): Promise<RequestViewer> {
    const { actor } = ctx;
    const day = utcDay(this.deps.clock.now());
    if (!hasRole(actor, 'council') || !actor.party) return { actor, day, councilVoter: false };
    const [status] = await parties.statusesOn(db, day, actor.party);
    const framework = await this.deps.framework.inForce(this.deps.clock.now(), db).catch(() => null);
    const voters: readonly string[] = framework?.rules.council.voters ?? [];
    return { actor, day, councilVoter: status !== undefined && voters.includes(status.status) };
  }

  async create(ctx: Ctx, input: NewRequest): Promise<AssistanceRequest> {
    const party = ctx.actor.party;
    if (!mayFileRequest(ctx.actor) || !party) throw forbidden("only a party's PoC files requests");
    const fields = normalise(input);
    this.validate(fields, 'body');
    const now = this.deps.clock.now();
    const row = await inTransaction(this.deps.db, async (trx) => {
      const created = await repo.insertRequest(trx, {
        id: crypto.randomUUID(),
        party_code: party,
        status: 'draft',
        version: 1,
        ...columnsOf(fields),
        created_at: now,
        created_by: ctx.actor.name,
        updated_at: now,
      });
      await this.deps.journal.record(trx, ctx, created, {
        kind: 'created',
        from: null,
        to: 'draft',
        detail: { title: created.title },
      });
      return created;
    });
    return this.present(this.deps.db, row, ctx);
  }

  async update(ctx: Ctx, id: string, patch: RequestPatch, ifMatch: number | undefined) {
    const row = await inTransaction(this.deps.db, async (trx) => {
      const current = await this.lockForChange(trx, ctx, id, ifMatch);
      assertMay(ctx.actor, current, 'edit', this.deps.clock.now());
      const fields = normalise({ ...(current.fields as NewRequest), ...patch } as NewRequest);
      this.validate(fields, 'body');
      const updated = await repo.updateRequest(trx, id, {
        ...columnsOf(fields),
        updated_at: this.deps.clock.now(),
      });
      await this.deps.journal.record(trx, ctx, updated, {
        kind: 'edited',
        detail: { fields: Object.keys(patch).sort() },
      });
      return updated;
    });
    return this.present(this.deps.db, row, ctx);
  }

  async get(ctx: Ctx, id: string): Promise<AssistanceRequest> {
    const row = await repo.findVisible(this.deps.db, await this.viewer(ctx), id);
    if (!row) throw notFound(`request ${id}`);
    return this.present(this.deps.db, row, ctx);
  }

  async list(ctx: Ctx, query: RequestListQuery) {
    const viewer = await this.viewer(ctx);
    const limit = query.limit ?? 50;
    const filter = {
      status: query.status,
      party: query.party,
      exercise: query.exercise,
      severity: query.severity,
    };
    const after = query.cursor ? boardCursor(query.cursor) : null;
    const [rows, total] = await Promise.all([
      repo.listVisible(this.deps.db, viewer, filter, after, limit + 1),
      repo.countVisible(this.deps.db, viewer, filter),
    ]);
    const page = rows.slice(0, limit);
    const clocks = await repo.deadlines(
      this.deps.db,
      page.map((r) => r.id),
    );
    const last = page.at(-1);
    const now = this.deps.clock.now();
    return {
      items: page.map((row): RequestSummary => {
        const own = clocks.filter((c) => c.request_id === row.id);
        const next = own.find((c) => ['running', 'warned', 'overdue'].includes(c.state));
        return {
          id: row.id,
          party: row.party_code,
          title: row.title,
          status: row.status as RequestStatus,
          exercise: row.exercise,
          severity: row.severity as NewRequest['severity'],
          tlp: row.tlp as NewRequest['tlp'],
          incidentClass: row.incident_class,
          priority: row.priority_score,
          createdAt: row.created_at.toISOString(),
          submittedAt: row.submitted_at?.toISOString() ?? null,
          nextDeadline: next ? { kind: next.kind as DeadlineKind, dueAt: next.due_at.toISOString() } : null,
          version: row.version,
          mirroredFrom: row.mirrored_from,
          can: requestPermissions(ctx.actor, factsOf(row, own), now),
        };
      }),
      total,
      nextCursor:
        rows.length > limit && last
          ? encodeCursor([last.priority_score, last.created_at.toISOString(), last.id])
          : null,
    };
  }

  /** Counts by status, real requests and exercises apart, over what the viewer may see. */
  async stats(ctx: Ctx) {
    const viewer = await this.viewer(ctx);
    const [byStatus, overdue] = await Promise.all([
      repo.countByStatus(this.deps.db, viewer),
      repo.countOverdue(this.deps.db, viewer),
    ]);
    const figures = (exercise: boolean) => {
      const rows = byStatus.filter((r) => r.exercise === exercise);
      return {
        total: rows.reduce((sum, r) => sum + Number(r.n), 0),
        byStatus: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])),
        overdueDeadlines: Number(overdue.find((o) => o.exercise === exercise)?.n ?? 0),
      };
    };
    return { real: figures(false), exercise: figures(true) };
  }

  async timeline(ctx: Ctx, id: string) {
    const row = await repo.findVisible(this.deps.db, await this.viewer(ctx), id);
    if (!row) throw notFound(`request ${id}`);
    const insider = hasRole(ctx.actor, 'admin') || ctx.actor.party === row.party_code;
    const entries = await repo.timeline(this.deps.db, id, insider);
    return {
      items: entries.map((e) => ({
        at: e.at.toISOString(),
        kind: e.kind,
        actor: e.actor,
        party: e.party,
        fromStatus: e.from_status as RequestStatus | null,
        toStatus: e.to_status as RequestStatus | null,
        detail: e.detail as Record<string, unknown>,
      })),
    };
  }

  /**
   * Submission: eligibility is decided from the requester's status today and the framework in
   * force, and stored; an eligible request goes to the council with its clocks running.
   */
  async submit(ctx: Ctx, id: string, ifMatch: number | undefined, body: SubmitBody = {}) {
    const row = await inTransaction(this.deps.db, async (trx) => {
      const current = await this.lockForChange(trx, ctx, id, ifMatch);
      const now = this.deps.clock.now();
      // Who, when, and a complete template with its window still open: permissions.ts.
      assertMay(ctx.actor, current, 'submit', now);
      const fields = current.fields as NewRequest;
      const note = body.note?.trim();
      const day = utcDay(now);
      const framework = await this.deps.framework.inForce(now, trx);
      const [status] = await parties.statusesOn(trx, day, current.party_code);
      const eligibility = assessEligibility(
        current.party_code,
        (status?.status as PartyStatus | undefined) ?? null,
        day,
        framework,
      );
      let submitted = await repo.updateRequest(trx, id, {
        status: 'submitted',
        submitted_at: now,
        updated_at: now,
      });
      await this.deps.journal.record(trx, ctx, submitted, {
        kind: 'submitted',
        from: 'draft',
        to: 'submitted',
        ...(note ? { detail: { note } } : {}),
      });

      if (!eligibility.eligible) {
        submitted = await repo.updateRequest(trx, id, {
          status: 'ineligible',
          eligibility: JSON.stringify(eligibility),
          updated_at: now,
        });
        await this.deps.journal.record(trx, ctx, submitted, {
          kind: 'ineligible',
          from: 'submitted',
          to: 'ineligible',
          detail: { reasons: eligibility.reasons },
        });
        return submitted;
      }
      const voters: readonly string[] = framework.rules.council.voters;
      const electorate = (await parties.statusesOn(trx, day))
        .filter((s) => voters.includes(s.status))
        .map((s) => s.party_code);
      const clocks = submissionClocks(id, now, new Date(fields.awareAt), framework.rules.clocks);
      const council: CouncilSettings = {
        electorate,
        rule: eligibility.requires ?? 'majority',
        opensAt: now.toISOString(),
        closesAt: (clocks.find((c) => c.kind === 'decision')!.due_at as Date).toISOString(),
      };
      await repo.insertDeadlines(trx, clocks);
      const voting = await repo.updateRequest(trx, id, {
        status: 'voting',
        eligibility: JSON.stringify(eligibility),
        council: JSON.stringify(council),
        updated_at: now,
      });
      await this.deps.journal.record(trx, ctx, voting, {
        kind: 'voting',
        from: 'submitted',
        to: 'voting',
        detail: { reasons: eligibility.reasons, rule: council.rule, electorate, closesAt: council.closesAt },
      });
      return voting;
    });
    return this.present(this.deps.db, row, ctx);
  }

  /** A move of the lifecycle table, with its effects on the clocks. */
  async transition(
    ctx: Ctx,
    id: string,
    name: TransitionName,
    body: TransitionBody | WithdrawBody | ReportBody,
    ifMatch: number | undefined,
  ) {
    const row = await inTransaction(this.deps.db, async (trx) => {
      const current = await this.lockForChange(trx, ctx, id, ifMatch);
      assertMay(ctx.actor, current, ACTION_OF[name], this.deps.clock.now());
      if (name === 'withdraw') requireReason(body, 'why the request is withdrawn');
      if (current.mirrored_from) {
        // The request moves on its own node, with its clocks and its deployment, when that node applies this.
        await this.forward(trx, ctx, {
          kind: 'transition',
          targetParty: current.mirrored_from,
          targetId: id,
          body: { name, body },
        });
        return current;
      }
      await this.deps.deployments.beforeRequestMove(trx, ctx, current, name);
      return this.applyTransition(trx, ctx, current, name, body);
    });
    return this.present(readerOf(this.deps.db), row, ctx);
  }

  /**
   * A move of the lifecycle on a row the caller has locked, with its effects on the clocks; the
   * caller has decided the actor may make it (teams move requests as their deployments progress).
   */
  async applyTransition(
    trx: Tx,
    ctx: Ctx,
    current: RequestRow,
    name: TransitionName,
    body: TransitionBody | ReportBody = {},
  ) {
    if (current.mirrored_from) {
      // A consequence here (a team adopted, accepted or stood down) of a request kept on another
      // node: that node checks the move against the request as it is there, and makes it.
      await this.forward(trx, ctx, {
        kind: 'transition',
        targetParty: current.mirrored_from,
        targetId: current.id,
        body: { name, body, consequence: true },
      });
      return current;
    }
    const transition = TRANSITIONS[name];
    const from = current.status as RequestStatus;
    if (!transition.from.includes(from))
      throw conflict(illegalTransitionMessage(name, from, transition.from));
    const now = this.deps.clock.now();
    const framework = await this.deps.framework.inForce(now, trx);
    const updated = await repo.updateRequest(trx, current.id, {
      status: transition.to,
      updated_at: now,
      ...(name === 'report'
        ? { report: JSON.stringify({ ...body, reportedAt: now.toISOString(), reportedBy: ctx.actor.name }) }
        : {}),
    });
    const clockChanges = await this.clockEffects(trx, updated, name, now, framework.rules.clocks);
    await this.deps.journal.record(trx, ctx, updated, {
      kind: transition.to,
      from,
      to: transition.to,
      detail: {
        ...('reason' in body && body.reason?.trim() ? { reason: body.reason.trim() } : {}),
        ...clockChanges,
      },
    });
    return updated;
  }

  /**
   * Records, in the caller's transaction, what the actor did to a copy, for the node that speaks
   * for it to apply (federation/loop/intents.ts).
   */
  forward(trx: Tx, ctx: Ctx, intent: Intent) {
    return this.deps.deployments.forward(trx, ctx, intent);
  }

  /** A request the actor may see, for team work; 404 otherwise. */
  async findForTeam(ctx: Ctx, id: string) {
    const db = readerOf(this.deps.db);
    const row = await repo.findVisible(db, await this.viewer(ctx, db), id);
    if (!row) throw notFound(`request ${id}`);
    return row;
  }

  /** The row itself, for work already authorised through a deployment the actor may see. */
  findForSystem(id: string) {
    return repo.find(readerOf(this.deps.db), id);
  }

  /** The same, locked for the rest of the transaction. */
  lockForSystem(trx: Tx, id: string) {
    return repo.lock(trx, id);
  }

  private async clockEffects(
    trx: Tx,
    request: RequestRow,
    name: TransitionName,
    now: Date,
    clocks: Parameters<typeof reportClock>[2],
  ): Promise<Record<string, unknown>> {
    const kinds = (rows: { kind: string }[]) => rows.map((r) => r.kind);
    switch (name) {
      case 'withdraw':
        return { clocksCancelled: kinds(await repo.cancelDeadlines(trx, request.id, FORCE_CLOCKS)) };
      case 'assemble':
        return { clocksMet: kinds(await repo.meetDeadlines(trx, request.id, ['answer'], now)) };
      case 'deploy':
        return { clocksMet: kinds(await repo.meetDeadlines(trx, request.id, ['answer', 'response'], now)) };
      case 'stand-down': {
        const report = reportClock(request.id, now, clocks);
        await repo.insertDeadlines(trx, [report]);
        return { reportDueAt: (report.due_at as Date).toISOString() };
      }
      case 'report':
        return { clocksMet: kinds(await repo.meetDeadlines(trx, request.id, ['post_action_report'], now)) };
      case 'close':
        // The force is done, but the entity's NIS2 duties are the law's, not the force's: its
        // clocks run on, visible and firing, until the PoC records each filing.
        return { clocksCancelled: kinds(await repo.cancelDeadlines(trx, request.id, FORCE_CLOCKS)) };
    }
  }

  /**
   * The requester records that the entity filed one of its NIS2 reports, at the time it filed (not
   * now): that time meets the clock, so `late` says whether the entity was late, not the PoC. The
   * incident notification's filing starts the final report's month. Open on any status, closed
   * included: the entity's duties outlive the force's work.
   */
  async completeNis2(ctx: Ctx, id: string, kind: DeadlineKind, filing: Nis2Filing) {
    const row = await inTransaction(this.deps.db, (trx) => this.recordNis2Filing(trx, ctx, id, kind, filing));
    return this.present(this.deps.db, row, ctx);
  }

  /** completeNis2 in the caller's transaction (a NIS2 report submitted from its draft). */
  async recordNis2Filing(trx: Tx, ctx: Ctx, id: string, kind: DeadlineKind, filing: Nis2Filing) {
    const current = await this.lockForChange(trx, ctx, id, undefined);
    const now = this.deps.clock.now();
    const clocks = await repo.deadlines(trx, [id]);
    assertMay(ctx.actor, factsOf(current, clocks), 'fileNis2', now);
    const fields = current.fields as NewRequest;
    const filedAt = new Date(filing.filedAt);
    const problems: FieldProblem[] = [];
    if (filedAt.getTime() > now.getTime() + AWARE_AT_SKEW_MS) {
      problems.push({
        field: 'body/filedAt',
        message: `is in the future (it is now ${now.toISOString()})`,
      });
    } else if (filedAt < new Date(fields.awareAt)) {
      problems.push({
        field: 'body/filedAt',
        message: `is before the entity became aware of the incident (awareAt ${fields.awareAt})`,
      });
    }
    const notification = clocks.find((c) => c.kind === 'nis2_notification');
    if (kind === 'nis2_final_report' && notification?.met_at && filedAt < notification.met_at) {
      problems.push({
        field: 'body/filedAt',
        message: `is before the incident notification was filed (${notification.met_at.toISOString()})`,
      });
    }
    const timeZone = filing.timeZone ?? capitalZone(fields.location.country);
    if (filing.timeZone !== undefined && !isIanaZone(filing.timeZone)) {
      problems.push({
        field: 'body/timeZone',
        message: `${filing.timeZone} is not an IANA time zone (e.g. Europe/Vilnius)`,
      });
    } else if (kind === 'nis2_notification' && timeZone === undefined) {
      problems.push({
        field: 'body/timeZone',
        message: `is required: the final report's month is counted in the entity's time zone, and ${fields.location.country} has no default`,
      });
    }
    if (problems.length > 0) {
      throw invalidInput(problems.map((p) => `${p.field} ${p.message}`).join('; '), problems);
    }
    const met = await repo.meetDeadlines(trx, id, [kind], filedAt);
    if (met.length === 0) {
      throw conflict(
        kind === 'nis2_final_report' && !clocks.some((c) => c.kind === kind)
          ? 'the final report is due one month after the incident notification: record the notification first'
          : `the ${kind} clock of this request is not running`,
      );
    }
    const clock = met[0]!;
    let finalReportDueAt: string | undefined;
    if (kind === 'nis2_notification') {
      const framework = await this.deps.framework.inForce(now, trx);
      const finalReport = finalReportClock(id, filedAt, timeZone!, framework.rules.clocks);
      await repo.insertDeadlines(trx, [finalReport]);
      finalReportDueAt = (finalReport.due_at as Date).toISOString();
    }
    const updated = await repo.updateRequest(trx, id, { updated_at: now });
    await this.deps.journal.record(trx, ctx, updated, {
      kind: 'deadline.met',
      detail: {
        deadline: kind,
        dueAt: clock.due_at.toISOString(),
        filedAt: filedAt.toISOString(),
        late: filedAt > clock.due_at,
        ...(finalReportDueAt ? { finalReportDueAt, timeZone } : {}),
      },
    });
    return updated;
  }

  /** Locks a request the actor may see, checking the version they based their write on. */
  async lockForChange(trx: Tx, ctx: Ctx, id: string, ifMatch: number | undefined) {
    const row = await repo.lockVisible(trx, await this.viewer(ctx, trx), id);
    if (!row) throw notFound(`request ${id}`);
    if (ifMatch !== undefined && ifMatch !== row.version) {
      throw new AppError(
        'precondition_failed',
        `the request changed since you read it: you sent version ${ifMatch}, it is now at version ${row.version}; reload and retry`,
      );
    }
    return row;
  }

  /** What the schema cannot check: the taxonomy, languages, the window, time. */
  private validate(fields: NewRequest, at: string) {
    const problems: FieldProblem[] = [];
    const tagProblem = rsitProblem(fields.incidentClass);
    if (tagProblem) problems.push({ field: `${at}/incidentClass`, message: tagProblem });
    fields.languages?.forEach((code, i) => {
      if (!ISO6391.validate(code))
        problems.push({ field: `${at}/languages/${i}`, message: `${code} is not an ISO 639-1 language` });
    });
    const seen = new Set<string>();
    fields.needs.forEach((need, i) => {
      if (seen.has(need.skill)) {
        problems.push({
          field: `${at}/needs/${i}/skill`,
          message: `${need.skill} is listed twice: give one count`,
        });
      }
      seen.add(need.skill);
    });
    const times = {
      'window/from': fields.window.from,
      'window/to': fields.window.to,
      awareAt: fields.awareAt,
    };
    const unusable = Object.entries(times).filter(([, value]) => !isUsableTime(value));
    for (const [name] of unusable) {
      problems.push({
        field: `${at}/${name}`,
        message: 'must be a UTC or offset time between 1970 and 9999',
      });
    }
    if (unusable.length === 0) {
      if (new Date(fields.window.to) <= new Date(fields.window.from)) {
        problems.push({ field: `${at}/window/to`, message: 'must be after window/from' });
      }
      if (new Date(fields.awareAt).getTime() > this.deps.clock.now().getTime() + AWARE_AT_SKEW_MS) {
        problems.push({ field: `${at}/awareAt`, message: 'is in the future' });
      }
    }
    if (problems.length > 0) {
      throw invalidInput(
        `the request has ${problems.length} problem${problems.length > 1 ? 's' : ''}: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`,
        problems,
      );
    }
  }

  /** The request as the API shows it to `ctx`'s actor, with what they may do to it (`can`). */
  async present(db: Executor, row: RequestRow, ctx: Ctx): Promise<AssistanceRequest> {
    const [votes, clocks, forwarded] = await Promise.all([
      repo.votes(db, row.id),
      repo.deadlines(db, [row.id]),
      row.mirrored_from ? forwardedFor(db, [row.id]) : null,
    ]);
    const fields = row.fields as NewRequest;
    return {
      id: row.id,
      party: row.party_code,
      status: row.status as RequestStatus,
      version: row.version,
      exercise: row.exercise,
      title: fields.title,
      affectedEntity: fields.affectedEntity,
      incidentClass: fields.incidentClass,
      severity: fields.severity,
      tlp: fields.tlp,
      pap: fields.pap,
      mode: fields.mode,
      location: fields.location,
      needs: fields.needs,
      languages: fields.languages ?? [],
      clearance: fields.clearance,
      window: fields.window,
      awareAt: fields.awareAt,
      impact: fields.impact ?? null,
      impactLevel: fields.impactLevel ?? null,
      crossBorder: fields.crossBorder ?? null,
      helpNeeded: fields.helpNeeded ?? null,
      measuresTaken: fields.measuresTaken ?? null,
      otherHelp: fields.otherHelp ?? null,
      legalInstrument: fields.legalInstrument ?? 'crrt-mou',
      createdAt: row.created_at.toISOString(),
      createdBy: row.created_by,
      submittedAt: row.submitted_at?.toISOString() ?? null,
      updatedAt: row.updated_at.toISOString(),
      eligibility: (row.eligibility as Eligibility | null) ?? null,
      priority: row.priority as Priority,
      council: (row.council as CouncilSettings | null) ?? null,
      votes: votes.map((v) => ({
        party: v.party_code,
        vote: v.vote as 'activate',
        comment: v.comment,
        castBy: v.cast_by,
        castAt: v.cast_at.toISOString(),
      })),
      decision: (row.decision as Decision | null) ?? null,
      report: (row.report as PostActionReport | null) ?? null,
      deadlines: clocks.map(presentDeadline),
      missingForSubmission: row.status === 'draft' ? missingForSubmission(fields) : [],
      mirroredFrom: row.mirrored_from,
      forwarded: forwarded?.get(row.id) ?? [],
      can: requestPermissions(ctx.actor, factsOf(row, clocks), this.deps.clock.now()),
    };
  }
}

/** A row and its clocks, as the permissions judge them. */
function factsOf(row: RequestRow, clocks: readonly { kind: string; state: string }[]): RequestFacts {
  return { ...row, deadlines: clocks };
}

/** A reason the law or the framework wants: present and not blank, else a 400 naming body/reason. */
export function requireReason(body: object, what: string, field = 'reason') {
  const value = (body as Record<string, unknown>)[field];
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalidInput(
      `body/${field} is required: say ${what}; it is recorded in the timeline and audit log`,
      [{ field: `body/${field}`, message: `is required: say ${what}` }],
    );
  }
}

/** Defaults filled in, timestamps in one form, so what is stored is what is shown. */
function normalise(input: NewRequest): NewRequest {
  return {
    ...input,
    languages: input.languages ?? [],
    exercise: input.exercise ?? false,
    legalInstrument: input.legalInstrument ?? 'crrt-mou',
    window: { from: isoOrAsIs(input.window.from), to: isoOrAsIs(input.window.to) },
    awareAt: isoOrAsIs(input.awareAt),
  };
}

/** Parseable by Date (no leap seconds, no 2-digit offsets) and within years 1970–9999. */
function isUsableTime(value: string): boolean {
  const ms = Date.parse(value);
  return !Number.isNaN(ms) && ms >= 0 && ms < Date.UTC(10000, 0, 1);
}

const isoOrAsIs = (value: string) => {
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? value : at.toISOString();
};

function columnsOf(fields: NewRequest) {
  const priority = assessPriority(fields);
  return {
    exercise: fields.exercise ?? false,
    title: fields.title,
    severity: fields.severity,
    tlp: fields.tlp,
    incident_class: fields.incidentClass,
    fields: JSON.stringify(fields),
    priority_score: priority.score,
    priority: JSON.stringify(priority),
  };
}

function boardCursor(cursor: string): repo.BoardCursor {
  const [score, createdAt, id] = decodeCursor<[number, string, string]>(cursor, ['int', 'timestamp', 'uuid']);
  return { score, createdAt, id };
}
