import crypto from 'node:crypto';
import type {
  Case,
  CaseListQuery,
  CasePatch,
  CaseShares,
  CaseStatus,
  CaseTimelineEntry,
  NewCase,
  NewCaseTimelineEntry,
  NewNote,
  NewSharingGroup,
  NewTask,
  Note,
  NotePatch,
  Pap,
  Person,
  Role,
  Severity,
  SharesUpdate,
  SharingGroup,
  SharingGroupPatch,
  Task,
  TaskPatch,
  TaskStatus,
  Tlp,
} from '@vytis/contracts';
import type { Kysely, Selectable } from 'kysely';
import { type CaseViewer, casePassableOnward, deploymentsVisibleTo } from '../../access/policy.ts';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import { AppError, type FieldProblem, forbidden, invalidInput, notFound } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/cursor.ts';
import { utcDay } from '../../platform/days.ts';
import type { CaseNotesTable, CaseTimelineTable, Database } from '../../platform/db/schema.ts';
import { afterCommit, type Executor, inTransaction, type Tx } from '../../platform/db/transaction.ts';
import { setNewest } from '../../platform/newest-first-map.ts';
import { relabelItemEvents } from '../notifications/notifications.repository.ts';
import type { Notifier } from '../notifications/notifier.ts';
import type { RequestsService } from '../requests/requests.service.ts';
import { rsitProblem } from '../requests/taxonomy.ts';
import {
  CASE_WORKERS,
  CaseAccess,
  casePermissions,
  type ItemPermissions,
  isRelaxing,
  TLP_STRICTNESS,
  taskPermissions,
} from './case-access.ts';
import { caseViewerOf } from './case-viewer.ts';
import * as repo from './cases.repository.ts';

export interface CasesDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  notifier: Notifier;
  requests: RequestsService;
}

/** A touch of a case busy with writers is tried again a second later, this many times at most. */
const TOUCH_RETRIES = 60;
/** A case's time moves at most this often (repo.touchCase). */
const TOUCH_EVERY_MS = 1000;
const MAX_TOUCHES_REMEMBERED = 10_000;

/** A day before a task is due, its clock says so. */
const DUE_SOON_MS = 24 * 3600 * 1000;

/**
 * Cases: the incident a party works, with its tasks, notes and timeline, shared under TLP 2.0.
 * Every read goes through the access policy in SQL; what the viewer may not see is a 404.
 */
export class CasesService {
  /** Cases whose touch is waiting for their writers, "caseId:label". */
  private readonly touchesDue = new Set<string>();
  /** When this process last touched each case (ms), of the 10,000 it touched last. */
  private readonly lastTouched = new Map<string, number>();

  constructor(private readonly deps: CasesDeps) {}

  viewer(ctx: Ctx): CaseViewer {
    return caseViewerOf(this.deps.clock, ctx);
  }

  async create(ctx: Ctx, input: NewCase): Promise<Case> {
    const party = ctx.actor.party;
    if (!party || !CASE_WORKERS.some((role) => ctx.actor.roles.includes(role))) {
      throw forbidden(`opening a case needs one of the roles ${CASE_WORKERS.join(', ')} and a party`);
    }
    const problems: FieldProblem[] = [];
    const incidentProblem = rsitProblem(input.incidentClass);
    if (incidentProblem) problems.push({ field: 'body/incidentClass', message: incidentProblem });
    let exercise = input.exercise ?? false;
    if (input.requestId) {
      const request = await this.deps.requests.get(ctx, input.requestId).catch(() => null);
      if (!request) problems.push({ field: 'body/requestId', message: 'no request you may see has this id' });
      else if (input.exercise !== undefined && input.exercise !== request.exercise) {
        // A case is an exercise exactly when its request is one: else a drill's work would count
        // as real (or real work be hidden as a drill).
        problems.push({
          field: 'body/exercise',
          message: request.exercise
            ? 'the request is an exercise, so its case is one'
            : 'the request is real, so its case is',
        });
      } else exercise = request.exercise;
    }
    if (input.deploymentId && !(await this.deploymentVisible(ctx, input.deploymentId))) {
      problems.push({ field: 'body/deploymentId', message: 'no deployment you may see has this id' });
    }
    const shares = {
      parties: input.shares?.parties ?? [],
      groups: input.shares?.groups ?? [],
      recipients: input.shares?.recipients ?? [],
    };
    const assignees = input.assignees ?? [];
    problems.push(...(await this.audienceProblems(ctx, shares, 'body')));
    const retiredProblems = (retired: string[]) =>
      shares.groups
        .map((g, i) => ({ g, i }))
        .filter(({ g }) => retired.includes(g))
        .map(({ i }) => ({ field: `body/shares/groups/${i}`, message: 'sharing group is retired' }));
    problems.push(...retiredProblems(await repo.retiredGroups(this.deps.db, shares.groups)));
    if (problems.length > 0) throw invalidInput(summarise('the case', problems), problems);

    const now = this.deps.clock.now();
    const row = await inTransaction(this.deps.db, async (trx) => {
      // Again under the groups' lock, so a group retired meanwhile is not attached.
      const lateRetired = retiredProblems((await repo.lockGroupsForSharing(trx, shares.groups)).retired);
      if (lateRetired.length > 0) throw invalidInput(summarise('the case', lateRetired), lateRetired);
      const created = await repo.insertCase(trx, {
        id: crypto.randomUUID(),
        owner_party: party,
        title: input.title,
        description: input.description ?? '',
        incident_class: input.incidentClass,
        severity: input.severity,
        status: input.status ?? 'open',
        tlp: input.tlp,
        pap: input.pap,
        request_id: input.requestId ?? null,
        deployment_id: input.deploymentId ?? null,
        exercise,
        created_by_id: ctx.actor.id,
        created_by: ctx.actor.name,
        created_at: now,
        updated_at: now,
        version: 1,
      });
      await repo.replaceParties(trx, created.id, shares.parties);
      await repo.replaceGroups(trx, created.id, shares.groups);
      await repo.replacePeople(trx, 'case_recipients', created.id, shares.recipients);
      await this.requireAssigneesSeeCase(trx, ctx, created.id, assignees, 'body/assignees');
      await repo.replacePeople(trx, 'case_assignees', created.id, assignees);
      await this.record(trx, ctx, created.id, null, 'case.create', {
        tlp: input.tlp,
        owner: party,
        shares,
      });
      return created;
    });
    return this.presentOne(ctx, row);
  }

  async get(ctx: Ctx, id: string): Promise<Case> {
    return this.presentOne(ctx, await this.visibleCase(ctx, id));
  }

  /** The case row if the viewer may see it, else a 404 that looks like absence. */
  async visibleCase(ctx: Ctx, id: string, db: Executor = this.deps.db) {
    const row = await repo.findVisible(db, this.viewer(ctx), id);
    if (!row) throw notFound(`case ${id}`);
    return row;
  }

  /** Locks the case for a change and says what the actor may do with it. */
  /**
   * Locks a visible case for the transaction. `case`: to change the case itself (its words, label,
   * audience); writers of one case take turns. `items`: to add or change what the case holds; such
   * writers go together, and only a change to the case itself waits for them (and they for it).
   */
  async lockForWork(trx: Tx, ctx: Ctx, id: string, scope: 'case' | 'items' = 'case') {
    const row = await repo.lockVisible(trx, this.viewer(ctx), id, scope === 'case' ? 'update' : 'share');
    if (!row) throw notFound(`case ${id}`);
    return { row, access: await CaseAccess.of(trx, ctx, row) };
  }

  async list(ctx: Ctx, query: CaseListQuery) {
    const viewer = this.viewer(ctx);
    const limit = query.limit ?? 50;
    const filter = {
      status: query.status,
      tlp: query.tlp,
      ownerParty: query.ownerParty,
      requestId: query.requestId,
      q: query.q,
    };
    let after: { updatedAt: Date; id: string } | null = null;
    if (query.cursor) {
      const [updatedAt, id] = decodeCursor<[string, string]>(query.cursor, ['timestamp', 'uuid']);
      after = { updatedAt: new Date(updatedAt), id };
    }
    const [rows, total] = await Promise.all([
      repo.listVisible(this.deps.db, viewer, filter, after, limit + 1),
      repo.countVisible(this.deps.db, viewer, filter),
    ]);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: await this.present(ctx, page),
      total,
      nextCursor: rows.length > limit && last ? encodeCursor([last.updated_at.toISOString(), last.id]) : null,
    };
  }

  async update(ctx: Ctx, id: string, patch: CasePatch, ifMatch: number | undefined): Promise<Case> {
    const problems: FieldProblem[] = [];
    if (patch.incidentClass !== undefined) {
      const problem = rsitProblem(patch.incidentClass);
      if (problem) problems.push({ field: 'body/incidentClass', message: problem });
    }
    if (problems.length > 0) throw invalidInput(summarise('the change', problems), problems);
    const row = await inTransaction(this.deps.db, async (trx) => {
      const { row: current, access } = await this.lockForWork(trx, ctx, id);
      const assignee = ctx.actor.id ? await repo.isPerson(trx, 'case_assignees', id, ctx.actor.id) : false;
      // An assignee (perhaps of another party) moves the work along; the case itself — its
      // words, PAP and people — stays with its own party.
      const onlyStatus = Object.keys(patch).every((field) => field === 'status');
      if (!access.isOwner && !(assignee && onlyStatus)) {
        throw forbidden(
          assignee
            ? "an assignee changes the case's status only; the rest is for the case's own party"
            : "only the case's own party (and, for its status, its assignees) changes it",
        );
      }
      checkVersion('case', current.version, ifMatch);
      if (patch.assignees)
        await this.requireAssigneesSeeCase(trx, ctx, id, patch.assignees, 'body/assignees');
      const updated = await repo.updateCase(trx, id, {
        ...(patch.title !== undefined ? { title: patch.title } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.incidentClass !== undefined ? { incident_class: patch.incidentClass } : {}),
        ...(patch.severity !== undefined ? { severity: patch.severity } : {}),
        ...(patch.status !== undefined ? { status: patch.status } : {}),
        ...(patch.pap !== undefined ? { pap: patch.pap } : {}),
        updated_at: this.deps.clock.now(),
      });
      if (patch.assignees) await repo.replacePeople(trx, 'case_assignees', id, patch.assignees);
      await this.record(trx, ctx, id, null, 'case.update', { fields: Object.keys(patch).sort() });
      return updated;
    });
    return this.presentOne(ctx, row);
  }

  // Sharing.

  async shares(ctx: Ctx, id: string): Promise<CaseShares> {
    const row = await this.visibleCase(ctx, id);
    return this.presentShares(this.deps.db, row, await CaseAccess.of(this.deps.db, ctx, row));
  }

  /**
   * Changes the label and audiences: for the owner party's workers only, narrowing or relaxing. A
   * party the case is shared with may not narrow it — that could take the case from its owner —
   * only its own contributions. Takes effect at once: every read applies the policy to the rows as
   * they are now, and the owner's PoCs and coordinators read the case whatever its label.
   */
  async updateShares(ctx: Ctx, id: string, input: SharesUpdate, ifMatch: number | undefined) {
    const problems = await this.audienceProblems(
      ctx,
      { parties: input.parties ?? [], groups: input.groups ?? [], recipients: input.recipients ?? [] },
      'body',
    );
    if (problems.length > 0) throw invalidInput(summarise('the sharing', problems), problems);
    return inTransaction(this.deps.db, async (trx) => {
      // The groups first (FOR SHARE), then the case: the order a member change of a group takes
      // them in. A group cannot be retired, or change its members, until this share is committed.
      const { retired: retiredNamed } = await repo.lockGroupsForSharing(trx, input.groups ?? []);
      const { row, access } = await this.lockForWork(trx, ctx, id);
      if (!access.isOwner) {
        throw forbidden(
          `only the case's own party (${row.owner_party}) changes its label and who it is shared with; a party it is shared with may narrow only the observables, notes and evidence it added itself`,
        );
      }
      checkVersion('case', row.version, ifMatch);
      const before = await repo.audienceOf(trx, id);
      const from = row.tlp as Tlp;
      const to = input.tlp ?? from;
      const added = {
        parties: (input.parties ?? before.parties).filter((p) => !before.parties.includes(p)),
        groups: (input.groups ?? []).filter((g) => !before.groups.some((b) => b.id === g)),
        // Named people read every label of the case, so naming anyone — yourself too — widens it.
        recipients: (input.recipients ?? []).filter((r) => !before.recipients.some((b) => b.id === r)),
      };
      const retired = added.groups.filter((g) => retiredNamed.includes(g));
      if (retired.length > 0) {
        const problems = (input.groups ?? [])
          .map((g, i) => ({ g, i }))
          .filter(({ g }) => retired.includes(g))
          .map(({ i }) => ({ field: `body/groups/${i}`, message: 'sharing group is retired' }));
        throw invalidInput(summarise('the sharing', problems), problems);
      }
      const relaxing =
        isRelaxing(from, to) ||
        added.parties.length > 0 ||
        added.groups.length > 0 ||
        added.recipients.length > 0;
      if (input.parties) await repo.replaceParties(trx, id, input.parties);
      if (input.groups) await repo.replaceGroups(trx, id, input.groups);
      if (input.recipients) await repo.replacePeople(trx, 'case_recipients', id, input.recipients);
      const updated = await repo.updateCase(trx, id, { tlp: to, updated_at: this.deps.clock.now() });
      await this.record(trx, ctx, id, null, relaxing ? 'case.share.relax' : 'case.share.narrow', {
        tlp: { from, to },
        parties: input.parties ?? null,
        groups: input.groups ?? null,
        recipients: input.recipients ?? null,
        ...(input.reason ? { reason: input.reason } : {}),
      });
      if (input.reason || from !== to) {
        const what =
          from === to
            ? `Sharing of the case ${relaxing ? 'widened' : 'narrowed'}`
            : `Case label ${relaxing ? 'relaxed' : 'narrowed'} from TLP:${from.toUpperCase()} to TLP:${to.toUpperCase()}`;
        await this.recordInTimeline(trx, ctx, id, null, `${what} by ${ctx.actor.name}`, input.reason);
      }
      return this.presentShares(trx, updated, access);
    });
  }

  async createGroup(ctx: Ctx, input: NewSharingGroup) {
    const party = ctx.actor.party;
    if (!party || !CASE_WORKERS.some((role) => ctx.actor.roles.includes(role))) {
      throw forbidden(`sharing groups are made by ${CASE_WORKERS.join(', ')} of a party`);
    }
    const known = await repo.existingParties(this.deps.db, input.parties);
    const problems = input.parties
      .map((p, i) => ({ p, i }))
      .filter(({ p }) => !known.includes(p))
      .map(({ p, i }) => ({ field: `body/parties/${i}`, message: `unknown party ${p}` }));
    if (problems.length > 0) throw invalidInput(summarise('the group', problems), problems);
    const row = await inTransaction(this.deps.db, async (trx) => {
      const group = await repo.insertGroup(
        trx,
        {
          id: crypto.randomUUID(),
          name: input.name,
          owner_party: party,
          created_at: this.deps.clock.now(),
          created_by: ctx.actor.name,
        },
        input.parties,
      );
      await this.deps.audit.record(trx, ctx, {
        action: 'sharing-group.create',
        objectType: 'sharing-group',
        objectId: group.id,
        summary: { parties: input.parties },
      });
      return group;
    });
    return presentGroup(ctx, row, [...input.parties].sort());
  }

  async groups(ctx: Ctx, query: { retired?: boolean | undefined } = {}) {
    const rows = await repo.groupsVisible(this.deps.db, ctx.actor.party, undefined, query.retired ?? false);
    const members = await repo.groupMembers(
      this.deps.db,
      rows.map((r) => r.id),
    );
    return { items: rows.map((row) => presentGroup(ctx, row, members.get(row.id) ?? [])) };
  }

  async group(ctx: Ctx, id: string) {
    const [row] = await repo.groupsVisible(this.deps.db, ctx.actor.party, id);
    if (!row) throw notFound(`sharing group ${id}`);
    const members = await repo.groupMembers(this.deps.db, [id]);
    return presentGroup(ctx, row, members.get(id) ?? []);
  }

  /**
   * Renames a group or replaces its members: its own party's workers, while it is not retired. The
   * group's own party's cases shared with it follow the new members; another party's cases keep
   * exactly the parties they had (their group share becomes party shares, audited on each case),
   * since only a case's own party changes who reads it.
   */
  async updateGroup(ctx: Ctx, id: string, patch: SharingGroupPatch, ifMatch: number | undefined) {
    const parties = patch.parties;
    if (parties) {
      const known = await repo.existingParties(this.deps.db, parties);
      const problems = parties
        .map((p, i) => ({ p, i }))
        .filter(({ p }) => !known.includes(p))
        .map(({ p, i }) => ({ field: `body/parties/${i}`, message: `unknown party ${p}` }));
      if (problems.length > 0) throw invalidInput(summarise('the group', problems), problems);
    }
    return inTransaction(this.deps.db, async (trx) => {
      const current = await this.lockOwnGroup(trx, ctx, id, 'change');
      checkVersion('sharing group', current.version, ifMatch);
      const before = (await repo.groupMembers(trx, [id])).get(id) ?? [];
      const membersChange = parties !== undefined && !sameSet(before, parties);
      let resolvedCases: string[] = [];
      if (membersChange) {
        // Other parties' cases change (a new version each): locked in the order of their ids, after
        // the group, as every writer that locks a group and a case takes them.
        const others = await repo.lockCasesOfOthersSharedWithGroup(trx, id, current.owner_party);
        resolvedCases = await repo.resolveGroupShares(trx, id, others, this.deps.clock.now());
        for (const caseId of resolvedCases) {
          await this.record(trx, ctx, caseId, null, 'case.share.resolve', {
            groupId: id,
            parties: before,
            reason: `sharing group ${current.name} changed its members; this case keeps the parties it had`,
          });
        }
        await repo.replaceGroupMembers(trx, id, parties);
      }
      const updated = await repo.updateGroup(trx, id, patch.name !== undefined ? { name: patch.name } : {});
      await this.deps.audit.record(trx, ctx, {
        action: 'sharing-group.update',
        objectType: 'sharing-group',
        objectId: id,
        summary: {
          ...(patch.name !== undefined ? { name: { from: current.name, to: patch.name } } : {}),
          ...(membersChange ? { parties: { from: before, to: [...parties].sort() } } : {}),
          resolvedCases,
        },
      });
      return presentGroup(ctx, updated, membersChange ? [...parties].sort() : before);
    });
  }

  /**
   * Retires a group: no longer offered for new shares, its members frozen. The cases already
   * shared with it keep it, and so exactly the audience they had; their own party may drop it.
   */
  async retireGroup(ctx: Ctx, id: string, ifMatch: number | undefined) {
    return inTransaction(this.deps.db, async (trx) => {
      const current = await this.lockOwnGroup(trx, ctx, id, 'retire');
      checkVersion('sharing group', current.version, ifMatch);
      const updated = await repo.updateGroup(trx, id, {
        retired_at: this.deps.clock.now(),
        retired_by: ctx.actor.name,
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'sharing-group.retire',
        objectType: 'sharing-group',
        objectId: id,
        summary: { name: current.name },
      });
      const members = (await repo.groupMembers(trx, [id])).get(id) ?? [];
      return presentGroup(ctx, updated, members);
    });
  }

  /** The group, locked, if the actor may see it and is a worker of its own party; never a retired one. */
  private async lockOwnGroup(trx: Tx, ctx: Ctx, id: string, what: string) {
    const [visible] = await repo.groupsVisible(trx, ctx.actor.party, id);
    if (!visible) throw notFound(`sharing group ${id}`);
    const current = await repo.lockGroup(trx, id);
    if (!current) throw notFound(`sharing group ${id}`);
    if (!mayChangeGroup(ctx, current)) {
      throw forbidden(
        `only ${CASE_WORKERS.join(', ')} of ${current.owner_party}, whose group it is, ${what} it`,
      );
    }
    if (current.retired_at) {
      throw new AppError('conflict', `sharing group ${current.name} is retired: its members are frozen`);
    }
    return current;
  }

  // Tasks.

  async tasks(ctx: Ctx, caseId: string) {
    const row = await this.visibleCase(ctx, caseId);
    const access = await CaseAccess.of(this.deps.db, ctx, row);
    const rows = await repo.tasksOf(this.deps.db, caseId);
    return { items: rows.map((task) => this.presentTask(task, ctx, access)) };
  }

  async addTask(ctx: Ctx, caseId: string, input: NewTask): Promise<Task> {
    const id = await inTransaction(this.deps.db, async (trx) => {
      const { access } = await this.lockForWork(trx, ctx, caseId, 'items');
      access.requireContributor('add tasks');
      if (input.assignee)
        await this.requireAssigneeSeesCase(trx, ctx, caseId, input.assignee, 'body/assignee');
      const now = this.deps.clock.now();
      const task = await repo.insertTask(trx, {
        id: crypto.randomUUID(),
        case_id: caseId,
        title: input.title,
        description: input.description ?? '',
        status: 'todo',
        assignee_id: input.assignee ?? null,
        due_at: input.dueAt ? new Date(input.dueAt) : null,
        done_at: null,
        created_by: ctx.actor.name,
        created_at: now,
        updated_at: now,
        version: 1,
      });
      await this.touch(trx, caseId);
      await this.record(trx, ctx, caseId, null, 'case.task.create', {
        taskId: task.id,
        assigneeId: input.assignee ?? null,
      });
      return task.id;
    });
    return this.taskById(ctx, caseId, id);
  }

  async updateTask(ctx: Ctx, caseId: string, taskId: string, patch: TaskPatch, ifMatch: number | undefined) {
    await inTransaction(this.deps.db, async (trx) => {
      const { access } = await this.lockForWork(trx, ctx, caseId, 'items');
      const task = await repo.lockTask(trx, caseId, taskId);
      if (!task) throw notFound(`task ${taskId}`);
      const isAssignee = ctx.actor.id !== null && task.assignee_id === ctx.actor.id;
      if (!access.isContributor) {
        // Whoever may only read the case works the task assigned to them: its status, nothing else.
        if (!isAssignee) access.requireContributor('change its tasks');
        const others = Object.keys(patch)
          .filter((field) => field !== 'status')
          .sort();
        if (others.length > 0) {
          throw forbidden(
            `as its assignee you may change this task's status only, not its ${others.join(', ')}: the rest is for those who work on the case (its party, the parties it is shared with, its named people and assignees)`,
          );
        }
      }
      if (patch.assignee)
        await this.requireAssigneeSeesCase(trx, ctx, caseId, patch.assignee, 'body/assignee');
      checkVersion('task', task.version, ifMatch);
      const now = this.deps.clock.now();
      const finishing = patch.status === 'done' || patch.status === 'cancelled';
      await repo.updateTask(trx, taskId, {
        ...(patch.title !== undefined ? { title: patch.title } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.status !== undefined ? { status: patch.status, done_at: finishing ? now : null } : {}),
        ...(patch.assignee !== undefined ? { assignee_id: patch.assignee } : {}),
        ...(patch.dueAt !== undefined ? { due_at: patch.dueAt ? new Date(patch.dueAt) : null } : {}),
        updated_at: now,
      });
      await this.touch(trx, caseId);
      await this.record(trx, ctx, caseId, null, 'case.task.update', {
        taskId,
        fields: Object.keys(patch).sort(),
        ...(patch.status ? { status: patch.status } : {}),
        ...(patch.assignee !== undefined ? { assigneeId: patch.assignee } : {}),
      });
    });
    return this.taskById(ctx, caseId, taskId);
  }

  private async taskById(ctx: Ctx, caseId: string, taskId: string) {
    const theCase = await this.visibleCase(ctx, caseId);
    const access = await CaseAccess.of(this.deps.db, ctx, theCase);
    const rows = await repo.tasksOf(this.deps.db, caseId);
    return this.presentTask(rows.find((r) => r.id === taskId)!, ctx, access);
  }

  // Notes and the timeline.

  async notes(ctx: Ctx, caseId: string) {
    const theCase = await this.visibleCase(ctx, caseId);
    const access = await CaseAccess.of(this.deps.db, ctx, theCase);
    const rows = await repo.notesVisible(this.deps.db, this.viewer(ctx), caseId);
    return { items: rows.map((row) => presentNote(row, access.itemPermissions(labelledItem(row)))) };
  }

  /**
   * Narrows (the case's own party, or the note's) or relaxes (the note's own party) a note's label,
   * with the reason in the audit log and, where every reader of the case may read it, the timeline.
   */
  async relabelNote(ctx: Ctx, caseId: string, noteId: string, input: NotePatch): Promise<Note> {
    return inTransaction(this.deps.db, async (trx) => {
      const { access } = await this.lockForWork(trx, ctx, caseId, 'items');
      const current = await repo.lockNoteVisible(trx, this.viewer(ctx), caseId, noteId);
      if (!current) throw notFound(`note ${noteId}`);
      const from = current.tlp as Tlp;
      access.requireMayRelabel(from, input.tlp, current.origin_party, 'this note');
      const updated = await repo.updateNoteTlp(trx, noteId, input.tlp);
      await this.record(trx, ctx, caseId, input.tlp, 'case.note.relabel', {
        noteId,
        tlp: { from, to: input.tlp },
        ...(input.reason ? { reason: input.reason } : {}),
      });
      await this.relabelEvents(trx, caseId, [noteId], input.tlp);
      if (from !== input.tlp) {
        await this.recordInTimeline(
          trx,
          ctx,
          caseId,
          input.tlp,
          `A note relabelled from TLP:${from.toUpperCase()} to TLP:${input.tlp.toUpperCase()} by ${ctx.actor.name}`,
          input.reason,
        );
      }
      return presentNote(updated, access.itemPermissions(labelledItem(updated)));
    });
  }

  /**
   * Writes a change of label, and its reason, into the case's timeline — only where every reader of
   * the case may read it (the case's own label, or an item no stricter than the case and not RED):
   * else the entry would tell others of what they may not see. The audit log has it either way.
   */
  async recordInTimeline(
    trx: Tx,
    ctx: Ctx,
    caseId: string,
    itemTlp: Tlp | null,
    what: string,
    reason: string | undefined,
  ) {
    if (itemTlp !== null) {
      const theCase = await repo.findVisible(trx, this.viewer(ctx), caseId);
      if (!theCase || itemTlp === 'red' || TLP_STRICTNESS[itemTlp] > TLP_STRICTNESS[theCase.tlp as Tlp])
        return;
    }
    const now = this.deps.clock.now();
    await repo.insertTimelineEntry(trx, {
      id: crypto.randomUUID(),
      case_id: caseId,
      happened_at: now,
      recorded_at: now,
      text: reason ? `${what}: ${reason}` : what,
      recorded_by: ctx.actor.name,
    });
  }

  async addNote(ctx: Ctx, caseId: string, input: NewNote): Promise<Note> {
    return inTransaction(this.deps.db, async (trx) => {
      const { row, access } = await this.lockForWork(trx, ctx, caseId, 'items');
      access.requireContributor('add notes');
      const tlp = input.tlp ?? (row.tlp as Tlp);
      const note = await repo.insertNote(trx, {
        id: crypto.randomUUID(),
        case_id: caseId,
        body: input.body,
        tlp,
        origin_party: ctx.actor.party ?? row.owner_party,
        created_by_id: ctx.actor.id,
        created_by: ctx.actor.name,
        created_at: this.deps.clock.now(),
      });
      await this.touch(trx, caseId, tlp);
      await this.record(trx, ctx, caseId, tlp, 'case.note.create', { noteId: note.id, tlp });
      return presentNote(note, access.itemPermissions(labelledItem(note)));
    });
  }

  async timeline(ctx: Ctx, caseId: string) {
    await this.visibleCase(ctx, caseId);
    const rows = await repo.timelineOf(this.deps.db, caseId);
    return { items: rows.map(presentTimelineEntry) };
  }

  async addTimelineEntry(ctx: Ctx, caseId: string, input: NewCaseTimelineEntry): Promise<CaseTimelineEntry> {
    const happenedAt = new Date(input.happenedAt);
    const now = this.deps.clock.now();
    if (happenedAt.getTime() > now.getTime() + 5 * 60_000) {
      throw invalidInput('a timeline entry tells what already happened: happenedAt is in the future', [
        { field: 'body/happenedAt', message: 'is in the future' },
      ]);
    }
    return inTransaction(this.deps.db, async (trx) => {
      const { access } = await this.lockForWork(trx, ctx, caseId, 'items');
      access.requireContributor('add to its timeline');
      const entry = await repo.insertTimelineEntry(trx, {
        id: crypto.randomUUID(),
        case_id: caseId,
        happened_at: happenedAt,
        recorded_at: now,
        text: input.text,
        recorded_by: ctx.actor.name,
      });
      await this.touch(trx, caseId);
      await this.record(trx, ctx, caseId, null, 'case.timeline.create', { entryId: entry.id });
      return presentTimelineEntry(entry);
    });
  }

  // Shared by the case's items.

  /**
   * Marks the case as changed (lists are sorted by it) without a new version of its own fields —
   * only when every reader of the case may read the change: an item under a narrower label than
   * its case (or RED) leaves the case's time as it was, else the case's `updatedAt` (and the
   * list's order) would tell others that something hidden was added.
   *
   * Done once the item's transaction has committed, at most once a second, and never waiting:
   * writers holding the case for its items cannot update its row in their transactions (each would
   * wait for the others), and a touch waiting for them would queue every later writer behind it.
   * A case busy with writers is touched a second later instead.
   */
  async touch(trx: Tx, caseId: string, itemTlp: Tlp | string | null = null) {
    if (itemTlp === 'red') return;
    const at = this.deps.clock.now();
    // Touched by this process less than a second ago: the touch would find nothing due.
    const last = this.lastTouched.get(caseId);
    if (last !== undefined && at.getTime() - last < TOUCH_EVERY_MS) return;
    afterCommit(trx, `case.touch:${caseId}:${itemTlp}`, () => this.touchNow(caseId, itemTlp, at, 0));
  }

  private async touchNow(caseId: string, itemTlp: string | null, at: Date, retries: number): Promise<void> {
    const outcome = await repo.touchCase(this.deps.db, caseId, itemTlp, at).catch(() => 'busy' as const);
    if (outcome === 'touched') setNewest(this.lastTouched, caseId, at.getTime(), MAX_TOUCHES_REMEMBERED);
    if (outcome !== 'busy' || retries >= TOUCH_RETRIES) return;
    const retryKey = `${caseId}:${itemTlp}`;
    if (this.touchesDue.has(retryKey)) return;
    this.touchesDue.add(retryKey);
    setTimeout(() => {
      this.touchesDue.delete(retryKey);
      void this.touchNow(caseId, itemTlp, this.deps.clock.now(), retries + 1);
    }, 1000).unref();
  }

  /** Audits a change and tells the live streams, in the change's transaction. */
  async record(
    trx: Tx,
    ctx: Ctx,
    caseId: string,
    tlp: string | null,
    action: string,
    summary: Record<string, unknown>,
  ) {
    await this.deps.audit.record(trx, ctx, { action, objectType: 'case', objectId: caseId, summary });
    const item = itemOf(summary);
    // An item's event reaches the item's own audience: its creator and origin, not the actor's.
    const author = item && tlp !== null ? await repo.itemAuthor(trx, item.table, item.id) : undefined;
    await this.deps.notifier.publishCaseEvent(trx, {
      type: action,
      caseId,
      tlp,
      item: author ? { createdById: author.created_by_id, originParty: author.origin_party } : undefined,
      data: {
        caseId,
        by: ctx.actor.name,
        ...(item ? { itemId: item.id } : {}),
        // A task's event names the task and who it went to: the assignee is notified of it.
        ...(typeof summary.taskId === 'string' ? { taskId: summary.taskId } : {}),
        ...('assigneeId' in summary ? { assigneeId: summary.assigneeId } : {}),
      },
    });
  }

  /** Items' labels changed: their past events follow, so a narrowed item's history narrows too. */
  async relabelEvents(trx: Tx, caseId: string, itemIds: readonly string[], tlp: string) {
    await relabelItemEvents(
      trx,
      caseId,
      itemIds.map((itemId) => ({ itemId, tlp })),
    );
  }

  private async deploymentVisible(ctx: Ctx, id: string) {
    const row = await this.deps.db
      .selectFrom('deployments')
      .select('id')
      .where('id', '=', id)
      .where(deploymentsVisibleTo(ctx.actor))
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Work (a task, or the case itself) goes only to someone who may read the case, judged by the
   * same policy as every read (under the case's lock, so a change of its audience cannot slip in
   * between): work nobody can see is work nobody does, and its title would tell them the case
   * exists.
   *
   * A refusal tells nothing about a user the caller may not see (`usersVisibleTo`): an unknown id,
   * a disabled account and someone who may not see the case get the same words. Only a caller who
   * sees the user is told which it is.
   */
  private async requireAssigneeSeesCase(trx: Tx, ctx: Ctx, caseId: string, userId: string, field: string) {
    const refusal = await this.assigneeRefusal(trx, ctx, caseId, userId);
    if (refusal) {
      throw invalidInput(`assignee ${userId} cannot be assigned: ${refusal.message}`, [
        { field, message: refusal.detail },
      ]);
    }
  }

  /** `requireAssigneeSeesCase` for a list of assignees (`field`/0, `field`/1…), all refusals at once. */
  private async requireAssigneesSeeCase(trx: Tx, ctx: Ctx, caseId: string, userIds: string[], field: string) {
    const problems: FieldProblem[] = [];
    const messages: string[] = [];
    for (const [i, userId] of userIds.entries()) {
      const refusal = await this.assigneeRefusal(trx, ctx, caseId, userId);
      if (!refusal) continue;
      problems.push({ field: `${field}/${i}`, message: refusal.detail });
      messages.push(`assignee ${userId} cannot be assigned: ${refusal.message}`);
    }
    if (problems.length > 0) throw invalidInput(messages.join('; '), problems);
  }

  private async assigneeRefusal(
    trx: Tx,
    ctx: Ctx,
    caseId: string,
    userId: string,
  ): Promise<{ message: string; detail: string } | null> {
    const user = await repo.userAsActor(trx, userId, ctx.actor);
    let sees = false;
    if (user && !user.disabled_at) {
      const viewer: CaseViewer = {
        actor: {
          type: 'user',
          id: user.id,
          name: user.name,
          party: user.party_code,
          roles: user.roles as Role[],
        },
        day: utcDay(this.deps.clock.now()),
      };
      sees = (await repo.findVisible(trx, viewer, caseId)) !== undefined;
    }
    if (sees) return null;
    const rule = 'they must be an active user who can see this case';
    if (!user?.visible_to_caller) return { message: rule, detail: rule };
    if (user.disabled_at) {
      return {
        message: `${rule}, and ${user.name}'s account is disabled: assign someone active`,
        detail: 'account disabled',
      };
    }
    return {
      message: `${rule}, and ${user.name} (${user.party_code}) may not: share it with them first, or assign someone who may see it`,
      detail: 'may not see the case',
    };
  }

  private async audienceProblems(
    ctx: Ctx,
    shares: { parties: string[]; groups: string[]; recipients: string[] },
    at: string,
  ): Promise<FieldProblem[]> {
    const problems: FieldProblem[] = [];
    const db = this.deps.db;
    const parties = await repo.existingParties(db, shares.parties);
    shares.parties.forEach((p, i) => {
      if (!parties.includes(p)) problems.push({ field: `${at}/parties/${i}`, message: `unknown party ${p}` });
    });
    // Only a group the sharer may see: attaching another party's private group would show it.
    const groups = shares.groups.length > 0 ? await repo.groupsVisible(db, ctx.actor.party) : [];
    shares.groups.forEach((g, i) => {
      if (!groups.some((group) => group.id === g))
        problems.push({ field: `${at}/groups/${i}`, message: 'unknown sharing group' });
    });
    const people = await repo.existingUsers(db, shares.recipients);
    shares.recipients.forEach((r, i) => {
      if (!people.some((u) => u.id === r))
        problems.push({ field: `${at}/recipients/${i}`, message: 'unknown user' });
    });
    return problems;
  }

  private async presentShares(db: Executor, row: repo.CaseRow, access: CaseAccess): Promise<CaseShares> {
    const audience = await repo.audienceOf(db, row.id);
    return {
      tlp: row.tlp as Tlp,
      ownerParty: row.owner_party,
      parties: audience.parties,
      groups: audience.groups,
      recipients: audience.recipients.map(person),
      version: row.version,
      can: { change: access.isOwner },
    };
  }

  private async presentOne(ctx: Ctx, row: repo.CaseRow): Promise<Case> {
    const [presented] = await this.present(ctx, [row]);
    return presented!;
  }

  /** What the actor may do with each case (`casePermissions`, the rule the writes enforce). */
  private async permissionsOf(ctx: Ctx, rows: repo.CaseRow[], assignees: { caseId: string; id: string }[]) {
    const viewer = this.viewer(ctx);
    const permissions = new Map<string, Case['can']>();
    for (const row of rows) {
      const access = await CaseAccess.of(this.deps.db, ctx, row);
      const assignee =
        ctx.actor.id !== null && assignees.some((a) => a.caseId === row.id && a.id === ctx.actor.id);
      permissions.set(
        row.id,
        casePermissions(access.standing, { assignee, passableOnward: casePassableOnward(viewer, row) }),
      );
    }
    return permissions;
  }

  private async present(ctx: Ctx, rows: repo.CaseRow[]): Promise<Case[]> {
    const viewer = this.viewer(ctx);
    const ids = rows.map((r) => r.id);
    const [counts, assignees] = await Promise.all([
      repo.itemCounts(this.deps.db, viewer, ids),
      repo.peopleOf(this.deps.db, 'case_assignees', ids),
    ]);
    const can = await this.permissionsOf(ctx, rows, assignees);
    return rows.map((row) => ({
      id: row.id,
      title: row.title,
      description: row.description,
      incidentClass: row.incident_class,
      severity: row.severity as Severity,
      status: row.status as CaseStatus,
      tlp: row.tlp as Tlp,
      pap: row.pap as Pap,
      ownerParty: row.owner_party,
      mirroredFrom: row.mirrored_from,
      createdBy: row.created_by,
      requestId: row.request_id,
      deploymentId: row.deployment_id,
      assignees: assignees.filter((a) => a.caseId === row.id).map(person),
      exercise: row.exercise,
      counts: counts.get(row.id)!,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
      version: row.version,
      can: can.get(row.id)!,
    }));
  }

  private presentTask(
    row: Awaited<ReturnType<typeof repo.tasksOf>>[number],
    ctx: Ctx,
    access: CaseAccess,
  ): Task {
    return {
      id: row.id,
      caseId: row.case_id,
      title: row.title,
      description: row.description,
      status: row.status as TaskStatus,
      assignee:
        row.assignee_id && row.assignee_name
          ? { id: row.assignee_id, name: row.assignee_name, party: row.assignee_party ?? '' }
          : null,
      dueAt: row.due_at?.toISOString() ?? null,
      clock: taskClock(row.status, row.due_at, row.done_at, this.deps.clock.now()),
      createdBy: row.created_by,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
      version: row.version,
      can: taskPermissions(access.standing, { assigneeId: row.assignee_id }, ctx.actor.id),
    };
  }
}

const ITEM_TABLES = {
  observableId: 'observables',
  noteId: 'case_notes',
  evidenceId: 'evidence',
} as const;

/** The labelled item an audited change is about, if any. */
function itemOf(summary: Record<string, unknown>) {
  for (const [key, table] of Object.entries(ITEM_TABLES)) {
    const id = summary[key];
    if (typeof id === 'string') return { table, id };
  }
  return null;
}

export function taskClock(status: string, dueAt: Date | null, doneAt: Date | null, now: Date): Task['clock'] {
  if (!dueAt) return 'none';
  if (status === 'cancelled') return 'none';
  if (status === 'done') return doneAt && doneAt.getTime() <= dueAt.getTime() ? 'met' : 'missed';
  if (now.getTime() > dueAt.getTime()) return 'overdue';
  return dueAt.getTime() - now.getTime() <= DUE_SOON_MS ? 'due-soon' : 'running';
}

export function checkVersion(what: string, version: number, ifMatch: number | undefined) {
  if (ifMatch !== undefined && ifMatch !== version) {
    throw new AppError(
      'precondition_failed',
      `the ${what} changed since you read it: you sent version ${ifMatch}, it is now at version ${version}`,
    );
  }
}

export function summarise(what: string, problems: FieldProblem[]) {
  return `${what} has problems: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`;
}

const person = (p: { id: string; name: string; party: string }): Person => ({
  id: p.id,
  name: p.name,
  party: p.party,
});

const mayChangeGroup = (ctx: Ctx, row: { owner_party: string }) =>
  (ctx.actor.type === 'system' && ctx.actor.roles.includes('admin')) ||
  (ctx.actor.party === row.owner_party && CASE_WORKERS.some((role) => ctx.actor.roles.includes(role)));

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

function presentGroup(ctx: Ctx, row: repo.SharingGroupRow, parties: string[]): SharingGroup {
  return {
    id: row.id,
    name: row.name,
    ownerParty: row.owner_party,
    parties,
    createdAt: row.created_at.toISOString(),
    retiredAt: row.retired_at?.toISOString() ?? null,
    version: row.version,
    can: { change: row.retired_at === null && mayChangeGroup(ctx, row) },
  };
}

/** A labelled row as the item rules see it. */
export const labelledItem = (row: { origin_party: string; mirrored_from?: string | null }) => ({
  originParty: row.origin_party,
  mirrored: row.mirrored_from !== null && row.mirrored_from !== undefined,
});

function presentNote(row: Selectable<CaseNotesTable>, can: ItemPermissions): Note {
  return {
    id: row.id,
    caseId: row.case_id,
    body: row.body,
    tlp: row.tlp as Tlp,
    originParty: row.origin_party,
    mirroredFrom: row.mirrored_from,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    // A note is relabelled, never edited nor deleted (no route does either): a note is a record.
    can: { ...can, edit: false, delete: false },
  };
}

function presentTimelineEntry(row: Selectable<CaseTimelineTable>): CaseTimelineEntry {
  return {
    id: row.id,
    caseId: row.case_id,
    happenedAt: row.happened_at.toISOString(),
    recordedAt: row.recorded_at.toISOString(),
    text: row.text,
    recordedBy: row.recorded_by,
  };
}
