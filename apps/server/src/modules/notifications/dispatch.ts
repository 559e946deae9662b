import type { NotificationKind } from '@vytis/contracts';
import { type Kysely, sql } from 'kysely';
import type { CaseViewer, RequestViewer } from '../../access/policy.ts';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import type { Database } from '../../platform/db/schema.ts';
import { inTransaction, type Tx } from '../../platform/db/transaction.ts';
import { coalesceReruns } from '../../platform/rerun-coalescer.ts';
import { caseViewerOf } from '../cases/case-viewer.ts';
import type { RequestsService } from '../requests/requests.service.ts';
import { addressees, mayAddress } from './dispatch.recipients.ts';
import { defaultSetting } from './inbox.kinds.ts';
import * as repo from './inbox.repository.ts';
import { composeMail } from './mail.compose.ts';
import { visibleSince } from './notifications.repository.ts';

/** Events handled per transaction. */
const BATCH = 200;

/**
 * SQLSTATE classes of trouble that passes (a lost connection, a deadlock or serialization failure,
 * resources, a cancelled statement, a system error): not the event's fault, so never set aside.
 */
const PASSING_SQLSTATE_CLASSES = ['08', '40', '53', '57', '58', 'XX'];
function isPassingTrouble(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return false;
  return code === '25P02' || PASSING_SQLSTATE_CLASSES.includes(code.slice(0, 2));
}

export interface DispatcherDeps {
  db: Kysely<Database>;
  clock: Clock;
  requests: RequestsService;
  /** Whether e-mail is sent at all (VYTIS_SMTP_URL); none: nothing is queued for it. */
  mailEnabled: boolean;
  /** Where the links in e-mails point (VYTIS_PUBLIC_URL); none: the path alone. */
  publicUrl: () => string | null;
  /** An event that could not be turned into notifications, and why (it is skipped). */
  onDeadLetter?: (seq: number, error: unknown) => void;
}

/**
 * Turns the event sequence into each person's notifications. It follows the numbered events from a
 * cursor row in the database, in the same transaction as the items and mails it writes: after a
 * crash it resumes where the last commit left it, and nothing is lost or written twice (items and
 * mails are unique per person and event as well). Processes on one PostgreSQL take turns on the
 * cursor row (FOR UPDATE SKIP LOCKED): one dispatches, the others skip their turn.
 */
export class Dispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  private readonly coalesced = coalesceReruns(() => this.dispatchAll());

  /** Handles every event after the cursor; returns how many (0 when another process has the turn). */
  dispatch(): Promise<number> {
    return this.coalesced();
  }

  private async dispatchAll(): Promise<number> {
    let handled = 0;
    for (;;) {
      const count = await inTransaction(this.deps.db, (trx) => this.dispatchBatch(trx));
      handled += count;
      if (count < BATCH) return handled;
    }
  }

  private async dispatchBatch(trx: Tx): Promise<number> {
    const cursor = await repo.claimCursor(trx);
    if (cursor === null) return 0;
    const events = await repo.eventsAfter(trx, cursor, BATCH);
    if (events.length === 0) return 0;
    const now = this.deps.clock.now();
    const viewers = new Map<string, Promise<{ requests: RequestViewer; cases: CaseViewer }>>();
    const viewerOf = (person: repo.Person) => {
      let viewer = viewers.get(person.id);
      if (!viewer) {
        const ctx: Ctx = {
          actor: {
            type: 'user',
            id: person.id,
            name: person.name,
            party: person.party_code,
            roles: person.roles,
          },
          requestId: null,
        };
        viewer = this.deps.requests
          .viewer(ctx, trx)
          .then((requests) => ({ requests, cases: caseViewerOf(this.deps.clock, ctx) }));
        viewers.set(person.id, viewer);
        // A failure is the event's, not the person's: the next event asks again.
        viewer.catch(() => viewers.delete(person.id));
      }
      return viewer;
    };
    const items: Parameters<typeof repo.insertItems>[1] = [];
    const mails: Parameters<typeof repo.queueMails>[1] = [];
    for (const event of events) {
      if (!mayAddress(event.type)) continue;
      // One event that cannot be handled (a payload of an unexpected shape) is set aside, named in
      // the log, and the others go on: it must not hold everyone's notifications back for ever.
      await sql`savepoint dispatch_event`.execute(trx);
      try {
        const handled = await this.handle(trx, event, now, viewerOf);
        await sql`release savepoint dispatch_event`.execute(trx);
        items.push(...handled.items);
        mails.push(...handled.mails);
      } catch (error) {
        // A database that failed for its own reasons fails the batch, which is tried again whole.
        if (isPassingTrouble(error)) throw error;
        await sql`rollback to savepoint dispatch_event`.execute(trx);
        await sql`release savepoint dispatch_event`.execute(trx);
        this.deps.onDeadLetter?.(event.seq, error);
      }
    }
    await repo.insertItems(trx, items);
    await repo.queueMails(trx, mails);
    await repo.moveCursor(trx, events[events.length - 1]!.seq);
    return events.length;
  }

  /** The notifications and mails one event makes, for those it is addressed to who may see it. */
  private async handle(
    trx: Tx,
    event: repo.EventRow,
    now: Date,
    viewerOf: (person: repo.Person) => Promise<{ requests: RequestViewer; cases: CaseViewer }>,
  ) {
    const items: Parameters<typeof repo.insertItems>[1] = [];
    const mails: Parameters<typeof repo.queueMails>[1] = [];
    const addressed = await addressees(trx, event);
    if (!addressed || addressed.people.length === 0) return { items, mails };
    const people = [...new Map(addressed.people.map((p) => [p.id, p])).values()];
    // As the live stream would show it to each of them, now: who may not see it is not told.
    const allowed: repo.Person[] = [];
    for (const person of people) {
      const viewer = await viewerOf(person);
      const [seen] = await visibleSince(trx, viewer.requests, viewer.cases, event.seq - 1, 1);
      if (seen && Number(seen.seq) === event.seq) allowed.push(person);
    }
    if (allowed.length === 0) return { items, mails };
    const ids = allowed.map((p) => p.id);
    const [settings, emails] = await Promise.all([
      repo.settingsOf(trx, ids),
      this.deps.mailEnabled ? repo.emailsOf(trx, ids) : Promise.resolve(new Map<string, string>()),
    ]);
    const choice = (userId: string, kind: NotificationKind) => {
      const row = settings.find((s) => s.user_id === userId && s.kind === kind);
      return row ? { inApp: row.in_app, email: row.email } : defaultSetting(kind);
    };
    const title = `${event.exercise ? 'Exercise: ' : ''}${addressed.title}`;
    const mail = composeMail(addressed.kind, addressed.href, {
      publicUrl: this.deps.publicUrl(),
      exercise: event.exercise,
    });
    for (const person of allowed) {
      const chosen = choice(person.id, addressed.kind);
      if (chosen.inApp) {
        items.push({
          user_id: person.id,
          seq: event.seq,
          kind: addressed.kind,
          at: event.at,
          title,
          href: addressed.href,
          request_id: event.request_id,
          case_id: event.case_id,
          exercise: event.exercise,
          created_at: now,
        });
      }
      const address = emails.get(person.id);
      if (chosen.email && address) {
        mails.push({
          user_id: person.id,
          seq: event.seq,
          kind: addressed.kind,
          to_address: address,
          subject: mail.subject,
          text_body: mail.text,
          html_body: mail.html,
          next_attempt_at: now,
          created_at: now,
        });
      }
    }
    return { items, mails };
  }
}
