import fs from 'node:fs';
import { Transform } from 'node:stream';
import type { Tlp } from '@vytis/contracts';
import cliProgress from 'cli-progress';
import { type Config, loadConfigOrExit } from '../config.ts';
import type { Services } from '../http/services.ts';
import { BULK_FORMATS, formatOf } from '../modules/indicators/bulk-parse.ts';
import { openServices } from '../node.ts';
import { adminSocketPath, isNodeListening, sendImport, sendStixImport } from './admin-socket.ts';
import { type CommandResult, type ImportRequest, importRequestProblem, runImport } from './commands.ts';
import { describeError } from './describe-error.ts';
import { runMispImport } from './misp-command.ts';
import { runStixImport, type StixImportRequest, stixRequestProblem } from './stix-command.ts';

/** What `vytis import` reads: the indicator files, STIX 2.1 bundles and MISP event JSON. */
export const IMPORT_FORMATS = [...BULK_FORMATS, 'stix', 'misp'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportFlags {
  case: string;
  as?: string | undefined;
  partial?: boolean | undefined;
  type?: string | undefined;
  tlp?: Tlp | undefined;
  format?: ImportFormat | undefined;
}

const fail = (stderr: string): CommandResult => ({ exitCode: 1, stdout: '', stderr });

/** How much of a file is read to tell a bundle from NDJSON: more than any one line of NDJSON. */
const PEEK_BYTES = 64 * 1024;

/**
 * Whether a file is a STIX bundle by its name and first bytes: named .json, .stix or .stix.json
 * and holding a JSON object. A .json file of indicator NDJSON starts with an object too, but its
 * first line is one on its own with no STIX `id` (a bundle's first line is rarely a whole object,
 * and when it is, it has an id, as a lone STIX object has). Unreadable: not a bundle (reading it
 * later says why).
 */
export async function isStixBundleFile(file: string): Promise<boolean> {
  if (!/\.(json|stix)$/i.test(file)) return false;
  const text = await fileHead(file);
  if (text === null || text.trimStart()[0] !== '{') return false;
  const newline = text.indexOf('\n');
  if (newline === -1) return true;
  try {
    const first = JSON.parse(text.slice(0, newline)) as { type?: unknown; id?: unknown };
    return first.type === 'bundle' || typeof first.id === 'string';
  } catch {
    return true; // a bundle laid out on several lines
  }
}

// MISP's own wrappings: `{"Event": …}`, a REST answer `{"response": …}`, or a list of either.
const MISP_START = /^\s*(?:\[\s*)?\{\s*"(?:Event|response)"\s*:/;

/** Whether a .json file is MISP event JSON by its first bytes (how MISP and PyMISP write an event). */
export async function isMispEventFile(file: string): Promise<boolean> {
  if (!/\.json$/i.test(file)) return false;
  const text = await fileHead(file);
  return text !== null && MISP_START.test(text);
}

/** The first PEEK_BYTES of a file as text (a BOM dropped); null when it cannot be read. */
async function fileHead(file: string): Promise<string | null> {
  let head: Buffer;
  try {
    const handle = await fs.promises.open(file, 'r');
    try {
      const buffer = Buffer.alloc(PEEK_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, PEEK_BYTES, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
  return head.toString('utf8').replace(/^\uFEFF/, '');
}

/**
 * `vytis import FILE --case ID`: streams the file into the case, through the running node's admin
 * socket when there is one, else straight into the database; a progress bar on a terminal. A STIX
 * bundle (told by its name and first bytes, or `--format stix`) goes to `importBundle`.
 */
export async function importCommand(file: string, flags: ImportFlags): Promise<CommandResult> {
  if (flags.format === 'misp' || (flags.format === undefined && (await isMispEventFile(file)))) {
    return importBundle(file, flags, 'misp');
  }
  // A .stix file is a bundle whatever it holds: the bundle reader says what is wrong with it.
  const bundle = flags.format === undefined && (/\.stix$/i.test(file) || (await isStixBundleFile(file)));
  if (flags.format === 'stix' || bundle) {
    return importBundle(file, flags, 'stix');
  }
  const format = flags.format ?? formatOf(file) ?? (flags.type ? 'lines' : null);
  if (!format) {
    return fail(
      `cannot tell the format of ${file}: name it .csv, .ndjson (.jsonl) or .txt, or .json (.stix) for a STIX 2.1 bundle or MISP event, or pass --format ${IMPORT_FORMATS.join('|')} (a plain list also needs --type T)\n`,
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
  const size = await fileSize(file);
  if (typeof size !== 'number') return size;

  const progress = progressBar(size, 'lines');
  const source = fs.createReadStream(file);
  const counted = countingStream(progress);
  source.on('error', (error) => counted.destroy(error));
  source.pipe(counted);
  try {
    const config = loadConfigOrExit();
    const socket = adminSocketPath(config.dataDir);
    if (await isNodeListening(socket)) return await sendImport(socket, request, counted);
    return await withServices(config, (services) => runImport(services, request, counted));
  } catch (error) {
    return fail(describeError(error));
  } finally {
    source.destroy();
    progress.stop();
  }
}

/**
 * A STIX bundle (or MISP event JSON) into the case, always by `StixService.importBundle` (or
 * `MispService.importEvents`): with a node running, the node imports it (under its access checks),
 * fed over the admin socket, and tells how far it has come; else in this process, from the file as
 * it lies.
 */
async function importBundle(
  file: string,
  flags: ImportFlags,
  format: 'stix' | 'misp',
): Promise<CommandResult> {
  if (flags.type !== undefined) {
    return fail(
      `--type is for a plain list (one value per line); ${format === 'misp' ? 'a MISP event names the type of each attribute' : 'a STIX bundle names the type of each object'}\n`,
    );
  }
  const request: StixImportRequest = {
    caseId: flags.case,
    as: flags.as,
    tlp: flags.tlp,
    partial: flags.partial ?? false,
  };
  const problem = stixRequestProblem(request);
  if (problem) return fail(`${problem}\n`);
  const size = await fileSize(file);
  if (typeof size !== 'number') return size;

  const progress = progressBar(size, 'objects');
  const source = fs.createReadStream(file);
  const onProgress = ({ bytes, lines }: { bytes: number; lines: number }) =>
    progress.update(bytes, lines, bytes >= size ? 'saving' : 'reading');
  try {
    const config = loadConfigOrExit();
    const socket = adminSocketPath(config.dataDir);
    if (await isNodeListening(socket)) {
      // The bar shows the file going to the node, then the node reading and saving it.
      const sent = countingStream({
        update: (bytes) => progress.update(bytes, 0, 'sending'),
        read: () => progress.update(0, 0, 'reading'),
        stop() {},
      });
      source.on('error', (error) => sent.destroy(error));
      source.pipe(sent);
      return await sendStixImport(socket, request, sent, onProgress, format);
    }
    const run = format === 'misp' ? runMispImport : runStixImport;
    return await withServices(config, (services) => run(services, request, source, onProgress));
  } catch (error) {
    return fail(describeError(error));
  } finally {
    source.destroy();
    progress.stop();
  }
}

/** The file's size when it is a file this process may read; else the answer saying why not. */
async function fileSize(file: string): Promise<number | CommandResult> {
  try {
    const stat = await fs.promises.stat(file);
    if (!stat.isFile()) return fail(`${file} is not a file\n`);
    await fs.promises.access(file, fs.constants.R_OK);
    return stat.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail(`cannot read ${file}: no such file\n`);
    if (code === 'EACCES') return fail(`cannot read ${file}: permission denied\n`);
    return fail(`cannot read ${file}: ${(error as Error).message}\n`);
  }
}

/** The services over the database, for one command while no node runs. */
async function withServices(
  config: Config,
  run: (services: Services) => Promise<CommandResult>,
): Promise<CommandResult> {
  const { services } = await openServices(config);
  try {
    return await run(services);
  } finally {
    await services.database.close();
  }
}

interface Progress {
  /** Bytes so far, and lines (or objects) so far; `stage` says what is being done with them. */
  update(bytes: number, count: number, stage?: string): void;
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
function progressBar(size: number, unit: 'lines' | 'objects'): Progress {
  if (!process.stderr.isTTY) return { update() {}, read() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `importing {bar} {percentage}% | {done} of {size} | {count} ${unit} | {stage}`,
      stream: process.stderr,
      hideCursor: true,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  const total = Math.max(size, 1);
  bar.start(total, 0, { done: bytesText(0), size: bytesText(size), count: 0, stage: 'reading' });
  let stopped = false;
  return {
    update(bytes, count, stage) {
      bar.update(Math.min(bytes, total), { done: bytesText(bytes), count, ...(stage ? { stage } : {}) });
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
