import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * Federation (issue 13): nodes of different parties pull each other's change feed.
 *
 * - `federation_self`: the party this node speaks for, once federation is on (VYTIS_NODE_PARTY).
 *   While it is empty the triggers below record nothing, so a node that is not federated pays one
 *   empty join per statement.
 * - The outbox: triggers on every shareable table write, in the writer's own transaction, the
 *   (type, id) of each changed object this node speaks for into `federation_outbox`; a sequencer
 *   moves committed rows into `federation_changes` under one lock, so the feed's sequence only ever
 *   grows in commit order (as the audit chain's sealer does).
 * - A change of a case's label or audience touches every item of the case this node speaks for: its
 *   items' visibility changed with it, and peers must get them, or their retraction.
 * - Mirrored rows (`mirrored_from`, `mirror_version`) are read-only: a trigger refuses to change or
 *   delete them unless the federation's apply sets `vytis.federation_apply` in its transaction, and
 *   refuses tasks, timeline entries and shares on a case another node owns.
 * - `federation_peers`: the nodes this one trusts (pinned key), with the feed cursor and status.
 * - `federation_holdings`: what each peer was sent and not retracted since, so that a retraction
 *   goes only to a peer that was sent the object (anyone else must not learn its id).
 * - `federation_parked`: versions whose case has not arrived yet, applied when it does.
 * - `federation_nonces`: signed calls seen, so that a replay is refused on every process.
 */

const ITEM_TABLES = [
  ['case_notes', 'case_note'],
  ['observables', 'observable'],
  ['case_intel_objects', 'intel_object'],
  ['misp_events', 'misp_event'],
  ['misp_event_parts', 'misp_event_part'],
] as const;
/** Items that belong to their case's owner, who alone speaks for them. */
const OWNED_BY_CASE = [
  ['case_tasks', 'case_task'],
  ['case_timeline', 'case_timeline'],
] as const;
const MIRRORED_TABLES = [
  'cases',
  'sharing_groups',
  ...ITEM_TABLES.map(([t]) => t),
  ...OWNED_BY_CASE.map(([t]) => t),
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table federation_self (
    id integer primary key check (id = 1),
    party text not null references parties(code),
    enabled_at timestamptz not null default now()
  )`.execute(db);
  await sql`create table federation_outbox (
    id bigserial primary key,
    object_type text not null,
    object_id uuid not null
  )`.execute(db);
  await sql`create table federation_changes (
    seq bigint primary key,
    object_type text not null,
    object_id uuid not null,
    recorded_at timestamptz not null default now()
  )`.execute(db);
  await sql`create table federation_peers (
    party_code text primary key references parties(code),
    url text not null,
    role text not null default 'national',
    key_id text not null,
    public_key text not null,
    descriptor text not null,
    status text not null default 'active' check (status in ('active', 'removed')),
    added_at timestamptz not null,
    added_by text not null,
    removed_at timestamptz,
    cursor bigint not null default 0,
    remote_head bigint,
    last_pull_at timestamptz,
    last_ok_at timestamptz,
    last_error text,
    last_error_at timestamptz,
    applied_total bigint not null default 0,
    refused_total bigint not null default 0
  )`.execute(db);
  await sql`create table federation_holdings (
    peer_party text not null,
    object_id uuid not null,
    primary key (peer_party, object_id)
  )`.execute(db);
  await sql`create table federation_parked (
    id bigserial primary key,
    peer_party text not null,
    object_id uuid not null,
    case_id uuid not null,
    version bigint not null,
    envelope text not null,
    parked_at timestamptz not null default now()
  )`.execute(db);
  await sql`create index federation_parked_case on federation_parked (case_id)`.execute(db);
  await sql`create table federation_nonces (
    key_id text not null,
    nonce text not null,
    expires_at timestamptz not null,
    primary key (key_id, nonce)
  )`.execute(db);
  await sql`create index federation_nonces_expiry on federation_nonces (expires_at)`.execute(db);

  for (const table of MIRRORED_TABLES) {
    await sql`alter table ${sql.table(table)} add column mirrored_from text, add column mirror_version bigint`.execute(
      db,
    );
  }
  await sql`alter table cases add column mirror_retracted boolean not null default false`.execute(db);

  // --- the outbox ---------------------------------------------------------------------------
  await sql`create function federation_touch_cases(case_ids uuid[]) returns void language plpgsql as $$
    declare node text;
    begin
      select party into node from federation_self;
      if node is null or coalesce(array_length(case_ids, 1), 0) = 0 then return; end if;
      insert into federation_outbox (object_type, object_id)
        select 'case', k.id from cases k where k.id = any(case_ids) and k.mirrored_from is null and k.owner_party = node;
      ${sql.raw(
        ITEM_TABLES.map(
          ([table, type]) => `insert into federation_outbox (object_type, object_id)
        select '${type}', i.id from ${table} i where i.case_id = any(case_ids) and i.mirrored_from is null and i.origin_party = node;`,
        ).join('\n      '),
      )}
      ${sql.raw(
        OWNED_BY_CASE.map(
          ([table, type]) => `insert into federation_outbox (object_type, object_id)
        select '${type}', i.id from ${table} i join cases k on k.id = i.case_id
        where i.case_id = any(case_ids) and i.mirrored_from is null and k.owner_party = node;`,
        ).join('\n      '),
      )}
    end $$`.execute(db);

  for (const [table, type] of ITEM_TABLES) {
    await sql`create function ${sql.raw(`federation_record_${table}`)}() returns trigger language plpgsql as $$
      begin
        insert into federation_outbox (object_type, object_id)
          select ${sql.lit(type)}, c.id from changed c, federation_self s
          where c.mirrored_from is null and c.origin_party = s.party;
        return null;
      end $$`.execute(db);
    await recordTriggers(db, table);
  }
  for (const [table, type] of OWNED_BY_CASE) {
    await sql`create function ${sql.raw(`federation_record_${table}`)}() returns trigger language plpgsql as $$
      begin
        insert into federation_outbox (object_type, object_id)
          select ${sql.lit(type)}, c.id from changed c join cases k on k.id = c.case_id, federation_self s
          where c.mirrored_from is null and k.owner_party = s.party;
        return null;
      end $$`.execute(db);
    await recordTriggers(db, table);
  }
  await sql`create function federation_record_sharing_groups() returns trigger language plpgsql as $$
    begin
      insert into federation_outbox (object_type, object_id)
        select 'sharing_group', c.id from changed c, federation_self s
        where c.mirrored_from is null and c.owner_party = s.party;
      return null;
    end $$`.execute(db);
  await recordTriggers(db, 'sharing_groups');

  // Cases: the case itself; and its items too when its label or audience changed.
  await sql`create function federation_record_cases() returns trigger language plpgsql as $$
    begin
      insert into federation_outbox (object_type, object_id)
        select 'case', c.id from changed c, federation_self s
        where c.mirrored_from is null and c.owner_party = s.party;
      return null;
    end $$`.execute(db);
  await sql`create trigger federation_record_cases_insert after insert on cases
    referencing new table as changed for each statement execute function federation_record_cases()`.execute(
    db,
  );
  await sql`create function federation_record_cases_update() returns trigger language plpgsql as $$
    begin
      if not exists (select 1 from federation_self) then return null; end if;
      perform federation_touch_cases(array(
        select c.id from changed c join before b on b.id = c.id
        where b.tlp is distinct from c.tlp or b.mirror_retracted is distinct from c.mirror_retracted));
      insert into federation_outbox (object_type, object_id)
        select 'case', c.id from changed c, federation_self s
        where c.mirrored_from is null and c.owner_party = s.party
          and not exists (select 1 from before b where b.id = c.id and b.tlp is distinct from c.tlp);
      return null;
    end $$`.execute(db);
  await sql`create trigger federation_record_cases_update after update on cases
    referencing old table as before new table as changed
    for each statement execute function federation_record_cases_update()`.execute(db);

  // A case's shares are its audience: the case and its items.
  await sql`create function federation_record_shares() returns trigger language plpgsql as $$
    begin
      if not exists (select 1 from federation_self) then return null; end if;
      perform federation_touch_cases(array(select distinct c.case_id from changed c));
      return null;
    end $$`.execute(db);
  for (const table of ['case_shares', 'case_group_shares']) {
    await sql`create trigger ${sql.raw(`federation_record_${table}_insert`)} after insert on ${sql.table(table)}
      referencing new table as changed for each statement execute function federation_record_shares()`.execute(
      db,
    );
    await sql`create trigger ${sql.raw(`federation_record_${table}_delete`)} after delete on ${sql.table(table)}
      referencing old table as changed for each statement execute function federation_record_shares()`.execute(
      db,
    );
  }
  // A group's members: the group, and every case shared with it.
  await sql`create function federation_record_group_members() returns trigger language plpgsql as $$
    begin
      if not exists (select 1 from federation_self) then return null; end if;
      insert into federation_outbox (object_type, object_id)
        select distinct 'sharing_group', g.id from changed c join sharing_groups g on g.id = c.group_id, federation_self s
        where g.mirrored_from is null and g.owner_party = s.party;
      perform federation_touch_cases(array(
        select distinct gs.case_id from case_group_shares gs where gs.group_id in (select c.group_id from changed c)));
      return null;
    end $$`.execute(db);
  await sql`create trigger federation_record_group_members_insert after insert on sharing_group_members
    referencing new table as changed for each statement execute function federation_record_group_members()`.execute(
    db,
  );
  await sql`create trigger federation_record_group_members_delete after delete on sharing_group_members
    referencing old table as changed for each statement execute function federation_record_group_members()`.execute(
    db,
  );

  // --- mirrors are read-only ----------------------------------------------------------------
  await sql`create function federation_guard_mirror() returns trigger language plpgsql as $$
    begin
      if coalesce(current_setting('vytis.federation_apply', true), '') <> 'on' then
        raise exception using errcode = 'VYM01',
          message = format('this %s is a read-only copy from %s''s node: change it there', TG_TABLE_NAME, OLD.mirrored_from);
      end if;
      if TG_OP = 'DELETE' then return OLD; end if;
      return NEW;
    end $$`.execute(db);
  for (const table of MIRRORED_TABLES) {
    await sql`create trigger ${sql.raw(`federation_guard_${table}`)} before update or delete on ${sql.table(table)}
      for each row when (old.mirrored_from is not null) execute function federation_guard_mirror()`.execute(
      db,
    );
  }
  await sql`create function federation_guard_owned_case() returns trigger language plpgsql as $$
    declare target uuid; origin text;
    begin
      if coalesce(current_setting('vytis.federation_apply', true), '') = 'on' then
        if TG_OP = 'DELETE' then return OLD; end if;
        return NEW;
      end if;
      if TG_OP = 'DELETE' then target := OLD.case_id; else target := NEW.case_id; end if;
      select mirrored_from into origin from cases where id = target;
      if origin is not null then
        raise exception using errcode = 'VYM01',
          message = format('this case is a read-only copy from %s''s node: its %s are changed there', origin, TG_TABLE_NAME);
      end if;
      if TG_OP = 'DELETE' then return OLD; end if;
      return NEW;
    end $$`.execute(db);
  for (const table of ['case_tasks', 'case_timeline', 'case_shares', 'case_group_shares']) {
    await sql`create trigger ${sql.raw(`federation_guard_owned_${table}`)} before insert or delete on ${sql.table(table)}
      for each row execute function federation_guard_owned_case()`.execute(db);
  }
}

async function recordTriggers(db: Kysely<unknown>, table: string) {
  const fn = sql.raw(`federation_record_${table}`);
  await sql`create trigger ${sql.raw(`${table}_federation_insert`)} after insert on ${sql.table(table)}
    referencing new table as changed for each statement execute function ${fn}()`.execute(db);
  await sql`create trigger ${sql.raw(`${table}_federation_update`)} after update on ${sql.table(table)}
    referencing new table as changed for each statement execute function ${fn}()`.execute(db);
  await sql`create trigger ${sql.raw(`${table}_federation_delete`)} after delete on ${sql.table(table)}
    referencing old table as changed for each statement execute function ${fn}()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['case_tasks', 'case_timeline', 'case_shares', 'case_group_shares']) {
    await sql`drop trigger ${sql.raw(`federation_guard_owned_${table}`)} on ${sql.table(table)}`.execute(db);
  }
  for (const table of MIRRORED_TABLES) {
    await sql`drop trigger ${sql.raw(`federation_guard_${table}`)} on ${sql.table(table)}`.execute(db);
  }
  for (const table of [...ITEM_TABLES.map(([t]) => t), ...OWNED_BY_CASE.map(([t]) => t), 'sharing_groups']) {
    for (const op of ['insert', 'update', 'delete']) {
      await sql`drop trigger ${sql.raw(`${table}_federation_${op}`)} on ${sql.table(table)}`.execute(db);
    }
    await sql`drop function ${sql.raw(`federation_record_${table}`)}()`.execute(db);
  }
  await sql`drop trigger federation_record_cases_insert on cases`.execute(db);
  await sql`drop trigger federation_record_cases_update on cases`.execute(db);
  for (const table of ['case_shares', 'case_group_shares']) {
    await sql`drop trigger ${sql.raw(`federation_record_${table}_insert`)} on ${sql.table(table)}`.execute(
      db,
    );
    await sql`drop trigger ${sql.raw(`federation_record_${table}_delete`)} on ${sql.table(table)}`.execute(
      db,
    );
  }
  await sql`drop trigger federation_record_group_members_insert on sharing_group_members`.execute(db);
  await sql`drop trigger federation_record_group_members_delete on sharing_group_members`.execute(db);
  for (const fn of [
    'federation_record_cases',
    'federation_record_cases_update',
    'federation_record_shares',
    'federation_record_group_members',
    'federation_guard_mirror',
    'federation_guard_owned_case',
  ]) {
    await sql`drop function ${sql.raw(fn)}()`.execute(db);
  }
  await sql`drop function federation_touch_cases(uuid[])`.execute(db);
  await sql`alter table cases drop column mirror_retracted`.execute(db);
  for (const table of MIRRORED_TABLES) {
    await sql`alter table ${sql.table(table)} drop column mirrored_from, drop column mirror_version`.execute(
      db,
    );
  }
  for (const table of [
    'federation_nonces',
    'federation_parked',
    'federation_holdings',
    'federation_peers',
    'federation_changes',
    'federation_outbox',
    'federation_self',
  ]) {
    await sql`drop table ${sql.table(table)}`.execute(db);
  }
}
