import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import Fastify from 'fastify';
import { WEB_CSP, WEB_DIST, webAppRoutes } from '../../server/src/http/web-app.ts';
import { startTestNode, type TestNode } from '../../server/src/test/harness.ts';
import { ensureBuilt } from './browser.ts';

describe('the node serves the web app', () => {
  let node: TestNode;
  before(async () => {
    ensureBuilt();
    node = await startTestNode();
  });
  after(() => node.close());
  const get = (url: string, headers: Record<string, string> = {}) =>
    node.request({ method: 'GET', url, headers });

  it('answers / and the app’s own routes with index.html under a strict CSP', async () => {
    for (const url of [
      '/',
      '/requests',
      '/requests/0b7e8a4e-0000-4000-8000-000000000000',
      '/cases/x/y?tab=1',
    ]) {
      const res = await get(url);
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.headers['content-security-policy'], WEB_CSP);
      assert.match(WEB_CSP, /script-src 'self'(;|$)/);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.match(res.body, /<div id="root">/);
      assert.doesNotMatch(res.body, /https?:\/\//, 'index.html names no other origin');
    }
  });

  it('serves the hashed assets for a year, with ETags, and no external URL in the bundle', async () => {
    const html = (await get('/')).body;
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), html);
    for (const asset of assets) {
      const res = await get(asset);
      assert.equal(res.statusCode, 200, asset);
      assert.match(String(res.headers['cache-control']), /immutable/);
      const again = await get(asset, { 'if-none-match': String(res.headers.etag) });
      assert.equal(again.statusCode, 304);
    }
    const js = assets.find((a) => a.endsWith('.js'))!;
    const zipped = await get(js, { 'accept-encoding': 'gzip, br' });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(zipped.headers.vary, 'accept-encoding');
    assert.equal(zlib.gunzipSync(zipped.rawPayload).toString(), (await get(js)).body);
    const css = fs.readdirSync(path.join(WEB_DIST, 'assets')).filter((f) => f.endsWith('.css'));
    for (const file of css) {
      const text = fs.readFileSync(path.join(WEB_DIST, 'assets', file), 'utf8');
      assert.doesNotMatch(text, /@import|url\(\s*['"]?https?:/, `${file} loads nothing from outside`);
    }
  });

  it('never answers the node’s own paths with the app: unknown API routes and files are 404s', async () => {
    for (const url of [
      '/api/v1/nothing',
      '/api/nothing',
      '/api',
      '/healthz/x',
      '/readyz/x',
      '/openapi.json/x',
      '/docs/nothing.js',
    ]) {
      const res = await get(url);
      assert.equal(res.statusCode, 404, url);
      assert.match(String(res.headers['content-type']), /json/, url);
      assert.equal(res.json().error.code, 'not_found', url);
    }
    assert.equal((await get('/assets/missing.js')).statusCode, 404);
    assert.equal((await get('/favicon.ico')).statusCode, 404);
    assert.equal((await get('/healthz')).json().status, 'ok');
    assert.equal((await get('/openapi.json')).statusCode, 200);
    assert.equal((await node.request({ method: 'POST', url: '/requests' })).statusCode, 404);
  });

  it('without a build, / says how to build it and other paths are 404s', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vytis-no-web-'));
    const app = Fastify();
    app.setErrorHandler((error, _request, reply) => {
      void reply.status((error as { code?: string }).code === 'not_found' ? 404 : 500).send({});
    });
    await app.register(webAppRoutes, { dist: empty });
    const home = await app.inject({ method: 'GET', url: '/' });
    assert.equal(home.statusCode, 200);
    assert.match(home.body, /npm run build:web/);
    assert.equal((await app.inject({ method: 'GET', url: '/requests' })).statusCode, 404);
    await app.close();
    fs.rmSync(empty, { recursive: true });
  });
});
