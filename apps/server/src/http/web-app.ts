import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../errors.ts';
import { access } from './access.ts';

/** Where `npm install` / `npm start` build the web app (apps/web/dist). */
export const WEB_DIST = path.resolve(import.meta.dirname, '../../../web/dist');

/**
 * The page's rules for the browser: everything from the node itself, nothing inline but styles
 * (the component library sets CSS variables at run time), images also as data: URIs (QR codes).
 */
export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths that belong to the node, never to the app: an unknown one is the API's 404, not the app. */
const NODE_PATHS = /^\/(api|docs|openapi\.json|healthz|readyz)(\/|$|\?)/;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

interface WebFile {
  body: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
  /** Gzipped once, on first demand (a tablet on site may be on a slow link). */
  gzipped?: Buffer;
}

const COMPRESSIBLE = /^(text\/|application\/(json|manifest)|image\/svg)/;

/** Reads the built app once: a few hundred kilobytes, served from memory. */
function loadDist(dist: string): Map<string, WebFile> | null {
  if (!fs.existsSync(path.join(dist, 'index.html'))) return null;
  const files = new Map<string, WebFile>();
  for (const entry of fs.readdirSync(dist, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const rel = '/' + path.relative(dist, full).split(path.sep).join('/');
    const body = fs.readFileSync(full);
    files.set(rel, {
      body,
      type: TYPES[path.extname(entry.name).toLowerCase()] ?? 'application/octet-stream',
      etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      immutable: rel.startsWith('/assets/'),
    });
  }
  return files;
}

const NOT_BUILT =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vytis</title></head>' +
  '<body><h1>Vytis node</h1><p>The web app is not built: run <code>npm run build:web</code> ' +
  '(<code>npm install</code> and <code>npm start</code> build it too).</p>' +
  '<p>The API reference is at <a href="/docs">/docs</a> ' +
  '(OpenAPI document: <a href="/openapi.json">/openapi.json</a>).</p></body></html>';

/**
 * Serves the single-page app at `/`: its files, and index.html for the app's own routes (so a
 * reload of /requests/… works), with a strict Content-Security-Policy. Paths of the node (`/api`,
 * `/docs`, `/openapi.json`, `/healthz`, `/readyz`) are never answered with the app.
 */
export async function webAppRoutes(app: FastifyInstance, options: { dist?: string } = {}) {
  const files = loadDist(options.dist ?? WEB_DIST);

  const send = (
    reply: FastifyReply,
    file: WebFile,
    ifNoneMatch: string | undefined,
    acceptEncoding: string | undefined,
  ) => {
    reply
      .header('content-security-policy', WEB_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .header('etag', file.etag)
      .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (ifNoneMatch === file.etag) return reply.status(304).send();
    const compressible = COMPRESSIBLE.test(file.type) && file.body.length > 1024;
    if (compressible) reply.header('vary', 'accept-encoding');
    if (compressible && /\bgzip\b/.test(acceptEncoding ?? '')) {
      file.gzipped ??= zlib.gzipSync(file.body, { level: 9 });
      return reply.type(file.type).header('content-encoding', 'gzip').send(file.gzipped);
    }
    return reply.type(file.type).send(file.body);
  };

  const serve = async (
    request: { url: string; method: string; headers: Record<string, unknown> },
    reply: FastifyReply,
  ) => {
    const pathname = decodeURIComponent(request.url.split('?')[0]!.split('#')[0]!);
    if (NODE_PATHS.test(pathname)) throw new AppError('not_found', `no route ${request.method} ${pathname}`);
    const ifNoneMatch = request.headers['if-none-match'] as string | undefined;
    const acceptEncoding = request.headers['accept-encoding'] as string | undefined;
    if (!files) {
      if (pathname !== '/') throw new AppError('not_found', `no route ${request.method} ${pathname}`);
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', WEB_CSP)
        .send(NOT_BUILT);
    }
    const file = files.get(pathname);
    if (file && pathname !== '/index.html') return send(reply, file, ifNoneMatch, acceptEncoding);
    // A missing asset is a 404, not the app: the browser would read HTML as a script.
    if (pathname.startsWith('/assets/') || /\.[a-z0-9]{1,12}$/i.test(pathname)) {
      throw new AppError('not_found', `no file ${pathname}`);
    }
    return send(reply, files.get('/index.html')!, ifNoneMatch, acceptEncoding);
  };

  const route = { config: { access: access.public }, schema: { hide: true } };
  app.get('/', route, serve);
  app.get('/*', route, serve);
}
