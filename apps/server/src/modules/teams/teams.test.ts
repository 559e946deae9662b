import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Skill } from '@vytis/contracts';
import { sampleRoster } from '../../cli/demo-roster.ts';
import { json, startTestNode, type TestNode, type TestUser } from '../../test/harness.ts';
import { submitRequest, vote } from '../../test/requests.fixtures.ts';
import { verifyPass } from '../passes/pass.ts';

const MEMBERS = ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'] as const;
const roster = () => sampleRoster(100);

describe('team assembly, release, acceptance and passes', () => {
  let node: TestNode;
  let coordinator: TestUser;
  let admin: TestUser;
  const poc: Record<string, TestUser> = {};
  const council: Record<string, TestUser> = {};
  let uaPoc: TestUser;

  const call = (user: TestUser, method: 'GET' | 'POST', url: string, payload?: object) =>
    node.request({ method, url: `/api/v1${url}`, headers: user.headers, ...(payload ? { payload } : {}) });

  async function activatedRequest(by: TestUser, overrides = {}) {
    const request = await submitRequest(node, by, {
      mode: 'hybrid',
      needs: [
        { skill: 'digital-forensics', count: 2, minLevel: 2 },
        { skill: 'malware-analysis', count: 1, minLevel: 2 },
      ],
      clearance: 'restricted',
      ...overrides,
    });
    for (const party of request.council.electorate) {
      const res = await vote(node, council[party]!, request.id, 'activate');
      if (json(res).status !== 'voting') break;
    }
    return request.id as string;
  }

  before(async () => {
    node = await startTestNode();
    coordinator = await node.user('duty.officer', 'LT', ['coordinator']);
    admin = await node.user('root', 'LT', ['admin']);
    uaPoc = await node.user('ua.poc', 'UA', ['poc']);
    for (const party of MEMBERS) {
      poc[party] = await node.user(`${party.toLowerCase()}.poc`, party, ['poc']);
      council[party] = await node.user(`${party.toLowerCase()}.council`, party, ['council']);
    }
    for (const person of roster()) {
      const res = await call(poc[person.party]!, 'POST', '/responders', person);
      assert.equal(res.statusCode, 201, res.body);
    }
  });
  after(() => node.close());

  it('refuses a proposal for a request the council has not activated', async () => {
    const voting = await submitRequest(node, poc.LT!);
    const res = await call(coordinator, 'POST', `/requests/${voting.id}/team-proposals`);
    assert.equal(res.statusCode, 409);
    assert.match(json(res).error.message, /only for an activated request; this one is voting/);
    assert.equal((await call(poc.LT!, 'POST', `/requests/${voting.id}/team-proposals`)).statusCode, 403);
  });

  it('from 100 responders proposes an optimal, explained team, released, accepted and passed', async () => {
    const requestId = await activatedRequest(poc.LT!);
    const started = performance.now();
    const proposed = await call(coordinator, 'POST', `/requests/${requestId}/team-proposals`);
    const elapsed = performance.now() - started;
    assert.equal(proposed.statusCode, 201, proposed.body);
    const proposal = json(proposed);
    process.stdout.write(`# team proposal over HTTP from 100 responders: ${elapsed.toFixed(1)} ms\n`);
    assert.equal(proposal.feasible, true);
    assert.ok(proposal.members.length >= 2 && proposal.members.length <= 12);
    const people = new Map(roster().map((p) => [p.name, p]));
    const level = (name: string, skill: Skill) =>
      people.get(name)!.skills.find((s) => s.skill === skill)?.level ?? 0;
    const count = (skill: Skill, min: number) =>
      proposal.members.filter((m: any) => level(m.name, skill) >= min).length;
    assert.ok(count('digital-forensics', 2) >= 2, 'two forensic analysts at level 2 or more');
    assert.ok(count('malware-analysis', 2) >= 1, 'a malware analyst at level 2 or more');
    for (const member of proposal.members) {
      assert.ok(member.reasons.length > 0, `${member.name} is explained`);
      assert.notEqual(people.get(member.name)!.clearance, 'none', 'cleared for the request');
    }
    const perParty = new Map<string, number>();
    for (const m of proposal.members) perParty.set(m.party, (perParty.get(m.party) ?? 0) + 1);
    assert.ok(
      [...perParty.values()].every((n) => n <= 4),
      'at most 4 per party',
    );
    assert.ok((perParty.get('RO') ?? 0) <= 2, "Romania's restriction: at most 2 per mission");
    assert.ok(proposal.excluded.length > 0, 'the nearest excluded are named');
    assert.ok(proposal.excluded.every((e: any) => e.reason.length > 0));
    assert.doesNotMatch(
      proposal.excluded[0].reason,
      /covers none of the needs/,
      'the nearest excluded who had a needed skill come first',
    );

    const adopted = await call(
      coordinator,
      'POST',
      `/requests/${requestId}/team-proposals/${proposal.id}/adopt`,
    );
    assert.equal(adopted.statusCode, 201, adopted.body);
    const deployment = json(adopted);
    assert.equal(deployment.status, 'proposed');
    assert.ok(deployment.members.every((m: any) => m.status === 'pending'));
    assert.equal(json(await call(poc.LT!, 'GET', `/requests/${requestId}`)).status, 'assembling');
    const again = await call(
      coordinator,
      'POST',
      `/requests/${requestId}/team-proposals/${proposal.id}/adopt`,
    );
    assert.equal(again.statusCode, 409);

    // A PoC decides only on its own people; another state's PoC may not release them.
    const first = deployment.members[0];
    const stranger = MEMBERS.find((p) => p !== first.party)!;
    const wrong = await call(
      poc[stranger]!,
      'POST',
      `/deployments/${deployment.id}/members/${first.responderId}/release`,
      {
        decision: 'release',
      },
    );
    assert.ok([403, 404].includes(wrong.statusCode), `another state's PoC: ${wrong.statusCode}`);

    // Another state has already released its person; then one home state declines: the team is
    // re-solved without the declined one, and the released one stays.
    const kept = deployment.members.find((m: any) => m.party !== first.party)!;
    const keptRes = await call(
      poc[kept.party]!,
      'POST',
      `/deployments/${deployment.id}/members/${kept.responderId}/release`,
      {
        decision: 'release',
      },
    );
    assert.equal(keptRes.statusCode, 200, keptRes.body);
    const declined = await call(
      poc[first.party]!,
      'POST',
      `/deployments/${deployment.id}/members/${first.responderId}/release`,
      {
        decision: 'decline',
        reason: 'needed at home',
      },
    );
    assert.equal(declined.statusCode, 200, declined.body);
    const afterDecline = json(declined);
    const declinedRow = afterDecline.members.find((m: any) => m.responderId === first.responderId);
    assert.equal(declinedRow.status, 'declined');
    assert.equal(declinedRow.decisionReason, 'needed at home');
    const active = afterDecline.members.filter((m: any) => m.status === 'pending' || m.status === 'released');
    assert.ok(!active.some((m: any) => m.responderId === first.responderId), 'the declined person is out');
    assert.ok(active.length >= 2, 'the team still stands');
    assert.equal(
      afterDecline.members.find((m: any) => m.responderId === kept.responderId).status,
      'released',
      'a member already released is not thrown out by the re-solve',
    );

    let current = afterDecline;
    for (const member of active.filter((m: any) => m.status === 'pending')) {
      const res = await call(
        poc[member.party]!,
        'POST',
        `/deployments/${deployment.id}/members/${member.responderId}/release`,
        {
          decision: 'release',
        },
      );
      assert.equal(res.statusCode, 200, res.body);
      current = json(res);
    }
    assert.equal(current.status, 'released');

    const notHost = await call(poc.EE!, 'POST', `/deployments/${deployment.id}/acceptance`, {
      personnelStatus: 'x',
      access: 'y',
      liabilityAgreementSha256: 'a'.repeat(64),
    });
    assert.ok([403, 404].includes(notHost.statusCode));
    const badHash = await call(poc.LT!, 'POST', `/deployments/${deployment.id}/acceptance`, {
      personnelStatus: 'x',
      access: 'y',
      liabilityAgreementSha256: 'not-a-hash',
    });
    assert.equal(badHash.statusCode, 400);
    const accepted = await call(poc.LT!, 'POST', `/deployments/${deployment.id}/acceptance`, {
      personnelStatus: 'Responders act under the CRRT MoU, Annex B (status of personnel)',
      access: 'SOC and OT network of the operator, badge access to the control centre',
      liabilityAgreementSha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
    assert.equal(accepted.statusCode, 200, accepted.body);
    assert.equal(json(accepted).status, 'accepted');
    assert.equal(json(await call(poc.LT!, 'GET', `/requests/${requestId}`)).status, 'deployed');

    const jwks = json(await node.request({ method: 'GET', url: '/api/v1/node/keys' }));
    const released = json(accepted).members.filter((m: any) => m.status === 'released');
    const passes: string[] = [];
    for (const member of released) {
      const res = await call(
        poc[member.party]!,
        'GET',
        `/deployments/${deployment.id}/passes/${member.responderId}`,
      );
      assert.equal(res.statusCode, 200, res.body);
      const { pass, qrSvg } = json(res);
      assert.match(qrSvg, /^<svg/);
      const check = await verifyPass(pass, { keys: jwks as any, now: new Date('2026-11-25T00:00:00Z') });
      assert.ok(check.ok, JSON.stringify(check));
      if (check.ok) {
        assert.equal(check.claims.responderId, member.responderId);
        assert.equal(check.claims.hostParty, 'LT');
        assert.equal(check.claims.homeParty, member.party);
      }
      const twice = json(
        await call(poc[member.party]!, 'GET', `/deployments/${deployment.id}/passes/${member.responderId}`),
      );
      assert.equal(twice.pass, pass, 'the same pass each time');
      passes.push(pass);
    }

    // The responder, once their PoC links their user, finds the deployment and opens their own
    // pass; a colleague of the same party does not.
    const holder = released[0];
    const me = await node.user('responder.one', holder.party, ['responder']);
    const colleague = await node.user('responder.two', holder.party, ['responder']);
    const linked = await node.request({
      method: 'PATCH',
      url: `/api/v1/responders/${holder.responderId}`,
      headers: poc[holder.party]!.headers,
      payload: { userId: me.id },
    });
    assert.equal(linked.statusCode, 200, linked.body);
    assert.equal(json(linked).userId, me.id);
    const mine = json(await call(me, 'GET', '/deployments?mine=true'));
    assert.deepEqual(
      mine.items.map((d: any) => d.id),
      [deployment.id],
    );
    const own = await call(me, 'GET', `/deployments/${deployment.id}/passes/${holder.responderId}`);
    assert.equal(own.statusCode, 200, own.body);
    assert.equal(json(own).pass, passes[0]);
    const other = await call(colleague, 'GET', `/deployments/${deployment.id}/passes/${holder.responderId}`);
    assert.equal(other.statusCode, 403);
    const ofRequest = json(await call(coordinator, 'GET', `/deployments?requestId=${requestId}`));
    assert.deepEqual(
      ofRequest.items.map((d: any) => d.id),
      [deployment.id],
    );

    // Offline, with the published key, as a host at the door would.
    const keyFile = path.join(node.dataDir, 'jwks.json');
    fs.writeFileSync(keyFile, JSON.stringify(jwks));
    const bin = path.join(import.meta.dirname, '..', '..', '..', 'bin', 'vytis.js');
    const during = '2026-11-25T00:00:00Z';
    const cli = spawnSync(
      process.execPath,
      [bin, 'pass', 'verify', passes[0]!, '--key', keyFile, '--at', during],
      {
        encoding: 'utf8',
        env: { ...process.env, VYTIS_DATA_DIR: node.dataDir },
      },
    );
    assert.equal(cli.status, 0, `vytis pass verify: ${cli.stdout} ${cli.stderr}`);
    assert.match(cli.stdout, /valid responder pass/);
    const early = spawnSync(
      process.execPath,
      [bin, 'pass', 'verify', passes[0]!, '--key', keyFile, '--at', '2026-11-23T12:00:00Z'],
      {
        encoding: 'utf8',
        env: { ...process.env, VYTIS_DATA_DIR: node.dataDir },
      },
    );
    assert.equal(early.status, 1);
    assert.match(early.stderr, /not yet valid/, 'a pass is valid from the mission window');

    const revoked = await call(
      poc.LT!,
      'POST',
      `/deployments/${deployment.id}/passes/${released[0].responderId}/revoke`,
      {
        reason: 'badge lost',
      },
    );
    assert.equal(revoked.statusCode, 200, revoked.body);
    const list = json(await call(poc.EE!, 'GET', '/passes/revocations'));
    const check = await verifyPass(passes[0]!, {
      keys: jwks as any,
      revoked: new Set(list.revoked),
      now: new Date('2026-11-25T00:00:00Z'),
    });
    assert.equal(check.ok, false);
    assert.match(check.ok ? '' : check.reason, /revoked/);
    const twice = await call(
      poc.LT!,
      'POST',
      `/deployments/${deployment.id}/passes/${released[0].responderId}/revoke`,
      { reason: 'badge lost' },
    );
    assert.equal(twice.statusCode, 409);

    const audited = await node.services.audit.page({ objectId: deployment.id }, 'asc', 100);
    const actions = new Set(audited.items.map((e) => e.action));
    for (const action of [
      'deployment.create',
      'deployment.member.decline',
      'deployment.member.release',
      'deployment.released',
      'deployment.accept',
      'pass.issue',
      'pass.revoke',
    ]) {
      assert.ok(actions.has(action), `${action} is audited`);
    }
  });

  it('applies home-state restrictions, and says which needs cannot be met', async () => {
    const lawyer = await call(poc.HR!, 'POST', '/responders', {
      ...roster()[2],
      party: 'HR',
      name: 'HR military legal adviser',
      affiliation: 'military',
      skills: [{ skill: 'legal', level: 3 }],
    });
    assert.equal(lawyer.statusCode, 201, lawyer.body);
    const requestId = await activatedRequest(uaPoc, {
      mode: 'onsite',
      location: { country: 'UA', city: 'Lviv' },
      needs: [{ skill: 'legal', count: 1, minLevel: 3 }],
    });
    const proposal = json(await call(coordinator, 'POST', `/requests/${requestId}/team-proposals`));
    assert.equal(proposal.feasible, false, 'the only level-3 lawyer may not go to a partner country');
    assert.deepEqual(
      proposal.unmet.map((u: any) => [u.skill, u.needed, u.covered]),
      [['legal', 1, 0]],
    );
    const why = proposal.excluded.find((e: any) => e.responderId === json(lawyer).id);
    assert.ok(why, 'the lawyer is among the nearest excluded');
    assert.match(why.reason, /HR sends no military personnel to partner parties/);
    const refused = await call(
      coordinator,
      'POST',
      `/requests/${requestId}/team-proposals/${proposal.id}/adopt`,
    );
    assert.equal(refused.statusCode, 409, 'an incomplete team is not adopted');
  });

  it('shows a deployment only to those involved', async () => {
    const requestId = await activatedRequest(poc.EE!);
    const proposal = json(await call(coordinator, 'POST', `/requests/${requestId}/team-proposals`));
    const adopted = json(
      await call(coordinator, 'POST', `/requests/${requestId}/team-proposals/${proposal.id}/adopt`),
    );
    const outsider = await node.user('fi.poc', 'FI', ['poc']);
    assert.equal((await call(outsider, 'GET', `/deployments/${adopted.id}`)).statusCode, 404);
    assert.equal((await call(admin, 'GET', `/deployments/${adopted.id}`)).statusCode, 200);
    // The home states of the team see the (AMBER) request they send their people to; others do not.
    const homes = [...new Set<string>(adopted.members.map((m: any) => m.party))].filter((p) => p !== 'EE');
    assert.ok(homes.length > 0);
    for (const home of homes) {
      const seen = await call(poc[home]!, 'GET', `/requests/${requestId}`);
      assert.equal(seen.statusCode, 200, `${home}: ${seen.body}`);
      assert.equal(json(seen).tlp, 'amber');
    }
    assert.equal((await call(outsider, 'GET', `/requests/${requestId}`)).statusCode, 404);
  });
});
