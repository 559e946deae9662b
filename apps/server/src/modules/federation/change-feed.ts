import crypto from 'node:crypto';
import type { Ctx } from '../../context.ts';
import { AppError, invalidInput } from '../../errors.ts';
import { canonicalJson } from '../../platform/canonical-json.ts';
import { inTransaction, type Tx } from '../../platform/db/transaction.ts';
import { type NodeKey, sign, verifySignature } from '../../platform/keys.ts';
import { lockCasesOfOthersSharedWithGroup, resolveGroupShares } from '../cases/cases.repository.ts';
import type { FederationDeps, TrustedPeer } from './federation.deps.ts';
import * as repo from './feed.repository.ts';
import {
  dataProblem,
  FEED_TYPES,
  type FeedObjectType,
  type FeedType,
  isFeedObjectType,
  isUuid,
} from './feed-objects.ts';
import { LOOP_TYPES } from './loop/loop-documents.ts';
import {
  isLoopObjectType,
  type LoopDoc,
  type LoopEnv,
  type LoopObjectType,
  type LoopPeer,
  type NodeRole,
} from './loop/loop-types.ts';

/** One version of an object as the feed carries it, signed by the node that speaks for it. */
export interface FeedVersion {
  type: FeedObjectType | LoopObjectType;
  id: string;
  /** The party whose node speaks for the object. */
  origin: string;
  /** The origin's feed sequence of this change: later versions have larger numbers. */
  version: number;
  /** When the origin recorded the change. */
  at: string;
  caseId: string | null;
  /** The peer may no longer hold the object (narrowed, or gone): it removes its copy. */
  retracted?: true;
  data?: Record<string, unknown>;
}

/**
 * A page of the feed. The origin signs the page once, over its cursors and the SHA-256 of each
 * version's RFC 8785 JSON in order (`pageSignedPayload`): every version is signed by the node that
 * speaks for it, at the cost of one signature a page rather than one a version (Ed25519 per version
 * was most of a catch-up's time), and a page cannot be cut, reordered, replayed for another cursor
 * or mixed with another.
 */
export interface FeedPage {
  party: string;
  /** The cursor asked with. */
  after: number;
  head: number;
  /** The cursor for the next call: every change up to it was considered for this page. */
  next: number;
  more: boolean;
  changes: FeedVersion[];
  keyId: string;
  signature: string;
}

export interface ApplyResult {
  applied: number;
  stale: number;
  refused: number;
  parked: number;
  retracted: number;
}

export const DEFAULT_PAGE = 1000;
export const MAX_PAGE = 5000;
/** A page stops growing past this many bytes of versions (MISP parts and STIX objects can be large). */
const PAGE_BYTES = 16 * 1024 * 1024;
/** How far ahead of this node's clock a version may be dated (clock skew between states). */
const FUTURE_TOLERANCE_MS = 10 * 60 * 1000;
/** Refused versions audited one by one per page; the rest are counted in the page's event. */
const REFUSALS_AUDITED = 20;

const NODE_CTX = (party: string): Ctx => ({
  actor: { type: 'system', id: null, name: `node of ${party}`, party, roles: [] },
  requestId: null,
});

export class FeedRefused extends Error {}

const versionDigest = (version: FeedVersion) =>
  crypto.createHash('sha256').update(canonicalJson(version)).digest('base64url');

/** What a page's signature covers: its party, cursors and key, and the digests of its versions in order. */
export function pageSignedPayload(page: Omit<FeedPage, 'signature'>, digests: readonly string[]) {
  const versions = crypto.createHash('sha256').update(digests.join('.')).digest('base64url');
  return canonicalJson({
    purpose: 'vytis-federation/1 changes',
    party: page.party,
    after: page.after,
    head: page.head,
    next: page.next,
    more: page.more,
    keyId: page.keyId,
    count: digests.length,
    versions,
  });
}

/** Signs a page as its origin serves it (exported for tests that play a misbehaving origin). */
export function signPage(key: NodeKey, page: Omit<FeedPage, 'signature' | 'keyId'>): FeedPage {
  const unsigned = { ...page, keyId: key.keyId };
  const payload = pageSignedPayload(unsigned, page.changes.map(versionDigest));
  return { ...unsigned, signature: sign(key, payload) };
}

const jsonSafe = (value: unknown) => (value instanceof Date ? value.toISOString() : value);

/**
 * The change feed: serving the signed versions a peer's party may see (design §5), and applying
 * what a peer serves.
 */
export class ChangeFeed {
  constructor(readonly deps: FederationDeps) {}

  private get db() {
    return this.deps.database.db;
  }

  /** What the loop's documents are served and applied with (null: not federated). */
  loopEnv(): LoopEnv | null {
    const { party, role } = this.deps.node;
    if (!party) return null;
    const { clock, key, audit, notifier } = this.deps;
    return { self: { party, role }, clock, key, audit, notifier };
  }

  /** Records this node's party (first time: queues everything it already holds); no-op when not federated. */
  async enable(): Promise<{ backfilled: boolean }> {
    const { party } = this.deps.node;
    if (!party) return { backfilled: false };
    return inTransaction(this.db, (trx) => repo.enableFederation(trx, party, this.deps.node.role));
  }

  /** Numbers every committed change not yet numbered. */
  async sequence(): Promise<number> {
    let total = 0;
    for (;;) {
      const moved = await inTransaction(this.db, (trx) => repo.sequenceBatch(trx, this.deps.clock.now()));
      total += moved;
      if (moved < 20_000) return total;
    }
  }

  /** Whether changes wait in the outbox to be numbered (a cheap look, for the push's round). */
  async hasUnsequenced(): Promise<boolean> {
    return repo.outboxHasRows(this.db);
  }

  /** The last number given, without numbering what waits (a cheap look). */
  sequencedHead(): Promise<number> {
    return repo.feedHead(this.db);
  }

  async head(): Promise<number> {
    await this.sequence();
    return repo.feedHead(this.db);
  }

  /**
   * The versions after `after` that `peer`'s party may see, each signed, and retractions of what the
   * peer was sent and may no longer see. An object changed several times in the page is sent once,
   * as it is now.
   */
  async page(peer: string, after: number, limit: number, peerRole: NodeRole = 'national'): Promise<FeedPage> {
    const party = this.deps.node.party;
    if (!party) throw new AppError('not_found', 'this node is not federated: set VYTIS_NODE_PARTY');
    await this.sequence();
    const head = await repo.feedHead(this.db);
    if (after > head) {
      throw invalidInput(`cursor ${after} is ahead of this node's feed (its last change is ${head})`);
    }
    const rows = await repo.changesAfter(this.db, after, limit);
    // Each object at its last change in the page.
    const last = new Map<string, (typeof rows)[number]>();
    for (const row of rows) {
      last.delete(row.object_id);
      last.set(row.object_id, row);
    }
    const byType = new Map<FeedObjectType | LoopObjectType, string[]>();
    for (const row of last.values()) {
      if (!isFeedObjectType(row.object_type) && !isLoopObjectType(row.object_type)) continue;
      const ids = byType.get(row.object_type) ?? [];
      ids.push(row.object_id);
      byType.set(row.object_type, ids);
    }
    const viewer = { party: peer, day: this.deps.clock.now().toISOString().slice(0, 10) };
    const visible = new Map<
      string,
      { data: Record<string, unknown>; origin: string; caseId: string | null }
    >();
    const env = this.loopEnv();
    for (const [type, ids] of byType) {
      if (isLoopObjectType(type)) {
        if (!env) continue;
        const docs = await LOOP_TYPES[type].serve(this.db, ids, { ...viewer, role: peerRole }, env);
        for (const [id, data] of docs) visible.set(id, { data, origin: party, caseId: null });
        continue;
      }
      const spec = FEED_TYPES[type];
      const found = await repo.visibleRows(this.db, spec, ids, viewer);
      if (type === 'case') await this.attachShares(found);
      if (type === 'sharing_group') await this.attachMembers(found);
      for (const row of found) {
        visible.set(row.id as string, {
          data: dataOf(spec, row),
          origin: row._origin as string,
          caseId: (row._case as string | null | undefined) ?? null,
        });
      }
    }
    const hidden = [...last.keys()].filter((id) => !visible.has(id));
    const held = await repo.heldBy(this.db, peer, hidden);

    const changes: FeedVersion[] = [];
    const sent: string[] = [];
    const dropped: string[] = [];
    let bytes = 0;
    let next = after;
    const ordered = [...last.values()].sort((a, b) => a.seq - b.seq);
    for (const change of ordered) {
      if (bytes >= PAGE_BYTES) break;
      next = change.seq;
      if (!isFeedObjectType(change.object_type) && !isLoopObjectType(change.object_type)) continue;
      const row = visible.get(change.object_id);
      if (!row && !held.has(change.object_id)) continue;
      const version: FeedVersion = {
        type: change.object_type,
        id: change.object_id,
        origin: row?.origin ?? party,
        version: change.seq,
        at: change.recorded_at.toISOString(),
        caseId: row?.caseId ?? null,
        ...(row ? { data: row.data } : { retracted: true as const }),
      };
      if (!row) bytes += 200;
      else bytes += isLoopObjectType(change.object_type) ? jsonBytes(row.data) : approximateBytes(row.data);
      changes.push(version);
      (row ? sent : dropped).push(change.object_id);
    }
    const considered = rows.length > 0 && bytes < PAGE_BYTES ? rows.at(-1)!.seq : next;
    await repo.recordHoldings(this.db, peer, sent, dropped);
    return signPage(this.deps.key, {
      party,
      after,
      head,
      next: considered,
      more: considered < head,
      changes,
    });
  }

  private async attachShares(cases: Record<string, unknown>[]) {
    const { parties, groups } = await repo.caseShares(
      this.db,
      cases.map((c) => c.id as string),
    );
    const partiesOf = groupBy(
      parties,
      (s) => s.case_id,
      (s) => s.party_code,
    );
    const groupsOf = groupBy(
      groups,
      (s) => s.case_id,
      (s) => s.group_id,
    );
    for (const row of cases) {
      row.shares = {
        parties: (partiesOf.get(row.id as string) ?? []).sort(),
        groups: (groupsOf.get(row.id as string) ?? []).sort(),
      };
    }
  }

  private async attachMembers(groups: Record<string, unknown>[]) {
    const members = await repo.groupMembers(
      this.db,
      groups.map((g) => g.id as string),
    );
    const membersOf = groupBy(
      members,
      (m) => m.group_id,
      (m) => m.party_code,
    );
    for (const row of groups) row.members = (membersOf.get(row.id as string) ?? []).sort();
  }

  /**
   * Checks a page from `peer` whole before anything is written: its shape, its cursors, and every
   * version's signature under the peer's pinned key. Any failure refuses the page (the peer's status
   * says why and the cursor stays). Returns the versions, ready to apply.
   */
  checkPage(peer: TrustedPeer, body: unknown): { page: FeedPage; versions: FeedVersion[] } {
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new FeedRefused('the feed is not a JSON object');
    const page = body as Partial<FeedPage>;
    const { head, next, changes } = page;
    if (!Number.isSafeInteger(head) || !Number.isSafeInteger(next) || !Array.isArray(changes)) {
      throw new FeedRefused('the feed page lacks head, next or changes');
    }
    if (page.party !== peer.party)
      throw new FeedRefused(`the feed is of party ${String(page.party).slice(0, 16)}, not ${peer.party}`);
    if (next! < peer.cursor)
      throw new FeedRefused(`the feed went backwards (next ${next} before cursor ${peer.cursor})`);
    if (next! > head!) throw new FeedRefused(`the feed's next cursor ${next} is beyond its head ${head}`);
    if (page.after !== peer.cursor)
      throw new FeedRefused(`the feed page answers cursor ${page.after}, not the ${peer.cursor} asked for`);
    if (changes.length > MAX_PAGE)
      throw new FeedRefused(`the feed page holds ${changes.length} changes (at most ${MAX_PAGE})`);
    if (page.keyId !== peer.keyId)
      throw new FeedRefused(
        `the feed page is signed under key ${String(page.keyId).slice(0, 60)}, not the pinned ${peer.keyId}`,
      );
    if (typeof page.signature !== 'string') throw new FeedRefused('the feed page is unsigned');
    const versions = changes.map((change, i) => checkVersion(peer, change, i, next!));
    const payload = pageSignedPayload(page as FeedPage, versions.map(versionDigest));
    if (!verifySignature(peer.publicKey, payload, page.signature))
      throw new FeedRefused('bad signature on the feed page');
    return { page: page as FeedPage, versions };
  }

  /**
   * Applies checked versions from `peer` in one transaction, with its page's audit event: all of
   * it, or (on an error) none of it.
   */
  async apply(
    peer: TrustedPeer,
    versions: readonly FeedVersion[],
    page: { from: number; to: number },
  ): Promise<ApplyResult> {
    const result: ApplyResult = { applied: 0, stale: 0, refused: 0, parked: 0, retracted: 0 };
    const refusals: { id: string; type: string; reason: string }[] = [];
    const refuse = (version: FeedVersion, reason: string) => {
      result.refused++;
      refusals.push({ id: version.id, type: version.type, reason });
    };
    // Each object once, at its newest version (a reordered or duplicated page converges).
    const newest = new Map<string, FeedVersion>();
    const now = this.deps.clock.now().getTime();
    for (const version of versions) {
      if (Date.parse(version.at) > now + FUTURE_TOLERANCE_MS) {
        refuse(version, 'dated in the future');
        continue;
      }
      const seen = newest.get(version.id);
      if (!seen || seen.version < version.version) {
        if (seen) result.stale++;
        newest.set(version.id, version);
      } else result.stale++;
    }
    const chosen: FeedVersion[] = [...newest.values()].filter((version) => {
      const why = speaksFor(peer, version);
      if (why) refuse(version, why);
      return !why;
    });
    const viewer = { party: peer.party, day: this.deps.clock.now().toISOString().slice(0, 10) };
    const problems = loopProblems(chosen);
    await inTransaction(this.db, async (trx) => {
      await repo.allowMirrorWrites(trx);
      const parked: { objectId: string; caseId: string; version: number; envelope: string }[] = [];
      const caseWork = chosen.filter((v): v is FeedVersion & { type: FeedObjectType } =>
        isFeedObjectType(v.type),
      );
      // The peer's copies of cases the page touches first, in the order of their ids: parents before
      // children, as a local writer of a copy's items takes them, so the two never wait on each other.
      await repo.lockCopiesInOrder(
        trx,
        peer.party,
        caseWork.map((v) => (v.type === 'case' ? v.id : v.caseId)).filter((id): id is string => id !== null),
      );
      const writes = caseWork
        .filter((v) => !v.retracted)
        .sort((a, b) => FEED_TYPES[a.type].order - FEED_TYPES[b.type].order);
      for (const order of [0, 1, 2, 3]) {
        const batch = writes.filter((v) => FEED_TYPES[v.type].order === order);
        if (batch.length === 0) continue;
        const cases = await repo.localCases(
          trx,
          [...new Set(batch.map((v) => v.caseId).filter((c): c is string => c !== null))],
          viewer,
        );
        const byType = new Map<FeedObjectType, (FeedVersion & { type: FeedObjectType })[]>();
        for (const version of batch) {
          const why = order >= 2 ? itemRefusal(peer, version, cases.get(version.caseId!)) : null;
          if (why === 'park') {
            parked.push({
              objectId: version.id,
              caseId: version.caseId!,
              version: version.version,
              envelope: JSON.stringify(version),
            });
            result.parked++;
            continue;
          }
          if (why) {
            refuse(version, why);
            continue;
          }
          const list = byType.get(version.type);
          if (list) list.push(version);
          else byType.set(version.type, [version]);
        }
        for (const [type, list] of byType)
          await this.writeMirrors(trx, peer, FEED_TYPES[type], list, result, refuse);
      }
      await this.applyLoop(
        trx,
        peer,
        chosen.filter((v) => isLoopObjectType(v.type)),
        problems,
        result,
        refuse,
      );
      const retractions = caseWork
        .filter((v) => v.retracted)
        .sort((a, b) => FEED_TYPES[b.type].order - FEED_TYPES[a.type].order);
      for (const version of retractions) {
        result.retracted += await repo.retractMirrors(
          trx,
          FEED_TYPES[version.type],
          peer.party,
          [version.id],
          version.version,
        );
      }
      const unparked = await repo.parkVersions(trx, peer.party, parked, this.deps.clock.now());
      for (const version of chosen.filter((v) => unparked.has(v.id))) {
        result.parked--;
        refuse(
          version,
          `its case is not held here, and ${peer.party} has ${repo.PARKED_PER_PEER} versions waiting for theirs`,
        );
      }
      const ctx = NODE_CTX(peer.party);
      for (const refusal of refusals.slice(0, REFUSALS_AUDITED)) {
        await this.deps.audit.record(trx, ctx, {
          action: 'federation.change.refused',
          objectType: refusal.type,
          objectId: refusal.id,
          summary: { peer: peer.party, reason: refusal.reason },
        });
      }
      if (versions.length > 0) {
        await this.deps.audit.record(trx, ctx, {
          action: 'federation.changes.apply',
          objectType: 'peer',
          objectId: peer.party,
          summary: { from: page.from, to: page.to, ...result },
        });
      }
    });
    return result;
  }

  /**
   * The loop's documents of a page, type by type in their order, each type storing its own (copies
   * are writable in this transaction); what a type will not store is refused like any version.
   */
  private async applyLoop(
    trx: Tx,
    peer: TrustedPeer,
    versions: readonly FeedVersion[],
    problems: ReadonlyMap<string, string>,
    result: ApplyResult,
    refuse: (version: FeedVersion, reason: string) => void,
  ) {
    const env = this.loopEnv();
    if (!env || versions.length === 0) return;
    const from: LoopPeer = {
      party: peer.party,
      role: peer.role,
      keyId: peer.keyId,
      publicKey: peer.publicKey,
    };
    const types = [...new Set(versions.map((v) => v.type as LoopObjectType))].sort(
      (a, b) => LOOP_TYPES[a].order - LOOP_TYPES[b].order,
    );
    for (const type of types) {
      const spec = LOOP_TYPES[type];
      const ofType = versions.filter((v) => v.type === type);
      const byId = new Map(ofType.map((v) => [v.id, v]));
      const refuseDoc = (doc: LoopDoc, reason: string) => refuse(byId.get(doc.id)!, reason);
      const docs: LoopDoc[] = [];
      for (const v of ofType) {
        if (v.retracted) continue;
        const doc = { id: v.id, version: v.version, at: v.at, data: v.data! };
        const why = problems.get(v.id) ?? spec.refusal(from, doc, env);
        if (why) refuseDoc(doc, why);
        else docs.push(doc);
      }
      if (docs.length > 0) result.applied += await spec.apply(trx, from, docs, env, refuseDoc);
      for (const v of ofType.filter((r) => r.retracted)) {
        result.retracted += await spec.retract(trx, from, [v.id], v.version, env);
      }
    }
  }

  /** Parked versions from `peer` whose case has arrived since, checked again. */
  async takeParked(peer: TrustedPeer): Promise<FeedVersion[]> {
    const envelopes = await inTransaction(this.db, (trx) => repo.takeParked(trx, peer.party));
    const versions: FeedVersion[] = [];
    for (const envelope of envelopes) {
      try {
        // Verified with its page when it arrived; written here by this node alone.
        versions.push(checkVersion(peer, JSON.parse(envelope), 0, Number.MAX_SAFE_INTEGER, true));
      } catch {
        // Not acceptable any more (a rule tightened since): dropped.
      }
    }
    return versions;
  }

  private async writeMirrors(
    trx: Tx,
    peer: TrustedPeer,
    spec: FeedType,
    versions: FeedVersion[],
    result: ApplyResult,
    refuse: (version: FeedVersion, reason: string) => void,
  ) {
    const owners = await repo.existingOwners(
      trx,
      spec.table,
      versions.map((v) => v.id),
    );
    const writable = versions.filter((v) => {
      const owner = owners.get(v.id);
      if (owner === undefined || owner === peer.party) return true;
      refuse(
        v,
        owner === null ? "the id is one of this node's own objects" : `the id is a copy from ${owner}`,
      );
      return false;
    });
    let ready = writable;
    if (spec.type === 'misp_event_part') {
      const events = await repo.mispEventsOf(
        trx,
        writable.map((v) => v.data!.event_id as string),
      );
      ready = writable.filter((v) => {
        const event = events.get(v.data!.event_id as string);
        // A part belongs to its event: only the event's own origin adds to it, in the event's case.
        if (event && event.mirrored_from === peer.party && event.case_id === v.caseId) return true;
        refuse(v, event ? `its MISP event is not ${peer.party}'s` : 'its MISP event is not held here');
        return false;
      });
    }
    const rows = ready.map((v) => ({ ...stripExtras(v.data!), mirror_version: v.version }));
    const written = new Set(await repo.upsertMirrors(trx, spec, peer.party, rows));
    result.applied += written.size;
    result.stale += ready.length - written.size;
    for (const version of ready) {
      if (!written.has(version.id)) continue;
      if (spec.type === 'case') {
        const shares = version.data!.shares as { parties: string[]; groups: string[] };
        await repo.replaceCaseShares(trx, version.id, shares.parties, shares.groups);
      }
      if (spec.type === 'sharing_group') {
        const members = version.data!.members as string[];
        // This node's own cases shared with the group keep exactly the parties they had, as when a
        // group's owner edits it locally (cases.service updateGroup): only a case's own party
        // changes its audience.
        if (await repo.membersChanged(trx, version.id, members)) {
          const own = await lockCasesOfOthersSharedWithGroup(trx, version.id, peer.party);
          await resolveGroupShares(trx, version.id, own, this.deps.clock.now());
        }
        await repo.replaceGroupMembers(trx, version.id, members);
      }
    }
  }
}

/** Why each of the loop's documents among `versions` cannot be stored (checked before any transaction opens). */
function loopProblems(versions: readonly FeedVersion[]): Map<string, string> {
  const problems = new Map<string, string>();
  for (const v of versions) {
    if (v.retracted || !isLoopObjectType(v.type)) continue;
    const problem = LOOP_TYPES[v.type].problem(v.data);
    if (problem) problems.set(v.id, problem.slice(0, 500));
  }
  return problems;
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string, value: (row: T) => string) {
  const map = new Map<string, string[]>();
  for (const row of rows) {
    const list = map.get(key(row));
    if (list) list.push(value(row));
    else map.set(key(row), [value(row)]);
  }
  return map;
}

/** What a document weighs as JSON: nested, so counted exactly. */
function jsonBytes(data: Record<string, unknown>): number {
  return Buffer.byteLength(JSON.stringify(data)) + 200;
}

/** About what a row weighs as JSON, without serialising it twice. */
function approximateBytes(row: Record<string, unknown>): number {
  let bytes = 200;
  for (const value of Object.values(row)) bytes += typeof value === 'string' ? value.length + 8 : 24;
  return bytes;
}

function stripExtras(data: Record<string, unknown>) {
  const { shares: _shares, members: _members, ...columns } = data;
  return columns;
}

function dataOf(spec: FeedType, row: Record<string, unknown>): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const column of Object.keys(spec.columns)) data[column] = jsonSafe(row[column]);
  if (spec.type === 'case') data.shares = row.shares;
  if (spec.type === 'sharing_group') data.members = row.members;
  return data;
}

/** A version's shape and signature, or FeedRefused naming the change. */
function checkVersion(
  peer: TrustedPeer,
  value: unknown,
  index: number,
  next: number,
  parked = false,
): FeedVersion {
  const fail = (why: string) => new FeedRefused(`change ${index + 1} of the page: ${why}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw fail('not an object');
  const v = value as Partial<FeedVersion>;
  if (!isFeedObjectType(v.type) && !isLoopObjectType(v.type)) throw fail('unknown type');
  if (!isUuid(v.id)) throw fail('id is not a UUID');
  if (typeof v.origin !== 'string') throw fail('no origin');
  if (!Number.isSafeInteger(v.version) || v.version! < 1) throw fail('no version');
  if (!parked && (v.version! <= peer.cursor || v.version! > next)) {
    throw fail(`version ${v.version} is outside the page (${peer.cursor}, ${next}]`);
  }
  if (typeof v.at !== 'string' || !Number.isFinite(Date.parse(v.at))) throw fail('no time');
  if (v.caseId !== null && !isUuid(v.caseId)) throw fail('caseId is not a UUID');
  if (v.retracted !== undefined && v.retracted !== true) throw fail('retracted must be true when present');
  if (v.retracted && v.data !== undefined) throw fail('a retraction carries no data');
  const known = new Set(['type', 'id', 'origin', 'version', 'at', 'caseId', 'retracted', 'data']);
  if (Object.keys(v).some((k) => !known.has(k))) throw fail('unknown field');
  if (isLoopObjectType(v.type)) {
    if (v.caseId !== null) throw fail('a document of the loop belongs to no case');
    if (!v.retracted && (v.data === null || typeof v.data !== 'object' || Array.isArray(v.data)))
      throw fail('data is not an object');
    // A document this node cannot store is refused on its own as the page is applied (loopProblems):
    // one bad document must not hold back every later change of the feed.
    return v as FeedVersion;
  }
  if (!v.retracted) {
    const spec = FEED_TYPES[v.type as FeedObjectType];
    const problem = dataProblem(spec, v.data);
    if (problem) throw fail(problem);
    if (v.data!.id !== v.id) throw fail('data.id differs from id');
    if (spec.caseColumn && v.data![spec.caseColumn] !== v.caseId) throw fail('caseId differs from the data');
    if (v.type === 'case')
      checkCodes(fail, (v.data!.shares as { parties?: unknown })?.parties, 'shares.parties', false);
    if (v.type === 'case')
      checkCodes(fail, (v.data!.shares as { groups?: unknown })?.groups, 'shares.groups', true);
    if (v.type === 'sharing_group') checkCodes(fail, v.data!.members, 'members', false);
  }
  return v as FeedVersion;
}

function checkCodes(fail: (why: string) => Error, list: unknown, what: string, uuids: boolean) {
  if (!Array.isArray(list) || list.length > 1000) throw fail(`${what} is not a list`);
  for (const entry of list) {
    if (uuids ? !isUuid(entry) : typeof entry !== 'string' || !/^[A-Z]{2,8}$/.test(entry))
      throw fail(`${what} holds a bad entry`);
  }
}

/** Why `peer` may not speak for this version's object (null: it may). */
function speaksFor(peer: TrustedPeer, version: FeedVersion): string | null {
  if (version.origin !== peer.party)
    return `${peer.party}'s node cannot speak for an object of ${version.origin.slice(0, 16)}`;
  if (version.retracted || isLoopObjectType(version.type)) return null;
  const spec = FEED_TYPES[version.type];
  if (spec.origin !== 'case-owner' && version.data![spec.origin.column] !== peer.party) {
    return `${peer.party}'s node cannot speak for an object of ${String(version.data![spec.origin.column])}`;
  }
  return null;
}

/** Why an item from `peer` cannot be stored in the case as this node holds it; 'park' until the case arrives. */
function itemRefusal(
  peer: TrustedPeer,
  version: FeedVersion,
  local: repo.LocalCase | undefined,
): string | 'park' | null {
  if (!local) return 'park';
  const spec = FEED_TYPES[version.type as FeedObjectType];
  if (spec.origin === 'case-owner') {
    return local.owner_party === peer.party && local.mirrored_from === peer.party
      ? null
      : `${peer.party}'s node cannot speak for the ${spec.table} of a case owned by ${local.owner_party}`;
  }
  if (local.mirror_retracted || !local.peer_may_see) return `the case is not shared with ${peer.party}`;
  return null;
}
