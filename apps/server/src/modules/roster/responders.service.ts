import crypto from 'node:crypto';
import type {
  AvailabilityBody,
  NewResponder,
  Responder,
  ResponderListQuery,
  ResponderPatch,
} from '@vytis/contracts';
import ISO6391 from 'iso-639-1';
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import { type Actor, type Ctx, hasRole } from '../../context.ts';
import { AppError, type FieldProblem, forbidden, invalidInput, notFound } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/cursor.ts';
import { isCalendarDay } from '../../platform/days.ts';
import type { Database, RespondersTable, ResponderUnavailabilityTable } from '../../platform/db/schema.ts';
import { inTransaction, type Tx } from '../../platform/db/transaction.ts';
import * as parties from '../parties/parties.repository.ts';
import { keepsRoster, partiesKeptBy, responderPermissions } from './permissions.ts';
import * as repo from './responders.repository.ts';
import { partyCodes } from './rotations.repository.ts';

export interface RespondersDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
}

type ResponderRow = Selectable<RespondersTable>;

/** True for a time zone the runtime's IANA database knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone.includes('/') || zone === 'UTC';
  } catch {
    return false;
  }
}

/**
 * The standby roster's people: kept by their home party's PoC (and admins), seen by their own
 * party, coordinators and admins. Another state's PoC gets 404, for reads and writes alike.
 */
export class RespondersService {
  constructor(private readonly deps: RespondersDeps) {}

  async create(ctx: Ctx, input: NewResponder): Promise<Responder> {
    const party = input.party ?? ctx.actor.party;
    if (!party)
      throw invalidInput('say which party the responder belongs to', [
        { field: 'body/party', message: 'is required' },
      ]);
    this.requireKeeper(ctx, party);
    validate(input, 'body');
    const now = this.deps.clock.now();
    const row = await inTransaction(this.deps.db, async (trx) => {
      if (!(await parties.findParty(trx, party))) {
        throw invalidInput(`unknown party ${party}`, [{ field: 'body/party', message: 'unknown party' }]);
      }
      if (input.userId) await this.requireLinkable(trx, input.userId, party, null);
      const created = await repo.insertResponder(trx, {
        id: crypto.randomUUID(),
        party_code: party,
        ...columnsOf(input),
        user_id: input.userId ?? null,
        created_at: now,
        created_by: ctx.actor.name,
        updated_at: now,
        version: 1,
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'responder.create',
        objectType: 'responder',
        objectId: created.id,
        summary: { party, name: created.name },
      });
      return created;
    });
    return this.present(row, ctx.actor);
  }

  async get(ctx: Ctx, id: string) {
    const row = await repo.findVisible(this.deps.db, ctx.actor, id);
    if (!row) throw notFound(`responder ${id}`);
    return this.present(row, ctx.actor);
  }

  async list(ctx: Ctx, query: ResponderListQuery) {
    const limit = query.limit ?? 100;
    const filter = { party: query.party, skill: query.skill };
    const after = query.cursor ? nameCursor(query.cursor) : null;
    const [rows, total] = await Promise.all([
      repo.listVisible(this.deps.db, ctx.actor, filter, after, limit + 1),
      repo.countVisible(this.deps.db, ctx.actor, filter),
    ]);
    const page = rows.slice(0, limit);
    const gaps = await repo.unavailability(
      this.deps.db,
      page.map((r) => r.id),
    );
    const last = page.at(-1);
    return {
      items: page.map((row) =>
        presentResponder(
          row,
          gaps.filter((g) => g.responder_id === row.id),
          ctx.actor,
        ),
      ),
      total,
      can: { createFor: await this.partiesKept(ctx) },
      nextCursor: rows.length > limit && last ? encodeCursor([last.name, last.id]) : null,
    };
  }

  async update(ctx: Ctx, id: string, patch: ResponderPatch, ifMatch: number | undefined) {
    const row = await inTransaction(this.deps.db, async (trx) => {
      const current = await this.lockForChange(trx, ctx, id, ifMatch);
      const { userId, ...fields } = patch;
      const merged = { ...this.fieldsOf(current), ...fields };
      validate(merged, 'body');
      if (userId) await this.requireLinkable(trx, userId, current.party_code, id);
      const updated = await repo.updateResponder(trx, id, {
        ...columnsOf(merged),
        ...(userId !== undefined ? { user_id: userId } : {}),
        updated_at: this.deps.clock.now(),
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'responder.update',
        objectType: 'responder',
        objectId: id,
        summary: { party: current.party_code, fields: Object.keys(patch).sort() },
      });
      return updated;
    });
    return this.present(row, ctx.actor);
  }

  /** Replaces the responder's leave and unavailability periods with the given ones. */
  async setAvailability(ctx: Ctx, id: string, body: AvailabilityBody, ifMatch: number | undefined) {
    const problems: FieldProblem[] = [];
    const periods = body.unavailability.map((p) => ({
      ...p,
      start: Date.parse(p.from),
      end: Date.parse(p.to),
    }));
    periods.forEach((p, i) => {
      const usable = (ms: number) => !Number.isNaN(ms) && ms >= 0 && ms < Date.UTC(10000, 0, 1);
      if (!usable(p.start) || !usable(p.end)) {
        problems.push({
          field: `body/unavailability/${i}`,
          message: 'from and to must be times between 1970 and 9999',
        });
      } else if (p.end <= p.start) {
        problems.push({ field: `body/unavailability/${i}/to`, message: 'must be after from' });
      }
    });
    if (problems.length > 0) throw invalidInput('some periods are impossible', problems);
    const row = await inTransaction(this.deps.db, async (trx) => {
      const current = await this.lockForChange(trx, ctx, id, ifMatch);
      const rows: Insertable<ResponderUnavailabilityTable>[] = periods.map((p) => ({
        id: crypto.randomUUID(),
        responder_id: id,
        starts_at: new Date(p.start),
        ends_at: new Date(p.end),
        kind: p.kind,
        note: p.note ?? null,
      }));
      await repo.replaceUnavailability(trx, id, rows);
      const updated = await repo.updateResponder(trx, id, { updated_at: this.deps.clock.now() });
      await this.deps.audit.record(trx, ctx, {
        action: 'responder.availability',
        objectType: 'responder',
        objectId: id,
        summary: { party: current.party_code, periods: rows.length },
      });
      return updated;
    });
    return this.present(row, ctx.actor);
  }

  private async lockForChange(trx: Tx, ctx: Ctx, id: string, ifMatch: number | undefined) {
    const row = await repo.lockVisible(trx, ctx.actor, id);
    if (!row) throw notFound(`responder ${id}`);
    this.requireKeeper(ctx, row.party_code);
    if (ifMatch !== undefined && ifMatch !== row.version) {
      throw new AppError(
        'precondition_failed',
        `the responder changed since you read it: you sent version ${ifMatch}, it is now at version ${row.version}`,
      );
    }
    return row;
  }

  /** A responder is linked to one user of their own party, and a user to one responder. */
  private async requireLinkable(trx: Tx, userId: string, party: string, responderId: string | null) {
    const user = await repo.userParty(trx, userId);
    if (!user || user.party_code !== party) {
      throw invalidInput(`no user of ${party} has the id ${userId}`, [
        { field: 'body/userId', message: `not a user of ${party}` },
      ]);
    }
    const taken = await repo.responderOfUser(trx, userId, responderId);
    if (taken) throw new AppError('conflict', `that user is already the responder ${taken.id}`);
  }

  /** The parties whose people the caller keeps (the `can.createFor` of the listing). */
  private async partiesKept(ctx: Ctx): Promise<string[]> {
    if (hasRole(ctx.actor, 'admin')) return partyCodes(this.deps.db);
    return ctx.actor.party ? partiesKeptBy(ctx.actor, [ctx.actor.party]) : [];
  }

  /** Only the home party's PoC (or an admin) keeps a party's people. */
  private requireKeeper(ctx: Ctx, party: string) {
    if (keepsRoster(ctx.actor, party)) return;
    throw forbidden(`only a PoC of ${party} (or an admin) keeps ${party}'s responders`);
  }

  private fieldsOf(row: ResponderRow): NewResponder {
    return {
      name: row.name,
      affiliation: row.affiliation as NewResponder['affiliation'],
      skills: row.skills as NewResponder['skills'],
      languages: row.languages,
      clearance: row.clearance as NewResponder['clearance'],
      base: row.base as NewResponder['base'],
      readiness: row.readiness as NewResponder['readiness'],
      travelDocumentsUntil: row.travel_documents_until,
    };
  }

  private async present(row: ResponderRow, viewer: Actor) {
    return presentResponder(row, await repo.unavailability(this.deps.db, [row.id]), viewer);
  }
}

export function presentResponder(
  row: ResponderRow,
  gaps: Selectable<ResponderUnavailabilityTable>[],
  viewer: Actor,
): Responder {
  return {
    id: row.id,
    party: row.party_code,
    name: row.name,
    affiliation: row.affiliation as Responder['affiliation'],
    skills: row.skills as Responder['skills'],
    languages: row.languages,
    clearance: row.clearance as Responder['clearance'],
    base: row.base as Responder['base'],
    readiness: row.readiness as Responder['readiness'],
    travelDocumentsUntil: row.travel_documents_until,
    userId: row.user_id,
    unavailability: gaps.map((g) => ({
      from: g.starts_at.toISOString(),
      to: g.ends_at.toISOString(),
      kind: g.kind as 'leave',
      ...(g.note ? { note: g.note } : {}),
    })),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: row.version,
    can: responderPermissions(viewer, row),
  };
}

function validate(input: Omit<NewResponder, 'party'>, at: string) {
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  input.skills.forEach((s, i) => {
    if (seen.has(s.skill))
      problems.push({ field: `${at}/skills/${i}/skill`, message: `${s.skill} is listed twice` });
    seen.add(s.skill);
  });
  input.languages.forEach((code, i) => {
    if (!ISO6391.validate(code))
      problems.push({ field: `${at}/languages/${i}`, message: `${code} is not an ISO 639-1 language` });
  });
  if (!isTimeZone(input.base.timeZone)) {
    problems.push({
      field: `${at}/base/timeZone`,
      message: `${input.base.timeZone} is not an IANA time zone (e.g. Europe/Vilnius)`,
    });
  }
  const until = input.travelDocumentsUntil;
  if (until && !isCalendarDay(until)) {
    problems.push({
      field: `${at}/travelDocumentsUntil`,
      message: `${until} is not a calendar date from 1000-01-01 to 9998-12-31`,
    });
  }
  if (problems.length > 0) {
    throw invalidInput(
      `the responder has problems: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`,
      problems,
    );
  }
}

function columnsOf(input: Omit<NewResponder, 'party'>) {
  return {
    name: input.name,
    affiliation: input.affiliation,
    skills: JSON.stringify(input.skills),
    languages: input.languages,
    clearance: input.clearance,
    base: JSON.stringify(input.base),
    readiness: JSON.stringify(input.readiness),
    travel_documents_until: input.travelDocumentsUntil ?? null,
  };
}

function nameCursor(cursor: string) {
  const [name, id] = decodeCursor<[string, string]>(cursor, ['text', 'uuid']);
  return { name, id };
}
