import { WORK_KINDS, WORK_LIMIT, type WorkItem, type WorkKind, type WorkList } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import { type Ctx, hasRole } from '../../context.ts';
import type { Database } from '../../platform/db/schema.ts';
import { caseViewerOf } from '../cases/case-viewer.ts';
import { deploymentPermissions, memberPermissions } from '../deployments/permissions.ts';
import { mayVote, PROPOSABLE_STATUSES, requestPermissions } from '../requests/permissions.ts';
import type { RequestsService } from '../requests/requests.service.ts';
import * as repo from './my-work.repository.ts';

export interface WorkDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  requests: RequestsService;
}

const HOUR = 3_600_000;
/** A clock is the person's work once it runs out within this (or has run out). */
const CLOCK_HORIZON = 24 * HOUR;

const CLOCK_WORDS: Record<string, string> = {
  decision: "council's decision",
  answer: 'answer to the requester',
  response: 'response (the team at work)',
  post_action_report: 'post-action report',
  nis2_early_warning: 'NIS2 early warning',
  nis2_notification: 'NIS2 incident notification',
  nis2_final_report: 'NIS2 final report',
};

const iso = (at: Date | string | null | undefined) => (at ? new Date(at).toISOString() : null);

/**
 * What waits for one person: votes, releases, acceptances, tasks, clocks, reports, drafts, teams
 * and passes. Candidates are read through the access policy; whether each is the caller's to do is
 * decided by the same permission functions that enforce the act, so the list never offers what the
 * API would refuse.
 */
export class WorkService {
  constructor(private readonly deps: WorkDeps) {}

  async mine(ctx: Ctx): Promise<WorkList> {
    const { actor } = ctx;
    const { db } = this.deps;
    const now = this.deps.clock.now();
    const viewer = await this.deps.requests.viewer(ctx);
    const party = actor.party;
    const items: WorkItem[] = [];
    const request = (row: { id: string; party_code: string; title: string; exercise: boolean }) => ({
      requestId: row.id,
      party: row.party_code,
      title: row.title,
      exercise: row.exercise,
    });

    if (hasRole(actor, 'council') && party) {
      for (const row of await repo.votingUnvoted(db, viewer, party, WORK_LIMIT)) {
        if (!mayVote(actor, row, now)) continue;
        items.push({
          kind: 'vote',
          id: `vote:${row.id}`,
          ...request(row),
          href: `/requests/${row.id}`,
          dueAt: iso(row.due_at),
          since: iso(row.submitted_at ?? row.created_at)!,
          detail: `${party} sits on the council for this request of ${row.party_code}: vote to activate, partially activate, decline or abstain.`,
        });
      }
    }

    if (hasRole(actor, 'poc') && party) {
      for (const row of await repo.pendingMembersOf(db, viewer, party, WORK_LIMIT)) {
        const deployment = { host_party: row.host_party, status: row.deployment_status };
        const member = { party_code: row.member_party, status: row.member_status, pass_id: row.pass_id };
        if (!memberPermissions(actor, deployment, member, false).release) continue;
        items.push({
          kind: 'release',
          id: `release:${row.deployment_id}:${row.responder_id}`,
          requestId: row.request_id,
          deploymentId: row.deployment_id,
          responderId: row.responder_id,
          party: row.request_party,
          title: `${row.responder_name}, for ${row.request_title}`,
          exercise: row.exercise,
          href: `/deployments/${row.deployment_id}`,
          dueAt: iso(row.due_at),
          since: iso(row.deployment_created_at)!,
          detail: `${row.responder_name} (${row.member_party}) is proposed for the team going to ${row.host_party}: release them, or decline with a reason.`,
        });
      }
      for (const row of await repo.hostedDeployments(db, viewer, party, ['released'], WORK_LIMIT)) {
        if (!deploymentPermissions(actor, row).accept) continue;
        items.push({
          kind: 'accept',
          id: `accept:${row.id}`,
          requestId: row.request_id,
          deploymentId: row.id,
          party: row.party_code,
          title: row.title,
          exercise: row.exercise,
          href: `/deployments/${row.id}`,
          dueAt: iso(row.due_at),
          since: iso(row.updated_at)!,
          detail: `Every home state released its people: accept the team on ${row.host_party}'s territory (personnel status, access, liability agreement).`,
        });
      }
      for (const row of await repo.requestsIn(db, viewer, ['draft'], { party }, WORK_LIMIT)) {
        if (!requestPermissions(actor, row, now).submit) continue;
        items.push({
          kind: 'draft',
          id: `draft:${row.id}`,
          ...request(row),
          href: `/requests/${row.id}`,
          dueAt: null,
          since: iso(row.created_at)!,
          detail: `A draft of ${row.party_code} not yet submitted: complete it and submit it, or withdraw it.`,
        });
      }
    }

    if (hasRole(actor, 'coordinator')) {
      const team = await repo.requestsIn(
        db,
        viewer,
        PROPOSABLE_STATUSES,
        { clock: 'response', withoutLiveDeployment: true },
        WORK_LIMIT,
      );
      for (const row of team) {
        if (!requestPermissions(actor, row, now).proposeTeam) continue;
        items.push({
          kind: 'team',
          id: `team:${row.id}`,
          ...request(row),
          href: `/requests/${row.id}`,
          dueAt: iso(row.due_at),
          since: iso(row.updated_at)!,
          detail: `The council activated this request of ${row.party_code}: propose a team and adopt it.`,
        });
      }
      const stoodDown = await repo.requestsIn(
        db,
        viewer,
        ['stood_down'],
        { clock: 'post_action_report' },
        WORK_LIMIT,
      );
      for (const row of stoodDown) {
        if (!requestPermissions(actor, row, now).report) continue;
        items.push({
          kind: 'report',
          id: `report:${row.id}`,
          ...request(row),
          href: `/requests/${row.id}`,
          dueAt: iso(row.due_at),
          since: iso(row.updated_at)!,
          detail: 'The team stood down: write the post-action report.',
        });
      }
    }

    if (actor.id) {
      for (const row of await repo.openTasksAssigned(
        db,
        caseViewerOf(this.deps.clock, ctx),
        actor.id,
        WORK_LIMIT,
      )) {
        items.push({
          kind: 'task',
          id: `task:${row.id}`,
          caseId: row.case_id,
          ...(row.request_id ? { requestId: row.request_id } : {}),
          party: row.owner_party,
          title: row.title,
          exercise: row.exercise,
          href: `/cases/${row.case_id}`,
          dueAt: iso(row.due_at),
          since: iso(row.created_at)!,
          detail: `Assigned to you on the case “${row.case_title}” (${row.status === 'todo' ? 'to do' : 'in progress'}).`,
        });
      }
      for (const row of await repo.ownMemberships(db, viewer, actor.id, WORK_LIMIT)) {
        const deployment = { host_party: row.host_party, status: row.deployment_status };
        const member = { party_code: row.member_party, status: row.member_status, pass_id: row.pass_id };
        if (!memberPermissions(actor, deployment, member, true).pass) continue;
        items.push({
          kind: 'pass',
          id: `pass:${row.deployment_id}:${row.responder_id}`,
          requestId: row.request_id,
          deploymentId: row.deployment_id,
          responderId: row.responder_id,
          party: row.request_party,
          title: row.request_title,
          exercise: row.exercise,
          href: `/deployments/${row.deployment_id}/passes/${row.responder_id}`,
          dueAt: null,
          since: iso(row.deployment_updated_at)!,
          detail: `You are on the team at work in ${row.host_party}: collect your responder pass, which the host verifies.`,
        });
      }
    }

    items.push(...(await this.clocks(ctx, viewer, now, items)));
    return listOf(items);
  }

  /**
   * Open clocks running out within a day, of requests the person acts on: a coordinator every
   * clock they see; a PoC the NIS2 clocks of their own party's requests, which it files. A council
   * member's decision clock is their vote's due time: once their party has voted it is no longer
   * theirs (a vote may still be changed, but nothing waits). A clock already shown as another
   * item's due time is not repeated.
   */
  private async clocks(
    ctx: Ctx,
    viewer: Awaited<ReturnType<RequestsService['viewer']>>,
    now: Date,
    already: WorkItem[],
  ): Promise<WorkItem[]> {
    const { actor } = ctx;
    if (!hasRole(actor, 'coordinator', 'poc')) return [];
    const shown = new Set(already.map((item) => `${item.requestId}@${item.dueAt}`));
    const rows = await repo.clocksDueBefore(
      this.deps.db,
      viewer,
      new Date(now.getTime() + CLOCK_HORIZON),
      WORK_LIMIT,
    );
    const items: WorkItem[] = [];
    for (const row of rows) {
      const can = requestPermissions(actor, row, now);
      const kind = row.deadline_kind;
      const mine = hasRole(actor, 'coordinator') || (kind.startsWith('nis2_') && can.fileNis2);
      const dueAt = iso(row.due_at)!;
      if (!mine || shown.has(`${row.id}@${dueAt}`)) continue;
      const overdue = new Date(row.due_at).getTime() <= now.getTime();
      const words = CLOCK_WORDS[kind] ?? kind.replaceAll('_', ' ');
      items.push({
        kind: 'clock',
        id: `clock:${row.deadline_id}`,
        requestId: row.id,
        party: row.party_code,
        title: row.title,
        exercise: row.exercise,
        href: `/requests/${row.id}`,
        dueAt,
        since: iso(row.warn_at)!,
        detail: overdue
          ? `The ${words} clock has run out: act, or record why not.`
          : `The ${words} clock runs out within a day.`,
      });
    }
    return items;
  }
}

/** Oldest deadline first, then what has none, oldest first; bounded, with the total and counts per kind. */
function listOf(items: WorkItem[]): WorkList {
  const time = (at: string | null) => (at === null ? Number.POSITIVE_INFINITY : Date.parse(at));
  const sorted = [...items].sort(
    (a, b) =>
      time(a.dueAt) - time(b.dueAt) || Date.parse(a.since) - Date.parse(b.since) || a.id.localeCompare(b.id),
  );
  const counts = Object.fromEntries(WORK_KINDS.map((kind) => [kind, 0])) as Record<WorkKind, number>;
  for (const item of items) counts[item.kind] += 1;
  return { items: sorted.slice(0, WORK_LIMIT), total: items.length, counts };
}
