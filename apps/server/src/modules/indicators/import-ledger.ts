import type { Kysely } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import { type Ctx, systemCtx } from '../../context.ts';
import type { Database } from '../../platform/db/schema.ts';
import { inTransaction } from '../../platform/db/transaction.ts';
import * as repo from './observables.repository.ts';

export interface ImportLedgerDeps {
  db: Kysely<Database>;
  audit: AuditService;
  /**
   * No other process writes to this database (the embedded one: its data directory is opened by
   * one process), so an unfinished import this process is not running was cut short.
   */
  soleWriter: boolean;
  /** On a shared server: how long an import's heartbeat may be silent before it is given up. */
  staleAfterMs: number;
}

/** Rows deleted per transaction of a rollback: short, like an import's parts. */
const ROLLBACK_PART_ROWS = 2000;
/** Abandoned imports claimed per sweep. */
const CLAIMS_PER_SWEEP = 20;

/** The imports this process is writing or rolling back now (one set per process, not per app). */
const live = new Set<string>();

/**
 * Keeps bulk imports all-or-nothing although each is written in several transactions: an import
 * that fails is rolled back here, and one cut short by a crash is found (`recoverAbandoned`, from
 * the scheduler) and rolled back the same way.
 */
export class ImportLedger {
  constructor(private readonly deps: ImportLedgerDeps) {}

  /** Runs an import's writing; while it runs no sweep (of this process) takes it for abandoned. */
  async tracking<T>(importId: string, write: () => Promise<T>): Promise<T> {
    live.add(importId);
    try {
      return await write();
    } finally {
      live.delete(importId);
    }
  }

  /**
   * Rolls back an import that failed mid-way, for `ctx` (the importer). If this fails too, the
   * import stays unfinished and a later sweep completes the rollback.
   */
  async fail(ctx: Ctx, importId: string, caseId: string, reason: string): Promise<number> {
    live.add(importId);
    try {
      if (!(await repo.failImport(this.deps.db, importId))) return 0;
      return await this.rollBack(ctx, importId, caseId, reason);
    } finally {
      live.delete(importId);
    }
  }

  /** Rolls back every import cut short (its process died); how many it rolled back. */
  async recoverAbandoned(): Promise<number> {
    const ctx = systemCtx();
    let recovered = 0;
    for (;;) {
      const claimed = await repo.claimAbandonedImports(this.deps.db, {
        staleAfterMs: this.deps.staleAfterMs,
        anyNotLive: this.deps.soleWriter,
        live: [...live],
        limit: CLAIMS_PER_SWEEP,
      });
      for (const { id, case_id } of claimed) {
        live.add(id);
        try {
          await this.rollBack(ctx, id, case_id, 'abandoned');
        } finally {
          live.delete(id);
        }
        recovered++;
      }
      if (claimed.length < CLAIMS_PER_SWEEP) return recovered;
    }
  }

  /**
   * Deletes a claimed (failed) import's rows in parts, each under the case's lock and audited as
   * `observable.import.rollback`; the last part also carries the `total` removed and finishes it.
   */
  private async rollBack(ctx: Ctx, importId: string, caseId: string, reason: string) {
    let removed = 0;
    for (let part = 1; ; part++) {
      const done = await inTransaction(this.deps.db, async (trx) => {
        await repo.lockCaseRow(trx, caseId);
        const deleted = await repo.deleteImportRows(trx, importId, ROLLBACK_PART_ROWS);
        removed += deleted;
        const last = deleted < ROLLBACK_PART_ROWS;
        if (last) await repo.finishRollback(trx, importId);
        await this.deps.audit.record(trx, ctx, {
          action: 'observable.import.rollback',
          objectType: 'case',
          objectId: caseId,
          summary: { importId, part, removed: deleted, reason, ...(last ? { total: removed } : {}) },
        });
        return last;
      });
      if (done) return removed;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
