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

  constructor(private readonly database: DatabaseHandle) {}

  private ensureListening() {
    this.listening ??= this.database.listen(EVENTS_CHANNEL, () => this.wakeAll()).catch(() => null); // without LISTEN the streams still poll
  }

  wakeAll() {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves true when woken, false after `timeoutMs` or when `signal` aborts. */
  async wait(timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    this.ensureListening();
    await this.listening;
    if (signal.aborted) return false;
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
