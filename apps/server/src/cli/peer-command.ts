import type { FederationPeer } from '@vytis/contracts';
import type { Command } from 'commander';
import type { Config } from '../config.ts';
import { CLI_ACTOR, type Ctx } from '../context.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../http/services.ts';
import type { CommandResult } from './commands.ts';
import { describeError } from './describe-error.ts';

/**
 * `vytis peer add|list|remove|status` over `PeersService`, in the CLI's process (no node running)
 * or in the node's, sent over the admin socket (`POST /peer`); and `vytis key rotate`, which only
 * touches the key files (the node uses the new key after its restart).
 */
export type PeerCommand =
  | { name: 'peer.add'; url: string; party: string; pin: string }
  | { name: 'peer.list' }
  | { name: 'peer.remove'; party: string }
  | { name: 'peer.status'; party?: string | undefined };

const ok = (stdout: string): CommandResult => ({ exitCode: 0, stdout, stderr: '' });
const fail = (stderr: string): CommandResult => ({ exitCode: 1, stdout: '', stderr });
/** One line: the service's message says what to fix (its field details are for forms). */
const failWith = (error: unknown) =>
  fail(error instanceof AppError ? `${error.message}\n` : describeError(error));

export async function runPeerCommand(services: Services, command: PeerCommand): Promise<CommandResult> {
  const ctx: Ctx = { actor: CLI_ACTOR, requestId: null };
  const peers = services.federation.peers;
  try {
    switch (command.name) {
      case 'peer.add': {
        const peer = await peers.add(ctx, { url: command.url, party: command.party, pin: command.pin });
        return ok(
          `trusting ${peer.party} at ${peer.url} under key ${peer.keyId} (${peer.role}); it is pulled with the node's next round\n`,
        );
      }
      case 'peer.list': {
        const list = await peers.list(ctx);
        const node = list.node;
        const head = `this node: ${node.party ?? 'not federated (VYTIS_NODE_PARTY unset)'}, ${node.role}, key ${node.keyId}${node.url ? `, ${node.url}` : ''}\n`;
        return ok(head + (list.items.length ? peerTable(list.items) : 'no peers\n'));
      }
      case 'peer.remove': {
        const peer = await peers.remove(ctx, command.party);
        return ok(`removed peer ${peer.party}: its calls are refused and it is no longer pulled\n`);
      }
      case 'peer.status': {
        if (command.party) return ok(peerDetail(await peers.status(command.party)));
        const { items } = await peers.list(ctx);
        return ok(items.length ? peerTable(items) : 'no peers\n');
      }
      default:
        return fail(`unknown command ${(command as { name: string }).name}\n`);
    }
  } catch (error) {
    return failWith(error);
  }
}

const orDash = (value: string | number | null) => (value === null ? '-' : String(value));

/** Columns padded to their widest cell; the last column (the error) runs on. */
export function peerTable(peers: readonly FederationPeer[]): string {
  const rows = [
    ['PARTY', 'URL', 'KEY ID', 'STATUS', 'LAG', 'LAST OK', 'LAST ERROR'],
    ...peers.map((p) => [
      p.party,
      p.url,
      p.keyId,
      p.status,
      orDash(p.lag),
      orDash(p.lastOkAt),
      p.lastError ? `${p.lastError} (${p.lastErrorAt})` : '-',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => `${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}\n`)
    .join('');
}

function peerDetail(p: FederationPeer): string {
  const lines: [string, string | number | null][] = [
    ['party', p.party],
    ['url', p.url],
    ['role', p.role],
    ['key id', p.keyId],
    ['status', p.status],
    ['added', `${p.addedAt} by ${p.addedBy}`],
    ['removed', p.removedAt],
    ['cursor', p.cursor],
    ['remote head', p.remoteHead],
    ['lag', p.lag],
    ['last pull', p.lastPullAt],
    ['last ok', p.lastOkAt],
    ['last error', p.lastError ? `${p.lastError} (${p.lastErrorAt})` : null],
    ['applied', p.appliedTotal],
    ['refused', p.refusedTotal],
  ];
  return lines.map(([k, v]) => `${`${k}:`.padEnd(13)}${orDash(v)}\n`).join('');
}

/** Through the running node's admin socket when there is one, else over the database directly. */
export async function peerCommand(config: Config, command: PeerCommand): Promise<CommandResult> {
  try {
    const { adminSocketPath, isNodeListening, sendPeerCommand } = await import('./admin-socket.ts');
    const socket = adminSocketPath(config.dataDir);
    if (await isNodeListening(socket)) return await sendPeerCommand(socket, command);
    const { openServices } = await import('../node.ts');
    const { services } = await openServices(config);
    try {
      return await runPeerCommand(services, command);
    } finally {
      await services.database.close();
    }
  } catch (error) {
    return fail(describeError(error));
  }
}

/** `vytis key rotate`: the key files only; whether or not a node runs, it takes the new key on restart. */
export async function keyRotateCommand(config: Config): Promise<CommandResult> {
  try {
    const { rotateNodeKey, previousKeyFile, rotationFile } = await import(
      '../modules/federation/node-descriptor.ts'
    );
    const { isNodeListening, adminSocketPath } = await import('./admin-socket.ts');
    const running = await isNodeListening(adminSocketPath(config.dataDir));
    const outcome = rotateNodeKey(config.dataDir);
    return ok(
      `new node key ${outcome.keyId}; the previous key ${outcome.previousKeyId} is kept as ${previousKeyFile(config.dataDir)}, ` +
        `with its signed statement naming the new key in ${rotationFile(config.dataDir)}.\n` +
        `${running ? 'Restart the node (every process on this data directory) to use it; until then it signs with the previous key.\n' : 'The node uses it when it starts.\n'}` +
        `Peers that pinned ${outcome.previousKeyId} move to ${outcome.keyId} on that statement; tell new peers to pin ${outcome.keyId}.\n`,
    );
  } catch (error) {
    return fail(describeError(error));
  }
}

/**
 * The `peer` and `key` commands of the `vytis` program. Each action loads its code when it runs
 * (as the other commands do), so `--help` loads neither the server nor a database driver.
 */
export function registerPeerCommands(
  program: Command,
  io: { finish: (result: CommandResult) => never; loadConfig: () => Promise<Config> },
) {
  const run = async (command: PeerCommand) => io.finish(await peerCommand(await io.loadConfig(), command));
  const peer = program
    .command('peer')
    .description('federation: the peer nodes this node trusts (it needs VYTIS_NODE_PARTY)');
  peer
    .command('add <url>')
    .description(
      'trust the peer node at URL: its descriptor (URL/federation/v1/node) must be signed by the key whose RFC 7638 thumbprint is --pin, agreed with its operators out of band, and speak for --party',
    )
    .requiredOption('--party <code>', 'the party the peer speaks for, e.g. EE')
    .requiredOption('--pin <kid>', "the thumbprint of the peer's key (its descriptor's kid)")
    .action((url: string, opts: { party: string; pin: string }) =>
      run({ name: 'peer.add', url, party: opts.party, pin: opts.pin }),
    );
  peer
    .command('list')
    .description('this node and its peers: party, URL, key id, status, lag, last ok, last error')
    .action(() => run({ name: 'peer.list' }));
  peer
    .command('remove <party>')
    .description('stop trusting a peer: its calls are refused and it is no longer pulled')
    .action((party: string) => run({ name: 'peer.remove', party }));
  peer
    .command('status [party]')
    .description(
      "a peer's pull status in full (cursor, remote head, lag, last pull, last error, totals); all peers without PARTY",
    )
    .action((party?: string) => run({ name: 'peer.status', party }));

  const key = program.command('key').description("the node's keys");
  key
    .command('rotate')
    .description(
      "make a new node key; the previous one is kept beside it with its signed statement naming the new key, which the node's descriptor carries so peers move to the new key; the node uses it after a restart",
    )
    .action(async () => io.finish(await keyRotateCommand(await io.loadConfig())));
  key
    .command('new-sealing-key')
    .description(
      "only if the key sealing stored secrets (keys/secrets-aes256gcm.key) is lost: make a new one and remove every user's second factor, which opens under no other key (they enrol again); audited; every process of the node stopped",
    )
    .option('--yes', 'remove every second factor')
    .action(async (opts: { yes?: boolean }) => {
      const { newSealingKeyCommand } = await import('./sealing-key-command.ts');
      io.finish(await newSealingKeyCommand(await io.loadConfig(), opts.yes === true));
    });
}
