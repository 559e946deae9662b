import { type Kysely, sql } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * Labels never reveal what they hide (issue 16, item 2).
 *
 * Observables were unique per (case, type, value), so adding a value that someone else holds in
 * the case under a label the caller cannot read answered 409 and confirmed it. Now each person's
 * copy is stored: the service refuses only a duplicate the caller can see (under the case's row
 * lock), and the database keeps one row per (case, type, value, creator) — a creator always reads
 * their own items, so this constraint can never be tripped by something hidden.
 *
 * Events about an item are judged by the item's own audience: its creator and its originating
 * party are stored with the event (they never change), as its label already is.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('observables').dropConstraint('observables_case_value').execute();
  await db.schema
    .createIndex('observables_case_value_creator')
    .on('observables')
    .columns(['case_id', 'type', 'value', 'created_by_id'])
    .unique()
    .execute();

  await db.schema.alterTable('notifications').addColumn('item_created_by_id', 'uuid').execute();
  await db.schema.alterTable('notifications').addColumn('item_origin_party', 'text').execute();
  for (const table of ['observables', 'case_notes', 'evidence']) {
    await sql`update notifications n set item_created_by_id = i.created_by_id, item_origin_party = i.origin_party
      from ${sql.table(table)} i
      where n.case_id is not null and n.data ->> 'itemId' = i.id::text`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('notifications').dropColumn('item_origin_party').execute();
  await db.schema.alterTable('notifications').dropColumn('item_created_by_id').execute();
  // One row per (case, type, value) again: later copies go (with the events and nothing else
  // referring to them, since nothing references observables).
  await sql`delete from observables o using observables first
    where o.case_id = first.case_id and o.type = first.type and o.value = first.value
      and (o.created_at, o.id) > (first.created_at, first.id)`.execute(db);
  await db.schema.dropIndex('observables_case_value_creator').execute();
  await db.schema
    .alterTable('observables')
    .addUniqueConstraint('observables_case_value', ['case_id', 'type', 'value'])
    .execute();
}
