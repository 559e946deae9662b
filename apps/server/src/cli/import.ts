import fs from 'node:fs';
import { Transform } from 'node:stream';
import type { Tlp } from '@vytis/contracts';
import cliProgress from 'cli-progress';
import { loadConfigOrExit } from '../config.ts';
import { type BulkFormat, formatOf } from '../modules/indicators/bulk-parse.ts';
import { openServices } from '../node.ts';
import { adminSocketPath, isNodeListening, sendImport } from './admin-socket.ts';
import { type CommandResult, type ImportRequest, importRequestProblem, runImport } from './commands.ts';
import { describeError } from './describe-error.ts';

export interface ImportFlags {
  case: string;
  as?: string | undefined;
  partial?: boolean | undefined;
  type?: string | undefined;
  tlp?: Tlp | undefined;
  format?: BulkFormat | undefined;
}

const fail = (stderr: string): CommandResult => ({ exitCode: 1, stdout: '', stderr });

/**
 * `vytis import FILE --case ID`: streams the file into the case, through the running node's admin
 * socket when there is one, else straight into the database; a progress bar on a terminal.
 */
export async function importCommand(file: string, flags: ImportFlags): Promise<CommandResult> {
  const format = flags.format ?? formatOf(file) ?? (flags.type ? 'lines' : null);
  if (!format) {
    return fail(
      `cannot tell the format of ${file}: name it .csv, .ndjson (.jsonl) or .txt, or pass --format csv|ndjson|lines (a plain list also needs --type T)\n`,
    );
  }
  const request: ImportRequest = {
    caseId: flags.case,
    as: flags.as,
    format,
    type: flags.type,
    tlp: flags.tlp,
    partial: flags.partial ?? false,
  };
  const problem = importRequestProblem(request);
  if (problem) {
    const hint =
      request.type !== undefined && format !== 'lines' ? ' (for one value per line: --format lines)' : '';
    return fail(`${problem}${hint}\n`);
  }
  let size: number;
  try {
    const stat = await fs.promises.stat(file);
    if (!stat.isFile()) return fail(`${file} is not a file\n`);
    await fs.promises.access(file, fs.constants.R_OK);
    size = stat.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail(`cannot read ${file}: no such file\n`);
    if (code === 'EACCES') return fail(`cannot read ${file}: permission denied\n`);
    return fail(`cannot read ${file}: ${(error as Error).message}\n`);
  }

  const progress = progressBar(size);
  const source = fs.createReadStream(file);
  const counted = countingStream(progress);
  source.on('error', (error) => counted.destroy(error));
  source.pipe(counted);
  try {
    const config = loadConfigOrExit();
    const socket = adminSocketPath(config.dataDir);
    if (await isNodeListening(socket)) return await sendImport(socket, request, counted);
    const { services } = await openServices(config);
    try {
      return await runImport(services, request, counted);
    } finally {
      await services.database.close();
    }
  } catch (error) {
    return fail(describeError(error));
  } finally {
    source.destroy();
    progress.stop();
  }
}

interface Progress {
  update(bytes: number, lines: number): void;
  /** The whole file is read: what is left is writing the last rows and committing. */
  read(): void;
  stop(): void;
}

/** Counts bytes and lines as they pass on to the import. */
function countingStream(progress: Progress): Transform {
  let bytes = 0;
  let lines = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      progress.update(bytes, lines);
      callback(null, chunk);
    },
    flush(callback) {
      progress.read();
      callback();
    },
  });
}

/** A bar on standard error when it is a terminal; nothing otherwise (scripts read the summary). */
function progressBar(size: number): Progress {
  if (!process.stderr.isTTY) return { update() {}, read() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: 'importing {bar} {percentage}% | {done} of {size} | {lines} lines | {stage}',
      stream: process.stderr,
      hideCursor: true,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  const total = Math.max(size, 1);
  bar.start(total, 0, { done: bytesText(0), size: bytesText(size), lines: 0, stage: 'reading' });
  let stopped = false;
  return {
    update(bytes, lines) {
      bar.update(Math.min(bytes, total), { done: bytesText(bytes), lines });
    },
    read() {
      bar.update(total, { stage: 'saving' });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

function bytesText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}
