import type { Insertable, Selectable } from 'kysely';
import { type CaseViewer, caseItemsVisibleTo } from '../../access/policy.ts';
import type { EvidenceCustodyTable, EvidenceTable } from '../../platform/db/schema.ts';
import type { Executor, Tx } from '../../platform/db/transaction.ts';

export type EvidenceRow = Selectable<EvidenceTable>;
export type CustodyRow = Selectable<EvidenceCustodyTable>;

export async function insertEvidence(trx: Tx, row: Insertable<EvidenceTable>) {
  return trx.insertInto('evidence').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function insertCustody(trx: Tx, row: Insertable<EvidenceCustodyTable>) {
  return trx.insertInto('evidence_custody').values(row).returningAll().executeTakeFirstOrThrow();
}

/** The evidence of one case that the viewer may see: its case visible and its own label letting them in. */
function visibleInCase(db: Executor, viewer: CaseViewer, caseId: string) {
  return db
    .selectFrom('evidence')
    .innerJoin('cases', 'cases.id', 'evidence.case_id')
    .where('cases.id', '=', caseId)
    .where(caseItemsVisibleTo(viewer, 'evidence'));
}

export async function listVisible(db: Executor, viewer: CaseViewer, caseId: string) {
  return visibleInCase(db, viewer, caseId)
    .selectAll('evidence')
    .orderBy('evidence.created_at')
    .orderBy('evidence.id')
    .execute();
}

export async function findVisible(db: Executor, viewer: CaseViewer, caseId: string, id: string) {
  return visibleInCase(db, viewer, caseId)
    .selectAll('evidence')
    .where('evidence.id', '=', id)
    .executeTakeFirst();
}

/**
 * The item if visible, its row locked: `update` for a change of custodian, `share` for a download,
 * so a download's custody entry names the custodian who actually held it at that moment.
 */
export async function lockVisible(
  trx: Tx,
  viewer: CaseViewer,
  caseId: string,
  id: string,
  mode: 'update' | 'share',
) {
  const query = visibleInCase(trx, viewer, caseId).selectAll('evidence').where('evidence.id', '=', id);
  return (mode === 'update' ? query.forUpdate('evidence') : query.forShare('evidence')).executeTakeFirst();
}

export async function setCustodian(trx: Tx, id: string, custodian: string) {
  return trx
    .updateTable('evidence')
    .set({ custodian })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The chain of custody of one item, in the order it happened. */
export async function custodyOf(db: Executor, evidenceId: string) {
  return db
    .selectFrom('evidence_custody')
    .selectAll()
    .where('evidence_id', '=', evidenceId)
    .orderBy('at')
    .orderBy('id')
    .execute();
}

/** Which of `ids` are items (committed evidence rows). */
export async function recordedAmong(db: Executor, ids: string[]) {
  const recorded = new Set<string>();
  // In batches: a statement takes a bounded number of parameters.
  for (let start = 0; start < ids.length; start += 1000) {
    const batch = ids.slice(start, start + 1000);
    const rows = await db.selectFrom('evidence').select('id').where('id', 'in', batch).execute();
    for (const row of rows) recorded.add(row.id);
  }
  return recorded;
}
