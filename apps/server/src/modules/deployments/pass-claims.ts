import type { PassClaims } from '../passes/pass.ts';

/**
 * What a member's pass states, from the deployment and the member as this node keeps them: one
 * place, so the pass the coordinating node hands out itself and the one its feed carries to the home
 * and host nodes are the same bytes (a fixed pass id and time of issue sign the same token).
 */
export function memberPassClaims(
  deployment: {
    id: string;
    request_id: string;
    host_party: string;
    window_from: Date;
    window_to: Date;
  },
  member: { responder_id: string; name: string; party_code: string; skills: unknown },
  exercise: boolean,
): PassClaims {
  return {
    responderId: member.responder_id,
    responderName: member.name,
    homeParty: member.party_code,
    hostParty: deployment.host_party,
    deploymentId: deployment.id,
    requestId: deployment.request_id,
    window: { from: deployment.window_from.toISOString(), to: deployment.window_to.toISOString() },
    skills: member.skills as PassClaims['skills'],
    exercise,
  };
}
