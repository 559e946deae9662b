import type { KeyObject } from 'node:crypto';
import type { AuditService } from '../../../audit/audit.service.ts';
import type { Clock } from '../../../clock.ts';
import type { Executor, Tx } from '../../../platform/db/transaction.ts';
import type { NodeKey } from '../../../platform/keys.ts';
import type { Notifier } from '../../notifications/notifier.ts';

/**
 * The force's loop on the change feed (issue 14). Case work (feed-objects.ts) is carried column by
 * column; the loop's objects are carried as documents, each type with its own rule of who may
 * receive it and how much of it, and its own way of being stored (see 0019_federated_loop.ts for who
 * speaks for what).
 */
export const LOOP_OBJECT_TYPES = [
  'registry',
  'request',
  'responder',
  'deployment',
  'revocations',
  'intent',
  'intent_outcome',
] as const;
export type LoopObjectType = (typeof LOOP_OBJECT_TYPES)[number];

export const isLoopObjectType = (value: unknown): value is LoopObjectType =>
  typeof value === 'string' && (LOOP_OBJECT_TYPES as readonly string[]).includes(value);

/** The one registry object (parties, statuses, framework versions), as the coordinating node serves it. */
export const REGISTRY_ID = '00000000-0000-4000-8000-00000000f001';
/** The one revocation list object of a node that issues passes. */
export const REVOCATIONS_ID = '00000000-0000-4000-8000-00000000f002';

export type NodeRole = 'coordinator' | 'national';

/** A peer as the party whose node receives a document: what its users together may see. */
export interface LoopViewer {
  party: string;
  role: NodeRole;
  /** Today (UTC, YYYY-MM-DD), for rules that read party statuses. */
  day: string;
}

/** A peer whose documents are being applied: it speaks only for its own party's objects. */
export interface LoopPeer {
  party: string;
  role: NodeRole;
  keyId: string;
  publicKey: KeyObject;
}

/** What the loop's document types are built from. */
export interface LoopEnv {
  /** This node: the party it speaks for and its role. */
  self: { party: string; role: NodeRole };
  clock: Clock;
  key: NodeKey;
  audit: AuditService;
  notifier: Notifier;
}

/** One version of a document from a peer, checked and ready to apply. */
export interface LoopDoc {
  id: string;
  /** The origin's feed sequence of this change. */
  version: number;
  /** When the origin recorded it. */
  at: string;
  data: Record<string, unknown>;
}

export type Refuse = (doc: LoopDoc, reason: string) => void;

export interface LoopType {
  type: LoopObjectType;
  /** The order a page's documents are applied in (lower first): the registry before requests, before deployments, before intents. */
  order: number;
  /**
   * The documents of these objects — this node's own — that `viewer` may receive, each projected for
   * it (no more than its users may see). An id absent from the answer is not for this viewer: a
   * viewer that was sent it before gets a retraction.
   */
  serve(
    db: Executor,
    ids: readonly string[],
    viewer: LoopViewer,
    env: LoopEnv,
  ): Promise<Map<string, Record<string, unknown>>>;
  /** Why a document cannot be stored as it is (shape, sizes, values), or null; checked before any transaction opens. */
  problem(data: unknown): string | null;
  /** Why `peer` cannot speak for this document (null: it may). Refused documents are audited. */
  refusal(peer: LoopPeer, doc: LoopDoc, env: LoopEnv): string | null;
  /**
   * Stores `peer`'s documents as read-only copies, in the page's transaction (copies are writable in
   * it); stale versions (at or below the copy's mirror_version) change nothing. Calls `refuse` for
   * each it will not store. Returns how many it stored.
   */
  apply(trx: Tx, peer: LoopPeer, docs: readonly LoopDoc[], env: LoopEnv, refuse: Refuse): Promise<number>;
  /** Removes `peer`'s copies of these objects (it may no longer show them here). Returns how many went. */
  retract(trx: Tx, peer: LoopPeer, ids: readonly string[], version: number, env: LoopEnv): Promise<number>;
}
