// Assistance requests: typed queries, their cache keys, and the acts on a request. Everything a
// request page shows hangs under requestKeys.one(id), so a live event about it refreshes it all.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type {
  AssistanceRequest,
  Case,
  DeadlineKind,
  Deployment,
  NewCase,
  RequestList,
  RequestStats,
  RequestStatus,
  RequestTimeline,
  TeamProposal,
  VoteChoice,
} from '@vytis/contracts';
import { caseKeys } from './cases.ts';
import { api } from './client.ts';
import { OPEN_STATUSES } from './queries.ts';

export interface BoardFilters {
  status: string[];
  party: string | null;
  severity: string | null;
  exercise: string | null;
}

export const requestKeys = {
  /** Every list of requests (the board, the home page's figures): refreshed by any live event. */
  all: ['requests'] as const,
  board: (filters: BoardFilters) => ['requests', 'board', filters] as const,
  /** The open requests, for the home page's map, clocks and figures. */
  open: ['requests', 'open'] as const,
  stats: ['stats'] as const,
  one: (id: string) => ['request', id] as const,
  timeline: (id: string) => ['request', id, 'timeline'] as const,
  deployments: (id: string) => ['request', id, 'deployments'] as const,
  proposals: (id: string) => ['request', id, 'proposals'] as const,
  cases: (id: string) => ['request', id, 'cases'] as const,
};

export const useOpenRequests = () =>
  useQuery({
    queryKey: requestKeys.open,
    queryFn: () => api<RequestList>('/requests', { query: { status: OPEN_STATUSES, limit: 200 } }),
  });

export const useRequestStats = () =>
  useQuery({ queryKey: requestKeys.stats, queryFn: () => api<RequestStats>('/requests/stats') });

export const useRequest = (id: string) =>
  useQuery({ queryKey: requestKeys.one(id), queryFn: () => api<AssistanceRequest>(`/requests/${id}`) });

export const useRequestBoard = (filters: BoardFilters) =>
  useInfiniteQuery({
    queryKey: requestKeys.board(filters),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      api<RequestList>('/requests', {
        query: {
          status: filters.status,
          party: filters.party,
          severity: filters.severity,
          exercise: filters.exercise ?? undefined,
          limit: 50,
          cursor: pageParam,
        },
      }),
    getNextPageParam: (last) => last.nextCursor,
  });

export const useRequestTimeline = (id: string) =>
  useQuery({
    queryKey: requestKeys.timeline(id),
    queryFn: () => api<RequestTimeline>(`/requests/${id}/timeline`),
  });

const BEFORE_TEAM: RequestStatus[] = ['draft', 'submitted', 'voting', 'declined', 'withdrawn', 'ineligible'];

/** The request's deployments the viewer may see, newest first. */
export const useRequestDeployments = (r: AssistanceRequest) =>
  useQuery({
    queryKey: requestKeys.deployments(r.id),
    queryFn: () => api<{ items: Deployment[] }>('/deployments', { query: { requestId: r.id } }),
    enabled: !BEFORE_TEAM.includes(r.status),
  });

export const useTeamProposals = (r: AssistanceRequest) =>
  useQuery({
    queryKey: requestKeys.proposals(r.id),
    queryFn: () => api<{ items: TeamProposal[] }>(`/requests/${r.id}/team-proposals`),
    enabled: r.can.proposeTeam,
  });

/** Solves a team for the request again; the newest proposal heads the list. */
export function useProposeTeam(r: AssistanceRequest) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => api<TeamProposal>(`/requests/${r.id}/team-proposals`, { method: 'POST' }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: requestKeys.proposals(r.id) }),
  });
}

/** Adopts a proposal: it becomes the request's deployment. */
export function useAdoptTeam(r: AssistanceRequest) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (proposalId: string) =>
      api<Deployment>(`/requests/${r.id}/team-proposals/${proposalId}/adopt`, { method: 'POST' }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: requestKeys.one(r.id) }),
  });
}

export const useRequestCases = (id: string) =>
  useQuery({
    queryKey: requestKeys.cases(id),
    queryFn: () => api<{ items: Case[]; total: number }>('/cases', { query: { requestId: id, limit: 50 } }),
  });

/** A case opened to work the request, under the request's class, severity and labels. */
export function useOpenRequestCase(r: AssistanceRequest) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => {
      const body: NewCase = {
        title: r.title,
        incidentClass: r.incidentClass,
        severity: r.severity,
        tlp: r.tlp,
        pap: r.pap,
        requestId: r.id,
      };
      return api<Case>('/cases', { body });
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: requestKeys.cases(r.id) });
      void queryClient.invalidateQueries({ queryKey: caseKeys.all });
    },
  });
}

/** An act on a request, as its route takes it; each answers with the request as it is now. */
export type RequestAct =
  | { kind: 'submit'; note?: string | undefined }
  | { kind: 'withdraw'; reason: string }
  | { kind: 'assemble' | 'deploy' | 'stand-down' | 'close'; reason?: string | undefined }
  | { kind: 'vote'; vote: VoteChoice; comment?: string | undefined }
  | { kind: 'fileNis2'; deadline: DeadlineKind; filedAt: string };

function callAct(r: AssistanceRequest, act: RequestAct): Promise<AssistanceRequest> {
  const base = `/requests/${r.id}`;
  const given = <T extends object>(body: T) =>
    Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined && v !== ''));
  switch (act.kind) {
    case 'vote':
      return api<AssistanceRequest>(`${base}/votes`, {
        body: given({ vote: act.vote, comment: act.comment }),
      });
    case 'fileNis2':
      return api<AssistanceRequest>(`${base}/deadlines/${act.deadline}/complete`, {
        body: { filedAt: act.filedAt },
      });
    case 'submit':
      return api<AssistanceRequest>(`${base}/submit`, {
        body: given({ note: act.note }),
        ifMatch: r.version,
      });
    default: {
      const { kind, ...body } = act;
      return api<AssistanceRequest>(`${base}/${kind}`, { body: given(body), ifMatch: r.version });
    }
  }
}

export function useRequestAct(r: AssistanceRequest) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (act: RequestAct) => callAct(r, act),
    onSuccess: (updated) => {
      queryClient.setQueryData(requestKeys.one(r.id), updated);
      void queryClient.invalidateQueries({ queryKey: requestKeys.all });
      void queryClient.invalidateQueries({ queryKey: requestKeys.timeline(r.id) });
    },
  });
}
