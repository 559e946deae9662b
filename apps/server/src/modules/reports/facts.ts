import type {
  AssistanceRequest,
  Deadline,
  Decision,
  Deployment,
  Eligibility,
  Priority,
  TimelineEntry,
  Tlp,
  Vote,
} from '@vytis/contracts';
import type { CaseViewer } from '../../access/policy.ts';
import type { Ctx } from '../../context.ts';
import type { Executor } from '../../platform/db/transaction.ts';
import type { DeploymentsService } from '../deployments/deployments.service.ts';
import type { RequestsService } from '../requests/requests.service.ts';
import * as repo from './reports.repository.ts';

/** The most timeline entries a report carries; the rest are counted. */
export const REPORT_TIMELINE_MAX = 300;

/** What a report says about the request itself, as filed. */
export type RequestFacts = Pick<
  AssistanceRequest,
  | 'id'
  | 'party'
  | 'title'
  | 'status'
  | 'exercise'
  | 'affectedEntity'
  | 'incidentClass'
  | 'severity'
  | 'tlp'
  | 'pap'
  | 'mode'
  | 'location'
  | 'needs'
  | 'window'
  | 'awareAt'
  | 'impact'
  | 'impactLevel'
  | 'crossBorder'
  | 'helpNeeded'
  | 'measuresTaken'
  | 'createdAt'
  | 'submittedAt'
>;

export interface MemberFacts {
  responderId: string;
  /** Null where the one who drew the facts did not see the person. */
  name: string | null;
  party: string;
  skills: string[] | null;
  status: string;
  decidedAt: string | null;
  decidedBy: string | null;
}

export interface DeploymentFacts {
  id: string;
  hostParty: string;
  status: string;
  mode: string;
  window: { from: string; to: string };
  members: MemberFacts[];
  acceptance: Deployment['acceptance'];
}

export interface CaseFacts {
  id: string;
  title: string;
  tlp: Tlp;
  status: string;
  ownerParty: string;
  /** Indicators the report may count (see reports.repository), by label. */
  indicators: Partial<Record<Tlp, number>>;
}

/** Everything the post-action report is drafted from: the record as its reader sees it. */
export interface PostActionFacts {
  request: RequestFacts;
  eligibility: Eligibility | null;
  priority: Priority;
  council: AssistanceRequest['council'];
  votes: Vote[];
  decision: Decision | null;
  deployments: DeploymentFacts[];
  timeline: Omit<TimelineEntry, 'detail'>[];
  timelineTotal: number;
  cases: CaseFacts[];
  clocks: Deadline[];
  /** A summary filed through `POST …/report` before reports were drafted here. */
  filedSummary: AssistanceRequest['report'];
}

/** What the NIS2 reports are drafted from. */
export interface Nis2Facts {
  request: RequestFacts;
  cases: CaseFacts[];
  indicators: { type: string; value: string; tlp: string }[];
  clocks: Deadline[];
  deployments: DeploymentFacts[];
}

export interface FactSources {
  db: Executor;
  requests: RequestsService;
  deployments: DeploymentsService;
}

function requestFacts(r: AssistanceRequest): RequestFacts {
  return {
    id: r.id,
    party: r.party,
    title: r.title,
    status: r.status,
    exercise: r.exercise,
    affectedEntity: r.affectedEntity,
    incidentClass: r.incidentClass,
    severity: r.severity,
    tlp: r.tlp,
    pap: r.pap,
    mode: r.mode,
    location: r.location,
    needs: r.needs,
    window: r.window,
    awareAt: r.awareAt,
    impact: r.impact,
    impactLevel: r.impactLevel,
    crossBorder: r.crossBorder,
    helpNeeded: r.helpNeeded,
    measuresTaken: r.measuresTaken,
    createdAt: r.createdAt,
    submittedAt: r.submittedAt,
  };
}

async function deploymentFacts(sources: FactSources, ctx: Ctx, requestId: string) {
  const { items } = await sources.deployments.list(ctx, { requestId });
  const seen = items.flatMap((d) => d.members.filter((m) => m.name !== null).map((m) => m.responderId));
  const skills = await repo.responderSkills(sources.db, seen);
  return items.map(
    (d): DeploymentFacts => ({
      id: d.id,
      hostParty: d.hostParty,
      status: d.status,
      mode: d.mode,
      window: d.window,
      acceptance: d.acceptance,
      members: d.members
        .filter((m) => m.status !== 'replaced')
        .map((m) => ({
          responderId: m.responderId,
          name: m.name,
          party: m.party,
          skills: m.name === null ? null : (skills.get(m.responderId) ?? []),
          status: m.status,
          decidedAt: m.decidedAt,
          decidedBy: m.decidedBy,
        })),
    }),
  );
}

async function caseFacts(sources: FactSources, viewer: CaseViewer, requestId: string): Promise<CaseFacts[]> {
  // One more than a report lists, so that its table can say there are more.
  const cases = await repo.casesOfRequest(sources.db, viewer, requestId);
  const counts = await repo.indicatorCounts(
    sources.db,
    viewer,
    cases.map((c) => c.id),
  );
  return cases.map((c) => ({
    id: c.id,
    title: c.title,
    tlp: c.tlp as Tlp,
    status: c.status,
    ownerParty: c.owner_party,
    indicators: Object.fromEntries(counts.filter((n) => n.caseId === c.id).map((n) => [n.tlp, n.n])),
  }));
}

/** The record of a request as `ctx` sees it, for its post-action report (404 when they cannot see it). */
export async function postActionFacts(
  sources: FactSources,
  ctx: Ctx,
  viewer: CaseViewer,
  requestId: string,
): Promise<PostActionFacts> {
  const request = await sources.requests.get(ctx, requestId);
  const [timeline, deployments, cases] = await Promise.all([
    sources.requests.timeline(ctx, requestId),
    deploymentFacts(sources, ctx, requestId),
    caseFacts(sources, viewer, requestId),
  ]);
  return {
    request: requestFacts(request),
    eligibility: request.eligibility,
    priority: request.priority,
    council: request.council,
    votes: request.votes,
    decision: request.decision,
    deployments,
    timeline: timeline.items.slice(0, REPORT_TIMELINE_MAX).map(({ detail: _detail, ...entry }) => entry),
    timelineTotal: timeline.items.length,
    cases,
    clocks: request.deadlines,
    filedSummary: request.report,
  };
}

/** The record of a request as its PoC sees it, for the entity's NIS2 reports. */
export async function nis2Facts(
  sources: FactSources,
  ctx: Ctx,
  viewer: CaseViewer,
  request: AssistanceRequest,
): Promise<Nis2Facts> {
  const [cases, deployments] = await Promise.all([
    caseFacts(sources, viewer, request.id),
    deploymentFacts(sources, ctx, request.id),
  ]);
  const indicators = await repo.indicatorsForNis2(
    sources.db,
    viewer,
    cases.map((c) => c.id),
  );
  return { request: requestFacts(request), cases, indicators, clocks: request.deadlines, deployments };
}
