// My work: what waits for the signed-in person (GET /me/work), refreshed whenever a live event arrives.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { WorkList } from '@vytis/contracts';
import { useEffect, useRef } from 'react';
import { api } from './client.ts';
import { useLive } from './live.tsx';

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

/** How many things wait for me, for the navigation's badge (live); undefined while unknown. */
export function useWorkCount(): number | undefined {
  return useMyWork().data?.total;
}
