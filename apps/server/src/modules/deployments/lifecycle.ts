import type { DeploymentStatus, MODES, RequestStatus } from '@vytis/contracts';
import type { TransitionName } from '../requests/lifecycle.ts';

type Mode = (typeof MODES)[number];
const ANY_MODE: readonly Mode[] = ['remote', 'onsite', 'hybrid'];

/** Where the team is at work (or about to be): passes hold, the request is `deployed`. */
export const AT_WORK: readonly DeploymentStatus[] = ['accepted', 'en_route', 'remote', 'on_site'];
/** Not yet accepted by the host: the request is still `assembling`. */
export const ASSEMBLING: readonly DeploymentStatus[] = ['proposed', 'released'];

export interface DeploymentMove {
  from: readonly DeploymentStatus[];
  /** The missions the move fits: an on-site mission never works `remote`, a remote one never travels. */
  modes: readonly Mode[];
  /** The request must be here for the deployment to make the move. */
  requestIn: readonly RequestStatus[];
  /** The request's move made with it, in the same transaction; null: the request stays where it is. */
  request: TransitionName | null;
  /** The passes of the team end with the move: each issued pass joins the revocation list. */
  endsPasses: boolean;
}

export type DeploymentMoveName = Exclude<DeploymentStatus, 'proposed'>;

/**
 * The deployment's life, keyed by the state each move reaches, with the request's move that goes
 * with it. A deployment is created `proposed` when a proposal is adopted (the request goes
 * `assembling`); the host's acceptance deploys the request (and meets its response clock);
 * standing down stands the request down too (starting the post-action report clock) and ends the
 * passes. The request's own moves that touch a deployment are in REQUEST_MOVES_WITH_DEPLOYMENT.
 */
export const DEPLOYMENT_MOVES: Record<DeploymentMoveName, DeploymentMove> = {
  released: {
    from: ['proposed'],
    modes: ANY_MODE,
    requestIn: ['assembling'],
    request: null,
    endsPasses: false,
  },
  accepted: {
    from: ['released'],
    modes: ANY_MODE,
    requestIn: ['assembling'],
    request: 'deploy',
    endsPasses: false,
  },
  en_route: {
    from: ['accepted'],
    modes: ['onsite', 'hybrid'],
    requestIn: ['deployed'],
    request: null,
    endsPasses: false,
  },
  remote: {
    from: ['accepted', 'en_route'],
    modes: ['remote', 'hybrid'],
    requestIn: ['deployed'],
    request: null,
    endsPasses: false,
  },
  on_site: {
    from: ['accepted', 'en_route', 'remote'],
    modes: ['onsite', 'hybrid'],
    requestIn: ['deployed'],
    request: null,
    endsPasses: false,
  },
  stood_down: {
    from: AT_WORK,
    modes: ANY_MODE,
    requestIn: ['deployed'],
    request: 'stand-down',
    endsPasses: true,
  },
  cancelled: {
    from: ASSEMBLING,
    modes: ANY_MODE,
    requestIn: ['assembling'],
    request: null,
    endsPasses: false,
  },
};

/**
 * What a request's own move (its route) demands of its live deployment. `requires`: the move is
 * refused unless the deployment is in one of these states (none at all counts as refused);
 * `carries`: the deployment, if in one of `from`, makes this move with the request.
 */
export const REQUEST_MOVES_WITH_DEPLOYMENT: Partial<
  Record<TransitionName, { requires?: readonly DeploymentStatus[]; carries?: DeploymentMoveName }>
> = {
  deploy: { requires: AT_WORK },
  'stand-down': { carries: 'stood_down' },
  withdraw: { carries: 'cancelled' },
};

const words = (status: string) => status.replace('_', ' ');

/** Why the deployment cannot make `to` now, in a sentence for the 409; null when it can. */
export function whyNotMove(
  to: DeploymentMoveName,
  deployment: { status: string; mode: string },
  requestStatus: string,
): string | null {
  const move = DEPLOYMENT_MOVES[to];
  if (!move.from.includes(deployment.status as DeploymentStatus)) {
    return `a deployment goes ${words(to)} only from ${move.from.map(words).join(', ')}; it is ${words(deployment.status)}`;
  }
  if (!move.modes.includes(deployment.mode as Mode)) {
    return `this is a${deployment.mode === 'onsite' ? 'n on-site' : ` ${deployment.mode}`} mission: it does not go ${words(to)} (only ${move.modes.join(' or ')} missions do)`;
  }
  if (!move.requestIn.includes(requestStatus as RequestStatus)) {
    return `the request is ${words(requestStatus)}: a deployment goes ${words(to)} only while it is ${move.requestIn.map(words).join(', ')}`;
  }
  return null;
}
