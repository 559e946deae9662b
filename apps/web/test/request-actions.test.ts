import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestUser } from '../../server/src/test/harness.ts';
import { fileRequest, requestBodyAroundNow, submitRequest } from '../../server/src/test/requests.fixtures.ts';
import { BrowserWorld, call, confirmDialog, type Person, shot } from './browser.ts';

/**
 * The request page as each role meets it: only the acts the node offers this viewer (`can`), each
 * behind a confirmation; a vote to decline and a withdrawal go through only with a reason, which
 * the node keeps.
 */
describe('request actions in a browser: per role, confirmed, with reasons where the law wants them', () => {
  const world = new BrowserWorld();
  let ltPoc: Person;
  let eeCouncil: Person;
  let eePoc: Person;
  let ltApi: TestUser;
  let auditor: TestUser;
  let draftId = '';
  let votingId = '';
  let withdrawnId = '';

  before(async () => {
    await world.start();
    ltApi = await world.node.user('lt.poc.api', 'LT', ['poc']);
    auditor = await world.node.user('auditor.api', 'LT', ['auditor']);
    const window = requestBodyAroundNow().window;
    draftId = (await fileRequest(world.node, ltApi, { title: 'Draft: phishing wave', window })).json().id;
    // GREEN: every party's PoC may read it (an AMBER one would be absent for EE's PoC).
    votingId = (
      await submitRequest(world.node, ltApi, { title: 'Wiper at a water utility', tlp: 'green', window })
    ).id;
    withdrawnId = (await submitRequest(world.node, ltApi, { title: 'Ransomware at a port', window })).id;
    const people = await world.people([
      ['lt.poc', 'LT', ['poc']],
      ['ee.council', 'EE', ['council']],
      ['ee.poc', 'EE', ['poc']],
    ]);
    ltPoc = people['lt.poc']!;
    eeCouncil = people['ee.council']!;
    eePoc = people['ee.poc']!;
  });
  after(() => world.stop());

  const actionsOn = async (person: Person, id: string) => {
    await person.page.goto(`${world.base}/requests/${id}`);
    await person.page.locator('main h1').first().waitFor();
    const group = person.page.getByTestId('request-actions');
    await group.waitFor({ state: 'attached' });
    return (await group.getByRole('button').allInnerTexts()).concat(
      await group.getByRole('link').allInnerTexts(),
    );
  };

  it('offers each person only what the node lets them do', async () => {
    assert.deepEqual((await actionsOn(ltPoc, draftId)).sort(), [
      'Edit draft',
      'Submit to the force',
      'Withdraw',
    ]);
    assert.deepEqual(await actionsOn(ltPoc, votingId), ['Withdraw']);
    // A PoC of another party reads the request and is offered no act on it, nor a vote.
    assert.deepEqual(await actionsOn(eePoc, votingId), []);
    assert.equal(await eePoc.page.getByRole('button', { name: 'Cast vote' }).count(), 0);
    // A council member is offered the vote, and nothing of the requester's.
    assert.deepEqual(await actionsOn(eeCouncil, votingId), []);
    await eeCouncil.page.getByRole('button', { name: 'Cast vote' }).waitFor();
    await shot(eeCouncil.page, 'request-actions-council');
    world.assertClean();
  });

  it('a vote to decline asks for a comment and says for whom it counts; the vote shows with it', async () => {
    const { page } = eeCouncil;
    await page.goto(`${world.base}/requests/${votingId}`);
    await page
      .locator('label')
      .filter({ hasText: /^Decline$/ })
      .click();
    await page.getByRole('button', { name: 'Cast vote' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/EE's vote \(Decline\) on the request from LT/).waitFor();
    await world.axe(page);
    // Without a comment nothing is cast: the dialog stays and says what is missing.
    await dialog.getByTestId('confirm-action').click();
    await dialog.getByText('Comment is required').waitFor();
    let votes = (await call(world, ltApi, 'GET', `/requests/${votingId}`)).votes as unknown[];
    assert.equal(votes.length, 0, 'nothing cast without a comment');
    await confirmDialog(page, { reason: 'Not a significant incident under the framework' });
    const row = page.getByTestId('votes').getByRole('row').filter({ hasText: 'EE' });
    await row.getByText('Decline').waitFor();
    await row.getByText('Not a significant incident under the framework').waitFor();
    votes = (await call(world, ltApi, 'GET', `/requests/${votingId}`)).votes as {
      party: string;
      comment: string;
    }[];
    assert.deepEqual(
      votes.map((v: any) => [v.party, v.vote, v.comment]),
      [['EE', 'decline', 'Not a significant incident under the framework']],
    );
    world.assertClean();
  });

  it('a withdrawal needs a reason; the request is withdrawn and the reason kept in its timeline and the audit log', async () => {
    const { page } = ltPoc;
    await page.goto(`${world.base}/requests/${withdrawnId}`);
    await page.getByTestId('request-actions').getByRole('button', { name: 'Withdraw' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(/is withdrawn for good/).waitFor();
    await dialog.getByTestId('confirm-action').click();
    await dialog.getByText('Reason is required').waitFor();
    assert.equal((await call(world, ltApi, 'GET', `/requests/${withdrawnId}`)).status, 'voting');
    await confirmDialog(page, { reason: 'The operator restored service on its own' });
    await page.getByText('Withdrawn', { exact: true }).first().waitFor();
    // The offer follows the state: nothing is left to do on a withdrawn request.
    assert.deepEqual(await actionsOn(ltPoc, withdrawnId), []);
    assert.equal((await call(world, ltApi, 'GET', `/requests/${withdrawnId}`)).status, 'withdrawn');
    const timeline = await call(world, ltApi, 'GET', `/requests/${withdrawnId}/timeline`);
    assert.match(JSON.stringify(timeline.items), /The operator restored service on its own/);
    const audit = await call(
      world,
      auditor,
      'GET',
      `/audit?action=request.withdrawn&objectId=${withdrawnId}`,
    );
    assert.match(JSON.stringify(audit.items), /The operator restored service on its own/);
    world.assertClean();
  });
});
