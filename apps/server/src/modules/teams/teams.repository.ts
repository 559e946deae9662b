import type { Insertable } from 'kysely';
import type { TeamProposalsTable } from '../../platform/db/schema.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';
import { BOOKED_MEMBER, OVER } from '../deployments/deployments.repository.ts';

/**
 * Every responder with what stands in their way for a window: leave or unavailability overlapping
 * it, another live deployment overlapping it, and their deployments in the last year (fairness).
 */
export async function rosterForWindow(
  db: Executor,
  from: Date,
  to: Date,
  yearAgo: Date,
  /** A deployment being re-solved: its own members are not busy elsewhere. */
  ownDeploymentId: string | null = null,
  /** Only these responders (an adoption re-checking its members); all when absent. */
  onlyIds?: readonly string[],
) {
  return db
    .selectFrom('responders as r')
    .selectAll('r')
    .$if(onlyIds !== undefined, (q) =>
      q.where('r.id', 'in', onlyIds!.length > 0 ? [...onlyIds!] : ['00000000-0000-0000-0000-000000000000']),
    )
    .select((eb) => [
      eb
        .exists(
          eb
            .selectFrom('responder_unavailability as u')
            .select('u.id')
            .whereRef('u.responder_id', '=', 'r.id')
            .where('u.starts_at', '<', to)
            .where('u.ends_at', '>', from),
        )
        .as('unavailable'),
      eb
        .exists(
          eb
            .selectFrom('deployment_members as m')
            .innerJoin('deployments as d', 'd.id', 'm.deployment_id')
            .select('m.responder_id')
            .whereRef('m.responder_id', '=', 'r.id')
            .where('m.status', 'in', BOOKED_MEMBER)
            .where('d.status', 'not in', OVER)
            .where('d.window_from', '<', to)
            .where('d.window_to', '>', from)
            .$if(ownDeploymentId !== null, (q) => q.where('d.id', '<>', ownDeploymentId!)),
        )
        .as('busy'),
      eb
        .selectFrom('deployment_members as m')
        .innerJoin('deployments as d', 'd.id', 'm.deployment_id')
        .select((e) => e.fn.countAll<number>().as('n'))
        .whereRef('m.responder_id', '=', 'r.id')
        .where('m.status', '=', 'released')
        .where('d.created_at', '>', yearAgo)
        .as('recent'),
    ])
    .orderBy('r.id')
    .execute();
}

export async function insertProposal(trx: Tx, row: Insertable<TeamProposalsTable>) {
  return trx.insertInto('team_proposals').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findProposal(db: Executor, requestId: string, id: string) {
  return db
    .selectFrom('team_proposals')
    .selectAll()
    .where('id', '=', id)
    .where('request_id', '=', requestId)
    .executeTakeFirst();
}

export async function listProposals(db: Executor, requestId: string) {
  return db
    .selectFrom('team_proposals')
    .selectAll()
    .where('request_id', '=', requestId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
}

export async function supersedeProposals(trx: Tx, requestId: string) {
  await trx
    .updateTable('team_proposals')
    .set({ status: 'superseded' })
    .where('request_id', '=', requestId)
    .where('status', '=', 'proposed')
    .execute();
}

export async function setProposalStatus(trx: Tx, id: string, status: string) {
  await trx.updateTable('team_proposals').set({ status }).where('id', '=', id).execute();
}
