import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BrowserWorld, call, type Person, shot } from './browser.ts';

const DOMAIN = 'c2.water-wiper.example';
const URL_SEEN = `http://${DOMAIN}/gate.php`;
const IP = '203.0.113.7';

/** Issue 18, item 5: many values looked up at once, their relations, a link to share, and one search. */
describe('lookup of many values and the global search, in a browser', () => {
  const world = new BrowserWorld();
  let analyst: Person;
  let colleague: Person;
  let caseId = '';

  before(async () => {
    await world.start();
    const people = await world.people([
      ['lt.analyst', 'LT', ['analyst']],
      ['lt.colleague', 'LT', ['analyst']],
    ]);
    analyst = people['lt.analyst']!;
    colleague = people['lt.colleague']!;
    caseId = (
      await call(world, analyst.user, 'POST', '/cases', {
        title: 'Water wiper at the utility',
        incidentClass: 'rsit:malicious-code="infected-system"',
        severity: 'high',
        tlp: 'amber',
        pap: 'amber',
      })
    ).id as string;
    for (const [type, value] of [
      ['url', URL_SEEN],
      ['domain', DOMAIN],
      ['domain|ip', `${DOMAIN}|${IP}`],
    ]) {
      await call(world, analyst.user, 'POST', `/cases/${caseId}/observables`, { type, value });
    }
  });
  after(() => world.stop());

  it('looks up three pasted values, shows hits and relations, and the shared link shows the same', async () => {
    const { page } = analyst;
    await page.goto(`${world.base}/indicators`);
    await page
      .getByRole('textbox', { name: 'Values' })
      .fill(`hxxp://c2.water-wiper[.]example/gate.php\nc2.water-wiper[.]example\n${IP}`);
    await page.getByRole('button', { name: 'Look up' }).click();

    const rows = page.getByTestId('lookup-row');
    await rows.nth(2).waitFor();
    assert.equal(await rows.count(), 3);
    const urlRow = rows.filter({ hasText: URL_SEEN }).first();
    await urlRow.getByTestId('correlations').getByText('Water wiper at the utility').waitFor();
    // The URL's host, and the domain's IP (from the domain|ip observable), each a lookup of its own.
    await urlRow.getByRole('link', { name: `Look up ${DOMAIN}` }).waitFor();
    const domainRow = rows.nth(1);
    await domainRow.getByRole('link', { name: `Look up ${IP}` }).waitFor();
    await domainRow.getByRole('link', { name: `Look up ${URL_SEEN}` }).waitFor();
    await rows.nth(2).getByText('not seen in any case you may see').waitFor();
    await rows
      .nth(2)
      .getByRole('link', { name: `Look up ${DOMAIN}` })
      .waitFor();
    await shot(page, 'lookup-many');

    // The values are in the address: the link reopens the same lookup, for a colleague too.
    const link = page.url();
    assert.equal(new URL(link).searchParams.getAll('v').length, 3);
    await analyst.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: world.base });
    await page.getByRole('button', { name: 'Copy link' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /Link copied|Copy this link/ })
      .waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, link);

    const other = colleague.page;
    await other.goto(link);
    const theirRows = other.getByTestId('lookup-row');
    await theirRows.nth(2).waitFor();
    assert.equal(await theirRows.count(), 3);
    await theirRows.first().getByTestId('correlations').getByText('Water wiper at the utility').waitFor();
    assert.match(await other.getByRole('textbox', { name: 'Values' }).inputValue(), /gate\.php/);
    await theirRows
      .nth(1)
      .getByRole('link', { name: `Look up ${IP}` })
      .waitFor();

    // A related value is a lookup of its own.
    await theirRows
      .nth(1)
      .getByRole('link', { name: `Look up ${IP}` })
      .click();
    await other.waitForURL(/\/indicators\?v=203\.0\.113\.7/);
    // The three rows give way to the one of the new lookup.
    const single = other.getByTestId('lookup-row');
    for (let tries = 0; tries < 150 && (await single.count()) !== 1; tries++) await other.waitForTimeout(100);
    await other
      .getByTestId('lookup-row')
      .getByRole('link', { name: `Look up ${DOMAIN}` })
      .waitFor();
    assert.equal(await other.getByTestId('lookup-row').count(), 1);
    world.assertClean();
  });

  it('finds a case by words, the query in the address, and opens it', async () => {
    const { page } = analyst;
    await page.goto(`${world.base}/search`);
    // A value, defanged: the observable first, as an exact match.
    await page.getByRole('textbox', { name: 'Search for' }).fill('c2.water-wiper[.]example');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const observables = page.getByTestId('search-observable');
    await observables.getByRole('heading', { name: 'Observables' }).waitFor();
    await observables.getByText('exact match').waitFor();
    await observables.getByText(URL_SEEN).waitFor();

    await page.getByRole('textbox', { name: 'Search for' }).fill('water wiper');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL(/\/search\?q=water\+wiper/);
    const cases = page.getByTestId('search-case');
    await cases.getByRole('heading', { name: 'Cases' }).waitFor();
    await shot(page, 'search');
    await cases.getByRole('link', { name: 'Water wiper at the utility' }).click();
    await page.waitForURL(new RegExp(`/cases/${caseId}$`));
    await page.getByRole('heading', { name: 'Water wiper at the utility' }).waitFor();
    world.assertClean();
  });
});
