import type { DatabaseHandle } from '../../platform/db/database.ts';
import { EVENTS_CHANNEL } from './notifications.repository.ts';

/**
 * Tells this process's live streams that something new was committed, by any process: one LISTEN
 * per process, started with the first stream. Streams re-read the table themselves (through the
 * access policy), so a lost signal costs latency, never an event.
 */
export class EventBus {
  private waiters = new Set<() => void>();
  private listening: Promise<(() => Promise<void>) | null> | null = null;
  /** Counts wake-ups, so a stream can tell whether one came while it was reading. */
  private generation = 0;

  constructor(private readonly database: DatabaseHandle) {}

  /**
   * Call before reading: starts listening (once per process) and returns the current generation,
   * to pass to `wait` after the read. A signal that arrives during the read is then not missed.
   */
  async mark(): Promise<number> {
    this.listening ??= this.database
      .listen(
        EVENTS_CHANNEL,
        () => this.wakeAll(),
        () => this.relisten(),
      )
      .catch(() => {
        // Without LISTEN the streams still poll; the next mark tries again.
        this.listening = null;
        return null;
      });
    await this.listening;
    return this.generation;
  }

  /** The listening connection was lost: listen anew on the next mark, and let streams re-read. */
  private relisten() {
    this.listening = null;
    this.wakeAll();
  }

  wakeAll() {
    this.generation += 1;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * Resolves true at once if woken since `generation`, else when woken; false after `timeoutMs`
   * or when `signal` aborts.
   */
  async wait(generation: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return false;
    if (this.generation !== generation) return true;
    return new Promise<boolean>((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiters.delete(onWake);
        resolve(woken);
      };
      const onWake = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.waiters.add(onWake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async close() {
    this.wakeAll();
    const stop = await this.listening;
    this.listening = null;
    if (stop) await stop();
  }
}
