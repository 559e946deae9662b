import {
  DEADLINE_STATES,
  type DeadlineState,
  oneOf,
  REQUEST_STATUSES,
  type RequestStatus,
  TimestampSchema,
  TLPS,
  type Tlp,
  UuidSchema,
  VOTES,
  type VoteChoice,
} from '@vytis/contracts';
import { type Selectable, sql } from 'kysely';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import { peerRequestViewer } from '../../../access/policy.ts';
import type { RequestsTable } from '../../../platform/db/schema.ts';
import type { Executor, Tx } from '../../../platform/db/transaction.ts';
import * as frameworks from '../../framework/framework.repository.ts';
import * as parties from '../../parties/parties.repository.ts';
import * as repo from '../../requests/requests.repository.ts';
import type { LoopDoc, LoopEnv, LoopPeer, LoopType, LoopViewer, Refuse } from './loop-types.ts';

/**
 * A request as the node of its requesting party speaks for it: the row, its own timeline (never
 * what happened while it was a draft), its council's votes and its clocks. Other nodes hold a
 * read-only copy; the clock runs and the council decides only on the origin's node.
 */

const MAX_TIMELINE = 5000;
const MAX_DETAIL_BYTES = 64 * 1024;
const MAX_FIELD_BYTES = 256 * 1024;

const Code = Type.String({ pattern: '^[A-Z]{2,8}$' });
const Text = (maxLength: number) => Type.String({ maxLength });
const Json = Type.Record(Type.String(), Type.Unknown());
const OrNull = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const RequestDocSchema = Type.Object(
  {
    id: UuidSchema,
    party_code: Code,
    status: oneOf(REQUEST_STATUSES),
    version: Type.Integer({ minimum: 1 }),
    exercise: Type.Boolean(),
    title: Text(1000),
    severity: Text(40),
    tlp: oneOf(TLPS),
    incident_class: Text(500),
    fields: Json,
    priority_score: Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 }),
    priority: Json,
    eligibility: OrNull(Json),
    council: OrNull(Json),
    decision: OrNull(Json),
    report: OrNull(Json),
    created_at: TimestampSchema,
    created_by: Text(300),
    submitted_at: TimestampSchema,
    updated_at: TimestampSchema,
    timeline: Type.Array(
      Type.Object(
        {
          id: Type.Integer({ minimum: 1 }),
          at: TimestampSchema,
          kind: Text(100),
          actor: Text(300),
          party: OrNull(Code),
          from_status: OrNull(Text(40)),
          to_status: OrNull(Text(40)),
          detail: Json,
        },
        { additionalProperties: false },
      ),
      { maxItems: MAX_TIMELINE },
    ),
    votes: Type.Array(
      Type.Object(
        {
          party_code: Code,
          vote: oneOf(VOTES),
          comment: OrNull(Text(4000)),
          cast_by: Text(300),
          cast_at: TimestampSchema,
        },
        { additionalProperties: false },
      ),
      { maxItems: 500 },
    ),
    deadlines: Type.Array(
      Type.Object(
        {
          id: UuidSchema,
          kind: Text(60),
          due_at: TimestampSchema,
          warn_at: TimestampSchema,
          state: oneOf(DEADLINE_STATES),
          warned_at: OrNull(TimestampSchema),
          escalated_at: OrNull(TimestampSchema),
          met_at: OrNull(TimestampSchema),
        },
        { additionalProperties: false },
      ),
      { maxItems: 100 },
    ),
  },
  { additionalProperties: false },
);
type RequestDoc = Static<typeof RequestDocSchema>;

const JSON_COLUMNS = ['fields', 'priority', 'eligibility', 'council', 'decision', 'report'] as const;
const iso = (value: Date | null) => value?.toISOString() ?? null;

/** The viewer's node as its party's users: does its party vote in the council today? */
async function councilVoter(db: Executor, viewer: LoopViewer, env: LoopEnv) {
  if (viewer.role !== 'national') return false;
  const [status] = await parties.statusesOn(db, viewer.day, viewer.party);
  const framework = await frameworks.inForce(db, env.clock.now());
  const voters = (framework?.rules as { council?: { voters?: string[] } } | undefined)?.council?.voters ?? [];
  return status !== undefined && voters.includes(status.status);
}

function documentOf(
  row: Selectable<RequestsTable>,
  timeline: Awaited<ReturnType<typeof repo.sharedTimelines>>,
  votes: Awaited<ReturnType<typeof repo.votesOf>>,
  clocks: Awaited<ReturnType<typeof repo.deadlines>>,
): RequestDoc {
  const { mirrored_from: _m, mirror_version: _v, mirror_retracted: _r, ...columns } = row;
  return {
    ...columns,
    status: columns.status as RequestStatus,
    tlp: columns.tlp as Tlp,
    fields: columns.fields as Record<string, unknown>,
    priority: columns.priority as Record<string, unknown>,
    eligibility: columns.eligibility as Record<string, unknown> | null,
    council: columns.council as Record<string, unknown> | null,
    decision: columns.decision as Record<string, unknown> | null,
    report: columns.report as Record<string, unknown> | null,
    created_at: columns.created_at.toISOString(),
    submitted_at: columns.submitted_at!.toISOString(),
    updated_at: columns.updated_at.toISOString(),
    timeline: timeline.map((e) => ({
      id: e.id,
      at: e.at.toISOString(),
      kind: e.kind,
      actor: e.actor,
      party: e.party,
      from_status: e.from_status,
      to_status: e.to_status,
      detail: e.detail as Record<string, unknown>,
    })),
    votes: votes.map((v) => ({
      party_code: v.party_code,
      vote: v.vote as VoteChoice,
      comment: v.comment,
      cast_by: v.cast_by,
      cast_at: v.cast_at.toISOString(),
    })),
    deadlines: clocks.map((c) => ({
      id: c.id,
      kind: c.kind,
      due_at: c.due_at.toISOString(),
      warn_at: c.warn_at.toISOString(),
      state: c.state as DeadlineState,
      warned_at: iso(c.warned_at),
      escalated_at: iso(c.escalated_at),
      met_at: iso(c.met_at),
    })),
  };
}

/** Why a copy of this document cannot be stored here (beyond its shape), or null. */
async function storeProblem(
  trx: Tx,
  doc: LoopDoc,
  data: RequestDoc,
  known: ReadonlySet<string>,
): Promise<string | null> {
  if (data.id !== doc.id) return `the request's id ${data.id} differs from the document's ${doc.id}`;
  const stranger = data.votes.find((v) => !known.has(v.party_code));
  if (stranger) return `a vote of ${stranger.party_code}, a party unknown here`;
  const taken = await repo.clocksOfOtherRequests(
    trx,
    data.id,
    data.deadlines.map((c) => c.id),
  );
  if (taken.length > 0) return `clock ${taken[0]!.id} belongs to another request here`;
  return null;
}

/**
 * A request's votes are counted on the request's node; each voter's node checks the vote shown for
 * its own party against what it sent (its vote intents), so a requesting node cannot make up the
 * vote of a party whose node it peers with.
 */
async function forgedOwnVote(trx: Tx, env: LoopEnv, data: RequestDoc): Promise<string | null> {
  const own = data.votes.find((v) => v.party_code === env.self.party);
  if (!own) return null;
  const sent = await trx
    .selectFrom('federation_intents')
    .select('id')
    .where('mirrored_from', 'is', null)
    .where('kind', '=', 'vote')
    .where('target_id', '=', data.id)
    .where(sql<boolean>`body ->> 'vote' = ${own.vote}`)
    .executeTakeFirst();
  return sent
    ? null
    : `it shows a vote of ${env.self.party} (${own.vote}) that ${env.self.party}'s node never sent`;
}

async function storeCopy(trx: Tx, peer: LoopPeer, doc: LoopDoc, data: RequestDoc, env: LoopEnv) {
  const { timeline, votes, deadlines, ...columns } = data;
  const row = { ...columns } as Record<string, unknown>;
  for (const column of JSON_COLUMNS) {
    const value = columns[column];
    row[column] = value === null ? null : JSON.stringify(value);
  }
  const written = await repo.upsertRequestCopy(
    trx,
    peer.party,
    doc.version,
    row as unknown as Parameters<typeof repo.upsertRequestCopy>[3],
  );
  if (!written) return false;
  const copy = { mirrored_from: peer.party, mirror_version: doc.version };
  const arrived = await repo.insertTimelineCopies(
    trx,
    timeline.map((e) => ({
      request_id: data.id,
      at: e.at,
      kind: e.kind,
      actor: e.actor,
      party: e.party,
      from_status: e.from_status,
      to_status: e.to_status,
      party_only: false,
      detail: JSON.stringify(e.detail),
      origin_id: e.id,
      ...copy,
    })),
  );
  // As RequestJournal.record published them on the origin, so this node's users get live events
  // and webhooks for what happened there.
  for (const entry of arrived) {
    const statusChange =
      entry.from_status !== null || entry.to_status !== null
        ? { from: entry.from_status, to: entry.to_status }
        : {};
    await env.notifier.publish(trx, {
      type: `request.${entry.kind}`,
      requestId: data.id,
      partyOnly: false,
      data: {
        title: data.title,
        ...statusChange,
        ...(entry.detail as Record<string, unknown>),
        party: data.party_code,
        status: entry.to_status ?? data.status,
        exercise: data.exercise,
      },
    });
  }
  await repo.replaceVoteAndClockCopies(
    trx,
    data.id,
    votes.map((v) => ({ request_id: data.id, ...v, ...copy })),
    deadlines.map((c) => ({ request_id: data.id, ...c, ...copy })),
  );
  return true;
}

export const requestDoc: LoopType = {
  type: 'request',
  order: 1,

  async serve(db, ids, viewer, env) {
    const docs = new Map<string, Record<string, unknown>>();
    const visible = peerRequestViewer(viewer, await councilVoter(db, viewer, env));
    const rows = await repo.ownSubmittedVisible(db, env.self.party, ids, visible);
    if (rows.length === 0) return docs;
    const requestIds = rows.map((r) => r.id);
    const [timelines, votes, clocks] = await Promise.all([
      repo.sharedTimelines(db, requestIds),
      repo.votesOf(db, requestIds),
      repo.deadlines(db, requestIds),
    ]);
    for (const row of rows) {
      const of = <T extends { request_id: string }>(list: T[]) => list.filter((x) => x.request_id === row.id);
      // Within what a receiver accepts (problem()): the newest entries, and any detail too large
      // to send left out. Copies are keyed by origin id, so what was sent before stays.
      const timeline = of(timelines)
        .filter((e) => JSON.stringify(e.detail).length <= MAX_DETAIL_BYTES)
        .slice(-MAX_TIMELINE);
      docs.set(row.id, { ...documentOf(row, timeline, of(votes), of(clocks)) });
    }
    return docs;
  },

  problem(data) {
    if (!Value.Check(RequestDocSchema, data)) {
      const first = [...Value.Errors(RequestDocSchema, data)][0];
      return `the request is malformed: ${first ? `${first.instancePath || '/'} ${first.message}` : 'bad shape'}`;
    }
    for (const column of JSON_COLUMNS) {
      if (JSON.stringify(data[column]).length > MAX_FIELD_BYTES)
        return `the request's ${column} exceed ${MAX_FIELD_BYTES} bytes`;
    }
    const big = data.timeline.find((e) => JSON.stringify(e.detail).length > MAX_DETAIL_BYTES);
    if (big) return `timeline entry ${big.id} has a detail over ${MAX_DETAIL_BYTES} bytes`;
    if (new Set(data.timeline.map((e) => e.id)).size !== data.timeline.length)
      return 'the timeline holds an entry twice';
    if (new Set(data.votes.map((v) => v.party_code)).size !== data.votes.length) return 'a party votes twice';
    if (new Set(data.deadlines.map((c) => c.id)).size !== data.deadlines.length)
      return 'the clocks hold one twice';
    if (new Set(data.deadlines.map((c) => c.kind)).size !== data.deadlines.length)
      return 'the request has two clocks of one kind';
    return null;
  },

  refusal(peer, doc) {
    const party = String(doc.data.party_code);
    return party === peer.party ? null : `${peer.party}'s node cannot speak for a request of ${party}`;
  },

  async apply(trx, peer, docs, env, refuse: Refuse) {
    const origins = await repo.requestOrigins(
      trx,
      docs.map((d) => d.id),
    );
    const known = new Set((await parties.listParties(trx)).map((p) => p.code));
    let stored = 0;
    for (const doc of docs) {
      const held = origins.get(doc.id);
      if (held && held.mirrored_from === null) {
        refuse(doc, "the id is one of this node's own requests");
        continue;
      }
      if (held && held.mirrored_from !== peer.party) {
        refuse(doc, `the id is a copy from ${held.mirrored_from}`);
        continue;
      }
      if (held && (held.mirror_version ?? 0) >= doc.version) continue; // stale: nothing changes
      const data = doc.data as RequestDoc;
      const why = (await storeProblem(trx, doc, data, known)) ?? (await forgedOwnVote(trx, env, data));
      if (why) {
        refuse(doc, why);
        continue;
      }
      if (await storeCopy(trx, peer, doc, data, env)) stored++;
    }
    return stored;
  },

  async retract(trx, peer, ids, version) {
    let gone = 0;
    for (const id of ids) if (await repo.retractRequestCopy(trx, peer.party, id, version)) gone++;
    return gone;
  },
};
