import type { Ctx } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { inTransaction } from '../../platform/db/transaction.ts';
import { type ChangeFeed, type FeedVersion, MAX_PAGE } from './change-feed.ts';
import type { FederationDeps, TrustedPeer } from './federation.deps.ts';
import * as repo from './feed.repository.ts';
import { createPeerClient, type PeerClient } from './peer-client.ts';
import type { PeersService } from './peers.service.ts';
import type { WitnessService } from './witness.service.ts';

/** The largest feed page accepted from a peer. */
const PAGE_MAX_BYTES = 64 * 1024 * 1024;
const PAGE_TIMEOUT_MS = 60_000;
/** Pages taken from one peer in one round: a peer far behind catches up over several rounds. */
const PAGES_PER_ROUND = 200;

export interface PullOutcome {
  party: string;
  ok: boolean;
  error?: string;
  applied: number;
  refused: number;
  cursor: number;
  remoteHead: number | null;
}

/**
 * Pulls each peer's change feed on a schedule and on demand, then exchanges audit checkpoints with
 * it. One pull of a peer at a time in this process; a peer that answers badly is recorded in its
 * status and audited (once per distinct error), and never blocks the others.
 */
export class FederationPuller {
  private readonly running = new Map<string, Promise<PullOutcome>>();

  constructor(
    readonly deps: FederationDeps,
    readonly parts: {
      peers: PeersService;
      witness: WitnessService;
      feed: ChangeFeed;
      /** Applies what peers asked of this node's objects (votes, releases…) once their pages are in. */
      intents: { processPending(): Promise<{ applied: number; refused: number }> };
    },
  ) {}

  /** Pulls every active peer once, side by side. */
  async pullAll(signal?: AbortSignal): Promise<PullOutcome[]> {
    if (!this.deps.node.party) return [];
    const peers = await this.parts.peers.activePeers();
    return Promise.all(peers.map((peer) => this.pullOne(peer.party, signal)));
  }

  private readonly again = new Set<string>();

  /**
   * Pulls a peer that said it has news (POST /federation/v1/notify), without waiting: at once, or
   * right after the pull of it that is running (which may have started before the news). Returns
   * whether a pull was started or queued.
   */
  pullSoon(party: string): boolean {
    if (!this.deps.node.party) return false;
    if (this.running.has(party)) {
      this.again.add(party);
      return true;
    }
    void this.pullOne(party)
      .catch(() => undefined)
      .finally(() => {
        if (this.again.delete(party)) this.pullSoon(party);
      });
    return true;
  }

  /** Pulls one peer now (joins a pull of it already running). */
  pullOne(party: string, signal?: AbortSignal): Promise<PullOutcome> {
    const running = this.running.get(party);
    if (running) return running;
    const pull = this.pull(party, signal).finally(() => this.running.delete(party));
    this.running.set(party, pull);
    return pull;
  }

  private async pull(party: string, signal?: AbortSignal): Promise<PullOutcome> {
    if (!this.deps.node.party)
      throw new AppError('conflict', 'this node is not federated: set VYTIS_NODE_PARTY');
    const peer = (await this.parts.peers.activePeers()).find((p) => p.party === party);
    if (!peer) throw new AppError('not_found', `no active peer ${party}`);
    const client = createPeerClient(
      {
        key: this.deps.key,
        clock: this.deps.clock,
        allowPrivateNetworks: this.deps.allowPrivateNetworks,
        ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}),
      },
      peer.url,
    );
    const outcome: PullOutcome = {
      party,
      ok: true,
      applied: 0,
      refused: 0,
      cursor: peer.cursor,
      remoteHead: null,
    };
    try {
      await this.pullFeed(peer, client, outcome, signal);
      await this.parts.intents.processPending();
      await this.parts.witness.exchange(peer, client);
    } catch (error) {
      outcome.ok = false;
      outcome.error = describe(error);
      await this.recordFailure(peer, outcome.error);
    }
    return outcome;
  }

  private async pullFeed(peer: TrustedPeer, client: PeerClient, outcome: PullOutcome, signal?: AbortSignal) {
    const { feed } = this.parts;
    let cursor = peer.cursor;
    await this.applyParked(peer, cursor, outcome);
    for (let page = 0; page < PAGES_PER_ROUND; page++) {
      signal?.throwIfAborted();
      const body = await client.getJson(`/federation/v1/changes?after=${cursor}&limit=${MAX_PAGE}`, {
        maxBytes: PAGE_MAX_BYTES,
        timeoutMs: PAGE_TIMEOUT_MS,
        ...(signal ? { signal } : {}),
      });
      const at = { ...peer, cursor };
      const { page: checked, versions } = feed.checkPage(at, body);
      const result = await feed.apply(at, versions, { from: cursor, to: checked.next });
      await inTransaction(this.deps.database.db, (trx) => repo.saveCursor(trx, peer.party, checked.next));
      cursor = checked.next;
      outcome.applied += result.applied;
      outcome.refused += result.refused;
      outcome.cursor = cursor;
      outcome.remoteHead = checked.head;
      await this.parts.peers.recordPull(peer.party, {
        ok: true,
        cursor,
        remoteHead: checked.head,
        applied: result.applied,
        refused: result.refused,
      });
      if (result.applied > 0) await this.applyParked(peer, cursor, outcome);
      if (!checked.more) return;
    }
  }

  /** Versions parked for want of their case, once it has arrived (from this peer or another). */
  private async applyParked(peer: TrustedPeer, cursor: number, outcome: PullOutcome) {
    const versions: FeedVersion[] = await this.parts.feed.takeParked(peer);
    if (versions.length === 0) return;
    const result = await this.parts.feed.apply({ ...peer, cursor }, versions, { from: cursor, to: cursor });
    outcome.applied += result.applied;
    outcome.refused += result.refused;
  }

  private async recordFailure(peer: TrustedPeer, error: string) {
    const previous = await repo.lastPullError(this.deps.database.db, peer.party);
    await this.parts.peers.recordPull(peer.party, { ok: false, error });
    if (previous === error) return;
    const ctx: Ctx = {
      actor: { type: 'system', id: null, name: 'federation', party: this.deps.node.party, roles: [] },
      requestId: null,
    };
    await this.deps.audit.recordDenial(ctx, {
      action: 'federation.pull.failed',
      objectType: 'peer',
      objectId: peer.party,
      summary: { reason: error },
    });
  }
}

/** In our words: a peer's own text is only what the client already vetted. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\p{Cc}/gu, ' ').slice(0, 500);
}
