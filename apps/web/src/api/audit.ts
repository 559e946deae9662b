// The audit log for auditors: typed hooks and cache keys.
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import type { AuditActionList, AuditEvent, AuditVerifyResult, Checkpoint } from '@vytis/contracts';
import { api, withQuery } from './client.ts';

export interface AuditFilters {
  action?: string | undefined;
  actor?: string | undefined;
  objectType?: string | undefined;
  objectId?: string | undefined;
  /** ISO, UTC */
  since?: string | undefined;
  until?: string | undefined;
}

export const auditKeys = {
  log: (filters: AuditFilters) => ['audit', 'log', filters] as const,
  actions: ['audit', 'actions'] as const,
  verify: ['audit', 'verify'] as const,
  checkpoints: ['audit', 'checkpoints'] as const,
};

export function useAuditLog(filters: AuditFilters) {
  return useInfiniteQuery({
    queryKey: auditKeys.log(filters),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      api<{ items: AuditEvent[]; nextCursor: string | null }>('/audit', {
        query: { order: 'desc', limit: 50, cursor: pageParam, ...filters },
      }),
    getNextPageParam: (last) => last.nextCursor,
  });
}

export const useAuditActions = () =>
  useQuery({ queryKey: auditKeys.actions, queryFn: () => api<AuditActionList>('/audit/actions') });

export const useAuditVerify = () =>
  useQuery({
    queryKey: auditKeys.verify,
    queryFn: () => api<AuditVerifyResult>('/audit/verify'),
    staleTime: 0,
  });

export const useCheckpoints = () =>
  useQuery({
    queryKey: auditKeys.checkpoints,
    queryFn: () => api<{ items: Checkpoint[] }>('/audit/checkpoints', { query: { limit: 5 } }),
  });

/** The export's URL (the session cookie carries the credential, so a plain link downloads it). */
export const auditExportUrl = (format: 'csv' | 'ndjson', filters: AuditFilters) =>
  withQuery(`/api/v1/audit/export`, { format, ...filters });
