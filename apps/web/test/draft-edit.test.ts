import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { TestUser } from '../../server/src/test/harness.ts';
import { requestBody } from '../../server/src/test/requests.fixtures.ts';
import { BrowserWorld, call, type Person, shot } from './browser.ts';

/** The field paths the request page lists as still needed for submission. */
async function missingOnPage(page: Page): Promise<string[]> {
  const items = await page.getByTestId('missing-for-submission').getByRole('listitem').allTextContents();
  return items.map((t) => t.split(':')[0]!.trim());
}

describe('a PoC completes an incomplete draft in the browser and submits it', () => {
  const world = new BrowserWorld();
  let poc: Person;
  let pocApi: TestUser;
  let requestId = '';
  let requestUrl = '';

  before(async () => {
    await world.start();
    pocApi = await world.node.user('lt.poc.api', 'LT', ['poc']);
    poc = await world.person('lt.poc', 'LT', ['poc']);
    // An incomplete draft of Lithuania: no impact, no help needed, no measures, no other help.
    const draft = await call(
      world,
      pocApi,
      'POST',
      '/requests',
      requestBody({
        title: 'Ransomware at the Lithuanian grid operator',
        window: {
          from: new Date(Date.now() + 6 * 3600_000).toISOString(),
          to: new Date(Date.now() + 7 * 86400_000).toISOString(),
        },
        awareAt: new Date(Date.now() - 3 * 3600_000).toISOString(),
        impact: undefined,
        helpNeeded: undefined,
        measuresTaken: undefined,
        otherHelp: undefined,
      }),
    );
    requestId = draft.id as string;
    requestUrl = `${world.base}/requests/${requestId}`;
  });
  after(() => world.stop());

  it('the request page lists what is missing and offers Edit draft; the wizard opens filled in from the draft', async () => {
    const { page } = poc;
    await page.goto(requestUrl);
    await page.getByTestId('request-title').waitFor();
    assert.deepEqual(await missingOnPage(page), ['impact', 'helpNeeded', 'measuresTaken', 'otherHelp']);
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the draft request page');
    await shot(page, 'draft-missing');

    await page.getByRole('link', { name: 'Edit draft' }).click();
    await page
      .getByRole('heading', { name: 'Edit draft: Ransomware at the Lithuanian grid operator' })
      .waitFor();
    assert.equal(page.url(), `${requestUrl}/edit`);
    assert.equal(
      await page.getByRole('textbox', { name: 'Title' }).inputValue(),
      'Ransomware at the Lithuanian grid operator',
    );
    assert.equal(await page.getByRole('textbox', { name: 'Affected entity' }).inputValue(), 'Grid operator');
    assert.equal(
      await page.getByRole('combobox', { name: 'Incident type (RSIT)', exact: true }).inputValue(),
      'Infected System',
    );
    assert.equal(
      await page.getByRole('combobox', { name: 'Severity', exact: true }).inputValue(),
      'Critical',
    );
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the draft wizard');
    await shot(page, 'draft-edit');
  });

  it('field-level errors from the API show on the field; a stale version asks to reload, not a crash', async () => {
    const { page } = poc;
    // A blank title: the node's 400 names body/title, shown at the field.
    world.allow(/^PATCH \/api\/v1\/requests\/[0-9a-f-]{36} 400$/);
    const title = page.getByRole('textbox', { name: 'Title' });
    await title.fill('');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByRole('alert').filter({ hasText: 'The draft was not saved' }).waitFor();
    assert.equal(await title.getAttribute('aria-invalid'), 'true', 'the title field is marked invalid');
    await title.fill('Ransomware at the Lithuanian grid operator');

    // Someone else (the same party's PoC, over the API) saves the draft in the meantime.
    await call(world, pocApi, 'PATCH', `/requests/${requestId}`, {
      location: { country: 'LT', city: 'Kaunas' },
    });
    world.allow(/^PATCH \/api\/v1\/requests\/[0-9a-f-]{36} 412$/);
    await page
      .getByRole('textbox', { name: 'Likely impact, described' })
      .fill('Control systems of the transmission grid are encrypted.');
    await page.getByRole('button', { name: 'Save draft' }).click();
    const stale = page
      .getByRole('alert')
      .filter({ hasText: 'The draft was not saved: it changed since you opened it' });
    await stale.getByText('Reload it to see their changes').waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the wizard with a stale version');
    await shot(page, 'draft-stale');
    const unchanged = await call(world, pocApi, 'GET', `/requests/${requestId}`);
    assert.equal(unchanged.impact, null, 'the stale save changed nothing');

    await stale.getByRole('button', { name: 'Reload the draft' }).click();
    await stale.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Next' }).click();
    assert.equal(
      await page.getByRole('textbox', { name: 'City' }).inputValue(),
      'Kaunas',
      'the reloaded form shows the other save',
    );
  });

  it('saving returns to the request page, where the missing list has shrunk', async () => {
    const { page } = poc;
    await page.getByRole('button', { name: 'Back' }).click();
    await page
      .getByRole('textbox', { name: 'Likely impact, described' })
      .fill('Control systems of the transmission grid are **encrypted**.');
    await page.getByRole('button', { name: 'Next' }).click();
    await page
      .getByRole('textbox', { name: 'What help is needed, and for what' })
      .fill('Forensic triage of the control network, to restore it safely.');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByTestId('request-title').waitFor();
    assert.equal(page.url(), requestUrl);
    await page.getByTestId('missing-for-submission').waitFor();
    assert.deepEqual(await missingOnPage(page), ['measuresTaken', 'otherHelp']);
    await page.getByText('Forensic triage of the control network').waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the request page after a partial edit');
  });

  it('the PoC completes the draft, the missing list is gone, and Submit sends it to the council', async () => {
    const { page } = poc;
    await page.getByRole('link', { name: 'Edit draft' }).click();
    await page.getByTestId('wizard-missing').waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page
      .getByRole('textbox', { name: 'What was already done to limit the damage' })
      .fill('Affected segments isolated; backups verified.');
    await page
      .getByRole('textbox', { name: 'Other help available (contracts, insurance, other teams)' })
      .fill('None contracted.');
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the wizard, last step');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByTestId('request-title').waitFor();
    await page.getByText('Affected segments isolated').waitFor();
    assert.equal(await page.getByTestId('missing-for-submission').count(), 0, 'nothing is missing');

    await page.getByRole('button', { name: 'Submit to the force' }).click();
    await page.getByText('Voting', { exact: true }).first().waitFor();
    await page.getByText('Eligible — the council decides by majority').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Edit draft' }).count(), 0, 'no edit once submitted');
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the submitted request page');
    await shot(page, 'draft-submitted');

    const submitted = await call(world, pocApi, 'GET', `/requests/${requestId}`);
    assert.equal(submitted.status, 'voting');
    assert.ok(submitted.submittedAt, 'it has been submitted');
    assert.equal(submitted.location.city, 'Kaunas', "the other PoC's change was kept");
    assert.equal(submitted.measuresTaken, 'Affected segments isolated; backups verified.');
    assert.deepEqual(submitted.missingForSubmission, []);

    // The edit page of a request that is no longer a draft says so.
    await page.goto(`${requestUrl}/edit`);
    await page.getByText('Only a draft can be edited').waitFor();
    world.assertClean();
  });
});
