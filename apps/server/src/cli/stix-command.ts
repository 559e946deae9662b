import type { Readable } from 'node:stream';
import { type StixImportResult, TLPS, type Tlp } from '@vytis/contracts';
import type { Ctx } from '../context.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../http/services.ts';
import { isUuid } from '../modules/identity/identity.service.ts';
import { type CommandResult, importerCtx } from './commands.ts';
import { describeError } from './describe-error.ts';

/**
 * `vytis import FILE --case ID` of a STIX 2.1 bundle or MISP event JSON: into a case, as whom. The
 * file comes beside it.
 */
export interface StixImportRequest {
  caseId: string;
  /** Act as this user (what they may see and do); the local operator when absent. */
  as?: string | undefined;
  /** The label of objects without a TLP marking (else the case's). */
  tlp?: Tlp | undefined;
  partial: boolean;
}

export type ImportProgress = (progress: { bytes: number; lines: number }) => void;

/** How many refused objects the CLI prints (all are counted). */
const REFUSED_SHOWN = 10;

const fail = (stderr: string): CommandResult => ({ exitCode: 1, stdout: '', stderr });

/** Checks a bundle import before any of the file is read; null when it is fine. */
export function stixRequestProblem(request: StixImportRequest): string | null {
  if (!isUuid(request.caseId)) return `--case must be a case id (a UUID), got "${request.caseId}"`;
  if (request.tlp !== undefined && !(TLPS as readonly string[]).includes(request.tlp)) {
    return `--tlp must be one of ${TLPS.join(', ')}, got "${request.tlp}"`;
  }
  return null;
}

/**
 * Imports a STIX bundle into a case through `StixService.importBundle`, in the CLI's process (no
 * node running; given the file's own ReadStream, read in place) or in the node's, fed by the admin
 * socket (received in full first). Both print the same: a summary on stdout; the refused objects
 * on stderr, by index and id (exit 1 when they refused the whole bundle).
 */
export async function runStixImport(
  services: Services,
  request: StixImportRequest,
  source: Readable,
  onProgress?: ImportProgress,
): Promise<CommandResult> {
  return runFileImport(services, request, {
    run: (ctx, options) => services.stix.importBundle(ctx, request.caseId, source, options),
    summary: stixSummary,
    refused: 'object(s)',
    onProgress,
  });
}

/**
 * A structured file (a STIX bundle, MISP event JSON) into a case, as the request's user: a summary
 * on stdout; what was refused and left out on stderr; a file refused whole, exit 1 naming why.
 */
export async function runFileImport<
  R extends { rejected: number; problems: { line: number; message: string }[] },
>(
  services: Services,
  request: StixImportRequest,
  how: {
    run: (
      ctx: Ctx,
      options: { partial: boolean; tlp?: Tlp | undefined; onProgress?: ImportProgress },
    ) => Promise<R>;
    summary: (result: R) => string;
    /** What the refused are called: `object(s)`. */
    refused: string;
    onProgress?: ImportProgress | undefined;
  },
): Promise<CommandResult> {
  const problem = stixRequestProblem(request);
  if (problem) return fail(`${problem}\n`);
  const ctx = await importerCtx(services, request.as);
  if (!ctx) return fail(`no active user named ${request.as}\n`);
  let result: R;
  try {
    result = await how.run(ctx, {
      partial: request.partial,
      tlp: request.tlp,
      ...(how.onProgress ? { onProgress: how.onProgress } : {}),
    });
  } catch (error) {
    return fail(describeBundleError(error));
  }
  const stdout = `${how.summary(result)}\n`;
  if (result.rejected === 0) return { exitCode: 0, stdout, stderr: '' };
  return {
    exitCode: 0,
    stdout,
    stderr: refusedList(
      `${result.rejected} ${how.refused} were rejected and left out:`,
      result.rejected,
      result.problems,
    ),
  };
}

/** One line a script can read: the bundle's objects, then what became of them. */
export function stixSummary(result: StixImportResult): string {
  const { added, updated, unchanged, older } = result.intelligence;
  return (
    `objects ${result.objects}: observables imported ${result.imported}, duplicates ${result.duplicates}, ` +
    `rejected ${result.rejected}; intelligence objects added ${added}, updated ${updated}, unchanged ${unchanged}, older ${older}`
  );
}

/** `object N: id: why` for the first few refused objects (the service puts the id first). */
export function refusedList(
  headline: string,
  total: number,
  problems: { line: number; message: string }[],
): string {
  const shown = problems.slice(0, REFUSED_SHOWN);
  const more = total - shown.length;
  return `${[
    headline,
    ...shown.map((p) => `object ${p.line}: ${p.message}`),
    ...(more > 0 ? [`… and ${more} more`] : []),
  ].join('\n')}\n`;
}

/**
 * A file refused as a whole: its bad objects, by index and id or path (the API's message names the
 * query parameter; the CLI's, its option); a file that is not what Vytis reads, in one line.
 */
export function describeBundleError(error: unknown): string {
  if (!(error instanceof AppError) || error.code !== 'invalid_input' || !Array.isArray(error.details)) {
    return describeError(error);
  }
  const details = error.details as { field?: unknown; line?: unknown; message?: unknown }[];
  const objects = details.filter(
    (d): d is { line: number; message: string } =>
      typeof d.line === 'number' && typeof d.message === 'string',
  );
  const counted = /^(\d+) object\(s\) cannot be imported/.exec(error.message);
  if (counted && objects.length > 0) {
    return refusedList(
      `${counted[1]} object(s) cannot be imported; nothing was imported. Fix them, or import with --partial to keep the good objects`,
      Number(counted[1]),
      objects,
    );
  }
  if (/^the body is not (a STIX|MISP)/.test(error.message)) {
    return `${error.message.replace(/^the body/, 'the file')}\n`;
  }
  return describeError(error);
}
