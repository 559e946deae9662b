import crypto from 'node:crypto';
import { CLEARANCES, oneOf } from '@vytis/contracts';
import { type Static, Type } from 'typebox';
import Value from 'typebox/value';
import * as roster from '../../roster/responders.repository.ts';
import type { LoopDoc, LoopPeer, LoopType } from './loop-types.ts';

/**
 * A responder, carried from their home party's node. The coordinating node gets what team assembly
 * needs under the pseudonymous id, and the name only once the person is proposed on a deployment
 * (design §5: personal data stay at home until then); the host of a deployment they are proposed on
 * gets who comes: name, party, affiliation, languages and skills. Nobody else gets anything. Never
 * the user account, who created the record, nor the notes on their leave.
 */

const Code = Type.String({ pattern: '^[A-Z]{2,8}$' });
const Iso = Type.String({ minLength: 10, maxLength: 40 });
const Skills = Type.Array(
  Type.Object(
    { skill: Type.String({ minLength: 1, maxLength: 64 }), level: Type.Integer({ minimum: 1, maximum: 3 }) },
    { additionalProperties: false },
  ),
  { maxItems: 20 },
);
const Languages = Type.Array(Type.String({ pattern: '^[a-z]{2}$' }), { maxItems: 20 });
const Affiliation = Type.Union([Type.Literal('military'), Type.Literal('civilian')]);
const Name = Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()]);

const ForCoordinator = Type.Object(
  {
    view: Type.Literal('coordinator'),
    id: Type.String({ format: 'uuid' }),
    party_code: Code,
    name: Name,
    affiliation: Affiliation,
    skills: Skills,
    languages: Languages,
    clearance: oneOf(CLEARANCES),
    base: Type.Object(
      {
        city: Type.String({ minLength: 1, maxLength: 120 }),
        country: Code,
        lat: Type.Number({ minimum: -90, maximum: 90 }),
        lon: Type.Number({ minimum: -180, maximum: 180 }),
        timeZone: Type.String({ minLength: 1, maxLength: 64 }),
      },
      { additionalProperties: false },
    ),
    readiness: Type.Object(
      {
        remoteHours: Type.Number({ minimum: 0, maximum: 720 }),
        onsiteHours: Type.Number({ minimum: 0, maximum: 720 }),
      },
      { additionalProperties: false },
    ),
    travel_documents_until: Type.Union([Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), Type.Null()]),
    unavailability: Type.Array(
      Type.Object(
        {
          id: Type.String({ format: 'uuid' }),
          starts_at: Iso,
          ends_at: Iso,
          kind: Type.Union([Type.Literal('leave'), Type.Literal('unavailable'), Type.Literal('training')]),
        },
        { additionalProperties: false },
      ),
      { maxItems: 1000 },
    ),
  },
  { additionalProperties: false },
);

const ForHost = Type.Object(
  {
    view: Type.Literal('host'),
    id: Type.String({ format: 'uuid' }),
    party_code: Code,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    affiliation: Affiliation,
    languages: Languages,
    skills: Skills,
  },
  { additionalProperties: false },
);

const ResponderDocSchema = Type.Union([ForCoordinator, ForHost]);
type ResponderData = Static<typeof ResponderDocSchema>;
type Unavailability = Static<typeof ForCoordinator>['unavailability'];

/** What a copy is called when its name is not (or no longer) shared. */
export const responderPseudonym = (party: string, id: string) => `Responder ${party}-${id.slice(0, 8)}`;

/**
 * A copy that is not the coordinating node's must never look available to a solver: nothing but the
 * coordinating node assembles teams, yet the roster query reads every row. So such a copy gets the
 * slowest readiness, no clearance, no travel documents and one period of unavailability that covers
 * all time (its id derived from the responder's, so applying it again replaces it in place).
 */
export const NOT_READY = { remoteHours: 720, onsiteHours: 720 } as const;
const ALL_TIME = { from: new Date('1970-01-01T00:00:00Z'), to: new Date('9999-12-31T00:00:00Z') };

const derivedUuid = (seed: string) => {
  const hex = crypto.createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

/** The period that keeps a copy that is not for team assembly out of every solve. */
export function neverAvailable(responderId: string, party: string, version: number) {
  return {
    id: derivedUuid(`vytis-not-for-assembly:${responderId}`),
    responder_id: responderId,
    starts_at: ALL_TIME.from,
    ends_at: ALL_TIME.to,
    kind: 'unavailable',
    note: 'a copy from another node: not for team assembly here',
    mirrored_from: party,
    mirror_version: version,
  };
}

/** Neutral values for what a copy does not carry (see NOT_READY). */
export function neutralProfile(party: string) {
  return {
    clearance: 'none',
    base: JSON.stringify({ city: 'not shared', country: party, lat: 0, lon: 0, timeZone: 'UTC' }),
    readiness: JSON.stringify(NOT_READY),
    travel_documents_until: null,
  };
}

export const responderDoc: LoopType = {
  type: 'responder',
  order: 1,

  async serve(db, ids, viewer, env) {
    const docs = new Map<string, Record<string, unknown>>();
    if (viewer.party === env.self.party) return docs;
    const rows = await roster.ownResponders(db, ids, env.self.party);
    if (rows.length === 0) return docs;
    const rowIds = rows.map((r) => r.id);
    if (viewer.role === 'coordinator') {
      const [proposed, gaps] = await Promise.all([
        roster.proposedOnHeldDeployments(db, rowIds, null),
        roster.unavailability(db, rowIds),
      ]);
      for (const row of rows) {
        const data: ResponderData = {
          view: 'coordinator',
          id: row.id,
          party_code: row.party_code,
          name: proposed.has(row.id) ? row.name : null,
          affiliation: row.affiliation as 'civilian',
          skills: row.skills as ResponderData['skills'],
          languages: row.languages,
          clearance: row.clearance as 'none',
          base: row.base as Static<typeof ForCoordinator>['base'],
          readiness: row.readiness as Static<typeof ForCoordinator>['readiness'],
          travel_documents_until: row.travel_documents_until,
          unavailability: gaps
            .filter((g) => g.responder_id === row.id)
            .map((g) => ({
              id: g.id,
              starts_at: g.starts_at.toISOString(),
              ends_at: g.ends_at.toISOString(),
              kind: g.kind as 'leave',
            })),
        };
        docs.set(row.id, data);
      }
      return docs;
    }
    const hosted = await roster.proposedOnHeldDeployments(db, rowIds, viewer.party);
    for (const row of rows) {
      if (!hosted.has(row.id)) continue;
      const data: ResponderData = {
        view: 'host',
        id: row.id,
        party_code: row.party_code,
        name: row.name,
        affiliation: row.affiliation as 'civilian',
        languages: row.languages,
        skills: row.skills as ResponderData['skills'],
      };
      docs.set(row.id, data);
    }
    return docs;
  },

  problem(data) {
    if (Value.Check(ResponderDocSchema, data)) {
      const doc = data as ResponderData;
      if (doc.view === 'coordinator') {
        for (const gap of doc.unavailability) {
          const from = Date.parse(gap.starts_at);
          const to = Date.parse(gap.ends_at);
          if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from)
            return `unavailability ${gap.id} is not a period of time`;
        }
      }
      return null;
    }
    const first = [...Value.Errors(ResponderDocSchema, data)][0];
    return `not a responder: ${first ? `${first.instancePath || '/'} ${first.message}` : 'bad shape'}`;
  },

  refusal(peer, doc) {
    const data = doc.data as ResponderData;
    if (data.id !== doc.id) return 'the document names another responder';
    if (data.party_code !== peer.party)
      return `${peer.party}'s node cannot speak for a responder of ${data.party_code}`;
    return null;
  },

  async apply(trx, peer, docs, env, refuse) {
    const owners = await roster.responderOwners(
      trx,
      docs.map((d) => d.id),
    );
    let stored = 0;
    for (const doc of docs) {
      const owner = owners.get(doc.id);
      if (owner === null) {
        refuse(doc, "the id is one of this node's own responders");
        continue;
      }
      if (owner !== undefined && owner !== peer.party) {
        refuse(doc, `the id is a copy from ${owner}`);
        continue;
      }
      if (await storeCopy(trx, peer, doc, env.self.role)) stored++;
    }
    return stored;
  },

  async retract(trx, peer, ids) {
    let gone = 0;
    for (const id of ids) {
      if (await roster.retractResponderCopy(trx, id, peer.party, responderPseudonym(peer.party, id))) gone++;
    }
    return gone;
  },
};

async function storeCopy(
  trx: Parameters<LoopType['apply']>[0],
  peer: LoopPeer,
  doc: LoopDoc,
  selfRole: string,
): Promise<boolean> {
  const data = doc.data as ResponderData;
  const at = new Date(doc.at);
  const common = {
    id: doc.id,
    party_code: peer.party,
    name: data.name ?? responderPseudonym(peer.party, doc.id),
    affiliation: data.affiliation,
    skills: JSON.stringify(data.skills),
    languages: data.languages,
    user_id: null,
    created_at: at,
    created_by: `${peer.party} node`,
    updated_at: at,
    version: 1,
    mirror_version: doc.version,
  };
  // Only the coordinating node assembles teams from copies; anywhere else a copy is kept out of reach.
  const forAssembly = data.view === 'coordinator' && selfRole === 'coordinator';
  const written = await roster.upsertResponderCopy(
    trx,
    data.view === 'coordinator' && forAssembly
      ? {
          ...common,
          clearance: data.clearance,
          base: JSON.stringify(data.base),
          readiness: JSON.stringify(data.readiness),
          travel_documents_until: data.travel_documents_until,
        }
      : { ...common, ...neutralProfile(peer.party) },
    peer.party,
  );
  if (!written) return false;
  const periods =
    data.view === 'coordinator' && forAssembly
      ? copiedPeriods(data.unavailability, doc.id, peer.party, doc.version)
      : [neverAvailable(doc.id, peer.party, doc.version)];
  await roster.replaceUnavailability(trx, doc.id, periods);
  return true;
}

const copiedPeriods = (periods: Unavailability, responderId: string, party: string, version: number) =>
  periods.map((p) => ({
    id: p.id,
    responder_id: responderId,
    starts_at: new Date(p.starts_at),
    ends_at: new Date(p.ends_at),
    kind: p.kind,
    note: null,
    mirrored_from: party,
    mirror_version: version,
  }));
