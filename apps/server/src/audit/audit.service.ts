import type { KeyObject } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Actor, Ctx } from '../context.ts';
import { canonicalJson } from '../platform/canonical-json.ts';
import type { DatabaseHandle } from '../platform/db/database.ts';
import { inTransaction, type Tx } from '../platform/db/transaction.ts';
import { type NodeKey, sign } from '../platform/keys.ts';
import { checkpointPayload, envelopeWriter, joinEnvelope, sha256Hex } from './audit.chain.ts';
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
  database: DatabaseHandle;
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
    const write = envelopeWriter(unplacedActor(this.deps.clock.now(), ctx));
    if (entries.length === 1) return [await repo.appendOne(trx, write(unplacedEntry(entries[0]!)))];
    const head = await repo.claimHead(trx, entries.length);
    let prevHash = head.hash;
    const rows = entries.map((entry, i) => {
      const seq = head.seq + i + 1;
      const envelope = joinEnvelope(write(unplacedEntry(entry)), prevHash, seq);
      prevHash = sha256Hex(envelope);
      return { seq, envelope, hash: prevHash };
    });
    await repo.insertClaimed(trx, rows);
    return rows.map((r) => r.seq);
  }

  /** Records a denied access on its own: there is no mutation for it to ride with. */
  async recordDenial(ctx: Ctx, entry: AuditEntry): Promise<void> {
    await inTransaction(this.deps.database.db, (trx) => this.record(trx, ctx, entry));
  }

  /** A page of events in sequence order; the cursor is the last sequence number seen. */
  async page(filter: repo.EventFilter, order: 'asc' | 'desc', limit: number) {
    const rows = await repo.pageEvents(this.deps.database.db, filter, order, limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map(presentEvent),
      nextCursor: rows.length > limit ? String(page.at(-1)!.seq) : null,
    };
  }

  async checkpoints(limit?: number) {
    return { items: (await repo.listCheckpoints(this.deps.database.db, limit)).map(presentCheckpoint) };
  }

  /** Verifies against this node's own key; the CLI may add keys of other processes or files. */
  async verify(extraKeys: ReadonlyMap<string, KeyObject> = new Map()): Promise<VerifyResult> {
    const trustedKeys = new Map([[this.deps.key.keyId, this.deps.key.publicKey], ...extraKeys]);
    return verifyChain(this.deps.database, { trustedKeys });
  }

  /** An auditor's on-demand checkpoint: the request itself is audited, then covered by the signature. */
  async requestCheckpoint(ctx: Ctx) {
    await inTransaction(this.deps.database.db, (trx) =>
      this.record(trx, ctx, { action: 'audit.checkpoint.request', objectType: 'audit_log' }),
    );
    return presentCheckpoint((await this.checkpoint({ force: true })).checkpoint);
  }

  /**
   * Signs the current head. Skipped when nothing was appended since the last checkpoint unless
   * forced, so a quiet node does not grow its checkpoint table.
   */
  async checkpoint(options: { force?: boolean } = {}) {
    return inTransaction(this.deps.database.db, async (trx) => {
      const { seq: size, hash: headHash } = await repo.claimHead(trx, 0);
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

// PostgreSQL text holds neither NUL nor lone UTF-16 surrogates (JSON escapes NUL, but cannot
// carry a lone surrogate either): store what can be stored, and hash that.
const wellFormed = (text: string) => (text.isWellFormed() ? text : text.toWellFormed());
const storable = <T extends string | null>(text: T): T => {
  if (text === null || (text.isWellFormed() && !text.includes('\u0000'))) return text;
  return wellFormed(text).replaceAll('\u0000', '\uFFFD') as T;
};

function canonicalSummary(summary: Record<string, unknown>): string {
  try {
    return canonicalJson(summary);
  } catch {
    // The encoder refuses lone surrogates: only then pay for a sanitised copy.
    return canonicalJson(storableJson(summary));
  }
}

/** Summaries often carry what a client sent: make every string in them storable, keys included. */
function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return wellFormed(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [wellFormed(k), storableJson(v)]));
  }
  return value;
}

function unplacedActor(at: Date, ctx: Ctx) {
  const actor: Actor = ctx.actor;
  return {
    at,
    actorType: actor.type,
    actorId: storable(actor.id),
    actorName: storable(actor.name),
    actorParty: actor.party,
    requestId: storable(ctx.requestId),
  };
}

function unplacedEntry(entry: AuditEntry) {
  return {
    action: storable(entry.action),
    objectType: storable(entry.objectType),
    objectId: storable(entry.objectId ?? null),
    summary: canonicalSummary(entry.summary ?? {}),
  };
}
