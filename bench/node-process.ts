// bench/node-process — a Vytis node as users run it, for the benchmarks that measure one over HTTP:
// `vytis start` from the precompiled build (as `npm start` runs it), in a process of its own, on a
// PostgreSQL database, with its own port and data directory (holding the node key of another
// directory when asked), at its default log level, and with no scheduler run during a benchmark.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
/** The line a node prints for people when it is ready; a benchmark's output leaves it out. */
const READY_LINE = 'Vytis is ready:';

/** Clock ticks a second of /proc/<pid>/stat's CPU times (`getconf CLK_TCK`; 100 on Linux as built). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process on this machine, in ms; null when it is not readable (ended, elsewhere). */
export function processCpuMs(pid: number): number | null {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Puts the node key of data directory `from` into data directory `to`, so both sign as one node. */

export interface NodeProcess {
  /** http://127.0.0.1:<port> */
  url: string;
  child: ChildProcess;
  /** Resolves once /readyz answers; fails if the node exits first or takes over 30 s. */
  ready(): Promise<void>;
  /** SIGTERM (the node's clean stop), SIGKILL if it has not ended 10 s later; resolves when it has. */
  stop(): Promise<void>;
}

/** Starts a node on `databaseUrl` with data directory `dataDir`; its stderr passes through, but for the ready line. */
export async function spawnNode(options: {
  databaseUrl: string;
  dataDir: string;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: readonly string[];
}): Promise<NodeProcess> {
  // The precompiled build users run, made afresh if a source is newer (else vytis.js runs tsx).
  execFileSync(process.execPath, [path.join(root, 'apps/server/scripts/build.mjs'), '--if-stale'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), path.join(root, 'apps/server/bin/vytis.js'), 'start'],
    {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: options.databaseUrl,
        PORT: String(port),
        VYTIS_DATA_DIR: options.dataDir,
        // Its default log level (info: a line as each request comes and goes), into /dev/null.
        LOG_LEVEL: 'info',
        VYTIS_SCHEDULER_SECONDS: '3600',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let pending = '';
  const pass = (line: string) => {
    if (!line.startsWith(READY_LINE)) process.stderr.write(`${line}\n`);
  };
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!;
    for (const line of lines) pass(line);
  });
  child.stderr!.on('end', () => {
    if (pending) pass(pending);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('error', (error) => process.stderr.write(`node ${url}: ${error.message}\n`));
  return {
    url,
    child,
    async ready() {
      for (let i = 0; i < 300; i++) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`node ${url} exited with ${child.exitCode ?? child.signalCode}`);
        try {
          if ((await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok) return;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`node ${url} did not become ready`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
