import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { type Kysely, sql, type Transaction } from 'kysely';
import { Migrator, NO_MIGRATIONS } from 'kysely/migration';
import tar from 'tar-stream';
import { checkpointFileIn } from '../audit/audit.checkpoint-file.ts';
import { AppError } from '../errors.ts';
import { migrations } from '../migrations/index.ts';
import { type DatabaseHandle, migrateToLatest } from '../platform/db/database.ts';
import type { Database } from '../platform/db/schema.ts';
import { keyFile } from '../platform/keys.ts';
import type { Progress } from './backup.ts';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  type BackupManifest,
  CHECKPOINTS_MEMBER,
  EVIDENCE_PREFIX,
  isKnownMemberName,
  isMigratorTable,
  KEYS_PREFIX,
  MANIFEST_MEMBER,
  SEQUENCES_MEMBER,
  TABLES_PREFIX,
} from './backup-format.ts';

const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
const INSERT_ROWS = 1000;
const INSERT_BYTES = 8 * 1024 * 1024;
/** Far above the longest row a backup writes (an evidence piece, 1 MiB, is a 2 MiB line). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;
const MAX_SEQUENCES_BYTES = 16 * 1024 * 1024;

const unusable = (file: string, why: string) =>
  new AppError('invalid_input', `${file} is not a usable Vytis backup: ${why}; nothing was restored`);

/**
 * Reads the whole archive once and checks it before anything is written: a gzipped tar of known
 * member names only, a manifest of a format this version reads, every member listed with the size
 * and SHA-256 it has, none missing, and a schema this version knows.
 */
export async function verifyArchive(file: string, progress: Progress = () => {}): Promise<BackupManifest> {
  const found = new Map<string, { size: number; sha256: string }>();
  let manifestText: string | undefined;
  try {
    for await (const entry of readArchive(file)) {
      const { name, type } = entry.header;
      if (type !== 'file') throw unusable(file, `it holds a ${type} entry ${name}`);
      if (name === MANIFEST_MEMBER) {
        manifestText = await readSmall(entry as AsyncIterable<Buffer>, MAX_MANIFEST_BYTES, file);
        continue;
      }
      if (!isKnownMemberName(name)) throw unusable(file, `it holds an unexpected member ${name}`);
      if (found.has(name)) throw unusable(file, `it holds ${name} twice`);
      const hash = crypto.createHash('sha256');
      let size = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        hash.update(chunk);
        size += chunk.length;
      }
      found.set(name, { size, sha256: hash.digest('hex') });
      if (found.size % 500 === 0) progress(`checked ${found.size} members`);
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw unusable(file, `it cannot be read as a gzipped tar (${(error as Error).message})`);
  }
  if (manifestText === undefined) throw unusable(file, `it has no ${MANIFEST_MEMBER} (cut off?)`);
  const manifest = parseManifest(file, manifestText);
  for (const member of manifest.members) {
    const got = found.get(member.path);
    if (!got) throw unusable(file, `${member.path} is listed in the manifest but missing`);
    if (got.size !== member.size || got.sha256 !== member.sha256) {
      throw unusable(file, `${member.path} does not match its SHA-256 in the manifest`);
    }
    found.delete(member.path);
  }
  const extra = [...found.keys()];
  if (extra.length > 0) throw unusable(file, `${extra[0]} is not listed in the manifest`);
  const known = Object.keys(migrations);
  const unknown = manifest.migrations.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw unusable(
      file,
      `it was taken by a newer Vytis (schema ${unknown.join(', ')}); restore it with that version or later`,
    );
  }
  if (manifest.migrations.some((name, i) => known[i] !== name)) {
    throw unusable(
      file,
      `its schema (${manifest.migrations.join(', ')}) is not one this version went through`,
    );
  }
  return manifest;
}

function parseManifest(file: string, text: string): BackupManifest {
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(text) as BackupManifest;
  } catch {
    throw unusable(file, `its ${MANIFEST_MEMBER} is not JSON`);
  }
  if (manifest?.format !== BACKUP_FORMAT)
    throw unusable(file, `its manifest is not a ${BACKUP_FORMAT} manifest`);
  if (manifest.formatVersion !== BACKUP_FORMAT_VERSION) {
    throw unusable(
      file,
      `it is format version ${manifest.formatVersion}; this version reads ${BACKUP_FORMAT_VERSION}`,
    );
  }
  if (
    !Array.isArray(manifest.members) ||
    !Array.isArray(manifest.migrations) ||
    manifest.migrations.length === 0 ||
    manifest.members.some(
      (m) => typeof m?.path !== 'string' || typeof m.size !== 'number' || typeof m.sha256 !== 'string',
    )
  ) {
    throw unusable(file, 'its manifest is incomplete');
  }
  return manifest;
}

export interface RestoreTarget {
  database: DatabaseHandle;
  dataDir: string;
  evidenceDir: string;
}

export interface RestoreSummary {
  tables: number;
  rows: number;
  evidenceFiles: number;
  keyFiles: number;
}

/**
 * Restores a verified archive into an empty database and data directory: the schema by running
 * the migrations up to the backup's, then every table in one transaction (foreign keys are
 * dropped while the rows go in and added back, which checks them all), the sequences, the key and
 * evidence files. Each member is hashed again as it is written and must still match the manifest.
 * Then the migrations this version adds on top are applied.
 */
export async function restoreArchive(
  file: string,
  manifest: BackupManifest,
  target: RestoreTarget,
  progress: Progress = () => {},
): Promise<RestoreSummary> {
  const db = target.database.db;
  if (manifest.engine !== target.database.kind && (manifest.tables.evidence ?? 0) > 0) {
    // Each engine keeps evidence content its own way (files beside PGlite, rows in PostgreSQL).
    throw new AppError(
      'invalid_input',
      `this backup was taken on ${manifest.engine} and holds evidence, which ${target.database.kind} keeps elsewhere; restore it on ${manifest.engine}${manifest.engine === 'postgres' ? ' (set DATABASE_URL)' : ' (unset DATABASE_URL)'}; nothing was restored`,
    );
  }
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error } = await migrator.migrateTo(manifest.migrations.at(-1)!);
  if (error) throw error;
  const expected = new Map(manifest.members.map((m) => [m.path, m]));
  const summary: RestoreSummary = { tables: 0, rows: 0, evidenceFiles: 0, keyFiles: 0 };
  await db.transaction().execute(async (trx) => {
    const foreignKeys = (
      await sql<{ table: string; name: string; definition: string }>`
        select conrelid::regclass::text as table, conname as name, pg_get_constraintdef(oid) as definition
        from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace
        order by conrelid::regclass::text, conname`.execute(trx)
    ).rows;
    for (const fk of foreignKeys) {
      await sql`alter table ${sql.raw(fk.table)} drop constraint ${sql.id(fk.name)}`.execute(trx);
    }
    const tables = (
      await sql<{
        name: string;
      }>`select tablename as name from pg_tables where schemaname = 'public'`.execute(trx)
    ).rows
      .map((row) => row.name)
      .filter((name) => !isMigratorTable(name));
    if (tables.length > 0) await sql`truncate ${sql.join(tables.map((t) => sql.table(t)))}`.execute(trx);
    const loaded = new Set<string>();

    for await (const entry of readArchive(file)) {
      const name = entry.header.name;
      const member = expected.get(name);
      if (name === MANIFEST_MEMBER || !member) {
        if (!member && name !== MANIFEST_MEMBER) throw unusable(file, `${name} changed since it was checked`);
        entry.resume();
        continue;
      }
      const hash = crypto.createHash('sha256');
      const hashed = (async function* () {
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          hash.update(chunk);
          yield chunk;
        }
      })();
      if (name.startsWith(TABLES_PREFIX)) {
        const table = name.slice(TABLES_PREFIX.length, -'.ndjson'.length);
        if (isMigratorTable(table)) {
          for await (const _ of hashed);
        } else {
          if (!tables.includes(table)) {
            throw unusable(
              file,
              `it holds table ${table}, which the schema ${manifest.migrations.at(-1)} has not`,
            );
          }
          const rows = await loadTable(trx, table, hashed, () =>
            unusable(file, `${name} has a line longer than ${MAX_LINE_BYTES} bytes`),
          );
          loaded.add(table);
          summary.tables++;
          summary.rows += rows;
          progress(`restored ${table}: ${rows} rows`);
        }
      } else if (name === SEQUENCES_MEMBER) {
        await restoreSequences(trx, JSON.parse(await readSmall(hashed, MAX_SEQUENCES_BYTES, file, name)));
      } else if (name.startsWith(KEYS_PREFIX)) {
        await writeFile(
          path.join(path.dirname(keyFile(target.dataDir)), name.slice(KEYS_PREFIX.length)),
          hashed,
        );
        summary.keyFiles++;
      } else if (name === CHECKPOINTS_MEMBER) {
        await writeFile(checkpointFileIn(target.dataDir), hashed);
      } else if (name.startsWith(EVIDENCE_PREFIX)) {
        await writeFile(path.join(target.evidenceDir, name.slice(EVIDENCE_PREFIX.length)), hashed);
        summary.evidenceFiles++;
        if (summary.evidenceFiles % 100 === 0) progress(`restored ${summary.evidenceFiles} evidence files`);
      }
      if (hash.digest('hex') !== member.sha256) throw unusable(file, `${name} changed since it was checked`);
      expected.delete(name);
    }
    if (expected.size > 0)
      throw unusable(file, `${[...expected.keys()][0]} went missing since it was checked`);
    const missing = tables.filter((t) => !loaded.has(t));
    if (missing.length > 0) throw unusable(file, `it has no rows file for table ${missing.join(', ')}`);
    for (const fk of foreignKeys) {
      await sql`alter table ${sql.raw(fk.table)} add constraint ${sql.id(fk.name)} ${sql.raw(fk.definition)}`.execute(
        trx,
      );
    }
  });
  await migrateToLatest(db);
  return summary;
}

/** Undoes a failed restore's schema, so the database is empty again as it was found. */
export async function dropRestoredSchema(db: Kysely<Database>) {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  await migrator.migrateTo(NO_MIGRATIONS);
  await sql`drop table if exists kysely_migration, kysely_migration_lock`.execute(db);
}

async function loadTable(
  trx: Transaction<Database>,
  table: string,
  lines: AsyncIterable<Buffer>,
  tooLong: () => Error,
) {
  const columns = (
    await sql<{ name: string }>`
      select attname as name from pg_attribute
      where attrelid = ${table}::regclass and attnum > 0 and not attisdropped and attgenerated = ''
      order by attnum`.execute(trx)
  ).rows.map((row) => sql.id(row.name));
  const list = sql.join(columns);
  let rows = 0;
  let batch: string[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const json = `[${batch.join(',')}]`;
    await sql`insert into ${sql.table(table)} (${list})
      select ${list} from json_populate_recordset(null::${sql.table(table)}, ${json}::json)`.execute(trx);
    rows += batch.length;
    batch = [];
    batchBytes = 0;
  };
  for await (const line of splitLines(lines, tooLong)) {
    batch.push(line);
    batchBytes += line.length;
    if (batch.length >= INSERT_ROWS || batchBytes >= INSERT_BYTES) await flush();
  }
  await flush();
  return rows;
}

async function restoreSequences(
  trx: Transaction<Database>,
  sequences: { name: string; value: string | null }[],
) {
  for (const { name, value } of sequences) {
    if (value === null) continue;
    await sql`select setval(${name}::regclass, ${value}::bigint, true)`.execute(trx);
  }
}

/**
 * The lines of a table member, each read as bytes as far as its end and then decoded: memory
 * holds one line and one chunk, and a line longer than any row a backup writes is refused.
 */
export async function* splitLines(
  chunks: AsyncIterable<Buffer>,
  tooLong: () => Error = () => new Error(`a line is longer than ${MAX_LINE_BYTES} bytes`),
): AsyncIterable<string> {
  let parts: Buffer[] = [];
  let partsBytes = 0;
  const take = (piece: Buffer) => {
    partsBytes += piece.length;
    if (partsBytes > MAX_LINE_BYTES) throw tooLong();
    parts.push(piece);
  };
  const line = () => {
    const text = Buffer.concat(parts, partsBytes).toString('utf8');
    parts = [];
    partsBytes = 0;
    return text;
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
      take(chunk.subarray(start, end));
      start = end + 1;
      const text = line();
      if (text !== '') yield text;
    }
    if (start < chunk.length) take(chunk.subarray(start));
  }
  const text = line();
  if (text !== '') yield text;
}

async function writeFile(file: string, chunks: AsyncIterable<Buffer>) {
  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const handle = await fs.promises.open(file, 'wx', 0o600);
  try {
    for await (const chunk of chunks) await handle.write(chunk);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readSmall(entry: AsyncIterable<Buffer>, limit: number, file: string, name = MANIFEST_MEMBER) {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of entry) {
    size += chunk.length;
    if (size > limit) throw unusable(file, `its ${name} is larger than ${limit} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The archive's entries in order; a read or gzip error ends the iteration with that error. */
function readArchive(file: string): tar.Extract {
  const extract = tar.extract();
  const input = fs.createReadStream(file);
  const gunzip = zlib.createGunzip();
  input.on('error', (error) => extract.destroy(error));
  gunzip.on('error', (error) => extract.destroy(error));
  extract.on('close', () => input.destroy());
  input.pipe(gunzip).pipe(extract);
  return extract;
}
