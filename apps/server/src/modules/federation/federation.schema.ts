import type { ColumnType, Generated } from 'kysely';

/** Tables of 0017_federation, as Kysely sees them. */
export interface FederationTables {
  federation_self: {
    id: number;
    party: string;
    role: ColumnType<string, string | undefined, string>;
    enabled_at: ColumnType<Date, Date | undefined, Date>;
  };
  federation_outbox: { id: Generated<number>; object_type: string; object_id: string };
  federation_changes: {
    seq: number;
    object_type: string;
    object_id: string;
    recorded_at: ColumnType<Date, Date | undefined, Date>;
  };
  federation_peers: FederationPeersTable;
  federation_holdings: { peer_party: string; object_id: string };
  federation_parked: {
    id: Generated<number>;
    peer_party: string;
    object_id: string;
    case_id: string;
    version: number;
    envelope: string;
    parked_at: ColumnType<Date, Date | undefined, Date>;
  };
  federation_nonces: { key_id: string; nonce: string; expires_at: Date };
  federation_intents: FederationIntentsTable;
  federation_intent_outcomes: {
    intent_id: string;
    origin_party: string;
    state: 'applied' | 'refused';
    outcome: string;
    decided_at: Date;
  };
  /** Which version of the coordinating node's registry (parties, statuses, framework) this node holds. */
  federation_registry: { id: number; origin: string; mirror_version: number; applied_at: Date };
  federation_revocation_lists: {
    party: string;
    jws: string;
    key_id: string;
    issued_at: Date;
    revoked: number;
    mirror_version: number;
    received_at: Date;
  };
}

/**
 * Something a user did to a copy (a vote, a release, an acceptance…), sent to the node that speaks for
 * its target and applied there as if the user were local; `state` and `outcome` say what came of it.
 */
export interface FederationIntentsTable {
  id: string;
  origin_party: string;
  target_party: string;
  kind: string;
  target_id: string;
  body: ColumnType<unknown, string, string>;
  actor_name: string;
  actor_roles: ColumnType<unknown, string, string>;
  created_at: Date;
  state: ColumnType<
    'pending' | 'applied' | 'refused',
    'pending' | 'applied' | 'refused' | undefined,
    'pending' | 'applied' | 'refused'
  >;
  outcome: ColumnType<string | null, string | null | undefined, string | null>;
  decided_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  mirrored_from: ColumnType<string | null, string | null | undefined, string | null>;
  mirror_version: ColumnType<number | null, number | null | undefined, number | null>;
}

/** A peer node this one trusts: its pinned key, and where this node's pull of its feed stands. */
export interface FederationPeersTable {
  party_code: string;
  url: string;
  /** `coordinator` or `national`, as its descriptor says. */
  role: ColumnType<string, string | undefined, string>;
  /** RFC 7638 thumbprint of the key trusted now. */
  key_id: string;
  /** The trusted public key, as a JWK (JSON text). */
  public_key: string;
  /** The signed descriptor the key was taken from (JSON text). */
  descriptor: string;
  status: ColumnType<'active' | 'removed', 'active' | 'removed' | undefined, 'active' | 'removed'>;
  added_at: Date;
  added_by: string;
  removed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** The last change sequence of the peer's feed applied here. */
  cursor: ColumnType<number, number | undefined, number>;
  /** The peer's feed head at the last pull: lag = remote_head - cursor. */
  remote_head: ColumnType<number | null, number | null | undefined, number | null>;
  last_pull_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  last_ok_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  last_error_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  applied_total: ColumnType<number, number | undefined, number>;
  refused_total: ColumnType<number, number | undefined, number>;
}
