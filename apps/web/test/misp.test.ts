import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { BrowserWorld, call, type Person, shot } from './browser.ts';

/** CIRCL's event with galaxies: PUBG ransomware, three galaxies, seven clusters on the event and seven on its attributes, tlp:white. */
const GALAXY_EVENT = path.resolve(import.meta.dirname, '../../server/data/misp/events/galaxy_1.json');
const GALAXY_UUID = '5acc88e9-265c-4f22-9d2b-b702950d210f';
const GALAXY_INFO = "OSINT - PUBG Ransomware Decrypts Your Files If You Play PlayerUnknown's Battlegrounds";

const CASE = {
  incidentClass: 'rsit:malicious-code="infected-system"',
  severity: 'medium',
  tlp: 'green',
  pap: 'green',
};

const UUID = (n: number) => `5c7cdc3b-2f40-4dca-8200-${String(n).padStart(12, '0')}`;
const attribute = (n: number, fields: Record<string, unknown> = {}) => ({
  uuid: UUID(n),
  type: 'ip-dst',
  category: 'Network activity',
  value: `198.51.100.${n}`,
  to_ids: true,
  timestamp: '1700000000',
  ...fields,
});
/** Two good attributes around one of a type MISP has not. */
const MIXED = {
  Event: {
    uuid: '5c7cdc3b-2f40-4dca-8200-aaaaaaaaaaaa',
    info: 'Wiper infrastructure',
    date: '2026-11-30',
    threat_level_id: '1',
    analysis: '1',
    distribution: '2',
    timestamp: '1700000000',
    Orgc: { name: 'CERT-LT', uuid: '5c7cdc3b-2f40-4dca-8200-bbbbbbbbbbbb' },
    Tag: [{ name: 'tlp:green' }, { name: 'PAP:AMBER' }, { name: 'rsit:malicious-code="infected-system"' }],
    Attribute: [attribute(1), attribute(2, { type: 'no-such-type' }), attribute(3)],
  },
};

async function importFile(page: Page, name: string, buffer: Buffer) {
  await page.setInputFiles('#misp-file', { name, mimeType: 'application/json', buffer });
  await page.getByRole('button', { name: 'Import MISP event' }).click();
}

describe('MISP on the case page: import with progress, the events with their tags and clusters, refusals, the download', () => {
  const world = new BrowserWorld();
  let analyst: Person;
  let galaxyCase = '';

  before(async () => {
    await world.start();
    analyst = await world.person('lt.misp', 'LT', ['analyst']);
    galaxyCase = (await call(world, analyst.user, 'POST', '/cases', { ...CASE, title: 'PUBG ransomware' }))
      .id;
  });
  after(() => world.stop());

  it('imports a CIRCL event: the counts, the event with its threat level, tags and galaxy clusters', async () => {
    const { page } = analyst;
    await page.goto(`${world.base}/cases/${galaxyCase}`);
    await page.getByTestId('case-title').waitFor();
    await page.getByRole('tab', { name: 'MISP events' }).click();
    await page.getByText('No MISP event you may see.').waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the empty MISP tab');

    await importFile(page, 'galaxy_1.json', fs.readFileSync(GALAXY_EVENT));
    const result = page.getByTestId('misp-result');
    await result.waitFor();
    const summary = (await result.textContent()) ?? '';
    assert.match(
      summary,
      /^1 event\(s\) read: 1 added, 0 updated, 0 unchanged; attributes and objects \d+ added/,
    );
    assert.match(summary, /0 refused$/);

    const event = page.getByTestId('misp-event');
    await event.getByRole('heading', { name: GALAXY_INFO }).waitFor();
    assert.equal(await event.count(), 1);
    assert.equal(await event.getByTestId('misp-threat-level').textContent(), 'Threat level: low');
    assert.equal(await event.getByTestId('misp-analysis').textContent(), 'Analysis: completed');
    const facts = (await event.getByTestId('misp-event-facts').textContent()) ?? '';
    assert.match(facts, /^Dated 2018-04-09 · created by CIRCL · /);
    assert.match((await event.textContent()) ?? '', new RegExp(GALAXY_UUID));

    // Tags: tlp: as the label it is; the others by name; a cluster's tag shown as its cluster only.
    const tags = event.getByTestId('misp-tags');
    assert.deepEqual(await tags.locator('li').allInnerTexts(), [
      'TLP:WHITE',
      'malware_classification:malware-category="Ransomware"',
      'circl:incident-classification="malware"',
      'ms-caro-malware-full:malware-type="Joke"',
      'workflow:todo="create-missing-misp-galaxy-cluster-values"',
    ]);
    const clusters = event.getByTestId('misp-cluster');
    // Seven of the event, seven of its attributes.
    assert.equal(await clusters.count(), 14, (await clusters.allInnerTexts()).join('\n'));
    const names = (await clusters.allInnerTexts()).map((t) => t.replace(/^[▸▾]\s*/, '').trim());
    assert.ok(names.includes('Intrusion Set: APT1 - G0006'), names.join('\n'));
    assert.ok(names.includes('Malware: BACKSPACE - S0031'), names.join('\n'));
    assert.ok(names.includes('Election guidelines: Leak of confidential information'), names.join('\n'));
    assert.ok(names.includes('Stealer: TeleGrab'), names.join('\n'));

    // A cluster's description on demand.
    const apt1 = event.getByRole('button', { name: 'Intrusion Set: APT1 - G0006' });
    assert.equal(await apt1.getAttribute('aria-expanded'), 'false');
    await apt1.click();
    assert.equal(await apt1.getAttribute('aria-expanded'), 'true');
    const description = event.getByTestId('misp-cluster-description');
    await description.waitFor();
    assert.match((await description.textContent()) ?? '', /APT1 is a Chinese threat group/);
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing with a description open');
    await shot(page, 'misp-imported');

    // The same file again changes nothing.
    await importFile(page, 'galaxy_1.json', fs.readFileSync(GALAXY_EVENT));
    await result.filter({ hasText: /^1 event\(s\) read: 0 added, 0 updated, 1 unchanged/ }).waitFor();
    assert.equal(await page.getByTestId('misp-event').count(), 1);
    world.assertClean();
  });

  it('a refused file names the refused attribute by its path and imports nothing; "keep the good ones" keeps the rest', async () => {
    const { page } = analyst;
    const id = (await call(world, analyst.user, 'POST', '/cases', { ...CASE, title: 'Wiper' })).id;
    await page.goto(`${world.base}/cases/${id}`);
    await page.getByRole('tab', { name: 'MISP events' }).click();
    await page.getByText('No MISP event you may see.').waitFor();

    world.allow(new RegExp(`^POST /api/v1/cases/${id}/misp\\?partial=false 400$`));
    await importFile(page, 'mixed.json', Buffer.from(JSON.stringify(MIXED)));
    await page.getByRole('alert').filter({ hasText: 'Nothing was imported' }).waitFor();
    const refused = page.getByTestId('misp-refused');
    await refused.waitFor();
    const rows = await refused.locator('tbody tr').allInnerTexts();
    assert.equal(rows.length, 1, rows.join('\n'));
    assert.equal(rows[0]!.split('\t')[0], 'Event.Attribute[1]');
    assert.match(rows[0]!, /no-such-type/);
    assert.equal(await page.getByText('No MISP event you may see.').count(), 1, 'nothing written');
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing with the refusal shown');
    await shot(page, 'misp-refused');

    await page
      .getByRole('checkbox', { name: 'Keep the good attributes and objects even if some are refused' })
      .check();
    await page.getByRole('button', { name: 'Import MISP event' }).click();
    const result = page.getByTestId('misp-result');
    await result.waitFor();
    assert.match(
      (await result.textContent()) ?? '',
      /^1 event\(s\) read: 1 added.*attributes and objects 2 added.*2 observables added.*1 refused$/,
    );
    assert.equal(await refused.locator('tbody tr').count(), 1, 'the refused attribute stays listed');
    assert.match((await refused.textContent()) ?? '', /Event\.Attribute\[1\]/);
    const event = page.getByTestId('misp-event');
    await event.getByRole('heading', { name: 'Wiper infrastructure' }).waitFor();
    assert.match(
      (await event.getByTestId('misp-event-facts').textContent()) ?? '',
      /2 attribute\(s\), 0 object\(s\)/,
    );
    // TLP and PAP tags as the labels they are.
    assert.deepEqual(await event.getByTestId('misp-tags').locator('li').allInnerTexts(), [
      'TLP:GREEN',
      'PAP:AMBER',
      'rsit:malicious-code="infected-system"',
    ]);
    await page.getByRole('tab', { name: 'Observables (2)' }).waitFor();
    world.assertClean();
  });

  it('"Download MISP event" answers the event as imported; an exercise asks for its exercise data; RED offers none', async () => {
    const { page } = analyst;
    await page.goto(`${world.base}/cases/${galaxyCase}`);
    const link = page.getByRole('link', { name: 'Download MISP event' });
    assert.equal(await link.getAttribute('href'), `/api/v1/cases/${galaxyCase}/misp`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), `case-${galaxyCase}.misp.json`);
    const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
    assert.equal(exported.Event.uuid, GALAXY_UUID);
    assert.equal(exported.Event.info, GALAXY_INFO);
    assert.ok(
      (exported.Event.Galaxy as { name: string }[]).some((g) => g.name === 'Intrusion Set'),
      'the galaxies go back',
    );

    const drill = await call(world, analyst.user, 'POST', '/cases', {
      ...CASE,
      title: 'Drill: ransomware',
      exercise: true,
    });
    await page.goto(`${world.base}/cases/${drill.id}`);
    const drillLink = page.getByRole('link', { name: 'Download MISP event' });
    assert.equal(await drillLink.getAttribute('href'), `/api/v1/cases/${drill.id}/misp?exercise=include`);
    const [drillDownload] = await Promise.all([page.waitForEvent('download'), drillLink.click()]);
    const drillEvent = JSON.parse(fs.readFileSync(await drillDownload.path(), 'utf8'));
    assert.equal(drillEvent.Event.info, 'Drill: ransomware');

    const red = await call(world, analyst.user, 'POST', '/cases', {
      ...CASE,
      tlp: 'red',
      title: 'RED: ransomware',
    });
    await page.goto(`${world.base}/cases/${red.id}`);
    await page.getByTestId('case-title').waitFor();
    await page.getByText('No MISP export: TLP:RED is never passed on').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Download MISP event' }).count(), 0);
    world.assertClean();
  });
});
