import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  BookingConflictErrorSchema,
  DeploymentSchema,
  ProposalParamsSchema,
  RequestIdParamsSchema,
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
        description:
          'The members are re-checked under lock: anyone booked on another deployment over the window, on leave, or ruled out by a restriction since the proposal makes it a 409 naming each of them and the clash, with `details.resolve` the re-solve to call (POST /requests/{id}/team-proposals).',
        params: ProposalParamsSchema,
        response: { 201: DeploymentSchema, 409: BookingConflictErrorSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await services.teams.adopt(ctxOf(request), request.params.id, request.params.pid),
        201,
      ),
  );
};
