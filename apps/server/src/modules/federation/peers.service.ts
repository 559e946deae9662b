import crypto, { type KeyObject } from 'node:crypto';
import type {
  FederationNode,
  FederationPeer,
  FederationPeerList,
  NewFederationPeer,
  NodeDescriptor,
} from '@vytis/contracts';
import { type Ctx, hasRole, systemCtx } from '../../context.ts';
import { AppError, conflict, forbidden, invalidInput, notFound } from '../../errors.ts';
import { inTransaction } from '../../platform/db/transaction.ts';
import { callOut, DestinationRefused } from '../../platform/outbound.ts';
import type { FederationDeps, TrustedPeer } from './federation.deps.ts';
import {
  buildDescriptor,
  DescriptorRefused,
  type VerifiedDescriptor,
  verifyDescriptor,
} from './node-descriptor.ts';
import * as repo from './peers.repository.ts';

/** A descriptor is a few hundred bytes; anything much larger is not one. */
const DESCRIPTOR_MAX_BYTES = 64 * 1024;
const DESCRIPTOR_TIMEOUT_MS = 10_000;
export const DESCRIPTOR_PATH = '/federation/v1/node';

export type PullOutcome =
  | { ok: true; cursor: number; remoteHead: number; applied: number; refused: number }
  | { ok: false; error: string };

const notFederated = () =>
  conflict('this node is not federated: set VYTIS_NODE_PARTY (the party it speaks for) and restart it');

const time = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

function presentPeer(row: repo.PeerRow): FederationPeer {
  const cursor = Number(row.cursor);
  const remoteHead = row.remote_head === null ? null : Number(row.remote_head);
  return {
    party: row.party_code,
    url: row.url,
    role: row.role === 'coordinator' ? 'coordinator' : 'national',
    keyId: row.key_id,
    status: row.status,
    addedAt: time(row.added_at)!,
    addedBy: row.added_by,
    removedAt: time(row.removed_at),
    cursor,
    remoteHead,
    lag: remoteHead === null ? null : remoteHead - cursor,
    lastPullAt: time(row.last_pull_at),
    lastOkAt: time(row.last_ok_at),
    lastError: row.last_error,
    lastErrorAt: time(row.last_error_at),
    appliedTotal: Number(row.applied_total),
    refusedTotal: Number(row.refused_total),
  };
}

const publicKeyOf = (row: repo.PeerRow): KeyObject =>
  crypto.createPublicKey({ key: JSON.parse(row.public_key) as crypto.JsonWebKey, format: 'jwk' });

/** A peer's base URL as stored: http(s), no credentials, query or fragment, no trailing slash. */
function peerBaseUrl(given: string): string {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw invalidInput(`${given.slice(0, 200)} is not a URL`, [
      { field: 'body/url', message: 'is not a URL' },
    ]);
  }
  const problem =
    url.protocol !== 'http:' && url.protocol !== 'https:'
      ? 'must be http or https'
      : url.username || url.password
        ? 'must not carry a user name or password'
        : url.search || url.hash
          ? 'must have no query or fragment'
          : null;
  if (problem) throw invalidInput(`the peer's URL ${problem}`, [{ field: 'body/url', message: problem }]);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/**
 * The peers this node trusts (issue 13): each a party's node, pinned by the RFC 7638 thumbprint
 * of its key agreed out of band, and where this node's pull of its feed stands. A peer is added
 * only when the descriptor at its URL is signed by exactly the pinned key and speaks for the party
 * named; afterwards its key changes only on a rotation statement signed by the key pinned.
 */
export class PeersService {
  constructor(readonly deps: FederationDeps) {}

  // -------------------------------------------------------------------------------------------
  // Used by the puller and the signature check (the contract of the stub)

  /** Active peers, for the puller. */
  async activePeers(): Promise<TrustedPeer[]> {
    const rows = await repo.activePeers(this.deps.database.db);
    return rows.map((row) => ({
      party: row.party_code,
      url: row.url,
      role: row.role === 'coordinator' ? 'coordinator' : 'national',
      keyId: row.key_id,
      publicKey: publicKeyOf(row),
      cursor: Number(row.cursor),
    }));
  }

  /** The active peer trusted under this key id, for verifying a signed call. */
  async peerByKeyId(
    keyId: string,
  ): Promise<{ party: string; role: 'coordinator' | 'national'; publicKey: KeyObject } | null> {
    const row = await repo.activePeerByKeyId(this.deps.database.db, keyId);
    return row
      ? {
          party: row.party_code,
          role: row.role === 'coordinator' ? 'coordinator' : 'national',
          publicKey: publicKeyOf(row),
        }
      : null;
  }

  /** What one pull of a peer's feed came to, shown in its status. */
  async recordPull(party: string, outcome: PullOutcome): Promise<void> {
    const at = this.deps.clock.now();
    if (outcome.ok) await repo.recordPullOk(this.deps.database.db, party, { ...outcome, at });
    else await repo.recordPullError(this.deps.database.db, party, outcome.error.slice(0, 2000), at);
  }

  // -------------------------------------------------------------------------------------------
  // This node

  /** This node as the admin page shows it: what peers pin is `keyId`. */
  node(): FederationNode {
    const { node, key } = this.deps;
    return { party: node.party, role: node.role, url: node.publicUrl, keyId: key.keyId };
  }

  /**
   * This node's signed descriptor. `requestBase` stands in for VYTIS_PUBLIC_URL when it is not
   * set (the URL the caller reached the node at).
   */
  ownDescriptor(requestBase: string): NodeDescriptor {
    const { node, key } = this.deps;
    if (!node.party) throw new AppError('not_found', 'this node is not federated: set VYTIS_NODE_PARTY');
    return buildDescriptor({
      party: node.party,
      url: node.publicUrl ?? requestBase,
      role: node.role,
      key,
      issuedAt: this.deps.clock.now(),
      rotation: this.deps.rotation ?? null,
    });
  }

  // -------------------------------------------------------------------------------------------
  // Admin: add, remove, list, status

  async list(ctx: Ctx): Promise<FederationPeerList> {
    const rows = await repo.listPeers(this.deps.database.db);
    return { node: this.node(), items: rows.map(presentPeer), can: { manage: hasRole(ctx.actor, 'admin') } };
  }

  async status(party: string): Promise<FederationPeer> {
    const row = await repo.findPeer(this.deps.database.db, party);
    if (!row) throw notFound(`peer ${party}`);
    return presentPeer(row);
  }

  /**
   * Trusts the node at `url` as `party`'s: its descriptor must verify, be signed by the key whose
   * thumbprint is `pin`, and speak for `party`, a known party other than this node's own. Adding
   * a removed peer again trusts it under the new pin; an active one must be removed first to
   * change its pin.
   */
  async add(ctx: Ctx, input: NewFederationPeer): Promise<FederationPeer> {
    if (!hasRole(ctx.actor, 'admin')) throw forbidden('only admins add peers');
    const own = this.deps.node.party;
    if (!own) throw notFederated();
    const party = input.party.trim();
    const pin = input.pin.trim();
    if (party === own)
      throw invalidInput(`${party} is this node's own party: a peer is another party's node`, [
        { field: 'body/party', message: 'is this node’s own party' },
      ]);
    if (!(await repo.partyExists(this.deps.database.db, party)))
      throw invalidInput(`no party ${party} is known to this node`, [
        { field: 'body/party', message: 'is not a known party' },
      ]);
    const url = peerBaseUrl(input.url);
    const verified = await this.fetchVerified(url, {});
    const refuse = async (message: string, field: string, problem: string) => {
      await this.deps.audit.recordDenial(ctx, {
        action: 'federation.peer.add_refused',
        objectType: 'federation_peer',
        objectId: party,
        summary: { url, pin, keyId: verified.keyId, descriptorParty: verified.party, reason: message },
      });
      return invalidInput(message, [{ field, message: problem }]);
    };
    if (verified.keyId !== pin)
      throw await refuse(
        `the node at ${url} signs with the key ${verified.keyId}, not the pinned ${pin}: check the thumbprint agreed with its operators`,
        'body/pin',
        `is not the thumbprint of the key the node at ${url} signs with`,
      );
    if (verified.party !== party)
      throw await refuse(
        `the node at ${url} speaks for ${verified.party}, not ${party}`,
        'body/party',
        `is not the party the node at ${url} speaks for`,
      );

    // The force has one coordinating node: a coordinator never peers with another, and a national
    // node follows one (its registry, teams and passes come from there).
    if (verified.role === 'coordinator' && this.deps.node.role === 'coordinator')
      throw await refuse(
        `the node at ${url} says it coordinates the force, and so does this node: the force has one coordinating node`,
        'body/url',
        'is another coordinating node',
      );
    if (verified.role === 'coordinator') {
      const other = (await repo.listPeers(this.deps.database.db)).find(
        (p) => p.status === 'active' && p.role === 'coordinator' && p.party_code !== party,
      );
      if (other)
        throw await refuse(
          `${other.party_code}'s node already coordinates the force for this node: remove it first (vytis peer remove ${other.party_code})`,
          'body/url',
          'is a second coordinating node',
        );
    }

    const now = this.deps.clock.now();
    const trust = {
      url,
      role: verified.role,
      key_id: verified.keyId,
      public_key: JSON.stringify(verified.jwk),
      descriptor: JSON.stringify(verified.descriptor),
    };
    const row = await inTransaction(this.deps.database.db, async (trx) => {
      const existing = await repo.lockPeer(trx, party);
      if (existing?.status === 'active' && existing.key_id !== verified.keyId)
        throw conflict(
          `${party} is a peer already, trusted under the key ${existing.key_id}: remove it first (vytis peer remove ${party}), then add it with the new pin`,
        );
      if (existing) {
        await repo.reactivatePeer(trx, party, { ...trust, added_at: now, added_by: ctx.actor.name });
      } else {
        await repo.insertPeer(trx, { party_code: party, ...trust, added_at: now, added_by: ctx.actor.name });
      }
      await this.deps.audit.record(trx, ctx, {
        action: 'federation.peer.add',
        objectType: 'federation_peer',
        objectId: party,
        summary: {
          url,
          keyId: verified.keyId,
          role: verified.role,
          ...(existing ? { previousStatus: existing.status, previousKeyId: existing.key_id } : {}),
        },
      });
      return (await repo.findPeer(trx, party))!;
    });
    return presentPeer(row);
  }

  /** Stops trusting a peer: its signed calls are refused and it is no longer pulled. */
  async remove(ctx: Ctx, party: string): Promise<FederationPeer> {
    if (!hasRole(ctx.actor, 'admin')) throw forbidden('only admins remove peers');
    const row = await inTransaction(this.deps.database.db, async (trx) => {
      const existing = await repo.lockPeer(trx, party);
      if (!existing) throw notFound(`peer ${party}`);
      if (existing.status === 'removed') return existing;
      await repo.markRemoved(trx, party, this.deps.clock.now());
      await this.deps.audit.record(trx, ctx, {
        action: 'federation.peer.remove',
        objectType: 'federation_peer',
        objectId: party,
        summary: { url: existing.url, keyId: existing.key_id },
      });
      return (await repo.findPeer(trx, party))!;
    });
    return presentPeer(row);
  }

  /**
   * Fetches an active peer's descriptor again (the puller calls it when the peer's signature no
   * longer verifies). The pinned key stays unless the descriptor carries a rotation statement
   * signed by it naming the new key: then the new key is adopted (audited
   * `federation.peer.key_rotated`). Anything else is refused, audited
   * `federation.peer.key_refused`, and thrown with the reason.
   */
  async refreshDescriptor(
    party: string,
    ctx: Ctx = systemCtx(),
  ): Promise<{ keyId: string; rotatedFrom: string | null }> {
    const db = this.deps.database.db;
    const row = await repo.findPeer(db, party);
    if (row?.status !== 'active') throw notFound(`active peer ${party}`);
    let verified: VerifiedDescriptor & { descriptor: unknown };
    try {
      verified = await this.fetchVerified(row.url, { pinnedKeyId: row.key_id, pinnedKey: publicKeyOf(row) });
      if (verified.party !== party)
        throw new DescriptorRefused(`the node at ${row.url} now speaks for ${verified.party}, not ${party}`);
      // A new key does not make a national node the force's coordinator (nor the reverse): the
      // role is what its operators agreed when they added it.
      if (verified.role !== row.role)
        throw new DescriptorRefused(
          `the node at ${row.url} now says it is ${verified.role === 'coordinator' ? 'the coordinating node' : 'a national node'}: remove it and add it again if that is agreed`,
        );
    } catch (error) {
      const reason = error instanceof AppError ? error.message : String((error as Error).message);
      await this.deps.audit.recordDenial(ctx, {
        action: 'federation.peer.key_refused',
        objectType: 'federation_peer',
        objectId: party,
        summary: { url: row.url, pinnedKeyId: row.key_id, reason },
      });
      throw error instanceof AppError ? error : invalidInput(reason);
    }
    if (!verified.rotatedFrom) return { keyId: verified.keyId, rotatedFrom: null };
    await inTransaction(db, async (trx) => {
      const locked = await repo.lockPeer(trx, party);
      // Another process adopted it (or the peer was removed) meanwhile: nothing to do.
      if (locked?.status !== 'active' || locked.key_id !== verified.rotatedFrom) return;
      await repo.adoptKey(trx, party, {
        url: row.url,
        role: row.role,
        key_id: verified.keyId,
        public_key: JSON.stringify(verified.jwk),
        descriptor: JSON.stringify(verified.descriptor),
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'federation.peer.key_rotated',
        objectType: 'federation_peer',
        objectId: party,
        summary: { url: row.url, previousKeyId: verified.rotatedFrom, keyId: verified.keyId },
      });
    });
    return { keyId: verified.keyId, rotatedFrom: verified.rotatedFrom };
  }

  // -------------------------------------------------------------------------------------------

  /**
   * The descriptor at `base`, fetched under the node's outbound rules (private networks only when
   * allowed), bounded in size and time, and verified; an AppError (400) saying why not.
   */
  private async fetchVerified(
    base: string,
    pin: { pinnedKeyId?: string; pinnedKey?: KeyObject },
  ): Promise<VerifiedDescriptor & { descriptor: unknown }> {
    const where = `${base}${DESCRIPTOR_PATH}`;
    const text = await this.fetchDescriptorText(where);
    try {
      const parsed = JSON.parse(text) as unknown;
      return { ...verifyDescriptor(parsed, pin), descriptor: parsed };
    } catch (error) {
      if (error instanceof DescriptorRefused)
        throw invalidInput(`the descriptor at ${where} is refused: ${error.message}`);
      throw invalidInput(`the descriptor at ${where} is refused: it is not JSON`);
    }
  }

  private async fetchDescriptorText(where: string): Promise<string> {
    const fail = (why: string) => invalidInput(`cannot fetch the node descriptor at ${where}: ${why}`);
    try {
      return await callOut(
        new URL(where),
        { method: 'GET', headers: { accept: 'application/json', 'user-agent': 'vytis-federation/1' } },
        {
          allowed: this.deps.allowPrivateNetworks,
          timeoutMs: DESCRIPTOR_TIMEOUT_MS,
          ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}),
        },
        async (response) => {
          if (response.status !== 200) {
            await response.body?.cancel().catch(() => {});
            const redirect =
              response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : '';
            throw fail(`it answered HTTP ${response.status}${redirect}`);
          }
          const reader = response.body?.getReader();
          const chunks: Buffer[] = [];
          let total = 0;
          if (reader)
            for (let read = await reader.read(); !read.done; read = await reader.read()) {
              total += read.value.length;
              if (total > DESCRIPTOR_MAX_BYTES) {
                await reader.cancel().catch(() => {});
                throw fail(`it is larger than ${DESCRIPTOR_MAX_BYTES} bytes`);
              }
              chunks.push(Buffer.from(read.value));
            }
          return Buffer.concat(chunks).toString('utf8');
        },
      );
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof DestinationRefused)
        throw fail(
          `${error.message}; peers on private networks are called only when the node allows them (VYTIS_WEBHOOK_PRIVATE_NETWORKS)`,
        );
      const e = error as { name?: string; cause?: { name?: string; code?: unknown } };
      if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError')
        throw fail(`no complete answer within ${DESCRIPTOR_TIMEOUT_MS / 1000} s`);
      const code = e.cause?.code;
      throw fail(
        typeof code === 'string' && /^E[A-Z0-9_]{1,40}$/.test(code) ? code : 'the connection failed',
      );
    }
  }
}
