import type { Readable } from 'node:stream';
import type { MispImportResult } from '@vytis/contracts';
import type { Services } from '../http/services.ts';
import { type CommandResult, importerCtx } from './commands.ts';
import {
  describeBundleError,
  type ImportProgress,
  refusedList,
  type StixImportRequest,
  stixRequestProblem,
} from './stix-command.ts';

const fail = (stderr: string): CommandResult => ({ exitCode: 1, stdout: '', stderr });

/**
 * Imports MISP event JSON into a case through `MispService.importEvents`, in the CLI's process or
 * in the node's (fed by the admin socket): a summary on stdout; the refused attributes and objects
 * on stderr, by their path (exit 1 when they refused the whole file).
 */
export async function runMispImport(
  services: Services,
  request: StixImportRequest,
  source: Readable,
  onProgress?: ImportProgress,
): Promise<CommandResult> {
  const problem = stixRequestProblem(request);
  if (problem) return fail(`${problem}\n`);
  const ctx = await importerCtx(services, request.as);
  if (!ctx) return fail(`no active user named ${request.as}\n`);
  let result: MispImportResult;
  try {
    result = await services.misp.importEvents(ctx, request.caseId, source, {
      partial: request.partial,
      tlp: request.tlp,
      ...(onProgress ? { onProgress } : {}),
    });
  } catch (error) {
    return fail(describeBundleError(error));
  }
  const stdout = `${mispSummary(result)}\n`;
  if (result.rejected === 0) return { exitCode: 0, stdout, stderr: '' };
  return {
    exitCode: 0,
    stdout,
    stderr: refusedList(
      `${result.rejected} attribute(s) or object(s) were rejected and left out:`,
      result.rejected,
      result.problems,
    ),
  };
}

/** One line a script can read: the events, their attributes and objects, the observables. */
export function mispSummary(result: MispImportResult): string {
  const { events, elements } = result;
  return (
    `events ${events.read}: added ${events.added}, updated ${events.updated}, unchanged ${events.unchanged}; ` +
    `attributes and objects added ${elements.added}, updated ${elements.updated}, unchanged ${elements.unchanged}; ` +
    `observables imported ${result.imported}, duplicates ${result.duplicates}, rejected ${result.rejected}`
  );
}
