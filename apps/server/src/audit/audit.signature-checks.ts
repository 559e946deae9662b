import type { KeyObject } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { verifySignature } from '../platform/keys.ts';

/** Each check costs up to a few hundred microseconds: this many, then other requests get a turn. */
export const CHECKS_PER_TURN = 50;
const LOOKUPS_PER_TURN = 1000;

/**
 * Checks signatures for one verification. The same checkpoint usually appears several times (its
 * row, the node's file, a witness's copy): it is checked once. Every CHECKS_PER_TURN checks it
 * yields, so a long checkpoint list does not hold up the node's other requests.
 */
export class SignatureChecks {
  private readonly known = new Map<string, boolean>();
  /** Signatures actually checked, and turns given back to the event loop, for tests to observe. */
  checked = 0;
  yielded = 0;

  private lookups = 0;

  async verify(keyId: string, key: KeyObject, payload: string, signature: string): Promise<boolean> {
    this.lookups += 1;
    const id = `${keyId}\n${signature}\n${payload}`;
    const seen = this.known.get(id);
    if (seen !== undefined) {
      // Even repeats add up over a long list.
      if (this.lookups % LOOKUPS_PER_TURN === 0) await this.giveTurn();
      return seen;
    }
    if (this.checked > 0 && this.checked % CHECKS_PER_TURN === 0) await this.giveTurn();
    this.checked += 1;
    const valid = verifySignature(key, payload, signature);
    this.known.set(id, valid);
    return valid;
  }

  private async giveTurn() {
    await nextTurn();
    this.yielded += 1;
  }
}
