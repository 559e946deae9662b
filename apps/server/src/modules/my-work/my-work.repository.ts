import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import {
  type CaseViewer,
  casesVisibleTo,
  deploymentsVisibleTo,
  type RequestViewer,
  requestsVisibleTo,
} from '../../access/policy.ts';
import type { Database } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/transaction.ts';

/**
 * Candidates for a person's work, read through the access policy: what they may see and what may
 * be waiting in it. Whether an item is theirs to do is decided by the permission functions (the
 * code that enforces the act), in the service. Each read is bounded by `limit`.
 */

const OPEN_CLOCK_STATES = ['running', 'warned', 'overdue'];

/** The due time of the request's open clock of `kind` (null: none running). */
const openClockDue = (kind: string) => (eb: ExpressionBuilder<Database, 'requests'>) =>
  eb
    .selectFrom('deadlines')
    .select((d) => d.fn.min('deadlines.due_at').as('due'))
    .whereRef('deadlines.request_id', '=', 'requests.id')
    .where('deadlines.kind', '=', kind)
    .where('deadlines.state', 'in', OPEN_CLOCK_STATES);

const REQUEST_COLUMNS = [
  'requests.id',
  'requests.party_code',
  'requests.status',
  'requests.council',
  'requests.title',
  'requests.exercise',
  'requests.created_at',
  'requests.submitted_at',
  'requests.updated_at',
] as const;

/** Requests in voting the viewer sees on whose council `party` sits and has not voted yet. */
export async function votingUnvoted(db: Executor, viewer: RequestViewer, party: string, limit: number) {
  return db
    .selectFrom('requests')
    .select(REQUEST_COLUMNS)
    .select((eb) => openClockDue('decision')(eb).as('due_at'))
    .where(requestsVisibleTo(viewer))
    .where('requests.status', '=', 'voting')
    .where(sql<boolean>`(requests.council -> 'electorate') @> ${JSON.stringify([party])}::jsonb`)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('council_votes as v')
            .select('v.party_code')
            .whereRef('v.request_id', '=', 'requests.id')
            .where('v.party_code', '=', party),
        ),
      ),
    )
    .orderBy('requests.submitted_at')
    .limit(limit)
    .execute();
}

/** Visible requests in `statuses` (of `party` only, when given), with the due time of clock `clock`. */
export async function requestsIn(
  db: Executor,
  viewer: RequestViewer,
  statuses: readonly string[],
  options: { party?: string; clock?: string; withoutLiveDeployment?: boolean },
  limit: number,
) {
  let query = db
    .selectFrom('requests')
    .select(REQUEST_COLUMNS)
    // Without a clock named, no deadline row matches and the due time is null.
    .select((eb) => openClockDue(options.clock ?? '')(eb).as('due_at'))
    .where(requestsVisibleTo(viewer))
    .where('requests.status', 'in', [...statuses]);
  if (options.party) query = query.where('requests.party_code', '=', options.party);
  if (options.withoutLiveDeployment) {
    // A team adopted is a deployment that is not cancelled: until then, a team is to be proposed.
    query = query.where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('deployments')
            .select('deployments.id')
            .whereRef('deployments.request_id', '=', 'requests.id')
            .where('deployments.status', '<>', 'cancelled'),
        ),
      ),
    );
  }
  return query.orderBy('requests.updated_at').limit(limit).execute();
}

/** Open clocks of visible requests due before `until` (overdue ones included), soonest first. */
export async function clocksDueBefore(db: Executor, viewer: RequestViewer, until: Date, limit: number) {
  return db
    .selectFrom('deadlines')
    .innerJoin('requests', 'requests.id', 'deadlines.request_id')
    .select(REQUEST_COLUMNS)
    .select([
      'deadlines.id as deadline_id',
      'deadlines.kind as deadline_kind',
      'deadlines.due_at',
      'deadlines.warn_at',
    ])
    .where(requestsVisibleTo(viewer))
    .where('deadlines.state', 'in', OPEN_CLOCK_STATES)
    .where('deadlines.due_at', '<=', until)
    .orderBy('deadlines.due_at')
    .limit(limit)
    .execute();
}

/**
 * Deployments the actor sees whose request this node still holds: a request copy its origin
 * retracted from this node is no one's work here any more.
 */
const deploymentWork =
  (viewer: RequestViewer) =>
  (eb: ExpressionBuilder<Database, 'deployments' | 'requests'>): Expression<SqlBool> =>
    eb.and([deploymentsVisibleTo(viewer.actor)(eb), eb('requests.mirror_retracted', '=', false)]);

const MEMBER_COLUMNS = [
  'deployments.id as deployment_id',
  'deployments.host_party',
  'deployments.status as deployment_status',
  'deployments.window_from',
  'deployments.created_at as deployment_created_at',
  'deployments.updated_at as deployment_updated_at',
  'm.responder_id',
  'm.party_code as member_party',
  'm.status as member_status',
  'm.pass_id',
  'r.name as responder_name',
  'requests.id as request_id',
  'requests.title as request_title',
  'requests.party_code as request_party',
  'requests.exercise',
] as const;

/** Members of `party` pending on a proposed deployment the actor sees, with the request's response clock. */
export async function pendingMembersOf(db: Executor, viewer: RequestViewer, party: string, limit: number) {
  return db
    .selectFrom('deployment_members as m')
    .innerJoin('deployments', 'deployments.id', 'm.deployment_id')
    .innerJoin('requests', 'requests.id', 'deployments.request_id')
    .innerJoin('responders as r', 'r.id', 'm.responder_id')
    .select(MEMBER_COLUMNS)
    .select((eb) => openClockDue('response')(eb).as('due_at'))
    .where(deploymentWork(viewer))
    .where('m.party_code', '=', party)
    .where('m.status', '=', 'pending')
    .where('deployments.status', '=', 'proposed')
    .orderBy('deployments.created_at')
    .limit(limit)
    .execute();
}

/** Deployments the actor sees hosted by `party` in `statuses`, with the request's response clock. */
export async function hostedDeployments(
  db: Executor,
  viewer: RequestViewer,
  party: string,
  statuses: readonly string[],
  limit: number,
) {
  return db
    .selectFrom('deployments')
    .innerJoin('requests', 'requests.id', 'deployments.request_id')
    .select([
      'deployments.id',
      'deployments.host_party',
      'deployments.status',
      'deployments.updated_at',
      'requests.id as request_id',
      'requests.title',
      'requests.party_code',
      'requests.exercise',
    ])
    .select((eb) => openClockDue('response')(eb).as('due_at'))
    .where(deploymentWork(viewer))
    .where('deployments.host_party', '=', party)
    .where('deployments.status', 'in', [...statuses])
    .orderBy('deployments.updated_at')
    .limit(limit)
    .execute();
}

/** The responder's own released memberships (their user account is linked to the responder). */
export async function ownMemberships(db: Executor, viewer: RequestViewer, userId: string, limit: number) {
  return db
    .selectFrom('deployment_members as m')
    .innerJoin('deployments', 'deployments.id', 'm.deployment_id')
    .innerJoin('requests', 'requests.id', 'deployments.request_id')
    .innerJoin('responders as r', 'r.id', 'm.responder_id')
    .select(MEMBER_COLUMNS)
    .select(sql<Date | null>`null`.as('due_at'))
    .where('r.user_id', '=', userId)
    .where(deploymentWork(viewer))
    .where('m.status', '=', 'released')
    .where('m.pass_id', 'is', null)
    .orderBy('deployments.window_from')
    .limit(limit)
    .execute();
}

/** Open tasks assigned to `userId` on cases the viewer sees. */
export async function openTasksAssigned(db: Executor, viewer: CaseViewer, userId: string, limit: number) {
  return db
    .selectFrom('case_tasks as t')
    .innerJoin('cases', 'cases.id', 't.case_id')
    .select([
      't.id',
      't.title',
      't.status',
      't.due_at',
      't.created_at',
      't.updated_at',
      'cases.id as case_id',
      'cases.title as case_title',
      'cases.owner_party',
      'cases.exercise',
      'cases.request_id',
    ])
    .where(casesVisibleTo(viewer))
    .where('t.assignee_id', '=', userId)
    .where('t.status', 'in', ['todo', 'in-progress'])
    .orderBy('t.created_at')
    .limit(limit)
    .execute();
}
