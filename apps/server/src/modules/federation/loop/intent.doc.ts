import { Type } from 'typebox';
import Value from 'typebox/value';
import type { LoopDoc, LoopType } from './loop-types.ts';

const Party = Type.String({ pattern: '^[A-Z]{2,8}$', maxLength: 8 });

/**
 * An intent as its node serves it to the node that speaks for its target. The kind and body are
 * only bounded here: what they mean is the executor's to judge, and it answers a kind or body it
 * does not understand with a refusal in words rather than dropping the intent unanswered.
 */
const IntentDataSchema = Type.Object(
  {
    originParty: Party,
    targetParty: Party,
    kind: Type.String({ minLength: 1, maxLength: 40 }),
    targetId: Type.String({ format: 'uuid', maxLength: 36 }),
    body: Type.Record(Type.String({ maxLength: 60 }), Type.Unknown(), { maxProperties: 20 }),
    actorName: Type.String({ minLength: 1, maxLength: 200 }),
    actorRoles: Type.Array(Type.String({ maxLength: 40 }), { maxItems: 10 }),
    createdAt: Type.String({ format: 'date-time', maxLength: 40 }),
  },
  { additionalProperties: false },
);

/** The body as JSON may not exceed this (a reason or a comment is a few kilobytes at most). */
const BODY_BYTES = 16 * 1024;

interface IntentData {
  originParty: string;
  targetParty: string;
  kind: string;
  targetId: string;
  body: Record<string, unknown>;
  actorName: string;
  actorRoles: string[];
  createdAt: string;
}

const dataOf = (doc: LoopDoc) => doc.data as unknown as IntentData;

/**
 * What a user did on a copy (a vote, a release…), sent to the node that speaks for its target (order
 * 9: after the objects it acts on). Only that node receives it; it keeps the copy, which never
 * changes, and applies it with IntentExecutor. A peer acts only for its own party's users.
 */
export const intentDoc: LoopType = {
  type: 'intent',
  order: 9,

  async serve(db, ids, viewer) {
    const docs = new Map<string, Record<string, unknown>>();
    if (ids.length === 0) return docs;
    const rows = await db
      .selectFrom('federation_intents')
      .selectAll()
      .where('id', 'in', [...ids])
      .where('mirrored_from', 'is', null)
      .where('target_party', '=', viewer.party)
      .execute();
    for (const row of rows) {
      const data: IntentData = {
        originParty: row.origin_party,
        targetParty: row.target_party,
        kind: row.kind,
        targetId: row.target_id,
        body: row.body as Record<string, unknown>,
        actorName: row.actor_name,
        actorRoles: row.actor_roles as string[],
        createdAt: row.created_at.toISOString(),
      };
      docs.set(row.id, data as unknown as Record<string, unknown>);
    }
    return docs;
  },

  problem(data) {
    if (!Value.Check(IntentDataSchema, data)) {
      const first = [...Value.Errors(IntentDataSchema, data)][0];
      return `the intent is malformed: ${first ? `${first.instancePath || '/'} ${first.message}` : 'it does not match its schema'}`;
    }
    if (JSON.stringify((data as IntentData).body).length > BODY_BYTES)
      return `the intent's body is larger than ${BODY_BYTES} bytes`;
    return null;
  },

  refusal(peer, doc, env) {
    const data = dataOf(doc);
    if (data.originParty !== peer.party)
      return `${peer.party}'s node cannot act for another party (the intent is of ${data.originParty})`;
    if (data.targetParty !== env.self.party)
      return `the intent is for ${data.targetParty}'s node, not ${env.self.party}'s`;
    return null;
  },

  async apply(trx, peer, docs, _env, refuse) {
    const owners = new Map(
      (
        await trx
          .selectFrom('federation_intents')
          .select(['id', 'mirrored_from'])
          .where(
            'id',
            'in',
            docs.map((d) => d.id),
          )
          .execute()
      ).map((row) => [row.id, row.mirrored_from]),
    );
    let stored = 0;
    for (const doc of docs) {
      if (owners.has(doc.id)) {
        const owner = owners.get(doc.id);
        // A held intent never changes: what was asked stays what was asked.
        if (owner !== peer.party)
          refuse(
            doc,
            owner === null ? "the id is one of this node's own intents" : `the id is an intent of ${owner}`,
          );
        continue;
      }
      const data = dataOf(doc);
      const inserted = await trx
        .insertInto('federation_intents')
        .values({
          id: doc.id,
          origin_party: data.originParty,
          target_party: data.targetParty,
          kind: data.kind,
          target_id: data.targetId,
          body: JSON.stringify(data.body),
          actor_name: data.actorName,
          actor_roles: JSON.stringify(data.actorRoles),
          created_at: new Date(data.createdAt),
          mirrored_from: peer.party,
          mirror_version: doc.version,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted) stored++;
    }
    return stored;
  },

  async retract(trx, peer, ids) {
    if (ids.length === 0) return 0;
    // Withdrawn before this node answered it; once answered, what was done stays on record.
    const gone = await trx
      .deleteFrom('federation_intents as i')
      .where('i.id', 'in', [...ids])
      .where('i.mirrored_from', '=', peer.party)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('federation_intent_outcomes as o')
              .select('o.intent_id')
              .whereRef('o.intent_id', '=', 'i.id'),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(gone.numDeletedRows);
  },
};
