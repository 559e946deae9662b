import { Type } from 'typebox';
import Value from 'typebox/value';
import { targetTypeOf } from './intents.ts';
import type { LoopType } from './loop-types.ts';

const OutcomeDataSchema = Type.Object(
  {
    state: Type.Union([Type.Literal('applied'), Type.Literal('refused')]),
    outcome: Type.String({ minLength: 1, maxLength: 2000 }),
    decidedAt: Type.String({ format: 'date-time', maxLength: 40 }),
  },
  { additionalProperties: false },
);

interface OutcomeData {
  state: 'applied' | 'refused';
  outcome: string;
  decidedAt: string;
}

/**
 * The answer of the node that speaks for an intent's target (order 10: after the intents), for the
 * node the intent came from only; that node records it on its own intent and tells its users live.
 */
export const intentOutcomeDoc: LoopType = {
  type: 'intent_outcome',
  order: 10,

  async serve(db, ids, viewer) {
    const docs = new Map<string, Record<string, unknown>>();
    if (ids.length === 0) return docs;
    const rows = await db
      .selectFrom('federation_intent_outcomes')
      .selectAll()
      .where('intent_id', 'in', [...ids])
      .where('origin_party', '=', viewer.party)
      .execute();
    for (const row of rows) {
      const data: OutcomeData = {
        state: row.state,
        outcome: row.outcome,
        decidedAt: row.decided_at.toISOString(),
      };
      docs.set(row.intent_id, data as unknown as Record<string, unknown>);
    }
    return docs;
  },

  problem(data) {
    if (Value.Check(OutcomeDataSchema, data)) return null;
    const first = [...Value.Errors(OutcomeDataSchema, data)][0];
    return `the outcome is malformed: ${first ? `${first.instancePath || '/'} ${first.message}` : 'it does not match its schema'}`;
  },

  // Whether the peer was asked is known only from this node's intents: apply checks it.
  refusal: () => null,

  async apply(trx, peer, docs, env, refuse) {
    const asked = new Map(
      (
        await trx
          .selectFrom('federation_intents')
          .select(['id', 'kind', 'target_id', 'state'])
          .where(
            'id',
            'in',
            docs.map((d) => d.id),
          )
          .where('mirrored_from', 'is', null)
          .where('target_party', '=', peer.party)
          .execute()
      ).map((row) => [row.id, row]),
    );
    let stored = 0;
    for (const doc of docs) {
      const intent = asked.get(doc.id);
      if (!intent) {
        refuse(doc, `this node sent ${peer.party}'s node no intent with this id`);
        continue;
      }
      // An answer is given once; a later version of it changes nothing.
      if (intent.state !== 'pending') continue;
      const data = doc.data as unknown as OutcomeData;
      await trx
        .updateTable('federation_intents')
        .set({ state: data.state, outcome: data.outcome, decided_at: new Date(data.decidedAt) })
        .where('id', '=', doc.id)
        .execute();
      stored++;
      const request = await requestOf(trx, intent.kind, intent.target_id);
      if (!request) continue;
      await env.notifier.publish(trx, {
        type: `request.forwarded.${data.state}`,
        requestId: request.id,
        partyOnly: false,
        data: {
          title: request.title,
          intentId: doc.id,
          kind: intent.kind,
          to: peer.party,
          state: data.state,
          outcome: data.outcome,
          party: request.party_code,
          status: request.status,
          exercise: request.exercise,
        },
      });
    }
    return stored;
  },

  async retract() {
    // An answer, once given, is not taken back.
    return 0;
  },
};

/** The request an intent concerns, as this node holds it: its target, or its target deployment's. */
async function requestOf(trx: Parameters<LoopType['apply']>[0], kind: string, targetId: string) {
  const requestId =
    targetTypeOf(kind) === 'request'
      ? targetId
      : (
          await trx
            .selectFrom('deployments')
            .select('request_id')
            .where('id', '=', targetId)
            .executeTakeFirst()
        )?.request_id;
  if (!requestId) return undefined;
  return trx
    .selectFrom('requests')
    .select(['id', 'title', 'party_code', 'status', 'exercise'])
    .where('id', '=', requestId)
    .executeTakeFirst();
}
