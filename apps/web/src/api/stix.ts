// A case's STIX intelligence objects: typed query hooks and their cache keys. Everything about a
// case's intelligence hangs under stixKeys.intelligence(caseId), so an import refreshes every page.
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import type { IntelList, IntelObjectDetail } from '@vytis/contracts';
import { api } from './client.ts';

export const stixKeys = {
  intelligence: (caseId: string) => ['intelligence', caseId] as const,
  list: (caseId: string, type: string | null, pageSize: number) =>
    ['intelligence', caseId, type, pageSize] as const,
  object: (caseId: string, id: string) => ['intelligence-object', caseId, id] as const,
};

/** The case's intelligence objects the viewer may see, oldest first, `pageSize` at a time. */
export const useIntelligence = (caseId: string, type: string | null, pageSize: number) =>
  useInfiniteQuery({
    queryKey: stixKeys.list(caseId, type, pageSize),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      api<IntelList>(`/cases/${caseId}/intelligence`, {
        query: { type, limit: pageSize, cursor: pageParam },
      }),
    getNextPageParam: (last) => last.nextCursor,
  });

/** One object with its relationships and the object as received; nothing is asked unless `enabled`. */
export const useIntelObject = (caseId: string, id: string, enabled = true) =>
  useQuery({
    queryKey: stixKeys.object(caseId, id),
    queryFn: () => api<IntelObjectDetail>(`/cases/${caseId}/intelligence/${id}`),
    enabled,
  });
