// The lookup of many values at once (POST /indicators/lookup/batch) and the global search (GET /search).
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import type { BatchLookupResult, ExerciseScope, SearchKind, SearchResult } from '@vytis/contracts';
import { api } from './client.ts';

export const searchKeys = {
  lookup: (lines: readonly string[], exercise: ExerciseScope) =>
    ['lookup', 'batch', lines, exercise] as const,
  search: (q: string, kind: SearchKind | null) => ['search', q, kind] as const,
};

/**
 * Where each of `lines` (as typed: one or more values per line, defanged is fine) is known, and what
 * it is related to; nothing is asked while there are none.
 */
export const useBatchLookup = (lines: readonly string[], exercise: ExerciseScope) =>
  useQuery({
    queryKey: searchKeys.lookup(lines, exercise),
    queryFn: ({ signal }) =>
      api<BatchLookupResult>('/indicators/lookup/batch', {
        body: { text: lines.join('\n'), exercise },
        signal,
      }),
    enabled: lines.length > 0,
  });

/** Pages of what matches `q` among what I may see, exact matches first; nothing while `q` is blank. */
export const useSearch = (q: string, kind: SearchKind | null) =>
  useInfiniteQuery({
    queryKey: searchKeys.search(q, kind),
    queryFn: ({ pageParam, signal }) =>
      api<SearchResult>('/search', {
        query: { q, kind: kind ?? undefined, limit: 25, cursor: pageParam ?? undefined },
        signal,
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    enabled: q.trim() !== '',
  });
