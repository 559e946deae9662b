import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * The force's loop across nodes (issue 14), on the change feed of 0017.
 *
 * Each object of the loop has one node that speaks for it:
 * - the registry (parties, their statuses, framework versions): the coordinating node;
 * - a request with its timeline, votes and clocks: the requesting party's node;
 * - a responder and their leave: the home party's node;
 * - a deployment with its members and passes, and the pass revocation list: the node that adopted
 *   the team (the coordinating node);
 * - an intent (a vote, a release, an acceptance… made on a copy): the node of the party that made it,
 *   applied by the node that speaks for its target, which answers with an outcome.
 *
 * The triggers below queue each of them in the outbox (one fixed id for the registry and for the
 * revocation list). Copies are read-only as in 0017; a copy's timeline keeps the origin's entry ids
 * so that entries are written once. Clocks and votes are only ever added on the node that speaks
 * for the request. A deployment may arrive before the request it serves or the responders it names,
 * so its references to them are not foreign keys any more.
 */

const REGISTRY_ID = '00000000-0000-4000-8000-00000000f001';
const REVOCATIONS_ID = '00000000-0000-4000-8000-00000000f002';

const COPIED = [
  'requests',
  'request_timeline',
  'council_votes',
  'deadlines',
  'responders',
  'responder_unavailability',
  'deployments',
  'deployment_members',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table federation_self add column role text not null default 'national'`.execute(db);
  for (const table of COPIED) {
    await sql`alter table ${sql.table(table)} add column mirrored_from text, add column mirror_version bigint`.execute(
      db,
    );
  }
  await sql`alter table requests add column mirror_retracted boolean not null default false`.execute(db);
  await sql`create table federation_registry (
    id integer primary key check (id = 1),
    origin text not null,
    mirror_version bigint not null,
    applied_at timestamptz not null
  )`.execute(db);
  await sql`alter table request_timeline add column origin_id bigint`.execute(db);
  await sql`create unique index request_timeline_copies on request_timeline (mirrored_from, origin_id)
    where mirrored_from is not null`.execute(db);
  await sql`alter table deployment_members add column pass_token text`.execute(db);
  await sql`alter table deployments drop constraint if exists deployments_request_id_fkey`.execute(db);
  await sql`alter table deployments drop constraint if exists deployments_proposal_id_fkey`.execute(db);
  await sql`create index deadlines_copies on deadlines (request_id) where mirrored_from is not null`.execute(
    db,
  );

  await sql`create table federation_intents (
    id uuid primary key,
    origin_party text not null,
    target_party text not null,
    kind text not null,
    target_id uuid not null,
    body jsonb not null,
    actor_name text not null,
    actor_roles jsonb not null,
    created_at timestamptz not null,
    state text not null default 'pending' check (state in ('pending', 'applied', 'refused')),
    outcome text,
    decided_at timestamptz,
    mirrored_from text,
    mirror_version bigint
  )`.execute(db);
  await sql`create index federation_intents_target on federation_intents (target_id, created_at)`.execute(db);
  await sql`create index federation_intents_received on federation_intents (created_at)
    where mirrored_from is not null`.execute(db);
  await sql`create table federation_intent_outcomes (
    intent_id uuid primary key,
    origin_party text not null,
    state text not null check (state in ('applied', 'refused')),
    outcome text not null,
    decided_at timestamptz not null
  )`.execute(db);
  await sql`create table federation_revocation_lists (
    party text primary key,
    jws text not null,
    key_id text not null,
    issued_at timestamptz not null,
    revoked integer not null,
    mirror_version bigint not null,
    received_at timestamptz not null
  )`.execute(db);

  // --- the outbox ---------------------------------------------------------------------------
  const queue = async (name: string, body: string, tables: [string, ...string[]]) => {
    await sql`create function ${sql.raw(name)}() returns trigger language plpgsql as ${sql.raw(
      `$$ begin\n${body}\n return null; end $$`,
    )}`.execute(db);
    for (const table of tables) {
      for (const op of ['insert', 'update', 'delete'] as const) {
        const rows = op === 'delete' ? 'old' : 'new';
        await sql`create trigger ${sql.raw(`${table}_${name}_${op}`)} after ${sql.raw(op)} on ${sql.table(table)}
          referencing ${sql.raw(rows)} table as changed for each statement execute function ${sql.raw(name)}()`.execute(
          db,
        );
      }
    }
  };
  await queue(
    'federation_queue_requests',
    `insert into federation_outbox (object_type, object_id)
       select 'request', c.id from changed c, federation_self s
       where c.mirrored_from is null and c.party_code = s.party;`,
    ['requests'],
  );
  // What a request carries (its own timeline, votes and clocks), on the node that speaks for it.
  await queue(
    'federation_queue_request_parts',
    `insert into federation_outbox (object_type, object_id)
       select distinct 'request', k.id from changed c join requests k on k.id = c.request_id, federation_self s
       where k.mirrored_from is null and k.party_code = s.party;`,
    ['request_timeline', 'council_votes', 'deadlines'],
  );
  await queue(
    'federation_queue_responders',
    `insert into federation_outbox (object_type, object_id)
       select 'responder', c.id from changed c, federation_self s
       where c.mirrored_from is null and c.party_code = s.party;`,
    ['responders'],
  );
  await queue(
    'federation_queue_leave',
    `insert into federation_outbox (object_type, object_id)
       select distinct 'responder', r.id from changed c join responders r on r.id = c.responder_id, federation_self s
       where r.mirrored_from is null and r.party_code = s.party;`,
    ['responder_unavailability'],
  );
  await queue(
    'federation_queue_deployments',
    `insert into federation_outbox (object_type, object_id)
       select 'deployment', c.id from changed c, federation_self s where c.mirrored_from is null;`,
    ['deployments'],
  );
  // A member's change: the deployment where it is this node's own (and, once it holds a pass, the
  // revocation list: a host checks passes against it, empty or not); where it is a copy, this node's
  // responders on it (once proposed, the host and the coordinator learn who they are) and its own
  // request (the home states of its people may now see it).
  await queue(
    'federation_queue_members',
    `insert into federation_outbox (object_type, object_id)
       select distinct 'deployment', d.id from changed c join deployments d on d.id = c.deployment_id, federation_self s
       where d.mirrored_from is null;
     insert into federation_outbox (object_type, object_id)
       select distinct 'responder', r.id from changed c join responders r on r.id = c.responder_id, federation_self s
       where r.mirrored_from is null and r.party_code = s.party;
     insert into federation_outbox (object_type, object_id)
       select distinct 'request', k.id from changed c join deployments d on d.id = c.deployment_id
         join requests k on k.id = d.request_id, federation_self s
       where d.mirrored_from is not null and k.mirrored_from is null and k.party_code = s.party;
     insert into federation_outbox (object_type, object_id)
       select 'revocations', '${REVOCATIONS_ID}'::uuid from federation_self s
       where exists (select 1 from changed c join deployments d on d.id = c.deployment_id
         where d.mirrored_from is null and c.pass_id is not null);`,
    ['deployment_members'],
  );
  await queue(
    'federation_queue_registry',
    `insert into federation_outbox (object_type, object_id)
       select 'registry', '${REGISTRY_ID}'::uuid from federation_self s where s.role = 'coordinator'
         and exists (select 1 from changed);`,
    ['parties', 'party_statuses', 'frameworks'],
  );
  await queue(
    'federation_queue_revocations',
    `insert into federation_outbox (object_type, object_id)
       select 'revocations', '${REVOCATIONS_ID}'::uuid from federation_self s
         where exists (select 1 from changed);`,
    ['pass_revocations'],
  );
  await queue(
    'federation_queue_intents',
    `insert into federation_outbox (object_type, object_id)
       select 'intent', c.id from changed c, federation_self s where c.mirrored_from is null;`,
    ['federation_intents'],
  );
  await queue(
    'federation_queue_outcomes',
    `insert into federation_outbox (object_type, object_id)
       select 'intent_outcome', c.intent_id from changed c, federation_self s;`,
    ['federation_intent_outcomes'],
  );

  // --- copies are read-only (federation_guard_mirror of 0017) ------------------------------------
  for (const table of [...COPIED, 'federation_intents']) {
    await sql`create trigger ${sql.raw(`federation_guard_${table}`)} before update or delete on ${sql.table(table)}
      for each row when (old.mirrored_from is not null) execute function federation_guard_mirror()`.execute(
      db,
    );
  }
  // Votes and clocks are added only where the request's clock runs; members only where the team is kept.
  await sql`create function federation_guard_request_part() returns trigger language plpgsql as $$
    declare origin text;
    begin
      if coalesce(current_setting('vytis.federation_apply', true), '') = 'on' then return NEW; end if;
      select mirrored_from into origin from requests where id = NEW.request_id;
      if origin is not null then
        raise exception using errcode = 'VYM01',
          message = format('this request is a read-only copy from %s''s node: its %s are kept there', origin, TG_TABLE_NAME);
      end if;
      return NEW;
    end $$`.execute(db);
  for (const table of ['council_votes', 'deadlines']) {
    await sql`create trigger ${sql.raw(`federation_guard_copy_${table}`)} before insert on ${sql.table(table)}
      for each row execute function federation_guard_request_part()`.execute(db);
  }
  await sql`create function federation_guard_members() returns trigger language plpgsql as $$
    declare origin text;
    begin
      if coalesce(current_setting('vytis.federation_apply', true), '') = 'on' then return NEW; end if;
      select mirrored_from into origin from deployments where id = NEW.deployment_id;
      if origin is not null then
        raise exception using errcode = 'VYM01',
          message = format('this deployment is a read-only copy from %s''s node: its team is kept there', origin);
      end if;
      return NEW;
    end $$`.execute(db);
  await sql`create trigger federation_guard_copy_members before insert on deployment_members
    for each row execute function federation_guard_members()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger federation_guard_copy_members on deployment_members`.execute(db);
  await sql`drop function federation_guard_members()`.execute(db);
  for (const table of ['council_votes', 'deadlines']) {
    await sql`drop trigger ${sql.raw(`federation_guard_copy_${table}`)} on ${sql.table(table)}`.execute(db);
  }
  await sql`drop function federation_guard_request_part()`.execute(db);
  for (const table of [...COPIED, 'federation_intents']) {
    await sql`drop trigger ${sql.raw(`federation_guard_${table}`)} on ${sql.table(table)}`.execute(db);
  }
  const queues: [string, string[]][] = [
    ['federation_queue_requests', ['requests']],
    ['federation_queue_request_parts', ['request_timeline', 'council_votes', 'deadlines']],
    ['federation_queue_responders', ['responders']],
    ['federation_queue_leave', ['responder_unavailability']],
    ['federation_queue_deployments', ['deployments']],
    ['federation_queue_members', ['deployment_members']],
    ['federation_queue_registry', ['parties', 'party_statuses', 'frameworks']],
    ['federation_queue_revocations', ['pass_revocations']],
    ['federation_queue_intents', ['federation_intents']],
    ['federation_queue_outcomes', ['federation_intent_outcomes']],
  ];
  for (const [name, tables] of queues) {
    for (const table of tables) {
      for (const op of ['insert', 'update', 'delete']) {
        await sql`drop trigger ${sql.raw(`${table}_${name}_${op}`)} on ${sql.table(table)}`.execute(db);
      }
    }
    await sql`drop function ${sql.raw(name)}()`.execute(db);
  }
  for (const table of [
    'federation_revocation_lists',
    'federation_intent_outcomes',
    'federation_intents',
    'federation_registry',
  ]) {
    await sql`drop table ${sql.table(table)}`.execute(db);
  }
  await sql`drop index deadlines_copies`.execute(db);
  await sql`alter table deployment_members drop column pass_token`.execute(db);
  await sql`drop index request_timeline_copies`.execute(db);
  await sql`alter table request_timeline drop column origin_id`.execute(db);
  await sql`alter table requests drop column mirror_retracted`.execute(db);
  for (const table of COPIED) {
    await sql`alter table ${sql.table(table)} drop column mirrored_from, drop column mirror_version`.execute(
      db,
    );
  }
  await sql`alter table federation_self drop column role`.execute(db);
}
