import { type Actor, hasRole } from '../../context.ts';
import { AT_WORK, DEPLOYMENT_MOVES } from './lifecycle.ts';

/** What of a deployment its permissions are judged on (a row of `deployments`, or the same facts). */
export interface DeploymentFacts {
  host_party: string;
  status: string;
  /** The mission's mode (remote, onsite, hybrid): which moves fit it. Unknown: any move of the status. */
  mode?: string;
}

/** What of a member: their home party, their status, whether a pass was issued (and revoked). */
export interface MemberFacts {
  party_code: string;
  status: string;
  pass_id: string | null;
  /** The pass is on this node's revocation list already. */
  pass_revoked?: boolean;
}

/** The moves along the way a deployment makes while the team is at work (standing down is apart). */
export const WORK_MOVES = ['en_route', 'remote', 'on_site'] as const;
export type WorkMove = (typeof WORK_MOVES)[number];

export const isHostPoc = (actor: Actor, deployment: DeploymentFacts) =>
  hasRole(actor, 'poc') && actor.party === deployment.host_party;

/** A coordinator or the host's PoC: who moves an accepted team along and stands it down. */
export const isMover = (actor: Actor, deployment: DeploymentFacts) =>
  hasRole(actor, 'coordinator') || isHostPoc(actor, deployment);

/** The PoC of the member's home state: who releases or declines them. */
export const isHomePoc = (actor: Actor, member: MemberFacts) =>
  hasRole(actor, 'poc') && actor.party === member.party_code;

/** Who looks after a member's pass besides the responder: coordinators, admins, home and host PoCs. */
export const isPassStaff = (actor: Actor, deployment: DeploymentFacts, member: MemberFacts) =>
  hasRole(actor, 'coordinator', 'admin') ||
  (hasRole(actor, 'poc') && [member.party_code, deployment.host_party].includes(actor.party ?? ''));

/** The moves of WORK_MOVES the deployment can make now, by its status and mode (DEPLOYMENT_MOVES). */
export function workMovesFrom(deployment: DeploymentFacts): WorkMove[] {
  return WORK_MOVES.filter((to) => {
    const move = DEPLOYMENT_MOVES[to];
    return (
      move.from.includes(deployment.status as never) &&
      (deployment.mode === undefined || move.modes.includes(deployment.mode as never))
    );
  });
}

/** What the actor may do to a deployment now (the rules DeploymentsService enforces). */
export function deploymentPermissions(actor: Actor, deployment: DeploymentFacts) {
  const mover = isMover(actor, deployment);
  const moveTo = mover ? workMovesFrom(deployment) : [];
  return {
    /** The host's PoC accepts a released team. */
    accept: isHostPoc(actor, deployment) && deployment.status === 'released',
    /** A coordinator or the host's PoC moves an accepted team along (en route, remote, on site)… */
    move: moveTo.length > 0,
    /** … to these, the moves that fit the mission's mode from where it is; */
    moveTo,
    /** … and stands it down. */
    standDown: mover && AT_WORK.includes(deployment.status as never),
  };
}

/**
 * What the actor may do about one member. `isThemself`: the actor is the responder (their user
 * account is linked to the responder).
 */
export function memberPermissions(
  actor: Actor,
  deployment: DeploymentFacts,
  member: MemberFacts,
  isThemself: boolean,
) {
  const decidable =
    isHomePoc(actor, member) && deployment.status === 'proposed' && member.status === 'pending';
  const staff = isPassStaff(actor, deployment, member);
  return {
    /** Their home state's PoC releases them (or declines) while the team is proposed. */
    release: decidable,
    decline: decidable,
    /** The pass: to the responder themself, their home or host PoC, coordinators and admins. */
    pass:
      member.status === 'released' &&
      AT_WORK.includes(deployment.status as never) &&
      (staff || (isThemself && hasRole(actor, 'responder'))),
    /** A pass issued and not yet revoked, by the same staff (not the responder). */
    revokePass: member.pass_id !== null && member.pass_revoked !== true && staff,
  };
}
