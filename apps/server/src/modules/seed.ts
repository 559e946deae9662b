import type { Kysely } from 'kysely';
import type { AuditService } from '../audit/audit.service.ts';
import type { Clock } from '../clock.ts';
import { type Ctx, systemCtx } from '../context.ts';
import { LOCKS, lockForTransaction } from '../platform/db/locks.ts';
import type { Database } from '../platform/db/schema.ts';
import { inTransaction } from '../platform/db/transaction.ts';
import { DEFAULT_FRAMEWORK_EFFECTIVE_FROM, DEFAULT_FRAMEWORK_RULES } from './framework/framework.defaults.ts';
import * as frameworks from './framework/framework.repository.ts';
import * as parties from './parties/parties.repository.ts';
import { SEED_EFFECTIVE_FROM, SEED_PARTIES } from './parties/parties.seed.ts';

/**
 * First start: the seeds' parties and framework version 1, in one audited transaction. A node
 * that already has parties is left alone, so restarts and a second process change nothing.
 */
export async function seedIfEmpty(
  deps: { db: Kysely<Database>; clock: Clock; audit: AuditService },
  ctx: Ctx = systemCtx(),
) {
  return inTransaction(deps.db, async (trx) => {
    // Two processes starting together on one PostgreSQL seed once.
    await lockForTransaction(trx, LOCKS.seed);
    if ((await parties.countParties(trx)) > 0) return false;
    const now = deps.clock.now();
    for (const p of SEED_PARTIES) {
      await parties.insertParty(trx, { code: p.code, name: p.name, kind: p.kind, created_at: now });
      await parties.insertStatus(trx, {
        party_code: p.code,
        status: p.status,
        effective_from: SEED_EFFECTIVE_FROM,
        note: 'seed membership',
        recorded_at: now,
        recorded_by: ctx.actor.name,
      });
    }
    await frameworks.insertVersion(trx, {
      version: 1,
      effective_from: new Date(DEFAULT_FRAMEWORK_EFFECTIVE_FROM),
      rules: JSON.stringify(DEFAULT_FRAMEWORK_RULES),
      note: 'initial version loaded on first start',
      created_at: now,
      created_by: ctx.actor.name,
    });
    await deps.audit.record(trx, ctx, {
      action: 'node.seed',
      objectType: 'node',
      summary: { parties: SEED_PARTIES.length, frameworkVersion: 1 },
    });
    return true;
  });
}
