import { startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import type { TrustedPeer } from './federation.deps.ts';

// Federated nodes in one process, each its own database and key, with the feed carried between
// them by hand: the HTTP transport and its signatures are tested in http-signatures.test.ts and the
// three-process test.

export interface Party {
  code: string;
  role: 'coordinator' | 'national';
  node: TestNode;
  analyst: TestUser;
}

/** A node of party `code` (the force's coordinating node, or a national one), with an analyst of that party. */
export async function startParty(
  code: string,
  role: 'coordinator' | 'national' = 'national',
): Promise<Party> {
  const node = await startTestNode({ federation: { party: code, role, pullSeconds: 3600 } });
  const analyst = await node.user(`${code.toLowerCase()}.analyst`, code, ['analyst']);
  return { code, role, node, analyst };
}

/** `from` as the peer `to` trusts, its feed applied up to `cursor`. */
export const peerOf = (from: Party, cursor: number): TrustedPeer => ({
  party: from.code,
  url: 'http://unused',
  role: from.role,
  keyId: from.node.services.key.keyId,
  publicKey: from.node.services.key.publicKey,
  cursor,
});

/** `peer` in `at`'s list of trusted peers, with its role (as `vytis peer add` records it), once. */
export async function trustPeer(at: Party, peer: Party) {
  await at.node.database.db
    .insertInto('federation_peers')
    .values({
      party_code: peer.code,
      url: `http://${peer.code.toLowerCase()}.invalid`,
      role: peer.role,
      key_id: peer.node.services.key.keyId,
      public_key: JSON.stringify(peer.node.services.key.publicKey.export({ format: 'jwk' })),
      descriptor: '{}',
      added_at: new Date(),
      added_by: 'test',
    })
    .onConflict((oc) => oc.column('party_code').doNothing())
    .execute();
}

/**
 * Where each `from->to` pull stands, and a pull of `from` by `to` until it has caught up; then `to`
 * applies what `from` asked of its objects (votes, releases…), as its puller does after a pull.
 */
export function feedCarrier() {
  const cursors = new Map<string, number>();
  async function sync(from: Party, to: Party) {
    const key = `${from.code}->${to.code}`;
    await trustPeer(to, from);
    const totals = { applied: 0, refused: 0, retracted: 0, parked: 0 };
    for (;;) {
      const cursor = cursors.get(key) ?? 0;
      const page = await from.node.services.federation.feed.page(to.code, cursor, 1000, to.role);
      const peer = peerOf(from, cursor);
      const { versions } = to.node.services.federation.feed.checkPage(peer, JSON.parse(JSON.stringify(page)));
      const parked = await to.node.services.federation.feed.takeParked(peer);
      const result = await to.node.services.federation.feed.apply(peer, [...parked, ...versions], {
        from: cursor,
        to: page.next,
      });
      totals.applied += result.applied;
      totals.refused += result.refused;
      totals.retracted += result.retracted;
      totals.parked += result.parked;
      cursors.set(key, page.next);
      if (!page.more) {
        await to.node.services.federation.intents.processPending();
        return totals;
      }
    }
  }
  return { cursors, sync };
}
