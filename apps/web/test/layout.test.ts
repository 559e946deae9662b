import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { runCommand } from '../../server/src/cli/commands.ts';
import { BrowserWorld, call, type Person, shot } from './browser.ts';

/** The widths the issue names: a tablet held upright, and a laptop. */
const WIDTHS = [768, 1440] as const;

/**
 * What does not fit at this width: the page scrolling sideways, or an element cutting its own
 * content off (overflow hidden or clipped, no ellipsis). Scroll containers that say so (a table in
 * a ScrollArea, `overflow: auto`) are fine: their content is reachable.
 */
async function misfits(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > window.innerWidth + 1)
      found.push(`the page scrolls sideways: ${doc.scrollWidth} px wide in a ${window.innerWidth} px window`);
    for (const el of document.querySelectorAll<HTMLElement>('main *, header *, nav *')) {
      const style = getComputedStyle(el);
      if (style.display === 'none' || style.visibility === 'hidden' || el.offsetParent === null) continue;
      const clips = ['hidden', 'clip'].includes(style.overflowX);
      if (!clips || style.textOverflow === 'ellipsis') continue;
      // Visually hidden text for screen readers is clipped on purpose.
      if (el.clientWidth <= 1 || el.clientHeight <= 1) continue;
      if (el.scrollWidth > el.clientWidth + 2 && (el.textContent ?? '').trim() !== '') {
        const name = `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ')[0]}` : ''}`;
        found.push(
          `${name} cuts off its content (${el.scrollWidth} px in ${el.clientWidth} px): "${(el.textContent ?? '').trim().slice(0, 60)}"`,
        );
      }
    }
    return found;
  });
}

describe('every page at 768 and 1440 px, light and dark: nothing clipped or overflowing, axe clean', () => {
  const world = new BrowserWorld();
  let people: Record<string, Person> = {};
  const pages: { path: string; who: string; ready: string }[] = [];

  before(async () => {
    await world.start();
    // An empty node's login page says how to make the first admin.
    const context = await world.browser.newContext({ viewport: { width: 768, height: 900 } });
    const login = await context.newPage();
    await login.goto(world.base);
    await login.getByTestId('first-admin').getByText('npx vytis user add admin').waitFor();
    await world.axe(login);
    await shot(login, 'layout-login-empty-node');
    await context.close();

    const demo = await runCommand(world.node.services, { name: 'demo' });
    assert.equal(demo.exitCode, 0, demo.stderr);
    people = {
      staff: await world.person('layout.staff', 'LT', ['coordinator', 'admin', 'auditor', 'analyst']),
      poc: await world.person('layout.poc', 'EE', ['poc', 'council']),
    };
    const requests = (await call(world, people.staff!.user, 'GET', '/requests?limit=50')).items as {
      id: string;
      status: string;
    }[];
    const deployments = (await call(world, people.staff!.user, 'GET', '/deployments')).items as {
      id: string;
      members: { responderId: string; status: string }[];
    }[];
    const cases = (await call(world, people.staff!.user, 'GET', '/cases?limit=10')).items as { id: string }[];
    const deployment = deployments[0]!;
    const released = deployment.members.find((m) => m.status === 'released')!;
    const voting = requests.find((r) => r.status === 'voting')!;
    const staff = (path: string) => pages.push({ path, who: 'staff', ready: 'h1' });
    for (const path of [
      '/',
      '/notifications',
      '/search',
      '/requests',
      `/requests/${voting.id}`,
      `/requests/${requests.find((r) => r.status === 'deployed')!.id}`,
      `/requests/${requests.find((r) => r.status === 'deployed')!.id}/report`,
      `/deployments/${deployment.id}`,
      `/deployments/${deployment.id}/passes/${released.responderId}`,
      '/duty',
      '/roster',
      '/cases',
      `/cases/${cases[0]!.id}`,
      '/indicators',
      '/passes/verify',
      '/taxii',
      '/misp/feeds',
      '/audit',
      '/federation',
      '/users',
      '/account',
    ])
      staff(path);
    for (const path of ['/', '/requests/new', `/requests/${voting.id}`, '/roster', '/notifications'])
      pages.push({ path, who: 'poc', ready: 'h1' });
  });
  after(() => world.stop());

  it('shows every page whole at both widths, with screenshots', async () => {
    const problems: string[] = [];
    for (const width of WIDTHS) {
      for (const { path, who, ready } of pages) {
        const { page } = people[who]!;
        await page.setViewportSize({ width, height: 900 });
        await page.goto(world.base + path);
        await page.locator(`main ${ready}`).first().waitFor();
        // The page's data has come when no spinner is left.
        await page.locator('main .mantine-Loader-root').first().waitFor({ state: 'detached' });
        for (const misfit of await misfits(page)) problems.push(`${who} ${path} at ${width} px: ${misfit}`);
        await shot(page, `layout-${width}-${who}${path.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '')}`);
      }
    }
    await world.axeSettled();
    assert.deepEqual(problems, [], 'nothing clipped or overflowing');
    world.assertClean();
  });

  it('follows a system set to dark: every page dark, and axe clean in it', async () => {
    for (const person of Object.values(people)) await person.page.emulateMedia({ colorScheme: 'dark' });
    for (const { path, who, ready } of pages) {
      const { page } = people[who]!;
      await page.setViewportSize({ width: 1440, height: 900 });
      await page.goto(world.base + path);
      await page.locator(`main ${ready}`).first().waitFor();
      await page.locator('main .mantine-Loader-root').first().waitFor({ state: 'detached' });
      const scheme = await page.evaluate(() => ({
        attribute: document.documentElement.getAttribute('data-mantine-color-scheme'),
        body: getComputedStyle(document.body).backgroundColor,
      }));
      assert.deepEqual(scheme, { attribute: 'dark', body: 'rgb(36, 36, 36)' }, `${who} ${path} is dark`);
      if (path === '/' || path.startsWith('/requests/') || path.startsWith('/cases/'))
        await shot(page, `layout-dark-${who}${path.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '')}`);
    }
    await world.axeSettled();
    world.assertClean();
  });
});
