import type { Clock } from '../../clock.ts';
import { LOCKS, lockForTransaction } from '../../platform/db/locks.ts';
import type { Tx } from '../../platform/db/transaction.ts';
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

/**
 * Publishes what happened to a request, inside the transaction that made it happen: the event row
 * (read by the live streams), the webhook outbox rows, and a NOTIFY that wakes the streams of
 * every process at commit. A rolled-back change publishes nothing.
 */
export class Notifier {
  constructor(private readonly clock: Clock) {}

  async publish(trx: Tx, input: NotificationInput): Promise<number> {
    // Streams resume after the last sequence number they sent, so numbers must be committed in
    // order: publishers take turns until commit, and a number taken is never overtaken.
    await lockForTransaction(trx, LOCKS.notifications);
    const at = this.clock.now();
    const seq = await repo.insertNotification(trx, {
      at,
      type: input.type,
      request_id: input.requestId,
      party_only: input.partyOnly,
      data: JSON.stringify(input.data),
    });
    await repo.queueDeliveries(trx, seq, input.requestId, at);
    await repo.signalCommitted(trx, seq);
    return seq;
  }

  /**
   * What happened in a case, for the live streams of those who see the case (and, for an item,
   * its label `tlp`). Webhooks carry requests only.
   */
  async publishCaseEvent(trx: Tx, input: CaseEventInput): Promise<number> {
    await lockForTransaction(trx, LOCKS.notifications);
    const seq = await repo.insertNotification(trx, {
      at: this.clock.now(),
      type: input.type,
      request_id: null,
      case_id: input.caseId,
      tlp: input.tlp,
      item_created_by_id: input.item?.createdById ?? null,
      item_origin_party: input.item?.originParty ?? null,
      party_only: false,
      data: JSON.stringify(input.data),
    });
    await repo.signalCommitted(trx, seq);
    return seq;
  }
}
