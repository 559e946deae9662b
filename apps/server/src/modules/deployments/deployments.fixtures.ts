import type { NewResponder } from '@vytis/contracts';
import { json, type TestNode, type TestUser } from '../../test/harness.ts';

const CAPITAL: Record<string, { city: string; lat: number; lon: number; timeZone: string }> = {
  LT: { city: 'Vilnius', lat: 54.69, lon: 25.28, timeZone: 'Europe/Vilnius' },
  EE: { city: 'Tallinn', lat: 59.44, lon: 24.75, timeZone: 'Europe/Tallinn' },
};

/** Registers a forensic analyst (level 3, cleared, English) of `poc`'s party; returns their id. */
export async function registerAnalyst(node: TestNode, poc: TestUser, party: string, name: string) {
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
  };
  const res = await node.request({
    method: 'POST',
    url: '/api/v1/responders',
    headers: poc.headers,
    payload: body,
  });
  if (res.statusCode !== 201) throw new Error(`registering ${name}: ${res.statusCode} ${res.body}`);
  return json(res).id as string;
}

/**
 * Takes an activated (or assembling) request through a team to the host's acceptance: proposes,
 * adopts, has each home PoC release their people and the host's PoC accept. Returns the deployment.
 */
export async function deployTeam(
  node: TestNode,
  requestId: string,
  by: { coordinator: TestUser; host: TestUser; pocs: Record<string, TestUser> },
) {
  const post = async (user: TestUser, url: string, payload: object = {}) => {
    const res = await node.request({ method: 'POST', url: `/api/v1${url}`, headers: user.headers, payload });
    if (res.statusCode >= 300) throw new Error(`POST ${url}: ${res.statusCode} ${res.body}`);
    return json(res);
  };
  const proposal = await post(by.coordinator, `/requests/${requestId}/team-proposals`);
  let deployment = await post(by.coordinator, `/requests/${requestId}/team-proposals/${proposal.id}/adopt`);
  for (const member of deployment.members) {
    deployment = await post(
      by.pocs[member.party]!,
      `/deployments/${deployment.id}/members/${member.responderId}/release`,
      {
        decision: 'release',
      },
    );
  }
  return post(by.host, `/deployments/${deployment.id}/acceptance`, {
    personnelStatus: 'Under the CRRT MoU, Annex B',
    access: 'SOC network, escorted',
    liabilityAgreementSha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  });
}
