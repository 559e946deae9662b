import type { RequestStatus } from '@vytis/contracts';
import type { Selectable } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import type { RequestsTable } from '../../platform/db/schema.ts';
import type { Tx } from '../../platform/db/transaction.ts';
import type { Notifier } from '../notifications/notifier.ts';
import * as repo from './requests.repository.ts';

export interface Happening {
  /** Timeline kind and event type, e.g. `submitted`, `vote`, `deadline.warning`. */
  kind: string;
  from?: RequestStatus | null;
  to?: RequestStatus | null;
  detail?: Record<string, unknown>;
}

/**
 * Whatever happens to a request is written three ways in the same transaction: on its timeline,
 * in the audit log, and as an event for live streams and webhooks. One place, so none is forgotten.
 */
export class RequestJournal {
  constructor(private readonly deps: { clock: Clock; audit: AuditService; notifier: Notifier }) {}

  async record(trx: Tx, ctx: Ctx, request: Selectable<RequestsTable>, happening: Happening) {
    const detail = happening.detail ?? {};
    const at = this.deps.clock.now();
    // Whatever happens before submission is the requesting party's own business, for good.
    const partyOnly = request.submitted_at === null;
    await repo.insertTimeline(trx, {
      request_id: request.id,
      at,
      kind: happening.kind,
      actor: ctx.actor.name,
      party: ctx.actor.party,
      from_status: happening.from ?? null,
      to_status: happening.to ?? null,
      party_only: partyOnly,
      detail: JSON.stringify(detail),
    });
    const statusChange = happening.from !== undefined ? { from: happening.from, to: happening.to } : {};
    await this.deps.audit.record(trx, ctx, {
      action: `request.${happening.kind}`,
      objectType: 'request',
      objectId: request.id,
      summary: { ...statusChange, ...detail, party: request.party_code, exercise: request.exercise },
    });
    await this.deps.notifier.publish(trx, {
      type: `request.${happening.kind}`,
      requestId: request.id,
      partyOnly,
      data: {
        title: request.title,
        ...statusChange,
        ...detail,
        party: request.party_code,
        status: happening.to ?? request.status,
        exercise: request.exercise,
      },
    });
  }
}
