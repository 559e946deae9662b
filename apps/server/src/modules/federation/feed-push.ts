import type { ChangeFeed } from './change-feed.ts';
import type { FederationDeps } from './federation.deps.ts';
import { createPeerClient } from './peer-client.ts';
import type { PeersService } from './peers.service.ts';
import type { FederationPuller } from './puller.ts';

/** How long a peer is given to take a notice; a peer that does not answer is pulled by its own schedule. */
const NOTIFY_TIMEOUT_MS = 3_000;

/**
 * Push on top of pull: when this node's feed grows, each active peer gets a signed notice (POST
 * /federation/v1/notify) and pulls at once, so a change reaches the other nodes in well under a second
 * instead of at their next scheduled round. The notice carries nothing but the head: what changed
 * is only ever read from the signed feed, under the same policy, so a lost notice loses nothing.
 */
export class FeedPush {
  private lastHead = -1;
  private sending: Promise<void> | null = null;

  constructor(
    readonly deps: FederationDeps,
    readonly parts: { peers: PeersService; feed: ChangeFeed; puller: FederationPuller },
  ) {}

  /** Notices peers of changes since the last round; one round at a time. */
  async tick(signal?: AbortSignal): Promise<void> {
    if (!this.deps.node.party || this.sending) return;
    this.sending = this.round(signal).finally(() => {
      this.sending = null;
    });
    await this.sending;
  }

  private async round(signal?: AbortSignal) {
    const { feed, peers } = this.parts;
    // A peer's pull numbers the outbox too: the head, not the outbox, says whether the feed grew.
    const head = (await feed.hasUnsequenced()) ? await feed.head() : await feed.sequencedHead();
    if (head === this.lastHead) return;
    // The first round tells peers too: they learn this node is back, and pull what it holds.
    this.lastHead = head;
    const active = await peers.activePeers();
    await Promise.allSettled(
      active.map((peer) =>
        createPeerClient(
          {
            key: this.deps.key,
            clock: this.deps.clock,
            allowPrivateNetworks: this.deps.allowPrivateNetworks,
            ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}),
          },
          peer.url,
        ).postJson(
          '/federation/v1/notify',
          { head },
          { timeoutMs: NOTIFY_TIMEOUT_MS, maxBytes: 4096, ...(signal ? { signal } : {}) },
        ),
      ),
    );
  }
}
