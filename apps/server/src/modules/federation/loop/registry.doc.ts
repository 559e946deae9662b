import {
  DateOnlySchema,
  FrameworkRulesSchema,
  oneOf,
  PARTY_KINDS,
  PARTY_STATUSES,
  type PartyKind,
  type PartyStatus,
  TimestampSchema,
} from '@vytis/contracts';
import { type Static, type TSchema, Type } from 'typebox';
import { Value } from 'typebox/value';
import type { Ctx } from '../../../context.ts';
import { canonicalJson } from '../../../platform/canonical-json.ts';
import type { Executor, Tx } from '../../../platform/db/transaction.ts';
import { touchFederatedCases } from '../../parties/parties.repository.ts';
import { touchFederatedRequests } from '../../requests/requests.repository.ts';
import { type LoopDoc, type LoopEnv, type LoopPeer, type LoopType, REGISTRY_ID } from './loop-types.ts';

/**
 * The registry: the parties of the force, their statuses over time and the framework's versions.
 * The coordinating node speaks for it and every node holds the same copy, so eligibility, the
 * council's electorate and GREEN's community are judged on the same data everywhere.
 */

const MAX_PARTIES = 500;
const MAX_STATUSES = 5000;
const MAX_FRAMEWORKS = 100;
const MAX_RULES_BYTES = 64 * 1024;

const Code = Type.String({ pattern: '^[A-Z]{2,8}$' });
const Text = (maxLength: number) => Type.String({ maxLength });

const RegistrySchema = Type.Object(
  {
    parties: Type.Array(
      Type.Object(
        { code: Code, name: Text(300), kind: oneOf(PARTY_KINDS), created_at: TimestampSchema },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_PARTIES },
    ),
    statuses: Type.Array(
      Type.Object(
        {
          party_code: Code,
          status: oneOf(PARTY_STATUSES),
          effective_from: DateOnlySchema,
          note: Type.Union([Text(2000), Type.Null()]),
          recorded_at: TimestampSchema,
          recorded_by: Text(300),
        },
        { additionalProperties: false },
      ),
      { maxItems: MAX_STATUSES },
    ),
    frameworks: Type.Array(
      Type.Object(
        {
          version: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
          effective_from: TimestampSchema,
          rules: FrameworkRulesSchema as TSchema,
          note: Type.Union([Text(2000), Type.Null()]),
          created_at: TimestampSchema,
          created_by: Text(300),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_FRAMEWORKS },
    ),
  },
  { additionalProperties: false },
);
type Registry = Static<typeof RegistrySchema>;

const SPEAKER = 'only the coordinating node speaks for the parties and the framework';

async function readRegistry(db: Executor): Promise<Registry> {
  const [parties, statuses, frameworks] = await Promise.all([
    db.selectFrom('parties').selectAll().orderBy('code').execute(),
    db.selectFrom('party_statuses').selectAll().orderBy('party_code').orderBy('effective_from').execute(),
    db.selectFrom('frameworks').selectAll().orderBy('version').execute(),
  ]);
  return {
    parties: parties.map((p) => ({
      code: p.code,
      name: p.name,
      kind: p.kind as PartyKind,
      created_at: p.created_at.toISOString(),
    })),
    statuses: statuses.map((s) => ({
      party_code: s.party_code,
      status: s.status as PartyStatus,
      effective_from: s.effective_from,
      note: s.note,
      recorded_at: s.recorded_at.toISOString(),
      recorded_by: s.recorded_by,
    })),
    frameworks: frameworks.map((f) => ({
      version: f.version,
      effective_from: f.effective_from.toISOString(),
      rules: f.rules,
      note: f.note,
      created_at: f.created_at.toISOString(),
      created_by: f.created_by,
    })),
  };
}

const statusKey = (s: { party_code: string; effective_from: string }) =>
  `${s.party_code} ${s.effective_from}`;
const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

/** Makes this node's registry exactly `next`; returns what changed. Parties are never deleted (rows refer to them). */
async function replaceRegistry(trx: Tx, next: Registry) {
  const held = await readRegistry(trx);
  const changed = { parties: 0, statuses: 0, frameworks: 0 };

  const heldParties = new Map(held.parties.map((p) => [p.code, p]));
  const parties = next.parties.filter((p) => !same(heldParties.get(p.code) ?? null, p));
  if (parties.length > 0) {
    await trx
      .insertInto('parties')
      .values(parties)
      .onConflict((oc) =>
        oc.column('code').doUpdateSet((eb) => ({
          name: eb.ref('excluded.name'),
          kind: eb.ref('excluded.kind'),
          created_at: eb.ref('excluded.created_at'),
        })),
      )
      .execute();
    changed.parties = parties.length;
  }

  const wanted = new Set(next.statuses.map(statusKey));
  const goneStatuses = held.statuses.filter((s) => !wanted.has(statusKey(s)));
  for (const s of goneStatuses) {
    await trx
      .deleteFrom('party_statuses')
      .where('party_code', '=', s.party_code)
      .where('effective_from', '=', s.effective_from)
      .execute();
  }
  const heldStatuses = new Map(held.statuses.map((s) => [statusKey(s), s]));
  const statuses = next.statuses.filter((s) => !same(heldStatuses.get(statusKey(s)) ?? null, s));
  if (statuses.length > 0) {
    await trx
      .insertInto('party_statuses')
      .values(statuses)
      .onConflict((oc) =>
        oc.columns(['party_code', 'effective_from']).doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          note: eb.ref('excluded.note'),
          recorded_at: eb.ref('excluded.recorded_at'),
          recorded_by: eb.ref('excluded.recorded_by'),
        })),
      )
      .execute();
  }
  changed.statuses = goneStatuses.length + statuses.length;

  const versions = new Set(next.frameworks.map((f) => f.version));
  const goneFrameworks = held.frameworks.filter((f) => !versions.has(f.version)).map((f) => f.version);
  if (goneFrameworks.length > 0)
    await trx.deleteFrom('frameworks').where('version', 'in', goneFrameworks).execute();
  const heldFrameworks = new Map(held.frameworks.map((f) => [f.version, f]));
  const frameworks = next.frameworks.filter((f) => !same(heldFrameworks.get(f.version) ?? null, f));
  if (frameworks.length > 0) {
    await trx
      .insertInto('frameworks')
      .values(frameworks.map((f) => ({ ...f, rules: JSON.stringify(f.rules) })))
      .onConflict((oc) =>
        oc.column('version').doUpdateSet((eb) => ({
          effective_from: eb.ref('excluded.effective_from'),
          rules: eb.ref('excluded.rules'),
          note: eb.ref('excluded.note'),
          created_at: eb.ref('excluded.created_at'),
          created_by: eb.ref('excluded.created_by'),
        })),
      )
      .execute();
  }
  changed.frameworks = goneFrameworks.length + frameworks.length;
  return changed;
}

const nodeCtx = (party: string): Ctx => ({
  actor: { type: 'system', id: null, name: `node of ${party}`, party, roles: [] },
  requestId: null,
});

export const registryDoc: LoopType = {
  type: 'registry',
  order: 0,

  async serve(db, ids, _viewer, env: LoopEnv) {
    const docs = new Map<string, Record<string, unknown>>();
    // Every viewer receives it whole: the parties and the mandate are the force's common ground.
    if (env.self.role !== 'coordinator' || !ids.includes(REGISTRY_ID)) return docs;
    docs.set(REGISTRY_ID, { ...(await readRegistry(db)) });
    return docs;
  },

  problem(data) {
    if (!Value.Check(RegistrySchema, data)) {
      const first = [...Value.Errors(RegistrySchema, data)][0];
      return `the registry is malformed: ${first ? `${first.instancePath || '/'} ${first.message}` : 'bad shape'}`;
    }
    const codes = new Set(data.parties.map((p) => p.code));
    if (codes.size !== data.parties.length) return 'the registry names a party twice';
    const unknown = data.statuses.find((s) => !codes.has(s.party_code));
    if (unknown) return `the registry gives a status to ${unknown.party_code}, which it does not list`;
    if (new Set(data.statuses.map(statusKey)).size !== data.statuses.length)
      return 'the registry gives a party two statuses from the same day';
    if (new Set(data.frameworks.map((f) => f.version)).size !== data.frameworks.length)
      return 'the registry holds a framework version twice';
    const big = data.frameworks.find((f) => JSON.stringify(f.rules).length > MAX_RULES_BYTES);
    if (big) return `the rules of framework version ${big.version} exceed ${MAX_RULES_BYTES} bytes`;
    return null;
  },

  refusal(peer: LoopPeer, doc: LoopDoc, env: LoopEnv) {
    if (doc.id !== REGISTRY_ID) return `the registry has one id (${REGISTRY_ID}), not ${doc.id}`;
    if (env.self.role === 'coordinator')
      return `this node is the coordinating node: ${SPEAKER}, and ${peer.party}'s node is not it`;
    if (peer.role !== 'coordinator') return `${peer.party}'s node is not the coordinating node: ${SPEAKER}`;
    return null;
  },

  async apply(trx, peer, docs, env) {
    const doc = [...docs].sort((a, b) => b.version - a.version)[0];
    if (!doc) return 0;
    const held = await trx
      .selectFrom('federation_registry')
      .select('mirror_version')
      .where('id', '=', 1)
      .forUpdate()
      .executeTakeFirst();
    if (held && held.mirror_version >= doc.version) return 0;
    const changed = await replaceRegistry(trx, doc.data as Registry);
    const now = env.clock.now();
    await trx
      .insertInto('federation_registry')
      .values({ id: 1, origin: peer.party, mirror_version: doc.version, applied_at: now })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({ origin: peer.party, mirror_version: doc.version, applied_at: now }),
      )
      .execute();
    if (changed.statuses > 0 || changed.frameworks > 0) {
      // Who is in the community and who votes may have changed: peers receive, or have withdrawn,
      // what this node's cases and requests now reach.
      await touchFederatedCases(trx);
      await touchFederatedRequests(trx);
    }
    await env.audit.record(trx, nodeCtx(peer.party), {
      action: 'federation.registry.apply',
      objectType: 'registry',
      objectId: REGISTRY_ID,
      summary: { peer: peer.party, version: doc.version, ...changed },
    });
    return 1;
  },

  async retract() {
    // The registry is never withdrawn: a node keeps the last one it was given.
    return 0;
  },
};
