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
 * `run` (a coalesced catch-up) started at most `delayMs` after the first call of a quiet spell:
 * every call in that window shares one run. For work whose caller has already been answered
 * (placing the events of adds written together in the audit chain, numbering their live
 * events): under a stream of such commits one run serves several of them.
 */
export function coalesceSoon(run: () => Promise<unknown>, delayMs: number): () => Promise<void> {
  let due: Promise<void> | null = null;
  return () => {
    due ??= new Promise<void>((resolve) => {
      setTimeout(() => {
        due = null;
        run().then(
          () => resolve(),
          () => resolve(),
        );
      }, delayMs);
    });
    return due;
  };
}
