import { AppError } from '../../errors.ts';

const WINDOW_MS = 60_000;
/** Addresses tracked at most; the oldest is forgotten first (a flood of addresses cannot grow memory). */
const MAX_ADDRESSES = 100_000;

/**
 * Failed logins per client address in a sliding minute. Only failures count: people who log in
 * (several colleagues behind one NAT, a browser test logging many people in) are never held back,
 * while guessing is. A success does not clear earlier failures — else a guesser with one account of
 * their own could reset the count between guesses at another.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  /** Attempts under way per address: each holds a place, so a burst cannot pass the check at once. */
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly maxPerMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Refuses (429) an address that failed `maxPerMinute` times in the last minute, counting its
   * attempts under way as failures until they end; else holds a place for this attempt, which
   * `end` gives back.
   */
  begin(address: string) {
    const recent = this.recent(address);
    const pending = this.inFlight.get(address) ?? 0;
    if (recent.length + pending >= this.maxPerMinute) {
      const waitMs = recent.length > 0 ? recent[0]! + WINDOW_MS - this.now() : 1000;
      throw new AppError(
        'rate_limited',
        `too many failed logins from your address; try again in ${Math.max(1, Math.ceil(waitMs / 1000))} s`,
      );
    }
    this.inFlight.set(address, pending + 1);
  }

  /** The attempt ended: a failed one (a wrong name, password or code) counts for a minute. */
  end(address: string, failed: boolean) {
    const pending = (this.inFlight.get(address) ?? 1) - 1;
    if (pending > 0) this.inFlight.set(address, pending);
    else this.inFlight.delete(address);
    if (failed) this.fail(address);
  }

  private fail(address: string) {
    const recent = this.recent(address);
    recent.push(this.now());
    this.failures.delete(address);
    this.failures.set(address, recent);
    if (this.failures.size > MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
  }

  private recent(address: string): number[] {
    const since = this.now() - WINDOW_MS;
    const kept = (this.failures.get(address) ?? []).filter((at) => at > since);
    if (kept.length === 0) this.failures.delete(address);
    return kept;
  }
}
