// Browser tests: a real node listening on loopback, real Chromium through playwright-core, one
// browser context per person. Every page is watched: a console error, an uncaught exception, an
// unexpected HTTP error or any request to another origin fails the test. axe-core checks every page
// a test visits (each navigation, client-side route changes included) and `world.axe(page)` checks
// a page on demand (after a dialog opens): a violation fails the test like a console error does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Role } from '@vytis/contracts';
import axeCore from 'axe-core';
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

/** axe-core's rule sets the app is held to: WCAG 2.x A and AA, and axe's best practices. */
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/**
 * Known violations let through, each with its reason: `{ path, rule, why }` (path: a regex on the
 * page's path; target: a regex on the element's selector; within: a CSS selector of an ancestor
 * the element must be inside, or be; neither: the whole rule on those pages). `within` holds where
 * axe names elements by their shortest unique selector, which changes with what else is on the page.
 */
const AXE_EXCEPTIONS: { path: RegExp; rule: string; target?: RegExp; within?: string; why: string }[] = [
  {
    path: /^\/deployments\//,
    rule: 'aria-dialog-name',
    target: /^section$/,
    why: "a confirmation dialog caught by a check in the frame it is taken down, after its act was confirmed: the member's row it belongs to re-renders without the act (its can turned false), and the dialog goes with it; an open dialog always has its title (ConfirmAction requires one)",
  },
  {
    path: /./,
    rule: 'region',
    within: ['Popover', 'Combobox', 'Select', 'MultiSelect'].map((c) => `.mantine-${c}-dropdown`).join(', '),
    why: 'a dropdown open at the moment of the check (Select, Menu) renders in a portal at the end of <body>, outside the landmarks; it belongs to the control that opened it (aria-controls) and closes with it',
  },
  {
    path: /./,
    rule: 'region',
    target: /^div\[data-portal(="true")?\]$/,
    why: 'a portal Mantine keeps at the end of <body> for a dialog, menu or notification while it opens or closes; what it holds is a dialog or belongs to the control that opened it, and is checked by the other rules',
  },
  {
    path: /./,
    rule: 'scrollable-region-focusable',
    // Only an option list of a combobox (the control whose input keeps the focus): a listbox the
    // focus must enter is held to the rule.
    within: ['Select', 'MultiSelect', 'Autocomplete', 'TagsInput', 'Combobox']
      .map((c) => `.mantine-${c}-dropdown [role="listbox"]`)
      .join(', '),
    why: 'the option list of a Select open at the moment of the check: the ARIA combobox pattern keeps focus in the input and moves through the options with the arrow keys (aria-activedescendant), which scroll the list; axe cannot see that and wants a tab stop inside the list, which would close it',
  },
];

/** The ancestors the exceptions ask about, looked up in the page for each violating element. */
const AXE_ANCESTORS = [...new Set(AXE_EXCEPTIONS.flatMap((e) => (e.within ? [e.within] : [])))];

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
  /** axe findings already noted, by `path rule target`: a repeated check does not flood the list. */
  private axeSeen = new Set<string>();
  /** The checks, one after another across all pages (axe is heavy; the machine may be small). */
  private axeQueue: Promise<void> = Promise.resolve();
  private axePending = new Set<Promise<void>>();
  /** Per page: the latest navigation, so a check after a superseded one is skipped. */
  private axeNavigation = new WeakMap<Page, number>();
  private who = new WeakMap<Page, string>();
  private reported = 0;

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
    await this.axeSettled();
    const late = this.problems.list.slice(this.reported);
    for (const context of this.contexts) await context.close().catch(() => {});
    await this.browser?.close();
    await this.node?.close();
    // Checks that finished after the test's last assertClean still fail the file.
    assert.deepEqual(late, [], 'no problems found after the last assertClean (axe checks finish late)');
  }

  /** Provoked HTTP errors (e.g. a form's 400) that must not fail the test. */
  allow(pattern: RegExp) {
    this.problems.allowed.push(pattern);
  }

  assertClean() {
    this.reported = this.problems.list.length;
    assert.deepEqual(
      this.problems.list,
      [],
      'no console errors, no unexpected HTTP errors, no foreign requests, no axe violations',
    );
  }

  /**
   * axe-core on the page as it is now (after earlier checks of it): each violation, once per
   * (page path, rule, target), goes into the problem list with its rule, impact and selectors
   * (and axe's reason, e.g. the contrast ratio and colours).
   * Returns the new findings. Checks run on their own after every navigation; call this after
   * opening a dialog or another change that is not a navigation.
   */
  async axe(page: Page): Promise<string[]> {
    return this.axeQueued(() => this.axeRun(page));
  }

  /** Waits for every axe check in flight. */
  async axeSettled() {
    while (this.axePending.size) await Promise.all([...this.axePending]);
  }

  private axeQueued(work: () => Promise<string[]>): Promise<string[]> {
    const result = this.axeQueue.then(work);
    const done = result.then(
      () => {},
      () => {},
    );
    this.axeQueue = done;
    this.axePending.add(done);
    void done.then(() => this.axePending.delete(done));
    return result;
  }

  /** After a navigation: once the page has its main landmark (then axeRun waits for its data). */
  private axeAfterNavigation(page: Page) {
    const navigation = (this.axeNavigation.get(page) ?? 0) + 1;
    this.axeNavigation.set(page, navigation);
    void this.axeQueued(async () => {
      try {
        await page.locator('main').first().waitFor({ timeout: 15_000 });
      } catch {
        if (page.isClosed()) return [];
      }
      if (this.axeNavigation.get(page) !== navigation) return []; // a later navigation is checked
      return this.axeRun(page);
    });
  }

  private async axeRun(page: Page): Promise<string[]> {
    if (page.isClosed()) return [];
    let found: {
      id: string;
      impact: string;
      help: string;
      targets: { target: string; why: string | undefined; within: string[] }[];
    }[];
    let where: string;
    try {
      if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeCore.source);
      [where, found] = await page.evaluate(
        async ([tags, ancestors]) => {
          // The page first settles: no spinner for 300 ms (a route renders a moment after the URL
          // changes, then loads its data), and transitions (a dialog fading in) ended.
          const until = Date.now() + 15_000;
          for (let calm = 0; calm < 3 && Date.now() < until; ) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            calm = document.querySelector('.mantine-Loader-root') ? 0 : calm + 1;
          }
          await Promise.all(
            document
              .getAnimations()
              .filter((a) => a.effect?.getTiming().iterations !== Number.POSITIVE_INFINITY)
              .map((a) => a.finished.catch(() => {})),
          );
          const engine = (window as unknown as { axe: typeof axeCore }).axe;
          const result = await engine.run(document, {
            runOnly: { type: 'tag', values: tags },
            resultTypes: ['violations'],
          });
          return [
            location.pathname,
            result.violations.map((v) => ({
              id: v.id,
              impact: String(v.impact),
              help: v.help,
              targets: v.nodes.map((n) => {
                const why = [...n.any, ...n.all, ...n.none].find((c) => c.message)?.message;
                const target = n.target.join(' ');
                const element = n.target.length === 1 ? document.querySelector(String(n.target[0])) : null;
                return { target, why, within: ancestors.filter((selector) => element?.closest(selector)) };
              }),
            })),
          ] as const;
        },
        [AXE_TAGS, AXE_ANCESTORS] as const,
      );
    } catch (error) {
      // The page moved on or closed while checked: the next navigation's check covers it.
      if (page.isClosed() || /context was destroyed|closed|navigat/i.test(String(error))) return [];
      throw error;
    }
    const who = this.who.get(page) ?? 'page';
    const path = where.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, ':id');
    const added: string[] = [];
    for (const v of found) {
      const excepted = AXE_EXCEPTIONS.filter((e) => e.rule === v.id && e.path.test(path));
      for (const { target, why, within } of v.targets) {
        const isExcepted = (e: (typeof AXE_EXCEPTIONS)[number]) =>
          (!e.target || e.target.test(target)) && (!e.within || within.includes(e.within));
        if (excepted.some(isExcepted)) continue;
        const key = `${path} ${v.id} ${target}`;
        if (this.axeSeen.has(key)) continue;
        this.axeSeen.add(key);
        const line = `${who}: axe ${v.id} (${v.impact}) on ${path}: ${v.help} — ${target}${why ? ` (${why})` : ''}`;
        this.problems.list.push(line);
        added.push(line);
      }
    }
    return added;
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
      // Dialogs appear whole: axe never judges a fading dialog's blended colours.
      reducedMotion: 'reduce',
    });
    this.contexts.push(context);
    this.watch(context, name);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // The first page load waits as long as the login does: a busy machine serves the app slowly.
    await page.goto(this.base + '/', { timeout: 90_000 });
    await page.getByLabel('Name').fill(name);
    await page.getByRole('textbox', { name: 'Password' }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    // Several people log in at once on a busy machine.
    await page.getByTestId('whoami').filter({ hasText: name }).waitFor({ timeout: 90_000 });
    return { user, context, page };
  }

  /** Several people at once: created and logged in in parallel. */
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
    context.on('page', (page) => {
      this.who.set(page, who);
      this.watchPage(page, note);
    });
  }

  private watchPage(page: Page, note: (what: string) => void) {
    page.on('pageerror', (error) => note(`uncaught: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      // Failed HTTP answers are judged above, by their method, path and status.
      if (message.text().startsWith('Failed to load resource')) return;
      note(`console error: ${message.text()}`);
    });
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) this.axeAfterNavigation(page);
    });
    page.on('dialog', (dialog) => {
      note(`dialog opened: ${dialog.message()}`);
      void dialog.dismiss();
    });
  }
}

/** A full-page screenshot in test-results/screenshots (not committed), for people to look at. */
export async function shot(page: Page, name: string) {
  // CI leaves them out (VYTIS_TEST_SCREENSHOTS=0): nobody looks at them there, and a full-page
  // PNG of every page costs the browser tests about a quarter of their time.
  if (process.env.VYTIS_TEST_SCREENSHOTS === '0') return;
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

/**
 * Confirms the open confirmation dialog of a serious act (components/Confirm.tsx), first giving
 * the reason when there is one, and waits for it to close (the act done).
 */
export async function confirmDialog(page: Page, options: { reason?: string } = {}) {
  const dialog = page.getByRole('dialog');
  await dialog.getByTestId('confirm-action').waitFor();
  if (options.reason !== undefined) await dialog.getByRole('textbox').first().fill(options.reason);
  await dialog.getByTestId('confirm-action').click();
  await dialog.waitFor({ state: 'detached' });
}
