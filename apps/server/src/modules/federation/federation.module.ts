import { ChangeFeed } from './change-feed.ts';
import type { FederationDeps } from './federation.deps.ts';
import { FeedPush } from './feed-push.ts';
import type { IntentExecutor } from './loop/intent-executor.ts';
import { PeersService } from './peers.service.ts';
import { FederationPuller } from './puller.ts';
import { WitnessService } from './witness.service.ts';

/** The federation's services, built once in app.ts. */
export function buildFederation(deps: FederationDeps, loop: { intents: IntentExecutor }) {
  const peers = new PeersService(deps);
  const witness = new WitnessService(deps, peers);
  const feed = new ChangeFeed(deps);
  const puller = new FederationPuller(deps, { peers, witness, feed, intents: loop.intents });
  const push = new FeedPush(deps, { peers, feed, puller });
  return { node: deps.node, peers, witness, feed, puller, push, intents: loop.intents };
}

export type Federation = ReturnType<typeof buildFederation>;
