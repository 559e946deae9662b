import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NewRequest, NewResponder } from '@vytis/contracts';
import type { Page } from 'playwright-core';
import type { TestUser } from '../../server/src/test/harness.ts';
import { requestBodyAroundNow } from '../../server/src/test/requests.fixtures.ts';
import { BrowserWorld, call, confirmDialog, type Person, shot } from './browser.ts';

const DAY = 86_400_000;
const MEMBERS = ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'] as const;
const CAPITAL: Record<string, { city: string; lat: number; lon: number; timeZone: string }> = {
  LT: { city: 'Vilnius', lat: 54.69, lon: 25.28, timeZone: 'Europe/Vilnius' },
  EE: { city: 'Tallinn', lat: 59.44, lon: 24.75, timeZone: 'Europe/Tallinn' },
};

/** The item of my work with this key, on the home page. */
const item = (page: Page, id: string) => page.locator(`[data-item="${id}"]`);

/** Goes home (My work) through the navigation, as a person would. */
async function home(page: Page) {
  // Right after logging in, on a busy machine, the app may take a while to draw its navigation.
  await page.getByRole('link', { name: /^My work/ }).click({ timeout: 60_000 });
  await page.getByRole('heading', { name: 'My work', level: 1 }).waitFor();
}

/** The count of my work in the navigation. */
const navCount = (page: Page) => page.getByTestId('nav-count-work');

describe('my work in a browser: each role finds what waits for them on the home page and does it there', () => {
  const world = new BrowserWorld();
  const api: Record<string, TestUser> = {};
  let people: Record<string, Person>;
  const responders: Record<string, string> = {};
  let voting: string;
  let proposed: { id: string; requestId: string };
  let released: { id: string; requestId: string };
  let caseId: string;
  let taskId: string;

  const window = (fromDays: number) => ({
    from: new Date(Date.now() + fromDays * DAY).toISOString(),
    to: new Date(Date.now() + (fromDays + 2) * DAY).toISOString(),
  });
  const submit = async (title: string, overrides: Partial<NewRequest> = {}) => {
    const draft = await call(
      world,
      api['LT.poc']!,
      'POST',
      '/requests',
      requestBodyAroundNow({ title, ...overrides }),
    );
    await call(world, api['LT.poc']!, 'POST', `/requests/${draft.id}/submit`);
    return draft.id as string;
  };
  const activate = async (requestId: string) => {
    for (const party of MEMBERS) {
      const after = await call(world, api[`${party}.council`]!, 'POST', `/requests/${requestId}/votes`, {
        vote: 'activate',
      });
      if (after.status !== 'voting') return;
    }
  };
  const adoptTeam = async (requestId: string) => {
    const proposal = await call(world, api.coordinator!, 'POST', `/requests/${requestId}/team-proposals`);
    return call(
      world,
      api.coordinator!,
      'POST',
      `/requests/${requestId}/team-proposals/${proposal.id}/adopt`,
    );
  };
  const register = async (party: string, name: string, userId?: string) => {
    const body: NewResponder & { party: string } = {
      party,
      name,
      affiliation: 'civilian',
      skills: [{ skill: 'digital-forensics', level: 3 }],
      languages: ['en'],
      clearance: 'confidential',
      base: { country: party, ...CAPITAL[party]! },
      readiness: { remoteHours: 2, onsiteHours: 12 },
      travelDocumentsUntil: '2030-01-01',
      ...(userId ? { userId } : {}),
    };
    responders[name] = (await call(world, api[`${party}.poc`]!, 'POST', '/responders', body)).id;
  };

  before(async () => {
    await world.start();
    api.coordinator = await world.node.user('coordinator.api', 'PL', ['coordinator']);
    api.analyst = await world.node.user('lt.analyst.api', 'LT', ['analyst']);
    for (const party of MEMBERS) {
      api[`${party}.council`] = await world.node.user(`${party.toLowerCase()}.council.api`, party, [
        'council',
      ]);
      api[`${party}.poc`] = await world.node.user(`${party.toLowerCase()}.poc.api`, party, ['poc']);
    }
    // One after another: logins are slow on purpose (scrypt), and the machine may be busy.
    people = {};
    for (const [name, party, roles] of [
      ['lt.council', 'LT', ['council']],
      ['lt.poc', 'LT', ['poc']],
      ['ee.poc', 'EE', ['poc']],
      ['duty.officer', 'PL', ['coordinator']],
      ['lt.analyst', 'LT', ['analyst']],
      ['kadri', 'EE', ['responder']],
      ['auditor', 'LT', ['auditor']],
    ] as const) {
      people[name] = await world.person(name, party, [...roles]);
    }
    await register('LT', 'Ona Forensic');
    await register('LT', 'Rokas Forensic');
    await register('EE', 'Kadri Forensic', people.kadri!.user.id);
    const everyone: NewRequest['needs'] = [{ skill: 'digital-forensics', count: 3, minLevel: 2 }];

    // A request in voting; one whose team is proposed; one whose team is released (different windows).
    voting = await submit('Wiper at the Klaipėda port authority');
    const second = await submit('Ransomware at the Vilnius water utility', {
      needs: everyone,
      window: window(10),
    });
    await activate(second);
    proposed = { id: (await adoptTeam(second)).id, requestId: second };
    const third = await submit('DDoS on the Lithuanian tax office', { needs: everyone, window: window(2) });
    await activate(third);
    const team = await adoptTeam(third);
    for (const m of team.members as { responderId: string; party: string }[]) {
      await call(
        world,
        api[`${m.party}.poc`]!,
        'POST',
        `/deployments/${team.id}/members/${m.responderId}/release`,
        {
          decision: 'release',
        },
      );
    }
    released = { id: team.id, requestId: third };

    const opened = await call(world, api.analyst!, 'POST', '/cases', {
      title: 'Wiper samples from the port',
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'high',
      tlp: 'amber',
      pap: 'amber',
    });
    caseId = opened.id;
    taskId = (
      await call(world, api.analyst!, 'POST', `/cases/${caseId}/tasks`, {
        title: 'Reverse the wiper sample',
        assignee: people['lt.analyst']!.user.id,
      })
    ).id;
  });
  after(() => world.stop());

  it('a council member votes from the home page, with a confirmation; the vote leaves the list', async () => {
    const { page } = people['lt.council']!;
    await home(page);
    const vote = item(page, `vote:${voting}`);
    await vote.waitFor();
    assert.match((await vote.textContent()) ?? '', /LT sits on the council/);
    assert.equal(await navCount(page).textContent(), '1');
    await vote.getByRole('button', { name: /^Activate:/ }).click();
    await world.axe(page);
    await confirmDialog(page, { reason: 'The grid is essential; we can help within hours.' });
    await vote.waitFor({ state: 'detached' });
    await page.getByText('Nothing waits for you.').waitFor();
    await navCount(page).waitFor({ state: 'detached' });
    const request = await call(world, api.coordinator!, 'GET', `/requests/${voting}`);
    assert.deepEqual(
      request.votes.map((v: { party: string; vote: string; comment: string }) => [
        v.party,
        v.vote,
        v.comment,
      ]),
      [['LT', 'activate', 'The grid is essential; we can help within hours.']],
    );
    world.assertClean();
  });

  it("a home PoC releases its responder from the home page; another party's PoC sees none of it", async () => {
    const { page } = people['ee.poc']!;
    await home(page);
    const release = item(page, `release:${proposed.id}:${responders['Kadri Forensic']}`);
    await release.waitFor();
    assert.equal(await item(page, `release:${proposed.id}:${responders['Ona Forensic']}`).count(), 0);
    await release.getByRole('button', { name: /^Release:/ }).click();
    await confirmDialog(page);
    await release.waitFor({ state: 'detached' });
    world.assertClean();
  });

  it('the host PoC declines one of its people with a reason, and accepts a released team, from the home page', async () => {
    const { page } = people['lt.poc']!;
    await home(page);
    const decline = item(page, `release:${proposed.id}:${responders['Rokas Forensic']}`);
    await decline.waitFor();
    await item(page, `release:${proposed.id}:${responders['Ona Forensic']}`).waitFor();
    // NIS2 clocks of LT's own requests run out within the day (the entity became aware 2 h ago).
    await page.locator('[data-kind="clock"]').first().waitFor();
    await page.setViewportSize({ width: 1440, height: 900 });
    await shot(page, 'my-work-poc-1440');
    await page.setViewportSize({ width: 768, height: 1024 });
    await shot(page, 'my-work-poc-768');
    await page.setViewportSize({ width: 1280, height: 900 });

    await decline.getByRole('button', { name: /^Decline:/ }).click();
    // A decline without a reason is not sent.
    await page.getByRole('dialog').getByTestId('confirm-action').click();
    await page.getByRole('dialog').getByText('Reason is required').waitFor();
    await world.axe(page);
    await confirmDialog(page, { reason: 'Rokas is on national duty this fortnight.' });
    await decline.waitFor({ state: 'detached' });
    const deployment = await call(world, api['LT.poc']!, 'GET', `/deployments/${proposed.id}`);
    const rokas = deployment.members.find(
      (m: { responderId: string }) => m.responderId === responders['Rokas Forensic'],
    );
    assert.equal(rokas.status, 'declined');

    const accept = item(page, `accept:${released.id}`);
    await accept.getByRole('button', { name: /^Accept the team… for / }).click();
    await accept
      .getByRole('textbox', { name: 'System and premises access granted' })
      .fill('SOC network, escorted');
    await accept.getByRole('textbox', { name: 'SHA-256 of the liability agreement' }).fill('ab'.repeat(32));
    await world.axe(page);
    await accept.getByRole('button', { name: /^Accept the team:/ }).click();
    await confirmDialog(page);
    await accept.waitFor({ state: 'detached' });
    const accepted = await call(world, api['LT.poc']!, 'GET', `/deployments/${released.id}`);
    assert.equal(accepted.status, 'accepted');
    world.assertClean();
  });

  it('a responder on a team at work finds their pass to collect, and it leaves once collected', async () => {
    const { page } = people.kadri!;
    await home(page);
    const pass = item(page, `pass:${released.id}:${responders['Kadri Forensic']}`);
    await pass.getByRole('link').click();
    await page.waitForURL(/\/passes\//);
    await home(page);
    await page.getByText('Nothing waits for you.').waitFor();
    world.assertClean();
  });

  it('an analyst finds the task assigned to them and opens its case; the coordinator finds clocks; an auditor nothing', async () => {
    const analyst = people['lt.analyst']!.page;
    await home(analyst);
    const task = item(analyst, `task:${taskId}`);
    await task.getByText('Reverse the wiper sample').waitFor();
    assert.equal(await navCount(analyst).textContent(), '1');
    await task.getByRole('link', { name: 'Reverse the wiper sample' }).click();
    await analyst.waitForURL(new RegExp(`/cases/${caseId}$`));

    const coordinator = people['duty.officer']!.page;
    await home(coordinator);
    await coordinator.locator('[data-kind="clock"]').first().waitFor();
    await coordinator
      .getByTestId('my-work-summary')
      .getByText(/clocks? running out/)
      .waitFor();
    await coordinator.setViewportSize({ width: 768, height: 1024 });
    await shot(coordinator, 'my-work-coordinator-768');
    await coordinator.setViewportSize({ width: 1440, height: 900 });
    await shot(coordinator, 'my-work-coordinator-1440');

    const auditor = people.auditor!.page;
    await home(auditor);
    await auditor.getByText('Nothing waits for you.').waitFor();
    await auditor.getByRole('heading', { name: 'Situation' }).waitFor();
    world.assertClean();
  });
});
