import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { BrowserWorld, call, type Person, shot } from './browser.ts';

/** OASIS's example: a malware, a course of action that mitigates it, two indicators of it. */
const EXAMPLE = path.resolve(
  import.meta.dirname,
  '../../server/data/stix2/examples/indicators-for-C2-with-COA.json',
);
const POISON_IVY = 'Poison Ivy';
const COA = 'Add TCP port 80 Filter Rule to the existing Block UDP 1434 Filter';

const CASE = {
  incidentClass: 'rsit:malicious-code="c2-server"',
  severity: 'medium',
  tlp: 'green',
  pap: 'green',
};

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const malware = (n: number) => ({
  type: 'malware',
  spec_version: '2.1',
  id: `malware--${uuid(n)}`,
  created: '2026-01-01T00:00:00.000Z',
  modified: '2026-01-01T00:00:00.000Z',
  name: `Sample ${String(n).padStart(2, '0')}`,
  is_family: false,
});
const WEAPON = 'weapon--33333333-4444-4555-8666-777777777777';
const DANGLING = 'relationship--44444444-5555-4666-8777-888888888888';

/** 55 good objects and two bad ones: a type STIX has not (not x-), a relationship to nothing. */
const MIXED = {
  type: 'bundle',
  id: 'bundle--5f0e6b4c-1d2a-4c3b-9e8f-7a6b5c4d3e2f',
  objects: [
    ...Array.from({ length: 55 }, (_, i) => malware(i + 1)),
    { type: 'weapon', spec_version: '2.1', id: WEAPON },
    {
      type: 'relationship',
      spec_version: '2.1',
      id: DANGLING,
      created: '2026-01-01T00:00:00.000Z',
      modified: '2026-01-01T00:00:00.000Z',
      relationship_type: 'uses',
      source_ref: 'threat-actor--99999999-9999-4999-8999-999999999999',
      target_ref: `malware--${uuid(1)}`,
    },
  ],
};

async function pick(page: Page, label: string, option: string) {
  await page.getByRole('combobox', { name: label, exact: true }).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

async function importFile(page: Page, name: string, buffer: Buffer) {
  await page.setInputFiles('#stix-file', { name, mimeType: 'application/json', buffer });
  await page.getByRole('button', { name: 'Import bundle' }).click();
}

describe('STIX on the case page: import with progress, the intelligence objects, refusals, the download', () => {
  const world = new BrowserWorld();
  let analyst: Person;
  let caseId = '';

  before(async () => {
    await world.start();
    analyst = await world.person('lt.stix', 'LT', ['analyst']);
    const kase = await call(world, analyst.user, 'POST', '/cases', {
      ...CASE,
      title: 'Poison Ivy C2 on a grid operator',
    });
    caseId = kase.id;
  });
  after(() => world.stop());

  it('imports the OASIS example bundle: the counts, its objects, one with its relationships and as received', async () => {
    const { page } = analyst;
    await page.goto(`${world.base}/cases/${caseId}`);
    await page.getByTestId('case-title').waitFor();
    await page.getByRole('tab', { name: /Intelligence/ }).click();
    await page.getByText('No intelligence object you may see.').waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the empty intelligence tab');

    await importFile(page, 'indicators-for-C2-with-COA.json', fs.readFileSync(EXAMPLE));
    // The two indicators become observables as well; all eight objects are kept as intelligence.
    const result = page.getByTestId('stix-result');
    await result.waitFor();
    const summary = (await result.textContent()) ?? '';
    assert.match(summary, /^8 objects: 2 observables added, 0 already held; intelligence 8 added/);
    assert.match(summary, /0 refused$/);
    const list = page.getByTestId('intelligence');
    await list.getByRole('button', { name: POISON_IVY, exact: true }).waitFor();
    await list.getByRole('button', { name: COA, exact: true }).waitFor();
    assert.equal(await list.locator('tbody tr').count(), 8);
    // A relationship has no name: it shows its two ends.
    await list.getByRole('button', { name: `${COA} → ${POISON_IVY}`, exact: true }).waitFor();
    await page.getByRole('tab', { name: 'Observables (2)' }).waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing after the import');
    await shot(page, 'stix-imported');

    // The malware: a course of action mitigates it, two indicators indicate it.
    await list.getByRole('button', { name: POISON_IVY, exact: true }).click();
    const drawer = page.getByRole('dialog', { name: 'Intelligence object' });
    const relationships = drawer.getByTestId('intel-relationships');
    await relationships.getByRole('button', { name: 'mitigates' }).waitFor();
    await relationships.getByRole('button', { name: 'indicates' }).nth(1).waitFor();
    assert.equal(await relationships.getByRole('button', { name: 'indicates' }).count(), 2);
    const rows = await relationships.locator('tbody tr').allInnerTexts();
    assert.ok(
      rows.some((r) => r.includes('other → this') && r.includes(`course-of-action: ${COA}`)),
      rows.join('\n'),
    );
    assert.ok(
      rows.some(
        (r) => r.includes('other → this') && r.includes('indicator: IP Address for known C2 channel'),
      ),
      rows.join('\n'),
    );
    // As received: text in a <pre>, never markup.
    const raw = JSON.parse((await drawer.getByTestId('intel-raw').textContent()) ?? '');
    assert.equal(raw.id, 'malware--fdd60b30-b67c-41e3-b0b9-f01faf20d111');
    assert.equal(raw.name, POISON_IVY);
    assert.equal(await drawer.getByTestId('intel-raw').evaluate((e) => e.tagName), 'PRE');
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the open object');
    await shot(page, 'stix-object');

    // The other end opens in its turn: the course of action, from its side.
    await relationships.getByRole('button', { name: `course-of-action: ${COA}` }).click();
    await drawer.getByRole('heading', { name: COA, exact: true }).waitFor();
    const out = await drawer.getByTestId('intel-relationships').locator('tbody tr').allInnerTexts();
    assert.deepEqual(
      out.map((r) => r.replace(/\s+/g, ' ').trim()),
      [`this → other mitigates malware: ${POISON_IVY}`],
    );
    await page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });

    // Filtered by type.
    await pick(page, 'Type of object', 'course-of-action');
    await list.getByRole('button', { name: POISON_IVY, exact: true }).waitFor({ state: 'detached' });
    // The filtered page replaces the list: wait for its row, not only for the old rows to go.
    await list.getByRole('button', { name: COA, exact: true }).waitFor();
    assert.deepEqual(await list.locator('tbody tr td:first-child').allInnerTexts(), ['course-of-action']);
    world.assertClean();
  });

  it('a refused bundle names the refused objects and imports nothing; "keep the good objects" keeps the rest, listed a page at a time', async () => {
    const { page } = analyst;
    await page.goto(`${world.base}/cases/${caseId}`);
    await page.getByRole('tab', { name: /Intelligence/ }).click();
    await page.getByTestId('intelligence').getByRole('button', { name: POISON_IVY, exact: true }).waitFor();

    world.allow(new RegExp(`^POST /api/v1/cases/${caseId}/stix\\?partial=false 400$`));
    await importFile(page, 'mixed.json', Buffer.from(JSON.stringify(MIXED)));
    await page.getByRole('alert').filter({ hasText: 'Nothing was imported' }).waitFor();
    const refused = page.getByTestId('stix-refused');
    await refused.waitFor();
    assert.deepEqual(
      (await refused.locator('tbody tr').allInnerTexts()).map((r) => r.split('\t').slice(0, 2)),
      [
        ['55', WEAPON],
        ['56', DANGLING],
      ],
    );
    assert.match((await refused.textContent()) ?? '', /neither in the bundle nor in the case/);
    assert.equal(await page.getByTestId('intelligence').getByText('Sample 01').count(), 0, 'nothing written');
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing with the refusal shown');
    await shot(page, 'stix-refused');

    await page.getByRole('checkbox', { name: 'Keep the good objects even if some are refused' }).check();
    await page.getByRole('button', { name: 'Import bundle' }).click();
    const result = page.getByTestId('stix-result');
    await result.waitFor();
    assert.match(
      (await result.textContent()) ?? '',
      /^57 objects: 0 observables added.*intelligence 55 added.*2 refused$/s,
    );
    assert.equal(await refused.locator('tbody tr').count(), 2, 'the refused objects stay listed');
    assert.match((await refused.textContent()) ?? '', new RegExp(WEAPON));

    // 8 objects from the example and 55 now: a first page of 50, then the rest. Objects that came
    // in one import share their time, so which of them lead is not fixed: the test counts.
    const list = page.getByTestId('intelligence');
    const rows = list.locator('tbody tr');
    const samples = Array.from({ length: 55 }, (_, i) => `Sample ${String(i + 1).padStart(2, '0')}`);
    const waitForRows = async (n: number) => {
      for (let i = 0; i < 150 && (await rows.count()) !== n; i++) await page.waitForTimeout(100);
      assert.equal(await rows.count(), n);
    };
    const shownSamples = async () =>
      (await list.locator('tbody tr td:nth-child(2)').allInnerTexts())
        .map((t) => t.trim())
        .filter((t) => t.startsWith('Sample '))
        .sort();
    await waitForRows(50);
    await page.getByRole('button', { name: 'More' }).click();
    await waitForRows(63);
    assert.deepEqual(await shownSamples(), samples);
    assert.equal(await page.getByRole('button', { name: 'More' }).count(), 0, 'no more pages');
    await pick(page, 'Type of object', 'malware');
    await list.getByRole('button', { name: COA, exact: true }).waitFor({ state: 'detached' });
    await waitForRows(50);
    await page.getByRole('button', { name: 'More' }).click();
    await waitForRows(56);
    assert.deepEqual(await shownSamples(), samples, 'Poison Ivy and the 55 samples');
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the paged list');
    world.assertClean();
  });

  it('"Download STIX" answers the case as a bundle; an exercise asks for its exercise data; RED offers none', async () => {
    const { page } = analyst;
    await page.goto(`${world.base}/cases/${caseId}`);
    const link = page.getByRole('link', { name: 'Download STIX' });
    assert.equal(await link.getAttribute('href'), `/api/v1/cases/${caseId}/stix`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const bundle = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
    assert.equal(bundle.type, 'bundle');
    const objects = bundle.objects as { type: string; name?: string }[];
    assert.ok(objects.some((o) => o.type === 'grouping' && o.name === 'Poison Ivy C2 on a grid operator'));
    assert.ok(
      objects.some((o) => o.type === 'malware' && o.name === POISON_IVY),
      'intelligence exported again',
    );
    assert.ok(objects.some((o) => o.type === 'course-of-action' && o.name === COA));

    const drill = await call(world, analyst.user, 'POST', '/cases', {
      ...CASE,
      title: 'Drill: C2 beacon',
      exercise: true,
    });
    await page.goto(`${world.base}/cases/${drill.id}`);
    assert.equal(
      await page.getByRole('link', { name: 'Download STIX' }).getAttribute('href'),
      `/api/v1/cases/${drill.id}/stix?exercise=include`,
    );
    const [drillDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download STIX' }).click(),
    ]);
    assert.equal(JSON.parse(fs.readFileSync(await drillDownload.path(), 'utf8')).type, 'bundle');

    const red = await call(world, analyst.user, 'POST', '/cases', {
      ...CASE,
      tlp: 'red',
      title: 'RED: grid',
    });
    await page.goto(`${world.base}/cases/${red.id}`);
    await page.getByTestId('case-title').waitFor();
    await page.getByText('No STIX export: TLP:RED is never passed on').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Download STIX' }).count(), 0);
    world.assertClean();
  });
});
