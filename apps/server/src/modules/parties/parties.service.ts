import type { FrameworkRules, Party, PartyKind, PartyStatus, StatusChange } from '@vytis/contracts';
import type { Kysely, Selectable } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import { type Ctx, hasRole } from '../../context.ts';
import { conflict, forbidden, invalidInput, notFound } from '../../errors.ts';
import { parseDay, utcDay } from '../../platform/days.ts';
import type { Database, PartyStatusesTable } from '../../platform/db/schema.ts';
import { type Executor, inTransaction } from '../../platform/db/transaction.ts';
import { type FrameworkService, refuseIfRegistryIsMirrored } from '../framework/framework.service.ts';
import { touchFederatedRequests } from '../requests/requests.repository.ts';
import * as repo from './parties.repository.ts';

export interface PartiesDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  framework: FrameworkService;
}

type StatusRow = Selectable<PartyStatusesTable>;

/** The status in force on `day`: the latest change effective on or before it. */
export function statusOn(history: readonly { status: string; effective_from: string }[], day: string) {
  let current: string | null = null;
  for (const row of history) if (row.effective_from <= day) current = row.status;
  return current as PartyStatus | null;
}

function presentHistory(rows: readonly StatusRow[]) {
  return rows.map((row, i) => ({
    status: row.status as PartyStatus,
    from: row.effective_from,
    to: rows[i + 1]?.effective_from ?? null,
    note: row.note,
    recordedAt: row.recorded_at.toISOString(),
    recordedBy: row.recorded_by,
  }));
}

function mandateRoles(code: string, rules: FrameworkRules, day: string): Party['roles'] {
  const roles: Party['roles'] = [];
  if (rules.leadParticipant === code) roles.push('lead');
  if (rules.rotatingParticipants[day.slice(0, 4)] === code) roles.push('rotating');
  return roles;
}

/**
 * The first day of a status change: `from`, the name statusHistory reads it by, or `effectiveFrom`,
 * the name it was first written by (still accepted, so older clients keep working).
 */
function firstDayOf(change: StatusChange): string {
  const { from, effectiveFrom } = change;
  if (from !== undefined && effectiveFrom !== undefined && from !== effectiveFrom) {
    throw invalidInput('send the first day once: from (or its former name effectiveFrom), not both', [
      { field: 'body/effectiveFrom', message: `differs from body/from (${from}); send only from` },
    ]);
  }
  const day = from ?? effectiveFrom;
  if (day === undefined) {
    throw invalidInput('a status change says from which day it is in force: body/from is required', [
      { field: 'body/from', message: 'is required' },
    ]);
  }
  parseDay(day, from !== undefined ? 'body/from' : 'body/effectiveFrom'); // rejects 2026-02-31 and the like
  return day;
}

/** Parties of the force and their status over time. Every user of the force may read them. */
export class PartiesService {
  constructor(private readonly deps: PartiesDeps) {}

  async list(_ctx: Ctx, query: { asOf?: string | undefined; status?: PartyStatus | undefined }) {
    const day = this.asOfDay(query.asOf);
    const items = await this.load(this.deps.db, day);
    return { asOf: day, items: query.status ? items.filter((p) => p.status === query.status) : items };
  }

  async get(_ctx: Ctx, code: string, asOf?: string) {
    const day = this.asOfDay(asOf);
    const [party] = await this.load(this.deps.db, day, code.toUpperCase());
    if (!party) throw notFound(`party ${code}`);
    return party;
  }

  private asOfDay(asOf: string | undefined): string {
    return asOf === undefined ? utcDay(this.deps.clock.now()) : parseDay(asOf, 'querystring/asOf');
  }

  async changeStatus(ctx: Ctx, code: string, change: StatusChange): Promise<Party> {
    if (!hasRole(ctx.actor, 'admin')) throw forbidden('only admins change a party status');
    const partyCode = code.toUpperCase();
    const from = firstDayOf(change);
    await inTransaction(this.deps.db, async (trx) => {
      await refuseIfRegistryIsMirrored(trx, 'party statuses');
      if (!(await repo.findParty(trx, partyCode))) throw notFound(`party ${partyCode}`);
      const history = await repo.statusRows(trx, partyCode);
      if (history.some((row) => row.effective_from === from)) {
        throw conflict(`party ${partyCode} already has a status change effective ${from}`);
      }
      const before = statusOn(history, from);
      if (before === change.status) {
        throw conflict(`party ${partyCode} is already ${change.status} on ${from}`);
      }
      await repo.insertStatus(trx, {
        party_code: partyCode,
        status: change.status,
        effective_from: from,
        note: change.note ?? null,
        recorded_at: this.deps.clock.now(),
        recorded_by: ctx.actor.name,
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'party.status.change',
        objectType: 'party',
        objectId: partyCode,
        summary: { from: before, to: change.status, effectiveFrom: from, note: change.note ?? null },
      });
      // Who GREEN reaches changed: peers receive, or have withdrawn, what the community now covers.
      await repo.touchFederatedCases(trx);
      await touchFederatedRequests(trx);
    });
    return this.get(ctx, partyCode, from);
  }

  private async load(db: Executor, day: string, code?: string): Promise<Party[]> {
    const [rows, statuses, framework] = await Promise.all([
      repo.listParties(db, code),
      repo.statusRows(db, code),
      this.deps.framework.inForceOn(day, db),
    ]);
    const byParty = new Map<string, StatusRow[]>();
    for (const s of statuses) byParty.set(s.party_code, [...(byParty.get(s.party_code) ?? []), s]);
    return rows.map((row) => {
      const history = byParty.get(row.code) ?? [];
      return {
        code: row.code,
        name: row.name,
        kind: row.kind as PartyKind,
        status: statusOn(history, day),
        asOf: day,
        roles: framework ? mandateRoles(row.code, framework.rules, day) : [],
        statusHistory: presentHistory(history),
      };
    });
  }
}
