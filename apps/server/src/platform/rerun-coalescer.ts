/**
 * Wraps work that catches up with everything committed before it starts (sealing the audit log,
 * numbering events). A call while it runs cannot join that run, which may have looked already, so
 * it waits for one more run after it; every call made meanwhile shares that one. So a process runs
 * it at most once at a time with one more queued, however many callers: under load, one run
 * serves many of them instead of each waiting its turn with a database connection in hand.
 */
export function coalesceReruns<T>(work: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  let queued: Promise<T> | null = null;
  const start = (): Promise<T> => {
    running = work().finally(() => {
      running = null;
    });
    return running;
  };
  return () => {
    if (!running) return start();
    queued ??= running
      .catch(() => {})
      .then(() => {
        queued = null;
        return running ?? start();
      });
    return queued;
  };
}

/**
 * `run` (a coalesced catch-up) started `delayMs` after the first request of a quiet spell: every
 * request in that window shares one run. For work whose callers have already been answered (placing
 * the events of adds written together in the audit chain, numbering their live events): under a
 * stream of such commits one run serves several of them. Under a steady stream, runs start at
 * least `everyMs` apart: each costs its round trips whatever it finds, so under load fewer, fuller
 * runs leave more of the machine to the writes themselves.
 */
export class SoonRunner {
  private scheduled: Promise<void> | null = null;
  private running: Promise<void> | null = null;
  private lastStart = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly run: () => Promise<unknown>,
    private readonly delayMs: number,
    private readonly everyMs = delayMs,
    private readonly now: () => number = () => performance.now(),
  ) {}

  request(): Promise<void> {
    this.scheduled ??= new Promise<void>((resolve) => {
      const start = (): void => {
        // A timer counts from the event loop's cached time, which can lag the clock by however
        // long the current tick has run: it may fire that much early, so the interval is checked
        // again when it does.
        const early = this.lastStart + this.everyMs - this.now();
        if (early > 0) {
          setTimeout(start, early);
          return;
        }
        this.lastStart = this.now();
        const running = this.run().then(
          () => {},
          () => {},
        );
        this.scheduled = null;
        this.running = running;
        void running.then(() => {
          if (this.running === running) this.running = null;
          resolve();
        });
      };
      setTimeout(start, Math.max(this.delayMs, this.lastStart + this.everyMs - this.now()));
    });
    return this.scheduled;
  }

  /** Resolves when every run requested so far is done: a reader that must see its results waits. */
  async done(): Promise<void> {
    await Promise.all([this.scheduled, this.running]);
  }
}
