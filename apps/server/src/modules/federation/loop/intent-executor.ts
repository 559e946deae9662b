import {
  AcceptanceBodySchema,
  DeploymentStatusBodySchema,
  NewVoteSchema,
  ReleaseBodySchema,
  ReportBodySchema,
  ROLES,
  type Role,
  TransitionBodySchema,
} from '@vytis/contracts';
import type { Kysely } from 'kysely';
import { type TSchema, Type } from 'typebox';
import Value from 'typebox/value';
import type { AuditService } from '../../../audit/audit.service.ts';
import type { Clock } from '../../../clock.ts';
import { type Ctx, hasRole } from '../../../context.ts';
import { AppError, conflict, forbidden, invalidInput, notFound } from '../../../errors.ts';
import type { Database } from '../../../platform/db/schema.ts';
import { inTransaction, joinTransaction, readerOf } from '../../../platform/db/transaction.ts';
import type { CouncilService } from '../../council/council.service.ts';
import type { DeploymentsService } from '../../deployments/deployments.service.ts';
import { illegalTransitionMessage, TRANSITIONS, type TransitionName } from '../../requests/lifecycle.ts';
import type { RequestsService } from '../../requests/requests.service.ts';
import type { NodeIdentity } from '../federation.deps.ts';
import {
  INTENT_KINDS,
  type IntentKind,
  lockUnanswered,
  peerRole,
  type ReceivedIntent,
  recordOutcome,
  speaksForTarget,
  targetTypeOf,
  unanswered,
} from './intents.ts';

export interface IntentExecutorDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  node: NodeIdentity;
  council: CouncilService;
  requests: RequestsService;
  deployments: DeploymentsService;
}

/** Intents read per query. */
const BATCH = 100;
/** Failures other than a refusal (a lost connection, a defect) before an intent is refused for good. */
const MAX_TRIES = 5;

const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
const Reason = Type.Optional(Type.String({ maxLength: 2000 }));

/** What each kind's body must be: the same schemas the routes check a local user's input with. */
const BODIES: Record<IntentKind, TSchema> = {
  vote: NewVoteSchema,
  transition: Type.Object(
    {
      name: Type.Union(Object.keys(TRANSITIONS).map((name) => Type.Literal(name))),
      body: Type.Union([TransitionBodySchema, ReportBodySchema]),
      consequence: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  release: Type.Object(
    { responderId: Uuid, decision: ReleaseBodySchema.properties.decision, reason: Reason },
    { additionalProperties: false },
  ),
  accept: AcceptanceBodySchema,
  'deployment-status': DeploymentStatusBodySchema,
  'revoke-pass': Type.Object({ responderId: Uuid, reason: Reason }, { additionalProperties: false }),
  carry: Type.Object(
    {
      move: Type.Union([Type.Literal('cancelled'), Type.Literal('stood_down')]),
      reason: Type.String({ maxLength: 2000 }),
      requestId: Uuid,
    },
    { additionalProperties: false },
  ),
};

/** The roles the route of each kind asks of a local user; the service then checks the rest. */
const ROUTE_ROLES: Record<Exclude<IntentKind, 'transition' | 'carry'>, readonly Role[]> = {
  vote: ['council'],
  release: ['poc'],
  accept: ['poc'],
  'deployment-status': ['coordinator', 'poc'],
  'revoke-pass': ['coordinator', 'poc'],
};

const isKind = (kind: string): kind is IntentKind => (INTENT_KINDS as readonly string[]).includes(kind);

/**
 * Applies the intents peers sent about the objects this node speaks for (federation/loop/intents.ts):
 * each through the ordinary services, as its user acting from their own node, so the same rules
 * decide here; each answered once, with its outcome, which goes back to its node on the feed.
 */
export class IntentExecutor {
  /** Failures per intent in this process: an intent that keeps failing is refused, not retried forever. */
  private readonly tries = new Map<string, number>();

  constructor(readonly deps: IntentExecutorDeps) {}

  /** Applies every intent received from peers that has no outcome yet, oldest first. */
  async processPending(): Promise<{ applied: number; refused: number }> {
    const totals = { applied: 0, refused: 0 };
    if (!this.deps.node.party) return totals;
    let after: { createdAt: Date; id: string } | null = null;
    for (;;) {
      const batch = await unanswered(this.deps.db, after, BATCH);
      for (const intent of batch) {
        const result = await this.process(intent);
        if (result === 'applied') totals.applied++;
        if (result === 'refused') totals.refused++;
      }
      if (batch.length < BATCH) return totals;
      const last = batch.at(-1)!;
      after = { createdAt: last.created_at, id: last.id };
    }
  }

  private async process(intent: ReceivedIntent): Promise<'applied' | 'refused' | 'pending'> {
    try {
      const ctx = await this.ctxOf(intent);
      const done = await inTransaction(this.deps.db, async (trx) => {
        if (!(await lockUnanswered(trx, intent.id))) return false;
        checkShape(intent);
        if (!(await speaksForTarget(trx, intent.kind, intent.target_id))) {
          throw notFound(`${targetTypeOf(intent.kind)} ${intent.target_id} of this node`);
        }
        const outcome = await joinTransaction(trx, () => this.apply(ctx, intent));
        await recordOutcome(trx, {
          intentId: intent.id,
          originParty: intent.origin_party,
          state: 'applied',
          outcome,
          at: this.deps.clock.now(),
        });
        return true;
      });
      this.tries.delete(intent.id);
      return done ? 'applied' : 'pending';
    } catch (error) {
      if (error instanceof AppError) return this.refuse(intent, error.message);
      const tries = (this.tries.get(intent.id) ?? 0) + 1;
      this.tries.set(intent.id, tries);
      if (tries < MAX_TRIES) return 'pending';
      this.tries.delete(intent.id);
      return this.refuse(intent, 'it failed on this node, again and again');
    }
  }

  /** The refusal, audited here and answered to the intent's node. */
  private async refuse(intent: ReceivedIntent, reason: string): Promise<'refused' | 'pending'> {
    const refused = await inTransaction(this.deps.db, async (trx) => {
      if (!(await lockUnanswered(trx, intent.id))) return false;
      await recordOutcome(trx, {
        intentId: intent.id,
        originParty: intent.origin_party,
        state: 'refused',
        outcome: reason.slice(0, 2000),
        at: this.deps.clock.now(),
      });
      await this.deps.audit.record(trx, peerCtx(intent, []), {
        action: 'federation.intent.refused',
        objectType: targetTypeOf(intent.kind),
        objectId: intent.target_id,
        summary: { intentId: intent.id, peer: intent.origin_party, kind: intent.kind, reason },
      });
      return true;
    });
    return refused ? 'refused' : 'pending';
  }

  /**
   * The intent's user as they act here: named with their node, of its party, with the roles they
   * hold there — but never admin here, and coordinator only from the coordinating node.
   */
  private async ctxOf(intent: ReceivedIntent): Promise<Ctx> {
    const claimed = Array.isArray(intent.actor_roles) ? (intent.actor_roles as unknown[]) : [];
    const coordinating = (await peerRole(this.deps.db, intent.origin_party)) === 'coordinator';
    const roles = ROLES.filter(
      (role) => claimed.includes(role) && role !== 'admin' && (role !== 'coordinator' || coordinating),
    );
    return peerCtx(intent, roles);
  }

  /** Applies one intent through the services; what it did, in words. Refusals are AppErrors. */
  private async apply(ctx: Ctx, intent: ReceivedIntent): Promise<string> {
    const kind = intent.kind as IntentKind;
    if (kind !== 'transition' && kind !== 'carry' && !hasRole(ctx.actor, ...ROUTE_ROLES[kind])) {
      throw forbidden(`a ${kind} needs one of the roles ${ROUTE_ROLES[kind].join(', ')} on this node`);
    }
    const id = intent.target_id;
    const { council, requests, deployments } = this.deps;
    switch (kind) {
      case 'vote': {
        const body = intent.body as { vote: 'activate'; comment?: string };
        const request = await council.vote(ctx, id, body);
        return `${intent.origin_party}'s vote (${body.vote}) counted; the request is ${request.status}`;
      }
      case 'transition': {
        const body = intent.body as {
          name: TransitionName;
          body: Record<string, unknown>;
          consequence?: boolean;
        };
        if (body.consequence) return this.consequence(ctx, intent, body.name, body.body);
        const request = await requests.transition(ctx, id, body.name, body.body as never, undefined);
        return `the request is ${request.status}`;
      }
      case 'release': {
        const body = intent.body as { responderId: string; decision: 'release' | 'decline'; reason?: string };
        const deployment = await deployments.release(ctx, id, body.responderId, {
          decision: body.decision,
          ...(body.reason ? { reason: body.reason } : {}),
        });
        return `${body.decision === 'release' ? 'released' : 'declined'}; the deployment is ${deployment.status}`;
      }
      case 'accept': {
        const deployment = await deployments.accept(ctx, id, intent.body as never);
        return `the team is accepted; the deployment is ${deployment.status}`;
      }
      case 'deployment-status': {
        const { status, reason } = intent.body as {
          status: 'en_route' | 'remote' | 'on_site' | 'stood_down';
          reason?: string;
        };
        const deployment = await deployments.setStatus(ctx, id, status, reason);
        return `the deployment is ${deployment.status}`;
      }
      case 'revoke-pass': {
        const body = intent.body as { responderId: string; reason?: string };
        const revoked = await deployments.revokePass(ctx, id, body.responderId, body.reason);
        return `pass ${revoked.revoked.join(', ')} revoked`;
      }
      case 'carry': {
        const body = intent.body as { move: 'cancelled' | 'stood_down'; reason: string; requestId: string };
        const moved = await deployments.carryRequestMove(ctx, intent.origin_party, {
          requestId: body.requestId,
          deploymentId: id,
          move: body.move,
          reason: body.reason,
        });
        return `the deployment is ${moved.status.replace('_', ' ')}`;
      }
    }
  }

  /**
   * A move of this node's request that follows from what happened to its team on the node that
   * keeps it (adopted, accepted, stood down): only that node may ask it.
   */
  private async consequence(
    ctx: Ctx,
    intent: ReceivedIntent,
    name: TransitionName,
    body: Record<string, unknown>,
  ): Promise<string> {
    if ((await peerRole(readerOf(this.deps.db), intent.origin_party)) !== 'coordinator') {
      throw forbidden(
        `only the coordinating node moves a request as its team moves; ${intent.origin_party}'s does not`,
      );
    }
    // Only the moves a team's own moves bring with them; the rest are people's, made as such.
    if (!CONSEQUENCES.includes(name))
      throw forbidden(`a ${name} is not a consequence of a team's move: ask it as a transition`);
    return inTransaction(this.deps.db, async (trx) => {
      const request = await this.deps.requests.lockForSystem(trx, intent.target_id).catch(() => undefined);
      if (!request || request.mirrored_from) throw notFound(`request ${intent.target_id}`);
      const transition = TRANSITIONS[name];
      if (!transition.from.includes(request.status as never)) {
        throw conflict(illegalTransitionMessage(name, request.status as never, transition.from));
      }
      const moved = await this.deps.requests.applyTransition(trx, ctx, request, name, body);
      return `the request is ${moved.status}`;
    });
  }
}

/** The request moves that follow from its team's: adoption, the host's acceptance, the stand-down. */
const CONSEQUENCES: readonly TransitionName[] = ['assemble', 'deploy', 'stand-down'];

/** An intent of a kind this node knows, with the body that kind takes; else an AppError saying why not. */
function checkShape(intent: ReceivedIntent) {
  const { kind } = intent;
  if (!isKind(kind)) throw invalidInput(`this node does not know what to do with "${kind.slice(0, 40)}"`);
  const schema = BODIES[kind];
  if (Value.Check(schema, intent.body)) return;
  const first = [...Value.Errors(schema, intent.body)][0];
  throw invalidInput(
    `the ${kind} is malformed: ${first ? `${first.instancePath || '/'} ${first.message}` : 'it does not match its schema'}`,
  );
}

/** The context an intent's user acts in on this node. */
function peerCtx(intent: ReceivedIntent, roles: readonly Role[]): Ctx {
  return {
    actor: {
      type: 'user',
      id: null,
      name: `${intent.actor_name} (${intent.origin_party} node)`,
      party: intent.origin_party,
      roles,
    },
    requestId: null,
  };
}
