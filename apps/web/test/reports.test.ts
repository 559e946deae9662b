import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { AssistanceRequest, Report, ReportList } from '@vytis/contracts';
import { runCommand } from '../../server/src/cli/commands.ts';
import { BrowserWorld, call, confirmDialog, type Person, shot } from './browser.ts';

/**
 * The reports drafted from the record, as their authors meet them: a coordinator completes the
 * force's post-action report of the demo's mission (prefilled fields, the preview, a save that
 * survives a reload), submits it (signed, frozen) and downloads its PDF; the host's PoC edits the
 * entity's NIS2 early warning and marks it filed with its CSIRT, which meets its clock.
 */
describe('reports in a browser: the post-action report and the NIS2 reports', () => {
  const world = new BrowserWorld();
  let coordinator: Person;
  let hostPoc: Person;
  let requestId = '';

  before(async () => {
    await world.start();
    const demo = await runCommand(world.node.services, { name: 'demo' });
    assert.equal(demo.exitCode, 0, demo.stderr);
    const people = await world.people([
      ['report.coordinator', 'LT', ['coordinator']],
      ['report.fi.poc', 'FI', ['poc']],
    ]);
    coordinator = people['report.coordinator']!;
    hostPoc = people['report.fi.poc']!;
    // The demo's mission: FI's DDoS request, its team deployed. The coordinator stands it down,
    // which starts the post-action report's clock.
    const list = (await call(world, coordinator.user, 'GET', '/requests?limit=50'))
      .items as AssistanceRequest[];
    const deployed = list.find((r) => r.status === 'deployed');
    assert.ok(deployed, 'the demo has a deployed request');
    requestId = deployed.id;
    const request = (await call(
      world,
      coordinator.user,
      'GET',
      `/requests/${requestId}`,
    )) as AssistanceRequest;
    const stood = await world.node.request({
      method: 'POST',
      url: `/api/v1/requests/${requestId}/stand-down`,
      headers: { ...coordinator.user.headers, 'if-match': `"${request.version}"` },
      payload: {},
    });
    assert.equal(stood.statusCode, 200, stood.body);
  });
  after(() => world.stop());

  const postAction = async () =>
    (await call(world, coordinator.user, 'GET', `/requests/${requestId}/post-action-report`)) as Report;

  it('a coordinator completes the post-action report, saves it, submits it and downloads its PDF', async () => {
    const { page } = coordinator;
    await page.goto(`${world.base}/requests/${requestId}`);
    const row = page.getByTestId('report-row-post_action');
    await row.getByText('Draft').waitFor();
    await row.getByRole('link', { name: 'Post-action report' }).click();
    await page.waitForURL(`**/requests/${requestId}/report`);
    const preview = page.getByTestId('report-preview');
    await preview.waitFor();

    // Drafted from the record: some fields come filled in, and say so; the preview leads with its label.
    const drafted = await postAction();
    assert.equal(drafted.status, 'draft');
    assert.ok(
      drafted.fields.some((f) => f.prefilled),
      'the draft has fields filled in from the record',
    );
    assert.ok((await page.getByTestId('prefilled').count()) > 0, 'prefilled fields are marked');
    assert.equal(
      await page.getByTestId('preview-tlp').textContent(),
      `TLP:${drafted.layout.tlp.toUpperCase()}`,
    );
    await preview.getByText(drafted.layout.title, { exact: true }).first().waitFor();
    await shot(page, 'reports-post-action-draft');

    // The findings, with Markdown and markup in them: kept and shown as typed, never as markup.
    const findings =
      drafted.fields.find((f) => f.type === 'text' && /finding/i.test(`${f.key} ${f.label}`)) ??
      drafted.fields.find((f) => f.type === 'text' && !f.prefilled);
    assert.ok(findings, 'the report has a findings field');
    const text =
      'Initial access through the **VPN** appliance <img src=x onerror=alert(1)> [see](javascript:1)';
    await page.getByTestId(`field-${findings.key}`).getByRole('textbox').fill(text);
    await page.getByTestId('save-status').getByText('Unsaved changes').waitFor();
    await page.getByTestId('report-save').click();
    await page
      .getByTestId('save-status')
      .getByText(/^Saved/)
      .waitFor();
    await preview.getByText(text, { exact: true }).waitFor();
    assert.equal(await preview.locator('img, strong, a').count(), 0, 'the preview renders no markup');

    await page.reload();
    await page.getByTestId('report-preview').getByText(text, { exact: true }).waitFor();
    assert.equal(await page.getByTestId(`field-${findings.key}`).getByRole('textbox').inputValue(), text);
    const saved = await postAction();
    assert.equal(saved.fields.find((f) => f.key === findings.key)?.value, text);
    assert.equal(saved.version, 1);

    // Submitting freezes it, signed by the node; it meets the report's clock.
    await page.getByRole('button', { name: 'Submit', exact: true }).click();
    await page
      .getByRole('dialog')
      .getByText(/nobody can change it afterwards/)
      .waitFor();
    await world.axe(page);
    await confirmDialog(page);
    const signature = page.getByTestId('report-signature');
    await signature.waitFor();
    const submitted = await postAction();
    assert.equal(submitted.status, 'submitted');
    assert.ok(submitted.signature, 'the submitted report is signed');
    assert.match(submitted.signature.sha256, /^[0-9a-f]{64}$/);
    await signature.getByText(submitted.signature.sha256).waitFor();
    await signature.getByText(submitted.signature.keyId).waitFor();
    assert.equal(await page.getByTestId(`field-${findings.key}`).count(), 0, 'no field is editable any more');
    assert.equal(await page.getByTestId('report-save').count(), 0);
    if (submitted.clock) assert.equal(submitted.clock.state, 'met');
    await shot(page, 'reports-post-action-submitted');

    // The PDF, as the node lays it out.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('report-files').getByRole('link', { name: 'PDF' }).click(),
    ]);
    const file = await download.path();
    assert.equal(fs.readFileSync(file).subarray(0, 4).toString('latin1'), '%PDF');
    world.assertClean();
  });

  it("the host's PoC edits the NIS2 early warning and marks it filed with the CSIRT", async () => {
    const { page } = hostPoc;
    await page.goto(`${world.base}/requests/${requestId}`);
    await page.getByTestId('request-reports').getByRole('link', { name: 'Early warning' }).click();
    await page.waitForURL(/\/nis2\?kind=nis2_early_warning$/);
    const panel = page.getByRole('tabpanel', { name: /Early warning/ });
    await panel.getByTestId('report-preview').waitFor();
    await shot(page, 'reports-nis2-early-warning');

    const list = (await call(world, hostPoc.user, 'GET', `/requests/${requestId}/nis2`)) as ReportList;
    assert.deepEqual(
      list.items.map((r) => r.kind),
      ['nis2_early_warning', 'nis2_notification', 'nis2_intermediate', 'nis2_final_report', 'nis2_progress'],
    );
    const early = list.items[0]!;
    const field = early.fields.find((f) => f.type === 'text');
    assert.ok(field, 'the early warning has a text field');
    const text = 'Traffic from a botnet; no sign of data taken.';
    await panel.getByTestId(`field-${field.key}`).getByRole('textbox').fill(text);
    await panel.getByTestId('report-save').click();
    await panel
      .getByTestId('save-status')
      .getByText(/^Saved/)
      .waitFor();
    await panel.getByTestId('report-preview').getByText(text, { exact: true }).waitFor();

    // Filed two hours ago, in the viewer's zone; the node keeps it in UTC.
    // (One expression: tsx's helpers do not exist in the page.)
    const [local, iso] = await page.evaluate(() => {
      const at = new Date(Date.now() - 2 * 3600_000);
      at.setSeconds(0, 0);
      return [
        `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, '0')}-${String(at.getDate()).padStart(2, '0')}T${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`,
        at.toISOString(),
      ];
    });
    await panel.getByRole('button', { name: 'Mark submitted' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Europe/Helsinki').first().waitFor();
    await dialog.getByLabel('Filed at').fill(local);
    await dialog.getByLabel('Filed with').fill('CERT-FI');
    await world.axe(page);
    await dialog.getByTestId('confirm-action').click();
    await dialog.waitFor({ state: 'detached' });

    await panel.getByTestId('report-state').getByText('Submitted').waitFor();
    await panel.getByText('to CERT-FI').waitFor();
    await panel.getByTestId('report-clock').getByText(/^met/).waitFor();
    await page
      .getByRole('tab', { name: /Early warning/ })
      .getByText('submitted')
      .waitFor();
    const filed = (await call(
      world,
      hostPoc.user,
      'GET',
      `/requests/${requestId}/nis2/nis2_early_warning`,
    )) as Report;
    assert.equal(filed.status, 'submitted');
    assert.equal(filed.submittedTo, 'CERT-FI');
    assert.equal(new Date(filed.filedAt ?? '').toISOString(), iso);
    assert.equal(filed.fields.find((f) => f.key === field.key)?.value, text);
    assert.equal(filed.clock?.state, 'met');
    await shot(page, 'reports-nis2-early-warning-submitted');
    world.assertClean();
  });
});
