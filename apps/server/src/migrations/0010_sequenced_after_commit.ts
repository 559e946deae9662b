import type { Kysely } from 'kysely';

// Frozen: never edit after it has shipped; add a new migration instead. No imports of app code.

/**
 * Audit events and notifications are recorded apart from their place in line (issue 16,
 * performance).
 *
 * Until now every audited write took the audit chain's head row, and every published event the
 * notifications' advisory lock, and held them until commit: every write on the node waited for the
 * previous one's commit, one commit at a time whatever the number of processes. Now a write's
 * transaction adds its events to these tables and takes no shared lock; right after it commits, a
 * sealer gives every committed pending audit event its place and hash in the chain, and a
 * sequencer every pending notification its sequence number, each in one short transaction that
 * serves many writes, and deletes them from here.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // `head`, `middle` and `tail`: the event's envelope around its place in the chain (audit.chain.ts).
  await db.schema
    .createTable('audit_pending')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('head', 'text', (c) => c.notNull())
    .addColumn('middle', 'text', (c) => c.notNull())
    .addColumn('tail', 'text', (c) => c.notNull())
    .execute();
  // The columns of `notifications`, but the sequence number.
  await db.schema
    .createTable('notifications_pending')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('request_id', 'uuid')
    .addColumn('party_only', 'boolean', (c) => c.notNull())
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .addColumn('case_id', 'uuid')
    .addColumn('tlp', 'text')
    .addColumn('item_created_by_id', 'uuid')
    .addColumn('item_origin_party', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('notifications_pending').execute();
  await db.schema.dropTable('audit_pending').execute();
}
