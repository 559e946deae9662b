import crypto from 'node:crypto';
import type { NewUser, Role } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import { type Actor, type Ctx, hasRole } from '../../context.ts';
import { AppError, conflict, forbidden, invalidInput, notFound } from '../../errors.ts';
import type { Database } from '../../platform/db/schema.ts';
import { inTransaction } from '../../platform/db/transaction.ts';
import {
  burnPasswordCheck,
  hashPassword,
  newSecret,
  secretHash,
  verifyPassword,
} from '../../platform/secrets.ts';
import * as parties from '../parties/parties.repository.ts';
import { presentMe, presentToken, presentUser } from './identity.presenters.ts';
import * as repo from './identity.repository.ts';

export interface IdentityDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  tokenTtlDays: number;
  sessionTtlHours: number;
}

const DAY = 86_400_000;
const actorOf = (row: { id: string; name: string; party_code: string; roles: string[] }): Actor => ({
  type: 'user',
  id: row.id,
  name: row.name,
  party: row.party_code,
  roles: row.roles as Role[],
});

/** Users, their API tokens and their web sessions. Secrets are returned once and stored only as hashes. */
export class IdentityService {
  constructor(private readonly deps: IdentityDeps) {}

  async createUser(ctx: Ctx, input: NewUser) {
    if (!hasRole(ctx.actor, 'admin')) throw forbidden('only admins create users');
    const party = input.party.toUpperCase();
    const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
    return inTransaction(this.deps.db, async (trx) => {
      if (!(await parties.findParty(trx, party))) {
        throw new AppError('not_found', `party ${party} not found`, [
          { field: 'party', message: `unknown party ${party}` },
        ]);
      }
      if (await repo.findUserByName(trx, input.name))
        throw conflict(`a user named ${input.name} already exists`);
      const row = await repo.insertUser(trx, {
        id: crypto.randomUUID(),
        name: input.name,
        party_code: party,
        roles: [...new Set(input.roles)],
        password_hash: passwordHash,
        created_at: this.deps.clock.now(),
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'user.create',
        objectType: 'user',
        objectId: row.id,
        summary: { name: row.name, party, roles: row.roles, password: passwordHash !== null },
      });
      return presentUser(row);
    });
  }

  /** The users the actor may see (access/policy.ts), optionally of one party, by name. */
  async listUsers(
    ctx: Ctx,
    opts: { party?: string | undefined; cursor?: string | undefined; limit: number },
  ) {
    const rows = await repo.listVisibleUsers(this.deps.db, ctx.actor, {
      party: opts.party?.toUpperCase(),
      afterName: opts.cursor,
      limit: opts.limit + 1,
    });
    const page = rows.slice(0, opts.limit);
    return {
      items: page.map(presentUser),
      nextCursor: rows.length > opts.limit ? (page.at(-1)?.name ?? null) : null,
    };
  }

  async getUser(ctx: Ctx, id: string) {
    const row = isUuid(id) ? await repo.findVisibleUser(this.deps.db, ctx.actor, id) : undefined;
    if (!row) throw notFound('user');
    return presentUser(row);
  }

  /**
   * Issues a token for `userRef` (a name or an id). Anyone may issue their own; admins anyone's.
   * Returns the secret once.
   */
  async issueToken(
    ctx: Ctx,
    userRef: string,
    opts: { label?: string | undefined; expiresInDays?: number | undefined } = {},
  ) {
    return inTransaction(this.deps.db, async (trx) => {
      const user = isUuid(userRef)
        ? await repo.findUserById(trx, userRef)
        : await repo.findUserByName(trx, userRef);
      const self = user !== undefined && ctx.actor.id === user.id;
      if (!user || !(self || hasRole(ctx.actor, 'admin'))) throw notFound('user');
      if (user.disabled_at) throw conflict(`user ${user.name} is disabled`);
      const token = newSecret('vyt');
      const now = this.deps.clock.now();
      const days = opts.expiresInDays ?? this.deps.tokenTtlDays;
      const row = await repo.insertToken(trx, {
        id: crypto.randomUUID(),
        user_id: user.id,
        token_hash: secretHash(token),
        label: opts.label ?? null,
        created_at: now,
        expires_at: new Date(now.getTime() + days * DAY),
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'token.issue',
        objectType: 'api_token',
        objectId: row.id,
        summary: { user: user.name, expiresAt: row.expires_at.toISOString(), label: row.label },
      });
      return { token, info: presentToken(row) };
    });
  }

  /** The actor's own tokens, never their secrets. */
  async listMyTokens(ctx: Ctx) {
    if (!ctx.actor.id) return { items: [] };
    return { items: (await repo.listTokens(this.deps.db, ctx.actor.id)).map(presentToken) };
  }

  async revokeToken(ctx: Ctx, tokenId: string) {
    return inTransaction(this.deps.db, async (trx) => {
      const token = isUuid(tokenId) ? await repo.findVisibleToken(trx, ctx.actor, tokenId) : undefined;
      if (!token) throw notFound('token');
      if (token.revoked_at) throw conflict('token is already revoked');
      const row = await repo.revokeToken(trx, tokenId, this.deps.clock.now());
      if (!row) throw conflict('token is already revoked');
      await this.deps.audit.record(trx, ctx, {
        action: 'token.revoke',
        objectType: 'api_token',
        objectId: tokenId,
        summary: { userId: token.user_id },
      });
      return presentToken(row);
    });
  }

  /** The actor of an enabled user, for the command line acting on someone's behalf (`--as NAME`). */
  async actorByName(name: string): Promise<Actor | null> {
    const row = await repo.findUserByName(this.deps.db, name);
    return row && !row.disabled_at ? actorOf(row) : null;
  }

  async authenticateToken(token: string): Promise<Actor | null> {
    const now = this.deps.clock.now();
    const row = await repo.findActiveTokenUser(this.deps.db, secretHash(token), now);
    if (!row) return null;
    // A token used within the last minute needs no write (nor a round trip) to say so.
    if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() >= 60_000) {
      await repo.touchToken(this.deps.db, row.token_id, now);
    }
    return actorOf(row);
  }

  /** A failed login is audited as a denial; the message never tells which half was wrong. */
  async login(ctx: Ctx, name: string, password: string) {
    const user = await repo.findUserByName(this.deps.db, name);
    let ok = false;
    if (user?.password_hash && !user.disabled_at) ok = await verifyPassword(password, user.password_hash);
    else await burnPasswordCheck(password);
    if (!user || !ok) {
      await this.deps.audit.recordDenial(ctx, {
        action: 'session.login.denied',
        objectType: 'user',
        objectId: user?.id ?? null,
        summary: { name },
      });
      throw new AppError('unauthenticated', 'wrong user name or password');
    }
    const secret = newSecret('vys');
    const csrfToken = crypto.randomBytes(24).toString('base64url');
    const now = this.deps.clock.now();
    const expiresAt = new Date(now.getTime() + this.deps.sessionTtlHours * 3_600_000);
    await inTransaction(this.deps.db, async (trx) => {
      const session = await repo.insertSession(trx, {
        id: crypto.randomUUID(),
        user_id: user.id,
        token_hash: secretHash(secret),
        csrf_token: csrfToken,
        created_at: now,
        expires_at: expiresAt,
      });
      await this.deps.audit.record(
        trx,
        { ...ctx, actor: actorOf(user) },
        {
          action: 'session.login',
          objectType: 'session',
          objectId: session.id,
          summary: { user: user.name },
        },
      );
    });
    return { secret, session: { user: presentMe(user), csrfToken, expiresAt: expiresAt.toISOString() } };
  }

  async authenticateSession(secret: string) {
    const row = await repo.findActiveSessionUser(this.deps.db, secretHash(secret), this.deps.clock.now());
    if (!row) return null;
    return {
      actor: actorOf(row),
      sessionId: row.session_id,
      csrfToken: row.csrf_token,
      session: { user: presentMe(row), csrfToken: row.csrf_token, expiresAt: row.expires_at.toISOString() },
    };
  }

  async logout(ctx: Ctx, sessionId: string) {
    await inTransaction(this.deps.db, async (trx) => {
      await repo.revokeSession(trx, sessionId, this.deps.clock.now());
      await this.deps.audit.record(trx, ctx, {
        action: 'session.logout',
        objectType: 'session',
        objectId: sessionId,
      });
    });
  }

  /** Authentication has just read the user: answer from the actor, not a second query. */
  me(ctx: Ctx) {
    const { id, name, party, roles } = ctx.actor;
    if (!id || !party) throw invalidInput('the local operator has no user record');
    return { id, name, party, roles: [...roles] };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);
