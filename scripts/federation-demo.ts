// A small federation on this machine, with one command (issue 14): LT coordinates the force, EE and RO
// are national nodes. Each node is its own `vytis start` process, with its own port, data directory
// and database (embedded PGlite by default; with --database-url-prefix, a PostgreSQL database per
// node, created when missing). Every pair is connected both ways with pinned keys, as two states
// connect theirs; each node gets an admin, a PoC and a council member who can log in (and on the
// coordinating node a coordinator). A second run reuses the data directories: the nodes keep
// their data, keys, users and peers.
// Usage: npx tsx scripts/federation-demo.ts [--dir .vytis-federation] [--port-base 4101]
//          [--database-url-prefix postgres://postgres@127.0.0.1:5432/] [--demo] [--pull-seconds 30]
//        (npm run federation:demo -- …). Ctrl-C stops the nodes.
// `startFederation` is the building block: the bench (bench/federation-loop.ts) and the test
// (federation-demo.test.ts) start their nodes with it.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { FederationPeer, NodeRole, Role } from '@vytis/contracts';
import pg from 'pg';
import { DEMO_PASSWORD, loadDemo } from '../apps/server/src/cli/demo.ts';
import { peerTable } from '../apps/server/src/cli/peer-command.ts';
import { parseConfig } from '../apps/server/src/config.ts';
import { CLI_ACTOR, type Ctx } from '../apps/server/src/context.ts';
import { openServices } from '../apps/server/src/node.ts';

const root = path.resolve(import.meta.dirname, '..');
const cliBin = path.join(root, 'apps', 'server', 'bin', 'vytis.js');
const HEALTHY_WITHIN_MS = 120_000;

export interface NodePlan {
  party: string;
  role: NodeRole;
  port: number;
}

/** The demo's nodes: ports from `portBase` on. */
export const demoNodes = (portBase = 4101): NodePlan[] => [
  { party: 'LT', role: 'coordinator', port: portBase },
  { party: 'EE', role: 'national', port: portBase + 1 },
  { party: 'RO', role: 'national', port: portBase + 2 },
];

export interface Person {
  name: string;
  roles: Role[];
}

/** Who can log in on a node: its admin, PoC and council member; the coordinating node's duty coordinator too. */
export function peopleOf(plan: NodePlan): Person[] {
  const code = plan.party.toLowerCase();
  return [
    { name: `${code}.admin`, roles: ['admin'] },
    { name: `${code}.poc`, roles: ['poc'] },
    { name: `${code}.council`, roles: ['council'] },
    ...(plan.role === 'coordinator'
      ? [{ name: `${code}.coordinator`, roles: ['coordinator'] as Role[] }]
      : []),
  ];
}

export interface FederationOptions {
  /** Each node's data directory is `<dir>/<party>`, its log `<dir>/<party>.log`. */
  dir: string;
  nodes: readonly NodePlan[];
  /** The node's PostgreSQL database; embedded PGlite in its data directory when undefined. */
  databaseUrl?: (party: string) => string | undefined;
  /** VYTIS_FEDERATION_PULL_SECONDS; the node's default (30) when undefined. */
  pullSeconds?: number;
  /** Loads `vytis demo`'s world on the coordinating node. */
  demoData?: boolean;
  log?: (line: string) => void;
}

export interface Answer {
  status: number;
  body: any;
}

export interface FederatedNode extends NodePlan {
  url: string;
  dataDir: string;
  logFile: string;
  /** What peers pin: the RFC 7638 thumbprint of the node's key. */
  keyId: string;
  people: Person[];
  /** People created by this run (none on a second run). */
  created: string[];
  /** An API token (valid a day) of each of its people, by name. */
  tokens: Record<string, string>;
  /** What `vytis demo` said, when it ran here. */
  demoSummary: string | null;
  /** A call of the node's API (`/api/v1` + path) as one of its people (default its admin). */
  api(method: string, apiPath: string, body?: unknown, as?: string): Promise<Answer>;
  /** Its peers as its admin sees them. */
  peers(): Promise<FederationPeer[]>;
  /** Resolves with the exit code when the process ends (a crash included). */
  exited: Promise<number | null>;
  /** SIGTERM, the graceful stop. */
  stop(): Promise<number | null>;
}

export interface Federation {
  nodes: FederatedNode[];
  node(party: string): FederatedNode;
  /** Each node pulls each peer now (instead of at its next round); answers what failed. */
  pullAll(): Promise<string[]>;
  stop(): Promise<void>;
}

/** The environment of a node process: nothing of this shell's VYTIS_* settings, the plan's instead. */
function nodeEnv(plan: NodePlan, dataDir: string, options: FederationOptions): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('VYTIS_') && !['PORT', 'HOST', 'DATABASE_URL', 'LOG_LEVEL'].includes(name),
    ),
  );
  return {
    ...inherited,
    PORT: String(plan.port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    VYTIS_DATA_DIR: dataDir,
    DATABASE_URL: options.databaseUrl?.(plan.party) ?? '',
    VYTIS_NODE_PARTY: plan.party,
    VYTIS_NODE_ROLE: plan.role,
    VYTIS_PUBLIC_URL: `http://127.0.0.1:${plan.port}`,
    // Peers (and webhook receivers) on loopback are allowed: every node of the demo is on it.
    VYTIS_WEBHOOK_PRIVATE_NETWORKS: 'true',
    ...(options.pullSeconds ? { VYTIS_FEDERATION_PULL_SECONDS: String(options.pullSeconds) } : {}),
  };
}

interface Prepared {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  keyId: string;
  created: string[];
  tokens: Record<string, string>;
  demoSummary: string | null;
}

/** Migrates the node's database and makes its people, in this process, while no node runs on it. */
async function prepare(plan: NodePlan, options: FederationOptions): Promise<Prepared> {
  const dataDir = path.resolve(options.dir, plan.party.toLowerCase());
  fs.mkdirSync(dataDir, { recursive: true });
  const env = nodeEnv(plan, dataDir, options);
  const parsed = parseConfig(env);
  if (!parsed.ok) throw new Error(`${plan.party}'s settings: ${parsed.problems.join('; ')}`);
  const { services } = await openServices(parsed.config);
  const cli: Ctx = { actor: CLI_ACTOR, requestId: null };
  try {
    const created: string[] = [];
    const tokens: Record<string, string> = {};
    for (const person of peopleOf(plan)) {
      if (!(await services.identity.actorByName(person.name))) {
        await services.identity.createUser(cli, { ...person, party: plan.party, password: DEMO_PASSWORD });
        created.push(person.name);
      }
      const issued = await services.identity.issueToken(cli, person.name, {
        expiresInDays: 1,
        label: 'federation demo',
      });
      tokens[person.name] = issued.token;
    }
    const demoSummary =
      options.demoData && plan.role === 'coordinator' ? await loadDemo(services, cli) : null;
    return { env, dataDir, keyId: services.federation.peers.node().keyId, created, tokens, demoSummary };
  } finally {
    await services.database.close();
  }
}

const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });

const tail = (file: string, lines = 15) => {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
};

/** `vytis start` with its output appended to `logFile`; resolves once /healthz answers. */
async function launch(plan: NodePlan, env: NodeJS.ProcessEnv, logFile: string) {
  const url = env.VYTIS_PUBLIC_URL!;
  const out = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [cliBin, 'start'], { env, stdio: ['ignore', out, out] });
  } finally {
    fs.closeSync(out);
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `${plan.party}'s node exited with ${child.exitCode ?? child.signalCode}; the end of ${logFile}:\n${tail(logFile)}`,
      );
    if (Date.now() - started > HEALTHY_WITHIN_MS) {
      child.kill('SIGKILL');
      throw new Error(
        `${plan.party}'s node did not answer at ${url}/healthz; the end of ${logFile}:\n${tail(logFile)}`,
      );
    }
    const healthy = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

async function call(
  base: string,
  token: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<Answer> {
  const response = await fetch(`${base}/api/v1${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: any = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed };
}

/** `node` trusts `peer` under its current key: added, kept when already so, or re-pinned when the key changed. */
async function connect(node: FederatedNode, peer: FederatedNode, log: (line: string) => void) {
  const known = (await node.peers()).find((p) => p.party === peer.party);
  if (known?.status === 'active' && known.keyId === peer.keyId && known.url === peer.url) {
    log(`  ${node.party} → ${peer.party}: trusted already (key ${peer.keyId})`);
    return;
  }
  if (known?.status === 'active') {
    // The peer's data directory was made anew (a new key) or it moved: trust it as it is now.
    const removed = await node.api('DELETE', `/federation/peers/${peer.party}`);
    if (removed.status !== 200)
      throw new Error(`${node.party} could not remove ${peer.party}: ${JSON.stringify(removed.body)}`);
  }
  const added = await node.api('POST', '/federation/peers', {
    url: peer.url,
    party: peer.party,
    pin: peer.keyId,
  });
  if (added.status !== 201)
    throw new Error(
      `${node.party} could not add ${peer.party}: ${added.status} ${JSON.stringify(added.body)}`,
    );
  log(`  ${node.party} → ${peer.party}: trusts ${peer.url}, pinned key ${peer.keyId} (${peer.role})`);
}

const PULL_ATTEMPTS = 3;

/**
 * `node` pulls `peer` now; null when it went well, else why not. A scheduled pull that began before
 * the peer trusted this node may end (refused) after this one and leave its error as the last word:
 * so a failure is tried again, a few times.
 */
async function pullNow(node: FederatedNode, peer: FederatedNode): Promise<string | null> {
  let failure: string | null = null;
  for (let attempt = 1; attempt <= PULL_ATTEMPTS; attempt++) {
    const pulled = await node.api('POST', `/federation/peers/${peer.party}/pull`);
    const status = pulled.body as FederationPeer;
    if (pulled.status !== 200) failure = `${pulled.status} ${JSON.stringify(pulled.body)}`;
    else if (status.lastError && (status.lastErrorAt ?? '') >= (status.lastOkAt ?? ''))
      failure = status.lastError;
    else return null;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return failure;
}

/**
 * Starts the nodes of `options.nodes` and connects every pair both ways. On failure the nodes
 * started so far are stopped before it throws.
 */
export async function startFederation(options: FederationOptions): Promise<Federation> {
  const log = options.log ?? (() => {});
  fs.mkdirSync(options.dir, { recursive: true });
  for (const plan of options.nodes)
    if (!(await portIsFree(plan.port)))
      throw new Error(
        `port ${plan.port} (${plan.party}'s node) is in use on 127.0.0.1: is the demo running already? (--port-base moves the ports)`,
      );

  const nodes: FederatedNode[] = [];
  try {
    // One at a time: each opens the node's database in this process (PGlite is a lot of memory).
    const prepared: Prepared[] = [];
    for (const plan of options.nodes) {
      const ready = await prepare(plan, options);
      log(
        `${plan.party}: database ready in ${ready.dataDir}${ready.env.DATABASE_URL ? ` (PostgreSQL ${new URL(ready.env.DATABASE_URL).pathname.slice(1)})` : ' (PGlite)'}; ` +
          (ready.created.length ? `users created: ${ready.created.join(', ')}` : 'its users exist already'),
      );
      prepared.push(ready);
    }
    log(`starting ${options.nodes.length} node processes…`);
    await Promise.all(
      options.nodes.map(async (plan, i) => {
        const ready = prepared[i]!;
        const logFile = path.resolve(options.dir, `${plan.party.toLowerCase()}.log`);
        const process_ = await launch(plan, ready.env, logFile);
        const url = ready.env.VYTIS_PUBLIC_URL!;
        const admin = peopleOf(plan)[0]!.name;
        const api = (method: string, apiPath: string, body?: unknown, as = admin) => {
          const token = ready.tokens[as];
          if (!token) throw new Error(`${as} is none of ${plan.party}'s demo people`);
          return call(url, token, method, apiPath, body);
        };
        const node: FederatedNode = {
          ...plan,
          url,
          dataDir: ready.dataDir,
          logFile,
          keyId: ready.keyId,
          people: peopleOf(plan),
          created: ready.created,
          tokens: ready.tokens,
          demoSummary: ready.demoSummary,
          api,
          async peers() {
            const answer = await api('GET', '/federation/peers');
            if (answer.status !== 200)
              throw new Error(`${plan.party}'s peers: ${answer.status} ${JSON.stringify(answer.body)}`);
            return answer.body.items as FederationPeer[];
          },
          exited: process_.exited,
          stop: process_.stop,
        };
        nodes.push(node);
        log(`${plan.party}: ${plan.role} node up at ${url} (log ${logFile})`);
      }),
    );
    const ordered = options.nodes.map((plan) => nodes.find((n) => n.party === plan.party)!);
    log('connecting every pair of nodes both ways, each pinning the key the other signs with…');
    for (const node of ordered) for (const peer of ordered) if (peer !== node) await connect(node, peer, log);

    const federation: Federation = {
      nodes: ordered,
      node(party) {
        const found = ordered.find((n) => n.party === party);
        if (!found) throw new Error(`no node of ${party} in this federation`);
        return found;
      },
      async pullAll() {
        const failures: string[] = [];
        // The coordinating node's feed first: it carries the registry the others judge by.
        const coordinatorFirst = [...ordered].sort(
          (a, b) => Number(b.role === 'coordinator') - Number(a.role === 'coordinator'),
        );
        for (const node of ordered)
          for (const peer of coordinatorFirst) {
            if (peer === node) continue;
            const failure = await pullNow(node, peer);
            if (failure) failures.push(`${node.party} pulling ${peer.party}: ${failure}`);
          }
        return failures;
      },
      async stop() {
        await Promise.all(ordered.map((n) => n.stop()));
      },
    };
    return federation;
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
}

/** PostgreSQL databases named `<prefix><name>`, created when missing. */
async function ensureDatabases(prefix: string, names: string[]): Promise<void> {
  const server = new URL(`${prefix.replace(/\/+$/, '')}/postgres`);
  const client = new pg.Client({ connectionString: server.toString() });
  await client.connect();
  try {
    for (const name of names) {
      const found = await client.query('select 1 from pg_database where datname = $1', [name]);
      if (found.rowCount === 0) await client.query(`create database "${name.replaceAll('"', '""')}"`);
    }
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// The command.

async function main() {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: '.vytis-federation' },
      'port-base': { type: 'string', default: '4101' },
      'database-url-prefix': { type: 'string' },
      'pull-seconds': { type: 'string' },
      demo: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'Usage: npx tsx scripts/federation-demo.ts [--dir .vytis-federation] [--port-base 4101]\n' +
        '         [--database-url-prefix postgres://postgres@127.0.0.1:5432/] [--pull-seconds 30] [--demo]\n' +
        'Starts LT (coordinating node), EE and RO (national nodes) on this machine and connects them; Ctrl-C stops them.\n' +
        '--demo loads `vytis demo`’s world on the coordinating node.',
    );
    return;
  }
  const portBase = Number(values['port-base']);
  if (!Number.isInteger(portBase) || portBase < 1 || portBase > 65533)
    throw new Error('--port-base must be a port number (the nodes take it and the next two)');
  const pullSeconds = values['pull-seconds'] === undefined ? undefined : Number(values['pull-seconds']);
  if (pullSeconds !== undefined && !(Number.isInteger(pullSeconds) && pullSeconds > 0))
    throw new Error('--pull-seconds must be a positive whole number');
  const plans = demoNodes(portBase);
  const dir = path.resolve(values.dir);
  const prefix = values['database-url-prefix'];
  const databaseName = (party: string) => `vytis_federation_${party.toLowerCase()}`;
  const say = (line: string) => console.log(line);

  say(`a federation of ${plans.length} nodes on this machine, in ${dir}`);
  if (prefix) {
    await ensureDatabases(
      prefix,
      plans.map((p) => databaseName(p.party)),
    );
    say(`PostgreSQL databases ${plans.map((p) => databaseName(p.party)).join(', ')} on ${prefix} are there`);
  }
  const federation = await startFederation({
    dir,
    nodes: plans,
    ...(prefix
      ? { databaseUrl: (party: string) => `${prefix.replace(/\/+$/, '')}/${databaseName(party)}` }
      : {}),
    ...(pullSeconds ? { pullSeconds } : {}),
    demoData: values.demo,
    log: say,
  });
  let stopping = false;
  const stop = async (why: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    say(`\n${why}: stopping the nodes…`);
    await federation.stop();
    say(`stopped; the data stays in ${dir} (run again to go on, or remove it to start afresh)`);
    process.exit(exitCode);
  };
  // A terminal's Ctrl-C reaches the node processes too; each stops once, whichever signal comes first.
  process.on('SIGINT', () => void stop('Ctrl-C'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  for (const node of federation.nodes)
    void node.exited.then((code) => {
      void stop(`${node.party}'s node exited (${code}); see ${node.logFile}`, 1);
    });
  try {
    await present(federation, { dir, pullSeconds });
  } catch (error) {
    say(`federation demo: ${error instanceof Error ? error.message : String(error)}`);
    await stop('a failure', 1);
  }
}

/** The first pulls, then each node's URL, people and peers. */
async function present(
  federation: Federation,
  { dir, pullSeconds }: { dir: string; pullSeconds?: number | undefined },
) {
  const say = (line: string) => console.log(line);
  say('first pulls: each node pulls each peer now…');
  const failures = await federation.pullAll();
  for (const failure of failures) say(`  ${failure}`);
  const coordinator = federation.nodes.find((n) => n.role === 'coordinator');
  if (coordinator?.demoSummary) say(`\n${coordinator.party} (vytis demo):\n${coordinator.demoSummary}`);

  say('');
  for (const node of federation.nodes) {
    say(
      `${node.party}  ${node.role === 'coordinator' ? 'coordinating node' : 'national node'}  ${node.url}  key ${node.keyId}`,
    );
    say(`    log in as ${node.people.map((p) => `${p.name} (${p.roles.join(', ')})`).join(', ')}`);
    say(indent(peerTable(await node.peers()), '    '));
  }
  say(
    `password of every user above: ${DEMO_PASSWORD} (set when the user was created; a changed one stays changed)\n` +
      `peers are pulled every ${pullSeconds ?? 30} s, and at once when a peer's feed grows (push notices); ` +
      `status: VYTIS_DATA_DIR=${path.join(dir, 'lt')} npx vytis peer status (while it runs, through the node)\n` +
      'Ctrl-C stops the nodes.',
  );
}

const indent = (text: string, by: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => by + line)
    .join('\n');

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error) => {
    console.error(`federation demo: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
