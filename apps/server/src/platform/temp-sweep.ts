import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What imports leave in the temporary directory while they run (spooled uploads, STIX texts). */
export const IMPORT_TEMP_PREFIXES = ['vytis-import-', 'vytis-stix-'] as const;

/**
 * Removes what a killed process left behind: import temporaries older than `olderThanMs` (an
 * import in another process on this machine is never that old, so none of its files is taken).
 * Returns how many it removed; a file it cannot remove is left for the next sweep.
 */
export function sweepStaleTemporaries(olderThanMs: number, now = Date.now(), dir = os.tmpdir()): number {
  let removed = 0;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!IMPORT_TEMP_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    const file = path.join(dir, name);
    try {
      if (now - fs.lstatSync(file).mtimeMs < olderThanMs) continue;
      fs.rmSync(file, { recursive: true, force: true });
      removed++;
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}
