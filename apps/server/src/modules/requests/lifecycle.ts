import type { RequestStatus, Role } from '@vytis/contracts';
import { type Actor, hasRole } from '../../context.ts';

/**
 * The request's life, in one table. Submission, the council's decision and the eligibility check
 * move a request too, but through their own services; these are the moves people make directly.
 */
export type TransitionName = 'withdraw' | 'assemble' | 'deploy' | 'stand-down' | 'report' | 'close';

interface Transition {
  from: readonly RequestStatus[];
  to: RequestStatus;
  /** The roles that may call it (the route's declared access); `allowed` then checks the party. */
  roles: readonly Role[];
  /** Who may make it, in words for the 403 message. */
  who: string;
  allowed(actor: Actor, requestParty: string): boolean;
}

const requesterPoc = (actor: Actor, party: string) => hasRole(actor, 'poc') && actor.party === party;
const coordinator = (actor: Actor) => hasRole(actor, 'coordinator');

export const BEFORE_DEPLOYMENT: readonly RequestStatus[] = [
  'draft',
  'submitted',
  'voting',
  'activated',
  'partially_activated',
  'assembling',
];

export const TRANSITIONS: Record<TransitionName, Transition> = {
  withdraw: {
    from: BEFORE_DEPLOYMENT,
    to: 'withdrawn',
    roles: ['poc'],
    who: "the requesting party's PoC",
    allowed: requesterPoc,
  },
  assemble: {
    from: ['activated', 'partially_activated'],
    to: 'assembling',
    roles: ['coordinator'],
    who: 'a coordinator',
    allowed: coordinator,
  },
  deploy: {
    from: ['assembling'],
    to: 'deployed',
    roles: ['coordinator'],
    who: 'a coordinator',
    allowed: coordinator,
  },
  'stand-down': {
    from: ['deployed'],
    to: 'stood_down',
    roles: ['coordinator', 'poc'],
    who: "a coordinator or the requesting party's PoC",
    allowed: (actor, party) => coordinator(actor) || requesterPoc(actor, party),
  },
  report: {
    from: ['stood_down'],
    to: 'reported',
    roles: ['coordinator'],
    who: 'a coordinator',
    allowed: coordinator,
  },
  close: {
    from: ['reported', 'declined', 'ineligible', 'withdrawn'],
    to: 'closed',
    roles: ['coordinator'],
    who: 'a coordinator',
    allowed: coordinator,
  },
};

const WHY_NOT: Partial<Record<RequestStatus, string>> = {
  draft: 'it is still a draft: submit it first',
  submitted: 'its eligibility is being checked',
  voting: 'the council has not decided yet',
  declined: 'the council declined it',
  ineligible: 'the requester is not eligible',
  withdrawn: 'it was withdrawn',
  closed: 'it is closed',
  deployed: 'the team is already deployed',
};

/** Why `name` cannot happen from `status`, in a sentence for the 409. */
export function illegalTransitionMessage(
  name: string,
  status: RequestStatus,
  allowedFrom: readonly RequestStatus[],
) {
  const why = WHY_NOT[status] ?? `it is ${status.replace('_', ' ')}`;
  return `cannot ${name.replace('-', ' ')} this request: ${why} (allowed only when ${allowedFrom.join(', ')})`;
}
