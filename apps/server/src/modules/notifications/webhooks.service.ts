import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeliveryQuery, NewWebhook } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import { type Ctx, hasRole, systemCtx } from '../../context.ts';
import { conflict, forbidden, invalidInput, notFound } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/cursor.ts';
import type { Database } from '../../platform/db/schema.ts';
import { inTransaction } from '../../platform/db/transaction.ts';
import { checkDestination, type PrivateNetworks, type ResolveHost } from '../../platform/network.ts';
import { callOut, DestinationRefused } from '../../platform/outbound.ts';
import * as parties from '../parties/parties.repository.ts';
import * as repo from './webhooks.repository.ts';

export interface WebhooksDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  /** Sends one delivery; injectable so tests can fail it. */
  fetch?: typeof fetch;
  /** Resolves receivers' host names; injectable so tests can make a name change its answer. */
  resolve?: ResolveHost;
  /**
   * Which private or local networks webhooks may call: none by default (no SSRF into the node's
   * network), all, or a list of CIDR networks.
   */
  allowPrivateNetworks: PrivateNetworks;
  /** How long one attempt may take, host lookup and connecting included. */
  timeoutMs?: number;
  /**
   * Waits out the rest of a failed attempt's time limit before its outcome is recorded; the
   * default sleeps. Tests replace it to hold the recording until they release it.
   */
  waitOutAttempt?: (ms: number, cancelled: AbortSignal) => Promise<void>;
}

export const MAX_ATTEMPTS = 8;
/**
 * Active webhooks a party may have: a few per receiving system is plenty, and every one is a
 * delivery per event that may sit out the full time limit.
 */
export const MAX_WEBHOOKS_PER_PARTY = 10;
const LEASE_MS = 60_000;
const TIMEOUT_MS = 10_000;

const sleepUnlessCancelled = (ms: number, cancelled: AbortSignal) =>
  sleep(ms, undefined, { signal: cancelled }).catch(() => {});

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
  exercises: row.exercises,
});

/**
 * Webhooks per party, fed by the durable outbox that every request event writes in its own
 * transaction: a delivery is retried with back-off until it succeeds or has failed MAX_ATTEMPTS
 * times, and failures stay visible to the party's PoCs and the admins. An exercise's events go
 * only to webhooks that opted into exercises (`exercises`), and every body says `exercise`: a
 * receiver that asked for real events never has to tell a drill from an incident.
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
    if (this.deps.allowPrivateNetworks !== true) {
      const checked = await checkDestination(url, {
        ...this.guard(),
        signal: AbortSignal.timeout(this.timeoutMs()),
      });
      if (!checked.ok) {
        throw invalidInput(`webhooks may only call public hosts: ${checked.message}`, [
          { field: 'body/url', message: checked.message },
        ]);
      }
    }
    if (url.username || url.password) {
      throw invalidInput('put no credentials in the URL: verify the signature instead', [
        { field: 'body/url', message: 'contains credentials' },
      ]);
    }
    const secret = `whsec_${crypto.randomBytes(32).toString('base64url')}`;
    const id = crypto.randomUUID();
    await inTransaction(this.deps.db, async (trx) => {
      // Locked, so that two concurrent additions cannot both take the last free place.
      if (!(await parties.lockParty(trx, party)))
        throw invalidInput(`unknown party ${party}`, [{ field: 'body/party', message: 'unknown party' }]);
      if ((await repo.countActiveWebhooks(trx, party)) >= MAX_WEBHOOKS_PER_PARTY) {
        throw conflict(
          `${party} already has ${MAX_WEBHOOKS_PER_PARTY} active webhooks, the most a party may have: disable one it no longer needs first`,
        );
      }
      await repo.insertWebhook(trx, {
        id,
        party_code: party,
        url: url.toString(),
        secret,
        description: input.description ?? null,
        created_at: this.deps.clock.now(),
        created_by: ctx.actor.name,
        exercises: input.exercises ?? false,
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'webhook.create',
        objectType: 'webhook',
        objectId: id,
        summary: { party, url: url.toString(), exercises: input.exercises ?? false },
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

  /**
   * Sends what is due now, each party's share of `limit` in turn (see leaseDue); returns how many
   * were delivered and how many attempts failed. It returns once every attempt is recorded: a
   * batch with a failed attempt lasts the time limit.
   */
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
        // Started with the attempt: a failure is recorded when the attempt's time limit is up,
        // never sooner, so nothing a PoC reads (state, attempts, error class, audit) tells how
        // long it took — a closed port, a filtered one and a slow name all look alike.
        const success = new AbortController();
        const timeLimitUp = (this.deps.waitOutAttempt ?? sleepUnlessCancelled)(
          this.timeoutMs(),
          success.signal,
        );
        const outcome = await this.send(p.url, p.secret, body, p.type, p.id);
        if (outcome.ok) {
          success.abort();
          await repo.settleDelivery(this.deps.db, p.id, leaseUntil, {
            state: 'delivered',
            next_attempt_at: null,
            last_error: null,
            last_status: outcome.status,
            delivered_at: this.deps.clock.now(),
          });
          return true;
        }
        const givingUp = delivery.attempts >= MAX_ATTEMPTS;
        await timeLimitUp;
        await inTransaction(this.deps.db, async (trx) => {
          const settled = await repo.settleDelivery(trx, p.id, leaseUntil, {
            state: givingUp ? 'failed' : 'pending',
            // From when the attempt began, not when it ended: how long a failure took (refused
            // at once, or a timeout) would tell a prober whether a port is closed or filtered.
            next_attempt_at: givingUp ? null : new Date(now.getTime() + backoffMs(delivery.attempts)),
            last_error: outcome.error,
            last_status: null,
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

  private guard() {
    return {
      allowed: this.deps.allowPrivateNetworks,
      ...(this.deps.resolve ? { resolve: this.deps.resolve } : {}),
      ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}),
      timeoutMs: this.timeoutMs(),
    };
  }

  private timeoutMs() {
    return this.deps.timeoutMs ?? TIMEOUT_MS;
  }

  /**
   * One attempt. The host is checked again at each send (the name may point elsewhere since the
   * webhook was added) and the connection goes to the address checked. A failure is recorded as a
   * coarse class only (see DeliveryFailure), never the network error or the receiver's answer.
   */
  private async send(
    url: string,
    secret: string,
    body: string,
    type: string,
    id: string,
  ): Promise<{ ok: true; status: number } | { ok: false; error: DeliveryFailure }> {
    const init = {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'vytis-webhooks/1',
        'vytis-event': type,
        'vytis-delivery': id,
        'vytis-signature': signatureHeader(secret, body, this.deps.clock.now()),
      },
      body,
    };
    try {
      const status = await callOut(new URL(url), init, this.guard(), async (response) => {
        await response.body?.cancel().catch(() => {});
        return response.status;
      });
      if (status >= 200 && status < 300) return { ok: true, status };
      return { ok: false, error: httpFailure(status) };
    } catch (error) {
      if (error instanceof DestinationRefused && error.reason === 'not_public')
        return { ok: false, error: 'refused_address' };
      return { ok: false, error: 'unreachable' };
    }
  }
}

/**
 * What a failed attempt is recorded as, in the delivery list and the audit log. Deliberately
 * coarse, so that webhook targets cannot be used to scan networks: connection refused, reset,
 * timed out, a TLS failure or a port that does not speak HTTP are all `unreachable`, and of an
 * HTTP answer only its status class is kept.
 * - `refused_address`: not sent, the host is not (or no longer) public
 * - `unreachable`: no HTTP answer within the time limit
 * - `http_3xx`, `http_4xx`, `http_5xx`: the receiver answered with that class (redirects are not followed)
 */
export type DeliveryFailure = 'refused_address' | 'unreachable' | 'http_3xx' | 'http_4xx' | 'http_5xx';

const FAILURES = new Set<string>(['refused_address', 'unreachable', 'http_3xx', 'http_4xx', 'http_5xx']);

/** Rows written before failures were classed carry the network error's text: shown as its class. */
function presentedFailure(stored: string | null): string | null {
  if (stored === null || stored === repo.DISABLED_WEBHOOK || FAILURES.has(stored)) return stored;
  const status = /HTTP (\d{3})/.exec(stored);
  if (status) return httpFailure(Number(status[1]));
  return stored.startsWith('not sent') ? 'refused_address' : 'unreachable';
}

function httpFailure(status: number): DeliveryFailure {
  if (status >= 500) return 'http_5xx';
  if (status >= 400) return 'http_4xx';
  return 'http_3xx';
}

function presentDelivery(row: Awaited<ReturnType<typeof repo.listDeliveries>>[number]) {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    party: row.party_code,
    url: row.url,
    notificationSeq: row.notification_seq,
    type: row.type,
    exercise: row.exercise,
    state: row.state as 'pending',
    // An attempt under way is counted once it is recorded, with the rest of its outcome.
    attempts: row.state === 'pending' && row.lease_until !== null ? row.attempts - 1 : row.attempts,
    nextAttemptAt: row.next_attempt_at?.toISOString() ?? null,
    lastError: presentedFailure(row.last_error),
    lastStatus: row.last_error ? null : row.last_status,
    deliveredAt: row.delivered_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

function afterCreated(cursor: string) {
  const [at, id] = decodeCursor<[string, string]>(cursor, ['timestamp', 'uuid']);
  return { at: new Date(at), id };
}
