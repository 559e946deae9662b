import type { ExerciseScope, Tlp } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import { casePassableOnward } from '../../access/policy.ts';
import type { Ctx } from '../../context.ts';
import { forbidden } from '../../errors.ts';
import type { Database } from '../../platform/db/schema.ts';
import type { CasesService } from '../cases/cases.service.ts';
import type { ObservablesService } from '../indicators/observables.service.ts';
import * as repo from './stix.repository.ts';
import { type BundleStats, caseBundle } from './stix-bundle.ts';
import type { CaseInput } from './stix-mapping.ts';
import type { Pap } from './stix-markings.ts';

export interface StixDeps {
  db: Kysely<Database>;
  cases: CasesService;
  observables: ObservablesService;
}

/**
 * STIX 2.1 out of Vytis. What goes into a bundle is exactly what the viewer may pass on, by the
 * same rules as the case's other exports (`passableOnward`: nothing RED, AMBER+STRICT only from its
 * own party; exercises only when asked for), read through the access policy in SQL.
 */
export class StixService {
  constructor(private readonly deps: StixDeps) {}

  /**
   * A case as a bundle. A case the viewer may not see is a 404; an exercise not asked for (or
   * `only` on a real case) a 400, as for the other exports; a case the viewer sees but may not pass
   * on (RED, or another party's AMBER+STRICT) a 403 that says so — all before any byte is sent.
   */
  async caseBundle(ctx: Ctx, caseId: string, exercise: ExerciseScope = 'exclude') {
    const row = await this.deps.cases.visibleCase(ctx, caseId);
    const viewer = this.deps.cases.viewer(ctx);
    if (!casePassableOnward(viewer, row)) {
      throw forbidden(
        `case ${caseId} is TLP:${row.tlp.toUpperCase()}: ${row.tlp === 'red' ? 'what is RED is never passed on' : 'AMBER+STRICT is passed on only by its own party'}, so it cannot be exported`,
      );
    }
    const { rows } = await this.deps.observables.passable(ctx, caseId, exercise);
    const theCase: CaseInput = {
      id: row.id,
      title: row.title,
      description: row.description,
      incidentClass: row.incident_class,
      tlp: row.tlp as Tlp,
      pap: row.pap as Pap,
      ownerParty: row.owner_party,
      exercise: row.exercise,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    };
    const db = this.deps.db;
    async function* notes() {
      for (const note of await repo.passableNotes(db, viewer, caseId)) {
        yield {
          id: note.id,
          body: note.body,
          tlp: note.tlp as Tlp,
          originParty: note.origin_party,
          createdAt: note.created_at.toISOString(),
        };
      }
    }
    const stats: BundleStats = { objects: 0, unmapped: 0 };
    const chunks = caseBundle(
      {
        theCase,
        observables: rows,
        notes: notes(),
        parties: async (codes) =>
          (await repo.partiesByCode(db, codes)).map((p) => ({
            code: p.code,
            name: p.name,
            createdAt: p.created_at.toISOString(),
          })),
      },
      stats,
    );
    return { exercise: row.exercise, chunks, stats };
  }
}
