import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { TestUser } from '../../server/src/test/harness.ts';
import { requestBody } from '../../server/src/test/requests.fixtures.ts';
import { BrowserWorld, call, confirmDialog, type Person, shot } from './browser.ts';

/** The problems shown at the wizard's fields now. */
const shownProblems = (page: Page) => page.locator('main [id^="field-"][id$="-error"]').allTextContents();

/** Waits until the draft's latest changes are saved. */
const saved = (page: Page) =>
  page
    .getByTestId('save-status')
    .filter({ hasText: /^Saved at \d\d:\d\d$/ })
    .waitFor();

/** A `datetime-local` value `offsetMs` from now, in the browser's own zone. */
const localInput = (page: Page, offsetMs: number): Promise<string> =>
  // A string, so that the test's compiler adds no helpers the page does not have.
  page.evaluate(`(() => {
    const d = new Date(Date.now() + ${offsetMs});
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
  })()`);

/** The field paths the request page lists as still needed for submission. */
async function missingOnPage(page: Page): Promise<string[]> {
  const items = await page.getByTestId('missing-for-submission').getByRole('listitem').allTextContents();
  return items.map((t) => t.split(':')[0]!.trim());
}

describe('a PoC completes an incomplete draft in the browser, saved as they type, and submits it', () => {
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

  it('what the node refuses shows at its field in words, and goes when the field is changed', async () => {
    const { page } = poc;
    const status = page.getByTestId('save-status');
    // A field emptied: said at once at the field, and nothing is sent to the node.
    const title = page.getByRole('textbox', { name: 'Title' });
    await title.fill('');
    await title.blur();
    assert.deepEqual(await shownProblems(page), [
      'Give the request a title: one line that says what happened and where',
    ]);
    await status.filter({ hasText: 'Not saved yet' }).waitFor();
    await title.fill('Ransomware at the Lithuanian grid operator');
    assert.deepEqual(await shownProblems(page), []);
    await saved(page);

    // The node's clock is an hour behind the browser's: a time the wizard takes is in the node's
    // future. Its 400 names body/awareAt; the field says it in words.
    world.node.clock.set(new Date(Date.now() - 3600_000));
    world.allow(/^PATCH \/api\/v1\/requests\/[0-9a-f-]{36} 400$/);
    const aware = page.getByRole('textbox', { name: 'Entity aware since' });
    await aware.fill(await localInput(page, -20 * 60_000));
    await status.filter({ hasText: 'Not saved: check the fields marked in red' }).waitFor();
    assert.deepEqual(await shownProblems(page), [
      'This is in the future: give the time the entity became aware of the incident',
    ]);
    assert.equal(await aware.getAttribute('aria-invalid'), 'true');
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the wizard with a refused save');
    world.node.clock.set(new Date());
    await aware.fill(await localInput(page, -3 * 3600_000));
    assert.deepEqual(await shownProblems(page), [], 'changed, the node’s problem is gone at once');
    await saved(page);
  });

  it('a draft someone else saved meanwhile is not saved over: reload it, or knowingly save over it', async () => {
    const { page } = poc;
    const status = page.getByTestId('save-status');
    // Someone else (the same party's PoC, over the API) saves the draft in the meantime.
    await call(world, pocApi, 'PATCH', `/requests/${requestId}`, {
      location: { country: 'LT', city: 'Kaunas' },
    });
    world.allow(/^PATCH \/api\/v1\/requests\/[0-9a-f-]{36} 412$/);
    const impact = page.getByRole('textbox', { name: 'Likely impact, described' });
    await impact.fill('Control systems of the transmission grid are encrypted.');
    const stale = page.getByTestId('wizard-stale');
    await stale.getByText('Your changes are still in the form and are not saved').waitFor();
    await status.filter({ hasText: 'Not saved: someone else changed this draft' }).waitFor();
    assert.equal(await impact.inputValue(), 'Control systems of the transmission grid are encrypted.');
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the wizard with a stale version');
    await shot(page, 'draft-stale');
    const unchanged = await call(world, pocApi, 'GET', `/requests/${requestId}`);
    assert.ok(!unchanged.impact, 'the stale save changed nothing');

    await stale.getByRole('button', { name: 'Reload the draft' }).click();
    await stale.waitFor({ state: 'detached' });
    assert.equal(await impact.inputValue(), '', 'the reloaded form is the saved draft');
    await page.getByRole('button', { name: 'Next' }).click();
    assert.equal(
      await page.getByRole('textbox', { name: 'City' }).inputValue(),
      'Kaunas',
      'the reloaded form shows the other save',
    );

    // Once more, and this time the PoC saves theirs over the other one, on purpose.
    await call(world, pocApi, 'PATCH', `/requests/${requestId}`, { clearance: 'secret' });
    await page.getByRole('textbox', { name: 'City' }).fill('Kaunas centre');
    await stale.getByRole('button', { name: 'Save mine over theirs' }).click();
    await stale.waitFor({ state: 'detached' });
    await saved(page);
    const mine = await call(world, pocApi, 'GET', `/requests/${requestId}`);
    assert.equal(mine.location.city, 'Kaunas centre');
    assert.equal(mine.clearance, 'restricted', 'the form as the PoC saw it, over the other change');
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
    await page.getByRole('textbox', { name: 'Title' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page
      .getByRole('textbox', { name: 'What was already done to limit the damage' })
      .fill('Affected segments isolated; backups verified.');
    await page
      .getByRole('textbox', { name: 'Other help available (contracts, insurance, other teams)' })
      .fill('None contracted.');
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the wizard, last step');
    await page.getByRole('button', { name: 'Review', exact: true }).click();
    await page.getByTestId('wizard-review').getByText('Affected segments isolated').waitFor();
    assert.equal(await page.getByTestId('wizard-missing').count(), 0, 'nothing is missing');

    await page.getByRole('button', { name: 'Submit to the council' }).click();
    await confirmDialog(page);
    await page.getByText('Voting', { exact: true }).first().waitFor();
    await page.getByText('Eligible — the council decides by majority').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Edit draft' }).count(), 0, 'no edit once submitted');
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the submitted request page');
    await shot(page, 'draft-submitted');

    const submitted = await call(world, pocApi, 'GET', `/requests/${requestId}`);
    assert.equal(submitted.status, 'voting');
    assert.ok(submitted.submittedAt, 'it has been submitted');
    assert.equal(submitted.location.city, 'Kaunas centre', 'the change saved over the other PoC’s was kept');
    assert.equal(submitted.measuresTaken, 'Affected segments isolated; backups verified.');
    assert.deepEqual(submitted.missingForSubmission, []);

    // The edit page of a request that is no longer a draft says so.
    await page.goto(`${requestUrl}/edit`);
    await page.getByText('Only a draft can be edited').waitFor();
    world.assertClean();
  });
});
