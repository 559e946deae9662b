import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type NodeProcess,
  type ProcessStorage,
  processStorage,
  startNode,
  vytis,
  withServices,
} from '../../../cli/node-process.fixtures.ts';
import { loadOrCreateNodeKey } from '../../../platform/keys.ts';
import { requestBodyAroundNow } from '../../../test/requests.fixtures.ts';
import { type Answer, call, waitFor } from '../nodes.fixtures.ts';

// The force's whole loop across four nodes, each its own `vytis start` process, port, data directory
// and database: LT coordinates the force; RO asks for help and hosts the team; EE and PL are the
// home states of the responders. Every node pulls the others (on the default 30 s round) and is told
// at once when a peer's feed grows, so what a test waits for here is the push, not the schedule.

type Role = 'admin' | 'poc' | 'council' | 'coordinator';

interface Party {
  code: string;
  role: 'coordinator' | 'national';
  storage: ProcessStorage;
  env: NodeJS.ProcessEnv;
  base: string;
  keyId: string;
  tokens: Record<Role, string>;
  node?: NodeProcess;
}

const CAPITALS: Record<string, { city: string; lat: number; lon: number; timeZone: string }> = {
  EE: { city: 'Tallinn', lat: 59.44, lon: 24.75, timeZone: 'Europe/Tallinn' },
  PL: { city: 'Warsaw', lat: 52.23, lon: 21.01, timeZone: 'Europe/Warsaw' },
};

const ok = (answer: Answer, status = 200) => {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  return answer.body;
};

describe('the force’s loop across four nodes', { timeout: 900_000 }, () => {
  const parties = new Map<string, Party>();
  const at = (code: string) => parties.get(code)!;
  const api = (code: string, who: Role, method: string, url: string, body?: unknown) =>
    call(at(code).base, at(code).tokens[who], method, `/api/v1${url}`, body);

  let requestId: string;
  let deploymentId: string;
  const responders: Record<string, string> = {};

  before(async () => {
    for (const [code, role] of [
      ['LT', 'coordinator'],
      ['RO', 'national'],
      ['EE', 'national'],
      ['PL', 'national'],
    ] as const) {
      const storage = await processStorage(`loop-${code.toLowerCase()}`);
      const base = `http://127.0.0.1:${storage.env.PORT}`;
      const env: NodeJS.ProcessEnv = {
        ...storage.env,
        VYTIS_NODE_PARTY: code,
        VYTIS_NODE_ROLE: role,
        VYTIS_PUBLIC_URL: base,
        VYTIS_WEBHOOK_PRIVATE_NETWORKS: 'true',
        VYTIS_SCHEDULER_SECONDS: '1',
        VYTIS_CHECKPOINT_SECONDS: '2',
      };
      const tokens = await withServices(env, async (services, cli) => {
        const issue = async (roles: Role[]) => {
          const name = `${code.toLowerCase()}.${roles[0]}`;
          await services.identity.createUser(cli, { name, party: code, roles });
          return (await services.identity.issueToken(cli, name)).token;
        };
        return {
          admin: await issue(['admin']),
          poc: await issue(['poc']),
          council: await issue(['council']),
          coordinator: await issue(['coordinator']),
        };
      });
      const keyId = loadOrCreateNodeKey(storage.dataDir).keyId;
      parties.set(code, { code, role, storage, env, base, keyId, tokens });
    }
    await Promise.all(
      [...parties.values()].map(async (party) => {
        party.node = await startNode(party.env);
      }),
    );
    // Each state's operators pin the others' key ids, agreed out of band.
    for (const party of parties.values()) {
      for (const peer of parties.values()) {
        if (peer === party) continue;
        ok(
          await api(party.code, 'admin', 'POST', '/federation/peers', {
            url: peer.base,
            party: peer.code,
            pin: peer.keyId,
          }),
          201,
        );
      }
    }
  });

  after(async () => {
    for (const party of parties.values()) {
      await party.node?.stop();
      await party.storage.destroy();
    }
  });

  it('EE and PL keep their people at home: the coordinator sees what assembly needs, not who they are', async () => {
    for (const [code, names] of [
      ['EE', ['Kadri Tamm', 'Jaan Kask']],
      ['PL', ['Anna Nowak']],
    ] as const) {
      for (const name of names) {
        const created = ok(
          await api(code, 'poc', 'POST', '/responders', {
            party: code,
            name,
            affiliation: 'civilian',
            skills: [{ skill: 'digital-forensics', level: 3 }],
            languages: ['en'],
            clearance: 'confidential',
            base: { country: code, ...CAPITALS[code]! },
            readiness: { remoteHours: 2, onsiteHours: 12 },
            travelDocumentsUntil: '2031-01-01',
          }),
          201,
        );
        responders[name] = created.id;
      }
    }
    await waitFor('LT to hold the three responders', async () => {
      const items = (await api('LT', 'coordinator', 'GET', '/responders')).body?.items ?? [];
      return Object.values(responders).every((id) => items.some((r: { id: string }) => r.id === id));
    });
    const atLt = (await api('LT', 'coordinator', 'GET', '/responders')).body.items;
    const names = atLt.map((r: { name: string }) => r.name).join(' | ');
    for (const name of Object.keys(responders)) assert.ok(!names.includes(name), names);
    // RO, which has nothing to do with them yet, holds none of them.
    const atRo = (await api('RO', 'admin', 'GET', '/responders')).body?.items ?? [];
    assert.ok(!atRo.some((r: { id: string }) => Object.values(responders).includes(r.id)));
  });

  it('RO files and submits at home; the request is on the coordinator’s board within 2 s', async () => {
    // PL's node is down while the council votes: it catches up afterwards.
    await at('PL').node!.stop();
    const created = ok(
      await api(
        'RO',
        'poc',
        'POST',
        '/requests',
        requestBodyAroundNow({
          title: 'Wiper at the Romanian gas transmission operator',
          location: { country: 'RO', city: 'Bucharest' },
        }),
      ),
      201,
    );
    requestId = created.id;
    const submitted = await api('RO', 'poc', 'POST', `/requests/${requestId}/submit`);
    const submittedAt = Date.now();
    assert.equal(ok(submitted).status, 'voting');
    await waitFor('the request on LT’s board', async () => {
      const board = (await api('LT', 'coordinator', 'GET', '/requests')).body?.items ?? [];
      return board.some((r: { id: string }) => r.id === requestId);
    });
    const latency = Date.now() - submittedAt;
    console.log(`# submission on RO → on LT's board: ${latency} ms (pull round 30 s; push)`);
    assert.ok(latency < 2000, `${latency} ms`);
    const atLt = ok(await api('LT', 'coordinator', 'GET', `/requests/${requestId}`));
    assert.equal(atLt.mirroredFrom, 'RO');
    assert.equal(atLt.status, 'voting');
    assert.deepEqual(atLt.council.electorate.sort(), ['EE', 'HR', 'LT', 'NL', 'PL', 'RO']);
  });

  it('council members vote from their own nodes; RO’s node counts them', async () => {
    await waitFor(
      'EE to hold the request',
      async () => (await api('EE', 'council', 'GET', `/requests/${requestId}`)).status === 200,
    );
    for (const code of ['LT', 'EE', 'RO']) {
      const voted = ok(
        await api(code, 'council', 'POST', `/requests/${requestId}/votes`, { vote: 'activate' }),
      );
      if (code !== 'RO') {
        assert.equal(voted.mirroredFrom, 'RO');
        assert.equal(voted.forwarded[0].kind, 'vote');
      }
    }
    await waitFor('RO to count three votes', async () => {
      const request = (await api('RO', 'poc', 'GET', `/requests/${requestId}`)).body;
      return request.votes.length === 3;
    });
    const request = ok(await api('RO', 'poc', 'GET', `/requests/${requestId}`));
    assert.equal(request.status, 'voting', 'three of six members do not decide a majority');
    await waitFor('EE to learn its vote was applied', async () => {
      const copy = (await api('EE', 'council', 'GET', `/requests/${requestId}`)).body;
      return copy.forwarded?.[0]?.state === 'applied';
    });
  });

  it('PL’s node comes back, catches up, and its vote decides on RO’s node', async () => {
    const pl = at('PL');
    pl.node = await startNode(pl.env);
    const caughtUp = await waitFor(
      'PL to catch up with the request',
      async () => (await api('PL', 'council', 'GET', `/requests/${requestId}`)).status === 200,
    );
    console.log(`# PL's node, back, holds the request ${caughtUp} ms after it started`);
    console.log(
      JSON.stringify(
        (await api('PL', 'admin', 'GET', '/federation/peers')).body.items.map((p: any) => [
          p.party,
          p.lastPullAt,
          p.lastError,
        ]),
      ),
    );
    ok(await api('PL', 'council', 'POST', `/requests/${requestId}/votes`, { vote: 'activate' }));
    const voted = Date.now();
    await waitFor(
      'the decision on RO',
      async () => (await api('RO', 'poc', 'GET', `/requests/${requestId}`)).body.status === 'activated',
    );
    console.log(`# PL's vote → the decision on RO's node: ${Date.now() - voted} ms`);
    const decided = ok(await api('RO', 'poc', 'GET', `/requests/${requestId}`));
    assert.equal(decided.decision.outcome, 'activated');
    assert.equal(decided.decision.closedEarly, true);
    for (const code of ['LT', 'EE', 'PL']) {
      await waitFor(`${code} to see the decision`, async () => {
        const copy = (await api(code, 'council', 'GET', `/requests/${requestId}`)).body;
        return copy?.status === 'activated';
      });
    }
  });

  it('LT assembles the team from EE and PL; EE declines one and LT re-solves', async () => {
    const proposal = ok(await api('LT', 'coordinator', 'POST', `/requests/${requestId}/team-proposals`), 201);
    assert.equal(proposal.feasible, true, JSON.stringify(proposal));
    const deployment = ok(
      await api('LT', 'coordinator', 'POST', `/requests/${requestId}/team-proposals/${proposal.id}/adopt`),
      201,
    );
    deploymentId = deployment.id;
    await waitFor(
      'RO’s request to be assembling',
      async () => (await api('RO', 'poc', 'GET', `/requests/${requestId}`)).body.status === 'assembling',
    );
    const eeMember = deployment.members.find((m: { party: string }) => m.party === 'EE');
    assert.ok(eeMember, JSON.stringify(deployment.members));
    await waitFor(
      'EE to hold the deployment',
      async () => (await api('EE', 'poc', 'GET', `/deployments/${deploymentId}`)).status === 200,
    );
    const declined = ok(
      await api('EE', 'poc', 'POST', `/deployments/${deploymentId}/members/${eeMember.responderId}/release`, {
        decision: 'decline',
        reason: 'On national duty that week',
      }),
    );
    assert.equal(declined.mirroredFrom, 'LT');
    await waitFor('LT to re-solve without the declined responder', async () => {
      const members = (await api('LT', 'coordinator', 'GET', `/deployments/${deploymentId}`)).body.members;
      const booked = members.filter(
        (m: { status: string }) => m.status === 'pending' || m.status === 'released',
      );
      return (
        members.some(
          (m: { responderId: string; status: string }) =>
            m.responderId === eeMember.responderId && m.status === 'declined',
        ) && booked.length === 2
      );
    });
  });

  it('EE and PL release their people on their own nodes; RO accepts on its node; the request is deployed', async () => {
    const pending = async () =>
      (
        (await api('LT', 'coordinator', 'GET', `/deployments/${deploymentId}`)).body.members as {
          responderId: string;
          party: string;
          status: string;
        }[]
      ).filter((m) => m.status === 'pending');
    for (const member of await pending()) {
      await waitFor(`${member.party} to hold the member`, async () => {
        const copy = (await api(member.party, 'poc', 'GET', `/deployments/${deploymentId}`)).body;
        return copy?.members?.some(
          (m: { responderId: string; status: string }) =>
            m.responderId === member.responderId && m.status === 'pending',
        );
      });
      ok(
        await api(
          member.party,
          'poc',
          'POST',
          `/deployments/${deploymentId}/members/${member.responderId}/release`,
          {
            decision: 'release',
          },
        ),
      );
    }
    await waitFor(
      'RO to see the team released',
      async () => (await api('RO', 'poc', 'GET', `/deployments/${deploymentId}`)).body?.status === 'released',
    );
    ok(
      await api('RO', 'poc', 'POST', `/deployments/${deploymentId}/acceptance`, {
        personnelStatus: 'Under the CRRT MoU, Annex B',
        access: 'SCADA network, escorted',
        liabilityAgreementSha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      }),
    );
    await waitFor(
      'the request deployed on RO',
      async () => (await api('RO', 'poc', 'GET', `/requests/${requestId}`)).body.status === 'deployed',
    );
    await waitFor(
      'LT to see it deployed',
      async () =>
        (await api('LT', 'coordinator', 'GET', `/requests/${requestId}`)).body.status === 'deployed',
    );
    const hostView = ok(await api('RO', 'poc', 'GET', `/deployments/${deploymentId}`));
    assert.equal(hostView.status, 'accepted');
    const released = hostView.members.filter((m: { status: string }) => m.status === 'released');
    assert.equal(released.length, 2);
    for (const member of released)
      assert.ok(member.name && Object.keys(responders).includes(member.name), member.name);
  });

  it('the responder’s pass, issued by LT, verifies at RO offline with LT’s cached keys', async () => {
    const deployment = ok(await api('RO', 'poc', 'GET', `/deployments/${deploymentId}`));
    const member = deployment.members.find((m: { status: string }) => m.status === 'released');
    let token = '';
    await waitFor('the pass at the member’s home node', async () => {
      const pass = await api(
        member.party,
        'poc',
        'GET',
        `/deployments/${deploymentId}/passes/${member.responderId}`,
      );
      token = pass.body?.pass ?? '';
      return pass.status === 200;
    });
    assert.equal(
      ok(await api(member.party, 'poc', 'GET', `/deployments/${deploymentId}/passes/${member.responderId}`))
        .keyId,
      at('LT').keyId,
    );
    // The issuer and the host go offline: the host checks the pass from what it holds.
    await at('LT').node!.stop();
    await at('RO').node!.stop();
    try {
      // At the door, during the mission.
      const during = new Date(Date.parse(deployment.window.from) + 3_600_000).toISOString();
      const verified = await vytis(['pass', 'verify', token, '--peer', 'LT', '--at', during], at('RO').env);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.match(verified.stdout, /valid/i);
      assert.match(verified.stdout, new RegExp(member.name));
    } finally {
      at('LT').node = await startNode(at('LT').env);
      at('RO').node = await startNode(at('RO').env);
    }
  });

  it('LT’s coordinator stands the mission down: RO’s request and LT’s deployment stand down together', async () => {
    const asked = ok(
      await api('LT', 'coordinator', 'POST', `/requests/${requestId}/stand-down`, {
        reason: 'Gas flows restored',
      }),
    );
    assert.equal(asked.mirroredFrom, 'RO');
    await waitFor(
      'RO’s request to stand down',
      async () => (await api('RO', 'poc', 'GET', `/requests/${requestId}`)).body.status === 'stood_down',
    );
    await waitFor(
      'LT’s deployment to stand down with it',
      async () =>
        (await api('LT', 'coordinator', 'GET', `/deployments/${deploymentId}`)).body.status === 'stood_down',
    );
    const request = ok(await api('RO', 'poc', 'GET', `/requests/${requestId}`));
    assert.ok(
      request.deadlines.some(
        (d: { kind: string; state: string }) => d.kind === 'post_action_report' && d.state === 'running',
      ),
    );
    await waitFor(
      'EE to see the deployment stood down',
      async () =>
        (await api('EE', 'poc', 'GET', `/deployments/${deploymentId}`)).body.status === 'stood_down',
    );
  });

  it('the audit logs of all four nodes verify, and each is cosigned by the others', async () => {
    for (const subject of parties.keys()) {
      for (const witness of parties.keys()) {
        if (witness === subject) continue;
        await waitFor(
          `${witness} to cosign ${subject}'s log`,
          async () => {
            const response = await fetch(`${at(witness).base}/federation/v1/cosignatures?subject=${subject}`);
            const body = (await response.json()) as { items: unknown[] };
            return body.items.length > 0;
          },
          90_000,
        );
      }
    }
    for (const party of parties.values()) {
      await party.node!.stop();
      party.node = undefined;
      const verified = await vytis(['audit', 'verify'], party.env);
      assert.equal(verified.code, 0, `${party.code}: ${verified.stdout}${verified.stderr}`);
      assert.match(verified.stdout, /^ok \d+ events/m);
    }
  });
});
