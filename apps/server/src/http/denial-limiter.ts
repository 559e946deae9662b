import type { AuditEntry } from '../audit/audit.service.ts';
import type { Clock } from '../clock.ts';
import type { Ctx } from '../context.ts';

/** How denials are written: one event each, in a transaction of its own. */
type RecordDenial = (ctx: Ctx, entry: AuditEntry) => Promise<void>;

export interface DenialLimiterOptions {
  clock: Clock;
  record: RecordDenial;
  /** Denials per source, route and window written one by one; the rest are counted. */
  perWindow: number;
  /** Denials per source and window written one by one, over all routes (default: 20 × perWindow). */
  perSourceWindow?: number;
  windowMs?: number;
  /** Sources tracked at once; beyond this, new sources share one bucket. */
  maxSources?: number;
}

interface Window {
  startedAt: Date;
  written: number;
  counted: number;
  statuses: Record<string, number>;
  routes: Set<string>;
  writtenByRoute: Map<string, number>;
  ctx: Ctx;
}

const ROUTES_LISTED = 10;
const SHARED_BUCKET = 'others';

/**
 * Keeps "every denial is audited" true without letting a flood of them (a bad token hammered in a
 * loop) grow the audit log by a row per request, or queue every request behind the chain's head:
 * per source (the user, or the client address when anonymous) and window, the first `perWindow`
 * denials of each route (and at most `perSourceWindow` in all) are written as they come, so a user
 * who tries many things they may not do is still seen in detail; the others are counted, and
 * written as one `access.denied.aggregated` event with their number once the window is over (at
 * the next denial, at `flushDue`, or at `flushAll` on shutdown).
 */
export class DenialLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;
  private readonly maxSources: number;
  private readonly perSourceWindow: number;

  constructor(private readonly options: DenialLimiterOptions) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxSources = options.maxSources ?? 10_000;
    this.perSourceWindow = options.perSourceWindow ?? options.perWindow * 20;
  }

  async deny(source: string, ctx: Ctx, entry: AuditEntry & { summary?: { status?: unknown } }) {
    const now = this.options.clock.now();
    await this.flushDue(now);
    const key = this.windows.has(source) || this.windows.size < this.maxSources ? source : SHARED_BUCKET;
    let window = this.windows.get(key);
    if (!window) {
      window = {
        startedAt: now,
        written: 0,
        counted: 0,
        statuses: {},
        routes: new Set(),
        writtenByRoute: new Map(),
        ctx,
      };
      this.windows.set(key, window);
    }
    const route = entry.objectId ?? '';
    const writtenForRoute = window.writtenByRoute.get(route) ?? 0;
    if (window.written < this.perSourceWindow && writtenForRoute < this.options.perWindow) {
      window.written++;
      window.writtenByRoute.set(route, writtenForRoute + 1);
      await this.options.record(ctx, entry);
      return;
    }
    window.counted++;
    const status = String(entry.summary?.status ?? 'unknown');
    window.statuses[status] = (window.statuses[status] ?? 0) + 1;
    if (window.routes.size < ROUTES_LISTED && entry.objectId) window.routes.add(entry.objectId);
  }

  /** Writes the counts of every window that has ended, and forgets those windows. */
  async flushDue(now: Date = this.options.clock.now()) {
    for (const [source, window] of this.windows) {
      if (now.getTime() - window.startedAt.getTime() < this.windowMs) continue;
      this.windows.delete(source);
      await this.writeCounted(source, window, now);
    }
  }

  /** Writes every count, ended or not (at shutdown). */
  async flushAll() {
    const now = this.options.clock.now();
    const all = [...this.windows];
    this.windows.clear();
    for (const [source, window] of all) await this.writeCounted(source, window, now);
  }

  private async writeCounted(source: string, window: Window, now: Date) {
    if (window.counted === 0) return;
    await this.options.record(
      { ...window.ctx, requestId: null },
      {
        action: 'access.denied.aggregated',
        objectType: 'source',
        objectId: source,
        summary: {
          count: window.counted,
          from: window.startedAt.toISOString(),
          to: now.toISOString(),
          statuses: window.statuses,
          routes: [...window.routes].sort(),
          written: window.written,
        },
      },
    );
  }
}
