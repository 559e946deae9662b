import path from 'node:path';
import type { Config } from '../config.ts';
import type { PeerPassEvidence } from '../modules/passes/pass.command.ts';
import type { CommandResult } from './commands.ts';
import { describeError } from './describe-error.ts';

/**
 * What `vytis pass verify --peer PARTY` needs from this node's database: the peer's pinned key, its
 * revocation list as its feed carried it, and the time of the last successful pull. Read directly
 * (a few rows, no migration, no services); a node running on its embedded database holds it
 * alone, so it is asked over its admin socket instead (command `pass.peer-evidence`).
 */
export async function loadPeerPassEvidence(
  config: Config,
  party: string,
): Promise<{ evidence: PeerPassEvidence } | { failure: CommandResult }> {
  const fail = (stderr: string) => ({ failure: { exitCode: 1, stdout: '', stderr } });
  if (!/^[A-Z]{2,8}$/.test(party)) return fail(`--peer must be a party code, e.g. LT (got ${party})\n`);
  try {
    let evidence: PeerPassEvidence | null;
    const { adminSocketPath, isNodeListening, sendAdminCommand } = await import('./admin-socket.ts');
    const socket = adminSocketPath(config.dataDir);
    if (!config.databaseUrl && (await isNodeListening(socket))) {
      const answer = await sendAdminCommand(socket, { name: 'pass.peer-evidence', party });
      if (answer.exitCode !== 0) return { failure: answer };
      evidence = JSON.parse(answer.stdout) as PeerPassEvidence | null;
    } else {
      const [{ openDatabase }, { peerPassEvidence }] = await Promise.all([
        import('../platform/db/database.ts'),
        import('../modules/passes/pass.command.ts'),
      ]);
      const database = await openDatabase({
        databaseUrl: config.databaseUrl,
        pgliteDir: path.join(config.dataDir, 'db'),
        poolSize: 1,
      });
      try {
        evidence = await peerPassEvidence(database.db, party);
      } finally {
        await database.close();
      }
    }
    if (!evidence) {
      return fail(`this node has no peer ${party}: \`vytis peer list\` shows the peers it trusts\n`);
    }
    return { evidence };
  } catch (error) {
    return fail(describeError(error));
  }
}
