import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BrowserWorld, call, type Person, shot } from './browser.ts';

/** OASIS's example: a malware, a course of action that mitigates it, two indicators of it. */
const EXAMPLE = path.resolve(
  import.meta.dirname,
  '../../server/data/stix2/examples/indicators-for-C2-with-COA.json',
);
const POISON_IVY = 'Poison Ivy';
const TITLE = 'Poison Ivy C2 at a water utility';

describe('TAXII on the web: the node’s addresses, your collections, how to connect; a case’s collection', () => {
  const world = new BrowserWorld();
  let analyst: Person;
  let caseId = '';

  before(async () => {
    await world.start();
    analyst = await world.person('lt.taxii', 'LT', ['analyst']);
    const kase = await call(world, analyst.user, 'POST', '/cases', {
      incidentClass: 'rsit:malicious-code="c2-server"',
      severity: 'medium',
      tlp: 'green',
      pap: 'green',
      title: TITLE,
    });
    caseId = kase.id;
    await call(
      world,
      analyst.user,
      'POST',
      `/cases/${caseId}/stix`,
      JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')),
    );
  });
  after(() => world.stop());

  it('the page, from the navigation: discovery and API root as the node states them, the three kinds of collection, examples with the user’s name and no token', async () => {
    const { page, user } = analyst;
    await page.goto(`${world.base}/`);
    await page.getByRole('navigation').getByRole('link', { name: 'TAXII: connect tools' }).click();
    await page.getByRole('heading', { name: 'TAXII: connect your tools', level: 1 }).waitFor();

    const discovery = page.getByTestId('taxii-discovery');
    await discovery.waitFor();
    assert.equal(await discovery.textContent(), `${world.base}/taxii2/`);
    assert.equal(await page.getByTestId('taxii-api-root').textContent(), `${world.base}/taxii2/api/`);

    const collections = page.getByTestId('taxii-collections');
    await collections.getByText(TITLE, { exact: true }).waitFor();
    const rows = (await collections.locator('tbody tr').allInnerTexts()).map((r) => r.replace(/\s+/g, ' '));
    assert.ok(rows[0]?.startsWith('Everything you may pass on'), rows.join('\n'));
    assert.ok(rows[1]?.startsWith('Community: CLEAR and GREEN'), rows.join('\n'));
    const caseRow = rows.find((r) => r.startsWith(TITLE));
    assert.ok(caseRow?.includes(caseId), 'the case’s collection id is the case id');
    assert.match(caseRow ?? '', /read, add$/, 'the analyst who opened the case may add to it');
    await collections.getByRole('button', { name: `Copy the id of ${TITLE}` }).waitFor();

    // The examples name the collection chosen (the first, until another is chosen) and the user.
    const curl = page.getByTestId('taxii-curl');
    const everything = /collections\/([0-9a-f-]{36})\/objects\/'$/.exec(
      (await curl.textContent()) ?? '',
    )?.[1];
    assert.ok(everything && rows[0]?.includes(everything), 'the first collection is in the example');
    await page.getByRole('combobox', { name: 'Collection in the examples', exact: true }).click();
    await page.getByRole('option', { name: TITLE, exact: true }).click();
    await curl.filter({ hasText: caseId }).waitFor();
    assert.equal(
      await curl.textContent(),
      `curl -u 'lt.taxii:YOUR_API_TOKEN' -H 'Accept: application/taxii+json;version=2.1' '${world.base}/taxii2/api/collections/${caseId}/objects/'`,
    );
    const python = (await page.getByTestId('taxii-python').textContent()) ?? '';
    assert.match(python, /^from taxii2client\.v21 import Server, Collection\n/);
    assert.ok(python.includes(`user="lt.taxii", password="YOUR_API_TOKEN"`), python);
    assert.equal(python.split('\n').length, 5);
    assert.equal(
      await page.getByRole('link', { name: 'your account page' }).getAttribute('href'),
      '/account',
    );
    assert.ok(!(await page.content()).includes(user.token), 'no real token on the page');
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the TAXII page');
    await shot(page, 'taxii-page');

    // What the curl line says works, with a real token in its place.
    const response = await fetch(`${world.base}/taxii2/api/collections/${caseId}/objects/`, {
      headers: {
        authorization: `Basic ${Buffer.from(`lt.taxii:${user.token}`).toString('base64')}`,
        accept: 'application/taxii+json;version=2.1',
      },
    });
    assert.equal(response.status, 200);
    const envelope = (await response.json()) as { objects: { name?: string }[] };
    assert.ok(envelope.objects.some((o) => o.name === POISON_IVY));
    world.assertClean();
  });

  it('the case page shows its collection URL; the drawer names relationships from the detail alone', async () => {
    const { page } = analyst;
    const detailsFetched: string[] = [];
    page.on('request', (request) => {
      const match = new RegExp(`/api/v1/cases/${caseId}/intelligence/([0-9a-f-]{36})$`).exec(request.url());
      if (match) detailsFetched.push(match[1]!);
    });
    await page.goto(`${world.base}/cases/${caseId}`);
    await page.getByTestId('case-title').waitFor();
    await page.getByRole('tab', { name: /Intelligence/ }).click();
    const hint = page.getByTestId('taxii-case-collection');
    await hint.waitFor();
    assert.equal(await hint.locator('code').textContent(), `${world.base}/taxii2/api/collections/${caseId}/`);
    await hint.getByRole('button', { name: 'Copy the TAXII collection URL' }).waitFor();
    assert.equal(
      await hint.getByRole('link', { name: 'How to connect a tool' }).getAttribute('href'),
      '/taxii',
    );
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the intelligence tab with the hint');
    await shot(page, 'taxii-case-collection');

    const list = page.getByTestId('intelligence');
    await list.getByRole('button', { name: POISON_IVY, exact: true }).click();
    const drawer = page.getByRole('dialog', { name: 'Intelligence object' });
    const relationships = drawer.getByTestId('intel-relationships');
    await relationships.getByRole('button', { name: 'mitigates' }).waitFor();
    assert.equal(await relationships.getByRole('button', { name: 'indicates' }).count(), 2);
    assert.equal(detailsFetched.length, 1, `only the object's own detail: ${detailsFetched.join(', ')}`);
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the open object');
    world.assertClean();
  });
});
