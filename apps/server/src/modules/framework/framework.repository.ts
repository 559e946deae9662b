import type { Executor } from '../../platform/db/transaction.ts';

export async function inForce(db: Executor, at: Date) {
  return db
    .selectFrom('frameworks')
    .selectAll()
    .where('effective_from', '<=', at)
    .orderBy('effective_from', 'desc')
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export async function latest(db: Executor) {
  return db.selectFrom('frameworks').selectAll().orderBy('version', 'desc').limit(1).executeTakeFirst();
}

export async function listVersions(db: Executor) {
  return db.selectFrom('frameworks').selectAll().orderBy('version', 'desc').execute();
}

export async function insertVersion(
  db: Executor,
  row: {
    version: number;
    effective_from: Date;
    rules: string;
    note: string | null;
    created_at: Date;
    created_by: string;
  },
) {
  return db.insertInto('frameworks').values(row).returningAll().executeTakeFirstOrThrow();
}
