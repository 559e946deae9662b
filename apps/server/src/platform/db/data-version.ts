import { type Kysely, sql } from 'kysely';
import { coalesceReruns } from '../rerun-coalescer.ts';
import type { Database } from './schema.ts';

/**
 * What the database holds, as one value: PostgreSQL's snapshot of committed transactions
 * (`xmin:xmax:in-progress`). Two equal values see exactly the same committed data, on every
 * table; any transaction that writes anything, from any process, changes it. It is the server's,
 * not the database's: a write to another database on the same server moves it too (work done
 * again for nothing, never an answer out of date).
 *
 * The answer a caller gets comes from a query sent after it asked (concurrent callers share one;
 * one arriving while a query is out waits for the next), so it covers every commit the caller could
 * have seen acknowledged: a write answered by another process is never older than the value.
 */
export function dataVersionProbe(db: Kysely<Database>): () => Promise<string> {
  return coalesceReruns(async () => {
    const { rows } = await sql<{ version: string }>`select pg_current_snapshot()::text as version`.execute(
      db,
    );
    return rows[0]!.version;
  });
}
