import type { Readable } from 'node:stream';
import type { ExerciseScope, MispEventList, MispImportResult, Tlp } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { Ctx } from '../../context.ts';
import type { Database } from '../../platform/db/schema.ts';
import type { CasesService } from '../cases/cases.service.ts';
import type { ObservablesService } from '../indicators/observables.service.ts';

export interface MispImportOptions {
  partial: boolean;
  /** The label of what names none (no tag, no distribution): else the case's. */
  tlp?: Tlp | undefined;
  onProgress?: (progress: { bytes: number; lines: number }) => void;
  othersWaiting?: () => boolean;
}

export interface MispExportOptions {
  /** One imported event alone, by its uuid (else the case's event: see exportCase). */
  event?: string | undefined;
  exercise?: ExerciseScope | undefined;
}

/** What a feed's manifest says of one event (MISP's manifest.json entry). */
export interface MispFeedEntry {
  caseId: string;
  uuid: string;
  info: string;
  date: string;
  threatLevelId: number;
  analysis: number;
  timestamp: number;
  orgc: { name: string; uuid: string };
  tags: { name: string; colour?: string }[];
}

export interface MispDeps {
  db: Kysely<Database>;
  cases: CasesService;
  observables: ObservablesService;
}

/** MISP events in and out of a case, under the access policy. */
export class MispService {
  constructor(private readonly deps: MispDeps) {}

  /** MISP event JSON (`{"Event"}`, `{"response": [...]}`, a list) into a case, as a bulk import. */
  async importEvents(
    _ctx: Ctx,
    _caseId: string,
    _source: Readable,
    _options: MispImportOptions,
  ): Promise<MispImportResult> {
    throw new Error('not yet');
  }

  /** The case as one MISP event (`{"Event": …}`) of what the viewer may pass on. */
  async exportCase(_ctx: Ctx, _caseId: string, _options: MispExportOptions): Promise<{ Event: unknown }> {
    throw new Error('not yet');
  }

  /** The case's MISP events the viewer sees, with their tags and galaxies. */
  async listEvents(_ctx: Ctx, _caseId: string): Promise<MispEventList> {
    throw new Error('not yet');
  }

  /** One entry per real case the viewer may pass on: its event as `exportCase` gives it. */
  async feedIndex(_ctx: Ctx): Promise<MispFeedEntry[]> {
    throw new Error('not yet');
  }

  /** The feed's event by uuid (404 when the viewer has none by that uuid). */
  async feedEvent(_ctx: Ctx, _uuid: string): Promise<{ Event: unknown }> {
    throw new Error('not yet');
  }
}
