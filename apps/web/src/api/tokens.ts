// One's own API tokens: typed hooks and cache keys. The secret comes back once, when a token is
// issued; the list never holds it (the node keeps only its hash).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { IssuedToken, NewToken, Token } from '@vytis/contracts';
import { api } from './client.ts';

export const tokenKeys = {
  mine: ['me', 'tokens'] as const,
};

export const useMyTokens = () =>
  useQuery({ queryKey: tokenKeys.mine, queryFn: () => api<{ items: Token[] }>('/tokens') });

export function useIssueToken() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: NewToken) => api<IssuedToken>('/tokens', { body }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: tokenKeys.mine }),
  });
}

export function useRevokeToken() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api<Token>(`/tokens/${id}`, { method: 'DELETE' }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: tokenKeys.mine }),
  });
}
