import { sql } from 'kysely';
import { caseItemsVisibleToPeer, type PeerViewer, sharingGroupsVisibleTo } from '../../access/policy.ts';
import { LOCKS, lockForTransaction } from '../../platform/db/locks.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';
import { FEED_TYPES, type FeedObjectType, type FeedType } from './feed-objects.ts';
import { REGISTRY_ID, REVOCATIONS_ID } from './loop/loop-types.ts';

/** Rows moved from the outbox into the feed per sequencing transaction. */
const SEQUENCE_BATCH = 20_000;

/** The party this node speaks for, as recorded (null: federation was never enabled here). */
export async function selfParty(db: Executor): Promise<string | null> {
  const row = await db.selectFrom('federation_self').select('party').executeTakeFirst();
  return row?.party ?? null;
}

/**
 * Records the node's party. The first time, every shareable object the node already speaks for
 * enters the outbox, so that a peer added later receives what existed before federation was on.
 */
export async function enableFederation(
  trx: Tx,
  party: string,
  role: 'coordinator' | 'national',
): Promise<{ backfilled: boolean }> {
  const current = await trx
    .selectFrom('federation_self')
    .select(['party', 'role'])
    .forUpdate()
    .executeTakeFirst();
  if (current?.party === party && current.role === role) return { backfilled: false };
  if (current) {
    await trx.updateTable('federation_self').set({ party, role }).where('id', '=', 1).execute();
  } else {
    await trx.insertInto('federation_self').values({ id: 1, party, role }).execute();
  }
  await backfillLoop(trx, party, role);
  if (current?.party === party) return { backfilled: true };
  await sql`insert into federation_outbox (object_type, object_id)
    select 'sharing_group', id from sharing_groups where mirrored_from is null and owner_party = ${party}`.execute(
    trx,
  );
  await sql`select federation_touch_cases(array(select id from cases where mirrored_from is null and owner_party = ${party}))`.execute(
    trx,
  );
  // Own items in other parties' cases (a party's note on a case shared with it).
  for (const spec of Object.values(FEED_TYPES)) {
    if (spec.origin === 'case-owner' || spec.type === 'case' || spec.type === 'sharing_group') continue;
    await sql`insert into federation_outbox (object_type, object_id)
      select ${spec.type}, i.id from ${sql.table(spec.table)} i join cases k on k.id = i.case_id
      where i.mirrored_from is null and i.origin_party = ${party} and k.owner_party <> ${party}`.execute(trx);
  }
  return { backfilled: true };
}

/** The loop's objects this node speaks for (0019_federated_loop), queued once as federation starts or its role changes. */
async function backfillLoop(trx: Tx, party: string, role: 'coordinator' | 'national') {
  await sql`insert into federation_outbox (object_type, object_id)
    select 'request', id from requests where mirrored_from is null and party_code = ${party}`.execute(trx);
  await sql`insert into federation_outbox (object_type, object_id)
    select 'responder', id from responders where mirrored_from is null and party_code = ${party}`.execute(
    trx,
  );
  await sql`insert into federation_outbox (object_type, object_id)
    select 'deployment', id from deployments where mirrored_from is null`.execute(trx);
  await sql`insert into federation_outbox (object_type, object_id)
    select 'intent', id from federation_intents where mirrored_from is null`.execute(trx);
  await sql`insert into federation_outbox (object_type, object_id)
    select 'revocations', ${REVOCATIONS_ID}::uuid where exists (select 1 from pass_revocations)
      or exists (select 1 from deployment_members m join deployments d on d.id = m.deployment_id
        where d.mirrored_from is null and m.pass_id is not null)`.execute(trx);
  if (role === 'coordinator') {
    await sql`insert into federation_outbox (object_type, object_id) values ('registry', ${REGISTRY_ID}::uuid)`.execute(
      trx,
    );
  }
}

/**
 * Moves committed outbox rows into the feed, numbering them after the last: one sequencer at a time,
 * so numbers grow in the order rows become visible and a reader never sees a later number before an
 * earlier one. Returns how many it moved.
 */
export async function sequenceBatch(trx: Tx, now: Date): Promise<number> {
  await lockForTransaction(trx, LOCKS.federationFeed);
  const moved = await sql<{ n: number }>`with moved as (
      delete from federation_outbox where id in (select id from federation_outbox order by id limit ${SEQUENCE_BATCH})
      returning id, object_type, object_id),
    base as (select coalesce(max(seq), 0) as last from federation_changes),
    placed as (
      insert into federation_changes (seq, object_type, object_id, recorded_at)
      select base.last + row_number() over (order by moved.id), moved.object_type, moved.object_id, ${now} from moved, base
      returning 1)
    select count(*)::int as n from placed`.execute(trx);
  return moved.rows[0]?.n ?? 0;
}

export async function outboxHasRows(db: Executor): Promise<boolean> {
  const row = await db.selectFrom('federation_outbox').select('id').limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function feedHead(db: Executor): Promise<number> {
  const row = await sql<{ head: number | null }>`select max(seq) as head from federation_changes`.execute(db);
  return Number(row.rows[0]?.head ?? 0);
}

export async function changesAfter(db: Executor, after: number, limit: number) {
  return db
    .selectFrom('federation_changes')
    .select(['seq', 'object_type', 'object_id', 'recorded_at'])
    .where('seq', '>', after)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/** The current rows of `ids` of one type that the peer may receive, with the party that speaks for each. */
export async function visibleRows(
  db: Executor,
  spec: FeedType,
  ids: readonly string[],
  viewer: PeerViewer,
): Promise<Record<string, unknown>[]> {
  if (ids.length === 0) return [];
  const columnsOf = (table: string) =>
    sql.raw(
      Object.keys(spec.columns)
        .map((c) => `${table}.${c}`)
        .join(', '),
    );
  if (spec.type === 'sharing_group') {
    const rows = await db
      .selectFrom('sharing_groups')
      .selectAll()
      .where(
        sql<boolean>`sharing_groups.id = any(${[...ids]}::uuid[]) and sharing_groups.mirrored_from is null`,
      )
      .where(sharingGroupsVisibleTo(viewer.party))
      .execute();
    return rows.map((row) => ({
      ...Object.fromEntries(Object.keys(spec.columns).map((c) => [c, row[c as keyof typeof row]])),
      _origin: row.owner_party,
      _case: null,
    }));
  }
  if (spec.type === 'case') {
    const rows = await sql<Record<string, unknown>>`select ${columnsOf('cases')},
        cases.owner_party as _origin, cases.id as _case
      from cases where cases.id = any(${[...ids]}::uuid[]) and cases.mirrored_from is null
        and ${caseItemsVisibleToPeer(viewer, null)}`.execute(db);
    return rows.rows;
  }
  const labelled = spec.labelled
    ? (spec.table as 'observables' | 'case_notes' | 'case_intel_objects' | 'misp_events' | 'misp_event_parts')
    : null;
  const t = spec.table;
  const origin = spec.origin === 'case-owner' ? 'cases.owner_party' : `${t}.${spec.origin.column}`;
  const rows = await sql<Record<string, unknown>>`select ${sql.raw(
    Object.keys(spec.columns)
      .map((c) => `${t}.${c}`)
      .join(', '),
  )},
      ${sql.raw(origin)} as _origin, ${sql.raw(`${t}.case_id`)} as _case
    from ${sql.table(t)} join cases on cases.id = ${sql.raw(`${t}.case_id`)}
    where ${sql.raw(`${t}.id`)} = any(${[...ids]}::uuid[]) and ${sql.raw(`${t}.mirrored_from`)} is null
      and ${caseItemsVisibleToPeer(viewer, labelled)}`.execute(db);
  return rows.rows;
}

export async function caseShares(db: Executor, caseIds: readonly string[]) {
  if (caseIds.length === 0) return { parties: [], groups: [] };
  const ids = [...caseIds];
  const [parties, groups] = await Promise.all([
    db
      .selectFrom('case_shares')
      .select(['case_id', 'party_code'])
      .where(sql<boolean>`case_id = any(${ids}::uuid[])`)
      .execute(),
    db
      .selectFrom('case_group_shares')
      .select(['case_id', 'group_id'])
      .where(sql<boolean>`case_id = any(${ids}::uuid[])`)
      .execute(),
  ]);
  return { parties, groups };
}

export async function groupMembers(db: Executor, groupIds: readonly string[]) {
  if (groupIds.length === 0) return [];
  return db
    .selectFrom('sharing_group_members')
    .select(['group_id', 'party_code'])
    .where(sql<boolean>`group_id = any(${[...groupIds]}::uuid[])`)
    .execute();
}

/** Of `ids`, those the peer was sent and not told to drop since. */
export async function heldBy(db: Executor, peer: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom('federation_holdings')
    .select('object_id')
    .where('peer_party', '=', peer)
    .where(sql<boolean>`object_id = any(${[...ids]}::uuid[])`)
    .execute();
  return new Set(rows.map((r) => r.object_id));
}

export async function recordHoldings(
  db: Executor,
  peer: string,
  sent: readonly string[],
  dropped: readonly string[],
) {
  if (sent.length > 0) {
    await sql`insert into federation_holdings (peer_party, object_id)
      select ${peer}, unnest(${[...sent]}::uuid[]) on conflict do nothing`.execute(db);
  }
  if (dropped.length > 0) {
    await sql`delete from federation_holdings where peer_party = ${peer} and object_id = any(${[...dropped]}::uuid[])`.execute(
      db,
    );
  }
}

// --- applying --------------------------------------------------------------------------------

/** Lets this transaction write mirrored rows (the read-only guard of 0017 checks this setting). */
export async function allowMirrorWrites(trx: Tx) {
  await sql`select set_config('vytis.federation_apply', 'on', true)`.execute(trx);
}

export interface LocalCase {
  id: string;
  owner_party: string;
  mirrored_from: string | null;
  mirror_retracted: boolean;
  /** Whether the case, as this node knows it, is shared so that the peer's party may see it. */
  peer_may_see: boolean;
}

/** The cases `ids` as this node holds them, and whether the peer's party may see each (the local policy). */
export async function localCases(
  db: Executor,
  ids: readonly string[],
  viewer: PeerViewer,
): Promise<Map<string, LocalCase>> {
  if (ids.length === 0) return new Map();
  const rows =
    await sql<LocalCase>`select cases.id, cases.owner_party, cases.mirrored_from, cases.mirror_retracted,
      ${caseItemsVisibleToPeer(viewer, null)} as peer_may_see
    from cases where cases.id = any(${[...ids]}::uuid[])`.execute(db);
  return new Map(rows.rows.map((r) => [r.id, r]));
}

/** Of `ids` in `table`, who holds each: its origin's copy (`mirrored_from`) or this node's own (null). */
export async function existingOwners(db: Executor, table: string, ids: readonly string[]) {
  if (ids.length === 0) return new Map<string, string | null>();
  const rows = await sql<{
    id: string;
    mirrored_from: string | null;
  }>`select id, mirrored_from from ${sql.table(table)}
    where id = any(${[...ids]}::uuid[])`.execute(db);
  return new Map(rows.rows.map((r) => [r.id, r.mirrored_from]));
}

/**
 * Writes versions of one type as copies from `origin`: new ones inserted, older copies updated, and
 * a copy at the same or a later version left alone (stale and duplicate versions change nothing).
 * Never touches a row that is not `origin`'s copy. Returns the ids written.
 */
export async function upsertMirrors(
  trx: Tx,
  spec: FeedType,
  origin: string,
  rows: readonly (Record<string, unknown> & { mirror_version: number })[],
): Promise<string[]> {
  if (rows.length === 0) return [];
  const columns = [...Object.keys(spec.columns), 'mirrored_from', 'mirror_version'];
  const updates = columns.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`);
  if (spec.type === 'case') updates.push('mirror_retracted = false');
  const payload = JSON.stringify(rows.map((row) => ({ ...row, mirrored_from: origin })));
  const result = await sql<{
    id: string;
  }>`insert into ${sql.table(spec.table)} (${sql.raw(columns.join(', '))})
    select ${sql.raw(columns.join(', '))} from jsonb_populate_recordset(null::${sql.table(spec.table)}, ${payload}::jsonb)
    on conflict (id) do update set ${sql.raw(updates.join(', '))}
    where ${sql.table(spec.table)}.mirrored_from = ${origin} and ${sql.table(spec.table)}.mirror_version < excluded.mirror_version
    returning id`.execute(trx);
  return result.rows.map((r) => r.id);
}

/** A mirrored case's audience, as its origin's latest version says. */
export async function replaceCaseShares(
  trx: Tx,
  caseId: string,
  parties: readonly string[],
  groups: readonly string[],
) {
  await trx.deleteFrom('case_shares').where('case_id', '=', caseId).execute();
  await trx.deleteFrom('case_group_shares').where('case_id', '=', caseId).execute();
  if (parties.length > 0) {
    await sql`insert into case_shares (case_id, party_code)
      select ${caseId}, p from unnest(${[...parties]}::text[]) p where exists (select 1 from parties where code = p)
      on conflict do nothing`.execute(trx);
  }
  if (groups.length > 0) {
    // Only a group the case's owner may share with — its own, or one it is a member of — as a node
    // checks for its own users: a peer cannot attach its case to anyone else's group.
    await sql`insert into case_group_shares (case_id, group_id)
      select k.id, g from unnest(${[...groups]}::uuid[]) g, cases k
      where k.id = ${caseId} and exists (select 1 from sharing_groups sg where sg.id = g
        and (sg.owner_party = k.owner_party
          or exists (select 1 from sharing_group_members m where m.group_id = g and m.party_code = k.owner_party)))
      on conflict do nothing`.execute(trx);
  }
}

/** The MISP events `ids` as this node holds them: whose copy, in which case. */
export async function mispEventsOf(db: Executor, ids: readonly string[]) {
  if (ids.length === 0) return new Map<string, { case_id: string; mirrored_from: string | null }>();
  const rows = await db
    .selectFrom('misp_events')
    .select(['id', 'case_id', 'mirrored_from'])
    .where(sql<boolean>`id = any(${[...new Set(ids)]}::uuid[])`)
    .execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** Whether `members` differ from the group's members as held here. */
export async function membersChanged(trx: Tx, groupId: string, members: readonly string[]) {
  const rows = await trx
    .selectFrom('sharing_group_members')
    .select('party_code')
    .where('group_id', '=', groupId)
    .execute();
  const now = rows.map((r) => r.party_code).sort();
  return now.join(',') !== [...members].sort().join(',');
}

export async function replaceGroupMembers(trx: Tx, groupId: string, members: readonly string[]) {
  await trx.deleteFrom('sharing_group_members').where('group_id', '=', groupId).execute();
  if (members.length > 0) {
    await sql`insert into sharing_group_members (group_id, party_code)
      select ${groupId}, p from unnest(${[...members]}::text[]) p where exists (select 1 from parties where code = p)
      on conflict do nothing`.execute(trx);
  }
}

/**
 * Locks `origin`'s copies among these cases for a change, in the order of their ids. Copies only:
 * this node's own cases are this node's to lock (a local change of sharing locks a group, then a
 * case), and a peer names any id it likes.
 */
export async function lockCopiesInOrder(trx: Tx, origin: string, ids: readonly string[]) {
  if (ids.length === 0) return;
  await sql`select id from cases where id = any(${[...new Set(ids)]}::uuid[]) and mirrored_from = ${origin}
            order by id for no key update`.execute(trx);
}

/**
 * Removes `origin`'s copies of `ids` of one type. A case is not deleted: what this node's users
 * added to it stays theirs; its copied content and audience go, and it is shown to nobody.
 */
export async function retractMirrors(
  trx: Tx,
  spec: FeedType,
  origin: string,
  ids: readonly string[],
  version: number,
) {
  if (ids.length === 0) return 0;
  const list = [...ids];
  if (spec.type === 'case') {
    const cases = await sql<{
      id: string;
    }>`update cases set mirror_retracted = true, mirror_version = greatest(mirror_version, ${version})
      where id = any(${list}::uuid[]) and mirrored_from = ${origin} returning id`.execute(trx);
    const retracted = cases.rows.map((r) => r.id);
    if (retracted.length === 0) return 0;
    for (const item of Object.values(FEED_TYPES).sort((a, b) => b.order - a.order)) {
      if (item.caseColumn !== 'case_id') continue;
      await sql`delete from ${sql.table(item.table)} where case_id = any(${retracted}::uuid[]) and mirrored_from is not null`.execute(
        trx,
      );
    }
    await sql`delete from case_shares where case_id = any(${retracted}::uuid[])`.execute(trx);
    await sql`delete from case_group_shares where case_id = any(${retracted}::uuid[])`.execute(trx);
    return retracted.length;
  }
  if (spec.type === 'sharing_group') {
    const groups = await sql<{ id: string }>`select id from sharing_groups
      where id = any(${list}::uuid[]) and mirrored_from = ${origin}`.execute(trx);
    const own = groups.rows.map((g) => g.id);
    if (own.length === 0) return 0;
    await sql`delete from sharing_group_members where group_id = any(${own}::uuid[])`.execute(trx);
    await sql`delete from case_group_shares where group_id = any(${own}::uuid[])
      and exists (select 1 from cases k where k.id = case_id and k.mirrored_from is not null)`.execute(trx);
    const gone = await sql`delete from sharing_groups where id = any(${own}::uuid[])
      and not exists (select 1 from case_group_shares s where s.group_id = sharing_groups.id)`.execute(trx);
    return Number(gone.numAffectedRows ?? 0);
  }
  if (spec.type === 'misp_event') {
    // A part of a copied event is its origin's too (parts are accepted only so).
    await sql`delete from misp_event_parts p where p.event_id = any(${list}::uuid[]) and p.mirrored_from = ${origin}
      and exists (select 1 from misp_events e where e.id = p.event_id and e.mirrored_from = ${origin})`.execute(
      trx,
    );
  }
  const gone =
    await sql`delete from ${sql.table(spec.table)} where id = any(${list}::uuid[]) and mirrored_from = ${origin}`.execute(
      trx,
    );
  return Number(gone.numAffectedRows ?? 0);
}

/** Versions one peer may have parked here at once; beyond, the peer's versions are refused. */
export const PARKED_PER_PEER = 10_000;
/** A parked version whose case never came is dropped after this long. */
const PARKED_FOR_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Parks versions whose case has not arrived: one row per object (the newest version), at most
 * PARKED_PER_PEER per peer, none older than a week. Returns the ids it could not park.
 */
export async function parkVersions(
  trx: Tx,
  peer: string,
  parked: readonly { objectId: string; caseId: string; version: number; envelope: string }[],
  now: Date,
): Promise<Set<string>> {
  const refused = new Set<string>();
  if (parked.length === 0) return refused;
  await sql`delete from federation_parked where peer_party = ${peer}
    and (parked_at < ${new Date(now.getTime() - PARKED_FOR_MS)}
      or object_id = any(${parked.map((p) => p.objectId)}::uuid[]))`.execute(trx);
  const held = await sql<{ n: number }>`select count(*)::int as n from federation_parked
    where peer_party = ${peer}`.execute(trx);
  const room = Math.max(0, PARKED_PER_PEER - (held.rows[0]?.n ?? 0));
  const accepted = parked.slice(0, room);
  for (const p of parked.slice(room)) refused.add(p.objectId);
  if (accepted.length > 0) {
    await trx
      .insertInto('federation_parked')
      .values(
        accepted.map((p) => ({
          peer_party: peer,
          object_id: p.objectId,
          case_id: p.caseId,
          version: p.version,
          envelope: p.envelope,
          parked_at: now,
        })),
      )
      .execute();
  }
  return refused;
}

/** Parked versions from `peer` whose case this node now holds. */
export async function takeParked(trx: Tx, peer: string) {
  const rows = await sql<{ id: number; envelope: string }>`delete from federation_parked p
    where p.peer_party = ${peer} and exists (select 1 from cases k where k.id = p.case_id)
    returning p.id, p.envelope`.execute(trx);
  return rows.rows.sort((a, b) => a.id - b.id).map((r) => r.envelope);
}

export const feedTypeOf = (type: FeedObjectType) => FEED_TYPES[type];

/** Where this node's pull of `peer`'s feed stands: the last change applied. */
export async function saveCursor(trx: Tx, peer: string, cursor: number) {
  await trx
    .updateTable('federation_peers')
    .set({ cursor })
    .where('party_code', '=', peer)
    .where('cursor', '<=', cursor)
    .execute();
}

export async function lastPullError(db: Executor, peer: string): Promise<string | null> {
  const row = await db
    .selectFrom('federation_peers')
    .select('last_error')
    .where('party_code', '=', peer)
    .executeTakeFirst();
  return row?.last_error ?? null;
}
