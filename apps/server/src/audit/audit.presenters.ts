import type { Selectable } from 'kysely';
import type { AuditCheckpointsTable, AuditEventRow } from '../platform/db/schema.ts';
import type { Envelope } from './audit.chain.ts';

/** An event as the API shows it, before its summary in words. */
export interface PresentedEvent {
  seq: number;
  at: string;
  actor: { type: string; id: string | null; name: string; party: string | null };
  action: string;
  object: { type: string; id: string | null };
  summary: unknown;
  requestId: string | null;
  prevHash: string;
  hash: string;
}

/** Titles of the objects events name, by `type:id` (what the auditor recognises them by). */
export type ObjectTitles = ReadonlyMap<string, string>;

/** Events are shown from their envelope: the very bytes the chain vouches for. */
export const presentEvent = (row: AuditEventRow) => {
  const e = JSON.parse(row.envelope) as Envelope;
  const event: PresentedEvent = {
    seq: row.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    object: e.object,
    summary: JSON.parse(e.summary) as unknown,
    requestId: e.requestId,
    prevHash: e.prev,
    hash: row.hash,
  };
  return { ...event, text: describeEvent(event) };
};

export const presentCheckpoint = (row: Selectable<AuditCheckpointsTable>) => ({
  id: row.id,
  size: row.size,
  head: row.head,
  root: row.root,
  signedAt: row.signed_at.toISOString(),
  keyId: row.key_id,
  signature: row.signature,
});

/** What the actor did, as a verb before the object; `null`: the verb needs no object. */
const VERBS: Record<string, string> = {
  'request.created': 'drafted',
  'request.edited': 'edited',
  'request.submitted': 'submitted',
  'request.ineligible': 'found ineligible',
  'request.voting': 'opened the council vote on',
  'request.vote': 'voted on',
  'request.decision': 'recorded the council decision on',
  'request.withdrawn': 'withdrew',
  'request.declined': 'declined',
  'request.closed': 'closed',
  'request.deployed': 'deployed the team of',
  'request.stood_down': 'stood down',
  'request.reported': 'reported on',
  'request.assembling': 'started assembling the team of',
  'request.deadline.met': 'met a deadline of',
  'responder.create': 'registered',
  'responder.update': 'updated',
  'responder.availability': 'recorded the leave of',
  'rotation.create': 'created',
  'rotation.update': 'changed',
  'rotation.delete': 'ended',
  'case.create': 'opened',
  'deployment.create': 'created',
  'pass.issue': 'issued',
  'pass.revoke': 'revoked',
  'user.create': 'created',
  'user.delete': 'deleted',
  'user.disable': 'disabled',
  'user.roles': 'changed the roles of',
  'user.password.change': 'changed the password of',
  'user.mfa.enable': 'turned on two-factor login for',
  'user.mfa.disable': 'turned off two-factor login for',
  'user.mfa.reset': 'reset two-factor login of',
  'token.issue': 'issued',
  'token.revoke': 'revoked',
  'framework.publish': 'published',
  'party.status.change': 'changed the status of',
  'calendar_feed.create': 'created',
  'calendar_feed.revoke': 'revoked',
  'audit.checkpoint.request': 'asked for a signed checkpoint of',
};

/** Acts with no object worth naming. */
const INTRANSITIVE: Record<string, string> = {
  'session.login': 'logged in',
  'session.login.challenge': 'passed the password step of a login',
  'session.login.denied': 'was refused a login',
  'session.logout': 'logged out',
  'node.seed': 'seeded the node',
  'access.denied.aggregated': 'was refused several times',
};

const NOUNS: Record<string, string> = {
  api_token: 'API token',
  audit_log: 'the audit log',
  calendar_feed: 'calendar feed',
  federation_peer: 'peer',
  misp_feed: 'MISP feed',
  webhook_delivery: 'webhook delivery',
};

const words = (s: string) => s.replace(/[._-]+/g, ' ').trim();
const quote = (s: string) => `'${s.length > 80 ? `${s.slice(0, 79)}…` : s}'`;

/** The object as the auditor knows it: its title when known, else its kind and short id. */
function objectPhrase(event: PresentedEvent, summary: Record<string, unknown>, titles?: ObjectTitles) {
  const { type, id } = event.object;
  if (type === 'audit_log') return 'the audit log';
  const noun = NOUNS[type] ?? words(type);
  const title =
    (id ? titles?.get(`${type}:${id}`) : undefined) ??
    (typeof summary.title === 'string' ? summary.title : undefined) ??
    (typeof summary.name === 'string' ? summary.name : undefined);
  if (title) return `${noun} ${quote(title)}`;
  return id ? `${noun} ${id.length > 12 ? id.slice(0, 8) : id}` : noun;
}

/** The facts worth a parenthesis: a reason, a vote, a change of status, fields changed. */
function details(action: string, summary: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (typeof summary.vote === 'string') out.push(`vote: ${summary.vote}`);
  if (typeof summary.outcome === 'string') out.push(`outcome: ${words(summary.outcome)}`);
  if (typeof summary.from === 'string' && typeof summary.to === 'string' && action.startsWith('request.')) {
    out.push(`${words(summary.from)} → ${words(summary.to)}`);
  }
  if (Array.isArray(summary.roles)) out.push(`roles: ${summary.roles.join(', ') || 'none'}`);
  if (Array.isArray(summary.fields) && summary.fields.length > 0)
    out.push(`fields: ${summary.fields.join(', ')}`);
  if (typeof summary.periods === 'number') out.push(`${summary.periods} period(s)`);
  if (typeof summary.status === 'number') out.push(`status ${summary.status}`);
  if (typeof summary.reason === 'string' && summary.reason) out.push(`reason: ${summary.reason}`);
  return out;
}

/**
 * One line in words for an event, e.g. "lt.poc withdrew request 'Ransomware at …' (reason: …)".
 * Derived from the stored envelope on every read: the chain keeps the facts, not this sentence.
 */
export function describeEvent(event: PresentedEvent, titles?: ObjectTitles): string {
  const summary =
    event.summary && typeof event.summary === 'object' && !Array.isArray(event.summary)
      ? (event.summary as Record<string, unknown>)
      : {};
  const who = event.actor.party ? `${event.actor.name} (${event.actor.party})` : event.actor.name;
  const extra = details(event.action, summary);
  const tail = extra.length > 0 ? ` (${extra.join('; ')})` : '';
  const intransitive = INTRANSITIVE[event.action];
  if (intransitive) return `${who} ${intransitive}${tail}`;
  if (
    event.action === 'access.denied' ||
    event.action.endsWith('.denied') ||
    event.action.endsWith('.refused')
  ) {
    const what = event.object.id ?? words(event.object.type);
    return `${who} was refused: ${words(event.action)} of ${what}${tail}`;
  }
  const verb = VERBS[event.action];
  const object = objectPhrase(event, summary, titles);
  if (verb) return `${who} ${verb} ${object}${tail}`;
  if (event.action.startsWith('request.') && typeof summary.to === 'string') {
    return `${who} moved ${object}${tail}`;
  }
  return `${who}: ${words(event.action)} — ${object}${tail}`;
}

/** The objects an auditor can open in the app, by event object type. */
export const LINKABLE_OBJECTS = ['request', 'case', 'deployment', 'user', 'responder', 'rotation'] as const;
