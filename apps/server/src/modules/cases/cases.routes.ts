import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CaseItemParamsSchema,
  CaseListQuerySchema,
  CaseListSchema,
  CaseParamsSchema,
  CasePatchSchema,
  CaseSchema,
  CaseSharesSchema,
  CaseTimelineEntrySchema,
  NewCaseSchema,
  NewCaseTimelineEntrySchema,
  NewNoteSchema,
  NewSharingGroupSchema,
  NewTaskSchema,
  NotePatchSchema,
  NoteSchema,
  SharesUpdateSchema,
  SharingGroupListQuerySchema,
  SharingGroupPatchSchema,
  SharingGroupSchema,
  TaskPatchSchema,
  TaskSchema,
} from '@vytis/contracts';
import { Type } from 'typebox';
import { access, ctxOf } from '../../http/access.ts';
import { ifMatchVersion, sendVersioned } from '../../http/if-match.ts';
import type { Services } from '../../http/services.ts';

const items = <T extends Parameters<typeof Type.Array>[0]>(schema: T) =>
  Type.Object({ items: Type.Array(schema) });

/**
 * Cases and what is in them. Reads are for anyone signed in, through the access policy (what you
 * may not see is a 404); writes check in the service who works on the case.
 */
export const casesRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const tags = ['cases'];
  const cases = services.cases;
  const read = { access: access.anyUser };

  app.get(
    '/cases',
    {
      config: { ...read, cachedRead: true },
      schema: {
        tags,
        summary: 'Cases you may see, most recently changed first',
        querystring: CaseListQuerySchema,
        response: { 200: CaseListSchema },
      },
    },
    async (request) => cases.list(ctxOf(request), request.query),
  );

  app.post(
    '/cases',
    {
      config: read,
      schema: {
        tags,
        summary: 'Open a case for your party (analysts, responders, coordinators, PoCs)',
        body: NewCaseSchema,
        response: { 201: CaseSchema },
      },
    },
    async (request, reply) => sendVersioned(reply, await cases.create(ctxOf(request), request.body), 201),
  );

  app.get(
    '/cases/:id',
    {
      config: read,
      schema: { tags, summary: 'One case', params: CaseParamsSchema, response: { 200: CaseSchema } },
    },
    async (request, reply) => sendVersioned(reply, await cases.get(ctxOf(request), request.params.id)),
  );

  app.patch(
    '/cases/:id',
    {
      config: read,
      schema: {
        tags,
        summary:
          'Change a case (its party and assignees; If-Match: the version you read). Labels: PUT …/shares',
        params: CaseParamsSchema,
        body: CasePatchSchema,
        response: { 200: CaseSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await cases.update(ctxOf(request), request.params.id, request.body, ifMatchVersion(request)),
      ),
  );

  app.get(
    '/cases/:id/shares',
    {
      config: read,
      schema: {
        tags,
        summary: "The case's label and who it is shared with",
        params: CaseParamsSchema,
        response: { 200: CaseSharesSchema },
      },
    },
    async (request, reply) => sendVersioned(reply, await cases.shares(ctxOf(request), request.params.id)),
  );

  app.put(
    '/cases/:id/shares',
    {
      config: read,
      schema: {
        tags,
        summary: 'Narrow (anyone who works on it) or relax (its own party only) the label and audiences',
        params: CaseParamsSchema,
        body: SharesUpdateSchema,
        response: { 200: CaseSharesSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await cases.updateShares(ctxOf(request), request.params.id, request.body, ifMatchVersion(request)),
      ),
  );

  app.get(
    '/cases/:id/tasks',
    {
      config: read,
      schema: {
        tags,
        summary: "The case's tasks",
        params: CaseParamsSchema,
        response: { 200: items(TaskSchema) },
      },
    },
    async (request) => cases.tasks(ctxOf(request), request.params.id),
  );

  app.post(
    '/cases/:id/tasks',
    {
      config: read,
      schema: {
        tags,
        summary: 'Add a task',
        params: CaseParamsSchema,
        body: NewTaskSchema,
        response: { 201: TaskSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await cases.addTask(ctxOf(request), request.params.id, request.body), 201),
  );

  app.patch(
    '/cases/:id/tasks/:itemId',
    {
      config: read,
      schema: {
        tags,
        summary: 'Change a task (status, assignee, due time; If-Match: the version you read)',
        params: CaseItemParamsSchema,
        body: TaskPatchSchema,
        response: { 200: TaskSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await cases.updateTask(
          ctxOf(request),
          request.params.id,
          request.params.itemId,
          request.body,
          ifMatchVersion(request),
        ),
      ),
  );

  app.get(
    '/cases/:id/notes',
    {
      config: read,
      schema: {
        tags,
        summary: 'Notes you may see (each has its own label)',
        params: CaseParamsSchema,
        response: { 200: items(NoteSchema) },
      },
    },
    async (request) => cases.notes(ctxOf(request), request.params.id),
  );

  app.post(
    '/cases/:id/notes',
    {
      config: read,
      schema: {
        tags,
        summary: 'Add a note',
        params: CaseParamsSchema,
        body: NewNoteSchema,
        response: { 201: NoteSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await cases.addNote(ctxOf(request), request.params.id, request.body)),
  );

  app.patch(
    '/cases/:id/notes/:itemId',
    {
      config: read,
      schema: {
        tags,
        summary:
          "Change a note's label: narrowed by the case's own party or the note's, relaxed only by the note's own party; the reason goes to the audit log and the timeline",
        params: CaseItemParamsSchema,
        body: NotePatchSchema,
        response: { 200: NoteSchema },
      },
    },
    async (request) =>
      cases.relabelNote(ctxOf(request), request.params.id, request.params.itemId, request.body),
  );

  app.get(
    '/cases/:id/timeline',
    {
      config: read,
      schema: {
        tags,
        summary: 'What happened, in the order it happened (with when each entry was recorded)',
        params: CaseParamsSchema,
        response: { 200: items(CaseTimelineEntrySchema) },
      },
    },
    async (request) => cases.timeline(ctxOf(request), request.params.id),
  );

  app.post(
    '/cases/:id/timeline',
    {
      config: read,
      schema: {
        tags,
        summary: 'Record something that happened',
        params: CaseParamsSchema,
        body: NewCaseTimelineEntrySchema,
        response: { 201: CaseTimelineEntrySchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await cases.addTimelineEntry(ctxOf(request), request.params.id, request.body)),
  );

  app.get(
    '/sharing-groups',
    {
      config: read,
      schema: {
        tags,
        summary: 'Sharing groups your party made or belongs to (retired ones with ?retired=true)',
        querystring: SharingGroupListQuerySchema,
        response: { 200: items(SharingGroupSchema) },
      },
    },
    async (request) => cases.groups(ctxOf(request), request.query),
  );

  app.post(
    '/sharing-groups',
    {
      config: read,
      schema: {
        tags,
        summary: 'Make a sharing group (a named set of parties to share cases with)',
        body: NewSharingGroupSchema,
        response: { 201: SharingGroupSchema },
      },
    },
    async (request, reply) => reply.status(201).send(await cases.createGroup(ctxOf(request), request.body)),
  );

  app.get(
    '/sharing-groups/:id',
    {
      config: read,
      schema: {
        tags,
        summary: 'One sharing group',
        params: CaseParamsSchema,
        response: { 200: SharingGroupSchema },
      },
    },
    async (request, reply) => sendVersioned(reply, await cases.group(ctxOf(request), request.params.id)),
  );

  app.patch(
    '/sharing-groups/:id',
    {
      config: read,
      schema: {
        tags,
        summary:
          "Rename a sharing group or replace its members (its own party; If-Match: the version you read). Other parties' cases shared with it keep the parties they had",
        params: CaseParamsSchema,
        body: SharingGroupPatchSchema,
        response: { 200: SharingGroupSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await cases.updateGroup(ctxOf(request), request.params.id, request.body, ifMatchVersion(request)),
      ),
  );

  app.post(
    '/sharing-groups/:id/retire',
    {
      config: read,
      schema: {
        tags,
        summary:
          'Retire a sharing group (its own party): no longer offered for new shares, members frozen; cases already shared with it keep it',
        params: CaseParamsSchema,
        response: { 200: SharingGroupSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await cases.retireGroup(ctxOf(request), request.params.id, ifMatchVersion(request)),
      ),
  );
};
