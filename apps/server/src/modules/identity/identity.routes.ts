import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  IssuedTokenSchema,
  LoginSchema,
  MeSchema,
  MfaChallengeSchema,
  MfaLoginSchema,
  NewTokenSchema,
  NewUserSchema,
  SessionSchema,
  TokenListSchema,
  TokenSchema,
  UserListSchema,
  UserSchema,
} from '@vytis/contracts';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { AppError, notFound } from '../../errors.ts';
import { access, ctxOf, SESSION_COOKIE } from '../../http/access.ts';
import { clientSource } from '../../http/client-source.ts';
import { sendVersioned } from '../../http/if-match.ts';
import type { Services } from '../../http/services.ts';
import { accountsRoutes } from './accounts.routes.ts';
import { LoginLimiter } from './login-limiter.ts';
import { mfaRoutes } from './mfa.routes.ts';

const IdParams = Type.Object({ id: Type.String() }, { additionalProperties: false });

export const identityRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  cookieSecure: boolean;
  loginAttemptsPerMinute: number;
}> = async (app, { services, cookieSecure, loginAttemptsPerMinute }) => {
  const { identity } = services;
  const logins = new LoginLimiter(services.database.db, loginAttemptsPerMinute);
  /** Runs a login step under the limiter: a refusal of the credentials counts, nothing else does. */
  const limited = async <T>(address: string, attempt: () => Promise<T>): Promise<T> => {
    const place = await logins.begin(address);
    let failed = false;
    try {
      return await attempt();
    } catch (error) {
      failed = error instanceof AppError && error.code === 'unauthenticated';
      throw error;
    } finally {
      // The attempt's own answer stands: a place not given back counts as a failure for a minute.
      await logins
        .end(place, failed)
        .catch((error) => app.log.error({ err: error }, 'a login attempt was not recorded'));
    }
  };
  await app.register(accountsRoutes, { services, loginAttemptsPerMinute });
  await app.register(mfaRoutes, { services, loginAttemptsPerMinute });

  const setSessionCookie = (reply: FastifyReply, secret: string, expiresAt: string) =>
    reply.setCookie(SESSION_COOKIE, secret, {
      httpOnly: true,
      sameSite: 'strict',
      secure: cookieSecure,
      path: '/',
      expires: new Date(expiresAt),
    });

  app.get(
    '/me',
    {
      config: { access: access.anyUser, mfaEnrolment: true },
      schema: { tags: ['identity'], summary: 'Who am I', response: { 200: MeSchema } },
    },
    async (request) => identity.me(ctxOf(request)),
  );

  app.get(
    '/users',
    {
      config: { access: access.roles('admin', 'poc') },
      schema: {
        tags: ['identity'],
        summary: "Users (admins: all; a party's PoC: its own party's)",
        querystring: Type.Object(
          {
            party: Type.Optional(Type.String({ maxLength: 2 })),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
            cursor: Type.Optional(Type.String({ maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: UserListSchema },
      },
    },
    async (request) => identity.listUsers(ctxOf(request), request.query),
  );

  app.post(
    '/users',
    {
      config: { access: access.roles('admin') },
      schema: {
        tags: ['identity'],
        summary: 'Create a user',
        body: NewUserSchema,
        response: { 201: UserSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await identity.createUser(ctxOf(request), request.body)),
  );

  app.get(
    '/users/:id',
    {
      config: { access: access.anyUser },
      schema: { tags: ['identity'], summary: 'One user', params: IdParams, response: { 200: UserSchema } },
    },
    async (request, reply) => sendVersioned(reply, await identity.getUser(ctxOf(request), request.params.id)),
  );

  app.post(
    '/users/:id/tokens',
    {
      config: { access: access.roles('admin') },
      schema: {
        tags: ['identity'],
        summary: 'Issue an API token for a user (shown once)',
        params: IdParams,
        body: Type.Optional(NewTokenSchema),
        response: { 201: IssuedTokenSchema },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await identity.issueToken(ctxOf(request), request.params.id, request.body ?? {})),
  );

  app.get(
    '/tokens',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['identity'],
        summary: 'My API tokens (never the secrets)',
        response: { 200: TokenListSchema },
      },
    },
    async (request) => identity.listMyTokens(ctxOf(request)),
  );

  app.post(
    '/tokens',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['identity'],
        summary: 'Issue myself an API token (shown once)',
        body: Type.Optional(NewTokenSchema),
        response: { 201: IssuedTokenSchema },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await identity.issueToken(ctxOf(request), request.actor.id!, request.body ?? {})),
  );

  app.delete(
    '/tokens/:id',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['identity'],
        summary: 'Revoke a token (mine; admins: any)',
        params: IdParams,
        response: { 200: TokenSchema },
      },
    },
    async (request) => identity.revokeToken(ctxOf(request), request.params.id),
  );

  app.get(
    '/setup',
    {
      config: { access: access.public },
      schema: {
        tags: ['identity'],
        summary: 'Whether this node still needs its first admin (it has no user at all)',
        description:
          'Public, so the login page of a new node can say how to create the first admin (`npx vytis user add … --role admin --password-stdin`). Says nothing else about the node.',
        response: {
          200: Type.Object({
            firstAdminNeeded: Type.Boolean({ description: 'no user exists yet' }),
          }),
        },
      },
    },
    async () => ({ firstAdminNeeded: !(await identity.anyUserExists()) }),
  );

  app.post(
    '/session',
    {
      config: { access: access.public },
      schema: {
        tags: ['identity'],
        summary: 'Log in to the web app: sets an HttpOnly, SameSite=Strict session cookie',
        description:
          'A user with a second factor gets 202 and a challenge instead: answer it with a code at POST /session/mfa. ' +
          'Failed logins (here and at /session/mfa) are limited per client address to VYTIS_LOGIN_ATTEMPTS_PER_MINUTE in any minute (then 429); successful ones do not count.',
        body: LoginSchema,
        response: { 200: SessionSchema, 202: MfaChallengeSchema },
      },
    },
    async (request, reply) => {
      const result = await limited(clientSource(request.ip), () =>
        identity.login(ctxOf(request), request.body.name, request.body.password),
      );
      if (result.kind === 'mfa') return reply.status(202).send(result.challenge);
      setSessionCookie(reply, result.secret, result.session.expiresAt);
      return reply.status(200).send(result.session);
    },
  );

  app.post(
    '/session/mfa',
    {
      config: { access: access.public },
      schema: {
        tags: ['identity'],
        summary:
          "A login's second step: the challenge and a TOTP (or recovery) code; sets the session cookie",
        body: MfaLoginSchema,
        response: { 200: SessionSchema },
      },
    },
    async (request, reply) => {
      const { secret, session } = await limited(clientSource(request.ip), () =>
        identity.completeMfaLogin(ctxOf(request), request.body.challenge, request.body.code),
      );
      setSessionCookie(reply, secret, session.expiresAt);
      return session;
    },
  );

  app.get(
    '/session',
    {
      config: { access: access.anyUser, mfaEnrolment: true },
      schema: {
        tags: ['identity'],
        summary: 'The current web session and its CSRF token',
        response: { 200: SessionSchema },
      },
    },
    async (request) => {
      const secret = request.cookies[SESSION_COOKIE];
      const current = request.sessionId && secret ? await identity.authenticateSession(secret) : null;
      if (!current) throw notFound('session');
      return current.session;
    },
  );

  app.delete(
    '/session',
    {
      config: { access: access.anyUser, mfaEnrolment: true },
      schema: { tags: ['identity'], summary: 'Log out', response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      if (request.sessionId) await identity.logout(ctxOf(request), request.sessionId);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send(null);
    },
  );
};
