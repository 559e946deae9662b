import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { sampleRoster } from '../../server/src/cli/demo-roster.ts';
import type { TestUser } from '../../server/src/test/harness.ts';
import { requestBody } from '../../server/src/test/requests.fixtures.ts';
import { BrowserWorld, call, confirmDialog, type Person, shot } from './browser.ts';

/** Picks an option of a Mantine Select by its label. */
async function pick(page: Page, label: string, option: string) {
  await page.getByRole('combobox', { name: label, exact: true }).click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

/** Opens the request and, from it, its deployment (as anyone who may see the deployment does). */
async function openDeployment(page: Page, requestUrl: string) {
  await page.goto(requestUrl);
  await page.getByRole('link', { name: 'Open the deployment' }).click();
  await page.getByTestId('members').waitFor();
}

describe('the core loop in a browser: request, council, team, release, acceptance, pass', () => {
  const world = new BrowserWorld();
  const api: Record<string, TestUser> = {};
  let ltPoc: Person;
  let people: Record<string, Person>;
  let requestUrl = '';
  let deploymentUrl = '';
  let coordinatorUser: TestUser;

  before(async () => {
    await world.start();
    for (const party of ['PL', 'EE', 'HR', 'NL', 'RO']) {
      api[`${party}.poc`] = await world.node.user(`${party.toLowerCase()}.poc.api`, party, ['poc']);
    }
    api['HR.council'] = await world.node.user('hr.council', 'HR', ['council']);
    // The standby roster: people of Poland and Estonia only, so their two PoCs release the team.
    for (const person of sampleRoster(60).filter((p) => p.party === 'PL' || p.party === 'EE')) {
      await call(world, api[`${person.party}.poc`]!, 'POST', '/responders', person);
    }
    // Estonia's weekly duty rotation, so the roster shows who is on duty.
    const estonians = await call(world, api['EE.poc']!, 'GET', '/responders?party=EE&limit=3');
    await call(world, api['EE.poc']!, 'POST', '/rotations', {
      name: 'EE weekly standby',
      timeZone: 'Europe/Tallinn',
      startsOn: new Date(Date.now() - 14 * 86400_000).toISOString().slice(0, 10),
      shiftStart: '08:00',
      shiftDays: 7,
      shiftHours: 168,
      responderIds: (estonians.items as { id: string }[]).map((r) => r.id),
    });
    people = await world.people([
      ['lt.poc', 'LT', ['poc']],
      ['lt.council', 'LT', ['council']],
      ['ee.council', 'EE', ['council']],
      ['pl.council', 'PL', ['council']],
      ['duty.officer', 'LT', ['coordinator', 'auditor']],
      ['pl.poc', 'PL', ['poc']],
      ['ee.poc', 'EE', ['poc']],
    ]);
    ltPoc = people['lt.poc']!;
  });
  after(() => world.stop());

  it('an LT PoC files a request with the wizard: field-level errors first, then a draft, then submits it', async () => {
    const { page } = ltPoc;
    await page.getByRole('link', { name: 'New request' }).click();
    await page.getByRole('heading', { name: 'New assistance request' }).waitFor();
    // Going on from an empty step: each missing field says so, at the field itself.
    await page.getByRole('button', { name: 'Next' }).click();
    const title = page.getByRole('textbox', { name: 'Title' });
    assert.equal(await title.getAttribute('aria-invalid'), 'true', 'the title field is marked invalid');
    await shot(page, 'wizard-errors');

    await title.fill('Ransomware at the Lithuanian grid operator');
    await page.getByRole('textbox', { name: 'Affected entity' }).fill('LITGRID control centre');
    await pick(page, 'Sector (NIS2)', 'Energy');
    await pick(page, 'Incident class (RSIT)', 'Malicious Code');
    await pick(page, 'Incident type (RSIT)', 'Infected System');
    await pick(page, 'Severity', 'Critical');
    await pick(page, 'Likely impact', 'Severe');
    // GREEN, so the PoCs of the states whose people go (not on the council) see the request and
    // reach the deployment from it; an AMBER one stays with its party, the council and coordinators.
    await pick(page, 'TLP', 'TLP:GREEN');
    await page
      .getByRole('textbox', { name: 'Likely impact, described' })
      .fill('SCADA servers **encrypted**; see https://example.org/advisory');
    await page.getByRole('button', { name: 'Next' }).click();
    await page
      .getByRole('textbox', { name: 'What help is needed, and for what' })
      .fill('Forensics and malware analysis on site.');
    await pick(page, 'Skill 1', 'Digital forensics');
    await page.getByRole('button', { name: 'Add a skill' }).click();
    await pick(page, 'Skill 2', 'Malware analysis');
    await page.getByRole('textbox', { name: 'City' }).fill('Vilnius');
    await page.getByRole('button', { name: 'Next' }).click();
    await page
      .getByRole('textbox', { name: 'What was already done to limit the damage' })
      .fill('Segments isolated.');
    await page
      .getByRole('textbox', { name: 'Other help available (contracts, insurance, other teams)' })
      .fill('None contracted.');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page
      .getByTestId('request-title')
      .filter({ hasText: 'Ransomware at the Lithuanian grid operator' })
      .waitFor();
    requestUrl = page.url();
    assert.match(requestUrl, /\/requests\/[0-9a-f-]{36}$/);
    await page.getByRole('button', { name: 'Submit to the force' }).click();
    await confirmDialog(page);
    await page.getByText('Voting', { exact: true }).first().waitFor();
    await page.getByText('Eligible — the council decides by majority').waitFor();
    await shot(page, 'request-voting');
  });

  it('council members of several states vote from the request page; the decision shows live', async () => {
    for (const party of ['LT', 'EE', 'PL']) {
      const member = people[`${party.toLowerCase()}.council`]!;
      await member.page.goto(requestUrl);
      await member.page.getByText(`${party}'s vote`).waitFor();
      await member.page.getByRole('button', { name: 'Cast vote' }).click();
      await confirmDialog(member.page, { reason: `${party} supports activation` });
      await member.page.getByTestId('votes').getByText(`${party} supports activation`).waitFor();
      if (party === 'PL') await shot(member.page, 'request-council-vote');
      await member.context.close();
    }
    // The fourth member's vote (over the API) makes a majority of six: the LT PoC's open page
    // learns it from the live event stream, without a reload.
    await call(world, api['HR.council']!, 'POST', `/requests/${requestUrl.split('/').pop()}/votes`, {
      vote: 'activate',
    });
    await ltPoc.page.getByText('Decision: Activated').waitFor();
    await ltPoc.page.getByText('Activated', { exact: true }).first().waitFor();
  });

  it('the coordinator proposes the explained team and adopts it', async () => {
    const coordinator = people['duty.officer']!;
    coordinatorUser = coordinator.user;
    const { page } = coordinator;
    await page.goto(requestUrl);
    await page.getByRole('button', { name: 'Propose a team' }).click();
    const proposal = page.getByTestId('proposal');
    await proposal.getByText('covers every need').waitFor();
    await proposal.getByText('Nearest not chosen').waitFor();
    await shot(page, 'team-proposal');
    await page.getByRole('button', { name: 'Adopt this team' }).click();
    await page.getByRole('heading', { name: 'Team deployment' }).waitFor();
    deploymentUrl = page.url();
    assert.match(deploymentUrl, /\/deployments\/[0-9a-f-]{36}$/);
  });

  it('each home PoC releases its people from the request page, the host accepts, and the pass opens as a QR code', async () => {
    // Which states' people are on the team (the scene is read over the API; the people below
    // find the deployment in the app, from the request page).
    const deployment = await call(
      world,
      coordinatorUser,
      'GET',
      `/deployments/${deploymentUrl.split('/').pop()}`,
    );
    const members = deployment.members as { responderId: string; name: string; party: string }[];
    const homes = [...new Set(members.map((m) => m.party))].sort();
    assert.ok(homes.length >= 1);
    let homePoc: Person | undefined;
    let homeParty = '';
    for (const party of homes) {
      const poc = people[`${party.toLowerCase()}.poc`]!;
      await openDeployment(poc.page, requestUrl);
      assert.equal(poc.page.url(), deploymentUrl, `${party}'s PoC reaches the deployment from the request`);
      const release = poc.page.getByRole('button', { name: /^Release / });
      while ((await release.count()) > 0) {
        const before = await release.count();
        await release.first().click();
        await confirmDialog(poc.page);
        await poc.page.waitForFunction(
          (n) => document.querySelectorAll('button[aria-label^="Release "]').length < n,
          before,
        );
      }
      if (!homePoc) {
        homePoc = poc;
        homeParty = party;
      }
    }
    await openDeployment(ltPoc.page, requestUrl);
    await ltPoc.page.getByTestId('deployment-status').filter({ hasText: 'Released' }).waitFor();
    await ltPoc.page
      .getByRole('textbox', { name: 'System and premises access granted' })
      .fill('SOC network, server room B');
    await ltPoc.page
      .getByRole('textbox', { name: 'SHA-256 of the liability agreement' })
      .fill('ab'.repeat(32));
    await ltPoc.page.getByRole('button', { name: 'Accept the team' }).click();
    await confirmDialog(ltPoc.page);
    await ltPoc.page.getByTestId('deployment-status').filter({ hasText: 'Accepted' }).waitFor();
    await shot(ltPoc.page, 'deployment-accepted');

    // The responder's pass, as their home PoC hands it over: a QR code and the signed token.
    const { page } = homePoc!;
    await page.reload();
    await page.getByRole('link', { name: 'Pass', exact: true }).first().click();
    await page.getByTestId('pass-qr').waitFor();
    const token = await page.getByTestId('pass-token').textContent();
    assert.match(token ?? '', /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    await shot(page, 'responder-pass');
    await ltPoc.page.goto(requestUrl);
    await ltPoc.page.getByText('Deployed', { exact: true }).first().waitFor();
    await shot(ltPoc.page, 'request-deployed');

    // The home PoC links one of their released people to the user who is that person, on the roster.
    const party = homeParty;
    const holder = members.find((m) => m.party === party)!;
    const responderName = `${party.toLowerCase()}.responder`;
    const responder = await world.person(responderName, party, ['responder']);
    await page.getByRole('link', { name: 'Roster' }).click();
    const userSelect = page.getByRole('combobox', { name: `User of ${holder.name}`, exact: true });
    await userSelect.click();
    await page.getByRole('option', { name: responderName, exact: true }).click();
    await page.waitForFunction(
      ([label, value]) =>
        (document.querySelector(`input[aria-label="${label}"]`) as HTMLInputElement | null)?.value ===
          value && !(document.querySelector(`input[aria-label="${label}"]`) as HTMLInputElement).disabled,
      [`User of ${holder.name}`, responderName] as const,
    );
    const linked = await call(world, api[`${party}.poc`]!, 'GET', `/responders/${holder.responderId}`);
    assert.equal(linked.userId, responder.user.id, 'the responder record is linked to the user');
    await shot(page, 'roster-linked');

    // The responder, in their own browser, finds the deployment under "My deployments" and opens
    // their own pass with one click.
    const me = responder.page;
    await me.getByRole('link', { name: 'My deployments' }).click();
    const card = me.getByTestId('my-deployment');
    await card.getByText(`You: ${holder.name}`).waitFor();
    assert.equal(await card.count(), 1);
    await shot(me, 'my-deployments');
    await card.getByRole('link', { name: 'Open my pass' }).click();
    await me.getByRole('heading', { name: `Your responder pass: ${holder.name} (${party})` }).waitFor();
    await me.getByTestId('pass-qr').waitFor();
    const own = await me.getByTestId('pass-token').textContent();
    assert.match(own ?? '', /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    await shot(me, 'my-pass');
  });

  it('the situation page, the board, the roster and the audit log show it all', async () => {
    const { page } = ltPoc;
    await page.getByRole('link', { name: /^My work/ }).click();
    await page.locator('[data-party="LT"]').waitFor();
    await page.locator('[data-marker="deployment"]').first().waitFor();
    await shot(page, 'home');
    await page.getByRole('link', { name: 'Requests', exact: true }).click();
    await page
      .getByTestId('requests-board')
      .getByText('Ransomware at the Lithuanian grid operator')
      .waitFor();
    await shot(page, 'requests-board');
    const coordinator = people['duty.officer']!;
    await coordinator.page.getByRole('link', { name: 'Roster' }).click();
    await coordinator.page.getByTestId('responders').locator('tbody tr').first().waitFor();
    await shot(coordinator.page, 'roster');
    const auditor = coordinator;
    await auditor.page.getByRole('link', { name: 'Audit' }).click();
    await auditor.page.getByTestId('audit-verify').filter({ hasText: 'The chain verifies' }).waitFor();
    await auditor.page.getByTestId('audit-log').getByText('request.submitted').first().waitFor();
    await shot(auditor.page, 'audit');
    // On a tablet (portrait): the menu folds into a burger, the pages stack.
    await page.setViewportSize({ width: 820, height: 1180 });
    await page.goto(requestUrl);
    await page.getByTestId('request-title').waitFor();
    await shot(page, 'tablet-request');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: /^My work/ }).click();
    await page.locator('[data-marker="deployment"]').first().waitFor();
    await shot(page, 'tablet-home');
    // A fresh page: the keyboard meets the skip link first, then the menu.
    await page.reload();
    await page.locator('[data-party="LT"]').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');

    // No demo data on this node: no banner. Once a request titled `[demo]` is there, the banner
    // shows on every page, even one that reads no request (the roster).
    assert.equal(await page.getByTestId('demo-banner').count(), 0, 'no demo banner without demo data');
    const window = {
      from: new Date(Date.now() + 3600_000).toISOString(),
      to: new Date(Date.now() + 86400_000).toISOString(),
    };
    await call(
      world,
      api['PL.poc']!,
      'POST',
      '/requests',
      requestBody({ title: '[demo] DDoS on a test bench', tlp: 'green', window }),
    );
    const pl = people['pl.poc']!.page;
    await pl.goto(`${world.base}/roster`);
    await pl.getByTestId('responders').waitFor();
    await pl.getByTestId('demo-banner').filter({ hasText: 'Demo data — not real incidents' }).waitFor();
    await pl.getByRole('link', { name: 'Cases' }).click();
    await pl.getByTestId('demo-banner').waitFor();
    await shot(pl, 'demo-banner');
    world.assertClean();
  });
});
