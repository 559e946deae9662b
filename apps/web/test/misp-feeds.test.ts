import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { BrowserWorld, call, type Person, shot } from './browser.ts';

const GALAXY_EVENT = path.resolve(import.meta.dirname, '../../server/data/misp/events/galaxy_1.json');
const GALAXY_INFO = "OSINT - PUBG Ransomware Decrypts Your Files If You Play PlayerUnknown's Battlegrounds";

/** A small event as a feed generator writes one. */
const SMALL_EVENT = {
  Event: {
    uuid: '7a1b2c3d-4e5f-4a6b-8c7d-000000000001',
    info: 'Phishing kit hosts',
    date: '2026-11-20',
    threat_level_id: '2',
    analysis: '1',
    timestamp: '1760000001',
    published: true,
    Orgc: { name: 'CERT-EE', uuid: '7a1b2c3d-4e5f-4a6b-8c7d-eeeeeeeeeeee' },
    Tag: [{ name: 'tlp:green', colour: '#33FF00' }],
    Attribute: [1, 2, 3].map((n) => ({
      uuid: `7a1b2c3d-4e5f-4a6b-8c7d-00000000010${n}`,
      type: 'ip-dst',
      category: 'Network activity',
      value: `203.0.113.${n}`,
      to_ids: true,
      timestamp: '1760000001',
    })),
  },
};

/** The feed's files: each event by its uuid, and the manifest MISP writes of them. */
function feedFiles(): Map<string, string> {
  const events = [JSON.parse(fs.readFileSync(GALAXY_EVENT, 'utf8')), SMALL_EVENT];
  const files = new Map<string, string>();
  const manifest: Record<string, unknown> = {};
  for (const { Event: e } of events) {
    files.set(`${e.uuid}.json`, JSON.stringify({ Event: e }));
    manifest[e.uuid] = {
      info: e.info,
      Orgc: { name: e.Orgc.name, uuid: e.Orgc.uuid },
      analysis: Number(e.analysis),
      threat_level_id: Number(e.threat_level_id),
      timestamp: Number(e.timestamp),
      date: e.date,
      Tag: (e.Tag ?? []).map((t: { name: string; colour?: string }) => ({ name: t.name, colour: t.colour })),
    };
  }
  files.set('manifest.json', JSON.stringify(manifest));
  return files;
}

/** The feed on loopback under /feed/ (no hashes.csv: a feed may have none); anything else is a 404. */
async function startFeedServer() {
  const files = feedFiles();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const name = /^\/feed\/([^/]+)$/.exec(req.url ?? '')?.[1];
    const body = name ? files.get(name) : undefined;
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function pick(page: Page, label: string, option: string) {
  await page.getByRole('combobox', { name: label, exact: true }).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

describe('MISP feeds page: add a feed, pull it now, its last result, its events in the case', () => {
  const world = new BrowserWorld();
  let analyst: Person;
  let feed: Awaited<ReturnType<typeof startFeedServer>>;
  let caseId = '';

  before(async () => {
    await world.start();
    feed = await startFeedServer();
    analyst = await world.person('lt.feeds', 'LT', ['analyst']);
    caseId = (
      await call(world, analyst.user, 'POST', '/cases', {
        title: 'CIRCL OSINT',
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'medium',
        tlp: 'green',
        pap: 'green',
      })
    ).id;
  });
  after(async () => {
    await world.stop();
    await feed.close();
  });

  it('adds a feed into a case, pulls it now, pulls again with nothing new, and the case holds its events', async () => {
    const { page } = analyst;
    await page.getByRole('link', { name: 'MISP feeds' }).click();
    await page.getByRole('heading', { name: 'MISP feeds', level: 1 }).waitFor();
    await page.getByText('No feed is pulled into a case you see.').waitFor();

    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('circl-osint');
    await page.getByRole('textbox', { name: 'Feed URL' }).fill(`${feed.base}/feed/`);
    await pick(page, 'Case', 'CIRCL OSINT');
    await page.getByRole('textbox', { name: 'Pull every (minutes)' }).fill('30');
    await page.getByRole('button', { name: 'Add feed' }).click();
    await page.getByTestId('misp-feed-added').waitFor();
    const row = page.locator('tr[data-feed="circl-osint"]');
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /by lt\.feeds/);
    assert.equal(
      await row.getByRole('link', { name: 'CIRCL OSINT' }).getAttribute('href'),
      `/cases/${caseId}`,
    );
    assert.equal(await row.getByTestId('misp-feed-last-run').textContent(), 'Not pulled yet');
    assert.equal(await row.getByRole('switch', { name: 'Pull circl-osint on schedule' }).isChecked(), true);
    assert.match((await row.textContent()) ?? '', /every 30 min/);
    assert.deepEqual(feed.requests, [], 'nothing fetched before the pull');
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing with a feed listed');

    await row.getByRole('button', { name: 'Pull now: circl-osint' }).click();
    const result = page.getByTestId('misp-feed-pull-result');
    await result.waitFor();
    const said = (await result.getByRole('status').textContent()) ?? '';
    assert.match(
      said,
      /^2 event\(s\) listed: 0 unchanged, 2 fetched, 2 imported, 0 failed; \d+ attributes and objects added/,
    );
    assert.match(said, /0 refused$/);
    // The feed's last run says the same.
    await row.getByTestId('misp-feed-last-run').filter({ hasText: said }).waitFor();
    assert.match((await row.getByTestId('misp-feed-last-run').textContent()) ?? '', /\(manual\)/);
    assert.equal(await row.getByTestId('misp-feed-last-error').textContent(), 'none');
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing with the pull result shown');
    await shot(page, 'misp-feed-pulled');

    // Nothing changed in the feed: only the manifest is read.
    const before = feed.requests.length;
    await row.getByRole('button', { name: 'Pull now: circl-osint' }).click();
    await result
      .getByRole('status')
      .filter({ hasText: /^2 event\(s\) listed: 2 unchanged, 0 fetched, 0 imported/ })
      .waitFor();
    assert.deepEqual(feed.requests.slice(before), ['/feed/manifest.json']);

    // Disabled: no scheduled pull.
    await row.getByRole('switch', { name: 'Pull circl-osint on schedule' }).click();
    await row.getByText('disabled', { exact: true }).waitFor();
    assert.equal(await row.getByRole('switch', { name: 'Pull circl-osint on schedule' }).isChecked(), false);

    // The case holds the feed's two events.
    await row.getByRole('link', { name: 'CIRCL OSINT' }).click();
    await page.getByTestId('case-title').filter({ hasText: 'CIRCL OSINT' }).waitFor();
    await page.getByRole('tab', { name: 'MISP events' }).click();
    const events = page.getByTestId('misp-event');
    await events.getByRole('heading', { name: GALAXY_INFO }).waitFor();
    await events.getByRole('heading', { name: 'Phishing kit hosts' }).waitFor();
    assert.equal(await events.count(), 2);
    world.assertClean();
  });

  it('a feed into a new case whose manifest is missing shows the error; removing asks first', async () => {
    const { page } = analyst;
    await page.goto(`${world.base}/misp/feeds`);
    await page.locator('tr[data-feed="circl-osint"]').waitFor();

    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('gone');
    await page.getByRole('textbox', { name: 'Feed URL' }).fill(`${feed.base}/gone/`);
    await page.getByRole('radio', { name: 'A new case' }).check();
    await page.getByRole('textbox', { name: 'Title of the new case' }).fill('Feed that left');
    await page.getByRole('button', { name: 'Add feed' }).click();
    const row = page.locator('tr[data-feed="gone"]');
    await row.getByRole('link', { name: 'Feed that left' }).waitFor();

    await row.getByRole('button', { name: 'Pull now: gone' }).click();
    const result = page.getByTestId('misp-feed-pull-result');
    await result.getByText(/^Stopped: .*manifest\.json/).waitFor();
    await row
      .getByTestId('misp-feed-last-error')
      .getByText(/manifest\.json/)
      .waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing with an error shown');

    // A name twice is refused, said at the form.
    world.allow(/^POST \/api\/v1\/misp\/feeds 409$/);
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('gone');
    await page.getByRole('textbox', { name: 'Feed URL' }).fill(`${feed.base}/feed/`);
    await page.getByRole('textbox', { name: 'Title of the new case' }).fill('Again');
    await page.getByRole('button', { name: 'Add feed' }).click();
    await page.getByRole('alert').filter({ hasText: 'you have a feed named gone already' }).waitFor();

    await row.getByRole('button', { name: 'Remove gone' }).click();
    const dialog = page.getByRole('dialog', { name: 'Stop pulling the feed “gone”?' });
    await dialog.waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the confirmation');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await row.count(), 1, 'cancel keeps the feed');
    await row.getByRole('button', { name: 'Remove gone' }).click();
    await dialog.getByRole('button', { name: 'Remove feed' }).click();
    await row.waitFor({ state: 'detached' });
    assert.equal(await page.locator('tr[data-feed="circl-osint"]').count(), 1);
    world.assertClean();
  });
});
