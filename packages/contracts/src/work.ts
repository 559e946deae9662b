import { type Static, Type } from 'typebox';
import { oneOf, TimestampSchema, UuidSchema } from './common.ts';

/**
 * What may wait for a person: a vote to cast, a responder to release (or decline), a team to accept,
 * a case task assigned to them, a clock about to run out, a post-action report to write, a draft to
 * submit, a team to propose, a pass to collect.
 */
export const WORK_KINDS = [
  'vote',
  'release',
  'accept',
  'task',
  'clock',
  'report',
  'draft',
  'team',
  'pass',
] as const;
export type WorkKind = (typeof WORK_KINDS)[number];

/** The most items `GET /me/work` lists; `total` says how many there are. */
export const WORK_LIMIT = 200;

export const WorkItemSchema = Type.Object({
  kind: oneOf(WORK_KINDS),
  id: Type.String({
    description: 'stable key of the item in the list, e.g. `release:<deployment>:<responder>`',
  }),
  title: Type.String({ description: 'what it is about: the request, task or responder' }),
  href: Type.String({ description: "the web app's path where it is done" }),
  dueAt: Type.Union([TimestampSchema, Type.Null()], { description: 'when it is due; null: no deadline' }),
  since: TimestampSchema,
  party: Type.Optional(Type.String({ description: 'the party the request (or case) belongs to' })),
  requestId: Type.Optional(UuidSchema),
  deploymentId: Type.Optional(UuidSchema),
  caseId: Type.Optional(UuidSchema),
  responderId: Type.Optional(UuidSchema),
  exercise: Type.Boolean(),
  detail: Type.String({ description: 'what is to be done, in a sentence' }),
});
export type WorkItem = Static<typeof WorkItemSchema>;

export const WorkListSchema = Type.Object({
  items: Type.Array(WorkItemSchema, {
    description: 'oldest deadline first, then the items without one, oldest first',
  }),
  total: Type.Integer({ minimum: 0 }),
  counts: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), {
    description: 'how many items of each kind (every kind, 0 included)',
  }),
});
export type WorkList = Static<typeof WorkListSchema>;
