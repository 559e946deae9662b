/**
 * Housekeeping that many calls may ask for (deleting rows that no longer count): `work` starts at
 * most once per `everyMs` in this process, however often the returned function is called. It is
 * never waited on, and a failure is ignored: the next call after the interval tries again.
 */
export function atMostEvery(everyMs: number, work: () => Promise<unknown>): () => void {
  let next = 0;
  return () => {
    const now = Date.now();
    if (now < next) return;
    next = now + everyMs;
    work().catch(() => {});
  };
}
