import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { chromium } from 'playwright-core';
import { sampleRoster } from '../../server/src/cli/demo-roster.ts';
import { intentOutcomeDoc } from '../../server/src/modules/federation/loop/intent-outcome.doc.ts';
import type { LoopPeer } from '../../server/src/modules/federation/loop/loop-types.ts';
import { assessPriority } from '../../server/src/modules/requests/priority.ts';
import { inTransaction, type Tx } from '../../server/src/platform/db/transaction.ts';
import { startTestNode } from '../../server/src/test/harness.ts';
import { requestBody } from '../../server/src/test/requests.fixtures.ts';
import { BrowserWorld, call, confirmDialog, ensureBuilt, type Person, SCREENSHOTS, shot } from './browser.ts';

/** The browser world with its node federated as LT's national node (BrowserWorld.start takes no node options). */
class FederatedWorld extends BrowserWorld {
  override async start() {
    ensureBuilt();
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    this.node = await startTestNode({
      now: new Date().toISOString(),
      loginAttemptsPerMinute: 10_000,
      federation: { party: 'LT', role: 'national', pullSeconds: 3600 },
    });
    await this.node.app.listen({ host: '127.0.0.1', port: 0 });
    const address = this.node.app.server.address() as AddressInfo;
    this.base = `http://127.0.0.1:${address.port}`;
    this.browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }
}

const TITLE = 'Wiper malware at the Romanian water utility';

/** Writes as the feed writes copies: in a transaction with the apply flag set. */
async function asTheFeed(world: BrowserWorld, work: (trx: Tx) => Promise<void>) {
  await inTransaction(world.node.database.db, async (trx) => {
    await sql`select set_config('vytis.federation_apply', 'on', true)`.execute(trx);
    await work(trx);
  });
}

/** A peer as the feed knows it (its key is not used: the answer is applied as already verified). */
const peer = (party: string, role: LoopPeer['role']): LoopPeer => ({
  party,
  role,
  keyId: `${party.toLowerCase()}-node-key`,
  publicKey: crypto.generateKeyPairSync('ed25519').publicKey,
});

/**
 * RO's request as RO's node shows it to LT's node: a read-only copy, with LT on its council.
 */
async function receiveRomanianRequest(
  world: BrowserWorld,
  title: string,
  status: 'voting' | 'assembling',
): Promise<string> {
  const id = crypto.randomUUID();
  const now = world.node.clock.now();
  const fields = requestBody({
    title,
    affectedEntity: { name: 'Apa Nova', sector: 'drinking-water', essential: true },
    location: { country: 'RO', city: 'Bucharest' },
  });
  const eligibility = {
    eligible: true,
    requires: 'majority',
    partyStatus: 'member',
    day: now.toISOString().slice(0, 10),
    frameworkVersion: 1,
    reasons: ['RO is a member of the force'],
  };
  const council = {
    electorate: ['EE', 'LT', 'PL', 'RO'],
    rule: 'majority',
    opensAt: now.toISOString(),
    closesAt: new Date(now.getTime() + 24 * 3_600_000).toISOString(),
  };
  const priority = assessPriority(fields);
  await asTheFeed(world, async (trx) => {
    await trx
      .insertInto('requests')
      .values({
        id,
        party_code: 'RO',
        status,
        version: 3,
        exercise: false,
        title: fields.title,
        severity: fields.severity,
        tlp: fields.tlp,
        incident_class: fields.incidentClass,
        fields: JSON.stringify(fields),
        priority_score: priority.score,
        priority: JSON.stringify(priority),
        eligibility: JSON.stringify(eligibility),
        council: JSON.stringify(council),
        decision: null,
        report: null,
        created_at: now,
        created_by: 'ro.poc',
        submitted_at: now,
        updated_at: now,
        mirrored_from: 'RO',
        mirror_version: 1,
      })
      .execute();
  });
  return id;
}

/**
 * The team for RO's request as the coordinating node (EU) keeps it, copied to LT's node: one LT
 * responder on it, waiting for LT's release.
 */
async function receiveDeployment(world: BrowserWorld, requestId: string, responderId: string) {
  const id = crypto.randomUUID();
  const now = world.node.clock.now();
  await asTheFeed(world, async (trx) => {
    await trx
      .insertInto('deployments')
      .values({
        id,
        request_id: requestId,
        proposal_id: crypto.randomUUID(),
        host_party: 'RO',
        status: 'proposed',
        mode: 'hybrid',
        window_from: new Date(now.getTime() + 24 * 3_600_000),
        window_to: new Date(now.getTime() + 8 * 24 * 3_600_000),
        acceptance: null,
        created_at: now,
        created_by: 'eu.coordinator',
        updated_at: now,
        version: 1,
        mirrored_from: 'EU',
        mirror_version: 1,
      })
      .execute();
    await trx
      .insertInto('deployment_members')
      .values({
        deployment_id: id,
        responder_id: responderId,
        party_code: 'LT',
        status: 'pending',
        reasons: JSON.stringify(['covers digital-forensics at level 3']),
        decided_by: null,
        decided_at: null,
        decision_reason: null,
        pass_id: null,
        pass_issued_at: null,
        mirrored_from: 'EU',
        mirror_version: 1,
      })
      .execute();
  });
  return id;
}

/** The answer of the node that speaks for the target arrives on the feed and is applied here. */
async function answer(
  world: BrowserWorld,
  from: LoopPeer,
  targetId: string,
  outcome: { state: 'applied' | 'refused'; outcome: string },
) {
  const sent = await world.node.database.db
    .selectFrom('federation_intents')
    .select(['id', 'state', 'target_party'])
    .where('target_id', '=', targetId)
    .execute();
  assert.deepEqual(
    sent.map((i) => [i.state, i.target_party]),
    [['pending', from.party]],
    `the action is kept here as one sent to ${from.party}, waiting`,
  );
  const env = world.node.services.federation.feed.loopEnv();
  assert.ok(env, 'the node is federated');
  const refused: string[] = [];
  await asTheFeed(world, async (trx) => {
    const data = { ...outcome, decidedAt: world.node.clock.now().toISOString() };
    const doc = { id: sent[0]!.id, version: 1, at: data.decidedAt, data };
    const stored = await intentOutcomeDoc.apply(trx, from, [doc], env, (_doc, why) => refused.push(why));
    assert.equal(stored, 1, `the answer is stored (${refused.join('; ')})`);
  });
}

describe('copies of other nodes’ requests and deployments: where they come from, and actions sent there', () => {
  const world = new FederatedWorld();
  let councillor: Person;
  let poc: Person;
  let requestId = '';
  let deploymentId = '';
  let responder = '';

  before(async () => {
    await world.start();
    const people = await world.people([
      ['lt.council', 'LT', ['council']],
      ['lt.poc', 'LT', ['poc']],
    ]);
    councillor = people['lt.council']!;
    poc = people['lt.poc']!;
    requestId = await receiveRomanianRequest(world, TITLE, 'voting');
    // A team for another of RO's requests, kept by the coordinating node, with an LT responder on it.
    const teamFor = await receiveRomanianRequest(world, 'DDoS on the Romanian tax portal', 'assembling');
    const person = sampleRoster(60).find((p) => p.party === 'LT')!;
    responder = person.name;
    const created = await call(world, poc.user, 'POST', '/responders', person);
    deploymentId = await receiveDeployment(world, teamFor, created.id as string);
  });
  after(() => world.stop());

  it('the board tags the copy "from RO"', async () => {
    const { page } = councillor;
    await page.getByRole('link', { name: 'Requests', exact: true }).click();
    const row = page.getByTestId('requests-board').getByRole('row').filter({ hasText: TITLE });
    await row.waitFor();
    assert.equal(await row.getByTestId('copy-tag').textContent(), 'from RO');
    await shot(page, 'federated-copy-board');
    world.assertClean();
  });

  it('the request’s page says it is RO’s and that actions taken here go to RO’s node', async () => {
    const { page } = councillor;
    await page.goto(`${world.base}/requests/${requestId}`);
    await page.getByTestId('request-title').filter({ hasText: TITLE }).waitFor();
    const notice = page.getByTestId('copy-notice');
    await notice.getByRole('heading', { name: "Copy from RO's node" }).waitFor();
    assert.match(
      (await notice.textContent()) ?? '',
      /Votes and other actions you take here are sent to RO's node, which applies them\./,
    );
    assert.match(
      (await page.getByTestId('vote-forwarded-hint').textContent()) ?? '',
      /Your vote is sent to RO's node/,
    );
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing on the copy');
    await shot(page, 'federated-copy-request');
    world.assertClean();
  });

  it('a vote on the copy is sent to RO’s node: waiting, then its answer arrives live', async () => {
    const { page } = councillor;
    await page.goto(`${world.base}/requests/${requestId}`);
    await page.getByText("LT's vote").waitFor();
    await page.getByRole('button', { name: 'Cast vote' }).click();
    await confirmDialog(page, { reason: 'LT can send two forensic analysts' });
    const forwarded = page.getByTestId('forwarded-actions');
    await forwarded.getByText("Your vote was sent to RO's node — waiting for it").waitFor();
    assert.equal(
      await page.getByTestId('votes').getByRole('row').filter({ hasText: 'LT' }).getByText('not yet').count(),
      1,
      'the vote counts where RO’s node counts it, not on this copy',
    );
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing with the vote waiting');
    await shot(page, 'federated-copy-vote-waiting');

    // RO's node answers: its outcome arrives on the feed and is applied as the feed applies it, which
    // tells LT's users live. The open page shows the answer without a reload.
    const reason = 'voting closed at 12:00: the decision follows from the votes cast by then';
    await answer(world, peer('RO', 'national'), requestId, { state: 'refused', outcome: reason });
    await forwarded.getByText(`Your vote was refused by RO's node: ${reason}`).waitFor();
    assert.equal(await forwarded.getByText('waiting for it').count(), 0, 'no longer waiting');
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing with the refusal shown');
    await shot(page, 'federated-copy-vote-refused');
    world.assertClean();
  });

  it('a deployment copy says the coordinating node keeps it; a release is sent there and its answer arrives live', async () => {
    const { page } = poc;
    await page.goto(`${world.base}/deployments/${deploymentId}`);
    const notice = page.getByTestId('copy-notice');
    await notice.getByRole('heading', { name: "Copy from EU's node" }).waitFor();
    assert.match(
      (await notice.textContent()) ?? '',
      /the host's acceptance and other actions you take here are sent to EU's node, which applies them\./,
    );
    await page.getByRole('button', { name: `Release ${responder}` }).click();
    await confirmDialog(page);
    const forwarded = page.getByTestId('forwarded-actions');
    await forwarded.getByText("Your release decision was sent to EU's node — waiting for it").waitFor();
    const row = page.getByTestId('members').getByRole('row').filter({ hasText: responder });
    assert.equal(
      await row.getByText('pending', { exact: true }).count(),
      1,
      'released where the team is kept',
    );
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing with the release waiting');
    await shot(page, 'federated-copy-release-waiting');

    await answer(world, peer('EU', 'coordinator'), deploymentId, { state: 'applied', outcome: 'released' });
    await forwarded.getByText("Your release decision was applied by EU's node: released").waitFor();
    assert.deepEqual(await world.axe(page), [], 'axe finds nothing with the answer shown');
    await shot(page, 'federated-copy-release-applied');
    world.assertClean();
  });
});
