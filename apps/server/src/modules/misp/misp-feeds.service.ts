import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import type { MispFeed, MispFeedPatch, MispFeedRun, MispImportResult, NewMispFeed } from '@vytis/contracts';
import type { Kysely } from 'kysely';
import type { AuditService } from '../../audit/audit.service.ts';
import type { Clock } from '../../clock.ts';
import { type Ctx, systemCtx } from '../../context.ts';
import { AppError, conflict, forbidden, invalidInput, notFound } from '../../errors.ts';
import type { Database } from '../../platform/db/schema.ts';
import { inTransaction, type Tx } from '../../platform/db/transaction.ts';
import { checkDestination, type PrivateNetworks, type ResolveHost } from '../../platform/network.ts';
import { CaseAccess } from '../cases/case-access.ts';
import type { CasesService } from '../cases/cases.service.ts';
import type { IdentityService } from '../identity/identity.service.ts';
import type { MispService } from './misp.service.ts';
import { parseMispEvents } from './misp-event.ts';
import { FeedFetchError, type FeedFetchOptions, feedFileUrl, fetchFeedFile } from './misp-feed-fetch.ts';
import {
  eventHashLines,
  feedEventsByUuid,
  fetchedEventProblem,
  type ManifestJson,
  manifestJson,
  readHashesCsv,
  readManifest,
} from './misp-feed-format.ts';
import * as repo from './misp-feeds.repository.ts';

export interface MispFeedsDeps {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
  cases: CasesService;
  misp: MispService;
  identity: IdentityService;
  /** The same rule as webhooks': which private or local networks a feed may be fetched from. */
  allowPrivateNetworks: PrivateNetworks;
  resolve?: ResolveHost | undefined;
  /** Replaces the HTTP client (tests). */
  fetch?: typeof fetch | undefined;
  /** How long fetching one file of a feed may take, host lookup included. */
  timeoutMs?: number | undefined;
  manifestMaxBytes?: number | undefined;
  eventMaxBytes?: number | undefined;
  /** How long one run may go on: past it, the run stops between events and leaves the rest. */
  runDeadlineMs?: number | undefined;
  /** The most events one run fetches; the rest are left for the next run. */
  maxEventsPerRun?: number | undefined;
  /** Told of an error of this node in a pull, which the run records in general words only. */
  onError?: ((error: unknown) => void) | undefined;
}

const TIMEOUT_MS = 60_000;
const MANIFEST_MAX_BYTES = 64 * 1024 * 1024;
const EVENT_MAX_BYTES = 64 * 1024 * 1024;
/** hashes.csv is only read to check fetched events against; larger ones are not used. */
const HASHES_MAX_BYTES = 64 * 1024 * 1024;
const FAILURES_KEPT = 100;
const DEFAULT_INTERVAL_MINUTES = 60;
const RUN_DEADLINE_MS = 10 * 60_000;
const EVENTS_PER_RUN = 5_000;
/**
 * Pulls running at once in this process (the node builds one service). A pull holds an event's
 * file, its check and its import in memory: one at a time bounds that, whatever the feeds.
 */
const PULLS_AT_ONCE = 1;
/** What a run or an event says of an error of this node: never its text (queries, values). */
const NODE_ERROR = 'an error of this node (its log says more)';

type Trigger = MispFeedRun['trigger'];

const presentRun = (text: string | null): MispFeedRun | null => {
  if (!text) return null;
  try {
    // Runs recorded before `left` was counted left nothing.
    const run = JSON.parse(text) as Omit<MispFeedRun, 'left'> & { left?: number };
    return { ...run, left: run.left ?? 0 };
  } catch {
    return null;
  }
};

const isUniqueViolation = (error: unknown) => (error as { code?: unknown } | null)?.code === '23505';

/** An event the feed serves that is not what its manifest (or hashes.csv) announced. */
class EventRefused extends Error {}

/**
 * MISP feeds (issue 12). Published: the node's own feed of what the caller may pass on (manifest,
 * one file per event, hashes.csv), from `MispService.feedIndex` and `exportCase`, which apply the
 * export policy. Consumed: feeds a case's contributors add, pulled on a schedule (or on demand) as
 * the user who added them, re-checked at every pull. A pull reads the manifest (bounded, under the
 * outbound rules), compares it in memory with the timestamps it pulled last (one query), fetches
 * only new or changed events, checks each against what the manifest (and hashes.csv) announced,
 * imports it through `MispService.importEvents` (idempotent by uuid and timestamp), and records
 * the run — timestamps pulled, counts, failures — in one audited transaction.
 */
export class MispFeedsService {
  /** Feeds being pulled by this process: a second pull of one waits for none, it is refused. */
  private readonly pulling = new Set<string>();
  /** Users whose feed file (manifest, event, hashes.csv) is being built: one at a time each. */
  private readonly publishing = new Set<string>();

  constructor(private readonly deps: MispFeedsDeps) {}

  // -------------------------------------------------------------------------------------------
  // Publishing

  /** manifest.json of the caller's feed: one entry per event they may pass on. */
  async manifest(ctx: Ctx): Promise<ManifestJson> {
    return this.publish(ctx, async () => manifestJson(await this.deps.misp.feedIndex(ctx)));
  }

  /** `<uuid>.json` of the caller's feed (404 when they may pass on no event by that uuid). */
  async event(ctx: Ctx, uuid: string): Promise<{ Event: unknown }> {
    return this.publish(ctx, async () => {
      const entry = feedEventsByUuid(await this.deps.misp.feedIndex(ctx)).get(uuid.toLowerCase());
      if (!entry) throw notFound(`MISP event ${uuid}`);
      return this.deps.misp.exportCase(ctx, entry.caseId);
    });
  }

  /**
   * hashes.csv of the caller's feed: `<md5 of a value>,<event uuid>` per attribute value. One index
   * of the feed, then one export per event: linear in the events, each dropped once hashed.
   */
  async hashes(ctx: Ctx): Promise<string> {
    return this.publish(ctx, async () => {
      const events = feedEventsByUuid(await this.deps.misp.feedIndex(ctx));
      const lines: string[] = [];
      for (const uuid of [...events.keys()].sort()) {
        const parsed = parseMispEvents(await this.deps.misp.exportCase(ctx, events.get(uuid)!.caseId));
        if ('events' in parsed) for (const event of parsed.events) lines.push(...eventHashLines(event));
      }
      return lines.length ? `${lines.join('\n')}\n` : '';
    });
  }

  /**
   * Builds one of the caller's feed files, refusing a second while one is being built: a feed
   * file reads every case the caller may pass on, and a client asking for many at once would
   * hold the node's memory and database for all of them.
   */
  private async publish<T>(ctx: Ctx, build: () => Promise<T>): Promise<T> {
    const who = ctx.actor.id ?? ctx.actor.name;
    if (this.publishing.has(who)) {
      throw new AppError(
        'rate_limited',
        'a file of your feed (manifest.json, hashes.csv or an event) is being built for you already: ask for the next when it has come',
      );
    }
    this.publishing.add(who);
    try {
      return await build();
    } finally {
      this.publishing.delete(who);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Feeds pulled into cases

  async create(ctx: Ctx, input: NewMispFeed): Promise<MispFeed> {
    const ownerId = ctx.actor.id;
    if (!ownerId) {
      throw invalidInput(
        'a feed pulls as the user who adds it: add it as a user (on the command line: --as NAME)',
      );
    }
    if ((input.caseId === undefined) === (input.newCase === undefined)) {
      throw invalidInput('say which case the feed pulls into: caseId, or newCase to open one', [
        { field: 'body/caseId', message: 'give caseId or newCase, not both and not neither' },
      ]);
    }
    // Access first: one who may not import into the case learns nothing of its feeds.
    if (input.caseId !== undefined) {
      const theCase = await this.deps.cases.visibleCase(ctx, input.caseId);
      (await CaseAccess.of(this.deps.db, ctx, theCase)).requireContributor('add feeds to it');
    }
    const url = await this.checkedUrl(input.url);
    const nameTaken = () =>
      conflict(`you have a feed named ${input.name} already: choose another name, or remove that one`);
    if (await repo.feedNameTaken(this.deps.db, ownerId, input.name)) throw nameTaken();
    let caseId = input.caseId;
    if (input.newCase) {
      const opened = await this.deps.cases.create(ctx, {
        title: input.newCase.title,
        tlp: input.newCase.tlp,
        pap: input.newCase.pap ?? 'amber',
        severity: input.newCase.severity ?? 'medium',
        incidentClass: input.newCase.incidentClass ?? 'rsit:other="undetermined"',
        description: `Pulled from the MISP feed ${input.name} (${url}).`,
      });
      caseId = opened.id;
    }
    const id = crypto.randomUUID();
    const now = this.deps.clock.now();
    const intervalMinutes = input.intervalMinutes ?? DEFAULT_INTERVAL_MINUTES;
    try {
      await inTransaction(this.deps.db, async (trx) => {
        const { access } = await this.deps.cases.lockForWork(trx, ctx, caseId!, 'items');
        access.requireContributor('add feeds to it');
        if (await repo.feedNameTaken(trx, ownerId, input.name)) throw nameTaken();
        await repo.insertFeed(trx, {
          id,
          name: input.name,
          url,
          case_id: caseId!,
          owner_id: ownerId,
          header_name: input.header?.name ?? null,
          header_value: input.header?.value ?? null,
          enabled: input.enabled ?? true,
          interval_minutes: intervalMinutes,
          created_at: now,
          // Due at once: the first pull comes with the next round of background work.
          next_pull_at: now,
          version: 1,
        });
        await this.deps.audit.record(trx, ctx, {
          action: 'misp.feed.create',
          objectType: 'misp_feed',
          objectId: id,
          summary: {
            name: input.name,
            url,
            caseId,
            newCase: input.newCase !== undefined,
            header: input.header?.name ?? null,
            intervalMinutes,
          },
        });
      });
    } catch (error) {
      // The case opened for the feed goes with it: no case is left behind for a feed not added.
      if (input.newCase) await this.removeOpenedCase(ctx, caseId!, input.name);
      // Two adds of one name at once: the second is told as the check above tells it.
      throw isUniqueViolation(error) ? nameTaken() : error;
    }
    return this.get(ctx, id);
  }

  /** The feeds of the cases the caller may import into (only they see a feed's URL and owner). */
  async list(ctx: Ctx): Promise<{ items: MispFeed[] }> {
    const rows = await repo.listVisibleFeeds(this.deps.db, this.deps.cases.viewer(ctx));
    return { items: await this.contributorsFeeds(ctx, rows) };
  }

  async get(ctx: Ctx, id: string): Promise<MispFeed> {
    return this.present(await this.visibleFeed(ctx, id));
  }

  /**
   * The feed the command line names: among the caller's own feeds (names are each owner's), or,
   * for the local operator, among all feeds when only one has the name.
   */
  async byName(ctx: Ctx, name: string): Promise<MispFeed> {
    const rows = await repo.feedsNamed(this.deps.db, name, ctx.actor.id ?? undefined);
    if (!ctx.actor.id && rows.length > 1) {
      throw conflict(
        `${rows.length} feeds are named ${name} (added by ${rows.map((r) => r.owner_name).join(', ')}): say whose with --as NAME`,
      );
    }
    const [feed] = await this.contributorsFeeds(ctx, rows);
    if (!feed) throw notFound(`feed ${name}${ctx.actor.id ? ` of ${ctx.actor.name}` : ''}`);
    return feed;
  }

  async update(ctx: Ctx, id: string, patch: MispFeedPatch, ifMatch: number | undefined): Promise<MispFeed> {
    await this.change(ctx, id, ifMatch, 'change its feeds', async (trx, row) => {
      const interval = patch.intervalMinutes ?? row.interval_minutes;
      const soonest = new Date(this.deps.clock.now().getTime() + interval * 60_000);
      await repo.updateFeed(trx, id, {
        ...(patch.enabled === undefined ? {} : { enabled: patch.enabled }),
        interval_minutes: interval,
        // A shorter interval brings the next pull forward; a longer one keeps it where it is.
        next_pull_at: row.next_pull_at < soonest ? row.next_pull_at : soonest,
      });
      return { action: 'misp.feed.update', summary: { name: row.name, ...patch } };
    });
    return this.get(ctx, id);
  }

  async remove(ctx: Ctx, id: string, ifMatch: number | undefined): Promise<void> {
    await this.change(ctx, id, ifMatch, 'remove its feeds', async (trx, row) => {
      await repo.deleteFeed(trx, id);
      return { action: 'misp.feed.delete', summary: { name: row.name, url: row.url, caseId: row.case_id } };
    });
  }

  /**
   * Pulls the feed now, as the user who added it; answers the run's result (also recorded). One
   * pull runs at a time on the node: another is refused (429) rather than queued.
   */
  async pull(ctx: Ctx, id: string): Promise<MispFeedRun> {
    const row = await this.visibleFeed(ctx, id);
    const release = this.takePullSlot(id);
    if (release === 'feed')
      throw conflict(`feed ${row.name} is being pulled now: its result shows in the feed when it ends`);
    if (release === 'node') throw new AppError('rate_limited', 'a pull is running, try again shortly');
    try {
      return await this.run(id, 'manual', ctx);
    } finally {
      release();
    }
  }

  /**
   * Pulls the enabled feeds whose time has come, longest waiting first, one after another
   * (background work). Each is claimed first, so processes sharing the database never pull one
   * feed twice; each run is bounded (runDeadlineMs, maxEventsPerRun), and a feed's failure is
   * recorded as its own and the round goes on. While a manual pull runs, the rest wait for the
   * next round. `signal` stops between events when the node shuts down.
   */
  async pullDue(options: { limit?: number; signal?: AbortSignal } = {}): Promise<number> {
    const now = this.deps.clock.now();
    let pulled = 0;
    for (const due of await repo.dueFeeds(this.deps.db, now, options.limit ?? 10)) {
      if (options.signal?.aborted) break;
      const release = this.takePullSlot(due.id);
      if (release === 'node') break;
      if (release === 'feed') continue;
      try {
        const feed = await repo.findFeed(this.deps.db, due.id);
        if (!feed) continue;
        const until = new Date(now.getTime() + feed.interval_minutes * 60_000);
        if (!(await repo.claimDue(this.deps.db, due.id, due.next_pull_at, until))) continue;
        await this.run(due.id, 'scheduled', systemCtx(), options.signal);
        pulled++;
      } catch (error) {
        // Not even its result could be recorded (the database, …): the others are pulled still.
        this.report(error);
      } finally {
        release();
      }
    }
    return pulled;
  }

  /**
   * A pull slot for the feed, or why there is none: 'feed' when this process is pulling the feed
   * already, 'node' when it is pulling as many feeds as it may (PULLS_AT_ONCE).
   */
  private takePullSlot(id: string): (() => void) | 'feed' | 'node' {
    if (this.pulling.has(id)) return 'feed';
    if (this.pulling.size >= PULLS_AT_ONCE) return 'node';
    this.pulling.add(id);
    return () => this.pulling.delete(id);
  }

  private report(error: unknown) {
    if (this.deps.onError) this.deps.onError(error);
    else process.emitWarning(`MISP feed pull: ${error instanceof Error ? error.message : String(error)}`);
  }

  // -------------------------------------------------------------------------------------------
  // A pull

  /** One run of a feed, its pull slot taken; a failure of the feed is the run's error. */
  private async run(id: string, trigger: Trigger, ctx: Ctx, signal?: AbortSignal): Promise<MispFeedRun> {
    const feed = await repo.findFeed(this.deps.db, id);
    if (!feed) throw notFound(`feed ${id}`);
    const started = this.deps.clock.now();
    const t0 = performance.now();
    const run: MispFeedRun = {
      startedAt: started.toISOString(),
      durationMs: 0,
      trigger,
      listed: 0,
      unchanged: 0,
      fetched: 0,
      imported: 0,
      failed: 0,
      left: 0,
      failures: [],
      attributesAdded: 0,
      observablesAdded: 0,
      rejected: 0,
      error: null,
    };
    const pulled: { uuid: string; timestamp: number }[] = [];
    try {
      await this.pullInto(feed, run, pulled, t0 + (this.deps.runDeadlineMs ?? RUN_DEADLINE_MS), signal);
    } catch (error) {
      if (error instanceof FeedFetchError || error instanceof AppError) run.error = error.message;
      else {
        this.report(error);
        run.error = `the pull failed: ${NODE_ERROR}`;
      }
    }
    run.durationMs = Math.round(performance.now() - t0);
    await this.record(ctx, feed, run, pulled, started);
    return run;
  }

  private async pullInto(
    feed: repo.FeedRow,
    run: MispFeedRun,
    pulled: { uuid: string; timestamp: number }[],
    deadline: number,
    signal: AbortSignal | undefined,
  ) {
    // As the user who added the feed, as they are now: one who left, was disabled or lost the
    // case pulls nothing.
    const actor = await this.deps.identity.actorByName(feed.owner_name);
    if (!actor) throw forbidden(`${feed.owner_name}, who added the feed, is disabled: nothing was pulled`);
    const owner: Ctx = { actor, requestId: null };
    const theCase = await this.deps.cases.visibleCase(owner, feed.case_id).catch(() => null);
    if (!theCase || !(await CaseAccess.of(this.deps.db, owner, theCase)).isContributor)
      throw forbidden(
        `${feed.owner_name}, who added the feed, may no longer import into its case: nothing was pulled`,
      );

    const timeoutMs = this.deps.timeoutMs ?? TIMEOUT_MS;
    const fetchOptions = (maxBytes: number): FeedFetchOptions => ({
      allowed: this.deps.allowPrivateNetworks,
      resolve: this.deps.resolve,
      fetch: this.deps.fetch,
      // No file is waited for much past the run's deadline.
      timeoutMs: Math.min(timeoutMs, Math.max(1000, Math.round(deadline - performance.now()))),
      maxBytes,
      header:
        feed.header_name && feed.header_value ? { name: feed.header_name, value: feed.header_value } : null,
    });
    const manifestText = (
      await fetchFeedFile(
        feedFileUrl(feed.url, 'manifest.json'),
        'manifest.json',
        fetchOptions(this.deps.manifestMaxBytes ?? MANIFEST_MAX_BYTES),
      )
    ).toString('utf8');
    const manifest = readManifest(manifestText);
    if ('error' in manifest) throw invalidInput(manifest.error);
    for (const refused of manifest.refused) this.fail(run, refused.uuid, refused.message);
    run.listed = manifest.events.size + manifest.refused.length;

    // One query, compared in memory: a pull with nothing new costs the manifest and this.
    const known = await repo.pulledTimestamps(this.deps.db, feed.id);
    // What the last run refused comes after the rest: events that fail every time do not take
    // the places of a capped run from those never tried.
    const refusedLast = new Set((presentRun(feed.last_result)?.failures ?? []).map((f) => f.uuid));
    const fresh: [string, number][] = [];
    const retried: [string, number][] = [];
    for (const [uuid, timestamp] of manifest.events) {
      const had = known.get(uuid);
      if (had !== undefined && had >= timestamp) run.unchanged++;
      else (refusedLast.has(uuid) ? retried : fresh).push([uuid, timestamp]);
    }
    known.clear();
    manifest.events.clear();
    const cap = this.deps.maxEventsPerRun ?? EVENTS_PER_RUN;
    const wanted = [...fresh, ...retried];
    run.left = Math.max(0, wanted.length - cap);
    wanted.length = Math.min(wanted.length, cap);
    if (wanted.length === 0) return;

    // hashes.csv, when the feed has one, is what each fetched event's values must match.
    let hashes: Map<string, Set<string>> | null = null;
    try {
      hashes = readHashesCsv(
        (
          await fetchFeedFile(
            feedFileUrl(feed.url, 'hashes.csv'),
            'hashes.csv',
            fetchOptions(HASHES_MAX_BYTES),
          )
        ).toString('utf8'),
      );
    } catch (error) {
      if (!(error instanceof FeedFetchError)) throw error;
    }

    for (const [index, [uuid, timestamp]] of wanted.entries()) {
      if (signal?.aborted) {
        run.left += wanted.length - index;
        throw new FeedFetchError(
          `the node stopped during the pull: ${wanted.length - index} event(s) are left for the next one`,
        );
      }
      // Past the deadline the rest wait for the next run: one slow or large feed holds no other.
      if (performance.now() >= deadline) {
        run.left += wanted.length - index;
        break;
      }
      run.fetched++;
      const expectedHashes = hashes?.get(uuid);
      hashes?.delete(uuid);
      try {
        const result = await this.pullEvent(feed, owner, { uuid, timestamp, hashes: expectedHashes }, () =>
          fetchOptions(this.deps.eventMaxBytes ?? EVENT_MAX_BYTES),
        );
        run.imported++;
        run.attributesAdded += result.elements.added;
        run.observablesAdded += result.imported;
        run.rejected += result.rejected;
        pulled.push({ uuid, timestamp });
      } catch (error) {
        // Whatever went wrong with one event is that event's failure: the others are pulled still.
        this.fail(run, uuid, this.eventFailure(uuid, error));
      }
    }
  }

  /**
   * Fetches one event, checks it against what the feed announced and imports it. The check
   * parses the event, and that copy is gone when it returns: the import, which parses it again,
   * is left with the fetched bytes alone.
   */
  private async pullEvent(
    feed: repo.FeedRow,
    owner: Ctx,
    expected: { uuid: string; timestamp: number; hashes: Set<string> | undefined },
    fetchOptions: () => FeedFetchOptions,
  ): Promise<MispImportResult> {
    const body = await fetchFeedFile(
      feedFileUrl(feed.url, `${expected.uuid}.json`),
      `event ${expected.uuid}`,
      fetchOptions(),
    );
    const problem = fetchedEventProblem(body.toString('utf8'), expected);
    if (problem) throw new EventRefused(problem);
    // Partial: an attribute Vytis cannot read is left out (and counted), as MISP's own pull
    // skips what it cannot save; the event itself is written whole or not at all.
    return this.deps.misp.importEvents(owner, feed.case_id, Readable.from([body]), { partial: true });
  }

  /** Why an event was not imported, naming it; an error of this node is logged, not shown. */
  private eventFailure(uuid: string, error: unknown): string {
    if (error instanceof FeedFetchError || error instanceof EventRefused) return error.message;
    if (error instanceof AppError) return `event ${uuid}: ${error.message}`;
    this.report(error);
    return `event ${uuid}: it could not be imported: ${NODE_ERROR}`;
  }

  private fail(run: MispFeedRun, uuid: string, message: string) {
    run.failed++;
    if (run.failures.length < FAILURES_KEPT) run.failures.push({ uuid, message });
  }

  /** The run, what it pulled and its audit event, in one transaction. */
  private async record(
    ctx: Ctx,
    feed: repo.FeedRow,
    run: MispFeedRun,
    pulled: { uuid: string; timestamp: number }[],
    started: Date,
  ) {
    const lastError =
      run.error ??
      (run.failed > 0
        ? `${run.failed} event(s) could not be imported; the first: ${run.failures[0]?.message ?? ''}`
        : null);
    await inTransaction(this.deps.db, async (trx) => {
      // Removed meanwhile: nothing to record against.
      const locked = await repo.lockFeed(trx, feed.id);
      if (!locked) return;
      await repo.recordPulled(trx, feed.id, pulled, started);
      await repo.recordRun(trx, feed.id, {
        last_run_at: started,
        ...(run.error === null ? { last_ok_at: started } : {}),
        last_result: JSON.stringify(run),
        last_error: lastError,
        next_pull_at: new Date(started.getTime() + locked.interval_minutes * 60_000),
      });
      await this.deps.audit.record(trx, ctx, {
        action: 'misp.feed.pull',
        objectType: 'misp_feed',
        objectId: feed.id,
        summary: {
          name: feed.name,
          trigger: run.trigger,
          owner: feed.owner_name,
          listed: run.listed,
          fetched: run.fetched,
          imported: run.imported,
          failed: run.failed,
          left: run.left,
          error: run.error,
        },
      });
    });
  }

  // -------------------------------------------------------------------------------------------

  /** The feed if the caller may import into its case; else a 404, as if there were none. */
  private async visibleFeed(ctx: Ctx, id: string) {
    const rows = await repo.listVisibleFeeds(this.deps.db, this.deps.cases.viewer(ctx), id);
    const [row] = await this.ofContributedCases(ctx, rows);
    if (!row) throw notFound(`feed ${id}`);
    return row;
  }

  /**
   * The rows whose case the caller may import into: a feed's URL, owner, header name and errors
   * are for those who work on its case, not for everyone who reads it.
   */
  private async ofContributedCases(ctx: Ctx, rows: repo.FeedRow[]): Promise<repo.FeedRow[]> {
    const contributes = new Map<string, boolean>();
    const kept: repo.FeedRow[] = [];
    for (const row of rows) {
      let may = contributes.get(row.case_id);
      if (may === undefined) {
        const theCase = await this.deps.cases.visibleCase(ctx, row.case_id).catch(() => null);
        may = theCase ? (await CaseAccess.of(this.deps.db, ctx, theCase)).isContributor : false;
        contributes.set(row.case_id, may);
      }
      if (may) kept.push(row);
    }
    return kept;
  }

  private async contributorsFeeds(ctx: Ctx, rows: repo.FeedRow[]): Promise<MispFeed[]> {
    return (await this.ofContributedCases(ctx, rows)).map((row) => this.present(row));
  }

  /** Takes back the case `create` opened for a feed it then could not add (audited). */
  private async removeOpenedCase(ctx: Ctx, caseId: string, feedName: string) {
    try {
      await inTransaction(this.deps.db, async (trx) => {
        await repo.removeOpenedCase(trx, caseId);
        await this.deps.audit.record(trx, ctx, {
          action: 'misp.feed.case.withdraw',
          objectType: 'case',
          objectId: caseId,
          summary: { feed: feedName, reason: 'the feed it was opened for could not be added' },
        });
      });
    } catch (error) {
      // Something was added to it meanwhile: it is a case of its own now, and stays.
      this.report(error);
    }
  }

  /** A change by one who works on the feed's case, the feed locked, If-Match honoured, audited. */
  private async change(
    ctx: Ctx,
    id: string,
    ifMatch: number | undefined,
    what: string,
    work: (
      trx: Tx,
      row: NonNullable<Awaited<ReturnType<typeof repo.lockFeed>>>,
    ) => Promise<{ action: string; summary: Record<string, unknown> }>,
  ) {
    const visible = await this.visibleFeed(ctx, id);
    await inTransaction(this.deps.db, async (trx) => {
      const { access } = await this.deps.cases.lockForWork(trx, ctx, visible.case_id, 'items');
      access.requireContributor(what);
      const row = await repo.lockFeed(trx, id);
      if (!row) throw notFound(`feed ${id}`);
      if (ifMatch !== undefined && ifMatch !== row.version)
        throw new AppError(
          'precondition_failed',
          `the feed has changed since version ${ifMatch} (now ${row.version}): read it again`,
        );
      const { action, summary } = await work(trx, row);
      await this.deps.audit.record(trx, ctx, { action, objectType: 'misp_feed', objectId: id, summary });
    });
  }

  private async checkedUrl(given: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(given);
    } catch {
      throw invalidInput('url is not a valid URL', [{ field: 'body/url', message: 'not a URL' }]);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw invalidInput('a feed is fetched over http(s)', [{ field: 'body/url', message: 'not http(s)' }]);
    if (url.username || url.password) {
      throw invalidInput('put no credentials in the URL: send them as a header (e.g. Authorization)', [
        { field: 'body/url', message: 'contains credentials' },
      ]);
    }
    if (url.search || url.hash) {
      throw invalidInput(
        'give the feed’s directory, without a query or fragment: manifest.json is read under it',
        [{ field: 'body/url', message: 'has a query or fragment' }],
      );
    }
    if (this.deps.allowPrivateNetworks !== true) {
      const checked = await checkDestination(url, {
        allowed: this.deps.allowPrivateNetworks,
        ...(this.deps.resolve ? { resolve: this.deps.resolve } : {}),
        signal: AbortSignal.timeout(this.deps.timeoutMs ?? TIMEOUT_MS),
      });
      if (!checked.ok) {
        throw invalidInput(
          `feeds may only be fetched from public hosts unless the node allows private networks: ${checked.message}`,
          [{ field: 'body/url', message: checked.message }],
        );
      }
    }
    return url.toString().replace(/\/+$/, '');
  }

  /** A feed as those who may import into its case see it (only they see it). */
  private present(row: repo.FeedRow): MispFeed {
    return {
      id: row.id,
      name: row.name,
      url: row.url,
      caseId: row.case_id,
      owner: row.owner_name,
      header: row.header_name,
      enabled: row.enabled,
      intervalMinutes: row.interval_minutes,
      createdAt: row.created_at.toISOString(),
      nextPullAt: row.next_pull_at.toISOString(),
      lastRunAt: row.last_run_at?.toISOString() ?? null,
      lastOkAt: row.last_ok_at?.toISOString() ?? null,
      lastResult: presentRun(row.last_result),
      lastError: row.last_error,
      events: Number(row.event_count ?? 0),
      version: row.version,
      can: { pull: true, change: true },
    };
  }
}
