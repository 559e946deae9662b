import { useQuery } from '@tanstack/react-query';
import type { Party, RequestStatus } from '@vytis/contracts';
import { api } from './client.ts';

export type RequestSummary = {
  id: string;
  party: string;
  title: string;
  status: RequestStatus;
  exercise: boolean;
  severity: string;
  tlp: string;
  incidentClass: string;
  priority: number;
  createdAt: string;
  submittedAt: string | null;
  nextDeadline: { kind: string; dueAt: string } | null;
  version: number;
  /** The party whose node this request is a read-only copy from (federation); null: this node's own. */
  mirroredFrom?: string | null;
};
export type RequestList = { items: RequestSummary[]; total: number; nextCursor: string | null };

export const OPEN_STATUSES: RequestStatus[] = [
  'submitted',
  'voting',
  'activated',
  'partially_activated',
  'assembling',
  'deployed',
  'stood_down',
];

export const useParties = () =>
  useQuery({
    queryKey: ['parties'],
    queryFn: () => api<{ items: Party[]; asOf: string }>('/parties'),
    staleTime: 5 * 60_000,
  });
