import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { totpCode } from '../../server/src/test/totp.ts';
import { BrowserWorld, PASSWORD, type Person, shot } from './browser.ts';

describe('accounts in a browser: containing a user, and a second factor', () => {
  const world = new BrowserWorld();
  let admin: Person;
  let victim: Person;

  before(async () => {
    await world.start();
    const people = await world.people([
      ['lt.admin', 'LT', ['admin']],
      ['pl.victim', 'PL', ['analyst']],
    ]);
    admin = people['lt.admin']!;
    victim = people['pl.victim']!;
  });
  after(() => world.stop());

  it("an admin disables a user from the Users page; the user's open session is refused on their next action", async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('button', { name: 'Disable pl.victim' }).click();
    const dialog = page.getByRole('dialog', { name: 'Disable pl.victim?' });
    await dialog.waitFor();
    await dialog.getByRole('textbox', { name: 'Reason (kept in the audit log)' }).fill('phished');
    await shot(page, 'users-disable');
    await dialog.getByRole('button', { name: 'Disable', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'pl.victim is disabled' }).waitFor();
    await page.getByTestId('user-pl.victim').getByText('disabled').waitFor();
    await page.getByRole('button', { name: 'Enable pl.victim' }).waitFor();

    // The victim's tab is still open; whatever they do next is refused and they are back at the login.
    world.allow(/^GET \/api\/v1\/\S+ 401$/);
    await victim.page.getByRole('link', { name: 'Cases' }).click();
    await victim.page.getByRole('button', { name: 'Log in' }).waitFor();
    await victim.page.getByLabel('Name').fill('pl.victim');
    await victim.page.getByRole('textbox', { name: 'Password' }).fill(PASSWORD);
    world.allow(/^POST \/api\/v1\/session 401$/);
    await victim.page.getByRole('button', { name: 'Log in' }).click();
    // A refused login costs a scrypt at OWASP's cost too (on purpose): slow on a busy machine.
    await victim.page
      .getByRole('alert')
      .filter({ hasText: 'wrong user name or password' })
      .waitFor({ timeout: 90_000 });
    world.assertClean();
  });

  it('a user enrols an authenticator app, sees the recovery codes once, and logs in with a code', async () => {
    const careful = await world.person('ee.careful', 'EE', ['analyst']);
    const { page } = careful;
    await page.getByRole('link', { name: 'My account' }).click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await page.getByLabel('Your password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await page.getByRole('img', { name: 'QR code of your authenticator secret' }).waitFor();
    const secret = (await page.getByTestId('mfa-secret').textContent())!.trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await page
      .getByRole('textbox', { name: 'Code from the app' })
      .fill(totpCode(secret, world.node.clock.now()));
    await page.getByRole('button', { name: 'Turn on' }).click();
    const codes = page.getByTestId('recovery-codes').getByRole('listitem');
    await codes.first().waitFor();
    assert.equal(await codes.count(), 10);
    await shot(page, 'account-recovery-codes');
    await page.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByText('of your recovery codes are left').waitFor();
    assert.equal(await page.getByTestId('recovery-codes').count(), 0, 'shown once');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Name').fill('ee.careful');
    await page.getByRole('textbox', { name: 'Password' }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    const code = page.getByRole('textbox', { name: 'Authentication code' });
    await code.waitFor({ timeout: 90_000 });
    assert.equal(await code.evaluate((el) => el === document.activeElement), true, 'focus moves to the code');
    world.allow(/^POST \/api\/v1\/session\/mfa 401$/);
    await code.fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'the code was not accepted' }).waitFor();
    // The code of the enrolment is used up; the next step's code opens the session.
    world.node.clock.advance(30_000);
    await code.fill(totpCode(secret, world.node.clock.now()));
    await shot(page, 'login-code');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByTestId('whoami').filter({ hasText: 'ee.careful' }).waitFor();
    world.assertClean();
  });
});
