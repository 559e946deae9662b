// Browser tests: a real node listening on loopback, real Chromium through playwright-core, one
// browser context per person. Every page is watched: a console error, an uncaught exception, an
// unexpected HTTP error or any request to another origin fails the test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Role } from '@vytis/contracts';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { startTestNode, type TestNode, type TestUser } from '../../server/src/test/harness.ts';

const root = path.resolve(import.meta.dirname, '../../..');
export const SCREENSHOTS = path.join(root, 'test-results', 'screenshots');
export const PASSWORD = 'correct horse battery staple';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Builds the app when a source is newer than the last build (npm install built it already). */
export function ensureBuilt() {
  const run = spawnSync(process.execPath, [path.join(root, 'apps/web/scripts/build.mjs'), '--if-stale'], {
    stdio: 'inherit',
  });
  assert.equal(run.status, 0, 'the web app builds');
}

export interface Problems {
  list: string[];
  /** HTTP errors the test means to provoke: `METHOD path-regex status`. */
  allowed: RegExp[];
}

export interface Person {
  user: TestUser;
  context: BrowserContext;
  page: Page;
}

export class BrowserWorld {
  node!: TestNode;
  base!: string;
  browser!: Browser;
  problems: Problems = { list: [], allowed: [] };
  private contexts: BrowserContext[] = [];

  async start(options: { now?: string } = {}) {
    ensureBuilt();
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    this.node = await startTestNode({
      now: options.now ?? new Date().toISOString(),
      loginAttemptsPerMinute: 10_000,
    });
    await this.node.app.listen({ host: '127.0.0.1', port: 0 });
    const address = this.node.app.server.address();
    assert.ok(address && typeof address === 'object');
    this.base = `http://127.0.0.1:${address.port}`;
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }

  async stop() {
    for (const context of this.contexts) await context.close().catch(() => {});
    await this.browser?.close();
    await this.node?.close();
  }

  /** Provoked HTTP errors (e.g. a form's 400) that must not fail the test. */
  allow(pattern: RegExp) {
    this.problems.allowed.push(pattern);
  }

  assertClean() {
    assert.deepEqual(
      this.problems.list,
      [],
      'no console errors, no unexpected HTTP errors, no foreign requests',
    );
  }

  /** A person with a password, logged in through the login page in a context of their own. */
  async person(
    name: string,
    party: string,
    roles: Role[],
    viewport = { width: 1280, height: 900 },
  ): Promise<Person> {
    const user = await this.node.user(name, party, roles, PASSWORD);
    const context = await this.browser.newContext({
      viewport,
      timezoneId: party === 'FI' || party === 'EE' || party === 'LT' ? 'Europe/Helsinki' : 'Europe/Warsaw',
      locale: 'en-GB',
    });
    this.contexts.push(context);
    this.watch(context, name);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(this.base + '/');
    await page.getByLabel('Name').fill(name);
    await page.getByRole('textbox', { name: 'Password' }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    // scrypt at OWASP's cost (128 MiB, on purpose) for several people at once on a busy machine.
    await page.getByTestId('whoami').filter({ hasText: name }).waitFor({ timeout: 90_000 });
    return { user, context, page };
  }

  /** Several people at once: their passwords are hashed and checked in parallel (scrypt is slow on purpose). */
  async people(specs: [name: string, party: string, roles: Role[]][]): Promise<Record<string, Person>> {
    const list = await Promise.all(specs.map(([name, party, roles]) => this.person(name, party, roles)));
    return Object.fromEntries(list.map((p, i) => [specs[i]![0], p]));
  }

  private watch(context: BrowserContext, who: string) {
    const note = (what: string) => this.problems.list.push(`${who}: ${what}`);
    context.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(this.base + '/') && !url.startsWith('data:') && !url.startsWith('blob:')) {
        note(`request to another origin: ${url}`);
      }
    });
    context.on('response', (response) => {
      if (response.status() < 400) return;
      const url = new URL(response.url());
      const line = `${response.request().method()} ${url.pathname}${url.search} ${response.status()}`;
      if (!this.problems.allowed.some((re) => re.test(line))) note(`HTTP error: ${line}`);
    });
    context.on('page', (page) => this.watchPage(page, note));
  }

  private watchPage(page: Page, note: (what: string) => void) {
    page.on('pageerror', (error) => note(`uncaught: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      // Failed HTTP answers are judged above, by their method, path and status.
      if (message.text().startsWith('Failed to load resource')) return;
      note(`console error: ${message.text()}`);
    });
    page.on('dialog', (dialog) => {
      note(`dialog opened: ${dialog.message()}`);
      void dialog.dismiss();
    });
  }
}

/** A full-page screenshot in test-results/screenshots (not committed), for people to look at. */
export async function shot(page: Page, name: string) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** An API call as a user (bearer token), for setting the scene faster than a browser would. */
export async function call(
  world: BrowserWorld,
  user: TestUser,
  method: string,
  url: string,
  payload?: unknown,
) {
  const response = await world.node.request({
    method: method as 'GET',
    url: `/api/v1${url}`,
    headers: user.headers,
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  if (response.statusCode >= 300)
    throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
  return response.json() as Record<string, any>;
}
