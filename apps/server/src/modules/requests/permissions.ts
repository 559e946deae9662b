import type { NewRequest, RequestStatus } from '@vytis/contracts';
import { type Actor, hasRole } from '../../context.ts';
import { conflict, type FieldProblem, forbidden, invalidInput } from '../../errors.ts';
import { CASE_WORKERS } from '../cases/case-access.ts';
import { illegalTransitionMessage, TRANSITIONS, type TransitionName } from './lifecycle.ts';
import { missingForSubmission } from './template.ts';

/** What of a request the permissions are judged on (a row of `requests`, or the same facts). */
export interface RequestFacts {
  party_code: string;
  status: string;
  /** The council's settings once submitted: who votes, until when. */
  council: unknown;
  /** The decision once taken (it names the outcome in the refusal of a late vote). */
  decision?: unknown;
  /** The request's fields (a row has them): a submission needs them complete and the window open. */
  fields?: unknown;
  /** The request's clocks, where known: recording a NIS2 filing needs one of its clocks running. */
  deadlines?: readonly { kind: string; state: string }[];
}

/** The acts on a request the API offers; the same names as the `can` object the API presents. */
export type RequestAction =
  | 'edit'
  | 'submit'
  | 'withdraw'
  | 'vote'
  | 'proposeTeam'
  | 'assemble'
  | 'deploy'
  | 'standDown'
  | 'report'
  | 'close'
  | 'fileNis2'
  | 'openCase'
  | 'editReport'
  | 'readNis2';

export const REQUEST_ACTIONS: readonly RequestAction[] = [
  'edit',
  'submit',
  'withdraw',
  'vote',
  'proposeTeam',
  'assemble',
  'deploy',
  'standDown',
  'report',
  'close',
  'fileNis2',
  'openCase',
  'editReport',
  'readNis2',
];

export type TransitionAction = Extract<
  RequestAction,
  'withdraw' | 'assemble' | 'deploy' | 'standDown' | 'report' | 'close'
>;

export const TRANSITION_OF: Record<TransitionAction, TransitionName> = {
  withdraw: 'withdraw',
  assemble: 'assemble',
  deploy: 'deploy',
  standDown: 'stand-down',
  report: 'report',
  close: 'close',
};

export const ACTION_OF: Record<TransitionName, TransitionAction> = {
  withdraw: 'withdraw',
  assemble: 'assemble',
  deploy: 'deploy',
  'stand-down': 'standDown',
  report: 'report',
  close: 'close',
};

/** Statuses in which a coordinator may propose (and adopt) a team. */
export const PROPOSABLE_STATUSES: readonly string[] = ['activated', 'partially_activated', 'assembling'];

/** Statuses in which the post-action report is drafted: from the council's yes until it is submitted. */
export const REPORTABLE_STATUSES: readonly string[] = [
  'activated',
  'partially_activated',
  'assembling',
  'deployed',
  'stood_down',
];

const NIS2_CLOCKS = ['nis2_early_warning', 'nis2_notification', 'nis2_final_report'];
const RUNNING = ['running', 'warned', 'overdue'];

interface CouncilFacts {
  electorate: string[];
  closesAt: string;
}

/**
 * Why the actor may not act: `forbidden` (403) for who they are, `conflict` (409) for when it is,
 * `invalid_input` (400) for what the request still lacks. The messages are the API's refusals.
 */
export interface Refusal {
  code: 'forbidden' | 'conflict' | 'invalid_input';
  message: string;
  details?: FieldProblem[];
}

export const isRequesterPoc = (actor: Actor, request: Pick<RequestFacts, 'party_code'>) =>
  hasRole(actor, 'poc') && actor.party === request.party_code;

const who = (message: string): Refusal => ({ code: 'forbidden', message });
const when = (message: string): Refusal => ({ code: 'conflict', message });

/** Why a vote is not open on this request (the request as it is, whoever asks). */
function votingClosed(request: RequestFacts): string {
  const status = request.status as RequestStatus;
  const decision = request.decision as { outcome: string; decidedAt: string } | null | undefined;
  if (decision)
    return `the council already decided (${decision.outcome}, ${decision.decidedAt}): votes are closed`;
  if (status === 'withdrawn') return 'the request was withdrawn: there is nothing to vote on';
  if (status === 'ineligible') return 'the request is ineligible: it never went to the council';
  if (status === 'draft') return 'the request is a draft: the council votes once it is submitted';
  return illegalTransitionMessage('vote on', status, ['voting']);
}

function voteRefusal(actor: Actor, request: RequestFacts, now: Date): Refusal | null {
  const council = request.council as CouncilFacts | null;
  if (!council) return when(votingClosed(request));
  const party = actor.party;
  if (!hasRole(actor, 'council') || !party || !council.electorate.includes(party)) {
    return who(
      `${party ?? 'your party'} does not sit on the council for this request; its members are ${council.electorate.join(', ')}`,
    );
  }
  if (request.status !== 'voting') return when(votingClosed(request));
  // The scheduler decides at closesAt from the votes cast by then; a late vote must not count.
  if (now >= new Date(council.closesAt))
    return when(`voting closed at ${council.closesAt}: the decision follows from the votes cast by then`);
  return null;
}

function submitRefusal(actor: Actor, request: RequestFacts, now: Date): Refusal | null {
  if (!isRequesterPoc(actor, request))
    return who(`only a PoC of ${request.party_code} may submit this request`);
  if (request.status !== 'draft')
    return when(illegalTransitionMessage('submit', request.status as RequestStatus, ['draft']));
  const fields = request.fields as NewRequest | undefined;
  if (!fields) return null;
  const missing = missingForSubmission(fields);
  if (missing.length > 0) {
    return {
      code: 'invalid_input',
      message: `the request cannot be submitted: the Cyber Solidarity Act's template still needs ${missing.map((p) => p.field).join(', ')}; edit the draft, then submit`,
      details: missing,
    };
  }
  if (new Date(fields.window.to) <= now)
    return when('the mission window has already ended: edit window/to before submitting');
  return null;
}

function transitionRefusal(actor: Actor, request: RequestFacts, name: TransitionName): Refusal | null {
  const transition = TRANSITIONS[name];
  if (!transition.allowed(actor, request.party_code))
    return who(`only ${transition.who} may ${name.replace('-', ' ')} a request`);
  const from = request.status as RequestStatus;
  if (!transition.from.includes(from)) return when(illegalTransitionMessage(name, from, transition.from));
  return null;
}

function fileNis2Refusal(actor: Actor, request: RequestFacts): Refusal | null {
  if (!isRequesterPoc(actor, request))
    return who(`only a PoC of ${request.party_code} may complete the NIS2 reports of this request`);
  if (request.status === 'draft') return when('a draft has no NIS2 clocks: they start when it is submitted');
  const open = request.deadlines?.some((d) => NIS2_CLOCKS.includes(d.kind) && RUNNING.includes(d.state));
  if (open === false) return when('none of the NIS2 clocks of this request is running');
  return null;
}

/**
 * Why the actor may not do `action` to the request now, or null when they may: the one place the
 * rules live, so that enforcement (`assertMay`) and the API's `can` never disagree. A request the
 * actor cannot see is not asked about (it is a 404 before this).
 */
export function refusalOf(
  actor: Actor,
  request: RequestFacts,
  action: RequestAction,
  now: Date,
): Refusal | null {
  switch (action) {
    case 'edit':
      if (!isRequesterPoc(actor, request))
        return who(`only a PoC of ${request.party_code} may edit this request`);
      return request.status === 'draft'
        ? null
        : when(
            `only a draft can be edited; this request is ${request.status}: it changes only through its transitions`,
          );
    case 'submit':
      return submitRefusal(actor, request, now);
    case 'vote':
      return voteRefusal(actor, request, now);
    case 'proposeTeam':
      if (!hasRole(actor, 'coordinator')) return who('only a coordinator may propose a team');
      return PROPOSABLE_STATUSES.includes(request.status)
        ? null
        : when(
            `a team is proposed only for an activated request; this one is ${request.status.replace('_', ' ')}`,
          );
    case 'fileNis2':
      return fileNis2Refusal(actor, request);
    case 'openCase':
      // The cases module's rule (CasesService.create): a case worker of a party, on any request they see.
      return hasRole(actor, ...CASE_WORKERS) && actor.party
        ? null
        : who(`opening a case needs one of the roles ${CASE_WORKERS.join(', ')} and a party`);
    case 'editReport':
      if (!hasRole(actor, 'coordinator')) return who('only a coordinator may write the post-action report');
      return REPORTABLE_STATUSES.includes(request.status)
        ? null
        : when(
            `the post-action report is written from the council's activation until it is submitted; this request is ${request.status.replace('_', ' ')}`,
          );
    case 'readNis2':
      if (!isRequesterPoc(actor, request))
        return who(
          `the NIS2 reports are the affected entity's: only a PoC of ${request.party_code} reads them`,
        );
      return request.status === 'draft'
        ? when('a draft has no NIS2 reports: they start when it is submitted')
        : null;
    default:
      return transitionRefusal(actor, request, TRANSITION_OF[action]);
  }
}

/** Whether the actor may file requests at all: a PoC of a party (files for that party). */
export function mayFileRequest(actor: Pick<Actor, 'roles' | 'party'>): boolean {
  return actor.roles.includes('poc') && Boolean(actor.party);
}

/** Throws the refusal, if any, as the API's error. */
export function assertMay(actor: Actor, request: RequestFacts, action: RequestAction, now: Date) {
  const refusal = refusalOf(actor, request, action, now);
  if (!refusal) return;
  if (refusal.code === 'forbidden') throw forbidden(refusal.message);
  if (refusal.code === 'conflict') throw conflict(refusal.message);
  throw invalidInput(refusal.message, refusal.details);
}

/** Whether the actor's party sits on this request's council and the vote is open now. */
export function mayVote(actor: Actor, request: RequestFacts, now: Date): boolean {
  return voteRefusal(actor, request, now) === null;
}

/**
 * What the actor may do to a request now: the rules the services enforce, in one place, so that
 * the API's `can` and the refusals never disagree. A request the actor cannot see is not asked about.
 */
export function requestPermissions(
  actor: Actor,
  request: RequestFacts,
  now: Date,
): Record<RequestAction, boolean> {
  return Object.fromEntries(
    REQUEST_ACTIONS.map((action) => [action, refusalOf(actor, request, action, now) === null]),
  ) as Record<RequestAction, boolean>;
}
