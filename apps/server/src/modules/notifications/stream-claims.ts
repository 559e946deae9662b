import crypto from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { atMostEvery } from '../../platform/at-most-every.ts';
import type { Database } from '../../platform/db/schema.ts';
import { inTransaction } from '../../platform/db/transaction.ts';

/** How often the serving process moves its claims on while their streams are open. */
const REFRESH_MS = 20_000;
/** A claim not moved on for this long belongs to a process that is gone: it no longer counts. */
const LAPSE_SECONDS = 75;
/** The first key of the two-key advisory locks taken per holder (one key per lock space). */
const CLAIMS_LOCK_SPACE = 72_750_020;

/**
 * The live event streams each user holds open, counted over every process of the node: a cap of
 * five streams is five in all, not five per process behind a round-robin proxy. A stream claims a
 * row as it opens and gives it back as it closes; a process that dies leaves claims no one moves
 * on, which stop counting after LAPSE_SECONDS.
 */
export class StreamClaims {
  /** This process's claims: id → holder. */
  private readonly held = new Map<string, string>();
  private refresher: NodeJS.Timeout | undefined;

  constructor(private readonly db: Kysely<Database>) {}

  /** A claim for one more stream of `holder`, or null when they hold `cap` already (and how many). */
  async claim(holder: string, cap: number): Promise<{ id: string } | { id: null; held: number }> {
    const id = crypto.randomUUID();
    this.sweep();
    const held = await inTransaction(this.db, async (trx) => {
      // One claim at a time per holder, across processes: simultaneous opens cannot all pass.
      await sql`select pg_advisory_xact_lock(${CLAIMS_LOCK_SPACE}, hashtext(${holder}))`.execute(trx);
      await trx
        .deleteFrom('event_stream_claims')
        .where('holder', '=', holder)
        .where('seen_at', '<', sql<Date>`now() - make_interval(secs => ${LAPSE_SECONDS})`)
        .execute();
      const { n } = await trx
        .selectFrom('event_stream_claims')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('holder', '=', holder)
        .executeTakeFirstOrThrow();
      if (Number(n) >= cap) return Number(n);
      await trx
        .insertInto('event_stream_claims')
        .values({ id, holder, claimed_at: sql`now()`, seen_at: sql`now()` })
        .execute();
      return null;
    });
    if (held !== null) return { id: null, held };
    this.held.set(id, holder);
    this.refresher ??= setInterval(() => void this.refresh().catch(() => {}), REFRESH_MS).unref();
    return { id };
  }

  async release(id: string): Promise<void> {
    this.held.delete(id);
    if (this.held.size === 0) this.stopRefreshing();
    await this.db.deleteFrom('event_stream_claims').where('id', '=', id).execute();
  }

  /**
   * Moves this process's claims on: their streams are still open. A claim that lapsed meanwhile (the
   * database out of reach for a while) and was taken away is put back, so an open stream always counts.
   */
  async refresh(): Promise<void> {
    if (this.held.size === 0) return;
    await this.db
      .insertInto('event_stream_claims')
      .values(
        [...this.held].map(([id, holder]) => ({ id, holder, claimed_at: sql`now()`, seen_at: sql`now()` })),
      )
      .onConflict((conflict) => conflict.column('id').doUpdateSet({ seen_at: sql`now()` }))
      .execute();
  }

  /** Claims of every holder whose process is gone, at most once a minute per process. */
  private readonly sweep = atMostEvery(60_000, () =>
    this.db
      .deleteFrom('event_stream_claims')
      .where('seen_at', '<', sql<Date>`now() - make_interval(secs => ${LAPSE_SECONDS})`)
      .execute(),
  );

  close(): void {
    this.stopRefreshing();
  }

  private stopRefreshing(): void {
    clearInterval(this.refresher);
    this.refresher = undefined;
  }
}
