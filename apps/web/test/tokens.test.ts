import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BrowserWorld, type Person, shot } from './browser.ts';

const LABEL = 'OpenCTI at the SOC';

describe('API tokens on the account page: issued, shown once, used, revoked', () => {
  const world = new BrowserWorld();
  let analyst: Person;

  /** What a TAXII client sees with this token: the collections resource's status. */
  const taxiiWith = async (token: string) =>
    (
      await fetch(`${world.base}/taxii2/api/collections/`, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/taxii+json;version=2.1' },
      })
    ).status;

  before(async () => {
    await world.start();
    analyst = await world.person('pl.tooling', 'PL', ['analyst']);
  });
  after(() => world.stop());

  it('a user issues a token, sees it once, a tool uses it, the user revokes it and the tool is refused', async () => {
    const { page } = analyst;
    await page.getByRole('navigation').getByRole('link', { name: 'My account' }).click();
    await page.getByRole('heading', { name: 'API tokens', level: 2 }).waitFor();
    await page.getByTestId('api-tokens').waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the account page');

    const issueButton = page.getByRole('button', { name: 'Issue a token' });
    assert.equal(await issueButton.isDisabled(), true, 'a label is required');
    await page.getByRole('textbox', { name: 'Label' }).fill(LABEL);
    await page.getByRole('textbox', { name: 'Expires in (days)' }).fill('30');
    await issueButton.click();

    const field = page.getByTestId('issued-token');
    await field.waitFor();
    const secret = await field.inputValue();
    assert.match(secret, /^vyt/, 'the secret itself');
    await page.getByRole('status').filter({ hasText: 'This is the only time' }).waitFor();
    await page.getByRole('button', { name: 'Copy the new API token' }).waitFor();
    assert.equal(
      await page.getByRole('link', { name: 'TAXII: connect your tools' }).getAttribute('href'),
      '/taxii',
    );
    assert.ok(
      (await page.getByText('as the password, with your user name').textContent())?.includes('pl.tooling'),
    );
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing with the secret shown');
    await shot(page, 'account-token-issued');

    // The list shows it, without its secret, expiring in the 30 days asked for.
    const row = page.getByTestId('api-tokens').getByRole('row').filter({ hasText: LABEL });
    await row.waitFor();
    const issued = (
      await world.node.request({ method: 'GET', url: '/api/v1/tokens', headers: analyst.user.headers })
    ).json() as { items: { label: string | null; expiresAt: string; createdAt: string }[] };
    const info = issued.items.find((t) => t.label === LABEL);
    assert.ok(info, 'the API lists it');
    assert.equal(Date.parse(info.expiresAt) - Date.parse(info.createdAt), 30 * 86_400_000);
    assert.match((await row.textContent()) ?? '', /never/, 'not used yet');

    // A tool uses it: as a bearer token, and as TAXII's Basic password with the user name.
    assert.equal(await taxiiWith(secret), 200);
    const basic = await fetch(`${world.base}/taxii2/api/collections/`, {
      headers: {
        authorization: `Basic ${Buffer.from(`pl.tooling:${secret}`).toString('base64')}`,
        accept: 'application/taxii+json;version=2.1',
      },
    });
    assert.equal(basic.status, 200);

    await page.getByRole('button', { name: 'I have copied it' }).click();
    await field.waitFor({ state: 'detached' });
    assert.ok(!(await page.content()).includes(secret), 'gone once dismissed');

    // After a reload: never the secret again; the list says when the tool last used it.
    await page.reload();
    await row.waitFor();
    assert.ok(!(await page.content()).includes(secret), 'not shown after a reload');
    assert.equal(await field.count(), 0);
    assert.doesNotMatch((await row.textContent()) ?? '', /never/, 'the last use is shown');

    // Revoked with a confirmation; the tool is refused from then on.
    await row.getByRole('button', { name: `Revoke the token “${LABEL}”` }).click();
    const dialog = page.getByRole('dialog', { name: `Revoke the token “${LABEL}”?` });
    await dialog.waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the confirmation');
    await shot(page, 'account-token-revoke');
    await dialog.getByRole('button', { name: 'Revoke', exact: true }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `The token “${LABEL}” is revoked` })
      .waitFor();
    await dialog.waitFor({ state: 'detached' });
    await row.getByText('revoked', { exact: true }).waitFor();
    assert.equal(await row.getByRole('button', { name: /Revoke/ }).count(), 0, 'nothing left to revoke');
    assert.equal(await taxiiWith(secret), 401);

    await page.reload();
    await row.getByText('revoked', { exact: true }).waitFor();
    assert.ok(!(await page.content()).includes(secret), 'still never shown again');
    world.assertClean();
  });

  it('a refused issue shows the API’s reason on the form', async () => {
    const { page } = analyst;
    await page.goto(`${world.base}/account`);
    await page.getByRole('heading', { name: 'API tokens', level: 2 }).waitFor();
    // Two hundred characters is the API's limit; the browser would stop typing there, the API says so too.
    const label = page.getByRole('textbox', { name: 'Label' });
    await label.evaluate((el) => el.removeAttribute('maxlength'));
    await label.fill('x'.repeat(201));
    world.allow(/^POST \/api\/v1\/tokens 400$/);
    await page.getByRole('button', { name: 'Issue a token' }).click();
    await page.getByText('must not have more than 200 characters').waitFor();
    assert.equal(await page.getByTestId('issued-token').count(), 0);
    world.assertClean();
  });
});
