import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type {
  BulkResult,
  Correlation,
  NewObservable,
  Observable,
  ObservableListQuery,
  ObservablePatch,
  Tlp,
} from '@vytis/contracts';
import { TLPS } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import { AppError, conflict, invalidInput, notFound } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/cursor.ts';
import type { Database } from '../../platform/db/schema.ts';
import { inTransaction } from '../../platform/db/transaction.ts';
import { CaseAccess } from '../cases/case-access.ts';
import type { CasesService } from '../cases/cases.service.ts';
import { checkVersion } from '../cases/cases.service.ts';
import type { Notifier } from '../notifications/notifier.ts';
import { type BulkFormat, bulkRecordBatches } from './bulk-parse.ts';
import { lookupCandidates, normaliseObservable } from './observable-types.ts';
import * as repo from './observables.repository.ts';
import { spoolToFile } from './spool.ts';

export interface ObservablesDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  notifier: Notifier;
  cases: CasesService;
  /** The largest indicator file a bulk import reads. */
  importMaxBytes: number;
  /** On a PostgreSQL server, the pool under Kysely: lookups run as prepared statements there. */
  pool?: pg.Pool | undefined;
}

/** Like MISP's correlation cap: a value in more places than this (a public resolver) is flagged. */
export const CORRELATION_CAP = 20;
/** Rows per INSERT of a bulk import: large enough to amortise a round trip, small enough to stream. */
const BATCH_ROWS = 5000;
/** As long as a comment added one by one may be. */
const MAX_COMMENT = 2000;
/** How many rejected lines an answer lists (all are counted). */
const PROBLEMS_LISTED = 100;

export interface ImportOptions {
  format: BulkFormat;
  type?: string | undefined;
  tlp?: Tlp | undefined;
  partial: boolean;
  /** Called as the file is read: bytes so far, and lines so far. */
  onProgress?: (progress: { bytes: number; lines: number }) => void;
}

/**
 * Observables (indicators) of cases: typed as MISP attributes, normalised so the same value always
 * looks the same, labelled with TLP, and correlated across cases and parties only as far as the
 * viewer may see.
 */
export class ObservablesService {
  constructor(private readonly deps: ObservablesDeps) {}

  async list(ctx: Ctx, caseId: string, query: ObservableListQuery) {
    await this.deps.cases.visibleCase(ctx, caseId);
    const viewer = this.deps.cases.viewer(ctx);
    const limit = query.limit ?? 50;
    const afterId = query.cursor ? decodeCursor<[string]>(query.cursor, ['uuid'])[0] : null;
    // A cursor is where a page the viewer saw ended: one naming an item they may not see is refused,
    // or paging from it would tell where its hidden value sorts.
    if (afterId && !(await repo.findVisible(this.deps.db, viewer, caseId, afterId))) {
      throw invalidInput('the cursor is not one this list gave you', [
        { field: 'querystring/cursor', message: 'not a cursor of this list' },
      ]);
    }
    const filter = { type: query.type, tlp: query.tlp, q: query.q };
    const [rows, total] = await Promise.all([
      repo.listVisible(this.deps.db, viewer, caseId, filter, afterId, limit + 1),
      repo.countVisible(this.deps.db, viewer, caseId, filter),
    ]);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(presentObservable),
      total,
      nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null,
    };
  }

  async get(ctx: Ctx, caseId: string, id: string): Promise<Observable> {
    return presentObservable(await this.visible(ctx, caseId, id));
  }

  async add(ctx: Ctx, caseId: string, input: NewObservable): Promise<Observable> {
    const normalised = normaliseObservable(input.type, input.value);
    if (!normalised.ok) {
      const field = normalised.message.startsWith('unknown type') ? 'body/type' : 'body/value';
      throw invalidInput(normalised.message, [{ field, message: normalised.message }]);
    }
    const seen = seenWindow(input.firstSeen, input.lastSeen);
    const { type, category, value, toIds } = normalised.observable;
    return inTransaction(this.deps.db, async (trx) => {
      const { row: theCase, access } = await this.deps.cases.lockForWork(trx, ctx, caseId);
      access.requireContributor('add observables');
      const tlp = input.tlp ?? (theCase.tlp as Tlp);
      const now = this.deps.clock.now();
      const created = await repo.insertObservable(trx, {
        id: crypto.randomUUID(),
        case_id: caseId,
        type,
        category,
        value,
        tlp,
        to_ids: input.toIds ?? toIds,
        comment: input.comment ?? '',
        first_seen: seen.firstSeen,
        last_seen: seen.lastSeen,
        sightings: 0,
        origin_party: ctx.actor.party ?? theCase.owner_party,
        created_by_id: ctx.actor.id,
        created_by: ctx.actor.name,
        created_at: now,
        updated_at: now,
        version: 1,
      });
      if (!created) {
        // Its id only if the caller may see it (the value itself they just sent).
        const existing = await repo.findInCase(trx, caseId, type, value);
        const seen =
          existing && (await repo.findVisible(trx, this.deps.cases.viewer(ctx), caseId, existing.id));
        throw conflict(`the case already has the ${type} ${value}`, { id: seen ? existing.id : null });
      }
      await this.deps.cases.touch(trx, caseId);
      await this.deps.cases.record(trx, ctx, caseId, tlp, 'observable.create', {
        observableId: created.id,
        type,
        tlp,
      });
      return presentObservable(created);
    });
  }

  async update(ctx: Ctx, caseId: string, id: string, patch: ObservablePatch, ifMatch: number | undefined) {
    return inTransaction(this.deps.db, async (trx) => {
      const { access } = await this.deps.cases.lockForWork(trx, ctx, caseId);
      const current = await repo.lockVisible(trx, this.deps.cases.viewer(ctx), caseId, id);
      if (!current) throw notFound(`observable ${id}`);
      access.requireContributor('change its observables');
      checkVersion('observable', current.version, ifMatch);
      if (patch.tlp !== undefined) {
        access.requireMayRelabel(current.tlp as Tlp, patch.tlp, current.origin_party, 'this observable');
      }
      const seen = seenWindow(
        patch.firstSeen === undefined ? current.first_seen?.toISOString() : (patch.firstSeen ?? undefined),
        patch.lastSeen === undefined ? current.last_seen?.toISOString() : (patch.lastSeen ?? undefined),
      );
      const updated = await repo.updateObservable(trx, id, {
        ...(patch.tlp !== undefined ? { tlp: patch.tlp } : {}),
        ...(patch.toIds !== undefined ? { to_ids: patch.toIds } : {}),
        ...(patch.comment !== undefined ? { comment: patch.comment } : {}),
        first_seen: seen.firstSeen,
        last_seen: seen.lastSeen,
        updated_at: this.deps.clock.now(),
      });
      await this.deps.cases.record(trx, ctx, caseId, updated.tlp, 'observable.update', {
        observableId: id,
        fields: Object.keys(patch).sort(),
        ...(patch.tlp !== undefined ? { tlp: { from: current.tlp, to: patch.tlp } } : {}),
      });
      if (patch.tlp !== undefined) await this.deps.cases.relabelEvents(trx, caseId, id, patch.tlp);
      return presentObservable(updated);
    });
  }

  /** Someone saw it again: counts the sighting and moves last (or first) seen. */
  async sighting(
    ctx: Ctx,
    caseId: string,
    id: string,
    input: { at?: string | undefined; source?: string | undefined },
  ) {
    const at = input.at ? new Date(input.at) : this.deps.clock.now();
    return inTransaction(this.deps.db, async (trx) => {
      const { access } = await this.deps.cases.lockForWork(trx, ctx, caseId);
      const current = await repo.lockVisible(trx, this.deps.cases.viewer(ctx), caseId, id);
      if (!current) throw notFound(`observable ${id}`);
      access.requireContributor('report sightings');
      const updated = await repo.updateObservable(trx, id, {
        sightings: current.sightings + 1,
        first_seen: current.first_seen && current.first_seen < at ? current.first_seen : at,
        last_seen: current.last_seen && current.last_seen > at ? current.last_seen : at,
        updated_at: this.deps.clock.now(),
      });
      await this.deps.cases.record(trx, ctx, caseId, updated.tlp, 'observable.sighting', {
        observableId: id,
        at: at.toISOString(),
        ...(input.source ? { withSource: true } : {}),
      });
      return presentObservable(updated);
    });
  }

  /** The same value elsewhere — only where the viewer may see the other side. */
  async correlations(ctx: Ctx, caseId: string, id: string) {
    const row = await this.visible(ctx, caseId, id);
    const viewer = this.deps.cases.viewer(ctx);
    const rows = await repo.visibleWithValues(
      this.deps.db,
      viewer,
      [row.value],
      row.id,
      CORRELATION_CAP + 1,
      this.deps.pool,
    );
    return correlationList(rows);
  }

  /** Where a value (as typed: defanged, any case) is known, as far as the viewer may see. */
  async lookup(ctx: Ctx, value: string) {
    const candidates = lookupCandidates(value);
    const viewer = this.deps.cases.viewer(ctx);
    const rows = await repo.visibleWithValues(
      this.deps.db,
      viewer,
      candidates,
      null,
      CORRELATION_CAP + 1,
      this.deps.pool,
    );
    return { query: value, candidates, ...correlationList(rows) };
  }

  /** The observables of a case the viewer may pass on, one page at a time (for exports). */
  async *passable(ctx: Ctx, caseId: string) {
    await this.deps.cases.visibleCase(ctx, caseId);
    const viewer = this.deps.cases.viewer(ctx);
    let after: string | null = null;
    for (;;) {
      const rows = await repo.passablePage(this.deps.db, viewer, caseId, after, 1000);
      for (const row of rows) yield presentObservable(row);
      if (rows.length < 1000) return;
      after = rows.at(-1)!.id;
    }
  }

  /**
   * Imports an indicator file into a case, streamed and batched, in one transaction: a file with a
   * bad line writes nothing (naming every bad line) unless `partial`, when the good lines are kept.
   * Values already in the case are counted as duplicates, so importing a file again changes nothing.
   */
  async importFile(ctx: Ctx, caseId: string, source: Readable, options: ImportOptions): Promise<BulkResult> {
    if (options.format === 'lines' && !options.type) {
      throw invalidInput('a plain list needs the type of its values, e.g. type=ip-dst', [
        { field: 'querystring/type', message: 'is required for a plain list' },
      ]);
    }
    if (options.tlp !== undefined && !(TLPS as readonly string[]).includes(options.tlp)) {
      throw invalidInput(`tlp must be one of ${TLPS.join(', ')}`, [
        { field: 'querystring/tlp', message: 'not a TLP label' },
      ]);
    }
    // Who may import is checked before the file is read, and again under the case's lock.
    const visible = await this.deps.cases.visibleCase(ctx, caseId);
    (await CaseAccess.of(this.deps.db, ctx, visible)).requireContributor('import observables');
    // A file already on this machine is read as it is; anything else is received in full first.
    const spooled =
      source instanceof fs.ReadStream ? null : await spoolToFile(source, this.deps.importMaxBytes);
    const input = spooled ? fs.createReadStream(spooled.file) : source;
    try {
      return await this.importInTransaction(ctx, caseId, input, options);
    } finally {
      spooled?.remove();
    }
  }

  private async importInTransaction(
    ctx: Ctx,
    caseId: string,
    source: Readable,
    options: ImportOptions,
  ): Promise<BulkResult> {
    const result = await inTransaction(this.deps.db, async (trx) => {
      const { row: theCase, access } = await this.deps.cases.lockForWork(trx, ctx, caseId);
      access.requireContributor('import observables');
      const fixed = {
        caseId,
        originParty: ctx.actor.party ?? theCase.owner_party,
        createdById: ctx.actor.id,
        createdBy: ctx.actor.name,
        at: this.deps.clock.now(),
      };
      const defaultTlp = options.tlp ?? (theCase.tlp as Tlp);
      // Into a case without observables, nothing can be there already: every writer of a case's
      // observables holds the case's row lock (lockForWork), as this transaction now does, and the
      // file's own repeats are dropped below. Those rows go in without the check for an existing
      // row (a fifth of the statement's cost); any other import skips what is there.
      const skipExisting = await repo.caseHasObservables(trx, caseId);
      const problems: { line: number; message: string }[] = [];
      let rejected = 0;
      let accepted = 0;
      let inFileDuplicates = 0;
      let imported = 0;
      let lines = 0;
      let bytes = 0;
      // What the file has had so far, by type: a value is stored once however often it comes.
      const seen = new Map<string, Set<string>>();
      const tlps = new Map<string, number>();
      let batch = emptyBatch();
      let writing: Promise<void> = Promise.resolve();
      // One batch is written while the next is parsed; the transaction's statements stay in order.
      const flush = async () => {
        if (batch.type.length === 0) return;
        const rows = batch;
        batch = emptyBatch();
        await writing;
        writing = repo.insertBatch(trx, rows, fixed, skipExisting).then((n) => {
          imported += n;
        });
        writing.catch(() => {});
      };
      const refuse = (line: number, message: string) => {
        rejected++;
        if (problems.length < PROBLEMS_LISTED) problems.push({ line, message });
      };
      for await (const records of bulkRecordBatches(source, {
        format: options.format,
        type: options.type,
        maxBytes: this.deps.importMaxBytes,
        onBytes: (n) => {
          bytes = n;
        },
      })) {
        for (const record of records) {
          lines = record.line;
          if ('error' in record) {
            refuse(record.line, record.error);
            continue;
          }
          const normalised = normaliseObservable(record.type, record.value);
          if (!normalised.ok) {
            refuse(record.line, normalised.message);
            continue;
          }
          const comment = record.comment;
          if (
            comment !== undefined &&
            (comment.length > MAX_COMMENT || comment.includes('\u0000') || !comment.isWellFormed())
          ) {
            refuse(record.line, `the comment must be text of at most ${MAX_COMMENT} characters, without NUL`);
            continue;
          }
          const { type, category, value, toIds } = normalised.observable;
          let values = seen.get(type);
          if (!values) {
            values = new Set();
            seen.set(type, values);
          }
          if (values.has(value)) {
            inFileDuplicates++;
            continue;
          }
          values.add(value);
          accepted++;
          const tlp = record.tlp ?? defaultTlp;
          tlps.set(tlp, (tlps.get(tlp) ?? 0) + 1);
          // Once a line is bad and the file is all-or-nothing, nothing more is written.
          if (!options.partial && rejected > 0) continue;
          batch.type.push(type);
          batch.category.push(category);
          batch.value.push(value);
          batch.tlp.push(tlp);
          batch.toIds.push(record.toIds ?? toIds);
          batch.comment.push(record.comment ?? '');
          if (batch.type.length >= BATCH_ROWS) {
            await flush();
            options.onProgress?.({ bytes, lines });
          }
        }
      }
      if (!options.partial && rejected > 0) {
        await writing;
        throw new AppError(
          'invalid_input',
          `${rejected} line(s) cannot be imported (${problems
            .slice(0, 10)
            .map((p) => p.line)
            .join(
              ', ',
            )}${rejected > 10 ? ', …' : ''}); nothing was imported. Fix them, or import with partial=true to keep the good lines`,
          problems.map((p) => ({ field: `body/lines/${p.line}`, line: p.line, message: p.message })),
        );
      }
      await flush();
      await writing;
      options.onProgress?.({ bytes, lines });
      const summary = { imported, duplicates: accepted - imported + inFileDuplicates, rejected, problems };
      if (imported > 0) {
        await this.deps.cases.touch(trx, caseId);
        await this.deps.audit.record(trx, ctx, {
          action: 'observable.import',
          objectType: 'case',
          objectId: caseId,
          summary: { imported, duplicates: summary.duplicates, rejected, format: options.format },
        });
        for (const [tlp, count] of tlps) {
          await this.deps.notifier.publishCaseEvent(trx, {
            type: 'observable.import',
            caseId,
            tlp,
            data: { caseId, by: ctx.actor.name, lines: count },
          });
        }
      }
      return summary;
    });
    return result;
  }

  /** One query: the item's policy includes its case's, so a hidden case hides it too. */
  private async visible(ctx: Ctx, caseId: string, id: string) {
    const row = await repo.findVisible(this.deps.db, this.deps.cases.viewer(ctx), caseId, id);
    if (!row) throw notFound(`observable ${id}`);
    return row;
  }
}

const emptyBatch = (): repo.BulkRows => ({
  type: [],
  category: [],
  value: [],
  tlp: [],
  toIds: [],
  comment: [],
});

function seenWindow(firstSeen: string | undefined, lastSeen: string | undefined) {
  const first = firstSeen ? new Date(firstSeen) : null;
  const last = lastSeen ? new Date(lastSeen) : null;
  if (first && last && last < first) {
    throw invalidInput('lastSeen is before firstSeen', [
      { field: 'body/lastSeen', message: 'is before firstSeen' },
    ]);
  }
  return { firstSeen: first, lastSeen: last };
}

function correlationList(found: Awaited<ReturnType<typeof repo.visibleWithValues>>) {
  const overCorrelating = found.length > CORRELATION_CAP;
  const rows = [...found].sort(
    (a, b) => a.created_at.getTime() - b.created_at.getTime() || a.id.localeCompare(b.id),
  );
  return {
    items: rows.slice(0, CORRELATION_CAP).map(
      (row): Correlation => ({
        observableId: row.id,
        caseId: row.case_id,
        caseTitle: row.case_title,
        ownerParty: row.case_owner,
        type: row.type,
        value: row.value,
        tlp: row.tlp as Tlp,
        toIds: row.to_ids,
        sightings: row.sightings,
        firstSeen: row.first_seen?.toISOString() ?? null,
        lastSeen: row.last_seen?.toISOString() ?? null,
      }),
    ),
    overCorrelating,
    cap: CORRELATION_CAP,
  };
}

export function presentObservable(row: repo.ObservableRow): Observable {
  return {
    id: row.id,
    caseId: row.case_id,
    type: row.type,
    category: row.category,
    value: row.value,
    tlp: row.tlp as Tlp,
    toIds: row.to_ids,
    comment: row.comment,
    firstSeen: row.first_seen?.toISOString() ?? null,
    lastSeen: row.last_seen?.toISOString() ?? null,
    sightings: row.sightings,
    originParty: row.origin_party,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: row.version,
  };
}
