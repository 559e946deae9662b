import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import type { MispFeed, MispFeedPatch, MispFeedRun, NewMispFeed } from '@vytis/contracts';
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
}

const TIMEOUT_MS = 60_000;
const MANIFEST_MAX_BYTES = 64 * 1024 * 1024;
const EVENT_MAX_BYTES = 64 * 1024 * 1024;
/** hashes.csv is only read to check fetched events against; larger ones are not used. */
const HASHES_MAX_BYTES = 64 * 1024 * 1024;
const FAILURES_KEPT = 100;
const DEFAULT_INTERVAL_MINUTES = 60;

type Trigger = MispFeedRun['trigger'];

const presentRun = (text: string | null): MispFeedRun | null => {
  if (!text) return null;
  try {
    return JSON.parse(text) as MispFeedRun;
  } catch {
    return null;
  }
};

/**
 * MISP feeds (issue 12). Published: the node's own feed of what the caller may pass on (manifest,
 * one file per event, hashes.csv), from `MispService.feedIndex` / `feedEvent`, which apply the
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

  constructor(private readonly deps: MispFeedsDeps) {}

  // -------------------------------------------------------------------------------------------
  // Publishing

  /** manifest.json of the caller's feed: one entry per event they may pass on. */
  async manifest(ctx: Ctx): Promise<ManifestJson> {
    return manifestJson(await this.deps.misp.feedIndex(ctx));
  }

  /** `<uuid>.json` of the caller's feed (404 when they may pass on no event by that uuid). */
  async event(ctx: Ctx, uuid: string): Promise<{ Event: unknown }> {
    return this.deps.misp.feedEvent(ctx, uuid.toLowerCase());
  }

  /** hashes.csv of the caller's feed: `<md5 of a value>,<event uuid>` per attribute value. */
  async hashes(ctx: Ctx): Promise<string> {
    const uuids = [...new Set((await this.deps.misp.feedIndex(ctx)).map((entry) => entry.uuid))].sort();
    const lines: string[] = [];
    for (const uuid of uuids) {
      const parsed = parseMispEvents(await this.deps.misp.feedEvent(ctx, uuid));
      if ('events' in parsed) for (const event of parsed.events) lines.push(...eventHashLines(event));
    }
    return lines.length ? `${lines.join('\n')}\n` : '';
  }

  // -------------------------------------------------------------------------------------------
  // Feeds pulled into cases

  async create(ctx: Ctx, input: NewMispFeed): Promise<MispFeed> {
    if (!ctx.actor.id) {
      throw invalidInput(
        'a feed pulls as the user who adds it: add it as a user (on the command line: --as NAME)',
      );
    }
    if ((input.caseId === undefined) === (input.newCase === undefined)) {
      throw invalidInput('say which case the feed pulls into: caseId, or newCase to open one', [
        { field: 'body/caseId', message: 'give caseId or newCase, not both and not neither' },
      ]);
    }
    const url = await this.checkedUrl(input.url);
    if (await repo.feedNameTaken(this.deps.db, input.name))
      throw conflict(`a feed named ${input.name} exists already: choose another name`);
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
    await inTransaction(this.deps.db, async (trx) => {
      const { access } = await this.deps.cases.lockForWork(trx, ctx, caseId!, 'items');
      access.requireContributor('add feeds to it');
      if (await repo.feedNameTaken(trx, input.name))
        throw conflict(`a feed named ${input.name} exists already: choose another name`);
      await repo.insertFeed(trx, {
        id,
        name: input.name,
        url,
        case_id: caseId!,
        owner_id: ctx.actor.id!,
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
    return this.get(ctx, id);
  }

  /** The feeds of the cases the caller sees. */
  async list(ctx: Ctx): Promise<{ items: MispFeed[] }> {
    const rows = await repo.listVisibleFeeds(this.deps.db, this.deps.cases.viewer(ctx));
    return { items: await Promise.all(rows.map((row) => this.present(ctx, row))) };
  }

  async get(ctx: Ctx, id: string): Promise<MispFeed> {
    return this.present(ctx, await this.visibleFeed(ctx, id));
  }

  /** The feed the caller sees by that name (the command line names feeds). */
  async byName(ctx: Ctx, name: string): Promise<MispFeed> {
    const rows = await repo.listVisibleFeeds(this.deps.db, this.deps.cases.viewer(ctx));
    const row = rows.find((r) => r.name === name);
    if (!row) throw notFound(`feed ${name}`);
    return this.present(ctx, row);
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

  /** Pulls the feed now, as the user who added it; answers the run's result (also recorded). */
  async pull(ctx: Ctx, id: string): Promise<MispFeedRun> {
    const row = await this.visibleFeed(ctx, id);
    const theCase = await this.deps.cases.visibleCase(ctx, row.case_id);
    (await CaseAccess.of(this.deps.db, ctx, theCase)).requireContributor('pull its feeds');
    const run = await this.run(id, 'manual', ctx);
    if (!run)
      throw conflict(`feed ${row.name} is being pulled now: its result shows in the feed when it ends`);
    return run;
  }

  /**
   * Pulls the enabled feeds whose time has come, one after another (background work). Each is
   * claimed first, so processes sharing the database never pull one feed twice. `signal` stops
   * between events when the node shuts down.
   */
  async pullDue(options: { limit?: number; signal?: AbortSignal } = {}): Promise<number> {
    const now = this.deps.clock.now();
    let pulled = 0;
    for (const due of await repo.dueFeeds(this.deps.db, now, options.limit ?? 10)) {
      if (options.signal?.aborted) break;
      const feed = await repo.findFeed(this.deps.db, due.id);
      if (!feed || this.pulling.has(due.id)) continue;
      const until = new Date(now.getTime() + feed.interval_minutes * 60_000);
      if (!(await repo.claimDue(this.deps.db, due.id, due.next_pull_at, until))) continue;
      if (await this.run(due.id, 'scheduled', systemCtx(), options.signal)) pulled++;
    }
    return pulled;
  }

  // -------------------------------------------------------------------------------------------
  // A pull

  /** One run of a feed; null when this process is pulling it already. */
  private async run(
    id: string,
    trigger: Trigger,
    ctx: Ctx,
    signal?: AbortSignal,
  ): Promise<MispFeedRun | null> {
    if (this.pulling.has(id)) return null;
    this.pulling.add(id);
    try {
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
        failures: [],
        attributesAdded: 0,
        observablesAdded: 0,
        rejected: 0,
        error: null,
      };
      const pulled: { uuid: string; timestamp: number }[] = [];
      try {
        await this.pullInto(feed, run, pulled, signal);
      } catch (error) {
        run.error =
          error instanceof FeedFetchError || error instanceof AppError ? error.message : 'the pull failed';
        if (!(error instanceof FeedFetchError || error instanceof AppError)) throw error;
      } finally {
        run.durationMs = Math.round(performance.now() - t0);
        await this.record(ctx, feed, run, pulled, started);
      }
      return run;
    } finally {
      this.pulling.delete(id);
    }
  }

  private async pullInto(
    feed: repo.FeedRow,
    run: MispFeedRun,
    pulled: { uuid: string; timestamp: number }[],
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

    const fetchOptions = (maxBytes: number): FeedFetchOptions => ({
      allowed: this.deps.allowPrivateNetworks,
      resolve: this.deps.resolve,
      fetch: this.deps.fetch,
      timeoutMs: this.deps.timeoutMs ?? TIMEOUT_MS,
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
    const wanted: [string, number][] = [];
    for (const [uuid, timestamp] of manifest.events) {
      const had = known.get(uuid);
      if (had !== undefined && had >= timestamp) run.unchanged++;
      else wanted.push([uuid, timestamp]);
    }
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

    for (const [uuid, timestamp] of wanted) {
      if (signal?.aborted) {
        throw new FeedFetchError(
          `the node stopped during the pull: ${wanted.length - run.fetched} event(s) are left for the next one`,
        );
      }
      run.fetched++;
      let body: Buffer;
      try {
        body = await fetchFeedFile(
          feedFileUrl(feed.url, `${uuid}.json`),
          `event ${uuid}`,
          fetchOptions(this.deps.eventMaxBytes ?? EVENT_MAX_BYTES),
        );
      } catch (error) {
        if (!(error instanceof FeedFetchError)) throw error;
        this.fail(run, uuid, error.message);
        continue;
      }
      const problem = fetchedEventProblem(body.toString('utf8'), {
        uuid,
        timestamp,
        hashes: hashes?.get(uuid),
      });
      if (problem) {
        this.fail(run, uuid, problem);
        continue;
      }
      try {
        // Partial: an attribute Vytis cannot read is left out (and counted), as MISP's own pull
        // skips what it cannot save; the event itself is written whole or not at all.
        const result = await this.deps.misp.importEvents(owner, feed.case_id, Readable.from([body]), {
          partial: true,
        });
        run.imported++;
        run.attributesAdded += result.elements.added;
        run.observablesAdded += result.imported;
        run.rejected += result.rejected;
        pulled.push({ uuid, timestamp });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        this.fail(run, uuid, `event ${uuid}: ${error.message}`);
      }
    }
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
          error: run.error,
        },
      });
    });
  }

  // -------------------------------------------------------------------------------------------

  private async visibleFeed(ctx: Ctx, id: string) {
    const [row] = await repo.listVisibleFeeds(this.deps.db, this.deps.cases.viewer(ctx), id);
    if (!row) throw notFound(`feed ${id}`);
    return row;
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

  private async present(ctx: Ctx, row: repo.FeedRow): Promise<MispFeed> {
    const theCase = await this.deps.cases.visibleCase(ctx, row.case_id).catch(() => null);
    const contributor = theCase ? (await CaseAccess.of(this.deps.db, ctx, theCase)).isContributor : false;
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
      can: { pull: contributor, change: contributor },
    };
  }
}
