import type { KeyObject } from 'node:crypto';
import type { RawBuilder } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Actor, Ctx } from '../context.ts';
import { AppError } from '../errors.ts';
import { canonicalJson } from '../platform/canonical-json.ts';
import type { DatabaseHandle } from '../platform/db/database.ts';
import { afterCommit, inTransaction, type Tx } from '../platform/db/transaction.ts';
import { type NodeKey, sign } from '../platform/keys.ts';
import { coalesceReruns, SoonRunner } from '../platform/rerun-coalescer.ts';
import {
  envelopeWriter,
  joinEnvelope,
  type LifecycleEvent,
  sha256Hex,
  signedPayload,
} from './audit.chain.ts';
import {
  appendCheckpointLine,
  type ExternalCheckpoint,
  signedCheckpointJson,
} from './audit.checkpoint-file.ts';
import { readCheckpointSource, readOwnCheckpointFile } from './audit.checkpoint-source.ts';
import { presentCheckpoint, presentEvent } from './audit.presenters.ts';
import * as repo from './audit.repository.ts';
import * as treeRepo from './audit.tree.repository.ts';
import { type SignedCheckpoint, type VerifyResult, verifyChain } from './audit.verifier.ts';
import { consistencyRanges, proofHashes } from './merkle.ts';

/** How long events whose writes were answered at commit wait to be placed with others. */
const SEAL_SOON_MS = 10;
/** Under a stream of such commits, sealing runs at most this often in a process. */
const SEAL_EVERY_MS = 50;
/** Events placed in the chain per sealing transaction. */
const SEAL_BATCH = 5000;

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
  /** Where every checkpoint this process signs is appended as well, out of the database's reach. */
  checkpointFile?: string | null | undefined;
  /**
   * How often the node signs checkpoints. When set, verification flags a chain whose newest
   * checkpoint is older than twice this; a process that signs none (tests, tools) leaves it unset.
   */
  checkpointSeconds?: number | null | undefined;
}

export interface VerifyRequest {
  /** Keys of other processes or nodes, trusted besides this node's own. */
  extraKeys?: ReadonlyMap<string, KeyObject>;
  /** Files or URLs of checkpoints kept elsewhere, checked besides the node's own file. */
  checkpointSources?: readonly string[];
}

/**
 * The only writer of the audit log. Callers pass their own transaction so the event commits or
 * rolls back together with the change it describes.
 */
export class AuditService {
  private lastSigned: Awaited<ReturnType<typeof repo.insertCheckpoint>> | undefined;
  /** Set when the chain has a gap the tree cannot be built over: sealing goes on without it. */
  private treeStuck = false;
  private readonly sealCoalesced = coalesceReruns(() => this.sealAll());
  private readonly sealSoon = new SoonRunner(() => this.seal(), SEAL_SOON_MS, SEAL_EVERY_MS);

  constructor(private readonly deps: AuditDeps) {}

  async record(trx: Tx, ctx: Ctx, entry: AuditEntry): Promise<void> {
    await this.recordMany(trx, ctx, [entry]);
  }

  /**
   * Adds the events to the caller's transaction, unplaced: they commit or roll back with it, and
   * taking no shared lock there, writes on the node do not wait for each other's commits. Once it
   * has committed they are sealed into the chain, before inTransaction returns.
   */
  async recordMany(trx: Tx, ctx: Ctx, entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const write = envelopeWriter(unplacedActor(this.deps.clock.now(), ctx));
    await repo.insertPending(
      trx,
      entries.map((entry) => write(unplacedEntry(entry))),
    );
    afterCommit(trx, 'audit.seal', () => this.sealQuietly());
  }

  /**
   * `recordMany` for events of different actors (writes of several requests done together), each
   * with its own ctx (its actor and its request id), as a part of the caller's statement, for its
   * WITH clause: an event is recorded only if its `key` is among those `kept` selects (text) there,
   * so a write and its events go in one round trip. Their writes are answered at commit, so once
   * the statement has run the caller asks for their sealing soon after it with
   * `sealSoonAfterCommit` (after what must come first once it commits), together with those of
   * other such commits.
   */
  recordEachWithin(
    events: readonly { ctx: Ctx; entry: AuditEntry; key: string }[],
    kept: RawBuilder<unknown>,
  ): RawBuilder<unknown> {
    const at = this.deps.clock.now();
    return repo.insertPendingWithin(
      events.map(({ ctx, entry, key }) => ({
        ...envelopeWriter(unplacedActor(at, ctx))(unplacedEntry(entry)),
        key,
      })),
      kept,
    );
  }

  /** The events recorded within `trx` by `recordEachWithin` are sealed soon after its commit. */
  sealSoonAfterCommit(trx: Tx): void {
    afterCommit(trx, 'audit.seal.soon', async () => void this.sealSoon.request());
  }

  /** For events recorded by `recordEachWithin` in a statement of its own, once it has returned. */
  sealSoonAfterStatement(): void {
    void this.sealSoon.request();
  }

  /** Resolves once the events recorded with `recordEachWithin` so far are in the chain. */
  sealedSoon(): Promise<void> {
    return this.sealSoon.done();
  }

  /**
   * Places every committed pending event in the chain, oldest first, many per transaction: the
   * chain's order is the order of sealing. One sealer at a time on the database; one that waited
   * for another seals what is left, if anything. Returns how many it placed.
   */
  seal(): Promise<number> {
    return this.sealCoalesced();
  }

  private async sealAll(): Promise<number> {
    let placed = 0;
    for (;;) {
      const count = await inTransaction(this.deps.database.db, async (trx) => {
        await repo.takeSealerTurn(trx);
        const { head, tree, pending } = await treeRepo.sealerView(trx, SEAL_BATCH);
        if (pending.length === 0) {
          if (!this.treeStuck) await this.syncTreeTo(trx, head.seq, tree);
          return 0;
        }
        let prevHash = head.hash;
        const rows = pending.map((parts, i) => {
          const seq = head.seq + i + 1;
          const envelope = joinEnvelope(parts, prevHash, seq);
          prevHash = sha256Hex(envelope);
          return { seq, envelope, hash: prevHash };
        });
        // The tree grows with the chain, in the same transaction: its leaves are the new hashes.
        let frontier = tree.size === head.seq ? tree.frontier : null;
        if (!frontier && !this.treeStuck) frontier = await treeRepo.syncTree(trx, tree, head.seq);
        if (!frontier) this.treeStuck = true;
        const nodes = frontier
          ? treeRepo.extend(
              frontier,
              rows.map((r) => r.hash),
            )
          : [];
        await repo.placeSealed(
          trx,
          rows,
          pending.map((p) => p.id),
          frontier ? { size: frontier.size, frontier: treeRepo.frontierText(frontier), nodes } : undefined,
        );
        return pending.length;
      });
      placed += count;
      if (count < SEAL_BATCH) return placed;
    }
  }

  /**
   * Builds the tree over events it does not cover (a chain older than the tree, events written by
   * other means) or back to a chain cut below it. A chain with a gap gets no tree beyond it: the
   * verifier reports the gap, and sealing goes on without the tree until the next start.
   */
  private async syncTreeTo(trx: Tx, chainSize: number, tree: treeRepo.TreeState): Promise<void> {
    if (tree.size === chainSize) return;
    if (!(await treeRepo.syncTree(trx, tree, chainSize))) this.treeStuck = true;
  }

  /**
   * After a commit the change is made whatever happens here; events a failed sealing leaves
   * pending are placed by the next one (the next write, the scheduler, or any read of the log).
   */
  private async sealQuietly(): Promise<void> {
    await this.seal().catch(() => {});
  }

  /** Records a denied access on its own: there is no mutation for it to ride with. */
  async recordDenial(ctx: Ctx, entry: AuditEntry): Promise<void> {
    await inTransaction(this.deps.database.db, (trx) => this.record(trx, ctx, entry));
  }

  /** A page of events in sequence order; the cursor is the last sequence number seen. */
  async page(filter: repo.EventFilter, order: 'asc' | 'desc', limit: number) {
    await this.seal();
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

  /**
   * Verifies against this node's own key and its own checkpoint file; the CLI may add keys of
   * other processes, and checkpoints kept elsewhere.
   */
  async verify(request: VerifyRequest = {}): Promise<VerifyResult> {
    await this.seal();
    const trustedKeys = new Map([
      [this.deps.key.keyId, this.deps.key.publicKey],
      ...(request.extraKeys ?? []),
    ]);
    const { checkpointFile, checkpointSeconds } = this.deps;
    const own = checkpointFile ? await readOwnCheckpointFile(checkpointFile) : null;
    const external: ExternalCheckpoint[] = [...(own?.entries ?? [])];
    for (const source of request.checkpointSources ?? [])
      external.push(...(await readCheckpointSource(source)));
    return verifyChain(this.deps.database, {
      trustedKeys,
      external,
      freshness: checkpointSeconds
        ? { now: this.deps.clock.now(), maxAgeMs: 2 * checkpointSeconds * 1000 }
        : undefined,
      ownFile:
        own && checkpointFile
          ? {
              path: checkpointFile,
              keyId: this.deps.key.keyId,
              // On PostgreSQL the node's other processes sign under the same key into files of
              // their own, so its checkpoints in the database do not mean this file must exist.
              missing: own.missing && this.deps.database.kind === 'pglite',
              entries: own.entries,
            }
          : undefined,
    });
  }

  /** The newest checkpoint this node signed, with its key: public, so others can keep it. */
  async latestSignedCheckpoint() {
    const row = await repo.latestCheckpointSignedBy(this.deps.database.db, this.deps.key.keyId);
    if (!row) throw new AppError('not_found', 'this node has not signed a checkpoint yet');
    return signedCheckpointJson(signedCheckpointOf(row), this.deps.key.publicKey);
  }

  /** The size of the tree proofs can be asked of (every sealed event, once the tree caught up). */
  async treeSize(): Promise<number> {
    await this.seal();
    return (await treeRepo.readTreeState(this.deps.database.db)).size;
  }

  /**
   * RFC 9162 consistency proof from the first `first` to the first `second` leaves, with the tree
   * head at `second`: O(log n) stored hashes, plus at most a few dozen event hashes below them.
   */
  async consistencyProof(first: number, second: number) {
    const size = await this.treeSize();
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1)
      throw new AppError('invalid_input', 'first and second must be whole numbers, first at least 1');
    if (first > second)
      throw new AppError('invalid_input', `first (${first}) must not be larger than second (${second})`);
    if (second > size)
      throw new AppError(
        'invalid_input',
        `second (${second}) is beyond the log: its Merkle tree holds ${size} events`,
      );
    const source = treeRepo.treeHashSource(this.deps.database.db, size);
    const [proof, [secondRoot]] = await Promise.all([
      proofHashes(consistencyRanges(first, second), source),
      proofHashes([[0, second]], source),
    ]);
    return {
      first,
      second,
      secondRoot: secondRoot!.toString('hex'),
      proof: proof.map((h) => h.toString('hex')),
    };
  }

  /** An auditor's on-demand checkpoint: the request itself is audited, then covered by the signature. */
  async requestCheckpoint(ctx: Ctx) {
    await inTransaction(this.deps.database.db, (trx) =>
      this.record(trx, ctx, { action: 'audit.checkpoint.request', objectType: 'audit_log' }),
    );
    return presentCheckpoint((await this.checkpoint({ force: true })).checkpoint);
  }

  /**
   * Signs the current head. Skipped when nothing was appended since this process's last
   * checkpoint, unless forced or that checkpoint is older than `renewAfterMs`: a quiet node renews
   * its checkpoint now and then (so a missing one means something), without a row per call. Each
   * process judges by what it signed itself (processes of one node share its key, each with its
   * own file), so its file has no gaps while others sign.
   */
  async checkpoint(options: { force?: boolean; renewAfterMs?: number } = {}) {
    await this.seal();
    let signed: SignedCheckpoint | undefined;
    let result: { created: boolean; checkpoint: Awaited<ReturnType<typeof repo.insertCheckpoint>> };
    try {
      result = await inTransaction(this.deps.database.db, async (trx) => {
        // The sealer's turn: the tree's state read with the head is the one of that very size.
        await repo.takeSealerTurn(trx);
        const {
          head: { seq: size, hash: headHash },
          tree,
        } = await treeRepo.sealerView(trx, 0);
        const root = tree.size === size ? tree.frontier.rootHex() : null;
        const previous = this.lastSigned;
        const renew =
          options.renewAfterMs !== undefined &&
          previous !== undefined &&
          this.deps.clock.now().getTime() - previous.signed_at.getTime() >= options.renewAfterMs;
        if (!options.force && !renew && previous && previous.size === size)
          return { created: false as const, checkpoint: previous };
        signed = this.signHead(size, headHash, undefined, root);
        const checkpoint = await repo.insertCheckpoint(trx, {
          size,
          head: headHash,
          root,
          signed_at: signed.signedAt,
          key_id: signed.keyId,
          signature: signed.signature,
        });
        return { created: true as const, checkpoint };
      });
    } catch (error) {
      // What sealerView read was committed before: the file vouches for it even when the row cannot
      // be stored. Someone able to make every insert fail must not gain a window with no
      // checkpoint at all, in which events could be cut unseen.
      if (signed) await this.appendToFile(signed).catch(() => {});
      throw error;
    }
    if (result.created && signed) {
      this.lastSigned = result.checkpoint;
      await this.appendToFile(signed, `checkpoint ${result.checkpoint.id}`);
    }
    return result;
  }

  /**
   * Writes a signed start or stop line to the checkpoint file (the database holds no such rows). A
   * gap between checkpoints is then told apart from a node that was stopped.
   */
  async markLifecycle(event: LifecycleEvent): Promise<void> {
    if (!this.deps.checkpointFile) return;
    const { seq, hash } = await repo.head(this.deps.database.db);
    await this.appendToFile(this.signHead(seq, hash, event), `the ${event} line`);
  }

  private signHead(
    size: number,
    head: string,
    event?: LifecycleEvent,
    root?: string | null,
  ): SignedCheckpoint {
    const unsigned = {
      size,
      head,
      ...(root ? { root } : {}),
      signedAt: this.deps.clock.now(),
      keyId: this.deps.key.keyId,
      event,
    };
    return { ...unsigned, signature: sign(this.deps.key, signedPayload(unsigned)) };
  }

  private async appendToFile(signed: SignedCheckpoint, what = 'a checkpoint'): Promise<void> {
    const file = this.deps.checkpointFile;
    if (!file) return;
    try {
      await appendCheckpointLine(file, signedCheckpointJson(signed, this.deps.key.publicKey));
    } catch (error) {
      throw new AppError(
        'unavailable',
        `${what} was signed, but could not be appended to the checkpoint file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }
}

export const signedCheckpointOf = (row: {
  size: number;
  head: string;
  root: string | null;
  signed_at: Date;
  key_id: string;
  signature: string;
}): SignedCheckpoint => ({
  size: row.size,
  head: row.head,
  ...(row.root ? { root: row.root } : {}),
  signedAt: row.signed_at,
  keyId: row.key_id,
  signature: row.signature,
});

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
