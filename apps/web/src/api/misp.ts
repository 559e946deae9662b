// MISP through the node: a case's MISP events, and the MISP feeds the node pulls into cases. (An
// event file goes into a case through components/FileImport.tsx, with its upload's progress.)
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type {
  MispEventList,
  MispFeed,
  MispFeedList,
  MispFeedPatch,
  MispFeedRun,
  NewMispFeed,
} from '@vytis/contracts';
import { api } from './client.ts';

export const mispKeys = {
  events: (caseId: string) => ['misp-events', caseId] as const,
  feeds: ['misp-feeds'] as const,
};

/** The name the case's MISP tab refreshes its events by. */
export const mispEventsKey = mispKeys.events;

/** The case's MISP events the viewer may see, with their tags and galaxy clusters. */
export const useMispEvents = (caseId: string) =>
  useQuery({
    queryKey: mispKeys.events(caseId),
    queryFn: async () => (await api<MispEventList>(`/cases/${caseId}/misp/events`)).items,
  });

/** The feeds pulled into the cases the viewer sees, each with its last run. */
export const useMispFeeds = () =>
  useQuery({
    queryKey: mispKeys.feeds,
    queryFn: async () => (await api<MispFeedList>('/misp/feeds')).items,
  });

export function useAddMispFeed() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (feed: NewMispFeed) => api<MispFeed>('/misp/feeds', { body: feed }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: mispKeys.feeds });
      // A feed may have opened a case.
      void queryClient.invalidateQueries({ queryKey: ['cases'] });
    },
  });
}

/** Pulls a feed now: the run comes back, and the feed's case has what it brought. */
export function usePullMispFeed() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (feed: MispFeed) => api<MispFeedRun>(`/misp/feeds/${feed.id}/pull`, { method: 'POST' }),
    onSettled: (_run, _error, feed) => {
      void queryClient.invalidateQueries({ queryKey: mispKeys.feeds });
      void queryClient.invalidateQueries({ queryKey: mispKeys.events(feed.caseId) });
      void queryClient.invalidateQueries({ queryKey: ['case', feed.caseId] });
      void queryClient.invalidateQueries({ queryKey: ['observables', feed.caseId] });
    },
  });
}

export function useChangeMispFeed() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ feed, patch }: { feed: MispFeed; patch: MispFeedPatch }) =>
      api<MispFeed>(`/misp/feeds/${feed.id}`, { method: 'PATCH', body: patch, ifMatch: feed.version }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: mispKeys.feeds }),
  });
}

export function useRemoveMispFeed() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (feed: MispFeed) =>
      api<void>(`/misp/feeds/${feed.id}`, { method: 'DELETE', ifMatch: feed.version }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: mispKeys.feeds }),
  });
}
