import type { Deployment, DeploymentStatus } from '@vytis/contracts';
import type { Selectable } from 'kysely';
import type { DeploymentsTable } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/transaction.ts';
import * as repo from './deployments.repository.ts';

/** A deployment as the API shows it, with its members. */
export async function presentDeployment(
  db: Executor,
  row: Selectable<DeploymentsTable>,
): Promise<Deployment> {
  const members = await repo.members(db, row.id);
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
