import type { Actor } from '../../context.ts';
import type { DatabaseHandle } from '../../platform/db/database.ts';
import { setNewest } from '../../platform/newest-first-map.ts';
import { CREDENTIALS_CHANNEL } from './identity.repository.ts';

/** How long an authenticated token is trusted without reading it again: a backstop, not the rule. */
const TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  actor: Actor;
  /** The account must enrol a second factor before its tokens may do anything (VYTIS_REQUIRE_MFA). */
  mfaEnrolmentRequired: boolean;
  tokenId: string;
  expiresAt: Date;
  lastUsedAt: Date | null;
  cachedAt: number;
}

/**
 * API tokens recently found valid, so a busy client's requests skip the token query. Any change to
 * a token or a user (revoke, disable, roles, end sessions, second factor on or off) empties it: at once in the process that
 * made the change, and in every other process on the same PostgreSQL through NOTIFY, sent at
 * commit. A read that began before a change is never stored after it (the generation check), and
 * while the NOTIFY connection is down nothing is cached at all.
 */
export class TokenCache {
  private entries = new Map<string, Entry>();
  private generation = 0;
  /** Only a single process may cache without hearing from the others. */
  private hearing: boolean;
  private stopListening: (() => Promise<void>) | null = null;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly now: () => number = Date.now,
  ) {
    this.hearing = database.kind === 'pglite';
  }

  /** Starts hearing other processes' changes (PostgreSQL); call once at start. */
  async listen(): Promise<void> {
    if (this.database.kind === 'pglite' || this.stopListening) return;
    try {
      this.stopListening = await this.database.listen(
        CREDENTIALS_CHANNEL,
        () => this.invalidate(),
        () => {
          // Changes made while deaf would go unheard: cache nothing until listening again.
          this.hearing = false;
          this.stopListening = null;
          this.invalidate();
          void this.listen();
        },
      );
      this.invalidate();
      this.hearing = true;
    } catch {
      this.hearing = false;
    }
  }

  async close(): Promise<void> {
    const stop = this.stopListening;
    this.stopListening = null;
    this.hearing = false;
    await stop?.();
  }

  /** Call before reading the token from the database; pass the result to `remember`. */
  mark(): number {
    return this.generation;
  }

  get(tokenHash: string): Entry | undefined {
    const entry = this.entries.get(tokenHash);
    if (!entry) return undefined;
    if (!this.hearing || this.now() - entry.cachedAt >= TTL_MS) {
      this.entries.delete(tokenHash);
      return undefined;
    }
    return entry;
  }

  remember(generation: number, tokenHash: string, entry: Omit<Entry, 'cachedAt'>): void {
    if (!this.hearing || generation !== this.generation) return;
    setNewest(this.entries, tokenHash, { ...entry, cachedAt: this.now() }, MAX_ENTRIES);
  }

  invalidate(): void {
    this.generation += 1;
    this.entries.clear();
  }
}
