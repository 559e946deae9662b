// What the case's tabs share: the TLP choices, the write hook, field errors.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { TLPS } from '@vytis/contracts';
import { ApiError } from '../../api/client.ts';

export const OBSERVABLE_TYPES = [
  'ip-dst',
  'ip-src',
  'domain',
  'hostname',
  'url',
  'email',
  'md5',
  'sha1',
  'sha256',
  'filename',
  'vulnerability',
  'AS',
];
export const tlpOptions = TLPS.map((t) => ({ value: t, label: `TLP:${t.toUpperCase()}` }));
export type Items<T> = { items: T[] };

/** Refreshes the case (its counts) and one of its lists after a write. */
export function useCaseWrite<T>(caseId: string, list: string, fn: (input: T) => Promise<unknown>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: [list, caseId] });
      void queryClient.invalidateQueries({ queryKey: ['case', caseId] });
    },
  });
}

export const fieldError = (error: unknown, field: string) =>
  error instanceof ApiError ? error.forField(`body/${field}`) : undefined;
