import crypto from 'node:crypto';

/**
 * The hash chain. Each event's hash is SHA-256 over the RFC 8785 canonical JSON of the event and
 * the previous event's hash. The envelope's shape is fixed, so it is encoded by a fixed-order
 * writer that produces exactly what a generic RFC 8785 encoder would (a test holds the two equal);
 * that keeps verifying a million events cheap.
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

const str = (value: string | null) => (value === null ? 'null' : JSON.stringify(value));

/** Canonical JSON of the hashed envelope; keys in RFC 8785 order (UTF-16 code unit order). */
export function canonicalEnvelope(e: ChainedEvent): string {
  return (
    `{"action":${str(e.action)}` +
    `,"actor":{"id":${str(e.actorId)},"name":${str(e.actorName)},"party":${str(e.actorParty)},"type":${str(e.actorType)}}` +
    `,"at":${str(e.at.toISOString())}` +
    `,"object":{"id":${str(e.objectId)},"type":${str(e.objectType)}}` +
    `,"prev":${str(e.prevHash)}` +
    `,"requestId":${str(e.requestId)}` +
    `,"seq":${e.seq}` +
    `,"summary":${str(e.summary)}}`
  );
}

/** The same envelope as a plain object, for encoders and readers that want one. */
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

export function hashEvent(e: ChainedEvent): string {
  return crypto.createHash('sha256').update(canonicalEnvelope(e)).digest('hex');
}

/** What a checkpoint signs: the chain's size and head at that size. */
export function checkpointPayload(size: number, head: string, signedAt: Date, keyId: string): string {
  return `{"head":${JSON.stringify(head)},"keyId":${JSON.stringify(keyId)},"signedAt":${JSON.stringify(signedAt.toISOString())},"size":${size}}`;
}
