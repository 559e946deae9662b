import crypto from 'node:crypto';
import {
  type CalendarFeed,
  type CalendarFeedList,
  type CalendarFeedListQuery,
  type CoverageGap,
  DUTY_HORIZON_DAYS,
  type DutyBoard,
  type DutyBoardQuery,
  type DutyShift,
  MAX_LIVE_CALENDAR_FEEDS,
  MAX_SHIFT_DAYS,
  type NewCalendarFeed,
  type NewRotation,
  type PartyDuty,
  type Role,
  type Rotation,
  type RotationList,
  type RotationListQuery,
  type RotationPatch,
  type Shift,
  type ShiftList,
  type ShiftRangeQuery,
} from '@vytis/contracts';
import type { Kysely, Selectable } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import { type Actor, type Ctx, hasRole } from '../../context.ts';
import { AppError, conflict, type FieldProblem, forbidden, invalidInput, notFound } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/cursor.ts';
import { parseInstant } from '../../platform/days.ts';
import type { CalendarFeedsTable, Database, DutyRotationsTable } from '../../platform/db/schema.ts';
import { type Executor, inTransaction, type Tx } from '../../platform/db/transaction.ts';
import { newSecret, secretHash } from '../../platform/secrets.ts';
import * as parties from '../parties/parties.repository.ts';
import { type CalendarEvent, renderCalendar } from './ical.ts';
import { keepsRoster, partiesKeptBy, rotationPermissions } from './permissions.ts';
import { isTimeZone } from './responders.service.ts';
import * as repo from './rotations.repository.ts';
import {
  isValidZone,
  localIso,
  type PlannedShift,
  parseLocalDay,
  parseShiftStart,
  type RotationPlan,
  shiftStartAt,
  shiftsBetween,
  utcIso,
} from './shifts.ts';

export interface RotationsDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
}

type RotationRow = Selectable<DutyRotationsTable>;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** How far ahead a new rotation is checked against the party's other rotations. */
export const OVERLAP_HORIZON_MS = 56 * DAY_MS;
/** What an .ics feed holds: the past week and the next eight. */
export const FEED_PAST_MS = 7 * DAY_MS;
export const FEED_AHEAD_MS = 56 * DAY_MS;
/** The longest range one shifts or duty listing answers. */
export const MAX_RANGE_MS = 92 * DAY_MS;
const DEFAULT_SHIFTS_RANGE_MS = 14 * DAY_MS;

const planOf = (row: RotationRow): RotationPlan => ({
  timeZone: row.time_zone,
  startsOn: row.starts_on,
  shiftStart: row.shift_start,
  shiftHours: row.shift_hours,
  shiftDays: row.shift_days,
  responderIds: row.responder_ids as string[],
});

interface RotationShift extends PlannedShift {
  rotation: RotationRow;
}

/**
 * Why a secret feed URL was refused (all answered the same 404): for the audit trail only.
 * `feedId` is known unless the secret matches no feed.
 */
export interface FeedRefusal {
  reason: 'unknown' | 'revoked' | 'owner_disabled' | 'not_visible';
  feedId: string | null;
}

/**
 * Duty rotations: per-party on-call schedules defined in the party's local time (see shifts.ts for
 * how shifts are laid out and survive daylight-saving changes), who is on duty, and the .ics feeds.
 * Kept by the party's PoC (and admins); seen by whoever sees the party's responders (its own
 * users, coordinators, admins). Another state's users get 404.
 */
export class RotationsService {
  constructor(private readonly deps: RotationsDeps) {}

  async create(ctx: Ctx, input: NewRotation): Promise<Rotation> {
    const party = input.party ?? ctx.actor.party;
    if (!party) {
      throw invalidInput('say which party the rotation belongs to', [
        { field: 'body/party', message: 'is required' },
      ]);
    }
    this.requireKeeper(ctx, party);
    validateRotation(input);
    const plan: RotationPlan = {
      timeZone: input.timeZone,
      startsOn: input.startsOn,
      shiftStart: input.shiftStart,
      shiftHours: input.shiftHours,
      shiftDays: input.shiftDays,
      responderIds: input.responderIds,
    };
    const now = this.deps.clock.now();
    const row = await inTransaction(this.deps.db, async (trx) => {
      if (!(await parties.lockParty(trx, party))) {
        throw invalidInput(`unknown party ${party}`, [{ field: 'body/party', message: 'unknown party' }]);
      }
      await this.checkPlan(trx, ctx, party, input.name, plan, now, null);

      const created = await repo.insertRotation(trx, {
        id: crypto.randomUUID(),
        party_code: party,
        name: input.name,
        time_zone: input.timeZone,
        starts_on: input.startsOn,
        shift_start: input.shiftStart,
        shift_hours: input.shiftHours,
        shift_days: input.shiftDays,
        responder_ids: JSON.stringify(input.responderIds),
        created_at: now,
        created_by: ctx.actor.name,
        version: 1,
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'rotation.create',
        objectType: 'rotation',
        objectId: created.id,
        summary: {
          party,
          name: input.name,
          timeZone: input.timeZone,
          startsOn: input.startsOn,
          shiftStart: input.shiftStart,
          shiftHours: input.shiftHours,
          shiftDays: input.shiftDays,
          responders: input.responderIds.length,
        },
      });
      return created;
    });
    return presentRotation(row, ctx.actor);
  }

  /**
   * The rotation's responders are the party's, and none of them would be on two of the party's
   * rotations at once (compared over the coming weeks; `exceptId`: the rotation being changed).
   */
  private async checkPlan(
    trx: Tx,
    ctx: Ctx,
    party: string,
    name: string,
    plan: RotationPlan,
    now: Date,
    exceptId: string | null,
  ) {
    const known = new Map(
      (await repo.visibleResponders(trx, ctx.actor, plan.responderIds)).map((r) => [r.id, r]),
    );
    const problems: FieldProblem[] = [];
    plan.responderIds.forEach((id, i) => {
      const responder = known.get(id);
      if (!responder) {
        problems.push({ field: `body/responderIds/${i}`, message: `no responder ${id}` });
      } else if (responder.party_code !== party) {
        problems.push({
          field: `body/responderIds/${i}`,
          message: `${responder.name} is a responder of ${responder.party_code}, not of ${party}`,
        });
      }
    });
    if (problems.length > 0) {
      throw invalidInput(
        `the rotation's responders have problems: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`,
        problems,
      );
    }

    // A responder cannot be on two of the party's rotations at once: compare the coming weeks.
    const from = new Date(Math.max(now.getTime(), shiftStartAt(plan, 0).toMillis()));
    const to = new Date(from.getTime() + OVERLAP_HORIZON_MS);
    const mine = shiftsBetween(plan, from, to);
    let first: { mine: PlannedShift; theirs: RotationShift } | null = null;
    for (const other of await repo.listOfParty(trx, party)) {
      if (other.id === exceptId) continue;
      const theirs = shiftsBetween(planOf(other), from, to);
      for (const a of mine) {
        for (const b of theirs) {
          if (a.responderId !== b.responderId) continue;
          if (a.start.toMillis() >= b.end.toMillis() || b.start.toMillis() >= a.end.toMillis()) continue;
          const at = Math.max(a.start.toMillis(), b.start.toMillis());
          const best = first
            ? Math.max(first.mine.start.toMillis(), first.theirs.start.toMillis())
            : Number.POSITIVE_INFINITY;
          if (at < best) first = { mine: a, theirs: { ...b, rotation: other } };
        }
      }
    }
    if (first) {
      const who = known.get(first.mine.responderId)!;
      const index = plan.responderIds.indexOf(who.id);
      throw conflict(
        `overlapping shifts: ${who.name} (${who.id}) would be on duty in "${name}" from ` +
          `${localIso(first.mine.start)} to ${localIso(first.mine.end)} and in "${first.theirs.rotation.name}" ` +
          `from ${localIso(first.theirs.start)} to ${localIso(first.theirs.end)}`,
        {
          field: `body/responderIds/${index}`,
          responderId: who.id,
          rotationId: first.theirs.rotation.id,
          shift: { start: utcIso(first.mine.start), end: utcIso(first.mine.end) },
          otherShift: { start: utcIso(first.theirs.start), end: utcIso(first.theirs.end) },
        },
      );
    }
  }

  async list(ctx: Ctx, query: RotationListQuery): Promise<RotationList> {
    const [rows, createFor] = await Promise.all([
      repo.listVisible(this.deps.db, ctx.actor, query.party),
      this.partiesKept(ctx),
    ]);
    return { items: rows.map((row) => presentRotation(row, ctx.actor)), can: { createFor } };
  }

  /** The parties whose roster the caller keeps (the `can.createFor` of roster listings). */
  async partiesKept(ctx: Ctx): Promise<string[]> {
    if (hasRole(ctx.actor, 'admin')) return repo.partyCodes(this.deps.db);
    return ctx.actor.party ? partiesKeptBy(ctx.actor, [ctx.actor.party]) : [];
  }

  async get(ctx: Ctx, id: string) {
    return presentRotation(await this.visible(this.deps.db, ctx, id), ctx.actor);
  }

  /**
   * Changes a rotation (If-Match: the version read): its name, its people or its timing. Its
   * shifts are recomputed from the new plan, checked against the party's other rotations as a new
   * one would be.
   */
  async update(ctx: Ctx, id: string, patch: RotationPatch, ifMatch: number | undefined): Promise<Rotation> {
    const now = this.deps.clock.now();
    const row = await inTransaction(this.deps.db, async (trx) => {
      const found = await repo.findVisible(trx, ctx.actor, id);
      if (!found) throw notFound(`rotation ${id}`);
      this.requireKeeper(ctx, found.party_code);
      await parties.lockParty(trx, found.party_code);
      const current = await repo.lockVisible(trx, ctx.actor, id);
      if (!current) throw notFound(`rotation ${id}`);
      if (ifMatch !== undefined && ifMatch !== current.version) {
        throw new AppError(
          'precondition_failed',
          `the rotation changed since you read it: you sent version ${ifMatch}, it is now at version ${current.version}`,
        );
      }
      const merged: NewRotation = {
        name: current.name,
        timeZone: current.time_zone,
        startsOn: current.starts_on,
        shiftStart: current.shift_start,
        shiftHours: current.shift_hours,
        shiftDays: current.shift_days,
        responderIds: current.responder_ids as string[],
        ...patch,
      };
      validateRotation(merged);
      const { name, ...plan } = merged;
      await this.checkPlan(trx, ctx, current.party_code, name, plan, now, id);
      const updated = await repo.updateRotation(trx, id, {
        name,
        time_zone: plan.timeZone,
        starts_on: plan.startsOn,
        shift_start: plan.shiftStart,
        shift_hours: plan.shiftHours,
        shift_days: plan.shiftDays,
        responder_ids: JSON.stringify(plan.responderIds),
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'rotation.update',
        objectType: 'rotation',
        objectId: id,
        summary: { party: current.party_code, name, fields: Object.keys(patch).sort() },
      });
      return updated;
    });
    return presentRotation(row, ctx.actor);
  }

  /** Ends a rotation: its shifts disappear from duty listings and feeds. Returns what was removed. */
  async remove(ctx: Ctx, id: string, ifMatch: number | undefined) {
    const row = await inTransaction(this.deps.db, async (trx) => {
      const current = await repo.lockVisible(trx, ctx.actor, id);
      if (!current) throw notFound(`rotation ${id}`);
      this.requireKeeper(ctx, current.party_code);
      if (ifMatch !== undefined && ifMatch !== current.version) {
        throw new AppError(
          'precondition_failed',
          `the rotation changed since you read it: you sent version ${ifMatch}, it is now at version ${current.version}`,
        );
      }
      await repo.deleteRotation(trx, id);
      await this.deps.audit.record(trx, ctx, {
        action: 'rotation.delete',
        objectType: 'rotation',
        objectId: id,
        summary: { party: current.party_code, name: current.name },
      });
      return current;
    });
    return presentRotation(row, ctx.actor);
  }

  /** The shifts of one rotation in a range (default: the next 14 days). */
  async shifts(ctx: Ctx, id: string, query: ShiftRangeQuery): Promise<ShiftList> {
    const row = await this.visible(this.deps.db, ctx, id);
    const { from, to } = this.range(query, DEFAULT_SHIFTS_RANGE_MS);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      items: await this.present(this.deps.db, this.planned([row], from, to)),
    };
  }

  /**
   * Who of a party is on duty: every shift of its rotations overlapping [from, to); without `to`,
   * the shifts under way at `from` (default: now). Leave and unavailability are shown, not hidden.
   */
  async duty(ctx: Ctx, party: string, query: ShiftRangeQuery): Promise<ShiftList> {
    await this.visibleParty(ctx, party);
    const { from, to } = query.to === undefined ? this.instant(query) : this.range(query, 0);
    const rows = await repo.listOfParty(this.deps.db, party);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      items: await this.present(this.deps.db, this.planned(rows, from, to)),
    };
  }

  /**
   * The duty officer's board: for every party whose roster the caller may see (and that keeps
   * anyone), who is on duty at `at` (default: now) and who comes next, with how to reach them and
   * whom to escalate to, and the periods of [at, at + days) nobody available is on duty. One set of
   * queries for all parties, whatever their number.
   */
  async board(ctx: Ctx, query: DutyBoardQuery): Promise<DutyBoard> {
    const db = this.deps.db;
    const at = query.at ? parseInstant(query.at, 'querystring/at') : this.deps.clock.now();
    const days = query.days ?? DUTY_HORIZON_DAYS;
    const until = new Date(at.getTime() + days * DAY_MS);
    const parties = await repo.boardParties(db, ctx.actor);
    const codes = parties.map((p) => p.code);
    const [rows, pocs] = await Promise.all([repo.rotationsOfParties(db, codes), repo.pocsOf(db, codes)]);
    // Far enough to hold the next shift of the longest cycle (MAX_SHIFT_DAYS), whatever `days`.
    const reach = new Date(at.getTime() + Math.max(days, MAX_SHIFT_DAYS + 1) * DAY_MS);
    const shifts = await this.present(db, this.planned(rows, at, reach));
    const contacts = new Map(
      (
        await repo.responderContacts(
          db,
          shifts.map((s) => s.responderId),
        )
      ).map((c) => [c.id, c]),
    );
    const withContact = (shift: Shift): DutyShift => {
      const contact = contacts.get(shift.responderId);
      const base = (contact?.base ?? null) as { city?: string; timeZone?: string } | null;
      return {
        ...shift,
        contact: {
          city: base?.city ?? null,
          timeZone: base?.timeZone ?? null,
          user: contact?.user_name ?? null,
        },
      };
    };
    const atMs = at.getTime();
    const board = parties.map((party) => {
      const mine = shifts.filter((s) => s.party === party.code);
      const now = mine.filter((s) => Date.parse(s.start) <= atMs && atMs < Date.parse(s.end));
      const next = [...new Set(mine.map((s) => s.rotationId))].flatMap((rotationId) => {
        const upcoming = mine.find((s) => s.rotationId === rotationId && Date.parse(s.start) > atMs);
        return upcoming ? [upcoming] : [];
      });
      const gaps = coverageGaps(mine, at, until);
      return {
        party: party.code,
        name: party.name,
        rotations: Number(party.rotations),
        now: now.map(withContact),
        next: next.map(withContact),
        covered: now.some((s) => availableAt(s, atMs)),
        gaps,
        escalation: {
          pocs: pocs.filter((u) => u.party_code === party.code).map((u) => ({ id: u.id, name: u.name })),
        },
      };
    });
    const urgency = (p: PartyDuty) => (!p.covered ? 0 : p.gaps.length > 0 ? 1 : 2);
    board.sort((a, b) => urgency(a) - urgency(b) || a.party.localeCompare(b.party));
    return { at: at.toISOString(), until: until.toISOString(), parties: board };
  }

  /**
   * The responders of a party on duty at `at`, in rotation order, leaving out anyone on leave or
   * unavailable at that moment. For other services (team assembly): no access check, no ctx.
   */
  async onDuty(partyCode: string, at: Date): Promise<string[]> {
    const rows = await repo.listOfParty(this.deps.db, partyCode);
    const until = new Date(at.getTime() + 1);
    const shifts = this.planned(rows, at, until);
    const ids = [...new Set(shifts.map((s) => s.responderId))];
    const away = new Set(
      (await repo.unavailabilityBetween(this.deps.db, ids, at, until)).map((u) => u.responder_id),
    );
    return ids.filter((id) => !away.has(id));
  }

  /**
   * One responder's shifts as iCalendar, the past week and the next eight. Behind the usual
   * bearer token or session, or a secret feed URL (createFeed, feedByToken).
   */
  async responderFeed(ctx: Ctx, responderId: string): Promise<string> {
    const responder = await repo.findVisibleResponder(this.deps.db, ctx.actor, responderId);
    if (!responder) throw notFound(`responder ${responderId}`);
    const { now, from, to } = this.feedWindow();
    const rows = await repo.listOfParty(this.deps.db, responder.party_code);
    const shifts = this.planned(rows, from, to).filter((s) => s.responderId === responder.id);
    return renderCalendar({
      name: `Duty: ${responder.name} (${responder.party_code})`,
      events: (await this.present(this.deps.db, shifts)).map((s) => eventOf(s, false, now)),
    });
  }

  /**
   * A secret subscription URL for a duty calendar, for calendar apps that can send no credential:
   * one responder's shifts or a party's roster, whichever the caller may see now. The secret is
   * returned once; only its SHA-256 is kept.
   */
  async createFeed(ctx: Ctx, input: NewCalendarFeed): Promise<{ token: string; info: CalendarFeed }> {
    if (ctx.actor.type !== 'user' || !ctx.actor.id) {
      throw forbidden('a calendar feed belongs to a user: create it as one');
    }
    const field = input.kind === 'responder' ? 'responderId' : 'party';
    const target = input.kind === 'responder' ? input.responderId : input.party;
    const other = input.kind === 'responder' ? 'party' : 'responderId';
    if (target === undefined) {
      throw invalidInput(`a ${input.kind} feed needs body/${field}`, [
        { field: `body/${field}`, message: `is required for kind ${input.kind}` },
      ]);
    }
    if ((input.kind === 'responder' ? input.party : input.responderId) !== undefined) {
      throw invalidInput(`a ${input.kind} feed takes ${field}, not ${other}`, [
        { field: `body/${other}`, message: `is not used by kind ${input.kind}` },
      ]);
    }
    const visible =
      input.kind === 'responder'
        ? await repo.findVisibleResponder(this.deps.db, ctx.actor, target)
        : await repo.findVisibleParty(this.deps.db, ctx.actor, target);
    if (!visible) throw notFound(`${input.kind === 'responder' ? 'responder' : 'party'} ${target}`);
    const token = newSecret('vcal');
    const row = await inTransaction(this.deps.db, async (trx) => {
      // Feeds are polled with no credential and never expire: a user holds a bounded number at once.
      await repo.lockFeedOwner(trx, ctx.actor.id!);
      const live = await repo.liveFeedCount(trx, ctx.actor.id!);
      if (live >= MAX_LIVE_CALENDAR_FEEDS) {
        throw conflict(
          `you already have ${live} live calendar feeds, the most one user may hold (${MAX_LIVE_CALENDAR_FEEDS}): ` +
            'revoke one you no longer use (DELETE /calendar-feeds/:id) and create this one again',
          { liveFeeds: live, max: MAX_LIVE_CALENDAR_FEEDS },
        );
      }
      const created = await repo.insertFeed(trx, {
        id: crypto.randomUUID(),
        user_id: ctx.actor.id!,
        token_hash: secretHash(token),
        kind: input.kind,
        target,
        label: input.label ?? null,
        created_at: this.deps.clock.now(),
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'calendar_feed.create',
        objectType: 'calendar_feed',
        objectId: created.id,
        summary: { kind: input.kind, target, label: created.label },
      });
      return created;
    });
    return { token, info: presentFeed(row) };
  }

  /**
   * The caller's own calendar feeds (never their secrets), revoked ones included, a page at a
   * time: live ones first (all of them on a first page of the default size), then newest first.
   */
  async listFeeds(ctx: Ctx, query: CalendarFeedListQuery = {}): Promise<CalendarFeedList> {
    const after = query.cursor
      ? decodeCursor<[number, string, string]>(query.cursor, ['int', 'timestamp', 'uuid'])
      : undefined;
    if (!ctx.actor.id) return { items: [], nextCursor: null };
    const limit = query.limit ?? 100;
    const rows = await repo.feedsOf(
      this.deps.db,
      ctx.actor.id,
      limit + 1,
      after ? { revoked: after[0], createdAt: new Date(after[1]), id: after[2] } : undefined,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(presentFeed),
      nextCursor:
        rows.length > limit && last
          ? encodeCursor([Number(last.revoked_rank), last.created_at.toISOString(), last.id])
          : null,
    };
  }

  /** Ends a feed for good: its URL answers 404 from now on. Mine; admins: anyone's. */
  async revokeFeed(ctx: Ctx, id: string): Promise<CalendarFeed> {
    const row = await inTransaction(this.deps.db, async (trx) => {
      const feed = await repo.lockFeed(trx, ctx.actor, id);
      if (!feed) throw notFound(`calendar feed ${id}`);
      const revoked = await repo.revokeFeed(trx, id, this.deps.clock.now());
      if (!revoked) throw conflict('this calendar feed is already revoked');
      await this.deps.audit.record(trx, ctx, {
        action: 'calendar_feed.revoke',
        objectType: 'calendar_feed',
        objectId: id,
        summary: { userId: feed.user_id, kind: feed.kind, target: feed.target },
      });
      return revoked;
    });
    return presentFeed(row);
  }

  /**
   * The calendar behind a secret feed URL, as its user may see it now (the access policy's
   * `calendarFeedsServableFor`). Unknown, revoked, a disabled user's, or no longer visible to them:
   * all the same 404, telling a prober nothing; each refusal is told to `refused` first (the caller
   * audits it as a denial), and a refused fetch leaves the feed untouched.
   */
  async feedByToken(
    token: string,
    refused: (refusal: FeedRefusal) => Promise<void> = async () => {},
  ): Promise<{ name: string; body: string }> {
    const refuse = async (refusal: FeedRefusal) => {
      await refused(refusal);
      return notFound('calendar feed');
    };
    const feed = await repo.feedByHash(this.deps.db, secretHash(token));
    if (!feed) throw await refuse({ reason: 'unknown', feedId: null });
    const owner: Actor = {
      type: 'user',
      id: feed.user_id,
      name: feed.user_name,
      party: feed.user_party,
      roles: feed.user_roles as Role[],
    };
    if (!(await repo.isServable(this.deps.db, owner, feed.id))) {
      const reason = feed.revoked_at ? 'revoked' : feed.user_disabled_at ? 'owner_disabled' : 'not_visible';
      throw await refuse({ reason, feedId: feed.id });
    }
    const ctx: Ctx = { actor: owner, requestId: null };
    let body: string;
    try {
      body =
        feed.kind === 'responder'
          ? await this.responderFeed(ctx, feed.target)
          : await this.partyFeed(ctx, feed.target);
    } catch (error) {
      // Visible a moment ago, gone now (a change in between): refused like any other.
      if ((error as { code?: string }).code === 'not_found') {
        throw await refuse({ reason: 'not_visible', feedId: feed.id });
      }
      throw error;
    }
    // Only a served fetch counts as a use. Calendar apps poll every few minutes: note it at most
    // once an hour, not on every poll.
    const now = this.deps.clock.now();
    if (!feed.last_used_at || now.getTime() - feed.last_used_at.getTime() > HOUR_MS) {
      await repo.touchFeed(this.deps.db, feed.id, now);
    }
    return { name: `duty-${feed.target}`, body };
  }

  /** A party's whole duty roster as iCalendar, the past week and the next eight. */
  async partyFeed(ctx: Ctx, party: string): Promise<string> {
    await this.visibleParty(ctx, party);
    const { now, from, to } = this.feedWindow();
    const rows = await repo.listOfParty(this.deps.db, party);
    return renderCalendar({
      name: `Duty roster: ${party}`,
      events: (await this.present(this.deps.db, this.planned(rows, from, to))).map((s) =>
        eventOf(s, true, now),
      ),
    });
  }

  private planned(rows: readonly RotationRow[], from: Date, to: Date): RotationShift[] {
    return rows
      .flatMap((rotation) =>
        shiftsBetween(planOf(rotation), from, to).map((shift) => ({ ...shift, rotation })),
      )
      .sort(
        (a, b) =>
          a.start.toMillis() - b.start.toMillis() ||
          a.rotation.name.localeCompare(b.rotation.name) ||
          a.index - b.index,
      );
  }

  private async present(db: Executor, shifts: readonly RotationShift[]): Promise<Shift[]> {
    if (shifts.length === 0) return [];
    const ids = [...new Set(shifts.map((s) => s.responderId))];
    // A loop, not Math.min(...spread): a long range of many rotations is more arguments than a call takes.
    let fromMs = Number.POSITIVE_INFINITY;
    let toMs = Number.NEGATIVE_INFINITY;
    for (const s of shifts) {
      fromMs = Math.min(fromMs, s.start.toMillis());
      toMs = Math.max(toMs, s.end.toMillis());
    }
    const from = new Date(fromMs);
    const to = new Date(toMs);
    const [names, gaps] = await Promise.all([
      repo.responderNames(db, ids),
      repo.unavailabilityBetween(db, ids, from, to),
    ]);
    const nameOf = new Map(names.map((n) => [n.id, n.name]));
    return shifts.map((s) => {
      const start = s.start.toJSDate();
      const end = s.end.toJSDate();
      const overlapping = gaps.filter(
        (g) => g.responder_id === s.responderId && g.starts_at < end && g.ends_at > start,
      );
      return {
        rotationId: s.rotation.id,
        rotationName: s.rotation.name,
        party: s.rotation.party_code,
        index: s.index,
        responderId: s.responderId,
        responderName: nameOf.get(s.responderId) ?? s.responderId,
        start: start.toISOString(),
        end: end.toISOString(),
        local: { timeZone: s.rotation.time_zone, start: localIso(s.start), end: localIso(s.end) },
        unavailable: overlapping.length > 0,
        unavailability: overlapping.map((g) => ({
          kind: g.kind as Shift['unavailability'][number]['kind'],
          from: g.starts_at.toISOString(),
          to: g.ends_at.toISOString(),
          ...(g.note ? { note: g.note } : {}),
        })),
      };
    });
  }

  private async visible(db: Executor, ctx: Ctx, id: string) {
    const row = await repo.findVisible(db, ctx.actor, id);
    if (!row) throw notFound(`rotation ${id}`);
    return row;
  }

  private async visibleParty(ctx: Ctx, party: string) {
    if (!(await repo.findVisibleParty(this.deps.db, ctx.actor, party))) throw notFound(`party ${party}`);
  }

  private feedWindow() {
    const now = this.deps.clock.now();
    return {
      now,
      from: new Date(now.getTime() - FEED_PAST_MS),
      to: new Date(now.getTime() + FEED_AHEAD_MS),
    };
  }

  private instant(query: ShiftRangeQuery) {
    const from = query.from ? parseInstant(query.from, 'querystring/from') : this.deps.clock.now();
    return { from, to: new Date(from.getTime() + 1) };
  }

  private range(query: ShiftRangeQuery, defaultLength: number) {
    const from = query.from ? parseInstant(query.from, 'querystring/from') : this.deps.clock.now();
    const to = query.to ? parseInstant(query.to, 'querystring/to') : new Date(from.getTime() + defaultLength);
    if (to <= from) {
      throw invalidInput('to must be after from', [
        { field: 'querystring/to', message: 'must be after from' },
      ]);
    }
    if (to.getTime() - from.getTime() > MAX_RANGE_MS) {
      throw invalidInput('ask for at most 92 days at a time', [
        { field: 'querystring/to', message: 'at most 92 days after from' },
      ]);
    }
    return { from, to };
  }

  /** Only the party's PoC (or an admin) keeps its rotations. */
  private requireKeeper(ctx: Ctx, party: string) {
    if (keepsRoster(ctx.actor, party)) return;
    throw forbidden(`only a PoC of ${party} (or an admin) keeps ${party}'s duty rotations`);
  }
}

function validateRotation(input: NewRotation) {
  const problems: FieldProblem[] = [];
  if (!isTimeZone(input.timeZone) || !isValidZone(input.timeZone)) {
    problems.push({
      field: 'body/timeZone',
      message: `${input.timeZone} is not an IANA time zone (e.g. Europe/Vilnius)`,
    });
  }
  if (!parseLocalDay(input.startsOn)) {
    problems.push({
      field: 'body/startsOn',
      message: `${input.startsOn} is not a calendar date (YYYY-MM-DD) from 1000-01-01 to 9998-12-31`,
    });
  }
  if (!parseShiftStart(input.shiftStart)) {
    problems.push({
      field: 'body/shiftStart',
      message: `${input.shiftStart} is not a time of day as HH:MM (00:00 to 23:59)`,
    });
  }
  if (input.shiftHours > 24 * input.shiftDays) {
    problems.push({
      field: 'body/shiftHours',
      message: `a shift of ${input.shiftHours} hours would overlap the next one, which starts ${input.shiftDays} day(s) later (at most ${24 * input.shiftDays})`,
    });
  }
  if (input.responderIds.length === 0) {
    problems.push({ field: 'body/responderIds', message: 'name at least one responder' });
  }
  if (problems.length > 0) {
    throw invalidInput(
      `the rotation has problems: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`,
      problems,
    );
  }
}

export function presentRotation(row: RotationRow, viewer: Actor): Rotation {
  return {
    id: row.id,
    party: row.party_code,
    name: row.name,
    timeZone: row.time_zone,
    startsOn: row.starts_on,
    shiftStart: row.shift_start,
    shiftDays: row.shift_days,
    shiftHours: row.shift_hours,
    responderIds: row.responder_ids as string[],
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    version: row.version,
    can: rotationPermissions(viewer, row),
  };
}

function presentFeed(row: Selectable<CalendarFeedsTable>): CalendarFeed {
  return {
    id: row.id,
    kind: row.kind as CalendarFeed['kind'],
    responderId: row.kind === 'responder' ? row.target : null,
    party: row.kind === 'party' ? row.target : null,
    label: row.label,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

function eventOf(shift: Shift, withName: boolean, stamp: Date): CalendarEvent {
  const away = shift.unavailability.map((u) => `${u.kind} ${u.from} to ${u.to}`).join('; ');
  const description = [
    `Responder: ${shift.responderName}`,
    `Local time (${shift.local.timeZone}): ${shift.local.start} to ${shift.local.end}`,
    ...(shift.unavailable ? [`Responder unavailable during this shift: ${away}`] : []),
  ].join('\n');
  return {
    uid: `${shift.rotationId}-${shift.index}@vytis`,
    stamp,
    start: new Date(shift.start),
    end: new Date(shift.end),
    summary: `On duty: ${shift.rotationName} (${shift.party})${withName ? ` — ${shift.responderName}` : ''}`,
    description,
    categories: ['duty', shift.party],
    status: shift.unavailable ? 'TENTATIVE' : 'CONFIRMED',
  };
}

/** Whether the responder of a shift is not away at this instant. */
function availableAt(shift: Shift, atMs: number): boolean {
  return !shift.unavailability.some((u) => Date.parse(u.from) <= atMs && atMs < Date.parse(u.to));
}

/**
 * The periods of [from, to) when nobody available is on duty: no shift of any rotation
 * (`no_shift`), or only people on leave or otherwise unavailable (`unavailable`). The range is cut
 * at every shift and leave boundary; each piece is judged at its start, and equal neighbours merged.
 */
export function coverageGaps(shifts: readonly Shift[], from: Date, to: Date): CoverageGap[] {
  const fromMs = from.getTime();
  const toMs = to.getTime();
  const cuts = new Set([fromMs, toMs]);
  for (const s of shifts) {
    for (const ms of [Date.parse(s.start), Date.parse(s.end)]) if (ms > fromMs && ms < toMs) cuts.add(ms);
    for (const u of s.unavailability) {
      for (const ms of [Date.parse(u.from), Date.parse(u.to)]) if (ms > fromMs && ms < toMs) cuts.add(ms);
    }
  }
  const points = [...cuts].sort((a, b) => a - b);
  const gaps: CoverageGap[] = [];
  for (let i = 0; i + 1 < points.length; i += 1) {
    const start = points[i]!;
    const end = points[i + 1]!;
    const onShift = shifts.filter((s) => Date.parse(s.start) <= start && start < Date.parse(s.end));
    if (onShift.some((s) => availableAt(s, start))) continue;
    const reason = onShift.length === 0 ? 'no_shift' : 'unavailable';
    const last = gaps.at(-1);
    if (last && last.reason === reason && Date.parse(last.to) === start) {
      last.to = new Date(end).toISOString();
    } else {
      gaps.push({ from: new Date(start).toISOString(), to: new Date(end).toISOString(), reason });
    }
  }
  return gaps;
}
