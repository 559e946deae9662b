import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AcceptanceBodySchema,
  DeploymentSchema,
  DeploymentStatusBodySchema,
  IdParamsSchema,
  MemberParamsSchema,
  PassResponseSchema,
  ProposalParamsSchema,
  ReleaseBodySchema,
  RequestIdParamsSchema,
  RevocationListSchema,
  RevokeBodySchema,
  TeamProposalSchema,
} from '@vytis/contracts';
import { Type } from 'typebox';
import { access, ctxOf } from '../../http/access.ts';
import { sendVersioned } from '../../http/if-match.ts';
import type { Services } from '../../http/services.ts';

export const teamsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.post(
    '/requests/:id/team-proposals',
    {
      config: { access: access.roles('coordinator') },
      schema: {
        tags: ['teams'],
        summary:
          'Propose the optimal team for an activated request, each member and the nearest excluded explained',
        params: RequestIdParamsSchema,
        response: { 201: TeamProposalSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await services.teams.propose(ctxOf(request), request.params.id)),
  );

  app.get(
    '/requests/:id/team-proposals',
    {
      config: { access: access.roles('coordinator') },
      schema: {
        tags: ['teams'],
        summary: 'The proposals made for a request, newest first',
        params: RequestIdParamsSchema,
        response: { 200: Type.Object({ items: Type.Array(TeamProposalSchema) }) },
      },
    },
    async (request) => services.teams.proposals(ctxOf(request), request.params.id),
  );

  app.post(
    '/requests/:id/team-proposals/:pid/adopt',
    {
      config: { access: access.roles('coordinator') },
      schema: {
        tags: ['teams'],
        summary: "Adopt a proposal: a deployment whose members wait for their home state's release",
        params: ProposalParamsSchema,
        response: { 201: DeploymentSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await services.teams.adopt(ctxOf(request), request.params.id, request.params.pid),
        201,
      ),
  );

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
    async (request) => services.teams.list(ctxOf(request), request.query),
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
      sendVersioned(reply, await services.teams.get(ctxOf(request), request.params.id)),
  );

  app.post(
    '/deployments/:id/members/:responderId/release',
    {
      config: { access: access.roles('poc') },
      schema: {
        tags: ['deployments'],
        summary: "A home state's decision on one of its people: release, or decline (the team is re-solved)",
        params: MemberParamsSchema,
        body: ReleaseBodySchema,
        response: { 200: DeploymentSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await services.teams.release(
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
        params: IdParamsSchema,
        body: AcceptanceBodySchema,
        response: { 200: DeploymentSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await services.teams.accept(ctxOf(request), request.params.id, request.body)),
  );

  app.post(
    '/deployments/:id/status',
    {
      config: { access: access.roles('coordinator', 'poc') },
      schema: {
        tags: ['deployments'],
        summary: 'Move an accepted deployment along: en_route, remote, on_site, stood_down',
        params: IdParamsSchema,
        body: DeploymentStatusBodySchema,
        response: { 200: DeploymentSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await services.teams.setStatus(ctxOf(request), request.params.id, request.body.status),
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
    async (request) => services.teams.pass(ctxOf(request), request.params.id, request.params.responderId),
  );

  app.post(
    '/deployments/:id/passes/:responderId/revoke',
    {
      config: { access: access.roles('coordinator', 'admin', 'poc') },
      schema: {
        tags: ['passes'],
        summary: 'Revoke a pass: it joins the revocation list',
        params: MemberParamsSchema,
        body: RevokeBodySchema,
        response: { 200: RevocationListSchema },
      },
    },
    async (request) =>
      services.teams.revokePass(
        ctxOf(request),
        request.params.id,
        request.params.responderId,
        request.body?.reason,
      ),
  );

  app.get(
    '/passes/revocations',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['passes'],
        summary: 'Revoked pass ids, for hosts to fetch (use with vytis pass verify --revoked FILE)',
        response: { 200: RevocationListSchema },
      },
    },
    async () => services.teams.revocationList(),
  );
};
