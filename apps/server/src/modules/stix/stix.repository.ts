import { type CaseViewer, passableOnward } from '../../access/policy.ts';
import type { Executor } from '../../platform/db/transaction.ts';

/** The notes of a case the viewer may pass on (the same rule as the observables' export), oldest first. */
export async function passableNotes(db: Executor, viewer: CaseViewer, caseId: string) {
  return db
    .selectFrom('case_notes')
    .innerJoin('cases', 'cases.id', 'case_notes.case_id')
    .select([
      'case_notes.id',
      'case_notes.body',
      'case_notes.tlp',
      'case_notes.origin_party',
      'case_notes.created_at',
    ])
    .where('cases.id', '=', caseId)
    .where(passableOnward(viewer, 'case_notes'))
    .orderBy('case_notes.created_at')
    .orderBy('case_notes.id')
    .execute();
}

/** Parties by code: their names are public to every user of the force. */
export async function partiesByCode(db: Executor, codes: string[]) {
  if (codes.length === 0) return [];
  return db.selectFrom('parties').select(['code', 'name', 'created_at']).where('code', 'in', codes).execute();
}
