import type { Notification } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { CaseViewer } from '../../access/policy.ts';
import type { Ctx } from '../../context.ts';
import type { Database } from '../../platform/db/schema.ts';
import type { RequestsService } from '../requests/requests.service.ts';
import type { EventBus } from './event-bus.ts';
import * as repo from './notifications.repository.ts';

export interface EventsDeps {
  db: Kysely<Database>;
  requests: RequestsService;
  caseViewer: (ctx: Ctx) => Promise<CaseViewer>;
  bus: EventBus;
  /** Resolves once the events this process answered before numbering are numbered. */
  numbered: () => Promise<void>;
}

/** The live event feed: the events table read through the access policy, woken by the bus. */
export class EventsService {
  constructor(private readonly deps: EventsDeps) {}

  latestSeq() {
    return repo.latestSeq(this.deps.db);
  }

  /** Events after `afterSeq` the viewer may see now (visibility is re-read on every call). */
  async since(ctx: Ctx, afterSeq: number, limit: number): Promise<Notification[]> {
    // A caller who has just been answered an add on this process finds its event (others' within ~10 ms).
    await this.deps.numbered();
    const [viewer, caseViewer] = await Promise.all([
      this.deps.requests.viewer(ctx),
      this.deps.caseViewer(ctx),
    ]);
    const rows = await repo.visibleSince(this.deps.db, viewer, caseViewer, afterSeq, limit);
    return rows.map((row) => ({
      seq: row.seq,
      at: row.at.toISOString(),
      type: row.type,
      requestId: row.request_id,
      caseId: row.case_id,
      exercise: row.exercise,
      data: row.data as Record<string, unknown>,
    }));
  }

  /** Take before reading; pass to `waitForNews` after, so news during the read is not missed. */
  mark() {
    return this.deps.bus.mark();
  }

  waitForNews(mark: number, timeoutMs: number, signal: AbortSignal) {
    return this.deps.bus.wait(mark, timeoutMs, signal);
  }

  close() {
    return this.deps.bus.close();
  }
}
