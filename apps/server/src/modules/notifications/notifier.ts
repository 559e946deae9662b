import type { Kysely, RawBuilder } from 'kysely';
import type { Clock } from '../../clock.ts';
import { LOCKS, lockForTransaction } from '../../platform/db/locks.ts';
import type { Database } from '../../platform/db/schema.ts';
import { afterCommit, inTransaction, type Tx } from '../../platform/db/transaction.ts';
import { coalesceReruns, SoonRunner } from '../../platform/rerun-coalescer.ts';
import * as repo from './notifications.repository.ts';

export interface NotificationInput {
  type: string;
  requestId: string;
  /** Happened while the request was a draft: for its own party (and admins) only, for good. */
  partyOnly: boolean;
  data: Record<string, unknown>;
}

export interface CaseEventInput {
  type: string;
  caseId: string;
  /** The item's own label; null for what concerns the case as a whole. */
  tlp: string | null;
  /** With the label, the item's audience: who created it and the party it came from. */
  item?: { createdById: string | null; originParty: string } | undefined;
  data: Record<string, unknown>;
}

/** Events numbered per sequencing transaction. */
const SEQUENCE_BATCH = 1000;
/** How long events whose writes were answered at commit wait to be numbered with others. */
const SEQUENCE_SOON_MS = 10;
/** Under a stream of such commits, numbering runs at most this often in a process. */
const SEQUENCE_EVERY_MS = 50;

/**
 * Publishes what happened, inside the transaction that made it happen: a rolled-back change
 * publishes nothing. The event waits there unnumbered, so publishers take no shared lock; right
 * after the commit a sequencer numbers every committed pending event in one short transaction,
 * writes the webhook outbox rows of request events, and wakes the streams of every process (a
 * NOTIFY, delivered at its commit). Streams resume after the last number they sent, so numbers are
 * given in commit order: one sequencer at a time, and a number given is never overtaken.
 */
export class Notifier {
  constructor(private readonly deps: { db: Kysely<Database>; clock: Clock }) {}

  async publish(trx: Tx, input: NotificationInput): Promise<void> {
    await repo.insertPending(trx, [
      {
        at: this.deps.clock.now(),
        type: input.type,
        request_id: input.requestId,
        party_only: input.partyOnly,
        data: JSON.stringify(input.data),
      },
    ]);
    this.sequenceAfterCommit(trx);
  }

  /**
   * What happened in a case, for the live streams of those who see the case (and, for an item,
   * its label `tlp`). Webhooks carry requests only.
   */
  async publishCaseEvent(trx: Tx, input: CaseEventInput): Promise<void> {
    await this.publishCaseEvents(trx, [input]);
  }

  /** `publishCaseEvent` for several events, in one statement. */
  async publishCaseEvents(trx: Tx, inputs: readonly CaseEventInput[]): Promise<void> {
    if (inputs.length === 0) return;
    const at = this.deps.clock.now();
    await repo.insertPending(
      trx,
      inputs.map((input) => caseEventRow(at, input)),
    );
    this.sequenceAfterCommit(trx);
  }

  /**
   * `publishCaseEvents` as a part of the caller's statement, for its WITH clause: an event is
   * published only if its `key` is among those `kept` selects (text) there, so a write and its
   * events go in one round trip. Its writes are answered at commit, so once the statement has run
   * the caller asks for the events' numbers soon after it with `numberSoonAfterCommit` (after what
   * must come first once it commits), together with those of other such commits.
   */
  publishCaseEventsWithin(
    inputs: readonly (CaseEventInput & { key: string })[],
    kept: RawBuilder<unknown>,
  ): RawBuilder<unknown> {
    const at = this.deps.clock.now();
    return repo.insertPendingWithin(
      inputs.map((input) => ({ ...caseEventRow(at, input), key: input.key })),
      kept,
    );
  }

  /** The events published within `trx` by `publishCaseEventsWithin` are numbered soon after its commit. */
  numberSoonAfterCommit(trx: Tx): void {
    afterCommit(trx, 'notifications.sequence.soon', async () => void this.sequenceSoon.request());
  }

  private readonly sequenceCoalesced = coalesceReruns(() => this.sequenceAll());
  private readonly sequenceSoon = new SoonRunner(() => this.sequence(), SEQUENCE_SOON_MS, SEQUENCE_EVERY_MS);

  /** Resolves once the events this process has left to be numbered soon are numbered. */
  numberedSoon(): Promise<void> {
    return this.sequenceSoon.done();
  }

  /** Numbers every committed pending event; returns how many. */
  sequence(): Promise<number> {
    return this.sequenceCoalesced();
  }

  private async sequenceAll(): Promise<number> {
    let numbered = 0;
    for (;;) {
      const count = await inTransaction(this.deps.db, async (trx) => {
        await lockForTransaction(trx, LOCKS.notifications);
        const events = await repo.numberPending(trx, SEQUENCE_BATCH);
        if (events.length === 0) return 0;
        for (const event of events) {
          if (event.request_id) await repo.queueDeliveries(trx, event.seq, event.request_id, event.at);
        }
        return events.length;
      });
      numbered += count;
      if (count < SEQUENCE_BATCH) return numbered;
    }
  }

  private sequenceAfterCommit(trx: Tx) {
    // The change is made whatever happens here; what a failed sequencing leaves pending is
    // numbered by the next one (the next publisher's, or the scheduler's).
    afterCommit(trx, 'notifications.sequence', () =>
      this.sequence().then(
        () => {},
        () => {},
      ),
    );
  }
}

function caseEventRow(at: Date, input: CaseEventInput): repo.PendingEvent {
  return {
    at,
    type: input.type,
    request_id: null,
    case_id: input.caseId,
    tlp: input.tlp,
    item_created_by_id: input.item?.createdById ?? null,
    item_origin_party: input.item?.originParty ?? null,
    party_only: false,
    data: JSON.stringify(input.data),
  };
}
