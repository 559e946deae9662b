import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { DateTime } from 'luxon';
import { BrowserWorld, call, type Person, shot } from './browser.ts';

/** 'YYYY-MM-DDTHH:MM' for a datetime-local input, `days` from now. */
const localInput = (days: number, hour: number) => {
  const d = new Date(Date.now() + days * 86_400_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(hour)}:00`;
};

describe("the duty officer's board, the roster kept in the app, and the audit log for auditors", () => {
  const world = new BrowserWorld();
  let people: Record<string, Person>;

  before(async () => {
    await world.start();
    people = await world.people([
      ['duty.officer', 'FI', ['coordinator']],
      ['lt.poc', 'LT', ['poc']],
      ['eu.auditor', 'EU', ['auditor']],
    ]);
    // EE keeps a responder on a rotation that starts next month: nobody on duty now.
    const ee = await world.node.user('ee.poc', 'EE', ['poc']);
    const kati = await call(world, ee, 'POST', '/responders', {
      name: 'Kati',
      affiliation: 'civilian',
      skills: [{ skill: 'digital-forensics', level: 2 }],
      languages: ['et'],
      clearance: 'secret',
      base: { city: 'Tallinn', country: 'EE', lat: 59.4, lon: 24.7, timeZone: 'Europe/Tallinn' },
      readiness: { remoteHours: 2, onsiteHours: 12 },
    });
    await call(world, ee, 'POST', '/rotations', {
      name: 'EE on-call',
      timeZone: 'Europe/Tallinn',
      startsOn: new Date(Date.now() + 20 * 86_400_000).toISOString().slice(0, 10),
      shiftStart: '08:00',
      shiftHours: 24,
      shiftDays: 1,
      responderIds: [kati.id],
    });
  });
  after(() => world.stop());

  it('the duty page flags a party with nobody on duty, with when', async () => {
    const { page } = people['duty.officer']!;
    await page.goto(`${world.base}/duty`);
    const ee = page.getByTestId('duty-EE');
    await ee.waitFor();
    await ee.getByText('nobody on duty now').waitFor();
    await ee.getByText('Gaps in coverage').waitFor();
    await ee
      .getByText(/no shift/)
      .first()
      .waitFor();
    await ee.getByText('Escalate to: ee.poc').waitFor();
    assert.deepEqual(await world.axe(page), []);
    await shot(page, 'duty-board');
    world.assertClean();
  });

  it('a PoC adds a responder and records their leave in the app', async () => {
    const { page, user } = people['lt.poc']!;
    await page.goto(`${world.base}/roster`);
    await page.getByRole('button', { name: 'Add responder' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('textbox', { name: 'Name' }).fill('Vida');
    await dialog
      .getByRole('textbox', { name: 'Skills' })
      .or(dialog.getByRole('combobox', { name: 'Skills' }))
      .click();
    await page.getByRole('option', { name: 'Digital forensics', exact: true }).click();
    await dialog.getByRole('textbox', { name: 'Name' }).click();
    await dialog.getByRole('textbox', { name: 'Base city' }).fill('Kaunas');
    await dialog.getByRole('textbox', { name: 'Time zone' }).fill('Europe/Vilnius');
    assert.deepEqual(await world.axe(page), []);
    await dialog.getByRole('button', { name: 'Add responder' }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.getByTestId('responders').getByRole('row').filter({ hasText: 'Vida' });
    await row.waitFor();

    await row.getByRole('button', { name: 'Leave of Vida' }).click();
    const leave = page.getByRole('dialog');
    await leave.getByText('No leave recorded.').waitFor();
    await leave.getByLabel('From (your zone)').fill(localInput(3, 8));
    await leave.getByLabel('To (your zone)').fill(localInput(5, 18));
    await leave.getByRole('textbox', { name: 'Note' }).fill('family');
    await leave.getByRole('button', { name: 'Add period' }).click();
    await leave.getByText(/Leave: .* \(family\)/).waitFor();
    assert.deepEqual(await world.axe(page), []);

    const { items } = await call(world, user, 'GET', '/responders?party=LT');
    const vida = items.find((r: any) => r.name === 'Vida');
    assert.equal(vida.base.city, 'Kaunas');
    assert.deepEqual(vida.skills, [{ skill: 'digital-forensics', level: 2 }]);
    assert.equal(vida.unavailability.length, 1);
    assert.equal(vida.unavailability[0].kind, 'leave');
    // 08:00 in the viewer's zone (Helsinki), stored in UTC.
    assert.equal(
      new Date(vida.unavailability[0].from).getTime(),
      DateTime.fromISO(localInput(3, 8), { zone: 'Europe/Helsinki' }).toMillis(),
    );
    world.assertClean();
  });

  it('the auditor filters by action and date, exports, and verifies the chain', async () => {
    const { page } = people['eu.auditor']!;
    await page.goto(`${world.base}/audit`);
    await page.getByTestId('audit-verify').getByText('The chain verifies').waitFor();
    // An open option list longer than its box scrolls with the arrow keys from the input: axe's
    // wish for a tab stop inside it is let through, whatever selector axe names it by.
    await page.getByRole('combobox', { name: 'Action', exact: true }).click();
    const optionList = page.getByRole('listbox').locator('[data-offset-scrollbars]');
    assert.ok(
      await optionList.evaluate((list) => list.scrollHeight > list.clientHeight),
      'the option list scrolls',
    );
    assert.deepEqual(await world.axe(page), []);
    await page.getByRole('option', { name: 'responder.create (2)', exact: true }).click();
    await page.getByLabel(/^From \(/).fill(localInput(-1, 0));
    const log = page.getByTestId('audit-log');
    await log.getByText("lt.poc (LT) registered responder 'Vida'").waitFor();
    const rows = log.getByRole('row');
    assert.equal(await rows.count(), 3, 'the header and the two registrations');
    await log.getByText("ee.poc (EE) registered responder 'Kati'").waitFor();
    assert.deepEqual(await world.axe(page), []);
    await shot(page, 'audit-filtered');

    const href = await page.getByTestId('audit-export-csv').getAttribute('href');
    assert.ok(href?.includes('action=responder.create') && href.includes('since='), href ?? '');
    const exported = await page.request.get(world.base + href);
    assert.equal(exported.status(), 200);
    const csv = parse(await exported.text(), { columns: true }) as Record<string, string>[];
    assert.deepEqual(
      csv.map((r) => r.action),
      ['responder.create', 'responder.create'],
    );
    assert.deepEqual(
      csv.map((r) => r.actor),
      ['ee.poc', 'lt.poc'],
    );

    await page.getByRole('button', { name: 'Verify the chain again' }).click();
    await page.getByTestId('audit-verify').getByText('The chain verifies').waitFor();
    world.assertClean();
  });
});
