import type { KeyObject } from 'node:crypto';
import { checkpointPayload } from '../../audit/audit.chain.ts';
import * as witnessRepo from '../../audit/audit.witness.repository.ts';
import {
  type CheckpointsAnswer,
  CheckpointsAnswerSchema,
  type ConsistencyAnswer,
  ConsistencyAnswerSchema,
  type Cosignature,
  type CosignaturesAnswer,
  CosignaturesAnswerSchema,
  checkAnswer,
  cosignatureStatement,
  type SignedTreeHead,
} from '../../audit/audit.witness-api.ts';
import { verifyConsistency } from '../../audit/merkle.ts';
import { systemCtx } from '../../context.ts';
import { AppError } from '../../errors.ts';
import { inTransaction } from '../../platform/db/transaction.ts';
import { sign, verifySignature } from '../../platform/keys.ts';
import type { FederationDeps, TrustedPeer } from './federation.deps.ts';
import { createPeerClient, PeerCallError, type PeerClient } from './peer-client.ts';
import type { PeersService } from './peers.service.ts';

/** Checkpoints fetched from a peer per round: its newest ones. */
const CHECKPOINTS_PER_ROUND = 20;
/** Cosignatures fetched per subject per round, and compared. */
const COSIGNATURES_PER_ROUND = 100;
/** Subjects whose cosignatures are compared with a peer's per round. */
const SUBJECTS_PER_ROUND = 50;
const MAX_CHECKPOINTS_BYTES = 512 * 1024;
const MAX_CONSISTENCY_BYTES = 64 * 1024;
const MAX_COSIGNATURES_BYTES = 512 * 1024;

/** Why a round with a peer found its log forked; the puller shows it in the peer's status. */
export class ForkDetectedError extends Error {}

/** How this node calls a subject for a consistency proof; tests give in-process clients. */
export type SubjectClients = (subject: TrustedPeer) => PeerClient;

/** A signed tree head of a subject and who vouches for it: this node, or a peer's verified cosignature. */
interface VouchedHead {
  head: SignedTreeHead;
  witness: string;
}

/**
 * Witnessed audit. Each round with a peer, this node fetches the peer's signed checkpoints and
 * cosigns the newest only if a consistency proof (RFC 9162) shows it extends the one it cosigned
 * before; then it compares the cosignatures the peer gave with its own, so a node that showed two
 * witnesses two histories is caught when they talk. What contradicts is kept as evidence (two
 * signed statements that cannot both be true), audited and shown in the peer's status.
 *
 * Nothing a peer answers is used before it matched its schema and its signatures checked out.
 */
export class WitnessService {
  constructor(
    readonly deps: FederationDeps,
    readonly peers: PeersService,
  ) {}

  /**
   * Pairs of heads (subject, sizes, roots) a subject already proved consistent, so that rounds with
   * every peer do not ask it again for the same proof; one pair per subject, in memory only.
   */
  private readonly provenPairs = new Map<string, string>();

  /**
   * One round with a peer: fetch its checkpoints, check consistency, cosign, exchange cosignatures.
   * `subjects` gives the client for asking a third node (a subject both witness) for a proof; by
   * default a signed client to its pinned URL, as the puller's.
   */
  async exchange(
    peer: TrustedPeer,
    client: PeerClient,
    subjects: SubjectClients = (subject) => this.clientFor(subject),
  ): Promise<void> {
    const self = this.ownParty();
    const forks: string[] = [];
    const problems: string[] = [];
    forks.push(...(await this.witness(peer, client)));
    await this.pullReceived(peer, client, self);
    forks.push(...(await this.compareCosignatures(peer, client, self, subjects, problems)));
    if (forks.length > 0) throw new ForkDetectedError([...forks, ...problems].join('; '));
    if (problems.length > 0) throw new Error(problems.join('; '));
  }

  private clientFor(subject: TrustedPeer): PeerClient {
    return createPeerClient(
      {
        key: this.deps.key,
        clock: this.deps.clock,
        allowPrivateNetworks: this.deps.allowPrivateNetworks,
        ...(this.deps.fetch ? { fetch: this.deps.fetch } : {}),
      },
      subject.url,
    );
  }

  /** Forks detected about a party's log, for the peers' status. */
  async forksDetected(party: string): Promise<{ count: number; latest: ForkSummary | null }> {
    const db = this.deps.database.db;
    const [count, [latest]] = await Promise.all([
      witnessRepo.forkCount(db, party),
      witnessRepo.forkEvidence(db, party, 1),
    ]);
    return {
      count,
      latest: latest
        ? {
            id: Number(latest.id),
            size: Number(latest.size),
            how: latest.how,
            detectedVia: latest.detected_via,
            detectedAt: latest.detected_at.toISOString(),
          }
        : null,
    };
  }

  /** The evidence kept about a party's log: the two signed statements of each contradiction. */
  async forkEvidence(party: string) {
    const rows = await witnessRepo.forkEvidence(this.deps.database.db, party);
    return rows.map((r) => ({
      id: Number(r.id),
      subject: r.subject_party,
      size: Number(r.size),
      first: JSON.parse(r.first) as unknown,
      second: JSON.parse(r.second) as unknown,
      how: r.how,
      detectedVia: r.detected_via,
      detectedAt: r.detected_at.toISOString(),
    }));
  }

  // --- serving (the public routes) ---

  /** This node's newest signed checkpoints, with the cosignatures peers gave them. */
  async checkpoints(query: {
    limit?: number | undefined;
    before?: number | undefined;
  }): Promise<CheckpointsAnswer> {
    const db = this.deps.database.db;
    const limit = query.limit ?? 20;
    const rows = await witnessRepo.checkpointPage(db, query.before, limit + 1);
    const page = rows.slice(0, limit);
    const received = await witnessRepo.receivedAt(
      db,
      page.map((r) => Number(r.size)),
    );
    return {
      party: this.deps.node.party,
      keyId: this.deps.key.keyId,
      items: page.map((row) => ({
        id: Number(row.id),
        ...treeHeadOf(row),
        cosignatures: received
          .filter((c) => Number(c.size) === Number(row.size) && c.root === row.root)
          .slice(0, 100)
          .map((c) => ({
            witness: c.witness_party,
            witnessKeyId: c.witness_key_id,
            cosignedAt: c.cosigned_at.toISOString(),
            signature: c.signature,
          })),
      })),
      nextCursor: rows.length > limit ? String(page.at(-1)!.id) : null,
    };
  }

  /** The RFC 9162 consistency proof between two sizes of this node's log. */
  async consistency(firstText: string, secondText: string): Promise<ConsistencyAnswer> {
    const first = wholeNumber(firstText, 'first');
    const second = wholeNumber(secondText, 'second');
    return this.deps.audit.consistencyProof(first, second);
  }

  /** The cosignatures this node gave a subject's checkpoints, in size order. */
  async cosignatures(query: {
    subject: string;
    after?: number | undefined;
    limit?: number | undefined;
    order?: 'asc' | 'desc' | undefined;
  }): Promise<CosignaturesAnswer> {
    const rows = await witnessRepo.listCosignatures(this.deps.database.db, {
      kind: 'given',
      subject: query.subject,
      afterSize: query.after,
      limit: query.limit ?? COSIGNATURES_PER_ROUND,
      order: query.order ?? 'asc',
    });
    return { witness: this.deps.node.party, items: rows.map(presentCosignature) };
  }

  // --- witnessing a peer ---

  private ownParty(): string {
    const party = this.deps.node.party;
    if (!party)
      throw new Error('this node has no party (VYTIS_NODE_PARTY): it cannot witness or be witnessed');
    return party;
  }

  /** Checks the peer's newest checkpoints against what this node cosigned, and cosigns the newest. */
  private async witness(peer: TrustedPeer, client: PeerClient): Promise<string[]> {
    const answer = checkAnswer<CheckpointsAnswer>(
      CheckpointsAnswerSchema,
      await client.getJson(`/federation/v1/checkpoints?limit=${CHECKPOINTS_PER_ROUND}`, {
        maxBytes: MAX_CHECKPOINTS_BYTES,
      }),
      `${peer.party}'s checkpoints`,
    );
    if (answer.party !== peer.party)
      throw new Error(`${peer.url} answered as party ${answer.party ?? 'none'}, not ${peer.party}`);
    // Checkpoints under another key (before a rotation) are not this round's business.
    const heads: SignedTreeHead[] = [];
    for (const item of answer.items) {
      if (item.keyId !== peer.keyId || item.root === null) continue;
      const head = treeHeadFields(item);
      if (!checkpointSignedBy(peer.publicKey, head))
        throw new Error(
          `${peer.party}'s checkpoint of size ${head.size} has an invalid signature: not trusted, nothing cosigned`,
        );
      heads.push(head);
    }
    const forks: string[] = [];
    // The same size with two roots, in its own answer or against what this node holds.
    const bySize = new Map<number, SignedTreeHead>();
    for (const head of heads) {
      const other = bySize.get(head.size);
      if (other && other.root !== head.root)
        forks.push(
          await this.keepFork(
            peer.party,
            head.size,
            other,
            head,
            'two roots for one size in one answer',
            peer.party,
          ),
        );
      bySize.set(head.size, head);
    }
    for (const held of await witnessRepo.heldAt(this.deps.database.db, peer.party, [...bySize.keys()])) {
      const shown = bySize.get(Number(held.size))!;
      if (held.root !== shown.root)
        forks.push(
          await this.keepFork(
            peer.party,
            shown.size,
            JSON.parse(held.checkpoint) as SignedTreeHead,
            shown,
            `two roots for size ${shown.size}: one ${held.kind === 'given' ? 'this node' : held.witness_party} cosigned, one ${peer.party} shows now`,
            peer.party,
          ),
        );
    }
    if (forks.length > 0 || heads.length === 0) return forks;

    const newest = heads.reduce((a, b) => (b.size > a.size ? b : a));
    const previous = await witnessRepo.newestGiven(this.deps.database.db, peer.party);
    if (!previous) {
      // First contact: there is nothing yet to be consistent with.
      await this.cosign(peer, newest);
      return forks;
    }
    const before = JSON.parse(previous.checkpoint) as SignedTreeHead;
    if (newest.size < before.size)
      throw new Error(
        `${peer.party}'s newest checkpoint (${newest.size} events) is older than one this node cosigned (${before.size} events): its log was cut, or it shows an old view`,
      );
    if (newest.size === before.size) return forks; // the same, already cosigned (a different root was caught above)
    const proof = checkAnswer<ConsistencyAnswer>(
      ConsistencyAnswerSchema,
      await client.getJson(`/federation/v1/consistency?first=${before.size}&second=${newest.size}`, {
        maxBytes: MAX_CONSISTENCY_BYTES,
      }),
      `${peer.party}'s consistency proof`,
    );
    const consistent =
      proof.first === before.size &&
      proof.second === newest.size &&
      verifyConsistency(
        before.size,
        newest.size,
        Buffer.from(before.root!, 'hex'),
        Buffer.from(newest.root!, 'hex'),
        proof.proof.map((h) => Buffer.from(h, 'hex')),
      );
    if (!consistent) {
      forks.push(
        await this.keepFork(
          peer.party,
          before.size,
          before,
          newest,
          `no consistency proof from ${before.size} to ${newest.size} events: the newer checkpoint does not extend the one this node cosigned`,
          peer.party,
        ),
      );
      return forks;
    }
    await this.cosign(peer, newest);
    return forks;
  }

  private async cosign(peer: TrustedPeer, head: SignedTreeHead): Promise<void> {
    const witness = this.ownParty();
    const cosignedAt = this.deps.clock.now();
    const statement = {
      subject: peer.party,
      subjectKeyId: peer.keyId,
      size: head.size,
      root: head.root!,
      witness,
      cosignedAt: cosignedAt.toISOString(),
    };
    const signature = sign(this.deps.key, cosignatureStatement(statement));
    await inTransaction(this.deps.database.db, async (trx) => {
      const stored = await witnessRepo.insertCosignature(trx, {
        kind: 'given',
        subject_party: peer.party,
        subject_key_id: peer.keyId,
        size: head.size,
        root: head.root!,
        checkpoint: JSON.stringify(head),
        witness_party: witness,
        witness_key_id: this.deps.key.keyId,
        signature,
        cosigned_at: cosignedAt,
      });
      if (stored)
        await this.deps.audit.record(trx, systemCtx(), {
          action: 'federation.audit.cosign',
          objectType: 'federation_peer',
          objectId: peer.party,
          summary: { subject: peer.party, size: head.size, root: head.root },
        });
    });
  }

  /** Stores the cosignatures the peer gave this node's checkpoints, so GET /checkpoints shows them. */
  private async pullReceived(peer: TrustedPeer, client: PeerClient, self: string): Promise<void> {
    const db = this.deps.database.db;
    const after = await witnessRepo.newestReceivedSize(db, peer.party);
    const answer = await this.fetchCosignatures(peer, client, self, after);
    for (const c of answer.items) {
      this.checkCosignature(peer, c, self);
      // Only cosignatures of checkpoints this node signed under its own key.
      if (c.subjectKeyId !== this.deps.key.keyId) continue;
      if (!checkpointSignedBy(this.deps.key.publicKey, c.checkpoint))
        throw new Error(
          `${peer.party} cosigned a checkpoint of this node's that this node did not sign (size ${c.size})`,
        );
      await witnessRepo.insertCosignature(db, rowOf(c, 'received'));
    }
  }

  /**
   * Compares the cosignatures the peer gave other subjects with those this node gave and holds:
   * one (subject, size) with two roots, each signed by the subject, is a fork of that subject.
   * Witnesses shown two histories at sizes that never meet are caught by the newest heads: see
   * `crossCheck`.
   */
  private async compareCosignatures(
    peer: TrustedPeer,
    client: PeerClient,
    self: string,
    subjects: SubjectClients,
    problems: string[],
  ): Promise<string[]> {
    const db = this.deps.database.db;
    const trusted = new Map((await this.peers.activePeers()).map((p) => [p.party, p]));
    const cosigned = (await witnessRepo.givenSubjects(db, SUBJECTS_PER_ROUND)).filter(
      (s) => s !== peer.party && s !== self,
    );
    const forks: string[] = [];
    for (const subject of cosigned) {
      const subjectKey = trusted.get(subject);
      if (!subjectKey) continue; // a subject no longer trusted: its signatures cannot be checked
      const forksBefore = forks.length;
      const from = await witnessRepo.comparisonStart(db, subject, COSIGNATURES_PER_ROUND);
      const answer = await this.fetchCosignatures(peer, client, subject, Math.max(0, from - 1));
      const shown = new Map<number, Cosignature>();
      for (const c of answer.items) {
        if (this.vouchedBy(peer, c, subjectKey)) shown.set(c.size, c);
      }
      for (const held of await witnessRepo.heldAt(db, subject, [...shown.keys()])) {
        const theirs = shown.get(Number(held.size))!;
        if (held.root === theirs.root) continue;
        const heldBy = held.kind === 'given' ? self : held.witness_party;
        forks.push(
          await this.keepFork(
            subject,
            theirs.size,
            JSON.parse(held.checkpoint) as SignedTreeHead,
            theirs.checkpoint,
            `two roots for size ${theirs.size} of ${subject}'s log, both signed by ${subject}: one cosigned by ${heldBy}, one by ${peer.party}`,
            peer.party,
          ),
        );
      }
      if (forks.length > forksBefore) continue; // caught already: no need to ask the subject anything
      // The peer's newest: the last of this page when the page holds some and is not full; else
      // (none at or above this node's window, or more than a page) ask for it alone.
      const newest =
        answer.items.length > 0 && answer.items.length < COSIGNATURES_PER_ROUND
          ? answer.items.at(-1)
          : (await this.fetchCosignatures(peer, client, subject, 0, 'desc', 1)).items[0];
      const theirs = newest && this.vouchedBy(peer, newest, subjectKey) ? newest : undefined;
      if (!theirs) continue;
      const fork = await this.crossCheck(subjectKey, subjects, peer, self, {
        head: treeHeadFields(theirs.checkpoint),
        witness: peer.party,
      });
      if (fork.fork) forks.push(fork.fork);
      if (fork.problem) problems.push(fork.problem);
    }
    return forks;
  }

  /**
   * A peer's cosignature of a subject's checkpoint, usable as evidence: the peer's own (checked
   * under its pinned key by checkCosignature) over a checkpoint the subject's pinned key signed.
   * One under an older key of the subject (before a rotation) is skipped: it cannot be checked
   * against the key pinned now.
   */
  private vouchedBy(peer: TrustedPeer, c: Cosignature, subjectKey: TrustedPeer): boolean {
    this.checkCosignature(peer, c, subjectKey.party);
    if (c.subjectKeyId !== subjectKey.keyId) return false;
    if (!checkpointSignedBy(subjectKey.publicKey, c.checkpoint))
      throw new Error(
        `${peer.party} cosigned a checkpoint of ${subjectKey.party} (size ${c.size}) that ${subjectKey.party}'s key did not sign`,
      );
    return true;
  }

  /**
   * Witnesses that only compare equal sizes can be shown two histories at sizes that never meet
   * (100 and 200 to one, 150 and 250 to the other). So the newest head this node cosigned and the
   * newest the peer cosigned, both signed by the subject, are checked against each other: the
   * subject itself must give the consistency proof between their sizes. A proof that fails, or a
   * subject refusing the sizes (it signed both, so an honest log holds both), is a fork, kept with
   * the two signed heads. Only the subject's own answer counts: a peer cannot make an honest
   * subject look forked, since the heads must carry the subject's signature and the proof comes from
   * the subject's pinned URL. A subject that could not be asked (down, an answer not a proof) is a
   * problem for the status, not evidence; the next round asks again. At most one proof per call.
   */
  private async crossCheck(
    subjectKey: TrustedPeer,
    subjects: SubjectClients,
    peer: TrustedPeer,
    self: string,
    theirs: VouchedHead,
  ): Promise<{ fork?: string; problem?: string }> {
    const subject = subjectKey.party;
    const held = await witnessRepo.newestGiven(this.deps.database.db, subject);
    if (!held || held.subject_key_id !== subjectKey.keyId) return {};
    const ours: VouchedHead = { head: JSON.parse(held.checkpoint) as SignedTreeHead, witness: self };
    if (!checkpointSignedBy(subjectKey.publicKey, ours.head) || ours.head.root === null) return {};
    if (ours.head.size === theirs.head.size) {
      if (ours.head.root === theirs.head.root) return {};
      return {
        fork: await this.keepFork(
          subject,
          ours.head.size,
          ours.head,
          theirs.head,
          `two roots for size ${ours.head.size} of ${subject}'s log, both signed by ${subject}: one cosigned by ${self}, one by ${peer.party}`,
          peer.party,
        ),
      };
    }
    const [smaller, larger] = ours.head.size < theirs.head.size ? [ours, theirs] : [theirs, ours];
    const pair = `${smaller.head.size}:${smaller.head.root}:${larger.head.size}:${larger.head.root}`;
    if (this.provenPairs.get(subject) === pair) return {};
    const sizes = `${smaller.head.size} events (cosigned by ${smaller.witness}) to ${larger.head.size} (cosigned by ${larger.witness})`;
    let body: unknown;
    try {
      body = await subjects(subjectKey).getJson(
        `/federation/v1/consistency?first=${smaller.head.size}&second=${larger.head.size}`,
        { maxBytes: MAX_CONSISTENCY_BYTES },
      );
    } catch (error) {
      const said = error instanceof Error ? error.message : String(error);
      // 400: the subject refuses sizes it signed checkpoints of; an honest log holds both.
      if (error instanceof PeerCallError && error.failure === 'http' && error.status === 400)
        return {
          fork: await this.keepFork(
            subject,
            smaller.head.size,
            smaller.head,
            larger.head,
            `${subject} cannot prove that its log of ${sizes} grew from one to the other (it answered ${said}): two histories shown to two witnesses`,
            peer.party,
          ),
        };
      return { problem: `could not ask ${subject} for the consistency proof from ${sizes}: ${said}` };
    }
    let proof: ConsistencyAnswer;
    try {
      proof = checkAnswer<ConsistencyAnswer>(ConsistencyAnswerSchema, body, `${subject}'s consistency proof`);
    } catch (error) {
      return { problem: `${(error as Error).message} (from ${sizes})` };
    }
    const consistent =
      proof.first === smaller.head.size &&
      proof.second === larger.head.size &&
      verifyConsistency(
        smaller.head.size,
        larger.head.size,
        Buffer.from(smaller.head.root!, 'hex'),
        Buffer.from(larger.head.root!, 'hex'),
        proof.proof.map((h) => Buffer.from(h, 'hex')),
      );
    if (consistent) {
      this.provenPairs.set(subject, pair);
      return {};
    }
    return {
      fork: await this.keepFork(
        subject,
        smaller.head.size,
        smaller.head,
        larger.head,
        `${subject}'s own consistency proof from ${sizes} does not hold: two histories shown to two witnesses`,
        peer.party,
      ),
    };
  }

  private async fetchCosignatures(
    peer: TrustedPeer,
    client: PeerClient,
    subject: string,
    after: number,
    order: 'asc' | 'desc' = 'asc',
    limit = COSIGNATURES_PER_ROUND,
  ) {
    const answer = checkAnswer<CosignaturesAnswer>(
      CosignaturesAnswerSchema,
      await client.getJson(
        `/federation/v1/cosignatures?subject=${encodeURIComponent(subject)}&after=${after}&limit=${limit}${order === 'desc' ? '&order=desc' : ''}`,
        { maxBytes: MAX_COSIGNATURES_BYTES },
      ),
      `${peer.party}'s cosignatures of ${subject}`,
    );
    if (answer.witness !== peer.party)
      throw new Error(
        `${peer.url} answered cosignatures as ${answer.witness ?? 'no party'}, not ${peer.party}`,
      );
    return answer;
  }

  /** A cosignature the peer says it gave: its own, about the subject asked, signed by its key. */
  private checkCosignature(peer: TrustedPeer, c: Cosignature, subject: string): void {
    const where = `${peer.party}'s cosignature of ${c.subject} at size ${c.size}`;
    if (c.witness !== peer.party || c.witnessKeyId !== peer.keyId)
      throw new Error(
        `${where} names witness ${c.witness} (${c.witnessKeyId}), not ${peer.party}'s pinned key`,
      );
    if (c.subject !== subject) throw new Error(`${where} is not about ${subject}, which was asked for`);
    if (c.checkpoint.size !== c.size || c.checkpoint.root !== c.root || c.checkpoint.keyId !== c.subjectKeyId)
      throw new Error(`${where} does not match the checkpoint it carries`);
    if (!verifySignature(peer.publicKey, cosignatureStatement(c), c.signature))
      throw new Error(`${where} has an invalid signature`);
  }

  /**
   * Keeps two signed statements about one subject's log that cannot both be true, audits it (the
   * alert), once per contradiction; returns the line for the peer's status.
   */
  private async keepFork(
    subject: string,
    size: number,
    first: SignedTreeHead,
    second: SignedTreeHead,
    how: string,
    via: string,
  ): Promise<string> {
    const message = `the audit log of ${subject} forked: ${how}`;
    const [a, b] = [JSON.stringify(first), JSON.stringify(second)];
    await inTransaction(this.deps.database.db, async (trx) => {
      if (await witnessRepo.forkKnown(trx, subject, size, a, b)) return;
      const id = await witnessRepo.insertForkEvidence(trx, {
        subject_party: subject,
        size,
        first: a,
        second: b,
        how,
        detected_via: via,
        detected_at: this.deps.clock.now(),
      });
      await this.deps.audit.record(trx, systemCtx(), {
        action: 'federation.audit.fork_detected',
        objectType: 'federation_peer',
        objectId: subject,
        // The sizes of both signed heads kept: equal for two roots of one size, different when the
        // subject could not prove that the larger extends the smaller.
        summary: { subject, size, sizes: [first.size, second.size], how, detectedVia: via, evidence: id },
      });
    });
    return message;
  }
}

export interface ForkSummary {
  id: number;
  size: number;
  how: string;
  detectedVia: string;
  detectedAt: string;
}

function wholeNumber(text: string, name: string): number {
  if (!/^\d{1,15}$/.test(text))
    throw new AppError(
      'invalid_input',
      `${name} must be a whole number of events (got "${text.slice(0, 40)}")`,
    );
  return Number(text);
}

const treeHeadOf = (row: {
  size: number;
  head: string;
  root: string | null;
  signed_at: Date;
  key_id: string;
  signature: string;
}): SignedTreeHead => ({
  size: Number(row.size),
  head: row.head,
  root: row.root,
  signedAt: row.signed_at.toISOString(),
  keyId: row.key_id,
  signature: row.signature,
});

const treeHeadFields = (h: SignedTreeHead): SignedTreeHead => ({
  size: h.size,
  head: h.head,
  root: h.root,
  signedAt: h.signedAt,
  keyId: h.keyId,
  signature: h.signature,
});

/** What the checkpoint's signer signed; null when its time is not the signer's exact format. */
function treeHeadPayload(h: SignedTreeHead): string | null {
  const at = new Date(h.signedAt);
  if (Number.isNaN(at.getTime()) || at.toISOString() !== h.signedAt) return null;
  return checkpointPayload(h.size, h.head, at, h.keyId, h.root);
}

function checkpointSignedBy(key: KeyObject, h: SignedTreeHead): boolean {
  const payload = treeHeadPayload(h);
  return payload !== null && verifySignature(key, payload, h.signature);
}

function presentCosignature(row: witnessRepo.CosignatureRow): Cosignature {
  return {
    subject: row.subject_party,
    subjectKeyId: row.subject_key_id,
    size: Number(row.size),
    root: row.root,
    checkpoint: JSON.parse(row.checkpoint) as SignedTreeHead,
    witness: row.witness_party,
    witnessKeyId: row.witness_key_id,
    cosignedAt: row.cosigned_at.toISOString(),
    signature: row.signature,
  };
}

const rowOf = (c: Cosignature, kind: 'given' | 'received'): witnessRepo.NewCosignature => ({
  kind,
  subject_party: c.subject,
  subject_key_id: c.subjectKeyId,
  size: c.size,
  root: c.root,
  checkpoint: JSON.stringify(treeHeadFields(c.checkpoint)),
  witness_party: c.witness,
  witness_key_id: c.witnessKeyId,
  signature: c.signature,
  cosigned_at: new Date(c.cosignedAt),
});
