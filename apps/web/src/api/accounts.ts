// Accounts: the users an admin or PoC manages, and one's own password and second factor.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { EndedSessions, MfaEnrolment, MfaStatus, RecoveryCodes, Role, User } from '@vytis/contracts';
import { api } from './client.ts';

export type UserList = { items: User[]; nextCursor: string | null };

export const usersKey = ['users'] as const;

/** The users the viewer may manage: everyone for admins, the own party's for a PoC (the server decides). */
export const useManagedUsers = () =>
  useQuery({
    queryKey: [...usersKey, 'managed'],
    queryFn: () => api<UserList>('/users', { query: { limit: 500 } }),
  });

export type AccountAct =
  | { kind: 'disable'; user: User; reason?: string }
  | { kind: 'enable'; user: User }
  | { kind: 'roles'; user: User; roles: Role[] }
  | { kind: 'password'; user: User; password: string }
  | { kind: 'endSessions'; user: User }
  | { kind: 'resetMfa'; user: User };

function callAct(act: AccountAct): Promise<User | EndedSessions> {
  const base = `/users/${act.user.id}`;
  const ifMatch = act.user.version;
  switch (act.kind) {
    case 'disable':
      return api<User>(`${base}/disable`, { body: act.reason ? { reason: act.reason } : {}, ifMatch });
    case 'enable':
      return api<User>(`${base}/enable`, { method: 'POST', ifMatch });
    case 'roles':
      return api<User>(`${base}/roles`, { method: 'PUT', body: { roles: act.roles }, ifMatch });
    case 'password':
      return api<User>(`${base}/password`, { method: 'PUT', body: { password: act.password }, ifMatch });
    case 'endSessions':
      return api<EndedSessions>(`${base}/sessions`, { method: 'DELETE' });
    case 'resetMfa':
      return api<User>(`${base}/mfa`, { method: 'DELETE', ifMatch });
  }
}

export function useAccountAct() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: callAct,
    onSettled: () => queryClient.invalidateQueries({ queryKey: usersKey }),
  });
}

export const useChangePassword = () =>
  useMutation({
    mutationFn: (body: { currentPassword: string; newPassword: string }) =>
      api<void>('/me/password', { method: 'PUT', body }),
  });

const mfaKey = ['me', 'mfa'] as const;

export const useMfaStatus = () => useQuery({ queryKey: mfaKey, queryFn: () => api<MfaStatus>('/me/mfa') });

export const useBeginMfa = () =>
  useMutation({
    mutationFn: (password: string) => api<MfaEnrolment>('/me/mfa', { body: { password } }),
  });

export function useConfirmMfa() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (code: string) => api<RecoveryCodes>('/me/mfa/confirm', { body: { code } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: mfaKey }),
  });
}

export function useDisableMfa() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (code: string) => api<MfaStatus>('/me/mfa/disable', { body: { code } }),
    onSuccess: (status) => queryClient.setQueryData(mfaKey, status),
  });
}

/** Whether the node has no user yet: the login page then says how to make the first admin. */
export const useSetup = () =>
  useQuery({
    queryKey: ['setup'],
    queryFn: () => api<{ firstAdminNeeded: boolean }>('/setup'),
    staleTime: 5_000,
  });
