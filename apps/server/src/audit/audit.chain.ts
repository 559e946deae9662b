import crypto from 'node:crypto';

/**
 * The hash chain. An event is stored as its envelope: the RFC 8785 canonical JSON of what happened
 * (action, actor, time, object, request id, summary) and of its place in the chain (`prev`, the
 * previous event's hash, and `seq`). Its hash is SHA-256 over exactly those bytes.
 *
 * The envelope's shape is fixed, so it is written by a fixed-order writer that produces exactly
 * what a generic RFC 8785 encoder would (a property test holds the two equal). It is written in
 * parts around the chain position, so the database can complete and hash it inside the single
 * statement that appends an event.
 */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedEvent {
  seq: number;
  at: Date;
  actorType: string;
  actorId: string | null;
  actorName: string;
  actorParty: string | null;
  action: string;
  objectType: string;
  objectId: string | null;
  /** Already canonical JSON text. */
  summary: string;
  requestId: string | null;
  prevHash: string;
}

export type UnplacedEvent = Omit<ChainedEvent, 'seq' | 'prevHash'>;

export interface EnvelopeParts {
  head: string;
  middle: string;
  tail: string;
}

const str = (value: string | null) => (value === null ? 'null' : JSON.stringify(value));

/**
 * A writer for the events of one actor, time and request (one batch): those parts are formatted
 * once, the rest per event. The envelope is `head + prev + middle + seq + tail`; keys in RFC 8785
 * order.
 */
export function envelopeWriter(
  shared: Pick<UnplacedEvent, 'at' | 'actorType' | 'actorId' | 'actorName' | 'actorParty' | 'requestId'>,
) {
  const actorAndAt =
    `,"actor":{"id":${str(shared.actorId)},"name":${str(shared.actorName)},"party":${str(shared.actorParty)},"type":${str(shared.actorType)}}` +
    `,"at":${str(shared.at.toISOString())}`;
  const middle = `","requestId":${str(shared.requestId)},"seq":`;
  return (e: Pick<UnplacedEvent, 'action' | 'objectType' | 'objectId' | 'summary'>): EnvelopeParts => ({
    head: `{"action":${str(e.action)}${actorAndAt},"object":{"id":${str(e.objectId)},"type":${str(e.objectType)}},"prev":"`,
    middle,
    tail: `,"summary":${str(e.summary)}}`,
  });
}

export const envelopeParts = (e: UnplacedEvent): EnvelopeParts => envelopeWriter(e)(e);

export const joinEnvelope = (parts: EnvelopeParts, prevHash: string, seq: number) =>
  parts.head + prevHash + parts.middle + seq + parts.tail;

export function canonicalEnvelope(e: ChainedEvent): string {
  return joinEnvelope(envelopeParts(e), e.prevHash, e.seq);
}

/** The same envelope as a plain object, for generic encoders and readers. */
export function envelopeObject(e: ChainedEvent) {
  return {
    action: e.action,
    actor: { id: e.actorId, name: e.actorName, party: e.actorParty, type: e.actorType },
    at: e.at.toISOString(),
    object: { id: e.objectId, type: e.objectType },
    prev: e.prevHash,
    requestId: e.requestId,
    seq: e.seq,
    summary: e.summary,
  };
}

export type Envelope = ReturnType<typeof envelopeObject>;

export const sha256Hex = (data: string | Buffer): string => crypto.hash('sha256', data, 'hex');

export function hashEvent(e: ChainedEvent): string {
  return sha256Hex(canonicalEnvelope(e));
}

const PREV_KEY = Buffer.from('"prev":"');

/**
 * Whether a stored envelope names `prevHash` (64 hex bytes) as its `prev`. In canonical JSON every
 * quote inside a string is escaped, so `"prev":"` can only be the top-level key: no parsing on the
 * verifier's hot path. With the sequence numbers gap-free and each envelope's bytes fixed by its
 * hash, these links alone pin every event to its place.
 */
export function envelopeFollows(envelope: Buffer, prevHash: Buffer): boolean {
  const at = envelope.indexOf(PREV_KEY);
  return at >= 0 && envelope.compare(prevHash, 0, 64, at + 8, at + 72) === 0;
}

/**
 * What a checkpoint signs: the chain's size and head at that size and, since the Merkle tree
 * (0018), its tree head `root` (RFC 9162 MTH of the first `size` leaves, hex). Keys in RFC 8785
 * order; a checkpoint signed before the tree has no `root` key at all, and verifies as signed.
 */
export function checkpointPayload(
  size: number,
  head: string,
  signedAt: Date,
  keyId: string,
  root?: string | null,
): string {
  const rootPart = root ? `"root":${JSON.stringify(root)},` : '';
  return `{"head":${JSON.stringify(head)},"keyId":${JSON.stringify(keyId)},${rootPart}"signedAt":${JSON.stringify(signedAt.toISOString())},"size":${size}}`;
}

/** Lines a node adds to its checkpoint file when it starts and when it stops cleanly. */
export type LifecycleEvent = 'start' | 'stop';

/**
 * What a start or stop marker signs: a checkpoint of the chain with the event in front, so no
 * marker can pass for a checkpoint nor a checkpoint for a marker.
 */
export function signedPayload(checkpoint: {
  size: number;
  head: string;
  signedAt: Date;
  keyId: string;
  root?: string | null | undefined;
  event?: LifecycleEvent | undefined;
}): string {
  const plain = checkpointPayload(
    checkpoint.size,
    checkpoint.head,
    checkpoint.signedAt,
    checkpoint.keyId,
    checkpoint.root,
  );
  return checkpoint.event ? `{"event":${JSON.stringify(checkpoint.event)},${plain.slice(1)}` : plain;
}
