import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type {
  ExerciseScope,
  IntelListQuery,
  IntelObject,
  IntelObjectDetail,
  StixImportResult,
  Tlp,
} from '@vytis/contracts';
import type { Kysely } from 'kysely';
import { casePassableOnward } from '../../access/policy.ts';
import type { Ctx } from '../../context.ts';
import { forbidden, invalidInput, notFound } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/cursor.ts';
import type { Database } from '../../platform/db/schema.ts';
import { TLP_STRICTNESS } from '../cases/case-access.ts';
import type { CasesService } from '../cases/cases.service.ts';
import { lookupCandidates } from '../indicators/observable-types.ts';
import type { ObservablesService } from '../indicators/observables.service.ts';
import { CORRELATION_CAP } from '../indicators/observables.service.ts';
import * as taxiiRepo from '../taxii/taxii.repository.ts';
import { mappedObservableOf } from '../taxii/taxii.service.ts';
import * as intel from './intel.repository.ts';
import * as repo from './stix.repository.ts';
import { type BundleStats, caseBundle } from './stix-bundle.ts';
import { BundleError, readStixBundle } from './stix-import.ts';
import { type CaseInput, identityId, partyIdentity, type StixObject } from './stix-mapping.ts';
import type { Pap } from './stix-markings.ts';
import { markingRefs, papMarkingDefinition, tlpMarkingDefinitions } from './stix-markings.ts';

export interface StixImportOptions {
  partial: boolean;
  /** The label of objects without a TLP marking (else the case's). */
  tlp?: Tlp | undefined;
  onProgress?: (progress: { bytes: number; lines: number }) => void;
  othersWaiting?: () => boolean;
}

type IntelRow = Awaited<ReturnType<typeof intel.listVisibleIntel>>[number];

function presentIntel(row: IntelRow, caseId: string): IntelObject {
  return {
    id: row.id,
    caseId,
    stixId: row.stix_id,
    type: row.stix_type,
    name: row.name,
    modified: row.stix_modified?.toISOString() ?? null,
    sourceRef: row.source_ref,
    targetRef: row.target_ref,
    relationshipType: row.relationship_type,
    tlp: row.tlp as Tlp,
    originParty: row.origin_party,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

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
   * A STIX 2.1 bundle into a case, as a bulk import (received in full, read with no transaction
   * open, written in parts, all-or-nothing): observables from its indicators with simple patterns,
   * its cyber-observables and observed data; its other objects kept as the case's intelligence
   * objects (see readStixBundle).
   */
  async importBundle(
    ctx: Ctx,
    caseId: string,
    source: Readable,
    options: StixImportOptions,
  ): Promise<StixImportResult> {
    let counts: StixImportResult['intelligence'] = { added: 0, updated: 0, unchanged: 0, older: 0 };
    let objects = 0;
    const viewer = this.deps.cases.viewer(ctx);
    const partyIdentityIds = new Set(
      (await this.deps.db.selectFrom('parties').select('code').execute()).map((p) => identityId(p.code)),
    );
    const result = await this.deps.observables.importWith(
      ctx,
      caseId,
      source,
      {
        format: 'stix',
        tlp: options.tlp,
        partial: options.partial,
        onProgress: options.onProgress,
        othersWaiting: options.othersWaiting,
      },
      async (input, intoExercise) => {
        const file = await readStixBundle(input, {
          partial: options.partial,
          intoExercise,
          db: this.deps.db,
          partyIdentityIds,
          viewer,
          caseId,
          onProgress: options.onProgress,
          othersWaiting: options.othersWaiting,
        }).catch((error: unknown) => {
          // The whole body is not a bundle Vytis reads: one answer, naming what is wrong.
          if (error instanceof BundleError) {
            throw invalidInput(`the body is not a STIX 2.1 bundle Vytis can read: ${error.message}`, [
              {
                field: error.objectIndex === undefined ? 'body' : `body/objects/${error.objectIndex}`,
                message: error.message,
              },
            ]);
          }
          throw error;
        });
        counts = file.intel;
        objects = file.lines;
        return file;
      },
    );
    return { objects, ...result, intelligence: counts };
  }

  /** The case's intelligence objects the viewer may see, oldest first, in pages. */
  async listIntel(ctx: Ctx, caseId: string, query: IntelListQuery) {
    await this.deps.cases.visibleCase(ctx, caseId);
    const limit = query.limit ?? 50;
    const after = query.cursor ? decodeCursor<[string, string]>(query.cursor, ['timestamp', 'uuid']) : null;
    const rows = await intel.listVisibleIntel(this.deps.db, this.deps.cases.viewer(ctx), caseId, {
      after: after ? { at: new Date(after[0]), id: after[1] } : null,
      limit: limit + 1,
      type: query.type,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => presentIntel(row, caseId)),
      nextCursor: rows.length > limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
    };
  }

  /** One intelligence object as received, with the relationships the viewer sees at either end. */
  async intelDetail(ctx: Ctx, caseId: string, id: string): Promise<IntelObjectDetail> {
    await this.deps.cases.visibleCase(ctx, caseId);
    const viewer = this.deps.cases.viewer(ctx);
    const row = await intel.findVisibleIntel(this.deps.db, viewer, caseId, id);
    if (!row) throw notFound(`intelligence object ${id}`);
    const links = (await intel.visibleRelationshipsOf(this.deps.db, viewer, caseId, row.stix_id)).filter(
      (link) => link.id !== row.id,
    );
    const others = links.map((link) => (link.source_ref === row.stix_id ? link.target_ref : link.source_ref));
    const names = await intel.visibleNamesOf(this.deps.db, viewer, caseId, [
      ...new Set(others.filter((o): o is string => o !== null)),
    ]);
    return {
      item: presentIntel(row, caseId),
      object: JSON.parse(row.object) as Record<string, unknown>,
      relationships: links.map((link, i) => {
        const other = others[i] ?? '';
        const known = names.get(other);
        return {
          relationship: presentIntel(link, caseId),
          direction: link.source_ref === row.stix_id ? ('out' as const) : ('in' as const),
          // An end the viewer does not see among the case's objects is named by its id alone.
          other: {
            stixId: other,
            type: known?.type ?? other.split('--')[0] ?? null,
            name: known?.name ?? null,
          },
        };
      }),
    };
  }

  /**
   * A lookup's answer as a bundle: the correlations the viewer may pass on (the lookup shows what
   * they see; a bundle carries only what they may pass on: no RED, AMBER+STRICT only their own
   * party's), each as its indicator with its cyber-observables, with the parties and markings
   * they name. At most the lookup's cap of rows, so it is built whole.
   */
  async lookupBundle(ctx: Ctx, value: string, exercise: ExerciseScope = 'exclude') {
    // What may be passed on is chosen in SQL before the cap, so rows the viewer sees but may not
    // pass on never crowd out the ones they may.
    const rows = await taxiiRepo.observablePage(
      this.deps.db,
      this.deps.cases.viewer(ctx),
      { kind: 'values', values: lookupCandidates(value), exercise },
      {
        addedAfter: null,
        after: null,
        observableKinds: { indicator: true, vulnerability: true },
        intelTypes: null,
        observableIds: null,
        intelIds: null,
        versions: null,
        limit: CORRELATION_CAP - 1,
      },
    );
    const objects: StixObject[] = [];
    const scos = new Map<string, { object: StixObject; tlp: Tlp; pap: Pap }>();
    const tlps = new Set<Tlp>(['clear']);
    const paps = new Set<Pap>();
    const parties = new Set<string>();
    for (const row of rows) {
      const mapped = mappedObservableOf(row);
      if (!mapped) continue;
      objects.push(...mapped.objects);
      for (const sco of mapped.scos) {
        const known = scos.get(sco.id);
        const tlp = row.tlp as Tlp;
        // A cyber-observable named by several observables goes under the strictest of their labels.
        if (!known || TLP_STRICTNESS[tlp] > TLP_STRICTNESS[known.tlp]) {
          scos.set(sco.id, { object: sco, tlp, pap: row.case_pap as Pap });
        }
      }
      tlps.add(row.tlp as Tlp);
      paps.add(row.case_pap as Pap);
      parties.add(row.origin_party).add(row.case_owner_party);
    }
    const identities = (await repo.partiesByCode(this.deps.db, [...parties].sort())).map((p) =>
      partyIdentity({ code: p.code, name: p.name, createdAt: p.created_at.toISOString() }),
    );
    const definitions = new Map<string, StixObject>();
    for (const tlp of tlps) for (const d of tlpMarkingDefinitions(tlp)) definitions.set(d.id, d);
    for (const pap of paps) definitions.set(papMarkingDefinition(pap).id, papMarkingDefinition(pap));
    const marked = [...scos.values()].map(({ object, tlp, pap }) => ({
      ...object,
      object_marking_refs: markingRefs(tlp, pap),
    }));
    return {
      type: 'bundle' as const,
      id: `bundle--${crypto.randomUUID()}`,
      objects: [...objects, ...marked, ...identities, ...definitions.values()],
    };
  }

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
    async function* intelObjects() {
      let after: { at: Date; id: string } | null = null;
      for (;;) {
        const page = await intel.passableIntelPage(db, viewer, caseId, after, 500);
        for (const row of page)
          yield { text: row.object, tlp: row.tlp as Tlp, originParty: row.origin_party };
        const last = page.at(-1);
        if (page.length < 500 || !last) return;
        after = { at: last.created_at, id: last.id };
      }
    }
    const stats: BundleStats = { objects: 0, unmapped: 0 };
    const chunks = caseBundle(
      {
        theCase,
        observables: rows,
        notes: notes(),
        intel: intelObjects(),
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
