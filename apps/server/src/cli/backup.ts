import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import zlib from 'node:zlib';
import { type Kysely, sql } from 'kysely';
import tar from 'tar-stream';
import { checkpointFileIn } from '../audit/audit.checkpoint-file.ts';
import { AppError } from '../errors.ts';
import type { DatabaseHandle } from '../platform/db/database.ts';
import type { Database } from '../platform/db/schema.ts';
import { keyFile, nodeKeyFromPrivatePem } from '../platform/keys.ts';
import { sealingKeyProblem } from '../platform/secret-box.ts';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  type BackupManifest,
  type BackupMember,
  CHECKPOINTS_MEMBER,
  EVIDENCE_PREFIX,
  KEYS_PREFIX,
  MANIFEST_MEMBER,
  SEQUENCES_MEMBER,
  tableMember,
} from './backup-format.ts';

export interface BackupSource {
  database: DatabaseHandle;
  dataDir: string;
  evidenceDir: string;
}

export type Progress = (message: string) => void;

interface SpooledTable {
  name: string;
  file: string;
  rows: number;
  size: number;
  sha256: string;
}

interface DatabaseSnapshot {
  migrations: string[];
  tables: SpooledTable[];
  sequences: { name: string; value: string | null }[];
  evidenceIds: string[];
  /** How many audit events the snapshot holds. */
  auditEvents: number;
}

/**
 * Rows are read as slices of their JSON line of at most this many bytes, a fetch at most
 * FETCH_SLICES of them: a batch is then bounded in bytes whatever the rows hold (an evidence piece
 * is a 2 MiB line), and small rows still come a thousand to a round trip.
 */
const SLICE_BYTES = 8 * 1024;
const FETCH_SLICES = 1000;
/** The most bytes of table rows one fetch holds in memory. */
export const MAX_FETCH_BYTES = SLICE_BYTES * FETCH_SLICES;

/**
 * Writes a backup archive of a node to `out` (which it does not end) and returns its manifest.
 *
 * The database is read in one REPEATABLE READ transaction, so it is one snapshot: a write that
 * committed before it is wholly in, one that did not is wholly out. It is spooled to a temporary
 * directory first, so the snapshot is held only as long as reading takes, not as long as the
 * archive takes to reach a slow disk or client. Evidence files are taken for the items of that
 * snapshot: a file is placed before its row commits and never changes afterwards, so every item
 * in the snapshot has its complete file.
 */
export async function writeBackup(
  source: BackupSource,
  out: Writable,
  progress: Progress = () => {},
): Promise<BackupManifest> {
  // A backup restores into a working node only with the key its second factors are sealed under.
  const keyProblem = await sealingKeyProblem(source.dataDir, source.database.db);
  if (keyProblem) throw new AppError('conflict', `cannot back up this node from here: ${keyProblem}`);
  const spoolDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'vytis-backup-'));
  try {
    const snapshot = await snapshotDatabase(source.database.db, spoolDir, progress);
    const pack = tar.pack();
    const gzip = zlib.createGzip();
    pack.pipe(gzip);
    const copied = copyInto(gzip, out);
    // Once the archive cannot be written (a full disk, a reader gone), nothing drains the pack and
    // adding a member would wait for ever: every step races the copy's failure.
    const copyFailed = copied.then(
      () => new Promise<never>(() => {}),
      (error: unknown) => {
        throw error;
      },
    );
    copyFailed.catch(() => {});
    const step = <T>(work: Promise<T>) => Promise.race([work, copyFailed]);
    try {
      const members: BackupMember[] = [];
      for (const table of snapshot.tables) {
        await step(addFile(pack, tableMember(table.name), table.file, table.size));
        members.push({ path: tableMember(table.name), size: table.size, sha256: table.sha256 });
      }
      const sequences = Buffer.from(JSON.stringify(snapshot.sequences));
      members.push(await step(addBuffer(pack, SEQUENCES_MEMBER, sequences)));

      const keyId = await step(addKeys(pack, source.dataDir, members));
      const checkpoints = await checkpointsUpTo(source.dataDir, snapshot.auditEvents);
      if (checkpoints) members.push(await step(addBuffer(pack, CHECKPOINTS_MEMBER, checkpoints)));

      const evidenceWithoutFile: string[] = [];
      let evidenceFiles = 0;
      for (const id of snapshot.evidenceIds) {
        const file = path.join(source.evidenceDir, id);
        const stat = await fs.promises.stat(file).catch(() => null);
        if (!stat?.isFile()) {
          evidenceWithoutFile.push(id);
          continue;
        }
        const name = `${EVIDENCE_PREFIX}${id}`;
        members.push({
          path: name,
          size: stat.size,
          sha256: await step(addFile(pack, name, file, stat.size)),
        });
        evidenceFiles++;
        if (evidenceFiles % 100 === 0)
          progress(`evidence: ${evidenceFiles} of ${snapshot.evidenceIds.length} files`);
      }

      const manifest: BackupManifest = {
        format: BACKUP_FORMAT,
        formatVersion: BACKUP_FORMAT_VERSION,
        createdAt: new Date().toISOString(),
        nodejs: process.version,
        engine: source.database.kind,
        migrations: snapshot.migrations,
        keyId,
        tables: Object.fromEntries(snapshot.tables.map((t) => [t.name, t.rows])),
        evidenceFiles,
        evidenceWithoutFile,
        members,
      };
      await step(addBuffer(pack, MANIFEST_MEMBER, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)));
      pack.finalize();
      await copied;
      return manifest;
    } catch (error) {
      pack.destroy();
      throw error;
    }
  } finally {
    await fs.promises.rm(spoolDir, { recursive: true, force: true });
  }
}

/** Copies without ending `out`: the caller ends it (a file is closed, an HTTP answer gets trailers). */
async function copyInto(from: NodeJS.ReadableStream & AsyncIterable<Buffer>, out: Writable) {
  for await (const chunk of from) {
    if (out.destroyed) throw cutOff();
    if (!out.write(chunk)) await drained(out);
  }
}

const cutOff = () => new Error('the backup was cut off: its reader went away');

/** Resolves when `out` takes more; fails when it closes or errs first. Leaves no listener behind. */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', onError);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(cutOff());
    const onError = (error: Error) => settle(error);
    out.on('drain', onDrain);
    out.on('close', onClose);
    out.on('error', onError);
  });
}

async function snapshotDatabase(
  db: Kysely<Database>,
  spoolDir: string,
  progress: Progress,
): Promise<DatabaseSnapshot> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const names = (
        await sql<{ name: string }>`
          select tablename as name from pg_tables where schemaname = 'public' order by tablename`.execute(trx)
      ).rows.map((row) => row.name);
      if (!names.includes('kysely_migration')) {
        throw new AppError(
          'invalid_input',
          'the database holds no Vytis schema: there is nothing to back up',
        );
      }
      const migrations = (
        await sql<{ name: string }>`select name from kysely_migration order by name`.execute(trx)
      ).rows.map((row) => row.name);
      const tables: SpooledTable[] = [];
      for (const name of names) {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) {
          throw new Error(`table ${JSON.stringify(name)} has a name backups do not support`);
        }
        const table = await spoolTable(trx, name, path.join(spoolDir, `${name}.ndjson`));
        tables.push(table);
        progress(`database: ${name}, ${table.rows} rows`);
      }
      const sequences = (
        await sql<{ name: string; value: string | null }>`
          select sequencename as name, last_value::text as value
          from pg_sequences where schemaname = 'public' order by sequencename`.execute(trx)
      ).rows;
      // On PostgreSQL evidence content is in the database (evidence_chunks), already in the dump;
      // the items whose content is not whole there may still have a file from before.
      const evidenceIds = !names.includes('evidence')
        ? []
        : names.includes('evidence_chunks')
          ? await evidenceIdsNotWholeInDatabase(trx)
          : (
              await sql<{ id: string }>`select id::text as id from evidence order by id`.execute(trx)
            ).rows.map((row) => row.id);
      const auditEvents = names.includes('audit_events')
        ? ((await sql<{ n: number }>`select count(*)::int as n from audit_events`.execute(trx)).rows[0]?.n ??
          0)
        : 0;
      return { migrations, tables, sequences, evidenceIds, auditEvents };
    });
}

/**
 * The items whose content is not whole in evidence_chunks (the same test the store applies): those
 * recorded before the node kept evidence in its database, whose file is still to be taken in, and
 * any whose pieces are incomplete. Their file, where this process has it, goes into the archive.
 * An empty item has no pieces and needs none.
 */
async function evidenceIdsNotWholeInDatabase(trx: Kysely<Database>) {
  const { rows } = await sql<{ id: string }>`
    select e.id::text as id from evidence e
    cross join lateral (
      select count(*) as pieces, coalesce(sum(length(c.data)), 0) as bytes, coalesce(max(c.seq), -1) as last
      from evidence_chunks c where c.evidence_id = e.id) stored
    where stored.bytes <> e.size or stored.last <> stored.pieces - 1
    order by e.id`.execute(trx);
  return rows.map((row) => row.id);
}

export interface TableBatch {
  /** Whole NDJSON lines, or part of one: the lines continue in the next batch. */
  bytes: Buffer;
  /** How many lines start in this batch. */
  rows: number;
}

/**
 * Every row of a table as PostgreSQL's own JSON of it, one per line, in batches of at most
 * MAX_FETCH_BYTES. A cursor hands out each line in slices (cut by bytes, so a character may span
 * two slices; the batches are bytes, and joined they are the text).
 */
export async function* tableBatches(trx: Kysely<Database>, name: string): AsyncGenerator<TableBatch> {
  const slice = sql.raw(String(SLICE_BYTES));
  // Slices come as base64 text, which both engines hand over as it is (PGlite parses bytea slowly).
  // `offset 0` keeps the row's JSON a column of the subquery, computed once per row; flattened, it
  // would be computed again for every slice.
  await sql`declare vytis_backup_rows no scroll cursor for
    select s.i as slice, r.last, encode(substring(r.line from s.i * ${slice} + 1 for ${slice}), 'base64') as base64
    from (
      select line, (length(line) - 1) / ${slice} as last
      from (select convert_to(to_json(t)::text || chr(10), 'UTF8') as line from ${sql.table(name)} as t offset 0) as j
      offset 0) as r,
      generate_series(0, r.last) as s(i)`.execute(trx);
  let open = true;
  try {
    let previous = { slice: 0, last: 0 };
    for (;;) {
      const { rows } = await sql<{
        slice: number;
        last: number;
        base64: string;
      }>`fetch ${sql.raw(String(FETCH_SLICES))} from vytis_backup_rows`.execute(trx);
      if (rows.length === 0) break;
      let started = 0;
      for (const row of rows) {
        const next = row.slice === 0 ? previous.slice === previous.last : row.slice === previous.slice + 1;
        if (!next) throw new Error(`the rows of ${name} came back out of order`);
        if (row.slice === 0) started++;
        previous = row;
      }
      // PostgreSQL breaks base64 into lines, which Buffer.from skips.
      yield { bytes: Buffer.concat(rows.map((row) => Buffer.from(row.base64, 'base64'))), rows: started };
    }
    if (previous.slice !== previous.last) throw new Error(`the last row of ${name} came back cut off`);
    open = false;
    await sql`close vytis_backup_rows`.execute(trx);
  } finally {
    // A reader that stops early leaves the cursor open; the transaction goes on with other tables.
    if (open) await sql`close vytis_backup_rows`.execute(trx).catch(() => {});
  }
}

/** A table's lines into a file, a batch at a time. */
async function spoolTable(trx: Kysely<Database>, name: string, file: string): Promise<SpooledTable> {
  const handle = await fs.promises.open(file, 'wx', 0o600);
  const hash = crypto.createHash('sha256');
  let rows = 0;
  let size = 0;
  try {
    for await (const batch of tableBatches(trx, name)) {
      hash.update(batch.bytes);
      size += batch.bytes.length;
      rows += batch.rows;
      await handle.appendFile(batch.bytes);
    }
  } finally {
    await handle.close();
  }
  return { name, file, rows, size, sha256: hash.digest('hex') };
}

/**
 * The node's checkpoint file as far as the snapshot goes: a checkpoint signed after it vouches for
 * events the backup does not hold, and would make the restored chain look cut.
 */
async function checkpointsUpTo(dataDir: string, auditEvents: number): Promise<Buffer | null> {
  const text = await fs.promises.readFile(checkpointFileIn(dataDir), 'utf8').catch(() => null);
  if (text === null) return null;
  const kept = text.split('\n').filter((line) => {
    if (line.trim() === '') return false;
    try {
      const size = (JSON.parse(line) as { size?: unknown }).size;
      return typeof size !== 'number' || size <= auditEvents;
    } catch {
      return true; // kept as it was: the verifier names a damaged line
    }
  });
  return Buffer.from(kept.map((line) => `${line}\n`).join(''));
}

async function addKeys(pack: tar.Pack, dataDir: string, members: BackupMember[]): Promise<string | null> {
  const keysDir = path.dirname(keyFile(dataDir));
  const names = await fs.promises.readdir(keysDir).catch(() => [] as string[]);
  for (const name of names.sort()) {
    const file = path.join(keysDir, name);
    const stat = await fs.promises.stat(file);
    if (!stat.isFile() || !/^[A-Za-z0-9._-]+$/.test(name)) continue;
    const member = `${KEYS_PREFIX}${name}`;
    members.push({ path: member, size: stat.size, sha256: await addFile(pack, member, file, stat.size) });
  }
  if (!names.includes(path.basename(keyFile(dataDir)))) return null;
  return nodeKeyFromPrivatePem(await fs.promises.readFile(keyFile(dataDir), 'utf8')).keyId;
}

/** Adds a file of known size as a member and returns its SHA-256; a file that changes size fails. */
function addFile(pack: tar.Pack, name: string, file: string, size: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash('sha256');
    const entry = pack.entry({ name, size, mode: 0o600, mtime: new Date() }, (error) =>
      error ? reject(error) : resolve(hash.digest('hex')),
    );
    const input = fs.createReadStream(file);
    input.on('data', (chunk) => hash.update(chunk));
    input.on('error', (error) => {
      entry.destroy(error);
      reject(error);
    });
    input.pipe(entry);
  });
}

async function addBuffer(pack: tar.Pack, name: string, bytes: Buffer): Promise<BackupMember> {
  await new Promise<void>((resolve, reject) => {
    pack.entry({ name, size: bytes.length, mode: 0o600, mtime: new Date() }, bytes, (error) =>
      error ? reject(error) : resolve(),
    );
  });
  return { path: name, size: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') };
}

/** `12.3 MB`, for progress lines. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
