import type { KeyObject } from 'node:crypto';
import type { DatabaseHandle } from '../platform/db/database.ts';
import type { Executor } from '../platform/db/transaction.ts';
import {
  checkpointPayload,
  envelopeFollows,
  GENESIS_HASH,
  type LifecycleEvent,
  sha256Hex,
  signedPayload,
} from './audit.chain.ts';
import { visitChainBytes } from './audit.chain-bytes.ts';
import type { ExternalCheckpoint } from './audit.checkpoint-file.ts';
import * as repo from './audit.repository.ts';
import { SignatureChecks } from './audit.signature-checks.ts';
import * as treeRepo from './audit.tree.repository.ts';
import * as witnessRepo from './audit.witness.repository.ts';
import { RootTracker } from './merkle.ts';

export type ProblemCode =
  | 'chain_broken'
  | 'checkpoint_invalid'
  | 'events_missing'
  | 'history_rewritten'
  | 'checkpoints_deleted'
  | 'external_unreadable'
  | 'external_bad_signature'
  | 'external_unknown_key'
  | 'checkpoints_stale'
  | 'checkpoints_gap'
  | 'checkpoint_file_missing'
  | 'tree_mismatch';

export interface VerifyProblem {
  code: ProblemCode;
  /** The first event it concerns; null when it concerns no event in particular. */
  seq: number | null;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  events: number;
  checkpoints: number;
  externalCheckpoints: number;
  newestCheckpointAt: string | null;
  /** The first sequence number that cannot be trusted; null when ok or when no event is to blame. */
  firstBadSeq: number | null;
  reason: string | null;
  problems: VerifyProblem[];
  /** The Merkle tree the node keeps over the chain (what its proofs to witnesses are made from). */
  tree: { size: number; root: string } | null;
  /** Cosignatures peers gave this node's checkpoints, per witness. */
  cosignatures: CosignatureSummary[];
}

export interface CosignatureSummary {
  witness: string;
  count: number;
  newestSize: number;
  newestAt: string;
}

export interface SignedCheckpoint {
  size: number;
  head: string;
  signedAt: Date;
  keyId: string;
  signature: string;
  /** The Merkle tree head at `size` (hex), on checkpoints signed since the tree exists. */
  root?: string | null | undefined;
  /** Set on the lines a node adds when it starts and when it stops cleanly. */
  event?: LifecycleEvent | undefined;
}

/** The node's own checkpoint file, as read for this verification. */
export interface OwnCheckpointFileState {
  path: string;
  /** The key this node signs with: its lines in the file must follow each other without gaps. */
  keyId: string;
  missing: boolean;
  /** The same entries as given in `external`, where they are checked like any other. */
  entries: readonly ExternalCheckpoint[];
}

export interface VerifyOptions {
  /** Public keys trusted for checkpoints, by key id. */
  trustedKeys: ReadonlyMap<string, KeyObject>;
  /** Checkpoints kept outside the database: each must verify and still hold in the chain. */
  external?: readonly ExternalCheckpoint[];
  /** Flags a chain whose newest checkpoint is older than `maxAgeMs` at `now`. */
  freshness?: { now: Date; maxAgeMs: number } | undefined;
  /** Also flags a missing file, and (with `freshness`) gaps between its checkpoints. */
  ownFile?: OwnCheckpointFileState | undefined;
  signatures?: SignatureChecks;
}

/** Problems of one kind beyond this many are summed up in one line. */
const MAX_PER_CODE = 10;

/**
 * Walks the whole chain once, then checks every signed checkpoint against it.
 * - an edited event no longer hashes to its stored hash;
 * - a deleted event leaves a gap in the sequence;
 * - an inserted, moved or reordered event does not name its stored place (`seq`, `prev`);
 * - a cut-off tail disagrees with the chain head;
 * - a stretch rewritten with recomputed hashes disagrees with the first checkpoint after it;
 * - a tail cut together with its checkpoint rows (and the head moved back) disagrees with a
 *   checkpoint kept outside the database, and so does a deleted checkpoint row;
 * - checkpoints deleted or no longer signed leave the newest one too old.
 */
export async function verifyChain(
  source: Executor | DatabaseHandle,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const db = 'kind' in source ? source.db : source;
  const signatures = options.signatures ?? new SignatureChecks();
  const checkpoints = await repo.listCheckpoints(db);
  const external = options.external ?? [];
  const headAt = new Map<number, string>(checkpoints.map((c) => [c.size, '']));
  for (const e of external) if (e.checkpoint) headAt.set(e.checkpoint.size, '');
  // The tree is rebuilt along the walk; its root is kept where something signed one.
  const storedTree = await treeRepo.readTreeState(db);
  const cosigned = await witnessRepo.receivedRoots(db, MAX_COSIGNED_SIZES);
  const rootAt = new Map<number, string>();
  for (const c of checkpoints) if (c.root) rootAt.set(c.size, '');
  for (const e of external) if (e.checkpoint?.root) rootAt.set(e.checkpoint.size, '');
  for (const c of cosigned) rootAt.set(c.size, '');
  rootAt.set(storedTree.size, '');
  const tree = new RootTracker();
  rootAt.set(0, tree.rootHex());

  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let firstEventAt: Date | null = null;
  const prevBytes = Buffer.from(GENESIS_HASH, 'latin1'); // reused: no allocation per event
  let chainFailure: VerifyProblem | null = null;
  const broken = (seq: number, message: string): false => {
    chainFailure = { code: 'chain_broken', seq, message };
    return false;
  };
  await visitChainBytes(source, (seq, envelope, hash) => {
    if (seq !== expectedSeq)
      return broken(expectedSeq, `event ${expectedSeq} is missing (next stored event is ${seq})`);
    if (sha256Hex(envelope) !== hash)
      return broken(seq, `event ${seq} was altered: its content does not match its hash`);
    if (!envelopeFollows(envelope, prevBytes)) {
      return broken(seq, `event ${seq} does not belong here: it does not follow event ${seq - 1}`);
    }
    if (seq === 1) firstEventAt = eventTime(envelope);
    if (headAt.has(seq)) headAt.set(seq, hash);
    tree.appendEvent(hash);
    if (rootAt.has(seq)) rootAt.set(seq, tree.rootHex());
    prevHash = hash;
    prevBytes.write(hash, 'latin1');
    expectedSeq += 1;
    return true;
  });
  const verified = expectedSeq - 1;
  if (!chainFailure) {
    const head = await repo.head(db);
    if (head.seq > verified) {
      chainFailure = {
        code: 'chain_broken',
        seq: verified + 1,
        message: `events after ${verified} are missing: the chain head is at ${head.seq}`,
      };
    } else if (head.seq !== verified || head.hash !== prevHash) {
      chainFailure = {
        code: 'chain_broken',
        seq: head.seq + 1,
        message: `the chain head (event ${head.seq}) does not match the last event ${verified}`,
      };
    }
  }
  const chainHolds = (size: number, head: string) =>
    size === 0 ? head === GENESIS_HASH : headAt.get(size) === head;
  /** Whether a signed root still is the tree head of the chain's first `size` events (none signed: yes). */
  const treeHolds = (size: number, root: string | null | undefined) =>
    !root || size > verified || rootAt.get(size) === root;

  // Oldest first, so a rewrite is blamed on the first event after the last checkpoint that holds.
  const goodSizes = [0];
  let checkpointFailure: VerifyProblem | null = null;
  for (const c of [...checkpoints].reverse()) {
    const lastGood = goodSizes.at(-1)!;
    const failure = (code: ProblemCode, message: string): VerifyProblem => ({
      code,
      seq: lastGood + 1,
      message,
    });
    const key = options.trustedKeys.get(c.key_id);
    if (!key)
      checkpointFailure = failure(
        'checkpoint_invalid',
        `checkpoint ${c.id} is signed by unknown key ${c.key_id}`,
      );
    else if (
      !(await signatures.verify(
        c.key_id,
        key,
        checkpointPayload(c.size, c.head, c.signed_at, c.key_id, c.root),
        c.signature,
      ))
    )
      checkpointFailure = failure('checkpoint_invalid', `checkpoint ${c.id} has an invalid signature`);
    else if (c.size > verified && !chainFailure)
      checkpointFailure = failure(
        'events_missing',
        `events after ${verified} are missing: checkpoint ${c.id} vouched for ${c.size}`,
      );
    else if (c.size <= verified && !chainHolds(c.size, c.head))
      checkpointFailure = failure(
        'history_rewritten',
        `events ${lastGood + 1}..${c.size} were rewritten: they no longer match checkpoint ${c.id}`,
      );
    else if (!treeHolds(c.size, c.root))
      checkpointFailure = failure(
        'tree_mismatch',
        `the Merkle tree root of the first ${c.size} events no longer matches checkpoint ${c.id}: a leaf was edited`,
      );
    if (checkpointFailure) break;
    if (c.size <= verified && c.size > lastGood) goodSizes.push(c.size);
  }

  const problems: VerifyProblem[] = [];
  if (chainFailure) problems.push(chainFailure);
  if (checkpointFailure) problems.push(checkpointFailure);
  const { problems: externalProblems, trusted } = await checkExternal(external, signatures, {
    trustedKeys: options.trustedKeys,
    verified,
    chainBroken: chainFailure !== null,
    chainHolds,
    treeHolds,
    lastGoodBefore: (size) => goodSizes.filter((s) => s < size).at(-1) ?? 0,
    inDatabase: new Set(checkpoints.map((c) => c.signature)),
  });
  problems.push(...externalProblems);
  problems.push(...treeProblems(storedTree, cosigned, verified, rootAt, chainFailure !== null));

  const own = options.ownFile;
  if (own?.missing && checkpoints.some((c) => c.key_id === own.keyId)) {
    problems.push({
      code: 'checkpoint_file_missing',
      seq: null,
      message: `the checkpoint file ${own.path} is missing, though the database holds checkpoints this node signed: it was deleted or moved, and with it what it could prove (restore it from a backup, or, once that is acknowledged, sign a new checkpoint to start a new file)`,
    });
  }
  let stopped = false;
  if (own && options.freshness) {
    const ownLines = own.entries
      .map((e) => e.checkpoint)
      .filter((c): c is SignedCheckpoint => c !== undefined && c.keyId === own.keyId && trusted.has(c));
    const continuity = checkContinuity(ownLines, options.freshness.maxAgeMs, own.path);
    problems.push(...continuity.problems);
    stopped = continuity.stopped;
  }

  const newest = checkpoints.reduce<(typeof checkpoints)[number] | null>(
    (a, c) => (a && a.signed_at >= c.signed_at ? a : c),
    null,
  );
  // A node that recorded a clean stop is not expected to sign until it starts again.
  if (options.freshness && !stopped) {
    const stale = staleness(options.freshness, verified, newest, firstEventAt);
    if (stale) problems.push(stale);
  }

  const ordered = problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.seq ?? Infinity) - (b.p.seq ?? Infinity) || a.i - b.i)
    .map(({ p }) => p);
  return {
    ok: ordered.length === 0,
    events: verified,
    checkpoints: checkpoints.length,
    externalCheckpoints: external.length,
    newestCheckpointAt: newest?.signed_at.toISOString() ?? null,
    firstBadSeq: ordered.find((p) => p.seq !== null)?.seq ?? null,
    reason: ordered[0]?.message ?? null,
    problems: ordered,
    tree: storedTree.size <= verified ? { size: storedTree.size, root: storedTree.frontier.rootHex() } : null,
    cosignatures: await witnessRepo.receivedSummary(db),
  };
}

/** Received cosignatures whose roots are checked against the rebuilt tree: the newest this many. */
const MAX_COSIGNED_SIZES = 10_000;

/**
 * The stored tree (what proofs given to witnesses are made of) must be the tree of the chain, and
 * every root a witness cosigned must still be the chain's. A broken chain is already reported,
 * and what lies beyond it is not checked.
 */
function treeProblems(
  stored: { size: number; frontier: RootTracker },
  cosigned: readonly { size: number; root: string; witness: string }[],
  verified: number,
  rootAt: ReadonlyMap<number, string>,
  chainBroken: boolean,
): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  if (stored.size <= verified && rootAt.get(stored.size) !== stored.frontier.rootHex()) {
    problems.push({
      code: 'tree_mismatch',
      seq: null,
      message: `the stored Merkle tree of the first ${stored.size} events does not match the chain: its root is not the chain's (a leaf or a tree row was edited); proofs this node gives witnesses would not hold`,
    });
  }
  if (chainBroken) return problems;
  const wrong = cosigned.filter((c) => c.size <= verified && rootAt.get(c.size) !== c.root);
  for (const c of wrong.slice(0, MAX_PER_CODE)) {
    problems.push({
      code: 'tree_mismatch',
      seq: null,
      message: `witness ${c.witness} cosigned root ${c.root} for the first ${c.size} events; the chain now gives ${rootAt.get(c.size)}: the log was rewritten after it was witnessed`,
    });
  }
  if (wrong.length > MAX_PER_CODE)
    problems.push({
      code: 'tree_mismatch',
      seq: null,
      message: `…and ${wrong.length - MAX_PER_CODE} more like it`,
    });
  return problems;
}

interface ExternalContext {
  trustedKeys: ReadonlyMap<string, KeyObject>;
  verified: number;
  chainBroken: boolean;
  chainHolds: (size: number, head: string) => boolean;
  treeHolds: (size: number, root: string | null | undefined) => boolean;
  lastGoodBefore: (size: number) => number;
  inDatabase: ReadonlySet<string>;
}

/**
 * A checkpoint kept outside the database is trusted only if it verifies with a trusted key; then
 * the events it vouched for must still be there, unchanged, and so must its row.
 */
async function checkExternal(
  external: readonly ExternalCheckpoint[],
  signatures: SignatureChecks,
  context: ExternalContext,
): Promise<{ problems: VerifyProblem[]; trusted: Set<SignedCheckpoint> }> {
  const trusted = new Set<SignedCheckpoint>();
  const byCode = new Map<ProblemCode, VerifyProblem[]>();
  const add = (p: VerifyProblem) => byCode.set(p.code, [...(byCode.get(p.code) ?? []), p]);
  let longestMissing: { where: string; checkpoint: SignedCheckpoint } | null = null;
  const deletedRows: { where: string; checkpoint: SignedCheckpoint }[] = [];

  for (const entry of external) {
    const { where } = entry;
    if (!entry.checkpoint) {
      add({ code: 'external_unreadable', seq: null, message: `${where}: ${entry.problem}` });
      continue;
    }
    const c = entry.checkpoint;
    const key = context.trustedKeys.get(c.keyId);
    if (!key) {
      add({
        code: 'external_unknown_key',
        seq: null,
        message: `${where}: signed by unknown key ${c.keyId} (if it is another node's, pass its key with --key)`,
      });
      continue;
    }
    if (!(await signatures.verify(c.keyId, key, signedPayload(c), c.signature))) {
      add({
        code: 'external_bad_signature',
        seq: null,
        message: `${where}: invalid signature — this checkpoint was altered and is not trusted`,
      });
      continue;
    }
    trusted.add(c);
    if (c.size > context.verified) {
      // A broken chain already names its first bad event; what lies beyond it cannot be checked.
      if (!context.chainBroken && (!longestMissing || c.size > longestMissing.checkpoint.size)) {
        longestMissing = { where, checkpoint: c };
      }
    } else if (!context.chainHolds(c.size, c.head)) {
      const from = context.lastGoodBefore(c.size) + 1;
      add({
        code: 'history_rewritten',
        seq: from,
        message: `events ${from}..${c.size} were rewritten: they no longer match the checkpoint in ${where} (signed ${c.signedAt.toISOString()})`,
      });
    } else if (!context.treeHolds(c.size, c.root)) {
      add({
        code: 'tree_mismatch',
        seq: null,
        message: `the Merkle tree root of the first ${c.size} events no longer matches the checkpoint in ${where} (signed ${c.signedAt.toISOString()})`,
      });
    }
    // Start and stop lines live in the file only.
    if (!c.event && !context.inDatabase.has(c.signature)) deletedRows.push({ where, checkpoint: c });
  }

  if (longestMissing) {
    const { where, checkpoint: c } = longestMissing;
    const first = context.verified + 1;
    add({
      code: 'events_missing',
      seq: first,
      message: `events ${first === c.size ? first : `${first}..${c.size}`} are missing: the checkpoint in ${where} (signed ${c.signedAt.toISOString()}) vouched for ${c.size} events, the chain holds ${context.verified}`,
    });
  }
  if (deletedRows.length > 0) {
    const first = deletedRows[0]!;
    const last = deletedRows.at(-1)!;
    const describe = (d: typeof first) =>
      `${d.where}: size ${d.checkpoint.size}, signed ${d.checkpoint.signedAt.toISOString()}`;
    add({
      code: 'checkpoints_deleted',
      seq: null,
      message:
        deletedRows.length === 1
          ? `a checkpoint is no longer in the database (${describe(first)}): its row was deleted`
          : `${deletedRows.length} checkpoints are no longer in the database (from ${describe(first)} to ${describe(last)}): their rows were deleted`,
    });
  }

  return { problems: [...byCode.values()].flatMap(capped), trusted };
}

function capped(list: VerifyProblem[]): VerifyProblem[] {
  if (list.length <= MAX_PER_CODE) return list;
  return [
    ...list.slice(0, MAX_PER_CODE),
    { ...list[MAX_PER_CODE]!, message: `…and ${list.length - MAX_PER_CODE} more like it` },
  ];
}

/**
 * A running node signs every interval and writes to its file even when the database refuses the
 * row; so two of its lines further apart than `maxGapMs` mean checkpoints were blocked, and what
 * was written meanwhile may have been cut. Only a gap opened by a signed stop line (closed by the
 * next start) is a node that was not running.
 */
function checkContinuity(
  lines: readonly SignedCheckpoint[],
  maxGapMs: number,
  file: string,
): { problems: VerifyProblem[]; stopped: boolean } {
  const inTimeOrder = [...lines].sort((a, b) => a.signedAt.getTime() - b.signedAt.getTime());
  const problems: VerifyProblem[] = [];
  let running = true;
  let previous: SignedCheckpoint | null = null;
  const describe = (c: SignedCheckpoint) =>
    `${c.event ? `${c.event} line` : 'checkpoint'} of ${c.size} events, signed ${c.signedAt.toISOString()}`;
  for (const c of inTimeOrder) {
    if (previous && running && c.signedAt.getTime() - previous.signedAt.getTime() > maxGapMs) {
      problems.push({
        code: 'checkpoints_gap',
        seq: null,
        message: `${file}: no checkpoint between the ${describe(previous)} and the ${describe(c)}, longer than twice the checkpoint interval (${Math.round(maxGapMs / 1000)} s), and no clean stop in between: checkpoints were blocked and events of that time may have been deleted (compare with a witness's copy using --checkpoints), or the node crashed and stayed down`,
      });
    }
    if (c.event === 'stop') running = false;
    else if (c.event === 'start') running = true;
    previous = c;
  }
  return { problems: capped(problems), stopped: !running };
}

/** A node signs a checkpoint every interval, even when quiet; a chain without a recent one lost them. */
function staleness(
  freshness: { now: Date; maxAgeMs: number },
  events: number,
  newest: { size: number; signed_at: Date } | null,
  firstEventAt: Date | null,
): VerifyProblem | null {
  const maxAge = `${Math.round(freshness.maxAgeMs / 1000)} s`;
  if (newest) {
    if (freshness.now.getTime() - newest.signed_at.getTime() <= freshness.maxAgeMs) return null;
    return {
      code: 'checkpoints_stale',
      seq: null,
      message: `the newest checkpoint (${newest.size} events, signed ${newest.signed_at.toISOString()}) is older than twice the checkpoint interval (${maxAge}): checkpoints stopped being signed, or later events were deleted together with their checkpoints (check with --checkpoints; a node stopped cleanly records it, so if it crashed, start it to sign a new one)`,
    };
  }
  if (events === 0 || !firstEventAt) return null;
  if (freshness.now.getTime() - firstEventAt.getTime() <= freshness.maxAgeMs) return null;
  return {
    code: 'checkpoints_stale',
    seq: null,
    message: `there is no checkpoint at all, though the chain has ${events} events since ${firstEventAt.toISOString()} (more than ${maxAge} ago): checkpoint rows were deleted, or checkpoints were never signed`,
  };
}

function eventTime(envelope: Buffer): Date | null {
  try {
    const at = new Date((JSON.parse(envelope.toString('utf8')) as { at: string }).at);
    return Number.isNaN(at.getTime()) ? null : at;
  } catch {
    return null;
  }
}
