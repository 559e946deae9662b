import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { requestBody } from '../../server/src/test/requests.fixtures.ts';
import { BrowserWorld, call, confirmDialog, type Person, shot } from './browser.ts';

async function pick(page: Page, label: string, option: string) {
  await page.getByRole('combobox', { name: label, exact: true }).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

/** Hostile text in every field a person can fill: none of it may run, all of it must show as text. */
const HOSTILE = {
  title: '<img src=x onerror=alert(1)> Grid <script>alert(2)</script>',
  comment: '<svg onload=alert(3)>vote</svg>',
  note: 'Look [here](javascript:alert(4)) and <iframe src="javascript:alert(5)"></iframe> **bold** [ok](https://example.org/ok)',
  filename: '<img src=x onerror=alert(6)>.txt',
  caseTitle: '"><script>alert(7)</script> Phishing wave',
  observableComment: '<b onmouseover=alert(8)>hover</b>',
};

describe('cases in a browser: observables under TLP, bulk import, evidence, lookup; hostile text stays inert', () => {
  const world = new BrowserWorld();
  let analyst: Person;
  let observer: Person;
  let caseUrl = '';

  before(async () => {
    await world.start();
    const visitor = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const login = await visitor.newPage();
    await login.goto(world.base + '/cases');
    await login.getByRole('button', { name: 'Log in' }).waitFor();
    await shot(login, 'login');
    await visitor.close();
    const people = await world.people([
      ['lt.analyst', 'LT', ['analyst']],
      ['fi.analyst', 'FI', ['analyst']],
    ]);
    analyst = people['lt.analyst']!;
    observer = people['fi.analyst']!;
  });
  after(() => world.stop());

  it('an analyst opens a GREEN case and adds indicators: one by one, in bulk with progress, with evidence', async () => {
    const { page } = analyst;
    await page.getByRole('link', { name: 'Cases' }).click();
    await page.getByRole('button', { name: 'New case' }).click();
    await page
      .getByRole('dialog')
      .getByRole('textbox', { name: 'Title', exact: true })
      .fill('Phishing wave against Baltic energy operators');
    await page
      .getByRole('textbox', { name: 'Description' })
      .fill('Credential phishing; see [the advisory](https://example.org/advisory).');
    await pick(page, 'TLP', 'TLP:GREEN');
    await page.getByRole('button', { name: 'Create the case' }).click();
    await page.getByTestId('case-title').waitFor();
    caseUrl = page.url();

    // One GREEN indicator (defanged, as analysts paste them) and one AMBER one.
    const add = page.getByRole('form', { name: 'Add an observable' });
    await add.getByRole('textbox', { name: 'Value' }).fill('login-portal[.]evil-example[.]com');
    await pick(page, 'TLP', 'TLP:GREEN');
    await add.getByRole('button', { name: 'Add observable' }).click();
    await page.getByTestId('observables').getByText('login-portal.evil-example.com').waitFor();
    await pick(page, 'Type', 'ip-dst');
    await add.getByRole('textbox', { name: 'Value' }).fill('203.0.113.66');
    await pick(page, 'TLP', 'TLP:AMBER');
    await add.getByRole('textbox', { name: 'Comment' }).fill('C2 seen by LT only');
    await add.getByRole('button', { name: 'Add observable' }).click();
    await page.getByTestId('observables').getByText('203.0.113.66').waitFor();

    // A CSV file in bulk: its upload shows progress, then the summary.
    const csv = [
      'domain,update-check.evil-example.net,dropper',
      'sha256,' + 'a'.repeat(64) + ',payload',
      'url,hxxps://evil-example[.]net/kit.zip,kit',
    ].join('\n');
    await page.setInputFiles('#bulk-file', {
      name: 'iocs.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv),
    });
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page
      .getByTestId('bulk-result')
      .filter({ hasText: 'Imported 3, duplicates 0, rejected 0' })
      .waitFor();
    await page.getByTestId('observables').getByText('update-check.evil-example.net').waitFor();
    await shot(page, 'case-observables');

    // Evidence with its chain of custody; the file name is hostile and must show as text.
    await page.getByRole('tab', { name: /Evidence/ }).click();
    await page.setInputFiles('#evidence-file', {
      name: 'mail-headers.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('Received: from mx.evil-example.com'),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByTestId('evidence').getByRole('button', { name: 'mail-headers.txt' }).click();
    await page.getByTestId('custody').getByText('upload').waitFor();
    await shot(page, 'case-evidence-custody');
    await page.keyboard.press('Escape');
  });

  it('correlations and the lookup find the value in another party’s case; a Finnish observer sees GREEN, not AMBER', async () => {
    const ee = await world.node.user('ee.analyst.api', 'EE', ['analyst']);
    const other = await call(world, ee, 'POST', '/cases', {
      title: 'EE: credential harvesting',
      incidentClass: 'rsit:fraud="phishing"',
      severity: 'medium',
      tlp: 'green',
      pap: 'green',
    });
    await call(world, ee, 'POST', `/cases/${other.id}/observables`, {
      type: 'domain',
      value: 'login-portal.evil-example.com',
      tlp: 'green',
    });

    const { page } = analyst;
    await page.goto(caseUrl);
    await page.getByRole('button', { name: 'Correlations of login-portal.evil-example.com' }).click();
    await page.getByTestId('correlations').getByText('EE: credential harvesting').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('link', { name: 'Indicator lookup' }).click();
    // The lookup page first: until it renders, the case page's own "Value" field is the one found.
    await page.getByRole('heading', { name: 'Indicator lookup' }).waitFor();
    await page
      .getByRole('textbox', { name: 'Values', exact: true })
      .fill('login-portal[.]evil-example[.]com');
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.getByTestId('correlations').getByText('EE: credential harvesting').waitFor();
    await shot(page, 'indicator-lookup');

    // Finland is an observer: it sees the GREEN case and its GREEN indicators, not the AMBER one.
    const lt = await world.node.user('lt.poc.api', 'LT', ['poc']);
    const amber = await call(
      world,
      lt,
      'POST',
      '/requests',
      requestBody({
        title: 'AMBER: LT grid',
        tlp: 'amber',
        window: {
          from: new Date(Date.now() + 3600_000).toISOString(),
          to: new Date(Date.now() + 86400_000).toISOString(),
        },
        awareAt: new Date(Date.now() - 3600_000).toISOString(),
      }),
    );
    await call(world, lt, 'POST', `/requests/${amber.id}/submit`);
    const green = await call(
      world,
      lt,
      'POST',
      '/requests',
      requestBody({
        title: 'GREEN: LT water',
        tlp: 'green',
        window: {
          from: new Date(Date.now() + 3600_000).toISOString(),
          to: new Date(Date.now() + 86400_000).toISOString(),
        },
        awareAt: new Date(Date.now() - 3600_000).toISOString(),
      }),
    );
    await call(world, lt, 'POST', `/requests/${green.id}/submit`);

    const fi = observer.page;
    await fi.goto(caseUrl);
    await fi.getByTestId('observables').getByText('login-portal.evil-example.com').waitFor();
    assert.equal(
      await fi.getByTestId('observables').getByText('203.0.113.66').count(),
      0,
      'the AMBER indicator is not shown',
    );
    assert.equal(await fi.getByText('C2 seen by LT only').count(), 0);
    await shot(fi, 'observer-case');
    await fi.getByRole('link', { name: 'Requests', exact: true }).click();
    await fi.getByTestId('requests-board').getByText('GREEN: LT water').waitFor();
    assert.equal(await fi.getByText('AMBER: LT grid').count(), 0, 'the AMBER request is not on the board');
    world.allow(new RegExp(`^GET /api/v1/requests/${amber.id} 404$`));
    await fi.goto(`${world.base}/requests/${amber.id}`);
    await fi.getByText('This request cannot be shown').waitFor();
    await shot(fi, 'observer-board-denied');
    world.assertClean();
  });

  it('an analyst relabels two selected observables and the case with a confirmation and a reason, tags and filters by tag; a shared party is offered none of it', async () => {
    const { page, user } = analyst;
    const kase = await call(world, user, 'POST', '/cases', {
      title: 'Wiper at the port authority',
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'high',
      tlp: 'amber',
      pap: 'amber',
      shares: { parties: ['EE'] },
    });
    const values = ['wiper-a.evil-example.org', 'wiper-b.evil-example.org', 'wiper-c.evil-example.org'];
    const ids: string[] = [];
    for (const value of values) {
      ids.push(
        (
          await call(world, user, 'POST', `/cases/${kase.id}/observables`, {
            type: 'domain',
            value,
            tlp: 'amber',
          })
        ).id,
      );
    }
    const redValue = 'wiper-red.evil-example.org';
    await call(world, user, 'POST', `/cases/${kase.id}/observables`, {
      type: 'domain',
      value: redValue,
      tlp: 'red',
    });
    await page.goto(`${world.base}/cases/${kase.id}`);
    const table = page.getByTestId('observables');
    await table.getByText(values[2]!).waitFor();

    // Two rows selected, relabelled together: a confirmation says what happens, a reason is asked.
    await table.getByRole('checkbox', { name: `Select ${values[0]}` }).check();
    await table.getByRole('checkbox', { name: `Select ${values[1]}` }).check();
    const bar = page.getByTestId('bulk-bar');
    await bar.getByText('2 observables selected').waitFor();
    await pick(page, 'New label', 'TLP:AMBER+STRICT');
    await bar.getByRole('button', { name: 'Relabel selected' }).click();
    await page.getByRole('dialog').getByText('2 observables will be labelled TLP:AMBER+STRICT').waitFor();
    await world.axe(page);
    await shot(page, 'case-bulk-relabel-confirm');
    await confirmDialog(page, { reason: 'the port asked to keep these to LT and EE' });
    await table.locator('[data-tlp="amber+strict"]').nth(1).waitFor();
    const listed = await call(world, user, 'GET', `/cases/${kase.id}/observables?tlp=amber%2Bstrict`);
    assert.deepEqual(listed.items.map((o: { value: string }) => o.value).sort(), values.slice(0, 2));

    // Export selected is the node's export of those rows: a RED one selected with them stays home.
    for (const value of [values[0]!, redValue])
      await table.getByRole('checkbox', { name: `Select ${value}` }).check();
    const href = await bar.getByRole('link', { name: 'Export selected (CSV)' }).getAttribute('href');
    const exported = await page.request.get(world.base + href);
    assert.equal(exported.status(), 200);
    assert.deepEqual(
      (await exported.text())
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',')[1]),
      [values[0]],
    );
    for (const value of [values[0]!, redValue])
      await table.getByRole('checkbox', { name: `Select ${value}` }).uncheck();

    // A tag on one row, then the list filtered by it.
    await table.getByRole('checkbox', { name: `Select ${values[2]}` }).check();
    await bar.getByRole('textbox', { name: 'Tag' }).fill('wave-2');
    await bar.getByRole('button', { name: 'Add tag' }).click();
    await table.getByText('wave-2').waitFor();
    await page.getByRole('textbox', { name: 'Filter by tag' }).fill('wave-2');
    await page.getByTestId('observables-total').filter({ hasText: '1 observable you may see' }).waitFor();
    assert.equal(await table.getByText(values[0]!).count(), 0);
    await shot(page, 'case-observables-filtered-by-tag');

    // The case itself narrowed: the confirmation names who loses it; the reason is in the timeline.
    await page.getByRole('tab', { name: 'Sharing' }).click();
    await pick(page, 'TLP', 'TLP:AMBER+STRICT');
    await page.getByRole('button', { name: 'Save sharing' }).click();
    await page.getByRole('dialog').getByText('Narrowing to TLP:AMBER+STRICT').waitFor();
    await confirmDialog(page, { reason: 'the operator asked for stricter handling' });
    await page.getByRole('tab', { name: /Timeline/ }).click();
    await page
      .getByText(/narrowed from TLP:AMBER to TLP:AMBER\+STRICT .*: the operator asked for stricter handling/)
      .waitFor();
    const shares = await call(world, user, 'GET', `/cases/${kase.id}/shares`);
    assert.equal(shares.tlp, 'amber+strict');

    // EE works on the case but does not own it: no sharing controls, no relabel of LT's items.
    const ee = await world.person('ee.analyst.web', 'EE', ['analyst']);
    await ee.page.goto(`${world.base}/cases/${kase.id}`);
    await ee.page.getByTestId('observables').getByText(values[0]!).waitFor();
    await ee.page
      .getByTestId('observables')
      .getByRole('checkbox', { name: `Select ${values[0]}` })
      .check();
    await ee.page.getByTestId('bulk-bar').waitFor();
    assert.equal(await ee.page.getByRole('button', { name: 'Relabel selected' }).count(), 0);
    assert.equal(await ee.page.getByRole('button', { name: 'Delete selected' }).count(), 0);
    await ee.page.getByRole('tab', { name: 'Sharing' }).click();
    await ee.page.getByTestId('sharing-read-only').waitFor();
    assert.equal(await ee.page.getByRole('button', { name: 'Save sharing' }).count(), 0);
    world.assertClean();
  });

  it('hostile titles, comments, notes and file names render inert, as text', async () => {
    const lt = await world.node.user('lt.poc.xss', 'LT', ['poc']);
    const council = await world.node.user('ee.council.xss', 'EE', ['council']);
    const times = {
      window: {
        from: new Date(Date.now() + 3600_000).toISOString(),
        to: new Date(Date.now() + 86400_000).toISOString(),
      },
      awareAt: new Date(Date.now() - 3600_000).toISOString(),
    };
    const request = await call(
      world,
      lt,
      'POST',
      '/requests',
      requestBody({ ...times, title: HOSTILE.title, tlp: 'green', impact: HOSTILE.note }),
    );
    await call(world, lt, 'POST', `/requests/${request.id}/submit`);
    await call(world, council, 'POST', `/requests/${request.id}/votes`, {
      vote: 'activate',
      comment: HOSTILE.comment,
    });

    const { page } = analyst;
    const kase = await call(world, analyst.user, 'POST', '/cases', {
      title: HOSTILE.caseTitle,
      incidentClass: 'rsit:fraud="phishing"',
      severity: 'low',
      tlp: 'green',
      pap: 'green',
    });
    await call(world, analyst.user, 'POST', `/cases/${kase.id}/notes`, { body: HOSTILE.note });
    await call(world, analyst.user, 'POST', `/cases/${kase.id}/observables`, {
      type: 'domain',
      value: 'xss.evil-example.org',
      tlp: 'green',
      comment: HOSTILE.observableComment,
    });
    await world.node.request({
      method: 'POST',
      url: `/api/v1/cases/${kase.id}/evidence?filename=${encodeURIComponent(HOSTILE.filename)}`,
      headers: { ...analyst.user.headers, 'content-type': 'text/plain' },
      payload: 'x',
    });

    await page.goto(`${world.base}/requests/${request.id}`);
    await page.getByTestId('request-title').filter({ hasText: HOSTILE.title }).waitFor();
    await page.getByTestId('votes').getByText(HOSTILE.comment).waitFor();
    await shot(page, 'xss-request');
    await page.getByRole('link', { name: 'Requests', exact: true }).click();
    await page.getByTestId('requests-board').getByText(HOSTILE.title).waitFor();
    await page.goto(`${world.base}/cases/${kase.id}`);
    await page.getByTestId('case-title').filter({ hasText: HOSTILE.caseTitle }).waitFor();
    await page.getByText(HOSTILE.observableComment).waitFor();
    await page.getByRole('tab', { name: /Notes/ }).click();
    const note = page.getByTestId('note').first();
    await note.getByText('bold').waitFor();
    await page.getByRole('tab', { name: /Evidence/ }).click();
    await page.getByTestId('evidence').getByText(HOSTILE.filename).waitFor();
    await page.getByRole('link', { name: 'Cases' }).click();
    await page.getByTestId('cases').getByText(HOSTILE.caseTitle).waitFor();
    await shot(page, 'xss-cases');

    // Nothing ran (a dialog fails the test), nothing became markup, and links are http(s) only.
    const dom = await page.evaluate(() => ({
      images: document.querySelectorAll('img[src="x"]').length,
      scripts: [...document.scripts].filter((s) => !s.src).length,
      iframes: document.querySelectorAll('iframe').length,
      unsafeLinks: [...document.querySelectorAll('a[href]')].filter(
        (a) => !/^(https?:|\/|#main$)/.test(a.getAttribute('href')!),
      ).length,
    }));
    assert.deepEqual(dom, { images: 0, scripts: 0, iframes: 0, unsafeLinks: 0 });
    await page.goto(`${world.base}/cases/${kase.id}`);
    await page.getByRole('tab', { name: /Notes/ }).click();
    const links = await page
      .getByTestId('note')
      .locator('a')
      .evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(
      links,
      ['https://example.org/ok'],
      'the javascript: link is dropped, the https link kept',
    );
    assert.equal(await page.getByTestId('note').locator('iframe').count(), 0);
    world.assertClean();
  });
});
