import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AcceptanceBodySchema,
  DeploymentSchema,
  DeploymentStatusBodySchema,
  IdParamsSchema,
  MemberParamsSchema,
  PassResponseSchema,
  ReleaseBodySchema,
  RevocationListSchema,
  RevokeBodySchema,
} from '@vytis/contracts';
import { Type } from 'typebox';
import { access, ctxOf } from '../../http/access.ts';
import { sendVersioned } from '../../http/if-match.ts';
import type { Services } from '../../http/services.ts';

/** The life of a deployment after adoption, and its passes (adoption is in teams.routes.ts). */
export const deploymentsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get(
    '/deployments',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['deployments'],
        summary: 'Deployments you may see, newest first: of a request, or `mine=true` those you are on',
        querystring: Type.Object(
          {
            requestId: Type.Optional(Type.String({ format: 'uuid' })),
            mine: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(DeploymentSchema) }) },
      },
    },
    async (request) => services.deployments.list(ctxOf(request), request.query),
  );

  app.get(
    '/deployments/:id',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['deployments'],
        summary: 'A deployment (coordinators, admins, the host party and the home parties of its members)',
        params: IdParamsSchema,
        response: { 200: DeploymentSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await services.deployments.get(ctxOf(request), request.params.id)),
  );

  app.post(
    '/deployments/:id/members/:responderId/release',
    {
      config: { access: access.roles('poc') },
      schema: {
        tags: ['deployments'],
        summary: "A home state's decision on one of its people: release, or decline (the team is re-solved)",
        description:
          "A decline needs a `reason` (a 400 naming `body/reason` without one); the reason is recorded in the request's timeline and the audit log.",
        params: MemberParamsSchema,
        body: ReleaseBodySchema,
        response: { 200: DeploymentSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await services.deployments.release(
          ctxOf(request),
          request.params.id,
          request.params.responderId,
          request.body,
        ),
      ),
  );

  app.post(
    '/deployments/:id/acceptance',
    {
      config: { access: access.roles('poc') },
      schema: {
        tags: ['deployments'],
        summary: "The host's acceptance: personnel status, access, and the liability agreement's SHA-256",
        description:
          'Only a released team is accepted. Acceptance, and nothing else, moves the request to `deployed` and meets its 72 h response clock.',
        params: IdParamsSchema,
        body: AcceptanceBodySchema,
        response: { 200: DeploymentSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await services.deployments.accept(ctxOf(request), request.params.id, request.body),
      ),
  );

  app.post(
    '/deployments/:id/status',
    {
      config: { access: access.roles('coordinator', 'poc') },
      schema: {
        tags: ['deployments'],
        summary: 'Move an accepted deployment along: en_route, remote, on_site, stood_down',
        description:
          "Moves (from → to): accepted → en_route (on-site and hybrid missions); accepted, en_route → remote (remote and hybrid); accepted, en_route, remote → on_site (on-site and hybrid); accepted, en_route, remote, on_site → stood_down. Any other is a 409 saying why. Standing down stands the request down too (its post-action report clock starts) and revokes every pass of the team. A `reason` (for a stand-down) is recorded in the request's timeline and the audit log.",
        params: IdParamsSchema,
        body: DeploymentStatusBodySchema,
        response: { 200: DeploymentSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await services.deployments.setStatus(
          ctxOf(request),
          request.params.id,
          request.body.status,
          request.body.reason,
        ),
      ),
  );

  app.get(
    '/deployments/:id/passes/:responderId',
    {
      config: { access: access.roles('coordinator', 'admin', 'poc', 'responder') },
      schema: {
        tags: ['passes'],
        summary:
          "A released responder's pass: a compact JWS (EdDSA) the host verifies offline, and its QR code",
        params: MemberParamsSchema,
        response: { 200: PassResponseSchema },
      },
    },
    async (request) =>
      services.deployments.pass(ctxOf(request), request.params.id, request.params.responderId),
  );

  app.post(
    '/deployments/:id/passes/:responderId/revoke',
    {
      config: { access: access.roles('coordinator', 'admin', 'poc') },
      schema: {
        tags: ['passes'],
        summary:
          'Revoke a pass, for a reason: it joins the revocation list (standing the deployment down revokes them all)',
        params: MemberParamsSchema,
        body: RevokeBodySchema,
        response: { 200: RevocationListSchema },
      },
    },
    async (request) =>
      services.deployments.revokePass(
        ctxOf(request),
        request.params.id,
        request.params.responderId,
        request.body.reason,
      ),
  );
};
