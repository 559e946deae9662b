import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Tlp } from '@vytis/contracts';
import type { Services } from '../http/services.ts';
import type { BulkFormat } from '../modules/indicators/bulk-parse.ts';
import { writeBackup } from './backup.ts';
import { BACKUP_TRAILER, type BackupOutcome, summaryOf } from './backup-format.ts';
import {
  type AdminCommand,
  type CommandResult,
  type ImportRequest,
  runCommand,
  runImport,
} from './commands.ts';
import type { DemoProgress } from './demo.ts';
import { describeError } from './describe-error.ts';
import { type FeedCommand, runFeedCommand } from './feed-command.ts';
import { runMispImport } from './misp-command.ts';
import { type PeerCommand, runPeerCommand } from './peer-command.ts';
import { type ImportProgress, runStixImport, type StixImportRequest } from './stix-command.ts';

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
    const url = new URL(req.url ?? '/', 'http://admin.sock');
    if (req.method === 'POST' && url.pathname === '/import') {
      void streamImport(services, url.searchParams, req, res);
      return;
    }
    if (req.method === 'POST' && (url.pathname === '/stix' || url.pathname === '/misp')) {
      void streamStixImport(
        services,
        url.searchParams,
        req,
        res,
        url.pathname === '/misp' ? runMispImport : runStixImport,
      );
      return;
    }
    if (req.method === 'POST' && url.pathname === '/feed') {
      void handleFeedCommand(services, req, res);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/peer') {
      void handlePeerCommand(services, req, res);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/demo') {
      req.resume();
      void streamDemo(services, res);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/backup') {
      req.resume();
      void streamBackup(services, path.dirname(socketPath), res);
      return;
    }
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
      answer(res, result);
    });
  });
  // A large import may take longer than the default five minutes to upload; the socket is local.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  return server;
}

/**
 * `POST /demo`: loads the demo world, answering JSON lines: `{"progress": {done, total, what}}` as
 * each step starts, then `{"result": CommandResult}`.
 */
async function streamDemo(services: Services, res: http.ServerResponse) {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  let result: CommandResult;
  try {
    result = await runCommand(
      services,
      { name: 'demo' },
      {
        onDemoProgress: (progress) => {
          if (!res.destroyed) res.write(`${JSON.stringify({ progress })}\n`);
        },
      },
    );
  } catch (error) {
    result = { exitCode: 1, stdout: '', stderr: describeError(error) };
  }
  res.end(`${JSON.stringify({ result })}\n`);
}

/** Loads the demo world through the running node; `onProgress` hears each step start. */
export async function sendDemo(socketPath: string, onProgress: DemoProgress): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: '/demo', method: 'POST' }, (res) =>
      readProgressLines(res, onProgress, 'the demo was loaded').then(resolve, reject),
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * A streamed answer of the node: JSON lines `{"progress": …}` told to `onProgress` as they come, then
 * `{"result": CommandResult}`. An answer that ends without its result was cut off (`until` says what
 * it was to finish).
 */
function readProgressLines<P>(
  res: http.IncomingMessage,
  onProgress: (progress: P) => void,
  until: string,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    let pending = '';
    let result: CommandResult | undefined;
    const take = (line: string) => {
      if (line.trim() === '') return;
      const message = JSON.parse(line) as { progress?: P; result?: CommandResult };
      if (message.progress) onProgress(message.progress);
      if (message.result) result = message.result;
    };
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      try {
        for (const line of lines) take(line);
      } catch (error) {
        reject(error);
      }
    });
    res.on('end', () => {
      try {
        take(pending);
        if (result) resolve(result);
        else reject(new Error(`the node stopped answering before ${until}`));
      } catch (error) {
        reject(error);
      }
    });
    res.on('error', reject);
  });
}

function answer(res: http.ServerResponse, result: CommandResult) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(result));
}

/**
 * `POST /import?caseId=…&format=…&partial=…[&as=…][&type=…][&tlp=…]` with the file as the body:
 * the body streams straight into the import (batched, in one transaction), then the answer is the
 * command's JSON result. If the CLI goes away mid-file, the import fails and writes nothing.
 */
async function streamImport(
  services: Services,
  params: URLSearchParams,
  req: http.IncomingMessage,
  res: http.ServerResponse,
) {
  req.on('error', () => {}); // an aborted upload fails the import's read instead
  let result: CommandResult;
  try {
    result = await runImport(services, importRequestOf(params), req);
  } catch (error) {
    result = { exitCode: 1, stdout: '', stderr: describeError(error) };
  }
  answer(res, result);
  // Refused before the end of the file (an unknown case, a file too large): let the rest go by.
  if (!req.complete) req.resume();
}

/** How often, at most, the node tells the CLI how far a bundle's import has come. */
const PROGRESS_EVERY_MS = 200;

/**
 * `POST /stix?caseId=…&partial=…[&as=…][&tlp=…]` with the bundle as the body (or `POST /misp` with
 * MISP event JSON): received in full (bounded), then imported by `StixService.importBundle` (or
 * `MispService.importEvents`). The answer is JSON lines: `{"progress":
 * {bytes, lines}}` while the node reads and writes the bundle (lines: objects so far), then
 * `{"result": CommandResult}`; an answer without the result was cut off.
 */
async function streamStixImport(
  services: Services,
  params: URLSearchParams,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  run: typeof runStixImport,
) {
  req.on('error', () => {}); // an aborted upload fails the import's read instead
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  let told = 0;
  const onProgress: ImportProgress = (progress) => {
    const now = performance.now();
    if (now - told < PROGRESS_EVERY_MS || res.destroyed) return;
    told = now;
    res.write(`${JSON.stringify({ progress })}\n`);
  };
  const request: StixImportRequest = {
    caseId: params.get('caseId') ?? '',
    as: params.get('as') ?? undefined,
    tlp: (params.get('tlp') ?? undefined) as Tlp | undefined,
    partial: params.get('partial') === 'true',
  };
  let result: CommandResult;
  try {
    result = await run(services, request, req, onProgress);
  } catch (error) {
    result = { exitCode: 1, stdout: '', stderr: describeError(error) };
  }
  res.end(`${JSON.stringify({ result })}\n`);
  // Refused before the end of the file (an unknown case, a file too large): let the rest go by.
  if (!req.complete) req.resume();
}

/** `POST /feed` with a FeedCommand as JSON: `vytis feed …` run by the node; the answer a CommandResult. */
async function handleFeedCommand(services: Services, req: http.IncomingMessage, res: http.ServerResponse) {
  let body = '';
  req.setEncoding('utf8');
  for await (const chunk of req) body += chunk as string;
  let result: CommandResult;
  try {
    result = await runFeedCommand(services, JSON.parse(body) as FeedCommand);
  } catch (error) {
    result = { exitCode: 1, stdout: '', stderr: describeError(error) };
  }
  answer(res, result);
}

/** `POST /peer` with a PeerCommand as JSON: `vytis peer …` run by the node; the answer a CommandResult. */
async function handlePeerCommand(services: Services, req: http.IncomingMessage, res: http.ServerResponse) {
  let body = '';
  req.setEncoding('utf8');
  for await (const chunk of req) body += chunk as string;
  let result: CommandResult;
  try {
    result = await runPeerCommand(services, JSON.parse(body) as PeerCommand);
  } catch (error) {
    result = { exitCode: 1, stdout: '', stderr: describeError(error) };
  }
  answer(res, result);
}

/**
 * `POST /backup`: the archive as the body, then a trailer with its summary or why it failed; an
 * answer without the trailer was cut off.
 */
async function streamBackup(services: Services, dataDir: string, res: http.ServerResponse) {
  res.writeHead(200, { 'content-type': 'application/gzip', trailer: BACKUP_TRAILER });
  let outcome: BackupOutcome;
  try {
    const manifest = await writeBackup(
      { database: services.database, dataDir, evidenceDir: path.join(dataDir, 'evidence') },
      res,
    );
    outcome = { summary: summaryOf(manifest) };
  } catch (error) {
    outcome = { error: describeError(error).trimEnd() };
  }
  if (res.destroyed) return;
  res.addTrailers({ [BACKUP_TRAILER]: encodeURIComponent(JSON.stringify(outcome)) });
  res.end();
}

const importRequestOf = (params: URLSearchParams): ImportRequest => ({
  caseId: params.get('caseId') ?? '',
  as: params.get('as') ?? undefined,
  format: (params.get('format') ?? '') as BulkFormat,
  type: params.get('type') ?? undefined,
  tlp: (params.get('tlp') ?? undefined) as Tlp | undefined,
  partial: params.get('partial') === 'true',
});

/** Streams a file to the running node's import; resolves with its result (which may come early). */
export async function sendImport(
  socketPath: string,
  request: ImportRequest,
  body: Readable,
): Promise<CommandResult> {
  const query = new URLSearchParams({
    caseId: request.caseId,
    format: request.format,
    partial: String(request.partial),
  });
  if (request.as !== undefined) query.set('as', request.as);
  if (request.type !== undefined) query.set('type', request.type);
  if (request.tlp !== undefined) query.set('tlp', request.tlp);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        path: `/import?${query}`,
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
      },
      (res) =>
        readResult(res, resolve, reject, () => {
          // The node may answer before the whole file went (it refused it): stop sending.
          body.unpipe(req);
          body.destroy();
          req.destroy();
        }),
    );
    req.on('error', reject);
    body.on('error', (error) => {
      req.destroy();
      reject(error);
    });
    body.pipe(req);
  });
}

/**
 * Streams a STIX bundle (or, `format` misp, MISP event JSON) to the running node's import;
 * `onProgress` hears the node read and write it; resolves with its result (which may come before
 * the whole file went: it refused it).
 */
export async function sendStixImport(
  socketPath: string,
  request: StixImportRequest,
  body: Readable,
  onProgress: ImportProgress,
  format: 'stix' | 'misp' = 'stix',
): Promise<CommandResult> {
  const query = new URLSearchParams({ caseId: request.caseId, partial: String(request.partial) });
  if (request.as !== undefined) query.set('as', request.as);
  if (request.tlp !== undefined) query.set('tlp', request.tlp);
  return new Promise((resolve, reject) => {
    const stopSending = () => {
      body.unpipe(req);
      body.destroy();
      req.destroy();
    };
    const req = http.request(
      {
        socketPath,
        path: `/${format}?${query}`,
        method: 'POST',
        headers: {
          'content-type': format === 'misp' ? 'application/json' : 'application/stix+json;version=2.1',
        },
      },
      (res) =>
        readProgressLines(res, onProgress, 'the import finished').then(
          (result) => {
            stopSending();
            resolve(result);
          },
          (error) => {
            stopSending();
            reject(error);
          },
        ),
    );
    req.on('error', reject);
    body.on('error', (error) => {
      req.destroy();
      reject(error);
    });
    body.pipe(req);
  });
}

/** A `vytis feed …` command to the running node. */
export async function sendFeedCommand(socketPath: string, command: FeedCommand): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, path: '/feed', method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => readResult(res, resolve, reject),
    );
    req.on('error', reject);
    req.end(JSON.stringify(command));
  });
}

/** A `vytis peer …` command to the running node. */
export async function sendPeerCommand(socketPath: string, command: PeerCommand): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, path: '/peer', method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => readResult(res, resolve, reject),
    );
    req.on('error', reject);
    req.end(JSON.stringify(command));
  });
}

export async function sendAdminCommand(socketPath: string, command: AdminCommand): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, path: '/command', method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => readResult(res, resolve, reject),
    );
    req.on('error', reject);
    req.end(JSON.stringify(command));
  });
}

/** The node's answer: one JSON CommandResult; `then` runs once it has all come. */
function readResult(
  res: http.IncomingMessage,
  resolve: (result: CommandResult) => void,
  reject: (error: unknown) => void,
  then: () => void = () => {},
) {
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
    then();
  });
}
