// Calendar subscriptions: secret URLs a calendar app polls for a duty roster with no login. Typed
// hooks and cache keys; the URL comes back once, when the feed is made.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CalendarFeed, IssuedCalendarFeed } from '@vytis/contracts';
import { api } from './client.ts';

export const calendarKeys = {
  feeds: ['calendar-feeds'] as const,
};

/** The viewer's own subscriptions, revoked ones included. */
export const useCalendarFeeds = () =>
  useQuery({
    queryKey: calendarKeys.feeds,
    queryFn: () => api<{ items: CalendarFeed[] }>('/calendar-feeds'),
  });

/** A subscription to a party's whole duty roster, labelled as made from the roster page. */
export function useCreatePartyCalendarFeed() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (party: string) =>
      api<IssuedCalendarFeed>('/calendar-feeds', {
        method: 'POST',
        body: { kind: 'party', party, label: 'from the roster page' },
      }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: calendarKeys.feeds }),
  });
}

export function useRevokeCalendarFeed() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<CalendarFeed>(`/calendar-feeds/${id}`, { method: 'DELETE' }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: calendarKeys.feeds }),
  });
}
