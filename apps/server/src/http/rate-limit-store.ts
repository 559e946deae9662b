import { type Kysely, sql } from 'kysely';
import { atMostEvery } from '../platform/at-most-every.ts';
import type { Database } from '../platform/db/schema.ts';

/** Windows that ended this long ago are deleted (at most once a minute per process). */
const SWEEP_MS = 60_000;

interface Counted {
  current: number;
  ttl: number;
}
type Callback = (error: Error | null, counted?: Counted) => void;

/**
 * A store for @fastify/rate-limit that counts in the database: each process of a node counts into
 * the same windows, so ten login attempts a minute are ten in all, not ten per process behind a
 * round-robin proxy. The window runs by the database's clock, the one clock all processes share.
 */
export function databaseRateLimitStore(db: Kysely<Database>) {
  // Sources come and go (addresses): windows that have ended are of no more use.
  const sweep = atMostEvery(SWEEP_MS, () =>
    db.deleteFrom('rate_limit_windows').where('ends_at', '<', sql<Date>`now()`).execute(),
  );

  return class DatabaseRateLimitStore {
    /** The route the counts are kept for: each route's limit counts on its own. */
    private readonly scope: string;

    // The plugin hands its merged options, the route's among them as `routeInfo` (its typings say
    // the route's options themselves).
    constructor(options: object = {}) {
      const route = (options as { routeInfo?: { method?: string | string[]; url?: string } }).routeInfo;
      this.scope = route?.url ? `${[route.method].flat().join(',')} ${route.url}` : 'global';
    }

    incr(key: string, callback: Callback, timeWindow: number): void {
      sweep();
      const id = `${this.scope} ${key}`;
      // One statement: a window that has ended starts again at 1, else the hit is added.
      sql<{ hits: number; ttl: string }>`
        insert into rate_limit_windows as w (key, started_at, ends_at, hits)
        values (${id}, now(), now() + make_interval(secs => ${timeWindow / 1000}), 1)
        on conflict (key) do update set
          hits = case when w.ends_at <= now() then 1 else w.hits + 1 end,
          started_at = case when w.ends_at <= now() then now() else w.started_at end,
          ends_at = case when w.ends_at <= now() then excluded.ends_at else w.ends_at end
        returning hits, ceil(extract(epoch from (ends_at - now())) * 1000)::text as ttl`
        .execute(db)
        .then(
          ({ rows }) => callback(null, { current: rows[0]!.hits, ttl: Math.max(0, Number(rows[0]!.ttl)) }),
          (error: Error) => callback(error),
        );
    }

    read(key: string, callback: Callback): void {
      sql<{ hits: number; ttl: string }>`
        select hits, ceil(extract(epoch from (ends_at - now())) * 1000)::text as ttl
        from rate_limit_windows where key = ${`${this.scope} ${key}`} and ends_at > now()`
        .execute(db)
        .then(
          ({ rows }) =>
            callback(
              null,
              rows[0] ? { current: rows[0].hits, ttl: Number(rows[0].ttl) } : { current: 0, ttl: 0 },
            ),
          (error: Error) => callback(error),
        );
    }

    child(options: object) {
      return new DatabaseRateLimitStore(options);
    }
  };
}
