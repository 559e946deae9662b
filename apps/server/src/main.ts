import type { Server } from 'node:http';
import { adminSocketPath, isNodeListening, startAdminSocket } from './cli/admin-socket.ts';
import { describeError } from './cli/describe-error.ts';
import { readyLine } from './cli/ready-line.ts';
import { loadConfigOrExit } from './config.ts';
import { closeSolverPool, warmSolverPool } from './modules/teams/solver/index.ts';
import { startBackgroundWork, startHttp } from './node.ts';
import { sweepStaleTemporaries } from './platform/temp-sweep.ts';

/**
 * Boots a node: config, storage, migrations, seed, HTTP, admin socket, checkpoint timer; and on
 * SIGINT/SIGTERM stops taking requests, lets the ones in flight finish, signs a last checkpoint
 * and closes the database, so no acknowledged write is lost.
 */
const config = loadConfigOrExit();
const socketPath = adminSocketPath(config.dataDir);

if (!config.databaseUrl && (await isNodeListening(socketPath))) {
  process.stderr.write(`vytis: another node is already running on ${config.dataDir}\n`);
  process.exit(1);
}

let started: Awaited<ReturnType<typeof startHttp>>;
try {
  started = await startHttp(config);
} catch (error) {
  process.stderr.write(`vytis: cannot start: ${describeError(error)}`);
  process.exit(1);
}
const { app, services } = started;
// Imports cut short by a crash left their temporary files; a day is longer than any import runs.
const swept = sweepStaleTemporaries(24 * 60 * 60 * 1000);
if (swept > 0) app.log.info({ swept }, 'removed temporary files of imports cut short');

try {
  await app.listen({ port: config.port, host: config.host });
} catch (error) {
  const err = error as NodeJS.ErrnoException;
  const why =
    err.code === 'EADDRINUSE' ? `port ${config.port} on ${config.host} is already in use` : err.message;
  process.stderr.write(`vytis: cannot listen: ${why}\n`);
  await services.database.close();
  process.exit(1);
}

let adminServer: Server | undefined;
try {
  adminServer = await startAdminSocket(services, socketPath);
} catch (error) {
  app.log.warn({ err: error }, 'admin socket unavailable: the CLI will not reach this node');
}

// A quiet chain is signed again every interval too (renewing after half of one absorbs timer
// jitter), so verification can take a checkpoint older than two intervals as a sign of deletion.
// One is signed at boot as well, after a signed start line: the node may have been stopped for
// longer than that, and the stop and start lines tell verification it was.
await services.audit
  .markLifecycle('start')
  .catch((error) => app.log.error({ err: error }, 'cannot record the start in the checkpoint file'));
const signCheckpoint = () =>
  services.audit
    .checkpoint({ renewAfterMs: (config.checkpointSeconds * 1000) / 2 })
    .catch((error) => app.log.error({ err: error }, 'checkpoint failed'));
void signCheckpoint();
const checkpointTimer = setInterval(signCheckpoint, config.checkpointSeconds * 1000);
checkpointTimer.unref();

// Bundling the solver's workers and loading HiGHS takes a moment: do it before the first proposal.
warmSolverPool().catch((error) => app.log.warn({ err: error }, 'team solver pool did not start'));

const backgroundWork = startBackgroundWork(services, config.schedulerSeconds * 1000, (what, error) =>
  app.log.error({ err: error }, `${what} failed`),
);

app.log.info(
  { database: services.database.kind, location: services.database.location, keyId: services.key.keyId },
  `vytis node ready on http://${config.host}:${config.port} (API docs at /docs)`,
);
const firstAdminNeeded = await services.identity.anyUserExists().then(
  (any) => !any,
  () => false,
);
process.stderr.write(readyLine({ ...config, firstAdminNeeded }));

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  app.log.info({ signal }, 'shutting down: finishing requests in flight');
  clearInterval(checkpointTimer);
  await backgroundWork.stop();
  await closeSolverPool();
  adminServer?.close();
  try {
    await app.close();
    await services.audit.checkpoint();
    // Last: only a node that stopped cleanly may be quiet for longer than two intervals.
    await services.audit.markLifecycle('stop');
  } catch (error) {
    app.log.error({ err: error }, 'error while shutting down');
  } finally {
    await services.database.close();
    process.exit(0);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
