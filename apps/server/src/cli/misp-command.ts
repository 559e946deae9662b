import type { Readable } from 'node:stream';
import type { MispImportResult } from '@vytis/contracts';
import type { Services } from '../http/services.ts';
import type { CommandResult } from './commands.ts';
import { type ImportProgress, runFileImport, type StixImportRequest } from './stix-command.ts';

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
  return runFileImport(services, request, {
    run: (ctx, options) => services.misp.importEvents(ctx, request.caseId, source, options),
    summary: mispSummary,
    refused: 'attribute(s) or object(s)',
    onProgress,
  });
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
