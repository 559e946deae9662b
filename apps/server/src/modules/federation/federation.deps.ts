import type { KeyRotation } from '@vytis/contracts';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import type { DatabaseHandle } from '../../platform/db/database.ts';
import type { NodeKey } from '../../platform/keys.ts';
import type { PrivateNetworks } from '../../platform/network.ts';
import type { Notifier } from '../notifications/notifier.ts';

/** This node's place in the federation: the party it speaks for (none: not federated), its role and URL. */
export interface NodeIdentity {
  party: string | null;
  role: 'coordinator' | 'national';
  /** VYTIS_PUBLIC_URL; none: not reachable by peers (the descriptor then names the request's own host). */
  publicUrl: string | null;
  /** How often each peer is pulled (VYTIS_FEDERATION_PULL_SECONDS). */
  pullSeconds: number;
}

/** What every federation service is built from. */
export interface FederationDeps {
  database: DatabaseHandle;
  clock: Clock;
  audit: AuditService;
  /** Events and webhooks for what arrives from peers, as for what happens here. */
  notifier: Notifier;
  key: NodeKey;
  node: NodeIdentity;
  /** The statement, signed by this node's previous key, that it moved to the current one (`vytis key rotate`). */
  rotation?: KeyRotation | null;
  /** How peers are called; tests may replace it. */
  fetch?: typeof fetch;
  /** Peers on loopback or private networks may be called (tests, national networks). */
  allowPrivateNetworks: PrivateNetworks;
}

/** A peer as the federation's services use it: its party, where it is, the key it is trusted under. */
export interface TrustedPeer {
  party: string;
  url: string;
  role: 'coordinator' | 'national';
  keyId: string;
  publicKey: import('node:crypto').KeyObject;
  /** The last change sequence of its feed applied here. */
  cursor: number;
}
