import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { Services } from '../http/services.ts';
import { type AdminCommand, type CommandResult, runCommand } from './commands.ts';
import { describeError } from './describe-error.ts';

/**
 * The node's local admin channel: a Unix socket under the data directory (mode 0600), so the CLI
 * works while the node holds the embedded database. Whoever can open the data directory already
 * owns the node, so the socket needs no further credentials.
 */
export function adminSocketPath(dataDir: string): string {
  return path.join(dataDir, 'admin.sock');
}

export async function isNodeListening(socketPath: string): Promise<boolean> {
  if (!fs.existsSync(socketPath)) return false;
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

export async function startAdminSocket(services: Services, socketPath: string): Promise<http.Server> {
  if (fs.existsSync(socketPath)) fs.rmSync(socketPath); // stale: the caller checked nobody listens
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', async () => {
      let result: CommandResult;
      try {
        result = await runCommand(services, JSON.parse(body) as AdminCommand);
      } catch (error) {
        result = { exitCode: 1, stdout: '', stderr: describeError(error) };
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  return server;
}

export async function sendAdminCommand(socketPath: string, command: AdminCommand): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, path: '/command', method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          try {
            resolve(JSON.parse(text) as CommandResult);
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(command));
  });
}
