import { after, before, describe, it } from 'node:test';
import { BrowserWorld, call, type Person, shot } from './browser.ts';

const PUBLIC_DNS = 'List of known IPv4 public DNS resolvers';

/** Issue 12, items 4 and 5: a value on a MISP warning list is flagged beside it, and not correlated unless asked. */
describe('warning lists in a browser: flagged beside the value, correlated only when asked', () => {
  const world = new BrowserWorld();
  let analyst: Person;
  let caseId = '';

  before(async () => {
    await world.start();
    analyst = await world.person('lt.analyst', 'LT', ['analyst']);
    const open = async (title: string) =>
      (
        await call(world, analyst.user, 'POST', '/cases', {
          title,
          incidentClass: 'rsit:malicious-code="infected-system"',
          severity: 'high',
          tlp: 'amber',
          pap: 'amber',
        })
      ).id as string;
    caseId = await open('Resolver abuse at the ministry');
    const other = await open('DNS tunnelling at the port authority');
    for (const id of [caseId, other]) {
      await call(world, analyst.user, 'POST', `/cases/${id}/observables`, {
        type: 'ip-dst',
        value: '8.8.8.8',
      });
      await call(world, analyst.user, 'POST', `/cases/${id}/observables`, {
        type: 'domain',
        value: 'tunnel.water-wiper.example',
      });
    }
  });
  after(() => world.stop());

  it('shows the badge and the list beside the value, in the case, its correlations and the lookup', async () => {
    const { page } = analyst;
    await page.goto(`${world.base}/cases/${caseId}`);
    const resolverRow = page.getByTestId('observables').getByRole('row').filter({ hasText: '8.8.8.8' });
    await resolverRow.getByTestId('warning-lists').filter({ hasText: 'warning list' }).waitFor();
    await resolverRow.getByText(PUBLIC_DNS).waitFor();
    const plainRow = page
      .getByTestId('observables')
      .getByRole('row')
      .filter({ hasText: 'tunnel.water-wiper' });
    await plainRow.waitFor();
    if ((await plainRow.getByTestId('warning-lists').count()) !== 0)
      throw new Error('a plain value is flagged');
    await shot(page, 'warning-list-observables');

    // Not correlated by default; correlated when the analyst asks, each place flagged.
    await page.getByRole('button', { name: 'Correlations of 8.8.8.8' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Not correlated: the value is on a warning list.').waitFor();
    await dialog.getByText(PUBLIC_DNS).first().waitFor();
    await dialog.getByRole('checkbox', { name: /correlate it all the same/ }).check();
    const correlations = dialog.getByTestId('correlations');
    await correlations.getByText('DNS tunnelling at the port authority').waitFor();
    await correlations.getByTestId('warning-lists').first().waitFor();
    await shot(page, 'warning-list-correlations');
    await page.keyboard.press('Escape');

    // A plain value correlates as before.
    await page.getByRole('button', { name: 'Correlations of tunnel.water-wiper.example' }).click();
    await page
      .getByRole('dialog')
      .getByTestId('correlations')
      .getByText('DNS tunnelling at the port authority')
      .waitFor();
    await page.keyboard.press('Escape');

    // The lookup finds the value all the same, flagged.
    await page.getByRole('link', { name: 'Indicator lookup' }).click();
    // The lookup page first: until it renders, the case page's own "Value" field is the one found.
    await page.getByRole('heading', { name: 'Indicator lookup' }).waitFor();
    await page.getByRole('textbox', { name: 'Values', exact: true }).fill('8.8.8[.]8');
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.getByTestId('correlations').getByText('Resolver abuse at the ministry').waitFor();
    await page.getByTestId('correlations').getByText('DNS tunnelling at the port authority').waitFor();
    await page.getByText(PUBLIC_DNS).first().waitFor();
    await shot(page, 'warning-list-lookup');
    world.assertClean();
  });
});
