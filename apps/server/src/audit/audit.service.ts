import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Actor, Ctx } from '../context.ts';
import { canonicalJson } from '../platform/canonical-json.ts';
import type { Database, NewAuditEventRow } from '../platform/db/schema.ts';
import { inTransaction, type Tx } from '../platform/db/transaction.ts';
import { type NodeKey, sign } from '../platform/keys.ts';
import { type ChainedEvent, checkpointPayload, GENESIS_HASH, hashEvent } from './audit.chain.ts';
import { presentCheckpoint, presentEvent } from './audit.presenters.ts';
import * as repo from './audit.repository.ts';
import { type VerifyResult, verifyChain } from './audit.verifier.ts';

export interface AuditEntry {
  /** dotted verb, e.g. `user.create`, `party.status.change`, `access.denied` */
  action: string;
  objectType: string;
  objectId?: string | null;
  /** What changed, in a few fields; never secrets. */
  summary?: Record<string, unknown>;
}

export interface AuditDeps {
  db: Kysely<Database>;
  clock: Clock;
  key: NodeKey;
}

/**
 * The only writer of the audit log. Callers pass their own transaction so the event commits or
 * rolls back together with the change it describes.
 */
export class AuditService {
  constructor(private readonly deps: AuditDeps) {}

  async record(trx: Tx, ctx: Ctx, entry: AuditEntry): Promise<number> {
    const [seq] = await this.recordMany(trx, ctx, [entry]);
    return seq!;
  }

  async recordMany(trx: Tx, ctx: Ctx, entries: readonly AuditEntry[]): Promise<number[]> {
    if (entries.length === 0) return [];
    await repo.lockChain(trx);
    const last = await repo.head(trx);
    let prevHash = last?.hash ?? GENESIS_HASH;
    let seq = last?.seq ?? 0;
    const at = this.deps.clock.now();
    const rows: NewAuditEventRow[] = [];
    for (const entry of entries) {
      seq += 1;
      const event = toChained(seq, at, ctx, entry, prevHash);
      const hash = hashEvent(event);
      rows.push(toRow(event, hash));
      prevHash = hash;
    }
    await repo.insertEvents(trx, rows);
    return rows.map((r) => r.seq);
  }

  /** Records a denied access on its own: there is no mutation for it to ride with. */
  async recordDenial(ctx: Ctx, entry: AuditEntry): Promise<void> {
    await inTransaction(this.deps.db, (trx) => this.record(trx, ctx, entry));
  }

  /** A page of events in sequence order; the cursor is the last sequence number seen. */
  async page(filter: repo.EventFilter, order: 'asc' | 'desc', limit: number) {
    const rows = await repo.pageEvents(this.deps.db, filter, order, limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map(presentEvent),
      nextCursor: rows.length > limit ? String(page.at(-1)!.seq) : null,
    };
  }

  async checkpoints(limit?: number) {
    return { items: (await repo.listCheckpoints(this.deps.db, limit)).map(presentCheckpoint) };
  }

  /** Verifies against this node's own key; the CLI may add keys of other processes or files. */
  async verify(extraKeys: ReadonlyMap<string, KeyObject> = new Map()): Promise<VerifyResult> {
    const trustedKeys = new Map([[this.deps.key.keyId, this.deps.key.publicKey], ...extraKeys]);
    return verifyChain(this.deps.db, { trustedKeys });
  }

  /** An auditor's on-demand checkpoint: the request itself is audited, then covered by the signature. */
  async requestCheckpoint(ctx: Ctx) {
    await inTransaction(this.deps.db, (trx) =>
      this.record(trx, ctx, { action: 'audit.checkpoint.request', objectType: 'audit_log' }),
    );
    return presentCheckpoint((await this.checkpoint({ force: true })).checkpoint);
  }

  /**
   * Signs the current head. Skipped when nothing was appended since the last checkpoint unless
   * forced, so a quiet node does not grow its checkpoint table.
   */
  async checkpoint(options: { force?: boolean } = {}) {
    return inTransaction(this.deps.db, async (trx) => {
      await repo.lockChain(trx);
      const last = await repo.head(trx);
      const size = last?.seq ?? 0;
      const headHash = last?.hash ?? GENESIS_HASH;
      const previous = await repo.latestCheckpoint(trx);
      if (!options.force && previous && previous.size === size)
        return { created: false as const, checkpoint: previous };
      const signedAt = this.deps.clock.now();
      const { keyId } = this.deps.key;
      const signature = sign(this.deps.key, checkpointPayload(size, headHash, signedAt, keyId));
      const checkpoint = await repo.insertCheckpoint(trx, {
        size,
        head: headHash,
        signed_at: signedAt,
        key_id: keyId,
        signature,
      });
      return { created: true as const, checkpoint };
    });
  }
}

export function toChained(
  seq: number,
  at: Date,
  ctx: Ctx,
  entry: AuditEntry,
  prevHash: string,
): ChainedEvent {
  const actor: Actor = ctx.actor;
  return {
    seq,
    at,
    actorType: actor.type,
    actorId: actor.id,
    actorName: actor.name,
    actorParty: actor.party,
    action: entry.action,
    objectType: entry.objectType,
    objectId: entry.objectId ?? null,
    summary: canonicalJson(entry.summary ?? {}),
    requestId: ctx.requestId,
    prevHash,
  };
}

export function toRow(e: ChainedEvent, hash: string): NewAuditEventRow {
  return {
    seq: e.seq,
    at: e.at,
    actor_type: e.actorType,
    actor_id: e.actorId,
    actor_name: e.actorName,
    actor_party: e.actorParty,
    action: e.action,
    object_type: e.objectType,
    object_id: e.objectId,
    summary: e.summary,
    request_id: e.requestId,
    prev_hash: e.prevHash,
    hash,
  };
}
