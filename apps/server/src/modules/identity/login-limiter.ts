import crypto from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { AppError } from '../../errors.ts';
import { atMostEvery } from '../../platform/at-most-every.ts';
import type { Database } from '../../platform/db/schema.ts';
import { inTransaction } from '../../platform/db/transaction.ts';
import { setNewest } from '../../platform/newest-first-map.ts';

const WINDOW_SECONDS = 60;
/** The first key of the two-key advisory locks taken per address (one key per lock space). */
const ADDRESS_LOCK_SPACE = 72_750_021;
/** Addresses remembered as refused on this process at most; the oldest is forgotten first. */
const MAX_REFUSED = 100_000;

/**
 * Failed logins per client address in a sliding minute, counted in the database: every process
 * of a node counts into the same minute, so five attempts are five in all, not five per process
 * behind a round-robin proxy. Only failures count: people who log in (several colleagues behind
 * one NAT, a browser test logging many people in) are never held back, while guessing is. A
 * success does not clear earlier failures — else a guesser with one account of their own could
 * reset the count between guesses at another. The minute runs by the database's clock, the one
 * all processes share.
 *
 * A flood from one address costs one database connection per process: its checks wait their turn
 * in memory, and an address refused is refused here, without the database, until its wait is over.
 */
export class LoginLimiter {
  /** Per address, the check under way on this process (the next one waits for it). */
  private readonly checking = new Map<string, Promise<unknown>>();
  /** Per address refused, until when (ms, this process's clock). */
  private readonly refusedUntil = new Map<string, number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxPerMinute: number,
  ) {}

  /**
   * Refuses (429) an address that failed `maxPerMinute` times in the last minute, counting its
   * attempts under way as failures until they end; else holds a place for this attempt (counted
   * as a failure should its process die), which `end` gives back or keeps.
   */
  async begin(address: string): Promise<string> {
    this.refuseIfKnown(address);
    const before = this.checking.get(address);
    const check = (async () => {
      await before?.catch(() => {});
      this.refuseIfKnown(address);
      return this.check(address);
    })();
    this.checking.set(address, check);
    try {
      return await check;
    } finally {
      if (this.checking.get(address) === check) this.checking.delete(address);
    }
  }

  /** The attempt ended: a failed one (a wrong name, password or code) counts for a minute from now. */
  async end(attempt: string, failed: boolean): Promise<void> {
    if (failed) {
      await this.db.updateTable('login_attempts').set({ at: sql`now()` }).where('id', '=', attempt).execute();
    } else {
      await this.db.deleteFrom('login_attempts').where('id', '=', attempt).execute();
    }
  }

  private async check(address: string): Promise<string> {
    this.sweep();
    const id = crypto.randomUUID();
    const waitSeconds = await inTransaction(this.db, async (trx) => {
      // One check at a time per address, across processes: a burst cannot pass it at once.
      await sql`select pg_advisory_xact_lock(${ADDRESS_LOCK_SPACE}, hashtext(${address}))`.execute(trx);
      const { n, wait } = await sql<{ n: string; wait: string | null }>`
        select count(*)::text as n,
          ceil(extract(epoch from (min(at) + make_interval(secs => ${WINDOW_SECONDS}) - now())))::text as wait
        from login_attempts
        where address = ${address} and at > now() - make_interval(secs => ${WINDOW_SECONDS})`
        .execute(trx)
        .then((result) => result.rows[0]!);
      if (Number(n) >= this.maxPerMinute) return Math.max(1, Number(wait ?? 1));
      await trx.insertInto('login_attempts').values({ id, address, at: sql`now()` }).execute();
      return null;
    });
    if (waitSeconds !== null) {
      setNewest(this.refusedUntil, address, Date.now() + waitSeconds * 1000, MAX_REFUSED);
      throw refused(waitSeconds);
    }
    return id;
  }

  private refuseIfKnown(address: string): void {
    const until = this.refusedUntil.get(address);
    if (until === undefined) return;
    const waitMs = until - Date.now();
    if (waitMs > 0) throw refused(Math.ceil(waitMs / 1000));
    this.refusedUntil.delete(address);
  }

  /** Attempts older than two minutes count for nothing (one under way that long is over): deleted. */
  private readonly sweep = atMostEvery(WINDOW_SECONDS * 1000, () =>
    this.db
      .deleteFrom('login_attempts')
      .where('at', '<', sql<Date>`now() - make_interval(secs => ${2 * WINDOW_SECONDS})`)
      .execute(),
  );
}

const refused = (waitSeconds: number) =>
  new AppError('rate_limited', `too many failed logins from your address; try again in ${waitSeconds} s`);
