import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ChangePasswordSchema,
  DisableUserSchema,
  EndedSessionsSchema,
  ResetPasswordSchema,
  SetRolesSchema,
  UserSchema,
} from '@vytis/contracts';
import { Type } from 'typebox';
import { access, ctxOf } from '../../http/access.ts';
import { ifMatchVersion, sendVersioned } from '../../http/if-match.ts';
import type { Services } from '../../http/services.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });
const managers = access.roles('admin', 'poc');
const WHO =
  "Admins: anyone. A party's PoC: its own party's users except admins (others' users are not found).";

/** Containing accounts (admins, and PoCs for their party), and changing one's own password. */
export const accountsRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  loginAttemptsPerMinute: number;
}> = async (app, { services, loginAttemptsPerMinute }) => {
  const { accounts } = services;

  app.post(
    '/users/:id/disable',
    {
      config: { access: managers },
      schema: {
        tags: ['identity'],
        summary: 'Disable a user: ends their sessions and API tokens at once',
        description: `${WHO} Nobody disables themselves or the last active admin. If-Match: the user's version.`,
        params: IdParams,
        body: DisableUserSchema,
        response: { 200: UserSchema },
      },
      // The reason is optional, and so is the body that carries it.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await accounts.disable(ctxOf(request), request.params.id, request.body, ifMatchVersion(request)),
      ),
  );

  app.post(
    '/users/:id/enable',
    {
      config: { access: managers },
      schema: {
        tags: ['identity'],
        summary: 'Enable a disabled user (they log in again; old sessions and tokens stay ended)',
        description: WHO,
        params: IdParams,
        response: { 200: UserSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await accounts.enable(ctxOf(request), request.params.id, ifMatchVersion(request))),
  );

  app.put(
    '/users/:id/roles',
    {
      config: { access: managers },
      schema: {
        tags: ['identity'],
        summary: "Set a user's roles (making someone admin revokes their API tokens)",
        description: `${WHO} A PoC grants and removes only poc, council, responder and analyst. Nobody changes their own roles or demotes the last active admin.`,
        params: IdParams,
        body: SetRolesSchema,
        response: { 200: UserSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await accounts.setRoles(
          ctxOf(request),
          request.params.id,
          request.body.roles,
          ifMatchVersion(request),
        ),
      ),
  );

  app.put(
    '/users/:id/password',
    {
      config: { access: managers },
      schema: {
        tags: ['identity'],
        summary: "Reset a user's password: their web sessions end",
        description: `${WHO} Your own password: PUT /me/password.`,
        params: IdParams,
        body: ResetPasswordSchema,
        response: { 200: UserSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await accounts.resetPassword(
          ctxOf(request),
          request.params.id,
          request.body.password,
          ifMatchVersion(request),
        ),
      ),
  );

  app.delete(
    '/users/:id/sessions',
    {
      config: { access: managers },
      schema: {
        tags: ['identity'],
        summary: 'End all web sessions and revoke all API tokens of a user',
        description: WHO,
        params: IdParams,
        response: { 200: EndedSessionsSchema },
      },
    },
    async (request) => accounts.endSessions(ctxOf(request), request.params.id),
  );

  app.delete(
    '/users/:id/mfa',
    {
      config: { access: managers },
      schema: {
        tags: ['identity'],
        summary: "Remove a user's second factor (lost device and recovery codes): their web sessions end",
        description: `${WHO} Your own: POST /me/mfa/disable with a code.`,
        params: IdParams,
        response: { 200: UserSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await accounts.resetMfa(ctxOf(request), request.params.id, ifMatchVersion(request)),
      ),
  );

  app.put(
    '/me/password',
    {
      config: { access: access.anyUser, rateLimit: { max: loginAttemptsPerMinute, timeWindow: 60_000 } },
      schema: {
        tags: ['identity'],
        summary: 'Change my password (with my current one); my other sessions and all my API tokens end',
        body: ChangePasswordSchema,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await accounts.changeOwnPassword(ctxOf(request), request.body, request.sessionId);
      return reply.status(204).send(null);
    },
  );
};
