import path from 'node:path';
import { AuditService } from '../audit/audit.service.ts';
import { systemClock } from '../clock.ts';
import type { Config } from '../config.ts';
import { CLI_ACTOR } from '../context.ts';
import { removeAllSecondFactors } from '../modules/identity/mfa.repository.ts';
import { migrateToLatest, openDatabase } from '../platform/db/database.ts';
import { inTransaction } from '../platform/db/transaction.ts';
import { loadOrCreateNodeKey } from '../platform/keys.ts';
import { prepareNewKey, sealingKeyProblem } from '../platform/secret-box.ts';
import { adminSocketPath, isNodeListening } from './admin-socket.ts';
import type { CommandResult } from './commands.ts';
import { describeError } from './describe-error.ts';

const fail = (stderr: string): CommandResult => ({ exitCode: 1, stdout: '', stderr });

/**
 * `vytis key new-sealing-key --yes`: for a node whose key for sealed secrets is lost (a node then
 * refuses to start). The seeds sealed under it open nowhere, so every user's second factor goes
 * with it, in the transaction that records the new key's fingerprint, audited; users enrol again.
 * Run with every process of the node stopped: one still running keeps the previous key.
 */
export async function newSealingKeyCommand(config: Config, confirmed: boolean): Promise<CommandResult> {
  if (!confirmed) {
    return fail(
      "this makes a new key for the node's sealed secrets and removes every user's second factor (they enrol again); use it only if the key is lost, with every process of the node stopped, and run it again with --yes\n",
    );
  }
  if (await isNodeListening(adminSocketPath(config.dataDir))) {
    return fail(
      'a node is running on this data directory: stop it, and every other process of the node, first\n',
    );
  }
  let database: Awaited<ReturnType<typeof openDatabase>> | undefined;
  try {
    database = await openDatabase({
      databaseUrl: config.databaseUrl,
      pgliteDir: path.join(config.dataDir, 'db'),
    });
    await migrateToLatest(database.db);
    // Nothing to replace when the directory holds the recorded key (or none is recorded yet).
    if ((await sealingKeyProblem(config.dataDir, database.db)) === null) {
      return fail(
        "this data directory holds the key the node's secrets are sealed under: it is not lost, and nothing was changed\n",
      );
    }
    const audit = new AuditService({
      database,
      clock: systemClock,
      key: loadOrCreateNodeKey(config.dataDir),
      checkpointFile: config.auditCheckpointFile,
    });
    const replacement = prepareNewKey(config.dataDir, systemClock.now());
    let removed: string[];
    try {
      removed = await inTransaction(database.db, async (trx) => {
        const names = await removeAllSecondFactors(trx);
        await replacement.recordNew(trx);
        await audit.record(
          trx,
          { actor: CLI_ACTOR, requestId: null },
          {
            action: 'node.sealing-key.replace',
            objectType: 'node',
            summary: { secondFactorsRemoved: names.length, users: names },
          },
        );
        return names;
      });
    } catch (error) {
      replacement.discard();
      throw error;
    }
    const kept = replacement.install();
    await audit.seal();
    return {
      exitCode: 0,
      stdout:
        `new key for sealed secrets in ${replacement.file}${kept ? ` (the previous file is kept as ${kept})` : ''}; ` +
        `${removed.length} second factor${removed.length === 1 ? '' : 's'} removed${removed.length > 0 ? ` (${removed.join(', ')}): they enrol again` : ''}.\n` +
        "Give every process of the node this data directory's keys/ before it starts.\n",
      stderr: '',
    };
  } catch (error) {
    return fail(describeError(error));
  } finally {
    await database?.close();
  }
}
