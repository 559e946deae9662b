import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../../clock.ts';
import { type Ctx, systemCtx } from '../../context.ts';
import type { Database, DeadlinesTable } from '../../platform/db/schema.ts';
import { inTransaction, type Tx } from '../../platform/db/transaction.ts';
import type { CouncilService } from '../council/council.service.ts';
import type { RequestJournal } from '../requests/journal.ts';
import * as repo from '../requests/requests.repository.ts';
import type { RequestRow } from '../requests/requests.service.ts';

export interface SchedulerDeps {
  db: Kysely<Database>;
  clock: Clock;
  council: CouncilService;
  journal: RequestJournal;
  /** Bulk imports cut short by a crash: rolled back on each tick. */
  imports?: { recoverAbandoned(): Promise<number> };
  onError?: (error: unknown) => void;
}

export interface TickResult {
  warned: number;
  escalated: number;
  decided: number;
}

/** Enough to drain a backlog after downtime without holding one tick forever. */
const MAX_PER_TICK = 500;

/**
 * Fires the clocks. State lives only in the deadlines table, so a restart loses nothing and
 * catches up on what fell due while the node was down; each firing claims its row in the
 * transaction that writes the warning or escalation, so several processes never fire one twice.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<TickResult> | null = null;
  private readonly ctx: Ctx = systemCtx();

  constructor(private readonly deps: SchedulerDeps) {}

  start(intervalMs: number) {
    this.timer ??= setInterval(() => {
      this.tick().catch((error) => this.deps.onError?.(error));
    }, intervalMs);
    this.timer.unref();
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => {});
  }

  /** One pass over what is due now; ticks never overlap within a process. */
  tick(): Promise<TickResult> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<TickResult> {
    const result: TickResult = { warned: 0, escalated: 0, decided: 0 };
    for (const step of ['warn', 'escalate'] as const) {
      const now = this.deps.clock.now();
      // Only this node's own clocks: a copy's run, and its council decides, on its origin's node.
      for (const due of await repo.dueOwnClocks(this.deps.db, step, now, MAX_PER_TICK)) {
        const outcome = await inTransaction(this.deps.db, async (trx) => {
          const request = await repo.lock(trx, due.request_id);
          if (request.mirrored_from !== null) return null;
          if (step === 'escalate' && due.kind === 'decision' && request.status === 'voting') {
            // The decision clock does not run out: at its end the council decides with the votes
            // cast, which meets the clock. The request's lock makes this happen once.
            await this.deps.council.decide(trx, this.ctx, request, true, due.due_at);
            return 'decided' as const;
          }
          const clock = await repo.fireClock(trx, due.id, step, now);
          if (!clock) return null; // fired by another process meanwhile
          return step === 'warn' ? this.warn(trx, request, clock) : this.escalate(trx, request, clock);
        });
        if (outcome) result[outcome] += 1;
      }
    }
    // After the clocks, which are due at a time; an abandoned import only waits to be removed.
    await this.deps.imports?.recoverAbandoned();
    return result;
  }

  private async warn(trx: Tx, request: RequestRow, clock: Selectable<DeadlinesTable>) {
    await this.deps.journal.record(trx, this.ctx, request, {
      kind: 'deadline.warning',
      detail: { deadline: clock.kind, dueAt: clock.due_at.toISOString() },
    });
    return 'warned' as const;
  }

  private async escalate(trx: Tx, request: RequestRow, clock: Selectable<DeadlinesTable>) {
    await this.deps.journal.record(trx, this.ctx, request, {
      kind: 'deadline.overdue',
      detail: { deadline: clock.kind, dueAt: clock.due_at.toISOString() },
    });
    return 'escalated' as const;
  }
}
