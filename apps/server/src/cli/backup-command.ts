import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { sql } from 'kysely';
import { CHECKPOINT_FILE_NAME } from '../audit/audit.checkpoint-file.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { openServices } from '../node.ts';
import { openDatabase, redactUrl } from '../platform/db/database.ts';
import { adminSocketPath, isNodeListening } from './admin-socket.ts';
import { formatBytes, type Progress, writeBackup } from './backup.ts';
import {
  BACKUP_TRAILER,
  type BackupManifest,
  type BackupOutcome,
  type BackupSummary,
  summaryOf,
} from './backup-format.ts';
import { type CommandResult, runCommand } from './commands.ts';
import { describeError } from './describe-error.ts';
import { dropRestoredSchema, restoreArchive, verifyArchive } from './restore.ts';

const fail = (stderr: string): CommandResult => ({ exitCode: 1, stdout: '', stderr });

/**
 * Progress on stderr for long runs only: nothing in the first two seconds, then at most a line a
 * second, the latest news first.
 */
function progressReporter(what: string): { report: Progress; stop: () => void } {
  const started = Date.now();
  let latest: string | null = null;
  const timer = setInterval(() => {
    if (latest === null || Date.now() - started < 2000) return;
    process.stderr.write(`vytis: ${what}: ${latest}\n`);
    latest = null;
  }, 1000);
  timer.unref();
  return {
    report: (message) => {
      latest = message;
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * `vytis backup FILE`: the archive is written beside FILE under a temporary name, flushed, and
 * renamed onto FILE only when complete, so FILE is always a whole backup (an older one is
 * replaced only by a newer whole one).
 */
export async function backupCommand(file: string, config: Config): Promise<CommandResult> {
  const target = path.resolve(file);
  const directory = path.dirname(target);
  if (!fs.statSync(directory, { throwIfNoEntry: false })?.isDirectory()) {
    return fail(`cannot write ${file}: the directory ${directory} does not exist\n`);
  }
  if (fs.statSync(target, { throwIfNoEntry: false })?.isDirectory()) {
    return fail(
      `cannot write ${file}: it is a directory; name the archive file, e.g. ${path.join(file, 'vytis.tar.gz')}\n`,
    );
  }
  const partial = `${target}.partial-${process.pid}`;
  let out: fs.WriteStream;
  try {
    out = await openForWriting(partial);
  } catch (error) {
    return fail(
      `cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`,
    );
  }
  const progress = progressReporter('backup');
  const bytes = setInterval(() => progress.report(`${formatBytes(out.bytesWritten)} written`), 1000);
  bytes.unref();
  try {
    const socket = adminSocketPath(config.dataDir);
    const summary = (await isNodeListening(socket))
      ? await receiveBackup(socket, out)
      : await backupDirectly(config, out, progress.report);
    await closeAndSync(out);
    await fs.promises.rename(partial, target);
    await syncDirectory(directory);
    const size = fs.statSync(target).size;
    const warning =
      summary.evidenceWithoutFile > 0
        ? `${summary.evidenceWithoutFile} evidence item(s) had their content neither in the database nor as a file in the evidence directory, and are in the backup without it\n`
        : '';
    return {
      exitCode: 0,
      stdout: `backup ${file}: ${summary.tables} tables, ${summary.rows} rows, ${summary.evidenceFiles} evidence files, key ${summary.keyId ?? '(none)'}, ${formatBytes(size)}\n`,
      stderr: warning,
    };
  } catch (error) {
    out.destroy();
    await fs.promises.rm(partial, { force: true });
    return fail(`backup failed, nothing was written to ${file}: ${describeError(error)}`);
  } finally {
    clearInterval(bytes);
    progress.stop();
  }
}

async function openForWriting(file: string): Promise<fs.WriteStream> {
  const out = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
  await new Promise<void>((resolve, reject) => {
    out.once('open', () => resolve());
    out.once('error', reject);
  });
  return out;
}

async function backupDirectly(
  config: Config,
  out: fs.WriteStream,
  progress: Progress,
): Promise<BackupSummary> {
  if (!config.databaseUrl && !fs.existsSync(path.join(config.dataDir, 'db'))) {
    throw new AppError('invalid_input', `there is no database in ${config.dataDir}: nothing to back up`);
  }
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: path.join(config.dataDir, 'db'),
  });
  try {
    const manifest = await writeBackup(
      { database, dataDir: config.dataDir, evidenceDir: config.evidenceDir },
      out,
      progress,
    );
    return summaryOf(manifest);
  } finally {
    await database.close();
  }
}

/** Asks the running node for the archive over its admin socket and writes it to `out`. */
function receiveBackup(socketPath: string, out: fs.WriteStream): Promise<BackupSummary> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: '/backup', method: 'POST' }, (res) => {
      res.on('data', (chunk: Buffer) => {
        if (!out.write(chunk)) {
          res.pause();
          out.once('drain', () => res.resume());
        }
      });
      res.on('error', reject);
      res.on('aborted', () =>
        reject(new Error('the node stopped sending the backup before it was complete')),
      );
      res.on('end', () => {
        const trailer = res.trailers[BACKUP_TRAILER];
        if (!res.complete || !trailer) {
          reject(new Error('the node stopped sending the backup before it was complete'));
          return;
        }
        const outcome = JSON.parse(decodeURIComponent(trailer)) as BackupOutcome;
        if (outcome.summary) resolve(outcome.summary);
        else reject(new Error(outcome.error ?? 'the node could not make the backup'));
      });
    });
    out.on('error', (error) => {
      req.destroy();
      reject(error);
    });
    req.on('error', reject);
    req.end();
  });
}

async function closeAndSync(out: fs.WriteStream) {
  await new Promise<void>((resolve, reject) => {
    out.end((error?: Error | null) => (error ? reject(error) : resolve()));
  });
  const handle = await fs.promises.open(out.path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(dir: string) {
  const handle = await fs.promises.open(dir, 'r').catch(() => null);
  if (!handle) return;
  await handle.sync().catch(() => {});
  await handle.close();
}

/**
 * `vytis restore FILE`: into an empty data directory (embedded database) or an empty database
 * (DATABASE_URL) with a data directory that holds no keys or evidence yet. The archive is checked
 * whole before anything is written; a restore that fails part-way removes what it wrote. Ends by
 * verifying the restored audit chain with the restored key.
 */
export async function restoreCommand(file: string, config: Config): Promise<CommandResult> {
  const archive = path.resolve(file);
  if (!fs.statSync(archive, { throwIfNoEntry: false })?.isFile()) {
    return fail(`cannot read ${file}: no such file\n`);
  }
  if (await isNodeListening(adminSocketPath(config.dataDir))) {
    return fail(
      `a node is running on ${config.dataDir}; restore goes into an empty data directory with no node running\n`,
    );
  }
  const occupied = await targetProblem(config);
  if (occupied) return fail(occupied);

  const progress = progressReporter('restore');
  let manifest: BackupManifest;
  try {
    manifest = await verifyArchive(archive, progress.report);
  } catch (error) {
    progress.stop();
    return fail(describeError(error));
  }
  const created = ['db', 'keys', 'evidence', CHECKPOINT_FILE_NAME].map((name) =>
    path.join(config.dataDir, name),
  );
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    pgliteDir: config.databaseUrl ? undefined : created[0],
  });
  let restored: Awaited<ReturnType<typeof restoreArchive>>;
  try {
    restored = await restoreArchive(
      archive,
      manifest,
      { database, dataDir: config.dataDir, evidenceDir: config.evidenceDir },
      progress.report,
    );
  } catch (error) {
    if (config.databaseUrl) await dropRestoredSchema(database.db).catch(() => {});
    await database.close();
    for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
    return fail(`restore failed, the target was left empty: ${describeError(error)}`);
  } finally {
    progress.stop();
  }
  await database.close();

  const into = config.databaseUrl ? `${redactUrl(config.databaseUrl)} and ${config.dataDir}` : config.dataDir;
  const stdout = `restored ${file} into ${into}: ${restored.tables} tables, ${restored.rows} rows, ${restored.evidenceFiles} evidence files, key ${manifest.keyId ?? '(none)'}\n`;
  let opened: Awaited<ReturnType<typeof openServices>>;
  try {
    opened = await openServices(config);
  } catch (error) {
    return { exitCode: 1, stdout, stderr: `the restored node does not open: ${describeError(error)}` };
  }
  const { services, applied } = opened;
  try {
    const verified = await runCommand(services, { name: 'audit.verify' }, { applied });
    return { ...verified, stdout: `${stdout}audit chain: ${verified.stdout}` };
  } finally {
    await services.database.close();
  }
}

/** Why the configured target is not empty, or null when restore may write into it. */
async function targetProblem(config: Config): Promise<string | null> {
  const entries = fs.existsSync(config.dataDir) ? fs.readdirSync(config.dataDir) : [];
  if (!config.databaseUrl) {
    if (entries.length === 0) return null;
    return `${config.dataDir} is not empty (it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); restore needs an empty data directory: point VYTIS_DATA_DIR at a new one\n`;
  }
  const database = await openDatabase({ databaseUrl: config.databaseUrl, poolSize: 1 });
  try {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from pg_tables where schemaname = 'public'`.execute(database.db);
    const tables = rows[0]?.n ?? 0;
    if (tables === 0) return dataDirProblem(config.dataDir);
    return `the database ${redactUrl(config.databaseUrl)} is not empty (${tables} tables); restore needs an empty database: create a new one and point DATABASE_URL at it\n`;
  } catch (error) {
    return describeError(error);
  } finally {
    await database.close();
  }
}

/** With DATABASE_URL the data directory holds only the node key and evidence files. */
function dataDirProblem(dataDir: string): string | null {
  const filled = ['keys', 'evidence', CHECKPOINT_FILE_NAME].filter((name) => {
    const stat = fs.statSync(path.join(dataDir, name), { throwIfNoEntry: false });
    return stat?.isFile() || (stat?.isDirectory() && fs.readdirSync(path.join(dataDir, name)).length > 0);
  });
  if (filled.length > 0) {
    return `${dataDir} is not empty (it holds ${filled.join(' and ')}); restore needs a data directory without keys, evidence or checkpoints: point VYTIS_DATA_DIR at a new one\n`;
  }
  return null;
}
