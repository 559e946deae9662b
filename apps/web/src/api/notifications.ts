// In-app notifications (GET /me/notifications) and what each person chooses to get
// (GET/PUT /me/notification-settings): typed hooks and their cache keys.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type {
  InboxPage,
  MarkedRead,
  MarkRead,
  NotificationSettings,
  NotificationSettingsUpdate,
} from '@vytis/contracts';
import { useEffect } from 'react';
import { api } from './client.ts';
import { useLive } from './live.tsx';

export const notificationKeys = {
  all: ['notifications'] as const,
  list: (unreadOnly: boolean) => ['notifications', 'list', { unreadOnly }] as const,
  unread: ['notifications', 'unread'] as const,
  settings: ['notification-settings'] as const,
};

/**
 * Refreshes notifications whenever the live stream brings an event: the node turns the event into
 * each person's notifications as it is read, so the refetch finds the new ones.
 */
function useRefreshOnLiveEvents() {
  const queryClient = useQueryClient();
  const latest = useLive().events[0]?.seq;
  useEffect(() => {
    if (latest === undefined) return;
    void queryClient.invalidateQueries({ queryKey: notificationKeys.all });
  }, [latest, queryClient]);
}

/** My notifications, newest first, a page at a time (`unreadOnly`: only the unread). */
export function useNotifications(unreadOnly: boolean) {
  useRefreshOnLiveEvents();
  return useInfiniteQuery({
    queryKey: notificationKeys.list(unreadOnly),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      api<InboxPage>('/me/notifications', {
        query: { unread: unreadOnly || undefined, limit: 50, cursor: pageParam },
      }),
    getNextPageParam: (last) => last.nextCursor,
  });
}

/** How many unread notifications I have, for the navigation's badge (live); undefined while unknown. */
export function useUnreadCount(): number | undefined {
  useRefreshOnLiveEvents();
  const query = useQuery({
    queryKey: notificationKeys.unread,
    queryFn: () => api<InboxPage>('/me/notifications', { query: { unread: true, limit: 1 } }),
    select: (page) => page.unreadCount,
    // Events the stream does not carry (another tab marking read) show within a minute.
    refetchInterval: 60_000,
  });
  return query.data;
}

export function useMarkRead() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: MarkRead) => api<MarkedRead>('/me/notifications/read', { body }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: notificationKeys.all }),
  });
}

export const useNotificationSettings = () =>
  useQuery({
    queryKey: notificationKeys.settings,
    queryFn: () => api<NotificationSettings>('/me/notification-settings'),
  });

export function useSaveNotificationSettings() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: NotificationSettingsUpdate) =>
      api<NotificationSettings>('/me/notification-settings', { method: 'PUT', body }),
    onSuccess: (settings) => queryClient.setQueryData(notificationKeys.settings, settings),
  });
}
