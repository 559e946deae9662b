import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestUser } from '../../server/src/test/harness.ts';
import { requestBodyAroundNow, submitRequest, vote } from '../../server/src/test/requests.fixtures.ts';
import { BrowserWorld, call, confirmDialog, type Person, shot } from './browser.ts';

const MEMBERS = ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'] as const;
const ESTONIANS = ['Mari Tamm', 'Kadri Kask', 'Liis Lepp'];

/**
 * The deployment page as its people use it: the home PoC releases and declines (with a reason),
 * each through a confirmation that says what happens; the host accepts; a PoC of another party is
 * offered nothing; the pass prints on one page and the verify page says valid, then revoked.
 */
describe('deployment actions in a browser: confirmed, from the node’s `can`', () => {
  const world = new BrowserWorld();
  let eePoc: Person;
  let ltPoc: Person;
  let hrPoc: Person;
  let coordinator: TestUser;
  let requestId = '';
  let deploymentId = '';

  before(async () => {
    await world.start();
    const council: Record<string, TestUser> = {};
    for (const party of MEMBERS) {
      council[party] = await world.node.user(`${party.toLowerCase()}.council`, party, ['council']);
    }
    coordinator = await world.node.user('duty.officer.api', 'PL', ['coordinator']);
    const eeApi = await world.node.user('ee.poc.api', 'EE', ['poc']);
    const ltApi = await world.node.user('lt.poc.api', 'LT', ['poc']);
    for (const name of ESTONIANS) {
      await call(world, eeApi, 'POST', '/responders', {
        party: 'EE',
        name,
        affiliation: 'civilian',
        skills: [{ skill: 'digital-forensics', level: 3 }],
        languages: ['en'],
        clearance: 'confidential',
        base: { country: 'EE', city: 'Tallinn', lat: 59.44, lon: 24.75, timeZone: 'Europe/Tallinn' },
        readiness: { remoteHours: 2, onsiteHours: 12 },
        travelDocumentsUntil: '2030-01-01',
      });
    }
    const request = await submitRequest(world.node, ltApi, { window: requestBodyAroundNow().window });
    requestId = request.id;
    for (const party of request.council.electorate) {
      const res = await vote(world.node, council[party]!, request.id, 'activate');
      if (res.json().status !== 'voting') break;
    }
    const proposal = await call(world, coordinator, 'POST', `/requests/${requestId}/team-proposals`);
    const deployment = await call(
      world,
      coordinator,
      'POST',
      `/requests/${requestId}/team-proposals/${proposal.id}/adopt`,
    );
    deploymentId = deployment.id;
    const people = await world.people([
      ['ee.poc', 'EE', ['poc']],
      ['lt.poc', 'LT', ['poc']],
      ['hr.poc', 'HR', ['poc']],
    ]);
    eePoc = people['ee.poc']!;
    ltPoc = people['lt.poc']!;
    hrPoc = people['hr.poc']!;
  });
  after(() => world.stop());

  const members = async () =>
    (await call(world, coordinator, 'GET', `/deployments/${deploymentId}`)).members as {
      responderId: string;
      name: string;
      status: string;
    }[];

  it('the home PoC releases with a confirmation saying to whom and for what; a decline needs a reason, kept on the deployment', async () => {
    const { page } = eePoc;
    await page.goto(`${world.base}/deployments/${deploymentId}`);
    await page.getByTestId('members').waitFor();
    const [first, second] = (await members()).filter((m) => m.status === 'pending');
    assert.ok(first && second, 'two Estonians proposed');

    await page.getByRole('button', { name: `Release ${first.name}` }).click();
    const dialog = page.getByRole('dialog');
    await dialog
      .getByText(
        new RegExp(
          `EE releases ${first.name} to work on LT's incident from .+; LT must then accept the team`,
        ),
      )
      .waitFor();
    await shot(page, 'deployment-release-confirm');
    await confirmDialog(page);
    await page
      .getByTestId('members')
      .getByRole('row')
      .filter({ hasText: first.name })
      .getByText('released', { exact: true })
      .waitFor();

    // A decline without a reason is refused in the dialog; with one, it goes through.
    await page.getByRole('button', { name: `Decline ${second.name}` }).click();
    await page.getByRole('dialog').getByTestId('confirm-action').click();
    await page
      .getByRole('dialog')
      .getByText(/is required/)
      .waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing in the decline dialog');
    await confirmDialog(page, { reason: 'Needed for the national exercise that week' });
    await page
      .getByTestId('members')
      .getByRole('row')
      .filter({ hasText: second.name })
      .getByText('declined', { exact: true })
      .waitFor();

    // The re-solve brought the third Estonian: released too.
    const third = (await members()).find((m) => m.status === 'pending');
    assert.ok(third, 'the decline was solved again with someone new');
    await page.getByRole('button', { name: `Release ${third.name}` }).click();
    await confirmDialog(page);
    await page.getByTestId('deployment-status').filter({ hasText: 'Released' }).waitFor();

    // The reason is the home state's word about its own person: beside the member, for those who see
    // the member in full, and not on the request's timeline (which the host and others read).
    await page.getByTestId('members').getByText('Needed for the national exercise that week').waitFor();
    await page.goto(`${world.base}/requests/${requestId}`);
    await page.getByTestId('request-title').waitFor();
    assert.equal(await page.getByText('Needed for the national exercise that week').count(), 0);
    await shot(page, 'deployment-decline-reason');
    world.assertClean();
  });

  it('a PoC of another party sees the deployment but no button', async () => {
    const { page } = hrPoc;
    world.allow(/^GET \/api\/v1\/deployments\/[0-9a-f-]+ 404$/);
    await page.goto(`${world.base}/deployments/${deploymentId}`);
    await page.locator('main').getByRole('heading').first().waitFor();
    assert.equal(
      await page
        .locator('main')
        .getByRole('button', { name: /Release|Decline|Accept|Revoke|Stand/ })
        .count(),
      0,
    );
  });

  it('the host accepts the team through a confirmation', async () => {
    const { page } = ltPoc;
    await page.goto(`${world.base}/deployments/${deploymentId}`);
    await page
      .getByRole('textbox', { name: 'System and premises access granted' })
      .fill('SOC network, escorted');
    await page.getByRole('textbox', { name: 'SHA-256 of the liability agreement' }).fill('ab'.repeat(32));
    await page.getByRole('button', { name: 'Accept the team' }).click();
    await page
      .getByRole('dialog')
      .getByText(/LT accepts the team of 2/)
      .waitFor();
    await confirmDialog(page);
    await page.getByTestId('deployment-status').filter({ hasText: 'Accepted' }).waitFor();
    await shot(page, 'deployment-accepted-confirmed');
    world.assertClean();
  });

  it('the pass prints on one page, verifies as valid, and as revoked once revoked', async () => {
    const { page } = eePoc;
    await page.goto(`${world.base}/deployments/${deploymentId}`);
    await page.getByRole('link', { name: 'Pass', exact: true }).first().click();
    await page.getByTestId('pass-qr').waitFor();
    await page.getByRole('button', { name: 'Print' }).waitFor();
    const token = ((await page.getByTestId('pass-token').textContent()) ?? '').trim();
    assert.match(token, /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('.mantine-AppShell-navbar').isVisible(), false, 'no navigation on paper');
    assert.equal(await page.getByRole('button', { name: 'Print' }).isVisible(), false, 'no buttons on paper');
    const pdf = await page.pdf({ format: 'A4' });
    const pages = pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g)?.length ?? 0;
    assert.equal(pages, 1, 'the pass prints on one A4 page');
    await shot(page, 'pass-print');
    await page.emulateMedia({ media: 'screen' });

    // The mission has begun: the host checks the pass at the door.
    // A day on, the sessions of the day before have ended: the host logs in afresh at the door.
    await ltPoc.context.close();
    await eePoc.context.close();
    await hrPoc.context.close();
    world.node.clock.advance(25 * 3_600_000);
    const host = (await world.person('lt.door', 'LT', ['poc'])).page;
    const home = (await world.person('ee.desk', 'EE', ['poc'])).page;
    await host.goto(`${world.base}/passes/verify`);
    await host.getByRole('textbox', { name: 'The pass' }).fill(token);
    await host.getByRole('button', { name: 'Verify' }).click();
    await host.getByTestId('pass-verdict').and(host.locator('[data-verdict="valid"]')).waitFor();
    await shot(host, 'pass-verify-valid');

    await home.goto(`${world.base}/deployments/${deploymentId}`);
    await home
      .getByRole('button', { name: /^Revoke pass of / })
      .first()
      .click();
    await confirmDialog(home, { reason: 'Badge lost at the airport' });
    await host.getByRole('button', { name: 'Verify' }).click();
    await host.locator('[data-verdict="revoked"]').waitFor();
    await shot(host, 'pass-verify-revoked');
    world.assertClean();
  });
});
