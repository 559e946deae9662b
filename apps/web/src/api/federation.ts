// Federation: this node's identity and the peer nodes it trusts, with their pull status (lag, last
// error); admins add, remove and pull peers, coordinators read.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { FederationPeer, FederationPeerList, NewFederationPeer } from '@vytis/contracts';
import { api } from './client.ts';

const PEERS_KEY = ['federation-peers'];

export const useFederationPeers = () =>
  useQuery({
    queryKey: PEERS_KEY,
    queryFn: () => api<FederationPeerList>('/federation/peers'),
  });

export function useAddPeer() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (peer: NewFederationPeer) => api<FederationPeer>('/federation/peers', { body: peer }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: PEERS_KEY }),
  });
}

export function useRemovePeer() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (peer: FederationPeer) =>
      api<FederationPeer>(`/federation/peers/${peer.party}`, { method: 'DELETE' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: PEERS_KEY }),
  });
}

/** Pulls a peer now; its status after the pull comes back. */
export function usePullPeer() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (peer: FederationPeer) =>
      api<FederationPeer>(`/federation/peers/${peer.party}/pull`, { method: 'POST' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: PEERS_KEY }),
  });
}
