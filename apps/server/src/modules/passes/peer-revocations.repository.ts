import type { Executor, Tx } from '../../platform/db/transaction.ts';

/**
 * The revocation lists of the peers that issue passes, as their feed carried them
 * (federation_revocation_lists), and what `vytis pass verify --peer` needs of a peer.
 */

export interface PeerRevocationListRow {
  party: string;
  jws: string;
  key_id: string;
  issued_at: Date;
  revoked: number;
  mirror_version: number;
  received_at: Date;
}

/** Stores `row` unless the list held from its party is as new or newer. Returns whether it was written. */
export async function upsertPeerRevocationList(trx: Tx, row: PeerRevocationListRow) {
  const written = await trx
    .insertInto('federation_revocation_lists')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('party')
        .doUpdateSet({
          jws: row.jws,
          key_id: row.key_id,
          issued_at: row.issued_at,
          revoked: row.revoked,
          mirror_version: row.mirror_version,
          received_at: row.received_at,
        })
        .where('federation_revocation_lists.mirror_version', '<', row.mirror_version),
    )
    .returning('party')
    .executeTakeFirst();
  return written !== undefined;
}

export async function deletePeerRevocationList(trx: Tx, party: string) {
  const gone = await trx
    .deleteFrom('federation_revocation_lists')
    .where('party', '=', party)
    .executeTakeFirst();
  return Number(gone.numDeletedRows);
}

export async function peerRevocationList(db: Executor, party: string) {
  return db
    .selectFrom('federation_revocation_lists')
    .selectAll()
    .where('party', '=', party)
    .executeTakeFirst();
}

/** A peer as this node trusts it: its pinned key and when its feed was last pulled successfully. */
export async function trustedPeer(db: Executor, party: string) {
  return db
    .selectFrom('federation_peers')
    .select(['party_code', 'role', 'key_id', 'public_key', 'status', 'last_ok_at'])
    .where('party_code', '=', party)
    .executeTakeFirst();
}

/** The peer whose pinned key has this id, if this node trusts one (active or removed). */
export async function peerByKeyId(db: Executor, keyId: string) {
  return db
    .selectFrom('federation_peers')
    .select(['party_code', 'status'])
    .where('key_id', '=', keyId)
    .orderBy('party_code')
    .executeTakeFirst();
}
