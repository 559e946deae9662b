import type { NotificationKind } from '@vytis/contracts';
import type { Executor } from '../../platform/db/transaction.ts';
import { clockWords } from './inbox.kinds.ts';
import type { EventRow, Person } from './inbox.repository.ts';
import * as repo from './inbox.repository.ts';

/** One event addressed to some people: what it is to them, in words, and where to look. */
export interface Addressed {
  kind: NotificationKind;
  title: string;
  href: string;
  people: Person[];
}

const quoted = (title: string | null) => (title ? `“${title}”` : 'a request');

/**
 * The events addressed to anyone (`addressees` answers only these). Known without a query, so the
 * dispatcher passes over every other event (an indicator added, a note) at no cost: they are most
 * of the sequence under load.
 */
const ADDRESSED_TYPES: ReadonlySet<string> = new Set([
  'request.voting',
  'request.submitted',
  'request.decision',
  'request.deployment.proposed',
  'request.deployment.member.added',
  'request.deployment.released',
  'request.deadline.warning',
  'request.deadline.overdue',
  'request.pass.issued',
  'case.task.create',
  'case.task.update',
]);

export const mayAddress = (type: string) => ADDRESSED_TYPES.has(type);

/**
 * Who an event is addressed to: those who have to act on it (a vote, a release, an acceptance, a
 * clock) or whom it is about (their party's request, their task, their pass). Whether each of them
 * may see it is decided after, by the live stream's policy.
 */
export async function addressees(db: Executor, event: EventRow): Promise<Addressed | null> {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const str = (key: string) => (typeof data[key] === 'string' ? (data[key] as string) : null);
  const request = quoted(event.request_title);
  const requestHref = `/requests/${event.request_id}`;
  const coordinators = () => repo.usersWithRole(db, ['coordinator'], null);
  const requesterPocs = () =>
    event.request_party ? repo.usersWithRole(db, ['poc'], [event.request_party]) : Promise.resolve([]);
  const electorate = () => {
    const fromEvent = Array.isArray(data.electorate) ? (data.electorate as string[]) : null;
    const council = event.request_council as { electorate?: string[] } | null;
    return fromEvent ?? council?.electorate ?? [];
  };

  if (!mayAddress(event.type)) return null;
  switch (event.type) {
    case 'request.voting':
      return {
        kind: 'vote.opened',
        title: `Council vote open on ${request}: your party's vote is asked`,
        href: requestHref,
        people: await repo.usersWithRole(db, ['council'], electorate()),
      };
    case 'request.submitted':
      return {
        kind: 'request.submitted',
        title: `${request} was submitted by ${event.request_party}: to triage`,
        href: requestHref,
        people: await coordinators(),
      };
    case 'request.decision': {
      const outcome = str('outcome')?.replaceAll('_', ' ') ?? 'decided';
      return {
        kind: 'decision.made',
        title: `The council decided on ${request}: ${outcome}`,
        href: requestHref,
        people: await requesterPocs(),
      };
    }
    case 'request.deployment.proposed':
    case 'request.deployment.member.added': {
      const deploymentId = str('deploymentId');
      if (!deploymentId) return null;
      const responderId = event.type === 'request.deployment.member.added' ? str('responderId') : null;
      const parties = await repo.pendingMemberParties(db, deploymentId, responderId ?? undefined);
      return {
        kind: 'release.asked',
        title: `A team for ${request} needs your party's release of its responders`,
        href: `/deployments/${deploymentId}`,
        people: await repo.usersWithRole(db, ['poc'], parties),
      };
    }
    case 'request.deployment.released': {
      const deploymentId = str('deploymentId');
      const deployment = deploymentId ? await repo.deploymentOf(db, deploymentId) : undefined;
      if (!deployment) return null;
      return {
        kind: 'acceptance.asked',
        title: `The team for ${request} is released and waits for your acceptance as host`,
        href: `/deployments/${deployment.id}`,
        people: await repo.usersWithRole(db, ['poc'], [deployment.host_party]),
      };
    }
    case 'request.deadline.warning':
    case 'request.deadline.overdue': {
      const overdue = event.type === 'request.deadline.overdue';
      const clock = str('deadline');
      let people: Person[];
      if (clock === 'decision') {
        people = [...(await repo.usersWithRole(db, ['council'], electorate())), ...(await coordinators())];
      } else if (clock?.startsWith('nis2')) {
        // The entity's own reports: its PoC files them; the force's coordinators hear when one is late.
        people = [...(await requesterPocs()), ...(overdue ? await coordinators() : [])];
      } else {
        people = await coordinators();
      }
      return {
        kind: overdue ? 'clock.overdue' : 'clock.warning',
        title: overdue
          ? `The ${clockWords(clock)} clock of ${request} ran out`
          : `The ${clockWords(clock)} clock of ${request} is about to run out`,
        href: requestHref,
        people,
      };
    }
    case 'request.pass.issued': {
      const responderId = str('responderId');
      const deploymentId = str('deploymentId');
      const userId = responderId ? await repo.responderUser(db, responderId) : null;
      if (!userId || !deploymentId) return null;
      return {
        kind: 'pass.issued',
        title: `Your responder pass for ${request} is issued`,
        href: `/deployments/${deploymentId}/passes/${responderId}`,
        people: await repo.usersById(db, [userId]),
      };
    }
    case 'case.task.create':
    case 'case.task.update': {
      // The event names the task (and the assignee it was given) once the case service says so.
      const taskId = str('taskId');
      if (!event.case_id || !taskId || (event.type === 'case.task.update' && !('assigneeId' in data)))
        return null;
      const assignee = await repo.taskAssignee(db, event.case_id, taskId);
      if (!assignee) return null;
      const people = (await repo.usersById(db, [assignee])).filter((p) => p.name !== str('by'));
      return {
        kind: 'task.assigned',
        title:
          `A task in the case ${event.case_title ? `“${event.case_title}”` : ''} is assigned to you`.replace(
            '  ',
            ' ',
          ),
        href: `/cases/${event.case_id}`,
        people,
      };
    }
    default:
      return null;
  }
}
