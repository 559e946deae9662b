import type { Framework, FrameworkRules, NewFramework } from '@vytis/contracts';
import type { Kysely, Selectable } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import { type Ctx, hasRole } from '../../context.ts';
import { conflict, type FieldProblem, forbidden, invalidInput, notFound } from '../../errors.ts';
import { endOfUtcDay, parseDay } from '../../platform/days.ts';
import type { Database, FrameworksTable } from '../../platform/db/schema.ts';
import { type Executor, inTransaction } from '../../platform/db/transaction.ts';
import * as parties from '../parties/parties.repository.ts';
import { touchFederatedRequests } from '../requests/requests.repository.ts';
import * as repo from './framework.repository.ts';

export interface FrameworkDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
}

export const presentFramework = (row: Selectable<FrameworksTable>): Framework => ({
  version: row.version,
  effectiveFrom: row.effective_from.toISOString(),
  note: row.note,
  createdAt: row.created_at.toISOString(),
  createdBy: row.created_by,
  rules: row.rules as FrameworkRules,
});

/**
 * On a national node that has a coordinating peer, the registry (parties, their statuses and the
 * framework) is the coordinating node's and arrives on its feed: a local change would fork it, so it
 * is refused (409) naming where to make it. A node that is not federated keeps its own.
 */
export async function refuseIfRegistryIsMirrored(db: Executor, what: string) {
  const keeper = await db
    .selectFrom('federation_peers')
    .select('party_code')
    .where('role', '=', 'coordinator')
    .where('status', '=', 'active')
    .orderBy('party_code')
    .executeTakeFirst();
  if (keeper) {
    throw conflict(
      `${what} are kept by ${keeper.party_code}'s coordinating node and flow from there: make the change on ${keeper.party_code}'s node`,
    );
  }
}

/** The mandate's rules as versioned data: a version applies from its effective time until the next. */
export class FrameworkService {
  constructor(private readonly deps: FrameworkDeps) {}

  async inForce(at: Date = this.deps.clock.now(), db: Executor = this.deps.db): Promise<Framework> {
    const row = await repo.inForce(db, at);
    if (!row) throw notFound(`framework in force on ${at.toISOString()}`);
    return presentFramework(row);
  }

  /** The version in force at the end of a UTC day, or null before the first one. */
  async inForceOn(day: string, db: Executor = this.deps.db): Promise<Framework | null> {
    const row = await repo.inForce(db, endOfUtcDay(day));
    return row ? presentFramework(row) : null;
  }

  /** For `GET /framework?asOf=`: now, or the end of the given day. */
  async asOf(asOf: string | undefined): Promise<Framework> {
    if (asOf === undefined) return this.inForce();
    const day = parseDay(asOf, 'querystring/asOf');
    const framework = await this.inForceOn(day);
    if (!framework) throw notFound(`framework in force on ${day}`);
    return framework;
  }

  async versions() {
    return { items: (await repo.listVersions(this.deps.db)).map(presentFramework) };
  }

  async publish(ctx: Ctx, input: NewFramework): Promise<Framework> {
    if (!hasRole(ctx.actor, 'admin')) throw forbidden('only admins publish framework versions');
    const effectiveFrom = new Date(input.effectiveFrom);
    const problems: FieldProblem[] = [];
    if (input.rules.deployments.minTeamSize > input.rules.deployments.maxTeamSize) {
      problems.push({ field: 'rules.deployments.minTeamSize', message: 'must not exceed maxTeamSize' });
    }
    return inTransaction(this.deps.db, async (trx) => {
      await refuseIfRegistryIsMirrored(trx, 'framework versions');
      const named = [input.rules.leadParticipant, ...Object.values(input.rules.rotatingParticipants)];
      for (const code of new Set(named)) {
        if (!(await parties.findParty(trx, code)))
          problems.push({ field: 'rules', message: `unknown party ${code}` });
      }
      if (problems.length > 0) throw invalidInput('the framework rules are inconsistent', problems);
      const last = await repo.latest(trx);
      if (last && effectiveFrom < last.effective_from) {
        throw conflict(
          `a new version cannot take effect before version ${last.version} (${last.effective_from.toISOString()}): history is not rewritten`,
        );
      }
      const row = await repo.insertVersion(trx, {
        version: (last?.version ?? 0) + 1,
        effective_from: effectiveFrom,
        rules: JSON.stringify(input.rules),
        note: input.note ?? null,
        created_at: this.deps.clock.now(),
        created_by: ctx.actor.name,
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'framework.publish',
        objectType: 'framework',
        objectId: String(row.version),
        summary: { version: row.version, effectiveFrom: row.effective_from.toISOString(), note: row.note },
      });
      // Who votes may have changed, and with it which peers may receive this node's requests.
      await touchFederatedRequests(trx);
      return presentFramework(row);
    });
  }
}
