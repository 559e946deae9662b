import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type {
  BulkResult,
  Correlation,
  ExerciseScope,
  ItemPermissions,
  NewObservable,
  Observable,
  ObservableBulk,
  ObservableBulkResult,
  ObservableListQuery,
  ObservablePatch,
  Tlp,
  WarninglistedScope,
} from '@vytis/contracts';
import { TLPS, WARNINGLIST_FILTER_SCAN } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import type { Ctx } from '../../context.ts';
import { AppError, conflict, invalidInput, notFound } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../platform/cursor.ts';
import type { DatabaseKind } from '../../platform/db/database.ts';
import type { Database } from '../../platform/db/schema.ts';
import { afterCommit, inTransaction, readerOf, type Tx } from '../../platform/db/transaction.ts';
import { CaseAccess, isRelaxing } from '../cases/case-access.ts';
import type { CasesService } from '../cases/cases.service.ts';
import { checkVersion, labelledItem } from '../cases/cases.service.ts';
import { warningListsFor, warningNames, warningNamesForAnyType } from '../misp/warninglists.ts';
import type { Notifier } from '../notifications/notifier.ts';
import { GroupCommit, type Settled } from './add-batcher.ts';
import { type BulkFormat, bulkRecordBatches } from './bulk-parse.ts';
import type { ImportLedger } from './import-ledger.ts';
import {
  lookupCandidates,
  type NormalisedObservable,
  type NormaliseResult,
  normaliseObservable,
} from './observable-types.ts';
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
  /** Which engine holds the data: import parts are sized for it. */
  engine: DatabaseKind;
  /** Keeps imports all-or-nothing: rolls back one that fails or is cut short. */
  imports: ImportLedger;
}

/** Like MISP's correlation cap: a value in more places than this (a public resolver) is flagged. */
export const CORRELATION_CAP = 20;
/**
 * How long one write transaction of a bulk import aims to take, and the bounds of its rows (which
 * follow from the time). Each part holds the case's row lock. On the embedded database it also holds
 * the one connection every request waits for, so its parts are short: another user's request waits
 * for at most one of them. On a PostgreSQL server a part blocks only other writers of the same case,
 * so its parts are long, and what each part costs besides its rows (lock, ledger, audit, commit) is
 * paid rarely.
 */
interface PartSizing {
  targetMs: number;
  firstRows: number;
  minRows: number;
  maxRows: number;
}
const EMBEDDED_PARTS: PartSizing = { targetMs: 20, firstRows: 300, minRows: 100, maxRows: 2000 };
const SERVER_PARTS: PartSizing = { targetMs: 250, firstRows: 2000, minRows: 500, maxRows: 20_000 };
/** A part is at most this much larger than the last: one quick part (a lull) must not make a long one. */
const PART_GROWTH = 1.5;
/** Lines normalised between two turns of the event loop while a file is read. */
const LINES_PER_TURN = 500;
/** As long as a comment added one by one may be. */
const MAX_COMMENT = 2000;
/**
 * The most adds one group commit writes (others wait for the next): each holds a lock of its value
 * until the commit, and PostgreSQL's lock table is shared by the whole server.
 */
const ADD_BATCH_MAX = 64;
/**
 * How long a batch of adds waits to fill while a caller's adds to a case come concurrently: fewer,
 * fuller batches (bench/load, a hundred clients on three processes). A lone add, or adds sent one
 * after another, never wait.
 */
const ADD_BATCH_FILL_MS = 5;
/** How many rejected lines an answer lists (all are counted). */
const PROBLEMS_LISTED = 100;

/** How any bulk import is written. */
export interface WriteOptions {
  /** What was imported, named in the audit of each part: csv, ndjson, lines, stix. */
  format: string;
  /** The label of rows that name none (else the case's). */
  tlp?: Tlp | undefined;
  partial: boolean;
  /** Called as the file is read: bytes so far, and lines (or objects) so far. */
  onProgress?: (progress: { bytes: number; lines: number }) => void;
  /** Whether other users' requests are being answered: the import lets them finish first. */
  othersWaiting?: () => boolean;
}

/** An indicator file (CSV, NDJSON, a plain list). */
export interface ImportOptions extends WriteOptions {
  format: BulkFormat;
  type?: string | undefined;
}

/** What an import's other rows are written with (the importer, the time, the import's id). */
export interface CompanionFixed {
  caseId: string;
  originParty: string;
  createdById: string | null;
  createdBy: string;
  at: Date;
  importId: string;
  /** The label of a row that names none. */
  defaultTlp: Tlp;
}

/**
 * Rows of another table that an import writes with its observables (a STIX bundle's intelligence
 * objects): after them, in the same parts under the same lock, and rolled back with them.
 */
export interface ImportCompanion {
  count: number;
  /** Writes rows [from, to); how many it added. */
  write(trx: Tx, from: number, to: number, fixed: CompanionFixed): Promise<number>;
  /** In the last part's transaction: what must not outlive a failed import (replacing versions); how many. */
  finish(trx: Tx, fixed: CompanionFixed): Promise<number>;
}

/**
 * Observables (indicators) of cases: typed as MISP attributes, normalised so the same value always
 * looks the same, labelled with TLP, and correlated across cases and parties only as far as the
 * viewer may see.
 */
/**
 * An import holds its checked rows in memory until written (up to MAX_RECORDS, ~100 MB): one at a
 * time per user, and a few per process, bound what imports can take from the node together.
 */
const IMPORTS_PER_USER = 1;
const IMPORTS_PER_PROCESS = 3;

export class ObservablesService {
  private readonly importsRunning = new Map<string, number>();
  private importsRunningHere = 0;

  constructor(private readonly deps: ObservablesDeps) {}

  /**
   * Refuses, before a byte of it is read, an upload that says it is larger than an import takes
   * (its Content-Length); one that does not say is cut off at the limit as it comes.
   */
  refuseDeclaredOversize(contentLength: string | undefined) {
    const declared = contentLength === undefined ? Number.NaN : Number(contentLength);
    if (declared > this.deps.importMaxBytes) {
      throw new AppError(
        'payload_too_large',
        `the file is larger than the limit of ${this.deps.importMaxBytes} bytes (VYTIS_IMPORT_MAX_BYTES); split it`,
      );
    }
  }

  /** Takes an import slot for the caller, or refuses with what to do; returns its release. */
  private takeImportSlot(ctx: Ctx): () => void {
    const who = ctx.actor.id ?? ctx.actor.name;
    const mine = this.importsRunning.get(who) ?? 0;
    if (mine >= IMPORTS_PER_USER) {
      throw new AppError(
        'rate_limited',
        'you already have an import running; import the next file when it has finished',
      );
    }
    if (this.importsRunningHere >= IMPORTS_PER_PROCESS) {
      throw new AppError(
        'rate_limited',
        `${IMPORTS_PER_PROCESS} imports are running on this node; try again in a minute`,
      );
    }
    this.importsRunning.set(who, mine + 1);
    this.importsRunningHere += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.importsRunningHere -= 1;
      const left = (this.importsRunning.get(who) ?? 1) - 1;
      if (left > 0) this.importsRunning.set(who, left);
      else this.importsRunning.delete(who);
    };
  }

  /**
   * The observables of a case the viewer may see, filtered, sorted and paged with their total. The
   * default order (type, value) pages by `cursor` or `offset`; any other by `offset`. The warning-list
   * filter is decided here (the lists live in the node, not the database), over at most
   * WARNINGLIST_FILTER_SCAN matching rows: a case larger than that is narrowed by the other filters first.
   */
  async list(ctx: Ctx, caseId: string, query: ObservableListQuery) {
    const theCase = await this.deps.cases.visibleCase(ctx, caseId);
    const access = await CaseAccess.of(this.deps.db, ctx, theCase);
    const viewer = this.deps.cases.viewer(ctx);
    const limit = query.limit ?? 50;
    const sort = query.sort ?? 'type';
    const order = query.order ?? 'asc';
    const byCursor = query.cursor !== undefined;
    if (byCursor && (sort !== 'type' || order !== 'asc' || query.offset !== undefined)) {
      throw invalidInput('a cursor pages the default order only: use offset with sort, order or offset', [
        { field: 'querystring/cursor', message: 'leave it out when you give sort, order or offset' },
      ]);
    }
    const afterId = query.cursor ? decodeCursor<[string]>(query.cursor, ['uuid'])[0] : null;
    // A cursor is where a page the viewer saw ended: one naming an item they may not see is refused,
    // or paging from it would tell where its hidden value sorts.
    if (afterId && !(await repo.findVisible(this.deps.db, viewer, caseId, afterId))) {
      throw invalidInput('the cursor is not one this list gave you', [
        { field: 'querystring/cursor', message: 'not a cursor of this list' },
      ]);
    }
    const filter: repo.ObservableFilter = { type: query.type, tlp: query.tlp, q: query.q, tag: query.tag };
    if (query.warninglisted) {
      const rows = await repo.valuesVisible(
        this.deps.db,
        viewer,
        caseId,
        filter,
        WARNINGLIST_FILTER_SCAN + 1,
      );
      if (rows.length > WARNINGLIST_FILTER_SCAN) {
        throw invalidInput(
          `the warning-list filter looks through at most ${WARNINGLIST_FILTER_SCAN} observables and more match: narrow the list by type, label, tag or value first`,
          [
            {
              field: 'querystring/warninglisted',
              message: `more than ${WARNINGLIST_FILTER_SCAN} observables match`,
            },
          ],
        );
      }
      const wanted = query.warninglisted === 'only';
      filter.ids = rows.filter((r) => warningNames(r.type, r.value).length > 0 === wanted).map((r) => r.id);
    }
    const [rows, total] = await Promise.all([
      byCursor || query.offset === undefined
        ? repo.listVisible(this.deps.db, viewer, caseId, filter, afterId, limit + 1)
        : repo.pageVisible(this.deps.db, viewer, caseId, filter, { sort, order }, query.offset, limit + 1),
      repo.countVisible(this.deps.db, viewer, caseId, filter),
    ]);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const cursorPaged = sort === 'type' && order === 'asc' && query.offset === undefined;
    return {
      items: page.map((row) =>
        presentObservable(row, theCase.exercise, access.itemPermissions(labelledItem(row))),
      ),
      total,
      nextCursor: cursorPaged && rows.length > limit && last ? encodeCursor([last.id]) : null,
    };
  }

  async get(ctx: Ctx, caseId: string, id: string): Promise<Observable> {
    const theCase = await this.deps.cases.visibleCase(ctx, caseId);
    const row = await this.visible(ctx, caseId, id);
    const access = await CaseAccess.of(this.deps.db, ctx, theCase);
    return presentObservable(row, row.case_exercise, access.itemPermissions(labelledItem(row)));
  }

  async add(ctx: Ctx, caseId: string, input: NewObservable): Promise<Observable> {
    const normalised = normaliseObservable(input.type, input.value);
    if (!normalised.ok) {
      const field = normalised.message.startsWith('unknown type') ? 'body/type' : 'body/value';
      throw invalidInput(normalised.message, [{ field, message: normalised.message }]);
    }
    const seen = seenWindow(input.firstSeen, input.lastSeen);
    const pending: PendingAdd = { caseId, ctx, input, observable: normalised.observable, seen };
    // Part of a larger change (joinTransaction): written there, with it, on its own.
    if (readerOf(this.deps.db) !== this.deps.db) return this.addOne(caseId, pending);
    // One caller's adds to one case go together, never with someone else's: no one waits behind
    // another's adds, nor learns from the wait that a case they cannot see exists and is busy.
    const { type, id, name, party, roles } = ctx.actor;
    return this.adds.submit(JSON.stringify([caseId, type, id, name, party, roles]), pending);
  }

  /**
   * Adds made by one caller to one case at the same time are written together, in one transaction
   * (group commit): each keeps its own answer, audit event and live event, as if it had been alone.
   */
  private readonly adds = new GroupCommit<PendingAdd, Observable>({
    writeBatch: (_group, items, committed) => this.addBatch(items[0]!.caseId, items, committed),
    writeOne: (_group, item) => this.addOne(item.caseId, item),
    // A value added twice at once goes in one batch, then the other (which finds it, if it may).
    keyOf: (item) => `${item.observable.type}\u0000${item.observable.value}`,
    maxBatch: ADD_BATCH_MAX,
    fillMs: ADD_BATCH_FILL_MS,
  });

  /** Resolves once the work that follows the adds' commits is done (a node stopping waits for it). */
  async settled(): Promise<void> {
    await this.adds.settled();
    await Promise.all([this.deps.audit.sealedSoon(), this.deps.notifier.numberedSoon()]);
  }

  /** How the adds were batched in this process (for tests and benches). */
  get addBatching(): Readonly<GroupCommit<PendingAdd, Observable>['stats']> {
    return this.adds.stats;
  }

  /** One add in a transaction of its own. */
  private async addOne(caseId: string, pending: PendingAdd): Promise<Observable> {
    const { ctx, input } = pending;
    const { type, value } = pending.observable;
    return inTransaction(this.deps.db, async (trx) => {
      const { row: theCase, access } = await this.deps.cases.lockForWork(trx, ctx, caseId, 'items');
      access.requireContributor('add observables');
      // Only a duplicate the caller can see is one: a value hidden from them by its label is stored
      // again as their own copy, revealing nothing. Adders of one value take turns (imports hold
      // the whole case), so two cannot both find none.
      await repo.lockValue(trx, caseId, type, value);
      const duplicate = await repo.visibleDuplicate(trx, this.deps.cases.viewer(ctx), caseId, type, value);
      if (duplicate) throw alreadyHas(type, value, duplicate.id);
      const tlp = input.tlp ?? (theCase.tlp as Tlp);
      const now = this.deps.clock.now();
      const created = await repo.insertObservable(trx, newObservableRow(pending, caseId, theCase, tlp, now));
      // The caller's own rows are always visible to them, so this is only a race lost to themselves.
      if (!created) throw alreadyHas(type, value, null);
      await this.deps.cases.touch(trx, caseId, tlp);
      await this.deps.cases.record(trx, ctx, caseId, tlp, 'observable.create', {
        observableId: created.id,
        type,
        tlp,
      });
      return presentObservable(created, theCase.exercise, access.itemPermissions(labelledItem(created)));
    });
  }

  /**
   * A batch of adds to one case in one transaction, with a statement for all where `addOne` has
   * one for each: the case's lock and the access of each actor, the value locks, the visible
   * duplicates of each actor, the rows, their audit events and their live events. An actor the case
   * is hidden from, or who may not add to it, fails with their own items only. Throws (and so each
   * item is then added on its own) when the transaction fails before its commit.
   */
  private async addBatch(
    caseId: string,
    items: readonly PendingAdd[],
    committed: (outcomes: Settled<Observable>[]) => void,
  ): Promise<Settled<Observable>[]> {
    // One error for the batch: an error captures a stack, which is not free, and each item's outcome
    // is set below unless something went wrong.
    const notWritten = new Error('not written');
    const outcomes: Settled<Observable>[] = items.map(() => ({ ok: false, error: notWritten }));
    let committing = false;
    try {
      await inTransaction(this.deps.db, async (trx) => {
        await this.writeAddBatch(trx, caseId, items, outcomes, () => committed(outcomes));
        committing = true;
      });
    } catch (error) {
      if (!committing) throw error;
      // The commit itself failed: whether it took is unknown, so nothing is written again; each
      // add fails as it would have alone.
      return items.map(() => ({ ok: false, error }));
    }
    return outcomes;
  }

  private async writeAddBatch(
    trx: Tx,
    caseId: string,
    items: readonly PendingAdd[],
    outcomes: Settled<Observable>[],
    answer: () => void,
  ): Promise<void> {
    const byActor = new Map<string, number[]>();
    items.forEach((item, i) => {
      const { type, id, name, party, roles } = item.ctx.actor;
      const key = JSON.stringify([type, id, name, party, roles]);
      const indexes = byActor.get(key);
      if (indexes) indexes.push(i);
      else byActor.set(key, [i]);
    });
    const actors: {
      ctx: Ctx;
      indexes: number[];
      theCase: LockedCase['row'];
      access: LockedCase['access'];
    }[] = [];
    for (const indexes of byActor.values()) {
      const ctx = items[indexes[0]!]!.ctx;
      try {
        const { row, access } = await this.deps.cases.lockForWork(trx, ctx, caseId, 'items');
        access.requireContributor('add observables');
        actors.push({ ctx, indexes, theCase: row, access });
      } catch (error) {
        // A refusal is that actor's answer (a 404 or a 403, audited as ever by the error handler);
        // the others' adds go on. Anything else fails the batch.
        if (!(error instanceof AppError)) throw error;
        for (const i of indexes) outcomes[i] = { ok: false, error };
      }
    }
    if (actors.length === 0) return;
    // Each value once in a batch (GroupCommit's keyOf), its lock taken with all the others'.
    await repo.lockValues(
      trx,
      caseId,
      actors.flatMap((actor) => actor.indexes.map((i) => items[i]!.observable)),
    );
    const now = this.deps.clock.now();
    const rows: repo.AddedRow[] = [];
    const rowOwners: { i: number; actor: (typeof actors)[number] }[] = [];
    for (const actor of actors) {
      const duplicates = await repo.visibleDuplicates(
        trx,
        this.deps.cases.viewer(actor.ctx),
        caseId,
        actor.indexes.map((i) => items[i]!.observable),
      );
      const duplicateOf = new Map(duplicates.map((d) => [`${d.type}\u0000${d.value}`, d.id]));
      for (const i of actor.indexes) {
        const item = items[i]!;
        const { type, value } = item.observable;
        const duplicate = duplicateOf.get(`${type}\u0000${value}`);
        if (duplicate !== undefined) {
          outcomes[i] = { ok: false, error: alreadyHas(type, value, duplicate) };
          continue;
        }
        const tlp = item.input.tlp ?? (actor.theCase.tlp as Tlp);
        rows.push(newObservableRow(item, caseId, actor.theCase, tlp, now));
        rowOwners.push({ i, actor });
      }
    }
    if (rows.length === 0) return;
    // Each row's audit event and live event are written with it, in the same statement, if it is
    // stored: its own ctx (its request id; the actor is the same for the group), and the item's own
    // audience (the adder and the party it came from).
    const audits = rows.map((row, k) => ({
      ctx: items[rowOwners[k]!.i]!.ctx,
      key: row.id,
      entry: {
        action: 'observable.create',
        objectType: 'case',
        objectId: caseId,
        summary: { observableId: row.id, type: row.type, tlp: row.tlp },
      },
    }));
    const events = rows.map((row, k) => ({
      key: row.id,
      type: 'observable.create',
      caseId,
      tlp: row.tlp,
      item: { createdById: row.created_by_id, originParty: row.origin_party },
      data: { caseId, by: items[rowOwners[k]!.i]!.ctx.actor.name, itemId: row.id },
    }));
    const inserted = await repo.insertObservables(trx, rows, (stored) => [
      this.deps.audit.recordEachWithin(audits, stored),
      this.deps.notifier.publishCaseEventsWithin(events, stored),
    ]);
    let widest: Tlp | null = null;
    for (const [k, row] of rows.entries()) {
      const { i, actor } = rowOwners[k]!;
      if (!inserted.has(row.id)) {
        // The caller's own rows are always visible to them: only a race lost to themselves.
        outcomes[i] = { ok: false, error: alreadyHas(row.type, row.value, null) };
        continue;
      }
      const stored = repo.asStored(row);
      const tlp = stored.tlp as Tlp;
      if (widest === null || TLP_ORDER.indexOf(tlp) < TLP_ORDER.indexOf(widest)) widest = tlp;
      outcomes[i] = {
        ok: true,
        value: presentObservable(
          stored,
          actor.theCase.exercise,
          actor.access.itemPermissions(labelledItem(stored)),
        ),
      };
    }
    if (widest === null) return;
    // As the adds one by one would: the case's time moves when any of them may (the touch of the
    // widest label; touches are at most one a second anyway).
    await this.deps.cases.touch(trx, caseId, widest);
    this.deps.audit.sealSoonAfterCommit(trx);
    this.deps.notifier.numberSoonAfterCommit(trx);
    // After the commit, once the case's time has moved and the events' placing and numbering are
    // asked for: the adds are answered, and the next batch may start, while their audit events are
    // placed in the chain and their live events numbered (both committed with the rows: a crash
    // loses neither; a reader of the log places them first, of the events on this process waits).
    afterCommit(trx, 'observables.adds.answer', async () => answer());
  }

  async update(ctx: Ctx, caseId: string, id: string, patch: ObservablePatch, ifMatch: number | undefined) {
    return inTransaction(this.deps.db, async (trx) => {
      const { row: theCase, access } = await this.deps.cases.lockForWork(trx, ctx, caseId, 'items');
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
        ...(patch.tags !== undefined ? { tags: [...patch.tags].sort() } : {}),
        first_seen: seen.firstSeen,
        last_seen: seen.lastSeen,
        updated_at: this.deps.clock.now(),
      });
      await this.deps.cases.record(trx, ctx, caseId, updated.tlp, 'observable.update', {
        observableId: id,
        fields: Object.keys(patch)
          .filter((field) => field !== 'reason')
          .sort(),
        ...(patch.tlp !== undefined ? { tlp: { from: current.tlp, to: patch.tlp } } : {}),
        ...(patch.reason ? { reason: patch.reason } : {}),
      });
      if (patch.tlp !== undefined) await this.deps.cases.relabelEvents(trx, caseId, [id], patch.tlp);
      if (patch.tlp !== undefined && patch.tlp !== current.tlp) {
        await this.deps.cases.recordInTimeline(
          trx,
          ctx,
          caseId,
          patch.tlp,
          `An observable (${current.type}) relabelled from TLP:${current.tlp.toUpperCase()} to TLP:${patch.tlp.toUpperCase()} by ${ctx.actor.name}`,
          patch.reason,
        );
      }
      return presentObservable(updated, theCase.exercise, access.itemPermissions(labelledItem(updated)));
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
      const { row: theCase, access } = await this.deps.cases.lockForWork(trx, ctx, caseId, 'items');
      const current = await repo.lockVisible(trx, this.deps.cases.viewer(ctx), caseId, id);
      if (!current) throw notFound(`observable ${id}`);
      access.requireContributor('report sightings');
      // A copy from another party's node is read-only: the sighting is the caller's own object, a
      // copy of the value that is theirs (design §5), which their node sends back to the origin.
      const target =
        current.mirrored_from === null ? current : await this.ownCopyForSighting(trx, ctx, current);
      const updated = await repo.updateObservable(trx, target.id, {
        sightings: target.sightings + 1,
        first_seen: target.first_seen && target.first_seen < at ? target.first_seen : at,
        last_seen: target.last_seen && target.last_seen > at ? target.last_seen : at,
        updated_at: this.deps.clock.now(),
      });
      await this.deps.cases.record(trx, ctx, caseId, updated.tlp, 'observable.sighting', {
        observableId: updated.id,
        ...(updated.id !== id ? { sightingOf: id } : {}),
        at: at.toISOString(),
        ...(input.source ? { withSource: true } : {}),
      });
      return presentObservable(updated, theCase.exercise, access.itemPermissions(labelledItem(updated)));
    });
  }

  /** The caller's own observable of a copied value (created with no sightings when they have none). */
  private async ownCopyForSighting(trx: Tx, ctx: Ctx, copy: repo.ObservableRow) {
    const now = this.deps.clock.now();
    return repo.ownCopyOf(trx, {
      id: crypto.randomUUID(),
      case_id: copy.case_id,
      type: copy.type,
      category: copy.category,
      value: copy.value,
      tlp: copy.tlp,
      to_ids: copy.to_ids,
      comment: '',
      first_seen: null,
      last_seen: null,
      sightings: 0,
      origin_party: ctx.actor.party ?? copy.origin_party,
      created_by_id: ctx.actor.id,
      created_by: ctx.actor.name,
      created_at: now,
      updated_at: now,
      version: 1,
      import_id: null,
    });
  }

  /**
   * One act on many observables of a case, in one transaction: relabel, delete, tag or untag. Acts
   * on the items the caller may change (`itemPermissions`, the rule of the single writes) and
   * answers for each id: done, not-found (no item they may see: a hidden one looks absent) or
   * refused (seen, but not theirs to change, with why). Audited as one event naming every id.
   */
  async bulk(ctx: Ctx, caseId: string, input: ObservableBulk): Promise<ObservableBulkResult> {
    const problems = bulkProblems(input);
    if (problems.length > 0)
      throw invalidInput(problems.map((p) => `${p.field} ${p.message}`).join('; '), problems);
    return inTransaction(this.deps.db, async (trx) => {
      const { access } = await this.deps.cases.lockForWork(trx, ctx, caseId, 'items');
      access.requireContributor('change its observables');
      const viewer = this.deps.cases.viewer(ctx);
      const rows = await repo.lockVisibleMany(trx, viewer, caseId, input.ids);
      const byId = new Map(rows.map((row) => [row.id, row]));
      const results: ObservableBulkResult['results'] = [];
      const done: repo.ObservableRow[] = [];
      for (const id of input.ids) {
        const row = byId.get(id);
        if (!row) {
          results.push({ id, outcome: 'not-found' });
          continue;
        }
        const refusal = bulkRefusal(input, row, access.itemPermissions(labelledItem(row)));
        if (refusal) results.push({ id, outcome: 'refused', message: refusal });
        else {
          results.push({ id, outcome: 'done' });
          done.push(row);
        }
      }
      const ids = done.map((row) => row.id);
      const now = this.deps.clock.now();
      if (input.action === 'relabel') {
        await repo.updateMany(trx, caseId, ids, { tlp: input.tlp!, updated_at: now });
        await this.deps.cases.relabelEvents(trx, caseId, ids, input.tlp!);
      } else if (input.action === 'delete') {
        await repo.deleteMany(trx, caseId, ids);
      } else {
        const change = new Set(input.tags);
        const tags = new Map(
          done.map((row) => [
            row.id,
            input.action === 'tag'
              ? [...new Set([...row.tags, ...change])].sort()
              : row.tags.filter((tag) => !change.has(tag)),
          ]),
        );
        const tooMany = [...tags.values()].some((rowTags) => rowTags.length > MAX_TAGS);
        if (tooMany) {
          throw invalidInput(`an observable has at most ${MAX_TAGS} tags: remove some first`, [
            { field: 'body/tags', message: `would make more than ${MAX_TAGS} tags on an observable` },
          ]);
        }
        await repo.setTags(trx, caseId, tags, now);
      }
      await this.deps.audit.record(trx, ctx, {
        action: `observable.bulk.${input.action}`,
        objectType: 'case',
        objectId: caseId,
        summary: {
          ids,
          refused: results.filter((r) => r.outcome === 'refused').map((r) => r.id),
          notFound: results.filter((r) => r.outcome === 'not-found').length,
          ...(input.tlp ? { tlp: input.tlp } : {}),
          ...(input.tags ? { tags: input.tags } : {}),
          ...(input.reason ? { reason: input.reason } : {}),
        },
      });
      if (ids.length > 0 && (input.action === 'relabel' || input.action === 'delete')) {
        const what =
          input.action === 'relabel'
            ? `${ids.length} observable${ids.length === 1 ? '' : 's'} relabelled TLP:${input.tlp!.toUpperCase()} by ${ctx.actor.name}`
            : `${ids.length} observable${ids.length === 1 ? '' : 's'} removed by ${ctx.actor.name}`;
        // Removed items were visible to their remover only as far as their labels allow: the
        // timeline tells every reader only of those they could all read.
        const strictest = done.reduce<Tlp>(
          (acc, row) => (TLP_ORDER.indexOf(row.tlp as Tlp) > TLP_ORDER.indexOf(acc) ? (row.tlp as Tlp) : acc),
          input.action === 'relabel' ? input.tlp! : 'clear',
        );
        await this.deps.cases.recordInTimeline(trx, ctx, caseId, strictest, what, input.reason);
        await this.deps.cases.touch(trx, caseId, strictest);
      }
      if (ids.length > 0) {
        // Live views of the case refresh; the event names no item (its readers may differ).
        await this.deps.notifier.publishCaseEvent(trx, {
          type: `observable.bulk.${input.action}`,
          caseId,
          tlp: null,
          data: { caseId, by: ctx.actor.name },
        });
      }
      return { action: input.action, done: ids.length, results };
    });
  }

  /**
   * The same value elsewhere — only where the viewer may see the other side, and apart from
   * exercises: a real case's value meets exercises only when they are asked for (`exercise`), an
   * exercise's value meets exercises only. A value on a warning list (a public resolver, a private
   * address) correlates only when asked for (`warninglisted` include), as in MISP: it would link
   * cases that have nothing in common.
   */
  async correlations(
    ctx: Ctx,
    caseId: string,
    id: string,
    exercise: ExerciseScope | undefined,
    warninglisted: WarninglistedScope = 'exclude',
  ) {
    const row = await this.visible(ctx, caseId, id);
    if (row.case_exercise && exercise !== undefined && exercise !== 'only') {
      throw invalidInput('an exercise case correlates with exercises only', [
        { field: 'querystring/exercise', message: 'must be only (or left out) for an exercise case' },
      ]);
    }
    const scope = row.case_exercise ? 'only' : (exercise ?? 'exclude');
    const warnings = warningNames(row.type, row.value);
    if (warnings.length > 0 && warninglisted === 'exclude') {
      return { ...correlationList([], scope), warnings, warninglisted: true };
    }
    const viewer = this.deps.cases.viewer(ctx);
    const rows = await repo.visibleWithValues(
      this.deps.db,
      viewer,
      [row.value],
      row.id,
      scope,
      CORRELATION_CAP + 1,
    );
    return { ...correlationList(rows, scope), warnings, warninglisted: false };
  }

  /**
   * Where a value (as typed: defanged, any case) is known, as far as the viewer may see: in real
   * cases, unless exercises are asked for. A value on a warning list is found all the same (the
   * user asked about it), and flagged: the answer's `warnings` and each place's.
   */
  async lookup(ctx: Ctx, value: string, exercise: ExerciseScope = 'exclude') {
    const candidates = lookupCandidates(value);
    const viewer = this.deps.cases.viewer(ctx);
    const rows = await repo.visibleWithValues(
      this.deps.db,
      viewer,
      candidates,
      null,
      exercise,
      CORRELATION_CAP + 1,
    );
    return {
      query: value,
      candidates,
      ...correlationList(rows, exercise),
      warnings: warningNamesForAnyType(candidates),
    };
  }

  /**
   * The observables of a case the viewer may pass on, read a page at a time (for exports), and
   * whether the case is an exercise. An exercise is passed on only when asked for (`exercise`
   * include or only), a real case unless only exercises are asked for: exercise data never leaves
   * in what was taken for a real export.
   */
  async passable(
    ctx: Ctx,
    caseId: string,
    exercise: ExerciseScope = 'exclude',
    mine = false,
    ids?: readonly string[],
  ) {
    const theCase = await this.deps.cases.visibleCase(ctx, caseId);
    if (mine && !ctx.actor.party) {
      throw invalidInput('mine=true exports what your party contributed, and you belong to no party', [
        { field: 'querystring/mine', message: 'you belong to no party' },
      ]);
    }
    if (theCase.exercise && exercise === 'exclude') {
      throw invalidInput(`case ${caseId} is an exercise: export it with exercise=include`, [
        { field: 'querystring/exercise', message: 'the case is an exercise; ask for it with include' },
      ]);
    }
    if (!theCase.exercise && exercise === 'only') {
      throw invalidInput(`case ${caseId} is not an exercise`, [
        { field: 'querystring/exercise', message: 'the case is real; leave out exercise=only' },
      ]);
    }
    const viewer = this.deps.cases.viewer(ctx);
    const db = this.deps.db;
    async function* rows() {
      let after: string | null = null;
      for (;;) {
        const page = await repo.passablePage(db, viewer, caseId, after, 1000, mine, ids);
        for (const row of page) yield presentObservable(row, theCase.exercise);
        if (page.length < 1000) return;
        after = page.at(-1)!.id;
      }
    }
    return { exercise: theCase.exercise, rows: rows() };
  }

  /**
   * Imports an indicator file into a case. The file is received, parsed and normalised first, with
   * no transaction open; then written in parts, each in its own short transaction (PartSizing),
   * so other users' requests get the database between them. A file with a bad line
   * writes nothing (naming every bad line) unless `partial`, when the good lines are kept. Values
   * already in the case are counted as duplicates, so importing a file again changes nothing. The
   * import is all-or-nothing all the same: its rows carry its id, and one that fails after a part
   * committed (or is cut short by a crash) has them deleted again (`ImportLedger`). Each committed
   * part is audited as `observable.import` with its `importId` and `part`, and the last one carries
   * the import's `total`.
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
    return this.importWith(ctx, caseId, source, options, (input, intoExercise) =>
      this.readImportFile(input, options, intoExercise),
    );
  }

  /**
   * The frame of every bulk import (a file of lines, a STIX bundle): who may import is checked
   * before anything is read, the body is received in full (spooled to a file, bounded), then
   * `read` parses and checks it with no transaction open, and what it prepared is written in parts
   * (`writeImport`). Without `partial`, anything refused writes nothing and is named.
   */
  async importWith(
    ctx: Ctx,
    caseId: string,
    source: Readable,
    options: WriteOptions,
    read: (input: Readable, intoExercise: boolean) => Promise<ImportFile>,
  ): Promise<BulkResult> {
    const visible = await this.deps.cases.visibleCase(ctx, caseId);
    (await CaseAccess.of(this.deps.db, ctx, visible)).requireContributor('import observables');
    const release = this.takeImportSlot(ctx);
    let spooled: Awaited<ReturnType<typeof spoolToFile>> | null = null;
    let cleanup: (() => void) | undefined;
    try {
      // A file already on this machine is read as it is; anything else is received in full first.
      spooled = source instanceof fs.ReadStream ? null : await spoolToFile(source, this.deps.importMaxBytes);
      const input = spooled ? fs.createReadStream(spooled.file) : source;
      const file = await read(input, visible.exercise);
      cleanup = file.cleanup;
      if (!options.partial && file.rejected > 0) {
        const { rejected, problems, unit } = file;
        const where = problems
          .slice(0, 10)
          .map((p) => (unit === 'object' ? (p.id ?? `#${p.line}`) : p.line))
          .join(', ');
        throw new AppError(
          'invalid_input',
          `${rejected} ${unit}(s) cannot be imported (${where}${rejected > 10 ? ', …' : ''}); nothing was imported. ` +
            `Fix them, or import with partial=true to keep the good ${unit}s`,
          problems.map((p) => ({
            field: `body/${unit === 'object' ? 'objects' : 'lines'}/${p.line}`,
            line: p.line,
            message: unit === 'object' && p.id ? `${p.id}: ${p.message}` : p.message,
          })),
        );
      }
      return await this.writeImport(ctx, caseId, file, options);
    } finally {
      cleanup?.();
      spooled?.remove();
      release();
    }
  }

  /**
   * Parses, checks and normalises a whole file, deduplicating its own repeats; touches no database.
   * A line exported from an exercise is refused for a real case (`intoExercise` false): exercise
   * data does not become real by being imported again.
   */
  private async readImportFile(
    source: Readable,
    options: ImportOptions,
    intoExercise: boolean,
  ): Promise<ImportFile> {
    const rows = new ImportRowsBuilder(options.partial);
    let lines = 0;
    let bytes = 0;
    let sinceTurn = 0;
    for await (const records of bulkRecordBatches(source, {
      format: options.format,
      type: options.type,
      maxBytes: this.deps.importMaxBytes,
      onBytes: (n) => {
        bytes = n;
      },
    })) {
      for (const record of records) {
        // Normalising is CPU work on the thread that answers everyone: take turns.
        if (++sinceTurn === LINES_PER_TURN) {
          sinceTurn = 0;
          await giveWay(options.othersWaiting);
        }
        lines = record.line;
        if ('error' in record) {
          rows.refuse(record.line, record.error);
          continue;
        }
        if (record.exercise === true && !intoExercise) {
          rows.refuse(
            record.line,
            'comes from an exercise (exercise: true): import it into an exercise case only',
          );
          continue;
        }
        rows.add(record.line, record);
      }
      options.onProgress?.({ bytes, lines });
    }
    return rows.file({ lines, bytes, unit: 'line' });
  }

  /**
   * Writes a checked file in parts, each a short transaction under the case's lock; if a part fails
   * after an earlier one committed, the import's rows are deleted again and the error stands.
   */
  private async writeImport(
    ctx: Ctx,
    caseId: string,
    file: ImportFile,
    options: WriteOptions,
  ): Promise<BulkResult> {
    const importId = crypto.randomUUID();
    let recorded = false;
    try {
      return await this.deps.imports.tracking(importId, () =>
        this.writeImportParts(ctx, caseId, file, options, importId, () => {
          recorded = true;
        }),
      );
    } catch (error) {
      if (recorded) {
        const reason = error instanceof AppError ? error.code : 'error';
        // Should the rollback fail too, the import stays unfinished and the scheduler's sweep
        // completes it: the caller learns of the first error either way.
        await this.deps.imports.fail(ctx, importId, caseId, reason).catch(() => {});
      }
      throw error;
    }
  }

  private async writeImportParts(
    ctx: Ctx,
    caseId: string,
    file: ImportFile,
    options: WriteOptions,
    importId: string,
    onRecorded: () => void,
  ): Promise<BulkResult> {
    const total = file.rows.type.length;
    // The companion's rows come after the observables, numbered on from them.
    const companion = file.companion;
    const everything = total + (companion?.count ?? 0);
    let companionWritten = 0;
    const at = this.deps.clock.now();
    const tlps = new Map<string, number>();
    const onServer = this.deps.engine === 'postgres';
    const sizing = onServer ? SERVER_PARTS : EMBEDDED_PARTS;
    let imported = 0;
    let partRows = sizing.firstRows;
    // Once the case holds observables it keeps needing the check (should they go meanwhile, the
    // check only finds nothing), so it is asked for no more.
    let caseHeldObservables = false;
    for (let part = 1, from = 0; part === 1 || from < everything; part++) {
      const to = Math.min(everything, from + partRows);
      const last = to === everything;
      const partStarted = performance.now();
      imported += await inTransaction(this.deps.db, async (trx) => {
        if (onServer) await repo.planWithoutJit(trx);
        // Each part re-checks access: one who lost it mid-import writes no further part. The case is
        // locked for a change, not shared with other writers of its items: insertBatch relies on it.
        const { row: theCase, access } = await this.deps.cases.lockForWork(trx, ctx, caseId);
        access.requireContributor('import observables');
        // The import's record is written with its first part, and is done with its last: rows of
        // an import never marked done are deleted again (see ImportLedger).
        if (part === 1) {
          await repo.startImport(trx, { id: importId, caseId, startedById: ctx.actor.id, at, done: last });
        } else if (!(await repo.continueImport(trx, importId, last))) {
          throw new AppError(
            'unavailable',
            'the import stalled and was given up; nothing of it was kept. Import the file again',
          );
        }
        const defaultTlp = options.tlp ?? (theCase.tlp as Tlp);
        const batch = emptyBatch();
        for (let i = from; i < Math.min(to, total); i++) {
          const tlp = file.rows.tlp[i] ?? defaultTlp;
          batch.type.push(file.rows.type[i]!);
          batch.category.push(file.rows.category[i]!);
          batch.value.push(file.rows.value[i]!);
          batch.tlp.push(tlp);
          batch.toIds.push(file.rows.toIds[i]!);
          batch.comment.push(file.rows.comment[i]!);
          tlps.set(tlp, (tlps.get(tlp) ?? 0) + 1);
        }
        // Into a case without observables, nothing can be there already (every writer of a case's
        // observables holds its row lock, as this transaction now does, and the file's own repeats
        // are gone): those rows go in without the check for an existing row, a fifth of the cost.
        const skipExisting = caseHeldObservables || (await repo.caseHasObservables(trx, caseId));
        const fixed = {
          caseId,
          originParty: ctx.actor.party ?? theCase.owner_party,
          createdById: ctx.actor.id,
          createdBy: ctx.actor.name,
          at,
          importId,
        };
        const viewer = this.deps.cases.viewer(ctx);
        const written =
          batch.type.length > 0 ? await repo.insertBatch(trx, viewer, batch, fixed, skipExisting) : 0;
        caseHeldObservables = skipExisting || written > 0;
        const importedSoFar = imported + written;
        let companionPart = 0;
        if (companion) {
          const companionFixed: CompanionFixed = { ...fixed, defaultTlp };
          if (to > total) {
            companionPart += await companion.write(
              trx,
              Math.max(0, from - total),
              to - total,
              companionFixed,
            );
          }
          if (last) companionPart += await companion.finish(trx, companionFixed);
          companionWritten += companionPart;
        }
        if (written === 0 && companionPart === 0 && !(last && importedSoFar + companionWritten > 0)) {
          return written;
        }
        // The case's time moves only for what every reader of the case sees (its narrowest row).
        if (batch.tlp.length > 0) {
          const rank = (tlp: string) => TLPS.indexOf(tlp as Tlp);
          const narrowest = batch.tlp.reduce((a, b) => (rank(b) > rank(a) ? b : a));
          await this.deps.cases.touch(trx, caseId, narrowest);
        }
        const totals = last
          ? {
              total: {
                imported: importedSoFar,
                duplicates: total - importedSoFar + file.inFileDuplicates,
                rejected: file.rejected,
                warninglisted: file.warninglisted,
              },
            }
          : {};
        await this.deps.audit.record(trx, ctx, {
          action: 'observable.import',
          objectType: 'case',
          objectId: caseId,
          summary: {
            importId,
            part,
            imported: written,
            format: options.format,
            ...(companion ? { intelligence: companionPart } : {}),
            ...totals,
          },
        });
        // The live event tells of the whole import, once, with the part that completes it.
        if (last) {
          for (const [tlp, count] of tlps) {
            await this.deps.notifier.publishCaseEvent(trx, {
              type: 'observable.import',
              caseId,
              tlp,
              item: { createdById: fixed.createdById, originParty: fixed.originParty },
              data: { caseId, by: ctx.actor.name, lines: count },
            });
          }
        }
        return written;
      });
      if (part === 1) onRecorded();
      from = to;
      // Parts sized by time, not rows: a busy or slow machine writes fewer rows per part, so the
      // connection is never held much longer than the target.
      const took = Math.max(1, performance.now() - partStarted);
      partRows = Math.min(
        sizing.maxRows,
        Math.round(partRows * PART_GROWTH),
        Math.max(sizing.minRows, Math.round((partRows * sizing.targetMs) / took)),
      );
      // Kysely's lock on the embedded database's one connection is not fair: taken again at once,
      // it would go to this loop every time. Waiting requests go first.
      await giveWay(options.othersWaiting);
    }
    options.onProgress?.({ bytes: file.bytes, lines: file.lines });
    return {
      imported,
      duplicates: total - imported + file.inFileDuplicates,
      rejected: file.rejected,
      warninglisted: file.warninglisted,
      problems: file.problems.map(({ line, id, message }) => ({
        line,
        message: id ? `${id}: ${message}` : message,
      })),
    };
  }

  /** One query: the item's policy includes its case's, so a hidden case hides it too. */
  private async visible(ctx: Ctx, caseId: string, id: string) {
    const row = await repo.findVisible(this.deps.db, this.deps.cases.viewer(ctx), caseId, id);
    if (!row) throw notFound(`observable ${id}`);
    return row;
  }
}

/** The longest an import waits for other users' requests at one step, so it always progresses. */
const MAX_GIVE_WAY_MS = 100;

/**
 * A turn of the event loop, then, while others are being answered, short pauses (at most
 * MAX_GIVE_WAY_MS): another user's request takes several turns of the database, each of which
 * would otherwise wait for a whole step of the import.
 */
export async function giveWay(othersWaiting: (() => boolean) | undefined) {
  await new Promise((resolve) => setImmediate(resolve));
  const until = performance.now() + MAX_GIVE_WAY_MS;
  while (othersWaiting?.() && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** A checked file's rows, in columns; `tlp` is null where the line gave none (the case's applies). */
type ImportRows = Omit<repo.BulkRows, 'tlp'> & { tlp: (string | null)[] };

export interface ImportProblem {
  /** The line of a file, or the index of an object in a bundle. */
  line: number;
  /** An object's own id, where it has one. */
  id?: string;
  message: string;
}

/** A checked import, ready to write: no database was touched to make it. */
export interface ImportFile {
  rows: ImportRows;
  rejected: number;
  problems: ImportProblem[];
  inFileDuplicates: number;
  /** Values of the file (each once) on a MISP warning list. */
  warninglisted: number;
  lines: number;
  bytes: number;
  /** What the answer and its errors count: lines of a file, or objects of a bundle. */
  unit: 'line' | 'object';
  companion?: ImportCompanion;
  /** Frees what reading it left behind (temporary files), once the import is over either way. */
  cleanup?: () => void;
}

/** One value of an import as read, before it is normalised. */
export interface ImportRecord {
  type: string;
  value: string;
  comment?: string | undefined;
  tlp?: string | undefined;
  toIds?: boolean | undefined;
}

/**
 * Normalises, checks and deduplicates an import's values as they are read (a value is stored once
 * however often it comes), counting and listing (the first PROBLEMS_LISTED) what it refuses. Once
 * something is refused and the import is all-or-nothing, nothing more is kept.
 */
export class ImportRowsBuilder {
  private readonly rows: ImportRows = { ...emptyBatch(), tlp: [] };
  private readonly problems: ImportProblem[] = [];
  private readonly seen = new Map<string, Set<string>>();
  private rejected = 0;
  private inFileDuplicates = 0;
  private warninglisted = 0;

  constructor(private readonly partial: boolean) {}

  refuse(line: number, message: string, id?: string) {
    this.rejected++;
    if (this.problems.length < PROBLEMS_LISTED) this.problems.push({ line, message, ...(id ? { id } : {}) });
  }

  /**
   * Adds one value (`normalised` when the caller normalised it already); whether it was taken
   * (false: refused, or already had).
   */
  add(
    line: number,
    record: ImportRecord,
    id?: string,
    normalised: NormaliseResult = normaliseObservable(record.type, record.value),
  ): boolean {
    if (!normalised.ok) {
      this.refuse(line, normalised.message, id);
      return false;
    }
    const comment = record.comment;
    if (
      comment !== undefined &&
      (comment.length > MAX_COMMENT || comment.includes('\u0000') || !comment.isWellFormed())
    ) {
      this.refuse(line, `the comment must be text of at most ${MAX_COMMENT} characters, without NUL`, id);
      return false;
    }
    const { type, category, value, toIds } = normalised.observable;
    let values = this.seen.get(type);
    if (!values) {
      values = new Set();
      this.seen.set(type, values);
    }
    if (values.has(value)) {
      this.inFileDuplicates++;
      return false;
    }
    values.add(value);
    if (!this.partial && this.rejected > 0) return false;
    // Kept and flagged, not refused: MISP stores such values too, and they do not correlate.
    if (warningListsFor(type, value).length > 0) this.warninglisted++;
    this.rows.type.push(type);
    this.rows.category.push(category);
    this.rows.value.push(value);
    this.rows.tlp.push(record.tlp ?? null);
    this.rows.toIds.push(record.toIds ?? toIds);
    this.rows.comment.push(comment ?? '');
    return true;
  }

  /** How many were refused so far. */
  get refused() {
    return this.rejected;
  }

  /** Whether nothing more will be written (something was refused and the import is all-or-nothing). */
  get failing() {
    return !this.partial && this.rejected > 0;
  }

  file(read: {
    lines: number;
    bytes: number;
    unit: 'line' | 'object';
    companion?: ImportCompanion;
    cleanup?: () => void;
  }): ImportFile {
    return {
      rows: this.rows,
      rejected: this.rejected,
      problems: this.problems,
      inFileDuplicates: this.inFileDuplicates,
      warninglisted: this.warninglisted,
      ...read,
    };
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

/** A case locked for work, and what the actor may do with it. */
type LockedCase = Awaited<ReturnType<CasesService['lockForWork']>>;

/** An add on its way: checked and normalised, not yet written. */
interface PendingAdd {
  caseId: string;
  ctx: Ctx;
  input: NewObservable;
  observable: NormalisedObservable;
  seen: { firstSeen: Date | null; lastSeen: Date | null };
}

const alreadyHas = (type: string, value: string, id: string | null) =>
  conflict(`the case already has the ${type} ${value}`, { id });

/** The row an add stores. */
function newObservableRow(
  pending: PendingAdd,
  caseId: string,
  theCase: LockedCase['row'],
  tlp: Tlp,
  now: Date,
): repo.AddedRow {
  const { ctx, input, seen } = pending;
  const { type, category, value, toIds } = pending.observable;
  return {
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
  };
}

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

function correlationList(
  found: Awaited<ReturnType<typeof repo.visibleWithValues>>,
  exercises: ExerciseScope,
) {
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
        exercise: row.case_exercise,
        warnings: warningNames(row.type, row.value),
      }),
    ),
    overCorrelating,
    cap: CORRELATION_CAP,
    exercises,
  };
}

/** As a viewer who may change nothing (the export paths, which present without a case's standing). */
const READ_ONLY: ItemPermissions = { edit: false, relabel: false, relax: false, delete: false };

export function presentObservable(
  row: Omit<
    repo.ObservableRow,
    'created_by_id' | 'import_id' | 'mirrored_from' | 'mirror_version' | 'tags'
  > & {
    mirrored_from?: string | null;
    tags?: string[];
  },
  exercise: boolean,
  can: ItemPermissions = READ_ONLY,
): Observable {
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
    ...(row.mirrored_from !== undefined ? { mirroredFrom: row.mirrored_from } : {}),
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: row.version,
    exercise,
    warnings: warningNames(row.type, row.value),
    tags: row.tags ?? [],
    can,
  };
}

const MAX_TAGS = 32;
const TLP_ORDER: readonly Tlp[] = TLPS;

/** What a bulk act lacks (relabel needs tlp, tag and untag need tags), as field problems. */
function bulkProblems(input: ObservableBulk) {
  const problems: { field: string; message: string }[] = [];
  if (input.action === 'relabel' && !input.tlp)
    problems.push({ field: 'body/tlp', message: 'is needed to relabel' });
  if ((input.action === 'tag' || input.action === 'untag') && !input.tags) {
    problems.push({ field: 'body/tags', message: `is needed to ${input.action}` });
  }
  if (input.action !== 'relabel' && input.tlp)
    problems.push({ field: 'body/tlp', message: `is for relabel, not ${input.action}` });
  if (input.action !== 'tag' && input.action !== 'untag' && input.tags) {
    problems.push({ field: 'body/tags', message: `is for tag and untag, not ${input.action}` });
  }
  return problems;
}

/** Why the caller may not do the bulk act to this row (null: they may), by the single writes' rule. */
function bulkRefusal(input: ObservableBulk, row: repo.ObservableRow, can: ItemPermissions): string | null {
  const mirrored = row.mirrored_from ? `it is a read-only copy from ${row.mirrored_from}'s node` : '';
  switch (input.action) {
    case 'delete':
      return can.delete
        ? null
        : mirrored || `only the case's own party or ${row.origin_party}, which added it, may remove it`;
    case 'relabel': {
      const to = input.tlp!;
      if (row.tlp === to) return can.edit ? null : mirrored || 'you may not change it';
      if (isRelaxing(row.tlp as Tlp, to)) {
        return can.relax ? null : mirrored || `only ${row.origin_party}, which labelled it, may relax it`;
      }
      return can.relabel
        ? null
        : mirrored || `only the case's own party or ${row.origin_party}, which added it, may narrow it`;
    }
    default:
      return can.edit ? null : mirrored || 'you may not change it';
  }
}
