import { sql } from 'kysely';
import type { Executor, Tx } from '../../platform/db/transaction.ts';

export async function findParty(db: Executor, code: string) {
  return db.selectFrom('parties').selectAll().where('code', '=', code).executeTakeFirst();
}

export async function listParties(db: Executor, code?: string) {
  let query = db.selectFrom('parties').selectAll();
  if (code) query = query.where('code', '=', code);
  return query.orderBy('code').execute();
}

export async function statusRows(db: Executor, code?: string) {
  let query = db.selectFrom('party_statuses').selectAll();
  if (code) query = query.where('party_code', '=', code);
  return query.orderBy('party_code').orderBy('effective_from').execute();
}

export async function insertParty(
  db: Executor,
  row: { code: string; name: string; kind: string; created_at: Date },
) {
  await db.insertInto('parties').values(row).execute();
}

export async function insertStatus(
  db: Executor,
  row: {
    party_code: string;
    status: string;
    effective_from: string;
    note: string | null;
    recorded_at: Date;
    recorded_by: string;
  },
) {
  return db.insertInto('party_statuses').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function countParties(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('parties')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every party's status in force on a UTC day (parties without one yet are absent). */
export async function statusesOn(db: Executor, day: string, code?: string) {
  let query = db
    .selectFrom('party_statuses')
    .distinctOn('party_code')
    .select(['party_code', 'status'])
    .where('effective_from', '<=', day);
  if (code) query = query.where('party_code', '=', code);
  return query.orderBy('party_code').orderBy('effective_from', 'desc').execute();
}

/**
 * Queues every case this node speaks for (and its items) in the federation's outbox (0017): a
 * change of the community changes what GREEN reaches. Nothing when the node is not federated.
 */
export async function touchFederatedCases(trx: Tx) {
  await sql`select federation_touch_cases(array(select k.id from cases k join federation_self s
    on k.owner_party = s.party where k.mirrored_from is null))`.execute(trx);
}

/**
 * The party, locked until the transaction ends, so changes of what it keeps (its rotations, its
 * webhooks) take turns; undefined if there is no such party. NO KEY UPDATE: rows that refer to the
 * party (whose foreign-key checks take KEY SHARE) are not held up.
 */
export async function lockParty(trx: Tx, code: string) {
  return trx
    .selectFrom('parties')
    .select('code')
    .where('code', '=', code)
    .forNoKeyUpdate()
    .executeTakeFirst();
}
