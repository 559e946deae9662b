import type {
  InboxItem,
  InboxPage,
  InboxQuery,
  MarkedRead,
  MarkRead,
  NotificationKind,
  NotificationSettings,
  NotificationSettingsUpdate,
  Role,
} from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import { forbidden, notFound } from '../../errors.ts';
import type { Database } from '../../platform/db/schema.ts';
import { inTransaction } from '../../platform/db/transaction.ts';
import { coalesceReruns } from '../../platform/rerun-coalescer.ts';
import { caseViewerOf } from '../cases/case-viewer.ts';
import type { RequestsService } from '../requests/requests.service.ts';
import { Dispatcher } from './dispatch.ts';
import { defaultSetting, KINDS, kindsFor } from './inbox.kinds.ts';
import * as repo from './inbox.repository.ts';
import { MailSender } from './mail.sender.ts';
import { backoffMs, MAX_ATTEMPTS } from './webhooks.service.ts';

export interface InboxDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  requests: RequestsService;
  /** Where and as whom notifications are e-mailed (smtpUrl null: no e-mail). */
  mail: { smtpUrl: string | null; from: string };
}

/** What the background work reports to (the app's logger). */
export interface InboxLog {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** How long a process may take to send one leased mail before another may try it. */
const LEASE_MS = 5 * 60_000;
const MAILS_PER_ROUND = 20;

/** Each person's in-app notifications (unread, read) and what they choose to get by e-mail. */
export class InboxService {
  private readonly dispatcher: Dispatcher;
  private readonly sender: MailSender | null;
  private publicUrl: string | null = null;
  private log: InboxLog | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private round: Promise<unknown> | null = null;
  private stopped = false;

  constructor(private readonly deps: InboxDeps) {
    this.sender = deps.mail.smtpUrl ? new MailSender(deps.mail.smtpUrl, deps.mail.from) : null;
    this.dispatcher = new Dispatcher({
      db: deps.db,
      clock: deps.clock,
      requests: deps.requests,
      mailEnabled: this.sender !== null,
      publicUrl: () => this.publicUrl,
      onDeadLetter: (seq, error) =>
        this.log?.error({ err: error, seq }, `notification event ${seq} could not be dispatched: skipped`),
    });
  }

  get database() {
    return this.deps.db;
  }

  get mailConfigured() {
    return this.sender !== null;
  }

  /**
   * Runs the dispatcher and the mail outbox every `intervalMs` (the HTTP node starts it; each round
   * is the state in the database, so any number of processes may run it at once).
   */
  start(options: { publicUrl: string | null; log: InboxLog; intervalMs?: number }) {
    this.publicUrl = options.publicUrl;
    this.log = options.log;
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      if (this.round) return;
      this.round = this.tick().finally(() => {
        this.round = null;
      });
    }, options.intervalMs ?? 1000);
    this.timer.unref();
  }

  /** One round: new events to notifications, then the mails due. Never throws (it logs). */
  async tick(): Promise<void> {
    await this.dispatch().catch((error) =>
      this.log?.error({ err: error }, 'dispatching notifications failed'),
    );
    await this.sendDue().catch((error) =>
      this.log?.error({ err: error }, 'sending notification mail failed'),
    );
  }

  /** Turns the events numbered since the last run into notifications and queued mails. */
  dispatch(): Promise<number> {
    return this.dispatcher.dispatch();
  }

  private readonly sendCoalesced = coalesceReruns(() => this.sendAllDue());

  /**
   * Sends the mails that are due; a failure is logged and tried again later with back-off (as a
   * webhook delivery), and the event that caused it has long been committed: nothing waits for it.
   */
  sendDue(): Promise<{ sent: number; failed: number }> {
    return this.sendCoalesced();
  }

  private async sendAllDue() {
    const result = { sent: 0, failed: 0 };
    const sender = this.sender;
    if (!sender) return result;
    for (let round = 0; round < 50 && !this.stopped; round++) {
      const now = this.deps.clock.now();
      const leased = await inTransaction(this.deps.db, (trx) =>
        repo.leaseDueMails(trx, now, new Date(now.getTime() + LEASE_MS), MAILS_PER_ROUND),
      );
      for (const mail of leased) {
        try {
          await sender.send({
            to: mail.to_address,
            subject: mail.subject,
            text: mail.text_body,
            html: mail.html_body,
          });
          await repo.mailSent(this.deps.db, mail.id, this.deps.clock.now());
          result.sent += 1;
        } catch (error) {
          const givingUp = mail.attempts >= MAX_ATTEMPTS;
          const next = givingUp ? null : new Date(this.deps.clock.now().getTime() + backoffMs(mail.attempts));
          const message = error instanceof Error ? error.message : String(error);
          await repo.mailFailed(this.deps.db, mail.id, message, next);
          this.log?.warn(
            {
              mailId: mail.id,
              attempts: mail.attempts,
              nextAttemptAt: next?.toISOString() ?? null,
              err: message,
            },
            givingUp ? 'notification mail failed for good' : 'notification mail failed; will retry',
          );
          result.failed += 1;
        }
      }
      if (leased.length < MAILS_PER_ROUND) break;
    }
    return result;
  }

  private async person(ctx: Ctx): Promise<string> {
    // Notifications are a person's: the node's own actors (CLI, system) have none.
    if (ctx.actor.type !== 'user' || !ctx.actor.id)
      throw forbidden('notifications belong to a signed-in person');
    return ctx.actor.id;
  }

  /** The reader under the one policy: what they may see now, not when they were notified. */
  private async reader(ctx: Ctx): Promise<repo.InboxReader> {
    return { requests: await this.deps.requests.viewer(ctx), cases: caseViewerOf(this.deps.clock, ctx) };
  }

  async list(ctx: Ctx, query: InboxQuery): Promise<InboxPage> {
    const userId = await this.person(ctx);
    // Catch up first, so what a person reads is at least what their live stream has shown them.
    await this.dispatch().catch((error) =>
      this.log?.error({ err: error }, 'dispatching notifications failed'),
    );
    const limit = query.limit ?? 50;
    const reader = await this.reader(ctx);
    const rows = await repo.listItems(this.deps.db, userId, reader, {
      unread: query.unread === true,
      beforeSeq: query.cursor ? Number(query.cursor) : null,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map(presentItem),
      unreadCount: await repo.unreadCount(this.deps.db, userId, reader),
      nextCursor: rows.length > limit ? String(page[page.length - 1]!.seq) : null,
    };
  }

  async markRead(ctx: Ctx, body: MarkRead): Promise<MarkedRead> {
    const userId = await this.person(ctx);
    const ids = 'all' in body ? 'all' : [...new Set(body.ids)];
    const reader = await this.reader(ctx);
    return inTransaction(this.deps.db, async (trx) => {
      const marked = await repo.markRead(trx, userId, ids, this.deps.clock.now());
      if (marked.length > 0) {
        await this.deps.audit.record(trx, ctx, {
          action: 'notification.read',
          objectType: 'user',
          objectId: userId,
          summary: { count: marked.length, all: ids === 'all' },
        });
      }
      return { marked: marked.length, unreadCount: await repo.unreadCount(trx, userId, reader) };
    });
  }

  async settings(ctx: Ctx): Promise<NotificationSettings> {
    const userId = await this.person(ctx);
    return this.presentSettings(userId, ctx.actor.roles);
  }

  async updateSettings(ctx: Ctx, body: NotificationSettingsUpdate): Promise<NotificationSettings> {
    const userId = await this.person(ctx);
    await inTransaction(this.deps.db, async (trx) => {
      const now = this.deps.clock.now();
      const kinds = new Map((body.kinds ?? []).map((k) => [k.kind, k]));
      for (const k of kinds.values()) {
        await repo.saveSetting(trx, {
          user_id: userId,
          kind: k.kind,
          in_app: k.inApp,
          email: k.email,
          updated_at: now,
        });
      }
      if (body.email !== undefined) await repo.saveEmail(trx, userId, normaliseEmail(body.email), now);
      await this.deps.audit.record(trx, ctx, {
        action: 'notification.settings.update',
        objectType: 'user',
        objectId: userId,
        summary: {
          kinds: [...kinds.values()].map((k) => ({ kind: k.kind, inApp: k.inApp, email: k.email })),
          ...(body.email !== undefined ? { emailChanged: true } : {}),
        },
      });
    });
    return this.presentSettings(userId, ctx.actor.roles);
  }

  /** An admin sets someone's e-mail address (the person sets their own in their settings). */
  async setUserEmail(ctx: Ctx, userId: string, email: string | null): Promise<{ email: string | null }> {
    const user = await repo.userExists(this.deps.db, userId);
    if (!user) throw notFound(`user ${userId}`);
    const normalised = normaliseEmail(email);
    await inTransaction(this.deps.db, async (trx) => {
      await repo.saveEmail(trx, userId, normalised, this.deps.clock.now());
      await this.deps.audit.record(trx, ctx, {
        action: 'user.email.update',
        objectType: 'user',
        objectId: userId,
        summary: { user: user.name, set: normalised !== null },
      });
    });
    return { email: normalised };
  }

  private async presentSettings(userId: string, roles: readonly Role[]): Promise<NotificationSettings> {
    const [rows, emails] = await Promise.all([
      repo.settingsOf(this.deps.db, [userId]),
      repo.emailsOf(this.deps.db, [userId]),
    ]);
    return {
      email: emails.get(userId) ?? null,
      mailConfigured: this.mailConfigured,
      kinds: kindsFor(roles).map((kind: NotificationKind) => {
        const row = rows.find((r) => r.kind === kind);
        const chosen = row ? { inApp: row.in_app, email: row.email } : defaultSetting(kind);
        return { kind, label: KINDS[kind].label, ...chosen, isDefault: !row };
      }),
    };
  }

  /** Stops the background rounds (tests then run `dispatch` and `sendDue` themselves). */
  async stopBackground() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.round;
  }

  /** Stops sending e-mail (the node is closing). */
  async stop() {
    this.stopped = true;
    await this.stopBackground();
    this.sender?.close();
  }
}

const normaliseEmail = (email: string | null) => {
  const trimmed = email?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
};

function presentItem(row: Awaited<ReturnType<typeof repo.listItems>>[number]): InboxItem {
  return {
    id: row.id,
    kind: row.kind as NotificationKind,
    title: row.title,
    href: row.href,
    at: row.at.toISOString(),
    read: row.read_at !== null,
    exercise: row.exercise,
    requestId: row.request_id,
    caseId: row.case_id,
  };
}
