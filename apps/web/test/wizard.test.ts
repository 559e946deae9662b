import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import type { TestUser } from '../../server/src/test/harness.ts';
import { BrowserWorld, call, confirmDialog, type Person, shot } from './browser.ts';

/** Picks an option of a Mantine Select by its label. */
async function pick(page: Page, label: string, option: string) {
  await page.getByRole('combobox', { name: label, exact: true }).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

/** A `datetime-local` value `offsetMs` from now, in the browser's own zone. */
const localInput = (page: Page, offsetMs: number): Promise<string> =>
  // A string, so that the test's compiler adds no helpers the page does not have.
  page.evaluate(`(() => {
    const d = new Date(Date.now() + ${offsetMs});
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
  })()`);

/** The problems shown at fields now: each invalid input's label and its message. */
async function shownProblems(page: Page): Promise<string[]> {
  return page.locator('main [id^="field-"][id$="-error"]').allTextContents();
}

const isFocused = (locator: Locator) => locator.evaluate((el) => el === document.activeElement);

/** Waits until the draft's latest changes are saved (the status passes through "Unsaved changes"). */
async function saved(page: Page) {
  const status = page.getByTestId('save-status');
  await status.filter({ hasText: /^Saved at \d\d:\d\d$/ }).waitFor();
}

describe('a PoC files a request with the wizard: errors at their fields, saved while typing, reviewed, confirmed', () => {
  const world = new BrowserWorld();
  let poc: Person;
  let pocApi: TestUser;
  let editUrl = '';

  before(async () => {
    await world.start();
    pocApi = await world.node.user('lt.poc.api', 'LT', ['poc']);
    poc = await world.person('lt.poc', 'LT', ['poc']);
  });
  after(() => world.stop());

  it('shows no error before a field is touched; Next shows only the step’s problems, in words, and focuses the first', async () => {
    const { page } = poc;
    await page.goto(`${world.base}/requests/new`);
    await page.getByRole('heading', { name: 'New assistance request' }).waitFor();
    assert.deepEqual(await shownProblems(page), [], 'nothing is wrong before anything is touched');
    assert.equal(await page.locator('main [aria-invalid="true"]').count(), 0);
    await page.getByTestId('save-status').filter({ hasText: 'Not saved yet' }).waitFor();

    // Touching a field and leaving it empty: only that field says so.
    const title = page.getByRole('textbox', { name: 'Title' });
    await title.focus();
    const entity = page.getByRole('textbox', { name: 'Affected entity' });
    await entity.focus();
    assert.deepEqual(await shownProblems(page), [
      'Give the request a title: one line that says what happened and where',
    ]);
    await entity.blur();

    await page.getByRole('button', { name: 'Next' }).click();
    const problems = await shownProblems(page);
    assert.deepEqual(problems, [
      'Give the request a title: one line that says what happened and where',
      'Name the entity under attack',
      "Choose the entity's sector",
      'Choose what kind of incident this is',
      'Say how severe the incident is',
    ]);
    for (const p of problems) assert.doesNotMatch(p, /must|format|required|body\//, 'said in words');
    assert.ok(await isFocused(title), 'the first problem has the focus');
    assert.equal(await title.getAttribute('aria-invalid'), 'true');
    assert.equal(
      await page.getByRole('textbox', { name: 'What help is needed, and for what' }).count(),
      0,
      'still on the first step',
    );
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the wizard with its errors');
    await shot(page, 'wizard-step-errors');

    // Fixed, each error goes at once; the others stay.
    await title.fill('Ransomware at the Lithuanian grid operator');
    assert.notEqual(await title.getAttribute('aria-invalid'), 'true');
    assert.equal((await shownProblems(page)).length, 4);
    await page.getByRole('textbox', { name: 'Affected entity' }).fill('LITGRID control centre');
    await pick(page, 'Sector (NIS2)', 'Energy');
    await pick(page, 'Incident class (RSIT)', 'Malicious Code');
    // The type is needed once a class is chosen (the step was left once: its fields are touched).
    assert.deepEqual(await shownProblems(page), [
      'Choose the type of incident',
      'Say how severe the incident is',
    ]);
    await pick(page, 'Severity', 'Critical');
    assert.deepEqual(await shownProblems(page), ['Choose the type of incident']);

    // A time in the future, said as such at the field, cleared when corrected.
    const aware = page.getByRole('textbox', { name: 'Entity aware since' });
    await aware.fill(await localInput(page, 3 * 3600_000));
    await aware.blur();
    assert.deepEqual(await shownProblems(page), [
      'Choose the type of incident',
      'This is in the future: give the time the entity became aware of the incident',
    ]);
    await aware.fill(await localInput(page, -3 * 3600_000));
    assert.deepEqual(await shownProblems(page), ['Choose the type of incident']);

    await page.getByRole('button', { name: 'Next' }).click();
    assert.deepEqual(await shownProblems(page), ['Choose the type of incident']);
    assert.ok(await isFocused(page.getByRole('combobox', { name: 'Incident type (RSIT)', exact: true })));
    await pick(page, 'Incident type (RSIT)', 'Infected System');
    await page
      .getByRole('textbox', { name: 'Likely impact, described' })
      .fill('SCADA servers **encrypted**; see https://example.org/advisory');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('textbox', { name: 'What help is needed, and for what' }).waitFor();
    assert.deepEqual(await shownProblems(page), [], 'a new step starts without errors');
  });

  it('the draft is created once the node can take it, saved as the person types, and is there after a reload', async () => {
    const { page } = poc;
    const status = page.getByTestId('save-status');
    await status.filter({ hasText: 'Not saved yet' }).waitFor();
    await page.getByTestId('save-needs').filter({ hasText: 'skill 1' }).waitFor();
    assert.match(page.url(), /\/requests\/new$/, 'nothing saved yet');

    // The window the wrong way round: said at "Mission until" only, and fixed.
    const until = page.getByRole('textbox', { name: 'Mission until' });
    await until.fill(await localInput(page, 3600_000));
    await until.blur();
    assert.deepEqual(await shownProblems(page), ['The mission must end after it starts']);
    await until.fill(await localInput(page, 5 * 86400_000));
    assert.deepEqual(await shownProblems(page), []);

    await pick(page, 'Skill 1', 'Digital forensics');
    await saved(page);
    assert.match(page.url(), /\/requests\/[0-9a-f-]{36}\/edit$/, 'the address is the draft’s');
    editUrl = page.url();
    const id = editUrl.split('/').at(-2)!;
    const created = await call(world, pocApi, 'GET', `/requests/${id}`);
    assert.equal(created.status, 'draft');
    assert.equal(created.title, 'Ransomware at the Lithuanian grid operator');

    // Typing is saved a moment after it stops, with If-Match: no version conflict with itself.
    await page
      .getByRole('textbox', { name: 'What help is needed, and for what' })
      .fill('Forensics and malware analysis on site.');
    await status.filter({ hasText: 'Unsaved changes' }).waitFor();
    await page.getByRole('textbox', { name: 'City' }).fill('Kaunas');
    await saved(page);
    const typed = await call(world, pocApi, 'GET', `/requests/${id}`);
    assert.equal(typed.helpNeeded, 'Forensics and malware analysis on site.');
    assert.equal(typed.location.city, 'Kaunas');
    assert.ok(typed.version > created.version);

    await page.reload();
    await page
      .getByRole('heading', { name: 'Edit draft: Ransomware at the Lithuanian grid operator' })
      .waitFor();
    assert.equal(
      await page.getByRole('textbox', { name: 'Affected entity' }).inputValue(),
      'LITGRID control centre',
    );
    assert.equal(
      await page.getByRole('combobox', { name: 'Incident type (RSIT)', exact: true }).inputValue(),
      'Infected System',
    );
    await page.getByRole('button', { name: 'Next' }).click();
    assert.equal(await page.getByRole('textbox', { name: 'City' }).inputValue(), 'Kaunas');
    assert.equal(
      await page.getByRole('textbox', { name: 'What help is needed, and for what' }).inputValue(),
      'Forensics and malware analysis on site.',
    );
    assert.equal(
      await page.getByRole('combobox', { name: 'Skill 1', exact: true }).inputValue(),
      'Digital forensics',
    );
  });

  it('the review shows the request as entered, what is still needed, and the eligibility hint', async () => {
    const { page } = poc;
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Review', exact: true }).click();
    const review = page.getByTestId('wizard-review');
    await review.waitFor();
    await review
      .getByTestId('review-title')
      .filter({ hasText: 'Ransomware at the Lithuanian grid operator' })
      .waitFor();
    await review.getByText('LITGRID control centre, Energy (essential entity)').waitFor();
    await review.getByText('Malicious Code: Infected System').waitFor();
    await review.getByText('Kaunas, LT').waitFor();
    await review.getByText('Forensics and malware analysis on site.').waitFor();
    assert.deepEqual(await review.getByTestId('review-skills').getByRole('listitem').allTextContents(), [
      'Digital forensics: 1 person, level 2 or above',
    ]);
    await review.locator('strong').filter({ hasText: 'encrypted' }).waitFor(); // Markdown, as the council reads it
    await page
      .getByTestId('wizard-eligibility')
      .filter({ hasText: 'LT is a member today: its requests are eligible' })
      .waitFor();
    assert.deepEqual(await page.getByTestId('wizard-missing').getByRole('button').allTextContents(), [
      'Say what was already done to limit the damage ("nothing yet" is an answer)',
      'Say what other help is available: contracts, insurance, other teams, or "none"',
    ]);
    assert.ok(await page.getByRole('button', { name: 'Submit to the council' }).isDisabled());
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the review');
    await shot(page, 'wizard-review');

    // A missing item leads to its field, with the focus on it.
    await page.getByTestId('wizard-missing').getByRole('button').first().click();
    const measures = page.getByRole('textbox', { name: 'What was already done to limit the damage' });
    await measures.waitFor();
    assert.ok(await isFocused(measures));
    await measures.fill('Segments isolated.');
    await page
      .getByRole('textbox', { name: 'Other help available (contracts, insurance, other teams)' })
      .fill('None contracted.');
    await page.getByRole('button', { name: 'Review', exact: true }).click();
    await page.getByTestId('wizard-review').waitFor();
    assert.equal(await page.getByTestId('wizard-missing').count(), 0);

    // Edit links go back to their step.
    await page.getByRole('button', { name: 'Edit the help needed' }).click();
    await page.getByRole('textbox', { name: 'City' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Review', exact: true }).click();
    await page.getByTestId('wizard-review').waitFor();
  });

  it('submitting asks for confirmation first, and sends the note with it', async () => {
    const { page } = poc;
    const id = editUrl.split('/').at(-2)!;
    await page.getByRole('button', { name: 'Submit to the council' }).click();
    const dialog = page.getByRole('dialog', { name: 'Submit to the council?' });
    await dialog.getByText("LT's eligibility is checked").waitFor();
    await dialog.getByText(/the council is asked to decide within \d+ h/).waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the confirmation');
    await shot(page, 'wizard-submit-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(
      (await call(world, pocApi, 'GET', `/requests/${id}`)).status,
      'draft',
      'a cancel sends nothing',
    );

    await page.getByRole('button', { name: 'Submit to the council' }).click();
    await confirmDialog(page, { reason: 'The grid operator asks for help within the day.' });
    await page.getByTestId('request-title').waitFor();
    assert.match(page.url(), new RegExp(`/requests/${id}$`));
    const submitted = await call(world, pocApi, 'GET', `/requests/${id}`);
    assert.equal(submitted.status, 'voting');
    assert.equal(submitted.measuresTaken, 'Segments isolated.');
    assert.equal(submitted.otherHelp, 'None contracted.');
    world.assertClean();
  });
});
