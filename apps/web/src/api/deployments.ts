// Deployments and passes: typed query hooks and their cache keys. What a person may do with a
// deployment or one of its members comes with it (`can`), from the node that enforces it.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type {
  AcceptanceBody,
  Deployment,
  DeploymentStatusBody,
  PassResponse,
  PassVerification,
  ReleaseBody,
} from '@vytis/contracts';
import { api } from './client.ts';

export type DeploymentMember = Deployment['members'][number];

export const deploymentKeys = {
  all: ['deployment'] as const,
  one: (id: string) => ['deployment', id] as const,
  mine: ['deployments', 'mine'] as const,
  ofRequest: (requestId: string) => ['deployments', 'request', requestId] as const,
  pass: (id: string, responderId: string) => ['pass', id, responderId] as const,
};

export const useDeployment = (id: string) =>
  useQuery({ queryKey: deploymentKeys.one(id), queryFn: () => api<Deployment>(`/deployments/${id}`) });

/** The deployments the signed-in user is on as a responder, newest first. */
export const useMyDeployments = () =>
  useQuery({
    queryKey: deploymentKeys.mine,
    queryFn: () => api<{ items: Deployment[] }>('/deployments', { query: { mine: true } }),
  });

export const usePass = (id: string, responderId: string) =>
  useQuery({
    queryKey: deploymentKeys.pass(id, responderId),
    queryFn: () => api<PassResponse>(`/deployments/${id}/passes/${responderId}`),
  });

/** The deployment as a mutation answered it: cached, and the request it serves read again. */
function useDeploymentAnswer() {
  const queryClient = useQueryClient();
  return (d: Deployment) => {
    queryClient.setQueryData(deploymentKeys.one(d.id), d);
    void queryClient.invalidateQueries({ queryKey: ['request', d.requestId] });
    void queryClient.invalidateQueries({ queryKey: ['deployments'] });
  };
}

/** A home state's release or decline (a decline needs a reason). */
export function useDecideMember(id: string) {
  const onSuccess = useDeploymentAnswer();
  return useMutation({
    mutationFn: (v: { responderId: string } & ReleaseBody) =>
      api<Deployment>(`/deployments/${id}/members/${v.responderId}/release`, {
        body: { decision: v.decision, ...(v.reason ? { reason: v.reason } : {}) },
      }),
    onSuccess,
  });
}

export function useAcceptTeam(id: string) {
  const onSuccess = useDeploymentAnswer();
  return useMutation({
    mutationFn: (body: AcceptanceBody) => api<Deployment>(`/deployments/${id}/acceptance`, { body }),
    onSuccess,
  });
}

/** Moves the team along, or stands it down (with a reason, if given). */
export function useMoveDeployment(id: string) {
  const onSuccess = useDeploymentAnswer();
  return useMutation({
    mutationFn: (body: DeploymentStatusBody) => api<Deployment>(`/deployments/${id}/status`, { body }),
    onSuccess,
  });
}

export function useRevokePass(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (v: { responderId: string; reason: string }) =>
      api<{ revoked: string[] }>(`/deployments/${id}/passes/${v.responderId}/revoke`, {
        body: { reason: v.reason },
      }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: deploymentKeys.one(id) }),
  });
}

/** The node's verdict on a pass a host was shown (its compact JWS, or its QR code's text). */
export function useVerifyPass() {
  return useMutation({
    mutationFn: (token: string) => api<PassVerification>('/passes/verify', { body: { token } }),
  });
}
