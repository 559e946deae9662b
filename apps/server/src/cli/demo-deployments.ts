import type { Responder } from '@vytis/contracts';
import { CLI_ACTOR, type Ctx } from '../context.ts';
import type { Services } from '../http/services.ts';

const MEMBERS = ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'] as const;
const ZONE: Record<string, string> = {
  LT: 'Europe/Vilnius',
  EE: 'Europe/Tallinn',
  HR: 'Europe/Zagreb',
  PL: 'Europe/Warsaw',
  NL: 'Europe/Amsterdam',
  RO: 'Europe/Bucharest',
};
const DAY = 86_400_000;

/** The demo PoC of a party: `lt.poc`, …, `cert-eu.poc` for the EU institutions. */
const pocOf = (party: string) => (party === 'EU' ? 'cert-eu.poc' : `${party.toLowerCase()}.poc`);

/**
 * What the web app's team, pass and roster screens need on top of the demo requests: a weekly
 * duty rotation for each member, and the first request the council activated taken all the way to
 * a deployment at work (remote or on site, as asked) — the optimal team proposed and adopted, each
 * member released by their home PoC, accepted by the host, passes issued. Idempotent: rotations
 * are added only to parties without one, and only a request activated or assembling without a
 * deployment is deployed. Needs the demo users, roster and requests (loadDemo's earlier steps).
 */
export async function loadDemoDeployments(services: Services): Promise<string> {
  const cli: Ctx = { actor: CLI_ACTOR, requestId: null };
  const as = async (name: string): Promise<Ctx> => {
    const actor = await services.identity.actorByName(name);
    if (!actor) throw new Error(`demo user ${name} is missing`);
    return { actor, requestId: null };
  };
  const lines: string[] = [];

  // Weekly standby rotations, started a fortnight ago on a Monday at 08:00 local time.
  const start = new Date(services.clock.now().getTime() - 14 * DAY);
  start.setUTCDate(start.getUTCDate() - ((start.getUTCDay() + 6) % 7));
  const startsOn = start.toISOString().slice(0, 10);
  let rotations = 0;
  for (const party of MEMBERS) {
    const poc = await as(pocOf(party));
    const existing = await services.rotations.list(poc, { party });
    if (existing.items.length > 0) continue;
    const people = (await services.responders.list(poc, { party, limit: 4 })).items as Responder[];
    if (people.length === 0) continue;
    await services.rotations.create(poc, {
      name: `[demo] ${party} weekly standby`,
      party,
      timeZone: ZONE[party]!,
      startsOn,
      shiftStart: '08:00',
      shiftDays: 7,
      shiftHours: 168,
      responderIds: people.map((p) => p.id),
    });
    rotations += 1;
  }
  lines.push(`  duty rotations: ${rotations} added`);

  // The first request the council activated that has no deployment yet (the demo moves one to
  // `assembling` without a team): propose, adopt. One with a deployment under way answers 409.
  const candidates = await services.requests.list(cli, {
    status: ['activated', 'partially_activated', 'assembling'],
    exercise: false,
    limit: 10,
  });
  const coordinator = await as('duty.officer');
  let target: (typeof candidates.items)[number] | undefined;
  let deployment: Awaited<ReturnType<Services['teams']['adopt']>> | undefined;
  for (const request of candidates.items) {
    const proposal = await services.teams.propose(coordinator, request.id);
    if (!proposal.feasible) continue;
    try {
      deployment = await services.teams.adopt(coordinator, request.id, proposal.id);
      target = request;
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== 'conflict') throw error;
    }
  }
  if (!target || !deployment) {
    lines.push('  deployments: none added (no activated request without a deployment)');
    return lines.join('\n');
  }
  // Each home state releases its people; a release never re-solves, so the members stay these.
  for (const member of deployment.members) {
    await services.teams.release(await as(pocOf(member.party)), deployment.id, member.responderId, {
      decision: 'release',
      reason: 'released for the demo mission',
    });
  }
  const host = await as(pocOf(deployment.hostParty));
  await services.teams.accept(host, deployment.id, {
    personnelStatus: '[demo] Under the CRRT MoU: officials of the sending state on mission',
    access: '[demo] SOC network and the affected control centre, escorted',
    liabilityAgreementSha256: 'a3f1c0de'.repeat(8),
  });
  const working = deployment.mode === 'remote' ? 'remote' : 'on_site';
  await services.teams.setStatus(coordinator, deployment.id, working);
  for (const member of deployment.members) await services.teams.pass(host, deployment.id, member.responderId);
  lines.push(
    `  deployments: 1 ${working === 'remote' ? 'working remotely' : 'on site'} for "${target.title}" (${deployment.members.length} responders, passes issued; ` +
      `open it at /deployments/${deployment.id})`,
  );
  return lines.join('\n');
}
