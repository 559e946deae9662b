import type { Readable } from 'node:stream';
import { type BulkResult, type Role, TLPS, type Tlp } from '@vytis/contracts';
import type { VerifyResult } from '../audit/audit.verifier.ts';
import { CLI_ACTOR, type Ctx } from '../context.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../http/services.ts';
import { isUuid } from '../modules/identity/identity.service.ts';
import { BULK_FORMATS, type BulkFormat } from '../modules/indicators/bulk-parse.ts';
import { isObservableType } from '../modules/indicators/observable-types.ts';
import { peerPassEvidence } from '../modules/passes/pass.command.ts';
import { trustedKeyFromFile } from '../platform/keys.ts';
import { type DemoProgress, loadDemo } from './demo.ts';
import { describeError } from './describe-error.ts';
import { runUserAccountCommand, type UserAccountCommand } from './user-commands.ts';

/**
 * The administrative commands, written once over the services. The CLI runs them in-process when
 * no node is running, or sends them over the node's admin socket when one is.
 */
export type AdminCommand =
  | { name: 'migrate' }
  | { name: 'user.add'; userName: string; party: string; roles: Role[]; password?: string | undefined }
  | { name: 'token.issue'; userName: string; expiresInDays?: number | undefined; label?: string | undefined }
  | { name: 'token.revoke'; tokenId: string }
  | UserAccountCommand
  /** keyFiles are absolute: the command may run in the node's process, not where it was typed. */
  | {
      name: 'audit.verify';
      keyFiles?: string[] | undefined;
      /** Absolute files or URLs of checkpoints kept outside the database. */
      checkpointSources?: string[] | undefined;
    }
  | { name: 'audit.checkpoint' }
  /** What `pass verify --peer` reads of a peer: its pinned key, its revocation list, its last pull (JSON). */
  | { name: 'pass.peer-evidence'; party: string }
  | { name: 'demo' }
  /** The post-action report as a PDF, carried back base64 in JSON (the CLI writes the file). */
  | { name: 'report.pdf'; requestId: string; as?: string | undefined };

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const ok = (stdout: string): CommandResult => ({ exitCode: 0, stdout, stderr: '' });
const fail = (stderr: string): CommandResult => ({ exitCode: 1, stdout: '', stderr });

export async function runCommand(
  services: Services,
  command: AdminCommand,
  context: { applied?: string[]; onDemoProgress?: DemoProgress } = {},
): Promise<CommandResult> {
  const ctx: Ctx = { actor: CLI_ACTOR, requestId: null };
  switch (command.name) {
    case 'migrate': {
      const applied = context.applied ?? [];
      return ok(applied.length > 0 ? `applied ${applied.join(', ')}\n` : 'migrations are up to date\n');
    }
    case 'user.add': {
      const user = await services.identity.createUser(ctx, {
        name: command.userName,
        party: command.party,
        roles: command.roles,
        ...(command.password === undefined ? {} : { password: command.password }),
      });
      return ok(`${user.id}\n`);
    }
    case 'token.issue': {
      const { token } = await services.identity.issueToken(ctx, command.userName, {
        expiresInDays: command.expiresInDays,
        label: command.label ?? 'cli',
      });
      return ok(`${token}\n`);
    }
    case 'user.disable':
    case 'user.enable':
    case 'user.roles':
    case 'user.password':
    case 'user.end-sessions':
    case 'user.mfa-reset':
      return ok(await runUserAccountCommand(services, ctx, command));
    case 'token.revoke': {
      const token = await services.identity.revokeToken(ctx, command.tokenId);
      return ok(`revoked ${token.id}\n`);
    }
    case 'audit.verify': {
      const extra = new Map(
        (command.keyFiles ?? []).map((file) => {
          const key = trustedKeyFromFile(file);
          return [key.keyId, key.publicKey] as const;
        }),
      );
      const result = await services.audit.verify({
        extraKeys: extra,
        checkpointSources: command.checkpointSources,
      });
      if (result.ok)
        return ok(
          `ok ${result.events} events, ${result.checkpoints} checkpoints\n${describeCosignatures(result)}`,
        );
      return {
        exitCode: 1,
        stdout: result.firstBadSeq === null ? '' : `${result.firstBadSeq}\n`,
        stderr: describeProblems(result) + describeCosignatures(result),
      };
    }
    case 'audit.checkpoint': {
      const checkpoint = await services.audit.requestCheckpoint(ctx);
      return ok(`checkpoint ${checkpoint.id}: ${checkpoint.size} events, head ${checkpoint.head}\n`);
    }
    case 'pass.peer-evidence':
      return ok(`${JSON.stringify(await peerPassEvidence(services.database.db, command.party))}\n`);
    case 'demo':
      return ok(await loadDemo(services, ctx, context.onDemoProgress));
    case 'report.pdf':
      return reportPdf(services, command.requestId, command.as);
    default:
      return fail(`unknown command ${(command as { name: string }).name}\n`);
  }
}

async function reportPdf(services: Services, requestId: string, as: string | undefined) {
  if (!isUuid(requestId)) return fail(`${requestId} is not a request id (a UUID)\n`);
  const ctx = await importerCtx(services, as);
  if (!ctx) return fail(`no user named ${as}\n`);
  const report = await services.reports.get(ctx, requestId, 'post_action');
  const file = await services.reports.file(ctx, requestId, 'post_action', 'pdf');
  return ok(
    JSON.stringify({
      pdf: Buffer.from(file.body).toString('base64'),
      status: report.status,
      tlp: report.tlp,
    }),
  );
}

/** What peers cosigned of this node's log (witnessed audit), one line per witness; nothing when none did. */
function describeCosignatures(result: VerifyResult): string {
  return result.cosignatures
    .map(
      (c) =>
        `cosigned by ${c.witness}: ${c.count} checkpoint${c.count === 1 ? '' : 's'}, the newest of ${c.newestSize} events (${c.newestAt})\n`,
    )
    .join('');
}

/** The first problem says where the log stops being trustworthy; the others follow, one a line. */
function describeProblems(result: VerifyResult): string {
  const [first, ...others] = result.problems;
  const headline =
    first?.seq === null || first === undefined
      ? `audit log does not verify: ${result.reason}`
      : `audit chain broken at event ${first.seq}: ${first.message}`;
  return [headline, ...others.map((p) => `also: ${p.message}`)].map((line) => `${line}\n`).join('');
}

/** `vytis import`: what to import where, as whom. The file itself comes as a stream beside it. */
export interface ImportRequest {
  caseId: string;
  /** Act as this user (what they may see and do); the local operator when absent. */
  as?: string | undefined;
  format: BulkFormat;
  type?: string | undefined;
  tlp?: Tlp | undefined;
  partial: boolean;
}

/** How many rejected lines a partial import prints (all are counted). */
const REJECTED_SHOWN = 10;

/** Checks an import request before any of the file is read; null when it is fine. */
export function importRequestProblem(request: ImportRequest): string | null {
  if (!isUuid(request.caseId)) return `--case must be a case id (a UUID), got "${request.caseId}"`;
  if (!(BULK_FORMATS as readonly string[]).includes(request.format)) {
    return `--format must be one of ${BULK_FORMATS.join(', ')}, got "${request.format}"`;
  }
  if (request.format === 'lines' && !request.type) {
    return 'a plain list (one value per line) needs --type T, the MISP type of its values, e.g. --type ip-dst';
  }
  if (request.type !== undefined && request.format !== 'lines') {
    return `--type is for a plain list (one value per line); a ${request.format} file names the type on each line`;
  }
  if (request.type !== undefined && !isObservableType(request.type)) {
    return `--type ${request.type} is not an observable type (MISP attribute types, e.g. ip-dst, domain, sha256)`;
  }
  if (request.tlp !== undefined && !(TLPS as readonly string[]).includes(request.tlp)) {
    return `--tlp must be one of ${TLPS.join(', ')}, got "${request.tlp}"`;
  }
  return null;
}

/**
 * Who an import runs as: the local operator, or with `--as NAME` that user, through their access
 * (null when there is no such active user).
 */
export async function importerCtx(services: Services, as: string | undefined): Promise<Ctx | null> {
  if (as === undefined) return { actor: CLI_ACTOR, requestId: null };
  const actor = await services.identity.actorByName(as);
  return actor ? { actor, requestId: null } : null;
}

/**
 * Imports an indicator file into a case over the services: in the CLI's process (no node running)
 * or in the node's, fed by the admin socket. Both print the same: a summary on stdout; the rejected
 * lines on stderr (exit 1 when they rejected the whole file).
 */
export async function runImport(
  services: Services,
  request: ImportRequest,
  source: Readable,
): Promise<CommandResult> {
  const problem = importRequestProblem(request);
  if (problem) return fail(`${problem}\n`);
  const ctx = await importerCtx(services, request.as);
  if (!ctx) return fail(`no active user named ${request.as}\n`);
  let summary: BulkResult;
  try {
    summary = await services.observables.importFile(ctx, request.caseId, source, {
      format: request.format,
      type: request.type,
      tlp: request.tlp,
      partial: request.partial,
    });
  } catch (error) {
    return fail(describeImportError(error));
  }
  const stdout = `imported ${summary.imported}, duplicates ${summary.duplicates}, rejected ${summary.rejected}\n`;
  if (summary.rejected === 0) return ok(stdout);
  const shown = summary.problems.slice(0, REJECTED_SHOWN);
  const more = summary.rejected - shown.length;
  const stderr = [
    `${summary.rejected} line(s) were rejected and left out:`,
    ...shown.map((p) => `line ${p.line}: ${p.message}`),
    ...(more > 0 ? [`… and ${more} more`] : []),
  ];
  return { exitCode: 0, stdout, stderr: `${stderr.join('\n')}\n` };
}

/** A file its bad lines rejected: how many, then `line N: why` for each one listed. */
function describeImportError(error: unknown): string {
  const lines =
    error instanceof AppError && error.code === 'invalid_input' && Array.isArray(error.details)
      ? (error.details as { line?: unknown; message?: unknown }[]).filter(
          (d): d is { line: number; message: string } => typeof d.line === 'number',
        )
      : [];
  if (lines.length === 0) return describeError(error);
  const counted = /^(\d+) line\(s\) cannot be imported/.exec((error as AppError).message);
  const headline = counted
    ? `${counted[1]} line(s) cannot be imported; nothing was imported. Fix them, or import with --partial to keep the good lines`
    : (error as AppError).message;
  const total = counted ? Number(counted[1]) : lines.length;
  const more = total - lines.length;
  return `${[headline, ...lines.map((p) => `line ${p.line}: ${p.message}`), ...(more > 0 ? [`… and ${more} more`] : [])].join('\n')}\n`;
}
