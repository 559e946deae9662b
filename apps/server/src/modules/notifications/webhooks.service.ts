import crypto from 'node:crypto';
import type { DeliveryQuery, NewWebhook } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import { type Ctx, hasRole, systemCtx } from '../../context.ts';
import { conflict, forbidden, invalidInput, notFound } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/cursor.ts';
import type { Database } from '../../platform/db/schema.ts';
import { inTransaction } from '../../platform/db/transaction.ts';
import { privateHostProblem } from '../../platform/network.ts';
import * as parties from '../parties/parties.repository.ts';
import * as repo from './webhooks.repository.ts';

export interface WebhooksDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  /** Sends one delivery; injectable so tests can fail it. */
  fetch?: typeof fetch;
  /** Allow webhooks to hosts in private or local networks (off by default: no SSRF into the node's network). */
  allowPrivateNetworks: boolean;
}

export const MAX_ATTEMPTS = 8;
const LEASE_MS = 60_000;
const TIMEOUT_MS = 10_000;

/** 30 s, 1 min, 2 min … doubling, at most an hour: eight attempts span about an hour. */
export const backoffMs = (attempts: number) => Math.min(30_000 * 2 ** (attempts - 1), 3_600_000);

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`: the receiver recomputes it with its secret. */
export function signatureHeader(secret: string, body: string, at: Date) {
  const t = Math.floor(at.getTime() / 1000);
  const mac = crypto.createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${mac}`;
}

const presentWebhook = (row: Awaited<ReturnType<typeof repo.listWebhooks>>[number]) => ({
  id: row.id,
  party: row.party_code,
  url: row.url,
  description: row.description,
  createdAt: row.created_at.toISOString(),
  createdBy: row.created_by,
  disabledAt: row.disabled_at?.toISOString() ?? null,
  failing: Number(row.failing ?? 0),
});

/**
 * Webhooks per party, fed by the durable outbox that every request event writes in its own
 * transaction: a delivery is retried with back-off until it succeeds or has failed MAX_ATTEMPTS
 * times, and failures stay visible to the party's PoCs and the admins.
 */
export class WebhooksService {
  constructor(private readonly deps: WebhooksDeps) {}

  /** Admins see every party's webhooks; a PoC only its own party's. */
  private scope(ctx: Ctx): string | null {
    if (hasRole(ctx.actor, 'admin')) return null;
    if (hasRole(ctx.actor, 'poc') && ctx.actor.party) return ctx.actor.party;
    throw forbidden('only admins and PoCs manage webhooks');
  }

  async create(ctx: Ctx, input: NewWebhook) {
    const scope = this.scope(ctx);
    const party = input.party ?? ctx.actor.party;
    if (!party)
      throw invalidInput('say which party the webhook is for', [
        { field: 'body/party', message: 'is required' },
      ]);
    if (scope && party !== scope) throw forbidden(`a PoC of ${scope} adds webhooks for ${scope} only`);
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      throw invalidInput('url is not a valid URL', [{ field: 'body/url', message: 'not a URL' }]);
    }
    const hostProblem = this.deps.allowPrivateNetworks ? null : await privateHostProblem(url);
    if (hostProblem) {
      throw invalidInput(`webhooks may only call public hosts: ${hostProblem}`, [
        { field: 'body/url', message: hostProblem },
      ]);
    }
    if (url.username || url.password) {
      throw invalidInput('put no credentials in the URL: verify the signature instead', [
        { field: 'body/url', message: 'contains credentials' },
      ]);
    }
    const secret = `whsec_${crypto.randomBytes(32).toString('base64url')}`;
    const id = crypto.randomUUID();
    await inTransaction(this.deps.db, async (trx) => {
      if (!(await parties.findParty(trx, party)))
        throw invalidInput(`unknown party ${party}`, [{ field: 'body/party', message: 'unknown party' }]);
      await repo.insertWebhook(trx, {
        id,
        party_code: party,
        url: url.toString(),
        secret,
        description: input.description ?? null,
        created_at: this.deps.clock.now(),
        created_by: ctx.actor.name,
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'webhook.create',
        objectType: 'webhook',
        objectId: id,
        summary: { party, url: url.toString() },
      });
    });
    const [row] = await repo.listWebhooks(this.deps.db, null, id);
    return { webhook: presentWebhook(row!), secret };
  }

  async list(ctx: Ctx) {
    return { items: (await repo.listWebhooks(this.deps.db, this.scope(ctx))).map(presentWebhook) };
  }

  async disable(ctx: Ctx, id: string) {
    const scope = this.scope(ctx);
    await inTransaction(this.deps.db, async (trx) => {
      const [existing] = await repo.listWebhooks(trx, scope, id);
      if (!existing) throw notFound(`webhook ${id}`);
      if (!(await repo.disableWebhook(trx, id, this.deps.clock.now())))
        throw conflict('the webhook is already disabled');
      await repo.failPendingOf(trx, id);
      await this.deps.audit.record(trx, ctx, {
        action: 'webhook.disable',
        objectType: 'webhook',
        objectId: id,
      });
    });
    const [row] = await repo.listWebhooks(this.deps.db, null, id);
    return presentWebhook(row!);
  }

  async deliveries(ctx: Ctx, query: DeliveryQuery) {
    const limit = query.limit ?? 50;
    const rows = await repo.listDeliveries(this.deps.db, {
      party: this.scope(ctx),
      state: query.state,
      afterCreated: query.cursor ? afterCreated(query.cursor) : null,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(presentDelivery),
      nextCursor: rows.length > limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
    };
  }

  async retry(ctx: Ctx, id: string) {
    const scope = this.scope(ctx);
    await inTransaction(this.deps.db, async (trx) => {
      const [existing] = await repo.listDeliveries(trx, { party: scope, id, limit: 1 });
      if (!existing) throw notFound(`delivery ${id}`);
      const [hook] = await repo.listWebhooks(trx, null, existing.webhook_id);
      if (hook?.disabled_at) throw conflict('the webhook is disabled: enable a new one instead of retrying');
      if (!(await repo.retryFailed(trx, id, this.deps.clock.now()))) {
        throw conflict(`only a failed delivery can be retried; this one is ${existing.state}`);
      }
      await this.deps.audit.record(trx, ctx, {
        action: 'webhook.delivery.retry',
        objectType: 'webhook_delivery',
        objectId: id,
      });
    });
    const [row] = await repo.listDeliveries(this.deps.db, { party: null, id, limit: 1 });
    return presentDelivery(row!);
  }

  /** Sends what is due now; returns how many were delivered and how many attempts failed. */
  async deliverDue(limit = 20): Promise<{ delivered: number; failed: number }> {
    const now = this.deps.clock.now();
    const leaseUntil = new Date(now.getTime() + LEASE_MS);
    const leased = await inTransaction(this.deps.db, (trx) => repo.leaseDue(trx, now, leaseUntil, limit));
    const payloads = await repo.deliveryPayloads(
      this.deps.db,
      leased.map((d) => d.id),
    );
    const results = await Promise.all(
      payloads.map(async (p) => {
        const delivery = leased.find((d) => d.id === p.id)!;
        const body = JSON.stringify({
          id: p.id,
          seq: p.seq,
          type: p.type,
          at: p.at.toISOString(),
          recipient: p.party_code,
          requestId: p.request_id,
          exercise: p.exercise,
          data: p.data,
        });
        const outcome = await this.send(p.url, p.secret, body, p.type, p.id);
        const at = this.deps.clock.now();
        if (outcome.ok) {
          await repo.settleDelivery(this.deps.db, p.id, leaseUntil, {
            state: 'delivered',
            next_attempt_at: null,
            last_error: null,
            last_status: outcome.status,
            delivered_at: at,
          });
          return true;
        }
        const givingUp = delivery.attempts >= MAX_ATTEMPTS;
        await inTransaction(this.deps.db, async (trx) => {
          const settled = await repo.settleDelivery(trx, p.id, leaseUntil, {
            state: givingUp ? 'failed' : 'pending',
            next_attempt_at: givingUp ? null : new Date(at.getTime() + backoffMs(delivery.attempts)),
            last_error: outcome.error,
            last_status: outcome.status,
            delivered_at: null,
          });
          if (settled && givingUp) {
            await this.deps.audit.record(trx, systemCtx(), {
              action: 'webhook.delivery.failed',
              objectType: 'webhook_delivery',
              objectId: p.id,
              summary: { party: p.party_code, url: p.url, attempts: delivery.attempts, error: outcome.error },
            });
          }
        });
        return false;
      }),
    );
    return { delivered: results.filter(Boolean).length, failed: results.filter((r) => !r).length };
  }

  private async send(url: string, secret: string, body: string, type: string, id: string) {
    const doFetch = this.deps.fetch ?? fetch;
    // Checked again at each send: the name may point elsewhere since the webhook was added.
    const hostProblem = this.deps.allowPrivateNetworks ? null : await privateHostProblem(new URL(url));
    if (hostProblem) return { ok: false as const, status: null, error: `not sent: ${hostProblem}` };
    try {
      const response = await doFetch(url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'vytis-webhooks/1',
          'vytis-event': type,
          'vytis-delivery': id,
          'vytis-signature': signatureHeader(secret, body, this.deps.clock.now()),
        },
        body,
      });
      await response.body?.cancel().catch(() => {});
      if (response.status >= 200 && response.status < 300)
        return { ok: true as const, status: response.status };
      return {
        ok: false as const,
        status: response.status,
        error: `the receiver answered HTTP ${response.status}`,
      };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return {
        ok: false as const,
        status: null,
        error: `could not reach it: ${cause ?? (error as Error).message}`,
      };
    }
  }
}

function presentDelivery(row: Awaited<ReturnType<typeof repo.listDeliveries>>[number]) {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    party: row.party_code,
    url: row.url,
    notificationSeq: row.notification_seq,
    type: row.type,
    state: row.state as 'pending',
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at?.toISOString() ?? null,
    lastError: row.last_error,
    lastStatus: row.last_status,
    deliveredAt: row.delivered_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

function afterCreated(cursor: string) {
  const [at, id] = decodeCursor<[string, string]>(cursor, ['timestamp', 'uuid']);
  return { at: new Date(at), id };
}
