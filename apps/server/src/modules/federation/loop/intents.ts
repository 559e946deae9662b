import crypto from 'node:crypto';
import type { ForwardedAction } from '@vytis/contracts';
import { sql } from 'kysely';
import type { AuditService } from '../../../audit/audit.service.ts';
import type { Clock } from '../../../clock.ts';
import type { Ctx } from '../../../context.ts';
import { conflict } from '../../../errors.ts';
import type { Executor, Tx } from '../../../platform/db/transaction.ts';
import { selfParty } from '../feed.repository.ts';

/**
 * Intents: what a user did on a read-only copy, sent to the node that speaks for it (0019). This
 * node's own intents are rows with `mirrored_from` null; those received from peers are copies.
 */
export const INTENT_KINDS = [
  'vote',
  'transition',
  'release',
  'accept',
  'deployment-status',
  'revoke-pass',
  'carry',
] as const;
export type IntentKind = (typeof INTENT_KINDS)[number];

/** The latest of a copy's forwarded actions shown with it. */
export const FORWARDED_SHOWN = 20;

export interface Intent {
  kind: IntentKind;
  /** The party whose node speaks for the target. */
  targetParty: string;
  targetId: string;
  body: Record<string, unknown>;
}

/** What the object an intent acts on is, for the audit trail. */
export const targetTypeOf = (kind: string) =>
  kind === 'vote' || kind === 'transition' ? 'request' : 'deployment';

/**
 * Records, in the caller's transaction, that the actor did `intent` to a copy: the node that speaks
 * for it receives it on the feed and applies it as if the actor were there. Returns its id.
 */
export async function forwardIntent(
  trx: Tx,
  ctx: Ctx,
  deps: { audit: AuditService; clock: Clock },
  intent: Intent,
): Promise<string> {
  const origin = await selfParty(trx);
  // A copy exists only on a federated node; this is a defect, not the user's doing.
  if (!origin) throw conflict('this node is not federated: it cannot send anything to another node');
  const id = crypto.randomUUID();
  await trx
    .insertInto('federation_intents')
    .values({
      id,
      origin_party: origin,
      target_party: intent.targetParty,
      kind: intent.kind,
      target_id: intent.targetId,
      body: JSON.stringify(intent.body),
      actor_name: ctx.actor.name,
      actor_roles: JSON.stringify(ctx.actor.roles),
      created_at: deps.clock.now(),
    })
    .execute();
  await deps.audit.record(trx, ctx, {
    action: 'federation.intent.send',
    objectType: targetTypeOf(intent.kind),
    objectId: intent.targetId,
    summary: { intentId: id, kind: intent.kind, to: intent.targetParty },
  });
  return id;
}

type IntentRow = {
  id: string;
  kind: string;
  target_id: string;
  target_party: string;
  state: 'pending' | 'applied' | 'refused';
  outcome: string | null;
  actor_name: string;
  created_at: Date;
  decided_at: Date | null;
};

const presentForwarded = (row: IntentRow): ForwardedAction => ({
  id: row.id,
  kind: row.kind,
  to: row.target_party,
  state: row.state,
  outcome: row.outcome,
  by: row.actor_name,
  at: row.created_at.toISOString(),
  decidedAt: row.decided_at?.toISOString() ?? null,
});

/** This node's latest intents about each of these objects (at most FORWARDED_SHOWN each), newest first. */
export async function forwardedFor(
  db: Executor,
  targetIds: readonly string[],
): Promise<Map<string, ForwardedAction[]>> {
  const found = new Map<string, ForwardedAction[]>();
  if (targetIds.length === 0) return found;
  const rows = await db
    .selectFrom((eb) =>
      eb
        .selectFrom('federation_intents')
        .select([
          'id',
          'kind',
          'target_id',
          'target_party',
          'state',
          'outcome',
          'actor_name',
          'created_at',
          'decided_at',
          sql<number>`row_number() over (partition by target_id order by created_at desc, id desc)`.as(
            'rank',
          ),
        ])
        .where('mirrored_from', 'is', null)
        .where('target_id', 'in', [...targetIds])
        .as('i'),
    )
    .selectAll()
    .where('rank', '<=', FORWARDED_SHOWN)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  for (const row of rows) {
    const list = found.get(row.target_id);
    const action = presentForwarded(row as IntentRow);
    if (list) list.push(action);
    else found.set(row.target_id, [action]);
  }
  return found;
}

// --- the node that speaks for the target ------------------------------------------------------

export type ReceivedIntent = {
  id: string;
  origin_party: string;
  target_party: string;
  kind: string;
  target_id: string;
  body: unknown;
  actor_name: string;
  actor_roles: unknown;
  created_at: Date;
};

/** Intents received from peers that have no outcome here yet, oldest first, after `after`. */
export async function unanswered(
  db: Executor,
  after: { createdAt: Date; id: string } | null,
  limit: number,
): Promise<ReceivedIntent[]> {
  let query = db
    .selectFrom('federation_intents as i')
    .select([
      'i.id',
      'i.origin_party',
      'i.target_party',
      'i.kind',
      'i.target_id',
      'i.body',
      'i.actor_name',
      'i.actor_roles',
      'i.created_at',
    ])
    .where('i.mirrored_from', 'is not', null)
    // A peer removed since it sent them speaks for nobody here any more.
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('federation_peers as p')
          .select('p.party_code')
          .whereRef('p.party_code', '=', 'i.origin_party')
          .where('p.status', '=', 'active'),
      ),
    )
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('federation_intent_outcomes as o')
            .select('o.intent_id')
            .whereRef('o.intent_id', '=', 'i.id'),
        ),
      ),
    );
  if (after) {
    query = query.where(({ eb, or, and }) =>
      or([
        eb('i.created_at', '>', after.createdAt),
        and([eb('i.created_at', '=', after.createdAt), eb('i.id', '>', after.id)]),
      ]),
    );
  }
  return query.orderBy('i.created_at').orderBy('i.id').limit(limit).execute();
}

/**
 * Locks a received intent for its answer; false when it has one already (another process on the
 * same database answered it while this one waited).
 */
export async function lockUnanswered(trx: Tx, intentId: string): Promise<boolean> {
  const held = await trx
    .selectFrom('federation_intents')
    .select('id')
    .where('id', '=', intentId)
    .where('mirrored_from', 'is not', null)
    .forUpdate()
    .executeTakeFirst();
  if (!held) return false;
  const answered = await trx
    .selectFrom('federation_intent_outcomes')
    .select('intent_id')
    .where('intent_id', '=', intentId)
    .executeTakeFirst();
  return answered === undefined;
}

/** This node's answer to a received intent, in the transaction that holds its lock. */
export async function recordOutcome(
  trx: Tx,
  outcome: { intentId: string; originParty: string; state: 'applied' | 'refused'; outcome: string; at: Date },
): Promise<void> {
  await trx
    .insertInto('federation_intent_outcomes')
    .values({
      intent_id: outcome.intentId,
      origin_party: outcome.originParty,
      state: outcome.state,
      outcome: outcome.outcome,
      decided_at: outcome.at,
    })
    .execute();
}

/** Whether this node speaks for an intent's target: it holds it, and not as a copy. */
export async function speaksForTarget(db: Executor, kind: string, targetId: string): Promise<boolean> {
  const table = targetTypeOf(kind) === 'request' ? 'requests' : 'deployments';
  const row = await db
    .selectFrom(table)
    .select('mirrored_from')
    .where('id', '=', targetId)
    .executeTakeFirst();
  return row !== undefined && row.mirrored_from === null;
}

/** The role a trusted peer's signed descriptor gives its node (null: not a peer here). */
export async function peerRole(db: Executor, party: string): Promise<string | null> {
  const row = await db
    .selectFrom('federation_peers')
    .select('role')
    .where('party_code', '=', party)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return row?.role ?? null;
}
