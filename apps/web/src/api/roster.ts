// The standby roster, its duty rotations and the duty officer's board: typed hooks and cache keys.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
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
} from '@vytis/contracts';
import { api } from './client.ts';

export const rosterKeys = {
  responders: (party: string | null, skill: string | null) => ['responders', party, skill] as const,
  allResponders: ['responders'] as const,
  rotations: ['rotations'] as const,
  duty: ['duty'] as const,
};

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

/** After any roster change: the listings, and the duty board that depends on them. */
function useRosterChanged() {
  const client = useQueryClient();
  return () =>
    Promise.all([
      client.invalidateQueries({ queryKey: rosterKeys.allResponders }),
      client.invalidateQueries({ queryKey: rosterKeys.rotations }),
      client.invalidateQueries({ queryKey: rosterKeys.duty }),
      client.invalidateQueries({ queryKey: ['duty-week'] }),
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
