import type { Clock } from '../../clock.ts';
import type { DatabaseHandle } from '../../platform/db/database.ts';
import { DatabaseEvidenceStore } from './evidence.database-store.ts';
import { FileEvidenceStore } from './evidence.file-store.ts';
import type { EvidenceStorage } from './evidence.storage.ts';

/**
 * Where a node keeps evidence content. On a PostgreSQL server, several processes serve one node
 * and share no disk, so the content goes where all of them reach it: the database. The embedded
 * database belongs to one process; its files stay under the data directory.
 */
export function evidenceStorageFor(
  database: DatabaseHandle,
  options: { dir: string; maxBytes: number; clock: Clock },
): EvidenceStorage {
  return database.kind === 'postgres'
    ? new DatabaseEvidenceStore(
        database.db,
        options.maxBytes,
        () => options.clock.now(),
        new FileEvidenceStore(options.dir, options.maxBytes),
      )
    : new FileEvidenceStore(options.dir, options.maxBytes);
}
