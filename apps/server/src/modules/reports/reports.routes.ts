import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  Nis2ReportParamsSchema,
  Nis2SubmitSchema,
  PostActionSubmitSchema,
  REPORT_BODY_LIMIT,
  REPORT_TEXT_LINES_MAX,
  REPORT_TEXT_MAX,
  ReportEditSchema,
  ReportFileQuerySchema,
  ReportListSchema,
  ReportParamsSchema,
  ReportSchema,
} from '@vytis/contracts';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { access, ctxOf } from '../../http/access.ts';
import { ifMatchVersion, sendVersioned } from '../../http/if-match.ts';
import type { Services } from '../../http/services.ts';

const FILE_RESPONSE = {
  200: {
    description: 'the report as a file (an attachment): PDF, Markdown, JSON, or a STIX 2.1 bundle',
    content: {
      'application/pdf': { schema: Type.String({ format: 'binary' }) },
      'text/markdown': { schema: Type.String() },
      'application/json': { schema: Type.String() },
      'application/stix+json': { schema: Type.String() },
    },
  },
};

const EDIT_DESCRIPTION =
  'Saves what authors wrote (`values`, by field key; null returns a field to the draft from the record) and the label. ' +
  "Send `If-Match` with the version you read (0 for a report nobody has saved): another author's save meanwhile is a 412 and nothing is saved. " +
  `A submitted report is frozen (409). A field longer than ${REPORT_TEXT_MAX} characters or ${REPORT_TEXT_LINES_MAX} lines is a 400 naming it; a body over ${REPORT_BODY_LIMIT / 1024} KiB is a 413.`;

function sendFile(reply: FastifyReply, file: { body: Buffer | string; type: string; filename: string }) {
  return reply
    .header('content-type', file.type)
    .header('content-disposition', `attachment; filename="${file.filename}"`)
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', 'sandbox')
    .header('cache-control', 'private, no-store')
    .send(file.body);
}

export const reportsRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  const tags = ['reports'];
  const reports = services.reports;

  app.get(
    '/requests/:id/post-action-report',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary:
          "The request's post-action report: the draft from the record and what authors wrote, or as submitted",
        description:
          'Anyone who sees the request and every case the report drew on reads it (404 otherwise). Names of responders are shown only where the reader sees them.',
        params: ReportParamsSchema,
        response: { 200: ReportSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await reports.get(ctxOf(request), request.params.id, 'post_action')),
  );

  app.put(
    '/requests/:id/post-action-report',
    {
      config: { access: access.roles('coordinator') },
      bodyLimit: REPORT_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Save the draft of the post-action report (coordinators, until it is submitted)',
        description: EDIT_DESCRIPTION,
        params: ReportParamsSchema,
        body: ReportEditSchema,
        response: { 200: ReportSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await reports.edit(
          ctxOf(request),
          request.params.id,
          'post_action',
          request.body,
          ifMatchVersion(request),
        ),
      ),
  );

  app.post(
    '/requests/:id/post-action-report/submit',
    {
      config: { access: access.roles('coordinator') },
      schema: {
        tags,
        summary:
          'Submit the post-action report: frozen, signed by the node, its SHA-256 audited; the request is reported',
        description:
          'Needs the request stood down and a summary. Meets the post-action report clock. Send `If-Match` with the version you read.',
        params: ReportParamsSchema,
        body: PostActionSubmitSchema,
        response: { 200: ReportSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await reports.submitPostAction(ctxOf(request), request.params.id, ifMatchVersion(request)),
      ),
  );

  app.get(
    '/requests/:id/post-action-report/file',
    {
      config: { access: access.anyUser },
      exposeHeadRoute: false,
      schema: {
        tags,
        summary: 'Download the post-action report as PDF, Markdown, JSON or a STIX 2.1 report',
        description:
          'The PDF carries the TLP label in the header and footer of every page, page numbers and the node’s signature block once submitted.',
        params: ReportParamsSchema,
        querystring: ReportFileQuerySchema,
        response: FILE_RESPONSE,
      },
    },
    async (request, reply) =>
      sendFile(
        reply,
        await reports.file(ctxOf(request), request.params.id, 'post_action', request.query.format),
      ),
  );

  app.get(
    '/requests/:id/nis2',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary:
          "The affected entity's NIS2 reports: early warning, notification, intermediate, final and progress",
        description:
          "Drafted from the request and its cases for the requesting party's PoC, who alone reads and files them (404 for anyone else).",
        params: ReportParamsSchema,
        response: { 200: ReportListSchema },
      },
    },
    async (request) => reports.nis2List(ctxOf(request), request.params.id),
  );

  app.get(
    '/requests/:id/nis2/:kind',
    {
      config: { access: access.anyUser },
      schema: {
        tags,
        summary: 'One NIS2 report of the request',
        params: Nis2ReportParamsSchema,
        response: { 200: ReportSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(reply, await reports.get(ctxOf(request), request.params.id, request.params.kind)),
  );

  app.put(
    '/requests/:id/nis2/:kind',
    {
      config: { access: access.roles('poc') },
      bodyLimit: REPORT_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Save the draft of a NIS2 report (the requesting party’s PoC)',
        description: EDIT_DESCRIPTION,
        params: Nis2ReportParamsSchema,
        body: ReportEditSchema,
        response: { 200: ReportSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await reports.edit(
          ctxOf(request),
          request.params.id,
          request.params.kind,
          request.body,
          ifMatchVersion(request),
        ),
      ),
  );

  app.post(
    '/requests/:id/nis2/:kind/submit',
    {
      config: { access: access.roles('poc') },
      schema: {
        tags,
        summary:
          'Mark a NIS2 report submitted: when and to whom the entity filed it; it is frozen and its clock met',
        description:
          "The early warning, notification and final report meet their clock at `filedAt` (`late` when after it was due); the notification starts the final report's month, counted in `timeZone`. Send `If-Match` with the version you read.",
        params: Nis2ReportParamsSchema,
        body: Nis2SubmitSchema,
        response: { 200: ReportSchema },
      },
    },
    async (request, reply) =>
      sendVersioned(
        reply,
        await reports.submitNis2(
          ctxOf(request),
          request.params.id,
          request.params.kind,
          request.body,
          ifMatchVersion(request),
        ),
      ),
  );

  app.get(
    '/requests/:id/nis2/:kind/file',
    {
      config: { access: access.anyUser },
      exposeHeadRoute: false,
      schema: {
        tags,
        summary: 'Download a NIS2 report as PDF, Markdown or JSON',
        params: Nis2ReportParamsSchema,
        querystring: ReportFileQuerySchema,
        response: FILE_RESPONSE,
      },
    },
    async (request, reply) =>
      sendFile(
        reply,
        await reports.file(ctxOf(request), request.params.id, request.params.kind, request.query.format),
      ),
  );
};
