import type { MfaEnrolment, MfaStatus, RecoveryCodes } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import QRCode from 'qrcode';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import { type Ctx, systemCtx } from '../../context.ts';
import { AppError, conflict, invalidInput } from '../../errors.ts';
import type { Database, UserRow } from '../../platform/db/schema.ts';
import { inTransaction, type Tx } from '../../platform/db/transaction.ts';
import { isSealed, recordedFingerprint, type SecretBox } from '../../platform/secret-box.ts';
import { verifyPassword } from '../../platform/secrets.ts';
import * as repo from './identity.repository.ts';
import * as mfaRepo from './mfa.repository.ts';
import type { TokenCache } from './token-cache.ts';
import {
  acceptedStep,
  isTotpCode,
  newRecoveryCodes,
  newTotpSecret,
  recoveryCodeHash,
  totpUri,
} from './totp.ts';

export type RequireMfa = 'admins' | 'none';

export interface MfaDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  requireMfa: RequireMfa;
  /** Seeds are stored sealed: the database alone does not give anyone a user's codes. */
  secrets: SecretBox;
  /** Whether a token works depends on the second factor: cached tokens go when it changes. */
  tokens?: TokenCache;
}

export type SecondFactorCheck = { ok: true; method: 'totp' | 'recovery' } | { ok: false; reason: string };

/** Whether an account may not be without a second factor under the node's policy. */
export const mfaRequiredFor = (policy: RequireMfa, roles: readonly string[]) =>
  policy === 'admins' && roles.includes('admin');

/** A user's TOTP second factor (RFC 6238) and recovery codes: enrol, confirm, check, disable. */
export class MfaService {
  constructor(private readonly deps: MfaDeps) {}

  get policy(): RequireMfa {
    return this.deps.requireMfa;
  }

  async status(ctx: Ctx): Promise<MfaStatus> {
    const user = await this.self(this.deps.db, ctx);
    return {
      enabled: user.mfa_secret !== null,
      enrolling: user.mfa_pending_secret !== null,
      required: mfaRequiredFor(this.deps.requireMfa, user.roles),
      recoveryCodesLeft:
        user.mfa_secret === null ? 0 : await mfaRepo.countRecoveryCodesLeft(this.deps.db, user.id),
    };
  }

  /**
   * Seals the seeds a node stored in the clear before seeds were sealed, once, as the node starts:
   * after it, no seed is kept readable in the database. A row changed meanwhile by another process
   * is left to it. Audited with how many were sealed.
   */
  async sealSeedsStoredInTheClear(): Promise<number> {
    return inTransaction(this.deps.db, async (trx) => {
      let sealed = 0;
      for (const row of await mfaRepo.plainSeeds(trx)) {
        const context = seedContext(row.id);
        const seal = (value: string | null) =>
          value === null || isSealed(value) ? value : this.deps.secrets.seal(value, context);
        sealed += await mfaRepo.replaceSeeds(trx, row, {
          mfa_secret: seal(row.mfa_secret),
          mfa_pending_secret: seal(row.mfa_pending_secret),
        });
      }
      if (sealed > 0) {
        await this.deps.audit.record(trx, systemCtx(), {
          action: 'user.mfa.seal',
          objectType: 'node',
          summary: { users: sealed },
        });
      }
      return sealed;
    });
  }

  /** Starts (or restarts) an enrolment: a new secret, to be confirmed by its first code. */
  async begin(ctx: Ctx, password: string): Promise<MfaEnrolment> {
    const user = await this.self(this.deps.db, ctx);
    if (user.mfa_secret !== null) {
      throw conflict('a second factor is already set up; disable it first to enrol a new device');
    }
    await this.requirePassword(user, password);
    const secret = newTotpSecret();
    const uri = totpUri(secret, user.name);
    await inTransaction(this.deps.db, async (trx) => {
      // A process left on a replaced key would seal a seed the node's other processes cannot open.
      if ((await recordedFingerprint(trx)) !== this.deps.secrets.fingerprint) {
        throw new AppError(
          'unavailable',
          "this process of the node holds an outdated key for sealed secrets: try again in a moment (it must be restarted with the node's keys/)",
        );
      }
      await mfaRepo.setPendingSecret(trx, user.id, this.deps.secrets.seal(secret, seedContext(user.id)));
      await this.deps.audit.record(trx, ctx, {
        action: 'user.mfa.enrol',
        objectType: 'user',
        objectId: user.id,
        summary: { name: user.name },
      });
    });
    return { secret, uri, qrSvg: await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M' }) };
  }

  /**
   * The first valid code turns the enrolment on and returns the recovery codes, once. Other
   * sessions and every API token, obtained with the password alone, end: from now on a login needs
   * the code, and a token is issued by someone who presented it.
   */
  async confirm(ctx: Ctx, code: string, currentSessionId: string | null): Promise<RecoveryCodes> {
    try {
      return await this.confirmInTransaction(ctx, code, currentSessionId);
    } finally {
      this.deps.tokens?.invalidate();
    }
  }

  private confirmInTransaction(ctx: Ctx, code: string, currentSessionId: string | null) {
    return inTransaction(this.deps.db, async (trx): Promise<RecoveryCodes> => {
      const user = await this.self(trx, ctx, true);
      if (user.mfa_pending_secret === null) {
        throw conflict(
          user.mfa_secret === null
            ? 'no enrolment was started: start one first (POST /api/v1/me/mfa)'
            : 'a second factor is already set up',
        );
      }
      const pending = this.deps.secrets.open(user.mfa_pending_secret, seedContext(user.id));
      if (pending === null) {
        throw conflict(`${UNREADABLE_SEED}: start the enrolment again (POST /api/v1/me/mfa)`);
      }
      const now = this.deps.clock.now();
      const step = acceptedStep(pending, code, now, null);
      if (step === null) {
        throw invalidInput('that code is not right: enter the 6 digits your app shows now', [
          { field: 'body/code', message: 'is not the current code; check the time on your device' },
        ]);
      }
      await mfaRepo.enableMfa(trx, user.id, user.mfa_pending_secret, step, now);
      const recoveryCodes = newRecoveryCodes();
      await mfaRepo.replaceRecoveryCodes(trx, user.id, recoveryCodes.map(recoveryCodeHash), now);
      const ended = await repo.revokeUserSessions(trx, user.id, now, currentSessionId ?? undefined);
      const tokensRevoked = await repo.revokeUserTokens(trx, user.id, now);
      await this.deps.audit.record(trx, ctx, {
        action: 'user.mfa.enable',
        objectType: 'user',
        objectId: user.id,
        summary: {
          name: user.name,
          recoveryCodes: recoveryCodes.length,
          sessionsEnded: ended,
          tokensRevoked,
        },
      });
      return { recoveryCodes };
    });
  }

  async disable(ctx: Ctx, code: string): Promise<MfaStatus> {
    try {
      await this.disableInTransaction(ctx, code);
    } finally {
      this.deps.tokens?.invalidate();
    }
    return this.status(ctx);
  }

  private async disableInTransaction(ctx: Ctx, code: string) {
    await inTransaction(this.deps.db, async (trx) => {
      const user = await this.self(trx, ctx, true);
      if (user.mfa_secret === null) throw conflict('there is no second factor to disable');
      if (mfaRequiredFor(this.deps.requireMfa, user.roles)) {
        throw conflict('this node requires a second factor for admins (VYTIS_REQUIRE_MFA=admins)');
      }
      const check = await this.check(trx, user, code);
      if (!check.ok) throw wrongCode(check.reason);
      await mfaRepo.disableMfa(trx, user.id);
      await this.deps.audit.record(trx, ctx, {
        action: 'user.mfa.disable',
        objectType: 'user',
        objectId: user.id,
        summary: { name: user.name, with: check.method },
      });
    });
  }

  /**
   * Checks a code against the user's second factor inside the caller's transaction, using it up:
   * a TOTP code's time step or a recovery code is accepted once.
   */
  async check(trx: Tx, user: UserRow, code: string): Promise<SecondFactorCheck> {
    if (user.mfa_secret === null) return { ok: false, reason: 'no second factor is set up' };
    const now = this.deps.clock.now();
    if (isTotpCode(code)) {
      const secret = this.deps.secrets.open(user.mfa_secret, seedContext(user.id));
      if (secret === null) {
        return { ok: false, reason: `${UNREADABLE_SEED}: use a recovery code, or ask an admin to reset it` };
      }
      const step = acceptedStep(secret, code, now, null);
      if (step === null) return { ok: false, reason: 'wrong code' };
      if (!(await mfaRepo.claimStep(trx, user.id, step))) {
        return { ok: false, reason: 'this code was used already; wait for the next one' };
      }
      return { ok: true, method: 'totp' };
    }
    const used = await mfaRepo.useRecoveryCode(trx, user.id, recoveryCodeHash(code), now);
    return used ? { ok: true, method: 'recovery' } : { ok: false, reason: 'wrong code' };
  }

  private async self(db: Kysely<Database> | Tx, ctx: Ctx, lock = false): Promise<UserRow> {
    const id = ctx.actor.id;
    const user = id ? await (lock ? repo.lockUserById(db, id) : repo.findUserById(db, id)) : undefined;
    if (!user) throw invalidInput('a second factor belongs to a user; the local operator has none');
    return user;
  }

  private async requirePassword(user: UserRow, password: string) {
    if (user.password_hash === null || !(await verifyPassword(password, user.password_hash))) {
      throw new AppError('forbidden', 'that is not your current password', [
        { field: 'body/password', message: 'is not your current password' },
      ]);
    }
  }
}

/** What a user's seed is sealed for: it opens for that user's second factor only. */
const seedContext = (userId: string) => `totp-seed:${userId}`;

/** A seed sealed under another key (a database copied without its data directory's keys). */
const UNREADABLE_SEED = "this node cannot read the authenticator's secret";

export const wrongCode = (reason: string) =>
  new AppError('forbidden', `the code was not accepted: ${reason}`, [
    { field: 'body/code', message: reason },
  ]);
