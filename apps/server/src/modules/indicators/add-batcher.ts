import { setNewest } from '../../platform/newest-first-map.ts';

/** One item's own outcome in a batch. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitOptions<T, R> {
  /**
   * Writes a batch of one group in one transaction and says how each item came out. Throwing
   * (the transaction failed as a whole) sends every item of the batch through `writeOne`. It calls
   * `committed` with the outcomes once its transaction has committed: the items are answered then,
   * and the next batch may start, while what follows a commit (the audit chain, the live events)
   * goes on; the batch is over when it returns.
   */
  writeBatch(
    group: string,
    items: readonly T[],
    committed: (outcomes: Settled<R>[]) => void,
  ): Promise<Settled<R>[]>;
  /** The one-item path, for the items of a batch that failed as a whole. */
  writeOne(group: string, item: T): Promise<R>;
  /** Items with the same key never share a batch: a later one waits for the next. */
  keyOf(item: T): string;
  /** The most items one batch takes. */
  maxBatch: number;
  /**
   * How long a busy group's next batch waits for more items before it starts (ms): a batch costs
   * its statements whatever it holds, so under steady load fuller batches cost less per item.
   * A group that was idle, or whose items come one after another, starts at once.
   */
  fillMs?: number;
}

/** How long a group counts as busy after a batch of several items. */
const BUSY_FOR_MS = 1000;
/** Busy groups remembered at most. */
const MAX_BUSY_GROUPS = 10_000;

interface Waiting<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit, as databases do it: items of one group (a caller's adds to one case) submitted while a batch of that
 * group is being written are written together by the next batch, in one transaction. A lone item
 * starts its batch at once, so an idle node adds no latency; under load, one transaction serves
 * many items instead of each waiting its turn for the same locks and commit, and the batches after
 * the first wait `fillMs` to fill (unless full already).
 * One batch per group at a time in this process; different groups go on side by side.
 */
export class GroupCommit<T, R> {
  private readonly queues = new Map<string, Waiting<T, R>[]>();
  /** Groups that wrote a batch of several items lately, until when (ms): their batches wait to fill. */
  private readonly busyUntil = new Map<string, number>();
  /** Batches written, items in them, and batches that failed as a whole and went one by one. */
  readonly stats = { batches: 0, items: 0, largest: 0, fallbacks: 0 };
  /** Batches whose work is not over, answered or not (what follows their commit runs on). */
  private readonly writing = new Set<Promise<void>>();

  constructor(private readonly options: GroupCommitOptions<T, R>) {}

  submit(group: string, item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queue = this.queues.get(group);
      if (queue) {
        queue.push({ item, resolve, reject });
        return;
      }
      // No batch of this group is in flight: this item starts one now.
      this.queues.set(group, [{ item, resolve, reject }]);
      void this.run(group);
    });
  }

  private async run(group: string): Promise<void> {
    const queue = this.queues.get(group)!;
    try {
      for (;;) {
        // At least one turn of the event loop: requests already received and being read join
        // the batch. The embedded database answers in promise callbacks only, so a batch on it
        // keeps the event loop to itself until it is done: without this turn, the requests read
        // meanwhile would each find no batch in flight and start their own, one by one.
        // A busy group (a batch of several items in the last second: they come concurrently) waits
        // a moment longer for its batch to fill, unless it is full already. Items sent one after
        // another come in batches of one and never wait.
        const fill =
          this.isBusy(group) && queue.length < this.options.maxBatch ? (this.options.fillMs ?? 0) : 0;
        await new Promise((resolve) => (fill > 0 ? setTimeout(resolve, fill) : setImmediate(resolve)));
        if (queue.length === 0) {
          this.queues.delete(group);
          return;
        }
        const batch = this.take(queue);
        if (batch.length > 1) setNewest(this.busyUntil, group, Date.now() + BUSY_FOR_MS, MAX_BUSY_GROUPS);
        // The next batch starts once this one has committed (or failed and gone one by one).
        await new Promise<void>((next) => {
          void this.write(group, batch, next);
        });
      }
    } catch (error) {
      // Only a bug here gets here: no one may be left waiting for an answer.
      this.queues.delete(group);
      for (const waiting of queue.splice(0)) waiting.reject(error);
    }
  }

  private isBusy(group: string): boolean {
    const until = this.busyUntil.get(group);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.busyUntil.delete(group);
    return false;
  }

  /** The next batch from the queue: the oldest items, each key once, at most maxBatch. */
  private take(queue: Waiting<T, R>[]): Waiting<T, R>[] {
    const batch: Waiting<T, R>[] = [];
    const keys = new Set<string>();
    let kept = 0;
    for (const waiting of queue) {
      const key = this.options.keyOf(waiting.item);
      if (batch.length < this.options.maxBatch && !keys.has(key)) {
        keys.add(key);
        batch.push(waiting);
      } else {
        queue[kept++] = waiting;
      }
    }
    queue.length = kept;
    return batch;
  }

  private async write(group: string, batch: Waiting<T, R>[], next: () => void): Promise<void> {
    let answered = false;
    const answer = (outcomes: Settled<R>[]) => {
      if (answered) return;
      answered = true;
      batch.forEach((waiting, i) => {
        const outcome = outcomes[i];
        if (outcome?.ok) waiting.resolve(outcome.value);
        else
          waiting.reject(outcome ? outcome.error : new Error('a batched write gave no outcome for an item'));
      });
      next();
    };
    const items = batch.map((waiting) => waiting.item);
    const written = (outcomes: Settled<R>[]) => {
      if (answered) return;
      this.stats.batches++;
      this.stats.items += items.length;
      this.stats.largest = Math.max(this.stats.largest, items.length);
      answer(outcomes);
    };
    const work = (async () => {
      try {
        written(await this.options.writeBatch(group, items, written));
      } catch {
        // Answered at its commit: what failed came after it, and nothing may be written twice.
        if (answered) return;
        // Something no single item answers for (a deadlock, a serialization failure, a bug): each
        // item goes its own way, and gets the answer it would have had alone.
        this.stats.fallbacks++;
        answer(
          await Promise.all(
            items.map((item) =>
              this.options.writeOne(group, item).then(
                (value): Settled<R> => ({ ok: true, value }),
                (error: unknown): Settled<R> => ({ ok: false, error }),
              ),
            ),
          ),
        );
      }
    })();
    this.writing.add(work);
    await work.finally(() => this.writing.delete(work));
  }

  /** Resolves once every batch under way, answered or not, has done all its work. */
  async settled(): Promise<void> {
    while (this.writing.size > 0) await Promise.allSettled([...this.writing]);
  }
}
