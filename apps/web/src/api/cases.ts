// Cases and what they hold: typed query hooks and their cache keys (one place, so a write refreshes
// exactly the lists it changed). Response types come from @vytis/contracts only.
import {
  keepPreviousData,
  type QueryKey,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import type {
  Case,
  CaseList,
  CasePatch,
  CaseShares,
  CaseTimelineEntry,
  CorrelationList,
  Evidence,
  EvidenceList,
  NewCase,
  NewCaseTimelineEntry,
  NewNote,
  NewObservable,
  NewTask,
  Note,
  Observable,
  ObservableBulk,
  ObservableBulkResult,
  ObservableSort,
  SharesUpdate,
  Task,
  TaskStatus,
  Tlp,
} from '@vytis/contracts';
import { api } from './client.ts';

/** What the case list filters on: its status and words of its title. */
export interface CaseFilters {
  status: string | null;
  q: string;
}

/** Whether a value's correlations take in exercises, and values on a warning list. */
export interface CorrelationScope {
  withExercises: boolean;
  warninglisted: boolean;
}

export const caseKeys = {
  /** Every list of cases (the filtered list, the pickers): a new case refreshes them all. */
  all: ['cases'] as const,
  list: (filters: CaseFilters) => ['cases', filters.status, filters.q] as const,
  /** Every case one may pick, for the import forms' "Into case". */
  pickable: ['cases', 'all'] as const,
  case: (id: string) => ['case', id] as const,
  shares: (id: string) => ['shares', id] as const,
  /** Every page and filter of a case's observables (a write refreshes them all). */
  observables: (id: string) => ['observables', id] as const,
  observablePage: (id: string, query: ObservableQuery) => ['observables', id, query] as const,
  correlations: (observableId: string, scope: CorrelationScope) =>
    ['correlations', observableId, scope.withExercises, scope.warninglisted] as const,
  tasks: (id: string) => ['tasks', id] as const,
  notes: (id: string) => ['notes', id] as const,
  timeline: (id: string) => ['case-timeline', id] as const,
  evidence: (id: string) => ['evidence', id] as const,
  evidenceItem: (evidenceId: string) => ['evidence-item', evidenceId] as const,
};

export const useCases = (filters: CaseFilters) =>
  useQuery({
    queryKey: caseKeys.list(filters),
    queryFn: () =>
      api<CaseList>('/cases', {
        query: { status: filters.status, q: filters.q.trim() || undefined, limit: 100 },
      }),
  });

/** The cases one may pick from; nothing is asked while `enabled` is false (the case is known already). */
export const usePickableCases = (enabled = true) =>
  useQuery({
    queryKey: caseKeys.pickable,
    queryFn: () => api<CaseList>('/cases', { query: { limit: 200 } }),
    enabled,
  });

export function useCreateCase() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: NewCase) => api<Case>('/cases', { body }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: caseKeys.all }),
  });
}

/** After a bulk import into a case: its counts and its observables. */
export function useRefreshImported() {
  const queryClient = useQueryClient();
  return (caseId: string) => {
    void queryClient.invalidateQueries({ queryKey: caseKeys.case(caseId) });
    void queryClient.invalidateQueries({ queryKey: caseKeys.observables(caseId) });
  };
}

export const useCase = (id: string) =>
  useQuery({ queryKey: caseKeys.case(id), queryFn: () => api<Case>(`/cases/${id}`) });

/** A change to the case itself, against the version the viewer saw. */
export function useUpdateCase(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (v: { patch: CasePatch; version: number }) =>
      api<Case>(`/cases/${id}`, { method: 'PATCH', body: v.patch, ifMatch: v.version }),
    onSuccess: (c) => queryClient.setQueryData(caseKeys.case(id), c),
  });
}

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

/** After a write to one of a case's lists: that list, and the case (its counts). */
function useListWrite<T, R>(caseId: string, list: QueryKey, write: (input: T) => Promise<R>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: write,
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: list });
      void queryClient.invalidateQueries({ queryKey: caseKeys.case(caseId) });
    },
  });
}

/** Records that the viewer's party saw an observable's value again (a sighting). */
export const useRecordSighting = (caseId: string) =>
  useListWrite(caseId, caseKeys.observables(caseId), (o: Observable) =>
    api(`/cases/${caseId}/observables/${o.id}/sightings`, { body: {} }),
  );

export const useAddObservable = (caseId: string) =>
  useListWrite(caseId, caseKeys.observables(caseId), (observable: NewObservable) =>
    api<Observable>(`/cases/${caseId}/observables`, { body: observable }),
  );

export const useTasks = (caseId: string) =>
  useQuery({
    queryKey: caseKeys.tasks(caseId),
    queryFn: () => api<{ items: Task[] }>(`/cases/${caseId}/tasks`),
  });

export const useAddTask = (caseId: string) =>
  useListWrite(caseId, caseKeys.tasks(caseId), (task: NewTask) =>
    api<Task>(`/cases/${caseId}/tasks`, { body: task }),
  );

export const useTaskStatus = (caseId: string) =>
  useListWrite(caseId, caseKeys.tasks(caseId), (v: { task: Task; status: TaskStatus }) =>
    api<Task>(`/cases/${caseId}/tasks/${v.task.id}`, {
      method: 'PATCH',
      body: { status: v.status },
      ifMatch: v.task.version,
    }),
  );

export const useNotes = (caseId: string) =>
  useQuery({
    queryKey: caseKeys.notes(caseId),
    queryFn: () => api<{ items: Note[] }>(`/cases/${caseId}/notes`),
  });

export const useAddNote = (caseId: string) =>
  useListWrite(caseId, caseKeys.notes(caseId), (note: NewNote) =>
    api<Note>(`/cases/${caseId}/notes`, { body: note }),
  );

export const useCaseTimeline = (caseId: string) =>
  useQuery({
    queryKey: caseKeys.timeline(caseId),
    queryFn: () => api<{ items: CaseTimelineEntry[] }>(`/cases/${caseId}/timeline`),
  });

export const useAddTimelineEntry = (caseId: string) =>
  useListWrite(caseId, caseKeys.timeline(caseId), (entry: NewCaseTimelineEntry) =>
    api<CaseTimelineEntry>(`/cases/${caseId}/timeline`, { body: entry }),
  );

/** The case's evidence, without custody (one item carries it). */
export const useEvidence = (caseId: string) =>
  useQuery({
    queryKey: caseKeys.evidence(caseId),
    queryFn: () => api<EvidenceList>(`/cases/${caseId}/evidence`),
  });

/** One piece of evidence with its chain of custody. */
export const useEvidenceItem = (caseId: string, evidenceId: string) =>
  useQuery({
    queryKey: caseKeys.evidenceItem(evidenceId),
    queryFn: () => api<Evidence>(`/cases/${caseId}/evidence/${evidenceId}`),
  });

/** A file sent as it is (not as JSON); without a label it takes the case's. */
export const useUploadEvidence = (caseId: string) =>
  useListWrite(caseId, caseKeys.evidence(caseId), (v: { file: File; tlp: Tlp | undefined }) =>
    api<Evidence>(`/cases/${caseId}/evidence`, {
      query: { filename: v.file.name, tlp: v.tlp },
      raw: { body: v.file, type: v.file.type || 'application/octet-stream' },
    }),
  );

export const useCorrelations = (caseId: string, observable: Observable, scope: CorrelationScope) =>
  useQuery({
    queryKey: caseKeys.correlations(observable.id, scope),
    queryFn: () =>
      api<CorrelationList>(`/cases/${caseId}/observables/${observable.id}/correlations`, {
        query: {
          exercise: !observable.exercise && scope.withExercises ? 'include' : undefined,
          warninglisted: scope.warninglisted ? 'include' : undefined,
        },
      }),
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
