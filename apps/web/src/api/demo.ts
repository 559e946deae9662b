import { type Query, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api } from './client.ts';
import type { RequestList } from './queries.ts';

// Whether the node holds demo data (`vytis demo` marks every request and case title `[demo]`), told
// without asking the node anything new: any request or case the app has already read (a list or
// one item) with such a title says so; a page that reads none (a deployment, the roster) looks once
// per tab at the first few requests, unless a list of requests was read by then. Once seen, it
// stays for the tab.

const SEEN = 'vytis.demoData';
const MARK = '[demo]';

const titled = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { title?: unknown }).title === 'string' &&
  (value as { title: string }).title.startsWith(MARK);

/** A request or case (or a list of them) marked demo. */
export function holdsDemo(data: unknown): boolean {
  if (titled(data)) return true;
  const items = (data as { items?: unknown } | null)?.items;
  return Array.isArray(items) && items.some(titled);
}

const readsRequestsOrCases = (query: Query) => {
  const [kind] = query.queryKey;
  return kind === 'requests' || kind === 'request' || kind === 'cases' || kind === 'case';
};

export function useDemoData(): boolean {
  const queryClient = useQueryClient();
  const [seen, setSeen] = useState(() => sessionStorage.getItem(SEEN) === '1');

  useEffect(() => {
    if (seen) return;
    const cache = queryClient.getQueryCache();
    const check = () => {
      if (cache.findAll({ predicate: readsRequestsOrCases }).some((q) => holdsDemo(q.state.data))) {
        sessionStorage.setItem(SEEN, '1');
        setSeen(true);
      }
    };
    check();
    return cache.subscribe((event) => {
      if (event.type === 'updated' && event.action.type === 'success' && readsRequestsOrCases(event.query))
        check();
    });
  }, [queryClient, seen]);

  // Once per tab, after the page's own reads had their chance.
  const probe = useQuery({
    queryKey: ['demo-probe'],
    queryFn: async () => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      if (sessionStorage.getItem(SEEN) === '1') return true;
      // A list of requests read already (the situation page, the board) has answered.
      const lists = queryClient.getQueryCache().findAll({ queryKey: ['requests'] });
      if (lists.some((q) => q.state.status === 'success')) return lists.some((q) => holdsDemo(q.state.data));
      return holdsDemo(await api<RequestList>('/requests', { query: { limit: 20 } }));
    },
    enabled: !seen,
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
  return seen || probe.data === true;
}
