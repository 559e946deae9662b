import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestUser } from '../../server/src/test/harness.ts';
import { requestBodyAroundNow } from '../../server/src/test/requests.fixtures.ts';
import { BrowserWorld, call, type Person, shot } from './browser.ts';

describe('notifications: the unread count in the navigation, the list, mark read, the choices saved', () => {
  const world = new BrowserWorld();
  let council: Person;
  let poc: TestUser;

  const submit = async (title: string) => {
    const draft = await call(world, poc, 'POST', '/requests', requestBodyAroundNow({ title }));
    return call(world, poc, 'POST', `/requests/${draft.id}/submit`);
  };

  before(async () => {
    await world.start();
    poc = await world.node.user('lt.poc', 'LT', ['poc']);
    council = await world.person('ee.council', 'EE', ['council']);
  });
  after(() => world.stop());

  it('a council member sees a vote arrive live, reads it, marks it read', async () => {
    const { page } = council;
    const badge = page.getByTestId('nav-count-unread');
    assert.equal(await badge.count(), 0, 'nothing unread at first');

    const request = await submit('Wiper malware at the port authority');
    assert.equal(request.status, 'voting');
    // The live stream brings the event; the count follows without a reload.
    await badge.filter({ hasText: '1' }).waitFor();
    assert.equal(await badge.getAttribute('aria-label'), '1 unread');

    await page
      .getByRole('navigation')
      .getByRole('link', { name: /^Notifications/ })
      .click();
    await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
    const list = page.getByTestId('notifications');
    const item = list.getByRole('listitem').filter({ hasText: 'Wiper malware at the port authority' });
    await item.waitFor();
    assert.match((await item.textContent()) ?? '', /Unread/);
    assert.equal(
      await item.getByRole('link').getAttribute('href'),
      `/requests/${request.id}`,
      'it links to the request',
    );
    await page.getByRole('heading', { name: '1 unread', level: 2 }).waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the notifications page');
    await shot(page, 'notifications-unread');

    await item.getByRole('button', { name: /^Mark read: / }).click();
    await page.getByRole('heading', { name: 'All read', level: 2 }).waitFor();
    await badge.waitFor({ state: 'detached' });
    assert.doesNotMatch((await item.textContent()) ?? '', /Unread/);

    // Another vote appears on the open page as it happens; "mark all read" clears both.
    await submit('DDoS on the tax authority');
    await list.getByRole('listitem').filter({ hasText: 'DDoS on the tax authority' }).waitFor();
    await badge.filter({ hasText: '1' }).waitFor();
    await page.getByRole('button', { name: 'Mark all read' }).click();
    await page.getByRole('heading', { name: 'All read', level: 2 }).waitFor();
    await badge.waitFor({ state: 'detached' });
    const api = await call(world, council.user, 'GET', '/me/notifications');
    assert.equal(api.unreadCount, 0);
    assert.equal(api.items.length, 2);

    // Following the link opens the request.
    await list.getByRole('link', { name: /Wiper malware/ }).click();
    await page.waitForURL(`**/requests/${request.id}`);
    world.assertClean();
  });

  it('saves the choices: an address, and no e-mail for votes', async () => {
    const { page } = council;
    await page
      .getByRole('navigation')
      .getByRole('link', { name: /^Notifications/ })
      .click();
    const table = page.getByTestId('notification-settings');
    await table.waitFor();
    const voteByMail = page.getByRole('switch', {
      name: "A council vote for your party's seat opens: by e-mail",
    });
    assert.equal(await voteByMail.isChecked(), true, 'votes are mailed by default');

    world.allow(/^PUT \/api\/v1\/me\/notification-settings 400$/);
    const address = page.getByRole('textbox', { name: 'E-mail address' });
    await address.fill('not an address');
    await page.getByRole('button', { name: 'Save choices' }).click();
    await page.getByText('Enter an e-mail address such as').waitFor();

    await address.fill('council@mfa.example.ee');
    await voteByMail.click({ force: true });
    assert.equal(await voteByMail.isChecked(), false);
    await page.getByRole('button', { name: 'Save choices' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the settings');

    const saved = await call(world, council.user, 'GET', '/me/notification-settings');
    assert.equal(saved.email, 'council@mfa.example.ee');
    const vote = saved.kinds.find((k: { kind: string }) => k.kind === 'vote.opened');
    assert.deepEqual({ inApp: vote.inApp, email: vote.email }, { inApp: true, email: false });

    // Kept after a reload.
    await page.reload();
    await table.waitFor();
    assert.equal(await address.inputValue(), 'council@mfa.example.ee');
    assert.equal(await voteByMail.isChecked(), false);
    await shot(page, 'notifications-settings');
    world.assertClean();
  });
  it('shows the newest fifty, and older ones a page at a time', async () => {
    const { page } = council;
    for (let n = 1; n <= 50; n++) await submit(`Phishing wave ${n}`);
    await page.goto(`${world.base}/notifications`);
    const list = page.getByTestId('notifications');
    await list.getByRole('listitem').filter({ hasText: 'Phishing wave 50' }).waitFor();
    assert.equal(await list.getByRole('listitem').count(), 50, 'one page');
    assert.equal(
      await list.getByText('Wiper malware at the port authority').count(),
      0,
      'the oldest is not on it',
    );
    await page.getByRole('button', { name: 'Older notifications' }).click();
    await list.getByText('Wiper malware at the port authority').waitFor();
    assert.equal(await list.getByRole('listitem').count(), 52);
    assert.equal(await page.getByRole('button', { name: 'Older notifications' }).count(), 0, 'nothing older');
    world.assertClean();
  });
});
