import { type Kysely, sql } from 'kysely';
import type { AuditEntry, AuditService } from '../audit/audit.service.ts';
import type { Clock } from '../clock.ts';
import type { Ctx } from '../context.ts';
import type { Database } from '../platform/db/schema.ts';
import { type Executor, inTransaction, type Tx } from '../platform/db/transaction.ts';
import { SoonRunner } from '../platform/rerun-coalescer.ts';

interface Denial {
  key: string;
  route: string;
  status: string;
  now: Date;
  ctx: Ctx;
  entry: AuditEntry;
  /** Denials counted together: 1 for one as it comes, more for those counted in this process. */
  count: number;
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
  /** Sources with a window of their own per window and process; beyond, new ones share one. */
  maxSources?: number;
}

const ROUTES_LISTED = 10;
const SHARED_SOURCE = 'others';
/** Ended windows written per transaction. */
const FLUSH_BATCH = 500;
/** How long denials past a full route's limit are counted in memory before they are added. */
const ADD_COUNTS_EVERY_MS = 1000;

/** Denials counted in this process for a source, route and status whose window has no room left. */
interface CountedHere {
  key: string;
  route: string;
  status: string;
  endsAt: number;
  actor: Ctx['actor'];
  count: number;
}

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
 * window. A denial written one by one is counted in the statement that writes its event. Once a
 * route's window has no room left, this process counts its further denials in memory and adds them
 * to the row every second, so a flood costs the database one update a second, not one per request;
 * a crash loses at most that second's counts. Beyond `maxSources` sources a window in this process,
 * new ones share one window, so rotating addresses cannot write one event per request.
 */
export class DenialLimiter {
  private readonly windowMs: number;
  private readonly perSourceWindow: number;
  private readonly maxSources: number;
  private readonly countedHere = new Map<string, CountedHere>();
  private readonly addCounts: SoonRunner;
  private sources = new Set<string>();
  private sourcesPeriod = 0;

  constructor(private readonly options: DenialLimiterOptions) {
    this.windowMs = options.windowMs ?? 60_000;
    this.perSourceWindow = options.perSourceWindow ?? options.perWindow * 20;
    this.maxSources = options.maxSources ?? 10_000;
    this.addCounts = new SoonRunner(() => this.addCountedHere(), ADD_COUNTS_EVERY_MS);
  }

  async deny(source: string, ctx: Ctx, entry: AuditEntry & { summary?: { status?: unknown } }) {
    const now = this.options.clock.now();
    const key = `${this.options.scope}:${this.admitted(source, now)}`;
    const route = entry.objectId ?? '';
    const status = String(entry.summary?.status ?? 'unknown');
    const here = this.countedHere.get(countedHereKey(key, route, status));
    if (here && now.getTime() < here.endsAt) {
      here.count++;
      void this.addCounts.request();
      return;
    }
    // Its window has ended: what this process counted goes in first, so it is written with it.
    if (here) await this.addCountedHere();
    const denial = { key, route, status, now, ctx, entry, count: 1 };
    const outcome = await this.countOrRenew(denial);
    if (outcome.written) this.options.audit.sealSoonAfterStatement();
    else if (this.countedHere.size < this.maxSources) {
      this.countedHere.set(countedHereKey(key, route, status), {
        key,
        route,
        status,
        endsAt: outcome.endsAt.getTime(),
        actor: ctx.actor,
        count: 0,
      });
    }
  }

  /**
   * Writes the counts of every window that has ended, of any limiter, and forgets those windows;
   * with `all`, of every window (at an orderly stop). In batches, each its own transaction.
   */
  async flushDue(now: Date = this.options.clock.now(), all = false) {
    await this.addCountedHere();
    const until = all ? new Date('9999-12-31T00:00:00Z') : now;
    for (;;) {
      const written = await inTransaction(this.options.db, async (trx) => {
        const ended = await endedWindows(trx, until);
        for (const window of ended) await this.writeCounted(trx, window, now);
        return ended.length;
      });
      if (written < FLUSH_BATCH) return;
    }
  }

  /** Past `maxSources` sources in this window, a new source is counted with the others. */
  private admitted(source: string, now: Date): string {
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

  /** Counts in the source's window; if that window has ended, writes it first and starts another. */
  private async countOrRenew(denial: Denial): Promise<{ written: boolean; endsAt: Date }> {
    const counted = await this.count(this.options.db, denial);
    if (counted) return counted;
    for (let attempt = 0; attempt < 3; attempt++) {
      const renewed = await inTransaction(this.options.db, async (trx) => {
        const [ended] = await endedWindows(trx, denial.now, denial.key);
        if (ended) await this.writeCounted(trx, ended, denial.now);
        return this.count(trx, denial);
      });
      if (renewed) return renewed;
    }
    // Only a window another process started with a clock over a window behind could do this.
    throw new Error(`the denial window of ${denial.key} keeps ending before it can be counted`);
  }

  /** Adds the denials counted in this process to their windows' rows. */
  private async addCountedHere() {
    const now = this.options.clock.now();
    for (const [id, here] of this.countedHere) {
      if (here.count === 0) {
        if (now.getTime() >= here.endsAt) this.countedHere.delete(id);
        continue;
      }
      const count = here.count;
      here.count = 0;
      if (now.getTime() >= here.endsAt) this.countedHere.delete(id);
      const ctx = { actor: here.actor, requestId: null };
      const entry = { action: 'access.denied', objectType: 'route', objectId: here.route || null };
      // Dated inside the window they were counted in, so they join its row while it is there.
      const at = new Date(Math.min(now.getTime(), here.endsAt - 1));
      await this.countOrRenew({ ...here, now: at, ctx, entry, count });
    }
  }

  /**
   * Counts a denial in its source's window, and writes its event in the same statement if it is one
   * to write one by one (`written`). Several denials counted in this process (`count` > 1) are
   * only counted. Null when the window has ended: it is to be written first.
   */
  private async count(db: Executor, denial: Denial): Promise<{ written: boolean; endsAt: Date } | null> {
    const { key, route, status, now, ctx, entry, count } = denial;
    const { perWindow } = this.options;
    const room =
      count === 1
        ? sql<boolean>`(denial_windows.written < ${this.perSourceWindow}
          and coalesce((denial_windows.written_by_route ->> ${route})::int, 0) < ${perWindow})`
        : sql<boolean>`false`;
    const first = count === 1 && perWindow > 0 && this.perSourceWindow > 0;
    const upsert = db
      .insertInto('denial_windows')
      .values({
        key,
        started_at: now,
        ends_at: new Date(now.getTime() + this.windowMs),
        written: first ? 1 : 0,
        written_by_route: JSON.stringify(first ? { [route]: 1 } : {}),
        counted: first ? 0 : count,
        statuses: JSON.stringify(first ? {} : { [status]: count }),
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
            counted: sql`case when ${room} then denial_windows.counted else denial_windows.counted + ${count}::int end`,
            statuses: sql`case when ${room} then denial_windows.statuses
              else jsonb_set(denial_windows.statuses, array[${status}::text],
                to_jsonb(coalesce((denial_windows.statuses ->> ${status})::int, 0) + ${count}::int)) end`,
            routes: sql`case when not ${room} and ${route} <> ''
                and jsonb_array_length(denial_windows.routes) < ${ROUTES_LISTED}
                and not denial_windows.routes ? ${route}
              then denial_windows.routes || jsonb_build_array(${route}::text) else denial_windows.routes end`,
            last_written: room,
          })
          .where('denial_windows.ends_at', '>', now),
      )
      .returning(['last_written', 'ends_at']);
    const audited = this.options.audit.recordEachWithin(
      [{ ctx, entry, key: 'denial' }],
      sql`select 'denial' from counted where last_written`,
    );
    const { rows } = await sql<{ last_written: boolean; ends_at: Date | string }>`
      with counted as (${upsert}), audited as (${audited})
      select last_written, ends_at from counted`.execute(db);
    const row = rows[0];
    return row ? { written: row.last_written, endsAt: new Date(row.ends_at) } : null;
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

const countedHereKey = (key: string, route: string, status: string) => `${key}\n${route}\n${status}`;
