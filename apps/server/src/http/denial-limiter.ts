import { type Kysely, sql } from 'kysely';
import type { AuditEntry, AuditService } from '../audit/audit.service.ts';
import type { Clock } from '../clock.ts';
import { ANONYMOUS, type Ctx } from '../context.ts';
import type { Database } from '../platform/db/schema.ts';
import { type Executor, inTransaction, type Tx } from '../platform/db/transaction.ts';

interface Denial {
  key: string;
  route: string;
  status: string;
  now: Date;
  ctx: Ctx;
  entry: AuditEntry;
}

/** What the limiter needs of the audit log. */
type Audit = Pick<AuditService, 'record' | 'recordEachWithin' | 'sealSoonAfterStatement'>;

export interface DenialLimiterOptions {
  db: Kysely<Database>;
  clock: Clock;
  audit: Audit;
  /** Names this limiter's windows apart from other limiters' (the app's, the federation's). */
  scope: string;
  /** Denials per source, route and window written one by one; the rest are counted. */
  perWindow: number;
  /** Denials per source and window written one by one, over all routes (default: 20 × perWindow). */
  perSourceWindow?: number;
  windowMs?: number;
  /** Anonymous sources with a window of their own per window and process; beyond, new ones share one. */
  maxSources?: number;
}

const ROUTES_LISTED = 10;
const SHARED_SOURCE = 'others';
/** Ended windows written per transaction. */
const FLUSH_BATCH = 500;

/**
 * Keeps "every denial is audited" true without letting a flood of them (a bad token hammered in a
 * loop) grow the audit log by a row per request, or queue every request behind the chain's head:
 * per source (the user, or the client address when anonymous) and window, the first `perWindow`
 * denials of each route (and at most `perSourceWindow` in all) are written as they come, so a user
 * who tries many things they may not do is still seen in detail; the others are counted, and
 * written as one `access.denied.aggregated` event with their number once the window is over (at
 * the source's next denial, or at `flushDue`, which the node runs every minute).
 *
 * The windows are rows (`denial_windows`): every process of a node counts a source in the same
 * window, and a crash loses no count. Each denial is counted by one statement, which also writes
 * its event when it is one to write one by one (both or neither). Beyond `maxSources` anonymous
 * sources a window in this process, new ones share one window, so rotating addresses cannot write
 * an event per request; a signed-in user always has a window of their own.
 */
export class DenialLimiter {
  private readonly windowMs: number;
  private readonly perSourceWindow: number;
  private readonly maxSources: number;
  private sources = new Set<string>();
  private sourcesPeriod = 0;

  constructor(private readonly options: DenialLimiterOptions) {
    this.windowMs = options.windowMs ?? 60_000;
    this.perSourceWindow = options.perSourceWindow ?? options.perWindow * 20;
    this.maxSources = options.maxSources ?? 10_000;
  }

  async deny(source: string, ctx: Ctx, entry: AuditEntry & { summary?: { status?: unknown } }) {
    const now = this.options.clock.now();
    const admitted = this.admitted(source, now);
    const denial = {
      key: `${this.options.scope}:${admitted}`,
      route: entry.objectId ?? '',
      status: String(entry.summary?.status ?? 'unknown'),
      now,
      // The shared window is nobody's in particular.
      ctx: admitted === SHARED_SOURCE ? { ...ctx, actor: ANONYMOUS } : ctx,
      entry,
    };
    if (await this.countOrRenew(denial)) this.options.audit.sealSoonAfterStatement();
  }

  /** Writes the counts of every window that has ended, of any limiter, in batches, and forgets them. */
  async flushDue(now: Date = this.options.clock.now()) {
    for (;;) {
      const written = await inTransaction(this.options.db, async (trx) => {
        const ended = await endedWindows(trx, now);
        for (const window of ended) await this.writeCounted(trx, window, now);
        return ended.length;
      });
      if (written < FLUSH_BATCH) return;
    }
  }

  /** Past `maxSources` anonymous sources in this window, a new one is counted with the others. */
  private admitted(source: string, now: Date): string {
    if (source.startsWith('user:')) return source;
    const period = Math.floor(now.getTime() / this.windowMs);
    if (period !== this.sourcesPeriod) {
      this.sourcesPeriod = period;
      this.sources = new Set();
    }
    if (this.sources.has(source)) return source;
    if (this.sources.size >= this.maxSources) return SHARED_SOURCE;
    this.sources.add(source);
    return source;
  }

  /**
   * Counts in the source's window (true if the denial's event was written); if that window has
   * ended, writes it first and starts another.
   */
  private async countOrRenew(denial: Denial): Promise<boolean> {
    const counted = await this.count(this.options.db, denial);
    if (counted !== null) return counted;
    for (let attempt = 0; attempt < 3; attempt++) {
      const renewed = await inTransaction(this.options.db, async (trx) => {
        const [ended] = await endedWindows(trx, denial.now, denial.key);
        if (ended) await this.writeCounted(trx, ended, denial.now);
        return this.count(trx, denial);
      });
      if (renewed !== null) return renewed;
    }
    // Only another process whose clock is over a window behind, restarting the window as fast as
    // this one ends it, gets here: the denial is written on its own, never lost nor answered by a 500.
    await inTransaction(this.options.db, (trx) => this.options.audit.record(trx, denial.ctx, denial.entry));
    return true;
  }

  /**
   * Counts a denial in its source's window, and writes its event in the same statement if it is one
   * to write one by one (true then). Null when the window has ended: it is to be written first.
   */
  private async count(db: Executor, denial: Denial): Promise<boolean | null> {
    const { key, route, status, now, ctx, entry } = denial;
    const { perWindow } = this.options;
    const room = sql<boolean>`(denial_windows.written < ${this.perSourceWindow}
      and coalesce((denial_windows.written_by_route ->> ${route})::int, 0) < ${perWindow})`;
    const first = perWindow > 0 && this.perSourceWindow > 0;
    const upsert = db
      .insertInto('denial_windows')
      .values({
        key,
        started_at: now,
        ends_at: new Date(now.getTime() + this.windowMs),
        written: first ? 1 : 0,
        written_by_route: JSON.stringify(first ? { [route]: 1 } : {}),
        counted: first ? 0 : 1,
        statuses: JSON.stringify(first ? {} : { [status]: 1 }),
        routes: JSON.stringify(first || !route ? [] : [route]),
        actor: JSON.stringify(ctx.actor),
        last_written: first,
      })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({
            written: sql`case when ${room} then denial_windows.written + 1 else denial_windows.written end`,
            written_by_route: sql`case when ${room}
              then jsonb_set(denial_windows.written_by_route, array[${route}::text],
                to_jsonb(coalesce((denial_windows.written_by_route ->> ${route})::int, 0) + 1))
              else denial_windows.written_by_route end`,
            counted: sql`case when ${room} then denial_windows.counted else denial_windows.counted + 1 end`,
            statuses: sql`case when ${room} then denial_windows.statuses
              else jsonb_set(denial_windows.statuses, array[${status}::text],
                to_jsonb(coalesce((denial_windows.statuses ->> ${status})::int, 0) + 1)) end`,
            routes: sql`case when not ${room} and ${route} <> ''
                and jsonb_array_length(denial_windows.routes) < ${ROUTES_LISTED}
                and not denial_windows.routes ? ${route}
              then denial_windows.routes || jsonb_build_array(${route}::text) else denial_windows.routes end`,
            last_written: room,
          })
          .where('denial_windows.ends_at', '>', now),
      )
      .returning('last_written');
    const audited = this.options.audit.recordEachWithin(
      [{ ctx, entry, key: 'denial' }],
      sql`select 'denial' from counted where last_written`,
    );
    const { rows } = await sql<{ last_written: boolean }>`
      with counted as (${upsert}), audited as (${audited})
      select last_written from counted`.execute(db);
    return rows[0]?.last_written ?? null;
  }

  private async writeCounted(trx: Tx, window: EndedWindow, now: Date) {
    if (window.counted === 0) return;
    await this.options.audit.record(
      trx,
      { actor: window.actor, requestId: null },
      {
        action: 'access.denied.aggregated',
        objectType: 'source',
        objectId: window.key.slice(window.key.indexOf(':') + 1),
        summary: {
          count: window.counted,
          from: new Date(window.started_at).toISOString(),
          to: now.toISOString(),
          statuses: window.statuses,
          routes: [...window.routes].sort(),
          written: window.written,
        },
      },
    );
  }
}

type EndedWindow = Awaited<ReturnType<typeof endedWindows>>[number];

/**
 * Deletes the windows that have ended (of one key, or a batch of any) and returns them, oldest
 * first; windows another transaction is writing are left to it.
 */
async function endedWindows(trx: Tx, now: Date, key?: string) {
  let query = trx.deleteFrom('denial_windows');
  query =
    key === undefined
      ? query.where('key', 'in', (eb) =>
          eb
            .selectFrom('denial_windows')
            .select('key')
            .where('ends_at', '<=', now)
            .orderBy('ends_at')
            .limit(FLUSH_BATCH)
            .forUpdate()
            .skipLocked(),
        )
      : query.where('key', '=', key).where('ends_at', '<=', now);
  const rows = await query
    .returning(['key', 'started_at', 'written', 'counted', 'statuses', 'routes', 'actor'])
    .execute();
  return rows.sort((a, b) => new Date(a.started_at).getTime() - new Date(b.started_at).getTime());
}
