// My work: what waits for the signed-in person (GET /me/work), refreshed whenever a live event
// arrives, and the acts taken on its items from the list.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type {
  AcceptanceBody,
  AssistanceRequest,
  Deployment,
  NewVote,
  ReleaseBody,
  WorkItem,
  WorkList,
} from '@vytis/contracts';
import { useEffect, useRef } from 'react';
import { api } from './client.ts';
import { deploymentKeys } from './deployments.ts';
import { useLive } from './live.tsx';
import { requestKeys } from './requests.ts';

export const workKeys = { mine: ['work', 'mine'] as const };

/**
 * My work, refetched when something happens on the node (a live event may make or end an item:
 * a vote cast, a member released, a clock warning) and when the window regains focus.
 */
export function useMyWork() {
  const queryClient = useQueryClient();
  const { events } = useLive();
  const latest = events[0]?.seq;
  const seen = useRef(latest);
  useEffect(() => {
    if (latest === seen.current) return;
    seen.current = latest;
    void queryClient.invalidateQueries({ queryKey: workKeys.mine });
  }, [latest, queryClient]);
  return useQuery({
    queryKey: workKeys.mine,
    queryFn: () => api<WorkList>('/me/work'),
    // Clocks come due with time alone, without an event.
    refetchInterval: 60_000,
  });
}

/** Forget my work after acting on an item, so the list and the navigation's badge follow at once. */
export function useRefreshWork() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: workKeys.mine });
}

/** An act on a work item, as its route takes it. */
export type WorkAct =
  | { kind: 'vote'; vote: NewVote }
  | { kind: 'release'; release: ReleaseBody }
  | { kind: 'accept'; acceptance: AcceptanceBody };

function callAct(item: WorkItem, act: WorkAct): Promise<AssistanceRequest | Deployment> {
  switch (act.kind) {
    case 'vote':
      return api<AssistanceRequest>(`/requests/${item.requestId}/votes`, { body: act.vote });
    case 'release':
      return api<Deployment>(`/deployments/${item.deploymentId}/members/${item.responderId}/release`, {
        body: act.release,
      });
    case 'accept':
      return api<Deployment>(`/deployments/${item.deploymentId}/acceptance`, { body: act.acceptance });
  }
}

/**
 * Acts on an item of my work; once done, this list, the badge and the pages of what was acted on
 * show it at once (the act resolves after they are read again).
 */
export function useWorkAct(item: WorkItem) {
  const queryClient = useQueryClient();
  const refreshWork = useRefreshWork();
  return useMutation({
    mutationFn: (act: WorkAct) => callAct(item, act),
    onSuccess: () =>
      Promise.all([
        refreshWork(),
        queryClient.invalidateQueries({ queryKey: requestKeys.all }),
        item.requestId ? queryClient.invalidateQueries({ queryKey: requestKeys.one(item.requestId) }) : null,
        item.deploymentId
          ? queryClient.invalidateQueries({ queryKey: deploymentKeys.one(item.deploymentId) })
          : null,
      ]),
  });
}

/** How many things wait for me, for the navigation's badge (live); undefined while unknown. */
export function useWorkCount(): number | undefined {
  return useMyWork().data?.total;
}
