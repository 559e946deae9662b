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
