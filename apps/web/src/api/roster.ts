// The standby roster, its duty rotations and the duty officer's board: typed hooks and cache keys.
import {
  type InfiniteData,
  useInfiniteQuery,
  useMutation,
  useQueries,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import type {
  AvailabilityBody,
  DutyBoard,
  NewResponder,
  NewRotation,
  Responder,
  ResponderList,
  ResponderPatch,
  Rotation,
  RotationList,
  RotationPatch,
  ShiftList,
} from '@vytis/contracts';
import { type UserList, usersKey } from './accounts.ts';
import { api } from './client.ts';

export const rosterKeys = {
  responders: (party: string | null, skill: string | null) => ['responders', party, skill] as const,
  allResponders: ['responders'] as const,
  responder: (id: string) => ['responder', id] as const,
  rotations: ['rotations'] as const,
  duty: ['duty'] as const,
  /** Every party's shifts of every week. */
  allDutyWeeks: ['duty-week'] as const,
  dutyWeek: (party: string, from: string) => ['duty-week', party, from] as const,
  /** Under the accounts' key, so that a change to an account refreshes whom a responder may be linked to. */
  linkableUsers: (party: string | undefined) => [...usersKey, party ?? 'all'] as const,
};

/** A week as the duty routes take it: ISO instants, `to` excluded. */
export interface Week {
  from: string;
  to: string;
}

/** Who is on duty now and next in every party, with the gaps of the next week; refreshed each minute. */
export function useDutyBoard() {
  return useQuery({
    queryKey: rosterKeys.duty,
    queryFn: () => api<DutyBoard>('/duty'),
    refetchInterval: 60_000,
  });
}

export function useResponders(party: string | null, skill: string | null) {
  return useInfiniteQuery({
    queryKey: rosterKeys.responders(party, skill),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      api<ResponderList>('/responders', { query: { party, skill, limit: 100, cursor: pageParam } }),
    getNextPageParam: (last) => last.nextCursor,
  });
}

export function useRotations() {
  return useQuery({ queryKey: rosterKeys.rotations, queryFn: () => api<RotationList>('/rotations') });
}

/** Each party's shifts in the week, in the order of `parties`; a party the viewer may not see answers an error. */
export function useDutyWeeks(parties: string[], week: Week, enabled: boolean) {
  return useQueries({
    queries: parties.map((party) => ({
      queryKey: rosterKeys.dutyWeek(party, week.from),
      queryFn: () => api<ShiftList>(`/parties/${party}/duty`, { query: { from: week.from, to: week.to } }),
      enabled,
    })),
  });
}

/** The users a responder may be linked to: of one party, or of every party the server lets the viewer see. */
export function useLinkableUsers(party: string | undefined, enabled: boolean) {
  return useQuery({
    queryKey: rosterKeys.linkableUsers(party),
    queryFn: () => api<UserList>('/users', { query: { party, limit: 500 } }),
    enabled,
    staleTime: 60_000,
  });
}

/** After any roster change: the listings, and the duty board that depends on them. */
function useRosterChanged() {
  const client = useQueryClient();
  return () =>
    Promise.all([
      client.invalidateQueries({ queryKey: rosterKeys.allResponders }),
      client.invalidateQueries({ queryKey: rosterKeys.rotations }),
      client.invalidateQueries({ queryKey: rosterKeys.duty }),
      client.invalidateQueries({ queryKey: rosterKeys.allDutyWeeks }),
    ]);
}

export function useCreateResponder() {
  const changed = useRosterChanged();
  return useMutation({
    mutationFn: (body: NewResponder) => api<Responder>('/responders', { body }),
    onSuccess: changed,
  });
}

export function useUpdateResponder() {
  const changed = useRosterChanged();
  return useMutation({
    mutationFn: ({ responder, patch }: { responder: Responder; patch: ResponderPatch }) =>
      api<Responder>(`/responders/${responder.id}`, {
        method: 'PATCH',
        body: patch,
        ifMatch: responder.version,
      }),
    onSuccess: changed,
  });
}

/**
 * Links a responder to the user who is that person (null: unlinks), so they find their deployments and
 * open their own pass. It moves no shift, so the duty views stay as they are; the listings take the answer.
 */
export function useLinkResponderUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ responder, userId }: { responder: Responder; userId: string | null }) =>
      api<Responder>(`/responders/${responder.id}`, {
        method: 'PATCH',
        body: { userId },
        ifMatch: responder.version,
      }),
    onSuccess: (updated) => {
      client.setQueryData(rosterKeys.responder(updated.id), updated);
      client.setQueriesData<InfiniteData<ResponderList>>({ queryKey: rosterKeys.allResponders }, (data) =>
        data
          ? {
              ...data,
              pages: data.pages.map((page) => ({
                ...page,
                items: page.items.map((r) => (r.id === updated.id ? updated : r)),
              })),
            }
          : data,
      );
    },
  });
}

export function useSetAvailability() {
  const changed = useRosterChanged();
  return useMutation({
    mutationFn: ({ responder, body }: { responder: Responder; body: AvailabilityBody }) =>
      api<Responder>(`/responders/${responder.id}/availability`, {
        method: 'PUT',
        body,
        ifMatch: responder.version,
      }),
    onSuccess: changed,
  });
}

export function useCreateRotation() {
  const changed = useRosterChanged();
  return useMutation({
    mutationFn: (body: NewRotation) => api<Rotation>('/rotations', { body }),
    onSuccess: changed,
  });
}

export function useUpdateRotation() {
  const changed = useRosterChanged();
  return useMutation({
    mutationFn: ({ rotation, patch }: { rotation: Rotation; patch: RotationPatch }) =>
      api<Rotation>(`/rotations/${rotation.id}`, { method: 'PATCH', body: patch, ifMatch: rotation.version }),
    onSuccess: changed,
  });
}

export function useDeleteRotation() {
  const changed = useRosterChanged();
  return useMutation({
    mutationFn: (rotation: Rotation) =>
      api<Rotation>(`/rotations/${rotation.id}`, { method: 'DELETE', ifMatch: rotation.version }),
    onSuccess: changed,
  });
}
