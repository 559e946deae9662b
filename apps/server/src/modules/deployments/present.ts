import type { Deployment, DeploymentStatus } from '@vytis/contracts';
import type { Selectable } from 'kysely';
import { deploymentMemberView } from '../../access/policy.ts';
import type { Actor } from '../../context.ts';
import type { DeploymentsTable } from '../../platform/db/schema.ts';
import type { Executor } from '../../platform/db/transaction.ts';
import { forwardedFor } from '../federation/loop/intents.ts';
import * as repo from './deployments.repository.ts';
import { deploymentPermissions, memberPermissions } from './permissions.ts';

/**
 * A deployment as the API shows it to the viewer, with as much of each member as they may see and
 * what the viewer may do (`can`), judged by the rules DeploymentsService enforces (permissions.ts).
 */
export async function presentDeployment(
  db: Executor,
  viewer: Actor,
  row: Selectable<DeploymentsTable>,
): Promise<Deployment> {
  const [members, exercise, forwarded] = await Promise.all([
    repo.members(db, row.id),
    repo.isExercise(db, row.request_id),
    row.mirrored_from ? forwardedFor(db, [row.id]) : null,
  ]);
  const isViewer = (userId: string | null) => viewer.id !== null && userId === viewer.id;
  return {
    id: row.id,
    requestId: row.request_id,
    proposalId: row.proposal_id,
    hostParty: row.host_party,
    status: row.status as DeploymentStatus,
    mode: row.mode,
    exercise,
    window: { from: row.window_from.toISOString(), to: row.window_to.toISOString() },
    members: members.map((m) => {
      const view = deploymentMemberView(viewer, row.host_party, m.party_code);
      const seen = view !== 'place';
      return {
        responderId: m.responder_id,
        name: seen ? m.name : null,
        party: m.party_code,
        status: m.status as 'pending',
        reasons: seen ? (m.reasons as string[]) : [],
        decidedBy: seen ? m.decided_by : null,
        decidedAt: m.decided_at?.toISOString() ?? null,
        decisionReason: view === 'full' ? m.decision_reason : null,
        passId: seen ? m.pass_id : null,
        you: isViewer(m.user_id),
        can: memberPermissions(viewer, row, m, isViewer(m.user_id)),
      };
    }),
    acceptance: (row.acceptance as Deployment['acceptance']) ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: row.version,
    can: deploymentPermissions(viewer, row),
    mirroredFrom: row.mirrored_from,
    forwarded: forwarded?.get(row.id) ?? [],
  };
}
