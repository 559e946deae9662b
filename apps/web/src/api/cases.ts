// Cases and what they hold: typed query hooks and their cache keys (one place, so a write refreshes
// exactly the lists it changed). Response types come from @vytis/contracts only.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type {
  Case,
  CaseShares,
  Note,
  Observable,
  ObservableBulk,
  ObservableBulkResult,
  ObservableSort,
  SharesUpdate,
  Tlp,
} from '@vytis/contracts';
import { api } from './client.ts';

export const caseKeys = {
  case: (id: string) => ['case', id] as const,
  shares: (id: string) => ['shares', id] as const,
  /** Every page and filter of a case's observables (a write refreshes them all). */
  observables: (id: string) => ['observables', id] as const,
  observablePage: (id: string, query: ObservableQuery) => ['observables', id, query] as const,
  notes: (id: string) => ['notes', id] as const,
  timeline: (id: string) => ['case-timeline', id] as const,
};

export const useCase = (id: string) =>
  useQuery({ queryKey: caseKeys.case(id), queryFn: () => api<Case>(`/cases/${id}`) });

export const useCaseShares = (id: string) =>
  useQuery({ queryKey: caseKeys.shares(id), queryFn: () => api<CaseShares>(`/cases/${id}/shares`) });

/** What the observables tab asks for: filters, order and page. */
export interface ObservableQuery {
  type?: string | undefined;
  tlp?: Tlp | undefined;
  q?: string | undefined;
  tag?: string | undefined;
  warninglisted?: 'only' | 'exclude' | undefined;
  sort: ObservableSort;
  order: 'asc' | 'desc';
  offset: number;
  limit: number;
}

export interface ObservablePage {
  items: Observable[];
  total: number;
  nextCursor: string | null;
}

export const useObservables = (caseId: string, query: ObservableQuery) =>
  useQuery({
    queryKey: caseKeys.observablePage(caseId, query),
    queryFn: () =>
      api<ObservablePage>(`/cases/${caseId}/observables`, {
        query: { ...query, offset: query.offset, limit: query.limit },
      }),
    placeholderData: keepPreviousData,
  });

/** After a write to a case: its counts, its timeline (reasons are written there) and the list. */
function useRefreshCase(caseId: string) {
  const queryClient = useQueryClient();
  return (...keys: (readonly unknown[])[]) => {
    for (const key of [caseKeys.case(caseId), caseKeys.timeline(caseId), ...keys]) {
      void queryClient.invalidateQueries({ queryKey: key });
    }
  };
}

export function useObservableBulk(caseId: string) {
  const refresh = useRefreshCase(caseId);
  return useMutation({
    mutationFn: (body: ObservableBulk) =>
      api<ObservableBulkResult>(`/cases/${caseId}/observables/bulk`, { body }),
    onSuccess: () => refresh(caseKeys.observables(caseId)),
  });
}

export function useObservableRelabel(caseId: string) {
  const refresh = useRefreshCase(caseId);
  return useMutation({
    mutationFn: (v: { observable: Observable; tlp: Tlp; reason: string | undefined }) =>
      api<Observable>(`/cases/${caseId}/observables/${v.observable.id}`, {
        method: 'PATCH',
        body: { tlp: v.tlp, ...(v.reason ? { reason: v.reason } : {}) },
        ifMatch: v.observable.version,
      }),
    onSuccess: () => refresh(caseKeys.observables(caseId)),
  });
}

export function useNoteRelabel(caseId: string) {
  const refresh = useRefreshCase(caseId);
  return useMutation({
    mutationFn: (v: { note: Note; tlp: Tlp; reason: string | undefined }) =>
      api<Note>(`/cases/${caseId}/notes/${v.note.id}`, {
        method: 'PATCH',
        body: { tlp: v.tlp, ...(v.reason ? { reason: v.reason } : {}) },
      }),
    onSuccess: () => refresh(caseKeys.notes(caseId)),
  });
}

export function useSharesUpdate(caseId: string) {
  const queryClient = useQueryClient();
  const refresh = useRefreshCase(caseId);
  return useMutation({
    mutationFn: (v: { update: SharesUpdate; version: number }) =>
      api<CaseShares>(`/cases/${caseId}/shares`, { method: 'PUT', body: v.update, ifMatch: v.version }),
    onSuccess: (s) => {
      queryClient.setQueryData(caseKeys.shares(caseId), s);
      refresh(caseKeys.observables(caseId), caseKeys.notes(caseId));
    },
  });
}
