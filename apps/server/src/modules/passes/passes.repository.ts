import type { Executor } from '../../platform/db/transaction.ts';

/**
 * What the published list was built from: how many revocations there are and the latest one's
 * time. Revocations are only ever added, so a new one changes this (the count, if not the time).
 */
export async function revocationStamp(db: Executor) {
  const row = await db
    .selectFrom('pass_revocations')
    .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.max('revoked_at').as('latest')])
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), latest: row.latest === null ? null : new Date(row.latest) };
}

/**
 * The revocations of passes still worth naming: those whose deployment window (the pass's `exp`)
 * ends after `endsAfter`. Oldest revocation first, with the window's end.
 */
export async function liveRevocations(db: Executor, endsAfter: Date) {
  return db
    .selectFrom('pass_revocations as v')
    .innerJoin('deployments as d', 'd.id', 'v.deployment_id')
    .select(['v.pass_id', 'v.revoked_at', 'd.window_to'])
    .where('d.window_to', '>', endsAfter)
    .orderBy('v.revoked_at')
    .orderBy('v.pass_id')
    .execute();
}

/** Whether this node has revoked the pass with this id. */
export async function isRevoked(db: Executor, passId: string) {
  const row = await db
    .selectFrom('pass_revocations')
    .select('pass_id')
    .where('pass_id', '=', passId)
    .executeTakeFirst();
  return row !== undefined;
}
