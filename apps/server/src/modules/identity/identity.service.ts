import crypto from 'node:crypto';
import type { MfaChallenge, NewUser, Role, Session } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import { type Actor, type Ctx, hasRole } from '../../context.ts';
import { AppError, conflict, forbidden, invalidInput, notFound } from '../../errors.ts';
import type { Database } from '../../platform/db/schema.ts';
import { inTransaction, type Tx } from '../../platform/db/transaction.ts';
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
import * as mfaRepo from './mfa.repository.ts';
import { type MfaService, mfaRequiredFor } from './mfa.service.ts';
import type { TokenCache } from './token-cache.ts';

export interface IdentityDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  tokenTtlDays: number;
  sessionTtlHours: number;
  mfa: MfaService;
  /** Authenticated tokens kept briefly, so a busy client's requests skip the token query. */
  tokens?: TokenCache;
}

const DAY = 86_400_000;
/** Time between a login's password and its code. */
const CHALLENGE_TTL_MS = 5 * 60_000;
/** Wrong codes one challenge takes before the password must be entered again. */
const CHALLENGE_MAX_FAILURES = 5;
const LOGIN_REFUSED = 'wrong user name or password';
const CHALLENGE_GONE = 'this login has expired or was refused too often; enter your password again';
const actorOf = (row: { id: string; name: string; party_code: string; roles: string[] }): Actor => ({
  type: 'user',
  id: row.id,
  name: row.name,
  party: row.party_code,
  roles: row.roles as Role[],
});

const usedOverAMinuteAgo = (lastUsedAt: Date | null, now: Date) =>
  !lastUsedAt || now.getTime() - lastUsedAt.getTime() >= 60_000;

/** Users, their API tokens and their web sessions. Secrets are returned once and stored only as hashes. */
export class IdentityService {
  constructor(private readonly deps: IdentityDeps) {}

  /**
   * `hashed` is for the demo loader only (not reachable over HTTP): one hash of the published demo
   * password for all its people, rather than a slow scrypt per person on every `vytis demo`.
   */
  /** Whether any user exists (a node without one needs its first admin, made with the CLI). */
  async anyUserExists(): Promise<boolean> {
    return (await this.deps.db.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
  }

  async createUser(ctx: Ctx, input: NewUser, hashed?: { passwordHash: string }) {
    if (!hasRole(ctx.actor, 'admin')) throw forbidden('only admins create users');
    const party = input.party.toUpperCase();
    const passwordHash =
      hashed?.passwordHash ?? (input.password === undefined ? null : await hashPassword(input.password));
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
      return presentUser(row, ctx.actor);
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
      items: page.map((row) => presentUser(row, ctx.actor)),
      nextCursor: rows.length > opts.limit ? (page.at(-1)?.name ?? null) : null,
    };
  }

  async getUser(ctx: Ctx, id: string) {
    const row = isUuid(id) ? await repo.findVisibleUser(this.deps.db, ctx.actor, id) : undefined;
    if (!row) throw notFound('user');
    return presentUser(row, ctx.actor);
  }

  /**
   * Issues a token for `userRef` (a name or an id). Anyone may issue their own; admins anyone's.
   * Returns the secret once. An account that must enrol a second factor gets no token that works
   * until it has one (`authenticateBearer`), and enrolling revokes the tokens it had.
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
      // Checked as it is now, and kept so until the token is in: a disable waits for it, and revokes it.
      const current = await repo.shareLockUser(trx, user.id);
      if (!current) throw notFound('user');
      if (current.disabled_at) throw conflict(`user ${user.name} is disabled`);
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
    try {
      return await this.revokeTokenInTransaction(ctx, tokenId);
    } finally {
      this.deps.tokens?.invalidate();
    }
  }

  private revokeTokenInTransaction(ctx: Ctx, tokenId: string) {
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

  /** For the command line, which names users: the id of the user of that name, if there is one. */
  async userIdByName(name: string): Promise<string | null> {
    return (await repo.findUserByName(this.deps.db, name))?.id ?? null;
  }

  /** The actor of an enabled user, for the command line acting on someone's behalf (`--as NAME`). */
  async actorByName(name: string): Promise<Actor | null> {
    const row = await repo.findUserByName(this.deps.db, name);
    return row && !row.disabled_at ? actorOf(row) : null;
  }

  /**
   * The actor of a valid token, or null. A token of an account that must still enrol a second
   * factor counts as none here; `authenticateBearer` tells the two apart for a clear refusal.
   */
  async authenticateToken(token: string): Promise<Actor | null> {
    const caller = await this.authenticateBearer(token);
    return caller && !caller.mfaEnrolmentRequired ? caller.actor : null;
  }

  /**
   * Who a bearer token speaks for, and whether that account must enrol a second factor first: under
   * VYTIS_REQUIRE_MFA=admins an admin's token does nothing until the admin has one, or a password
   * alone (a session, then a self-issued token) would be enough to act as an admin.
   */
  async authenticateBearer(token: string): Promise<{ actor: Actor; mfaEnrolmentRequired: boolean } | null> {
    const now = this.deps.clock.now();
    const hash = secretHash(token);
    const cache = this.deps.tokens;
    const cached = cache?.get(hash);
    if (cached && cached.expiresAt > now) {
      if (usedOverAMinuteAgo(cached.lastUsedAt, now)) {
        await repo.touchToken(this.deps.db, cached.tokenId, now);
        cached.lastUsedAt = now;
      }
      return { actor: cached.actor, mfaEnrolmentRequired: cached.mfaEnrolmentRequired };
    }
    const generation = cache?.mark() ?? 0;
    const row = await repo.findActiveTokenUser(this.deps.db, hash, now);
    if (!row) return null;
    // A token used within the last minute needs no write (nor a round trip) to say so.
    const touched = usedOverAMinuteAgo(row.last_used_at, now);
    if (touched) await repo.touchToken(this.deps.db, row.token_id, now);
    const actor = actorOf(row);
    const mfaEnrolmentRequired = this.mustEnrol(row.roles, row.has_mfa);
    cache?.remember(generation, hash, {
      actor,
      mfaEnrolmentRequired,
      tokenId: row.token_id,
      expiresAt: row.expires_at,
      lastUsedAt: touched ? now : row.last_used_at,
    });
    return { actor, mfaEnrolmentRequired };
  }

  /**
   * The password step of a login. A failed one is audited as a denial; the message never tells
   * which half was wrong. A user with a second factor gets a challenge to answer with a code
   * (`completeMfaLogin`) instead of a session.
   */
  async login(ctx: Ctx, name: string, password: string): Promise<LoginResult> {
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
      throw new AppError('unauthenticated', LOGIN_REFUSED);
    }
    if (user.mfa_secret !== null) {
      const challenge = newSecret('vyc');
      const now = this.deps.clock.now();
      const expiresAt = new Date(now.getTime() + CHALLENGE_TTL_MS);
      const issued = await inTransaction(this.deps.db, async (trx) => {
        if (!unchangedSince(user, await repo.shareLockUser(trx, user.id))) return false;
        const id = crypto.randomUUID();
        await mfaRepo.insertChallenge(trx, {
          id,
          user_id: user.id,
          token_hash: secretHash(challenge),
          created_at: now,
          expires_at: expiresAt,
        });
        await this.deps.audit.record(
          trx,
          { ...ctx, actor: actorOf(user) },
          {
            action: 'session.login.challenge',
            objectType: 'user',
            objectId: user.id,
            summary: { user: user.name },
          },
        );
        return true;
      });
      if (!issued) return this.refuseChangedLogin(ctx, user);
      return { kind: 'mfa', challenge: { mfaRequired: true, challenge, expiresAt: expiresAt.toISOString() } };
    }
    const opened = await inTransaction(this.deps.db, async (trx) =>
      unchangedSince(user, await repo.shareLockUser(trx, user.id))
        ? this.openSession(trx, ctx, user, 'password')
        : undefined,
    );
    if (!opened) return this.refuseChangedLogin(ctx, user);
    return { kind: 'session', ...opened };
  }

  /** The account changed while its password was checked (a reset, a disable, a new factor). */
  private async refuseChangedLogin(ctx: Ctx, user: { id: string; name: string }): Promise<never> {
    await this.deps.audit.recordDenial(ctx, {
      action: 'session.login.denied',
      objectType: 'user',
      objectId: user.id,
      summary: { name: user.name, reason: 'the account changed during the login' },
    });
    throw new AppError('unauthenticated', LOGIN_REFUSED);
  }

  /**
   * The code step of a login. Each challenge takes a few wrong codes, then the password must be
   * entered again; a code (or recovery code) is used up by the login it opens. Refusals are audited.
   */
  async completeMfaLogin(ctx: Ctx, challenge: string, code: string) {
    const outcome = await inTransaction(this.deps.db, async (trx) => {
      const row = await mfaRepo.lockChallenge(trx, secretHash(challenge));
      const now = this.deps.clock.now();
      if (
        !row ||
        row.used_at !== null ||
        row.expires_at <= now ||
        row.failures >= CHALLENGE_MAX_FAILURES ||
        row.disabled_at !== null
      ) {
        return { ok: false as const, user: row, reason: CHALLENGE_GONE };
      }
      const check = await this.deps.mfa.check(trx, row, code);
      if (!check.ok) {
        await mfaRepo.countChallengeFailure(trx, row.challenge_id);
        await this.deps.audit.record(trx, ctx, {
          action: 'session.login.denied',
          objectType: 'user',
          objectId: row.id,
          summary: { name: row.name, step: 'code', reason: check.reason },
        });
        return { ok: false as const, user: undefined, reason: `the code was not accepted: ${check.reason}` };
      }
      await mfaRepo.useChallenge(trx, row.challenge_id, now);
      return { ok: true as const, ...(await this.openSession(trx, ctx, row, check.method)) };
    });
    if (outcome.ok) return { secret: outcome.secret, session: outcome.session };
    if (outcome.reason === CHALLENGE_GONE) {
      await this.deps.audit.recordDenial(ctx, {
        action: 'session.login.denied',
        objectType: 'user',
        objectId: outcome.user?.id ?? null,
        summary: { name: outcome.user?.name ?? null, step: 'code', reason: 'challenge not valid' },
      });
    }
    throw new AppError('unauthenticated', outcome.reason);
  }

  private async openSession(
    trx: Tx,
    ctx: Ctx,
    user: { id: string; name: string; party_code: string; roles: string[]; mfa_secret: string | null },
    factor: 'password' | 'totp' | 'recovery',
  ) {
    const secret = newSecret('vys');
    const csrfToken = crypto.randomBytes(24).toString('base64url');
    const now = this.deps.clock.now();
    const expiresAt = new Date(now.getTime() + this.deps.sessionTtlHours * 3_600_000);
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
        summary: { user: user.name, factor },
      },
    );
    return {
      secret,
      session: {
        user: presentMe(user),
        csrfToken,
        expiresAt: expiresAt.toISOString(),
        mfaEnrolmentRequired: this.mustEnrol(user.roles, user.mfa_secret !== null),
      },
    };
  }

  /** Under VYTIS_REQUIRE_MFA=admins, an admin without a second factor may only enrol one. */
  private mustEnrol(roles: readonly string[], hasMfa: boolean) {
    return !hasMfa && mfaRequiredFor(this.deps.mfa.policy, roles);
  }

  async authenticateSession(secret: string) {
    const row = await repo.findActiveSessionUser(this.deps.db, secretHash(secret), this.deps.clock.now());
    if (!row) return null;
    const mfaEnrolmentRequired = this.mustEnrol(row.roles, row.has_mfa);
    return {
      actor: actorOf(row),
      sessionId: row.session_id,
      csrfToken: row.csrf_token,
      mfaEnrolmentRequired,
      session: {
        user: presentMe(row),
        csrfToken: row.csrf_token,
        expiresAt: row.expires_at.toISOString(),
        mfaEnrolmentRequired,
      },
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
    return presentMe({ id, name, party_code: party, roles: [...roles] });
  }
}

export type LoginResult =
  | { kind: 'mfa'; challenge: MfaChallenge }
  | { kind: 'session'; secret: string; session: Session };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string) => UUID.test(value);

/**
 * Whether the account is as the password step checked it: no reset, disable or change of its
 * second factor since. A login that read it before such a change is refused, not let in past it.
 */
function unchangedSince(
  checked: { version: number; password_hash: string | null; mfa_secret: string | null },
  now:
    | { version: number; password_hash: string | null; mfa_secret: string | null; disabled_at: Date | null }
    | undefined,
) {
  return (
    now !== undefined &&
    now.disabled_at === null &&
    now.version === checked.version &&
    now.password_hash === checked.password_hash &&
    now.mfa_secret === checked.mfa_secret
  );
}
