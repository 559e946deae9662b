import { type ExpressionBuilder, type Insertable, sql } from 'kysely';
import type { Database, WebhooksTable } from '../../platform/db/schema.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';
import { NOTIFICATION_COLUMNS } from './notifications.repository.ts';

export async function insertWebhook(trx: Tx, row: Insertable<WebhooksTable>) {
  return trx.insertInto('webhooks').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function countActiveWebhooks(trx: Tx, party: string) {
  const { n } = await trx
    .selectFrom('webhooks')
    .where('party_code', '=', party)
    .where('disabled_at', 'is', null)
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** Webhooks with how many of their deliveries failed for good; `party` null means all parties. */
export async function listWebhooks(db: Executor, party: string | null, id?: string) {
  let query = db.selectFrom('webhooks').select((eb) => [
    'webhooks.id',
    'webhooks.party_code',
    'webhooks.url',
    'webhooks.description',
    'webhooks.created_at',
    'webhooks.created_by',
    'webhooks.disabled_at',
    'webhooks.exercises',
    eb
      .selectFrom('webhook_deliveries')
      .whereRef('webhook_deliveries.webhook_id', '=', 'webhooks.id')
      .where('webhook_deliveries.state', '=', 'failed')
      .select((e) => e.fn.countAll<number>().as('n'))
      .as('failing'),
  ]);
  if (party) query = query.where('webhooks.party_code', '=', party);
  if (id) query = query.where('webhooks.id', '=', id);
  return query.orderBy('webhooks.created_at').orderBy('webhooks.id').execute();
}

export async function disableWebhook(trx: Tx, id: string, at: Date) {
  return trx
    .updateTable('webhooks')
    .set({ disabled_at: at })
    .where('id', '=', id)
    .where('disabled_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

export async function listDeliveries(
  db: Executor,
  opts: {
    party: string | null;
    state?: string | undefined;
    afterCreated?: { at: Date; id: string } | null;
    limit: number;
    id?: string;
  },
) {
  let query = db
    .selectFrom('webhook_deliveries')
    .innerJoin('webhooks', 'webhooks.id', 'webhook_deliveries.webhook_id')
    .innerJoin('notifications', 'notifications.seq', 'webhook_deliveries.notification_seq')
    .leftJoin('requests', 'requests.id', 'notifications.request_id')
    .selectAll('webhook_deliveries')
    .select([
      'webhooks.party_code',
      'webhooks.url',
      'notifications.type',
      sql<boolean>`coalesce(requests.exercise, false)`.as('exercise'),
    ]);
  if (opts.party) query = query.where('webhooks.party_code', '=', opts.party);
  if (opts.state) query = query.where('webhook_deliveries.state', '=', opts.state);
  if (opts.id) query = query.where('webhook_deliveries.id', '=', opts.id);
  const after = opts.afterCreated;
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('webhook_deliveries.created_at', '<', after.at),
        eb.and([
          eb('webhook_deliveries.created_at', '=', after.at),
          eb('webhook_deliveries.id', '<', after.id),
        ]),
      ]),
    );
  }
  return query
    .orderBy('webhook_deliveries.created_at', 'desc')
    .orderBy('webhook_deliveries.id', 'desc')
    .limit(opts.limit)
    .execute();
}

/**
 * Leases due deliveries to this process: a lease that expires (a process that died mid-send) makes
 * the delivery due again, and a leased one is skipped by the others.
 */
export async function leaseDue(trx: Tx, now: Date, leaseUntil: Date, limit: number) {
  // Rows queued while their webhook was being disabled are failed here rather than left pending.
  await trx
    .updateTable('webhook_deliveries')
    .set(DISABLED_FAILURE)
    .where('state', '=', 'pending')
    .where('webhook_id', 'in', (eb) =>
      eb.selectFrom('webhooks').select('webhooks.id').where('webhooks.disabled_at', 'is not', null),
    )
    .execute();
  const isDue = (eb: ExpressionBuilder<Database, 'webhook_deliveries'>) =>
    eb.and([
      eb('webhook_deliveries.state', '=', 'pending'),
      eb('webhook_deliveries.next_attempt_at', '<=', now),
      eb.or([
        eb('webhook_deliveries.lease_until', 'is', null),
        eb('webhook_deliveries.lease_until', '<=', now),
      ]),
    ]);
  // Round robin over parties: each party's oldest due delivery comes before any party's second,
  // so one party's many (or slow) receivers cannot take the whole batch from the others.
  const fairShare = trx
    .selectFrom('webhook_deliveries')
    .innerJoin('webhooks', 'webhooks.id', 'webhook_deliveries.webhook_id')
    .where(isDue)
    .where('webhooks.disabled_at', 'is', null)
    .select((eb) => [
      'webhook_deliveries.id',
      'webhook_deliveries.next_attempt_at',
      eb.fn
        .agg<number>('row_number')
        .over((over) =>
          over
            .partitionBy('webhooks.party_code')
            .orderBy('webhook_deliveries.next_attempt_at')
            .orderBy('webhook_deliveries.id'),
        )
        .as('turn'),
    ])
    .as('ranked');
  const chosen = trx
    .selectFrom(fairShare)
    .select('ranked.id')
    .orderBy('ranked.turn')
    .orderBy('ranked.next_attempt_at')
    .orderBy('ranked.id')
    .limit(limit);
  // Locked apart from the ranking (PostgreSQL locks no rows of a window query); rows another
  // process leased meanwhile are skipped and checked again.
  const due = trx
    .selectFrom('webhook_deliveries')
    .select('webhook_deliveries.id')
    .where('webhook_deliveries.id', 'in', chosen)
    .where(isDue)
    .forUpdate()
    .skipLocked();
  return trx
    .updateTable('webhook_deliveries')
    .set((eb) => ({ lease_until: leaseUntil, attempts: eb('attempts', '+', 1) }))
    .where('id', 'in', due)
    .returningAll()
    .execute();
}

export async function deliveryPayloads(db: Executor, deliveryIds: readonly string[]) {
  if (deliveryIds.length === 0) return [];
  return db
    .selectFrom('webhook_deliveries')
    .innerJoin('webhooks', 'webhooks.id', 'webhook_deliveries.webhook_id')
    .innerJoin('notifications', 'notifications.seq', 'webhook_deliveries.notification_seq')
    .innerJoin('requests', 'requests.id', 'notifications.request_id')
    .where('webhook_deliveries.id', 'in', [...deliveryIds])
    .select([
      'webhook_deliveries.id',
      'webhooks.url',
      'webhooks.secret',
      'webhooks.party_code',
      ...NOTIFICATION_COLUMNS,
    ])
    .execute();
}

/**
 * Records an attempt's outcome, if this process still holds the lease it took: a delivery whose
 * webhook was disabled meanwhile (failed) or whose lease ran out and was taken by another process
 * is left alone. Returns undefined then.
 */
export async function settleDelivery(
  db: Executor,
  id: string,
  leaseUntil: Date,
  changes: {
    state: 'pending' | 'delivered' | 'failed';
    next_attempt_at: Date | null;
    last_error: string | null;
    last_status: number | null;
    delivered_at: Date | null;
  },
) {
  return db
    .updateTable('webhook_deliveries')
    .set({ ...changes, lease_until: null })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .where('lease_until', '=', leaseUntil)
    .returningAll()
    .executeTakeFirst();
}

/** The failure recorded for deliveries a disabling stopped. */
export const DISABLED_WEBHOOK = 'the webhook was disabled';

const DISABLED_FAILURE = {
  state: 'failed',
  next_attempt_at: null,
  lease_until: null,
  last_error: DISABLED_WEBHOOK,
} as const;

/** A disabled webhook's undelivered events will not be sent: they fail, saying why. */
export async function failPendingOf(trx: Tx, webhookId: string) {
  return trx
    .updateTable('webhook_deliveries')
    .set(DISABLED_FAILURE)
    .where('webhook_id', '=', webhookId)
    .where('state', '=', 'pending')
    .execute();
}

export async function retryFailed(trx: Tx, id: string, now: Date) {
  return trx
    .updateTable('webhook_deliveries')
    .set({ state: 'pending', next_attempt_at: now, attempts: 0, lease_until: null })
    .where('id', '=', id)
    .where('state', '=', 'failed')
    .returningAll()
    .executeTakeFirst();
}
