import { type MispFeed, type MispFeedRun, TLPS, type Tlp } from '@vytis/contracts';
import type { Config } from '../config.ts';
import type { Services } from '../http/services.ts';
import { isUuid } from '../modules/identity/identity.service.ts';
import type { CommandResult } from './commands.ts';
import { importerCtx } from './commands.ts';
import { describeError } from './describe-error.ts';

/**
 * `vytis feed add|list|pull|remove`: MISP feeds pulled into cases, over `MispFeedsService`, in the
 * CLI's process (no node running) or in the node's, sent over the admin socket (`POST /feed`).
 * `pull` and `remove` name a feed: with `--as NAME`, one of that user's own feeds (names are each
 * owner's); without, as the local operator, the one feed of that name (several: say whose with --as).
 */
export type FeedCommand =
  | {
      name: 'feed.add';
      feedName: string;
      url: string;
      caseId?: string | undefined;
      newCase?: boolean | undefined;
      tlp?: string | undefined;
      /** "Name: value", sent with every request of the feed. */
      header?: string | undefined;
      every?: number | undefined;
      as?: string | undefined;
    }
  | { name: 'feed.list'; as?: string | undefined }
  | { name: 'feed.pull'; feedName: string; as?: string | undefined }
  | { name: 'feed.remove'; feedName: string; as?: string | undefined };

/** How many refused events `feed pull` prints (all are counted). */
const FAILURES_SHOWN = 10;

const ok = (stdout: string, stderr = ''): CommandResult => ({ exitCode: 0, stdout, stderr });
const fail = (stderr: string): CommandResult => ({ exitCode: 1, stdout: '', stderr });

/** Checks a command before anything is opened; null when it is fine. */
export function feedCommandProblem(command: FeedCommand): string | null {
  if (command.name !== 'feed.add') return null;
  if ((command.caseId === undefined) === !command.newCase)
    return 'say where the feed pulls into: --case ID, or --new-case to open a case for it';
  if (command.caseId !== undefined && !isUuid(command.caseId))
    return `--case must be a case id (a UUID), got "${command.caseId}"`;
  if (command.tlp !== undefined && !command.newCase) return '--tlp is the label of a --new-case';
  if (command.tlp !== undefined && !(TLPS as readonly string[]).includes(command.tlp))
    return `--tlp must be one of ${TLPS.join(', ')}, got "${command.tlp}"`;
  if (command.header !== undefined && !/^[^:\s]+:\s*\S/.test(command.header))
    return `--header must be "Name: value", e.g. "Authorization: Bearer …"`;
  if (!command.as) return 'a feed pulls as the user who adds it: say who with --as NAME';
  return null;
}

export async function runFeedCommand(services: Services, command: FeedCommand): Promise<CommandResult> {
  const problem = feedCommandProblem(command);
  if (problem) return fail(`${problem}\n`);
  const ctx = await importerCtx(services, command.as);
  if (!ctx) return fail(`no active user named ${command.as}\n`);
  const feeds = services.mispFeeds;
  try {
    switch (command.name) {
      case 'feed.add': {
        const header = command.header
          ? {
              name: command.header.slice(0, command.header.indexOf(':')).trim(),
              value: command.header.slice(command.header.indexOf(':') + 1).trim(),
            }
          : undefined;
        const feed = await feeds.create(ctx, {
          name: command.feedName,
          url: command.url,
          ...(command.caseId ? { caseId: command.caseId } : {}),
          ...(command.newCase
            ? { newCase: { title: `MISP feed ${command.feedName}`, tlp: (command.tlp ?? 'amber') as Tlp } }
            : {}),
          ...(header ? { header } : {}),
          ...(command.every ? { intervalMinutes: command.every } : {}),
        });
        return ok(
          `feed ${feed.name} (${feed.id}) pulls into case ${feed.caseId} every ${feed.intervalMinutes} min as ${feed.owner}; ` +
            `first pull with the node's next round of background work, or now: vytis feed pull ${feed.name}\n`,
        );
      }
      case 'feed.list': {
        const { items } = await feeds.list(ctx);
        if (items.length === 0) return ok('no feeds\n');
        return ok(items.map(feedLine).join(''));
      }
      case 'feed.pull': {
        const feed = await feeds.byName(ctx, command.feedName);
        const run = await feeds.pull(ctx, feed.id);
        const failures = run.failures.slice(0, FAILURES_SHOWN).map((f) => `${f.message}\n`);
        const more = run.failed - failures.length;
        const stderr = [
          ...(run.error ? [`${run.error}\n`] : []),
          ...failures,
          ...(more > 0 ? [`… and ${more} more\n`] : []),
        ].join('');
        return { exitCode: run.error ? 1 : 0, stdout: `${runSummary(run)}\n`, stderr };
      }
      case 'feed.remove': {
        const feed = await feeds.byName(ctx, command.feedName);
        await feeds.remove(ctx, feed.id, undefined);
        return ok(`removed feed ${feed.name}; what it imported stays in case ${feed.caseId}\n`);
      }
      default:
        return fail(`unknown command ${(command as { name: string }).name}\n`);
    }
  } catch (error) {
    return fail(describeError(error));
  }
}

/** One line a script can read: what the run found, fetched and imported. */
export function runSummary(run: MispFeedRun): string {
  return (
    `listed ${run.listed}, unchanged ${run.unchanged}, fetched ${run.fetched}, imported ${run.imported}, failed ${run.failed}, ` +
    `left for the next run ${run.left}; ` +
    `attributes added ${run.attributesAdded}, observables added ${run.observablesAdded}, rejected ${run.rejected} (${run.durationMs} ms)`
  );
}

function feedLine(feed: MispFeed): string {
  const state = feed.enabled ? `every ${feed.intervalMinutes} min` : 'disabled';
  const last = feed.lastRunAt
    ? `last run ${feed.lastRunAt}${feed.lastResult ? `: ${runSummary(feed.lastResult)}` : ''}`
    : 'never pulled';
  return `${feed.name}\t${feed.url}\tcase ${feed.caseId}\t${state}\tevents ${feed.events}\t${last}${feed.lastError ? `\terror: ${feed.lastError}` : ''}\n`;
}

/** Through the running node's admin socket when there is one, else over the database directly. */
export async function feedCommand(config: Config, command: FeedCommand): Promise<CommandResult> {
  const problem = feedCommandProblem(command);
  if (problem) return fail(`${problem}\n`);
  try {
    const { adminSocketPath, isNodeListening, sendFeedCommand } = await import('./admin-socket.ts');
    const socket = adminSocketPath(config.dataDir);
    if (await isNodeListening(socket)) return await sendFeedCommand(socket, command);
    const { openServices } = await import('../node.ts');
    const { services } = await openServices(config);
    try {
      return await runFeedCommand(services, command);
    } finally {
      await services.database.close();
    }
  } catch (error) {
    return fail(describeError(error));
  }
}
