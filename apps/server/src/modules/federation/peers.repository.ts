import { type Insertable, type Selectable, sql } from 'kysely';
import type { Executor, Tx } from '../../platform/db/transaction.ts';
import type { FederationPeersTable } from './federation.schema.ts';

export type PeerRow = Selectable<FederationPeersTable>;

/** Every peer, active and removed, by party. */
export async function listPeers(db: Executor): Promise<PeerRow[]> {
  return db.selectFrom('federation_peers').selectAll().orderBy('party_code').execute();
}

export async function activePeers(db: Executor): Promise<PeerRow[]> {
  return db
    .selectFrom('federation_peers')
    .selectAll()
    .where('status', '=', 'active')
    .orderBy('party_code')
    .execute();
}

export async function findPeer(db: Executor, party: string): Promise<PeerRow | undefined> {
  return db.selectFrom('federation_peers').selectAll().where('party_code', '=', party).executeTakeFirst();
}

/** The peer row, locked for the rest of the transaction (two admins adding one party: one waits). */
export async function lockPeer(trx: Tx, party: string): Promise<PeerRow | undefined> {
  return trx
    .selectFrom('federation_peers')
    .selectAll()
    .where('party_code', '=', party)
    .forUpdate()
    .executeTakeFirst();
}

export async function activePeerByKeyId(db: Executor, keyId: string): Promise<PeerRow | undefined> {
  return db
    .selectFrom('federation_peers')
    .selectAll()
    .where('key_id', '=', keyId)
    .where('status', '=', 'active')
    .executeTakeFirst();
}

export async function partyExists(db: Executor, code: string): Promise<boolean> {
  return Boolean(await db.selectFrom('parties').select('code').where('code', '=', code).executeTakeFirst());
}

export async function insertPeer(trx: Tx, row: Insertable<FederationPeersTable>) {
  await trx.insertInto('federation_peers').values(row).execute();
}

/**
 * A removed peer added again: trusted under the new key from now on, with its pull state as it
 * was (its cursor stands: what was applied from it is still here).
 */
export async function reactivatePeer(
  trx: Tx,
  party: string,
  trust: {
    url: string;
    role: string;
    key_id: string;
    public_key: string;
    descriptor: string;
    added_at: Date;
    added_by: string;
  },
) {
  await trx
    .updateTable('federation_peers')
    .set({ ...trust, status: 'active', removed_at: null, last_error: null, last_error_at: null })
    .where('party_code', '=', party)
    .execute();
}

export async function markRemoved(trx: Tx, party: string, at: Date) {
  await trx
    .updateTable('federation_peers')
    .set({ status: 'removed', removed_at: at })
    .where('party_code', '=', party)
    .execute();
}

/** A peer's new key, adopted on a rotation statement its pinned key signed. */
export async function adoptKey(
  trx: Tx,
  party: string,
  trust: { url: string; role: string; key_id: string; public_key: string; descriptor: string },
) {
  await trx.updateTable('federation_peers').set(trust).where('party_code', '=', party).execute();
}

export async function recordPullOk(
  db: Executor,
  party: string,
  outcome: { cursor: number; remoteHead: number; applied: number; refused: number; at: Date },
) {
  await db
    .updateTable('federation_peers')
    .set({
      cursor: outcome.cursor,
      remote_head: outcome.remoteHead,
      last_pull_at: outcome.at,
      last_ok_at: outcome.at,
      applied_total: sql<number>`applied_total + ${outcome.applied}`,
      refused_total: sql<number>`refused_total + ${outcome.refused}`,
    })
    .where('party_code', '=', party)
    .execute();
}

export async function recordPullError(db: Executor, party: string, error: string, at: Date) {
  await db
    .updateTable('federation_peers')
    .set({ last_pull_at: at, last_error: error, last_error_at: at })
    .where('party_code', '=', party)
    .execute();
}
