import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  MfaBeginSchema,
  MfaCodeSchema,
  MfaEnrolmentSchema,
  MfaStatusSchema,
  RecoveryCodesSchema,
} from '@vytis/contracts';
import { access, ctxOf } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';

/** My TOTP second factor. Reachable while an admin must still enrol one (VYTIS_REQUIRE_MFA). */
export const mfaRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  loginAttemptsPerMinute: number;
}> = async (app, { services, loginAttemptsPerMinute }) => {
  const { mfa } = services;
  // Each of these checks a password or a code: as guarded against guessing as the login is.
  const guessable = {
    access: access.anyUser,
    mfaEnrolment: true,
    rateLimit: { max: loginAttemptsPerMinute, timeWindow: 60_000 },
  };

  app.get(
    '/me/mfa',
    {
      config: { access: access.anyUser, mfaEnrolment: true },
      schema: { tags: ['identity'], summary: 'My second factor', response: { 200: MfaStatusSchema } },
    },
    async (request) => mfa.status(ctxOf(request)),
  );

  app.post(
    '/me/mfa',
    {
      config: guessable,
      schema: {
        tags: ['identity'],
        summary: 'Start enrolling a TOTP authenticator: its secret, otpauth:// URI and QR code',
        description: 'Confirm with its first code at POST /me/mfa/confirm.',
        body: MfaBeginSchema,
        response: { 200: MfaEnrolmentSchema },
      },
    },
    async (request) => mfa.begin(ctxOf(request), request.body.password),
  );

  app.post(
    '/me/mfa/confirm',
    {
      config: guessable,
      schema: {
        tags: ['identity'],
        summary: 'Confirm the enrolment with a first code: returns 10 single-use recovery codes, once',
        description:
          'My other sessions and all my API tokens end: from now on a login asks for a code; issue new tokens after.',
        body: MfaCodeSchema,
        response: { 200: RecoveryCodesSchema },
      },
    },
    async (request) => mfa.confirm(ctxOf(request), request.body.code, request.sessionId),
  );

  app.post(
    '/me/mfa/disable',
    {
      config: guessable,
      schema: {
        tags: ['identity'],
        summary: 'Turn my second factor off, with a current code (or a recovery code)',
        body: MfaCodeSchema,
        response: { 200: MfaStatusSchema },
      },
    },
    async (request) => mfa.disable(ctxOf(request), request.body.code),
  );
};
