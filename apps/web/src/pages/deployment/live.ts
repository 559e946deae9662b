import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { deploymentKeys } from '../../api/deployments.ts';
import { useLive } from '../../api/live.tsx';

/**
 * Live events name the request a deployment serves, not the deployment: an event about its request
 * (a release, an acceptance, the answer to an action sent to the node that keeps it) refreshes it.
 */
export function useRefreshOnLiveEvents(id: string, requestId: string | undefined) {
  const queryClient = useQueryClient();
  const { events } = useLive();
  // Events kept from before this page opened are not news: the page has just read the deployment.
  const handled = useRef(events[0]?.seq ?? 0);
  useEffect(() => {
    const news = events.filter((e) => e.seq > handled.current);
    if (!news.length || !requestId) return;
    handled.current = Math.max(...news.map((e) => e.seq));
    if (news.some((e) => e.requestId === requestId)) {
      void queryClient.invalidateQueries({ queryKey: deploymentKeys.one(id) });
    }
  }, [events, requestId, id, queryClient]);
}
