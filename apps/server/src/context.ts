import type { Role } from '@vytis/contracts';

/** Who is acting. Services take it first: `service.fn(ctx, input)`. */
export interface Actor {
  type: 'user' | 'system';
  /** User id; null for the system. */
  id: string | null;
  name: string;
  party: string | null;
  roles: readonly Role[];
}

export interface Ctx {
  actor: Actor;
  requestId: string | null;
}

/** The local operator at the command line (admin socket or direct database access). */
export const CLI_ACTOR: Actor = { type: 'system', id: null, name: 'cli', party: null, roles: ['admin'] };
/** The node itself: seeds, scheduled checkpoints. */
export const NODE_ACTOR: Actor = { type: 'system', id: null, name: 'node', party: null, roles: ['admin'] };
export const ANONYMOUS: Actor = { type: 'system', id: null, name: 'anonymous', party: null, roles: [] };

export const systemCtx = (actor: Actor = NODE_ACTOR, requestId: string | null = null): Ctx => ({
  actor,
  requestId,
});

export const hasRole = (actor: Actor, ...roles: Role[]) => roles.some((role) => actor.roles.includes(role));
