import { DEPLOYMENT_STATUSES, oneOf } from '@vytis/contracts';
import type { Selectable } from 'kysely';
import { type Static, Type } from 'typebox';
import Value from 'typebox/value';
import { deploymentMemberView, peerNodeActor } from '../../../access/policy.ts';
import type { DeploymentsTable, RequestsTable } from '../../../platform/db/schema.ts';
import type { Executor, Tx } from '../../../platform/db/transaction.ts';
import type { NodeKey } from '../../../platform/keys.ts';
import * as deployments from '../../deployments/deployments.repository.ts';
import { memberPassClaims } from '../../deployments/pass-claims.ts';
import { issuePass } from '../../passes/pass.ts';
import * as roster from '../../roster/responders.repository.ts';
import type { LoopDoc, LoopEnv, LoopPeer, LoopType, LoopViewer } from './loop-types.ts';
import { neutralProfile, neverAvailable } from './responder.doc.ts';

/**
 * A deployment, carried from the node that adopted the team (the coordinating node) to the host and
 * the home parties of its members, each seeing its members as on one node (`deploymentMemberView`):
 * another home state sees only that a party holds a place; the host does not see a home state's
 * reasons for its decision. A member's pass goes, signed here, to its home party and to the host.
 */

const Code = Type.String({ pattern: '^[A-Z]{2,8}$' });
const Uuid = Type.String({ format: 'uuid' });
const Iso = Type.String({ minLength: 10, maxLength: 40 });
const NullableIso = Type.Union([Iso, Type.Null()]);
const MemberStatus = oneOf(['pending', 'released', 'declined', 'replaced'] as const);

const PlaceMember = Type.Object(
  { responder_id: Uuid, party_code: Code, status: MemberStatus },
  { additionalProperties: false },
);
const SeenMember = Type.Object(
  {
    responder_id: Uuid,
    party_code: Code,
    status: MemberStatus,
    reasons: Type.Array(Type.String({ maxLength: 2000 }), { maxItems: 100 }),
    decided_by: Type.Union([Type.String({ maxLength: 300 }), Type.Null()]),
    decided_at: NullableIso,
    decision_reason: Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()])),
    pass_id: Type.Union([Uuid, Type.Null()]),
    pass_issued_at: NullableIso,
    pass_token: Type.Optional(Type.String({ maxLength: 16_000 })),
  },
  { additionalProperties: false },
);

const DeploymentDocSchema = Type.Object(
  {
    request_id: Uuid,
    proposal_id: Uuid,
    host_party: Code,
    status: oneOf(DEPLOYMENT_STATUSES),
    mode: Type.String({ minLength: 1, maxLength: 20 }),
    window_from: Iso,
    window_to: Iso,
    acceptance: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    created_at: Iso,
    updated_at: Iso,
    version: Type.Integer({ minimum: 0 }),
    members: Type.Array(Type.Union([SeenMember, PlaceMember]), { maxItems: 200 }),
  },
  { additionalProperties: false },
);
type DeploymentData = Static<typeof DeploymentDocSchema>;
type MemberData = DeploymentData['members'][number];
type SeenMemberData = Static<typeof SeenMember>;
type MemberStatusName = SeenMemberData['status'];

const iso = (value: Date | null) => value?.toISOString() ?? null;

type DeploymentRow = Selectable<DeploymentsTable>;

/** The deployment as `viewer` may hold it. */
async function deploymentDocument(
  db: Executor,
  row: DeploymentRow,
  viewer: LoopViewer,
  key: NodeKey,
): Promise<DeploymentData> {
  const actor = peerNodeActor(viewer);
  const members = await deployments.members(db, row.id);
  let exercise: boolean | null = null;
  const out: MemberData[] = [];
  for (const m of members) {
    const view = deploymentMemberView(actor, row.host_party, m.party_code);
    if (view === 'place') {
      out.push({
        responder_id: m.responder_id,
        party_code: m.party_code,
        status: m.status as MemberStatusName,
      });
      continue;
    }
    const member: SeenMemberData = {
      responder_id: m.responder_id,
      party_code: m.party_code,
      status: m.status as MemberStatusName,
      reasons: m.reasons as string[],
      decided_by: m.decided_by,
      decided_at: iso(m.decided_at),
      ...(view === 'full' ? { decision_reason: m.decision_reason } : {}),
      pass_id: m.pass_id,
      pass_issued_at: iso(m.pass_issued_at),
    };
    if (m.pass_id && m.pass_issued_at && [m.party_code, row.host_party].includes(viewer.party)) {
      exercise ??= await deployments.isExercise(db, row.request_id);
      // The very token DeploymentsService.pass() gives: a fixed id and time sign the same bytes.
      member.pass_token = await issuePass(
        key,
        memberPassClaims(row, m, exercise),
        m.pass_issued_at,
        m.pass_id,
      );
    }
    out.push(member);
  }
  return {
    request_id: row.request_id,
    proposal_id: row.proposal_id,
    host_party: row.host_party,
    status: row.status as DeploymentData['status'],
    mode: row.mode,
    window_from: row.window_from.toISOString(),
    window_to: row.window_to.toISOString(),
    acceptance: (row.acceptance as Record<string, unknown> | null) ?? null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    version: row.version,
    members: out,
  };
}

export const deploymentDoc: LoopType = {
  type: 'deployment',
  order: 2,

  async serve(db, ids, viewer, env) {
    const docs = new Map<string, Record<string, unknown>>();
    if (viewer.party === env.self.party) return docs;
    for (const row of await deployments.ownDeploymentsVisibleTo(db, peerNodeActor(viewer), ids)) {
      docs.set(row.id, await deploymentDocument(db, row, viewer, env.key));
    }
    return docs;
  },

  problem(data) {
    if (!Value.Check(DeploymentDocSchema, data)) {
      const first = [...Value.Errors(DeploymentDocSchema, data)][0];
      return `not a deployment: ${first ? `${first.instancePath || '/'} ${first.message}` : 'bad shape'}`;
    }
    const doc = data as DeploymentData;
    for (const field of ['window_from', 'window_to', 'created_at', 'updated_at'] as const) {
      if (!Number.isFinite(Date.parse(doc[field]))) return `${field} is not a time`;
    }
    if (Date.parse(doc.window_to) <= Date.parse(doc.window_from)) return 'the window ends before it starts';
    const seen = new Set<string>();
    for (const m of doc.members) {
      if (seen.has(m.responder_id)) return `responder ${m.responder_id} is on the team twice`;
      seen.add(m.responder_id);
      if ('decided_at' in m) {
        for (const t of [m.decided_at, m.pass_issued_at]) {
          if (t !== null && !Number.isFinite(Date.parse(t))) return 'a member holds a time that is not one';
        }
      }
    }
    return null;
  },

  refusal(peer) {
    return peer.role !== 'coordinator' ? 'only the coordinating node assembles teams' : null;
  },

  async apply(trx, peer, docs, env, refuse) {
    const held = new Map(
      (
        await deployments.deploymentsByIds(
          trx,
          docs.map((d) => d.id),
        )
      ).map((r) => [r.id, r]),
    );
    let stored = 0;
    for (const doc of docs) {
      const before = held.get(doc.id);
      if (before && before.mirrored_from === null) {
        refuse(doc, "the id is one of this node's own deployments");
        continue;
      }
      if (before && before.mirrored_from !== peer.party) {
        refuse(doc, `the id is a copy from ${before.mirrored_from}`);
        continue;
      }
      if (await storeCopy(trx, peer, doc, before, env)) stored++;
    }
    return stored;
  },

  async retract(trx, peer, ids) {
    let gone = 0;
    for (const id of ids) if (await deployments.deleteDeploymentCopy(trx, id, peer.party)) gone++;
    return gone;
  },
};

async function storeCopy(
  trx: Tx,
  peer: LoopPeer,
  doc: LoopDoc,
  before: DeploymentRow | undefined,
  env: LoopEnv,
): Promise<boolean> {
  const data = doc.data as DeploymentData;
  const previousMembers = before ? await deployments.memberRows(trx, doc.id) : [];
  const written = await deployments.upsertDeploymentCopy(
    trx,
    {
      id: doc.id,
      request_id: data.request_id,
      proposal_id: data.proposal_id,
      host_party: data.host_party,
      status: data.status,
      mode: data.mode,
      window_from: new Date(data.window_from),
      window_to: new Date(data.window_to),
      acceptance: data.acceptance === null ? null : JSON.stringify(data.acceptance),
      created_at: new Date(data.created_at),
      created_by: `${peer.party} node`,
      updated_at: new Date(data.updated_at),
      version: data.version,
      mirror_version: doc.version,
    },
    peer.party,
  );
  if (!written) return false;
  await holdPlaces(trx, data.members, env.clock.now());
  await deployments.replaceCopyMembers(
    trx,
    doc.id,
    data.members.map((m) => {
      const seen = 'reasons' in m ? m : null;
      return {
        deployment_id: doc.id,
        responder_id: m.responder_id,
        party_code: m.party_code,
        status: m.status,
        reasons: JSON.stringify(seen?.reasons ?? []),
        decided_by: seen?.decided_by ?? null,
        decided_at: seen?.decided_at ? new Date(seen.decided_at) : null,
        decision_reason: seen?.decision_reason ?? null,
        pass_id: seen?.pass_id ?? null,
        pass_issued_at: seen?.pass_issued_at ? new Date(seen.pass_issued_at) : null,
        pass_token: seen?.pass_token ?? null,
        mirrored_from: peer.party,
        mirror_version: doc.version,
      };
    }),
  );
  const request = await deployments.heldRequest(trx, data.request_id);
  if (request) await publishChanges(trx, env, request, doc.id, data, before, previousMembers);
  return true;
}

/**
 * A member this node holds no responder for gets a stand-in (named for its party, never ready), so
 * the team shows every place; the home node's responder document replaces it when it is sent here.
 */
async function holdPlaces(trx: Tx, members: readonly MemberData[], now: Date) {
  const owners = await roster.responderOwners(
    trx,
    members.map((m) => m.responder_id),
  );
  const missing = members.filter((m) => !owners.has(m.responder_id));
  if (missing.length === 0) return;
  await roster.insertResponderPlaceholders(
    trx,
    missing.map((m) => ({
      id: m.responder_id,
      party_code: m.party_code,
      name: `a responder of ${m.party_code}`,
      affiliation: 'civilian',
      skills: '[]',
      languages: [],
      ...neutralProfile(m.party_code),
      user_id: null,
      created_at: now,
      created_by: `${m.party_code} node`,
      updated_at: now,
      version: 1,
      mirrored_from: m.party_code,
      mirror_version: 0,
    })),
  );
  for (const m of missing) {
    await roster.replaceUnavailability(trx, m.responder_id, [
      neverAvailable(m.responder_id, m.party_code, 0),
    ]);
  }
}

/**
 * What changed on the deployment, as events on its request where this node holds it (the same
 * types and data as the deployment's own journal writes on the node that keeps the team), so this
 * node's users get live events and webhooks.
 */
async function publishChanges(
  trx: Tx,
  env: LoopEnv,
  request: Selectable<RequestsTable>,
  deploymentId: string,
  data: DeploymentData,
  before: DeploymentRow | undefined,
  previousMembers: { responder_id: string; status: string }[],
) {
  const publish = (kind: string, detail: Record<string, unknown>) =>
    env.notifier.publish(trx, {
      type: `request.${kind}`,
      requestId: request.id,
      partyOnly: request.submitted_at === null,
      data: {
        title: request.title,
        ...detail,
        party: request.party_code,
        status: request.status,
        exercise: request.exercise,
      },
    });
  if (before?.status !== data.status) {
    await publish(`deployment.${data.status}`, {
      deploymentId,
      deploymentStatus: data.status,
      previousStatus: before?.status ?? null,
      mode: data.mode,
    });
  }
  const was = new Map(previousMembers.map((m) => [m.responder_id, m.status]));
  for (const m of data.members) {
    const previous = was.get(m.responder_id);
    if (previous === m.status) continue;
    // As the journal names them: a member who joins (again) is added, not "pending".
    const kind = m.status === 'pending' ? 'added' : m.status;
    await publish(`deployment.member.${kind}`, { deploymentId, responderId: m.responder_id });
  }
}
