import type { EndedSessions, Role, User } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import { AppError, conflict, forbidden, invalidInput, notFound } from '../../errors.ts';
import type { Database, UserRow } from '../../platform/db/schema.ts';
import { inTransaction, type Tx } from '../../platform/db/transaction.ts';
import { hashPassword, verifyPassword } from '../../platform/secrets.ts';
import { type AccountAct, grantableRoles, refusal, ungrantable } from './account-policy.ts';
import { presentUser } from './identity.presenters.ts';
import * as repo from './identity.repository.ts';
import { isUuid } from './identity.service.ts';
import * as mfaRepo from './mfa.repository.ts';
import type { TokenCache } from './token-cache.ts';

export interface AccountsDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  /** Cached tokens of this process go when an account changes (other processes hear it at commit). */
  tokens?: TokenCache;
}

/**
 * Containing accounts: disable and enable, roles, password resets, ending every session and token.
 * Admins act on anyone; a party's PoC on its own party's users except admins (account-policy.ts).
 * Authentication reads the user row on every request, so each change holds from the next request.
 */
export class AccountsService {
  constructor(private readonly deps: AccountsDeps) {}

  /** Disabling contains the account: its sessions, tokens and half-done logins end with it. */
  async disable(ctx: Ctx, id: string, input: { reason?: string | undefined }, ifMatch?: number) {
    return this.act(ctx, id, 'disable', ifMatch, async (trx, target, now) => {
      if (target.disabled_at) throw conflict(`user ${target.name} is already disabled`);
      if (target.roles.includes('admin')) await this.keepAnAdmin(trx, target);
      const row = await repo.updateUser(trx, target.id, { disabled_at: now });
      const ended = await this.endAll(trx, target.id, now);
      await this.audit(trx, ctx, 'user.disable', row, { reason: input.reason ?? null, ...ended });
      return row;
    });
  }

  async enable(ctx: Ctx, id: string, ifMatch?: number) {
    return this.act(ctx, id, 'enable', ifMatch, async (trx, target) => {
      if (!target.disabled_at) throw conflict(`user ${target.name} is not disabled`);
      const row = await repo.updateUser(trx, target.id, { disabled_at: null });
      await this.audit(trx, ctx, 'user.enable', row, { disabledSince: target.disabled_at.toISOString() });
      return row;
    });
  }

  async setRoles(ctx: Ctx, id: string, roles: Role[], ifMatch?: number) {
    const wanted = [...new Set(roles)];
    return this.act(ctx, id, 'setRoles', ifMatch, async (trx, target, now) => {
      const refused = ungrantable(ctx.actor, target.roles, wanted);
      if (refused.length > 0) {
        throw forbidden(
          `you may not grant or remove the role(s) ${refused.join(', ')}; you may change only ${grantableRoles(ctx.actor).join(', ')}`,
        );
      }
      const same = wanted.length === target.roles.length && wanted.every((r) => target.roles.includes(r));
      if (same) return target;
      if (target.roles.includes('admin') && !wanted.includes('admin') && !target.disabled_at) {
        await this.keepAnAdmin(trx, target);
      }
      const row = await repo.updateUser(trx, target.id, { roles: wanted });
      // Tokens issued before would act as an admin without the admin ever presenting a password
      // (or, under VYTIS_REQUIRE_MFA=admins, a second factor) as one: the new admin issues new ones.
      const madeAdmin = wanted.includes('admin') && !target.roles.includes('admin');
      const tokensRevoked = madeAdmin ? await repo.revokeUserTokens(trx, target.id, now) : 0;
      await this.audit(trx, ctx, 'user.roles', row, {
        from: target.roles,
        to: wanted,
        ...(madeAdmin ? { tokensRevoked } : {}),
      });
      return row;
    });
  }

  /**
   * An admin or PoC sets a new password; the user's web sessions end (API tokens stay: to contain a
   * leaked password, end every session and token too, DELETE /users/:id/sessions).
   */
  async resetPassword(ctx: Ctx, id: string, password: string, ifMatch?: number) {
    // The API's schema says the same; the command line reaches here without it.
    if (password.length < 12 || password.length > 1024) {
      throw invalidInput('a password must have 12 to 1024 characters', [
        { field: 'password', message: 'must have 12 to 1024 characters' },
      ]);
    }
    const hash = await hashPassword(password);
    return this.act(ctx, id, 'resetPassword', ifMatch, async (trx, target, now) => {
      const row = await repo.updateUser(trx, target.id, { password_hash: hash });
      const sessions = await repo.revokeUserSessions(trx, target.id, now);
      await mfaRepo.endChallenges(trx, target.id, now);
      await this.audit(trx, ctx, 'user.password.reset', row, { sessionsEnded: sessions });
      return row;
    });
  }

  /**
   * Removes a user's second factor (a lost phone and lost recovery codes); their web sessions end,
   * and their next login takes the password alone (or, if their role requires one, enrols anew).
   */
  async resetMfa(ctx: Ctx, id: string, ifMatch?: number) {
    return this.act(ctx, id, 'resetMfa', ifMatch, async (trx, target, now) => {
      if (target.mfa_secret === null) throw conflict(`${target.name} has no second factor`);
      await mfaRepo.disableMfa(trx, target.id);
      const sessions = await repo.revokeUserSessions(trx, target.id, now);
      await mfaRepo.endChallenges(trx, target.id, now);
      const row = await repo.lockUserById(trx, target.id);
      await this.audit(trx, ctx, 'user.mfa.reset', row!, { sessionsEnded: sessions });
      return row!;
    });
  }

  /** Ends every web session and revokes every API token of the user: "sign out everywhere". */
  async endSessions(ctx: Ctx, id: string): Promise<EndedSessions> {
    let ended: EndedSessions = { sessions: 0, tokens: 0 };
    await this.act(ctx, id, 'endSessions', undefined, async (trx, target, now) => {
      ended = await this.endAll(trx, target.id, now);
      await this.audit(trx, ctx, 'user.sessions.end', target, ended);
      return target;
    });
    return ended;
  }

  /**
   * Users change their own password with their current one; their other sessions and all their API
   * tokens end (whoever knew the old password may have issued themselves one).
   */
  async changeOwnPassword(
    ctx: Ctx,
    input: { currentPassword: string; newPassword: string },
    currentSessionId: string | null,
  ) {
    const id = ctx.actor.id;
    if (!id) throw invalidInput('the local operator has no password; use vytis user password NAME');
    const user = await repo.findUserById(this.deps.db, id);
    if (!user) throw notFound('user');
    if (user.password_hash === null || !(await verifyPassword(input.currentPassword, user.password_hash))) {
      throw new AppError('forbidden', 'that is not your current password', [
        { field: 'body/currentPassword', message: 'is not your current password' },
      ]);
    }
    const hash = await hashPassword(input.newPassword);
    try {
      await inTransaction(this.deps.db, async (trx) => {
        const now = this.deps.clock.now();
        const row = await repo.updateUser(trx, id, { password_hash: hash });
        const sessions = await repo.revokeUserSessions(trx, id, now, currentSessionId ?? undefined);
        const tokens = await repo.revokeUserTokens(trx, id, now);
        await this.audit(trx, ctx, 'user.password.change', row, {
          otherSessionsEnded: sessions,
          tokensRevoked: tokens,
        });
      });
    } finally {
      this.deps.tokens?.invalidate();
    }
  }

  /**
   * One act on one account: the target is locked, must be visible to the actor (else 404, as if
   * absent), the actor must be allowed (else 403), the version must match If-Match (else 412).
   */
  private async act(
    ctx: Ctx,
    id: string,
    act: AccountAct,
    ifMatch: number | undefined,
    work: (trx: Tx, target: UserRow, now: Date) => Promise<UserRow>,
  ): Promise<User> {
    try {
      return await this.actInTransaction(ctx, id, act, ifMatch, work);
    } finally {
      this.deps.tokens?.invalidate();
    }
  }

  private actInTransaction(
    ctx: Ctx,
    id: string,
    act: AccountAct,
    ifMatch: number | undefined,
    work: (trx: Tx, target: UserRow, now: Date) => Promise<UserRow>,
  ): Promise<User> {
    return inTransaction(this.deps.db, async (trx) => {
      const target = isUuid(id) ? await repo.lockVisibleUser(trx, ctx.actor, id) : undefined;
      if (!target) throw notFound('user');
      const refused = refusal(ctx.actor, target, act);
      if (refused) throw forbidden(refused);
      if (ifMatch !== undefined && ifMatch !== target.version) {
        throw new AppError(
          'precondition_failed',
          `the user changed since you read it: you sent version ${ifMatch}, it is now at version ${target.version}`,
        );
      }
      return presentUser(await work(trx, target, this.deps.clock.now()), ctx.actor);
    });
  }

  /** Nobody can disable or demote the last enabled admin: the node would have nobody to run it. */
  private async keepAnAdmin(trx: Tx, target: UserRow) {
    if ((await repo.otherActiveAdmins(trx, target.id)) === 0) {
      throw conflict(
        `${target.name} is the last active admin; make another user admin first, so someone can still run the node`,
      );
    }
  }

  private async endAll(trx: Tx, userId: string, now: Date): Promise<EndedSessions> {
    const sessions = await repo.revokeUserSessions(trx, userId, now);
    const tokens = await repo.revokeUserTokens(trx, userId, now);
    await mfaRepo.endChallenges(trx, userId, now);
    return { sessions, tokens };
  }

  private async audit(trx: Tx, ctx: Ctx, action: string, row: UserRow, summary: Record<string, unknown>) {
    await this.deps.audit.record(trx, ctx, {
      action,
      objectType: 'user',
      objectId: row.id,
      summary: { name: row.name, party: row.party_code, ...summary },
    });
  }
}
