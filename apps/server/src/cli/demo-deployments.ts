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
 * deployment is deployed. Then one released member is linked to their party's demo user
 * (`<party>.analyst`), who can open their own pass (linkDemoResponder). Needs the demo users,
 * roster and requests (loadDemo's earlier steps).
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
  } else {
    // Each home state releases its people; a release never re-solves, so the members stay these.
    for (const member of deployment.members) {
      await services.deployments.release(await as(pocOf(member.party)), deployment.id, member.responderId, {
        decision: 'release',
        reason: 'released for the demo mission',
      });
    }
    const host = await as(pocOf(deployment.hostParty));
    await services.deployments.accept(host, deployment.id, {
      personnelStatus: '[demo] Under the CRRT MoU: officials of the sending state on mission',
      access: '[demo] SOC network and the affected control centre, escorted',
      liabilityAgreementSha256: 'a3f1c0de'.repeat(8),
    });
    const working = deployment.mode === 'remote' ? 'remote' : 'on_site';
    await services.deployments.setStatus(coordinator, deployment.id, working);
    for (const member of deployment.members)
      await services.deployments.pass(host, deployment.id, member.responderId);
    lines.push(
      `  deployments: 1 ${working === 'remote' ? 'working remotely' : 'on site'} for "${target.title}" (${deployment.members.length} responders, passes issued; ` +
        `open it at /deployments/${deployment.id})`,
    );
  }
  lines.push(await linkDemoResponder(services, coordinator, as, deployment?.id));
  return lines.join('\n');
}

/** The demo user who is a party's responder: `lt.analyst`, … (roles analyst and responder). */
const responderUserOf = (party: string) => `${party.toLowerCase()}.analyst`;

/**
 * One released member of the demo deployment becomes a demo user who can log in: their party's
 * `<party>.analyst` is linked to their responder record (by the party's PoC), so that user finds
 * the deployment under "My deployments" and opens their own pass. Idempotent: a member already
 * linked to their party's demo user is only reported; a demo user already linked to anyone is not
 * linked again; a responder linked to someone else is left alone.
 */
async function linkDemoResponder(
  services: Services,
  coordinator: Ctx,
  as: (name: string) => Promise<Ctx>,
  createdId: string | undefined,
): Promise<string> {
  const cli: Ctx = { actor: CLI_ACTOR, requestId: null };
  // The demo deployment: the one just made, or the newest of a `[demo]` request (an earlier run).
  const all = (await services.deployments.list(coordinator, {})).items;
  let demo = all.find((d) => d.id === createdId);
  for (const d of createdId ? [] : all) {
    const request = await services.requests.get(cli, d.requestId);
    if (request.title.startsWith('[demo]')) {
      demo = d;
      break;
    }
  }
  if (!demo) return '  responder pass: no demo deployment, so no demo user linked to a responder';
  const passable = ['accepted', 'en_route', 'remote', 'on_site'].includes(demo.status);
  const released = demo.members.filter(
    (m) => m.status === 'released' && (MEMBERS as readonly string[]).includes(m.party),
  );
  const say = (userName: string, member: { name: string | null; party: string }, how: string) =>
    `  responder pass: ${userName} is ${member.name} (${member.party}) on the demo deployment (${how}); ` +
    `log in as ${userName}, open My deployments${passable ? ', then Open my pass' : ''}`;

  // The demo users of the members' parties, and whom each is linked to already.
  const candidates: Array<{ member: (typeof released)[number]; userId: string; poc: Ctx }> = [];
  const linkedUsers = new Set<string>();
  for (const party of [...new Set(released.map((m) => m.party))]) {
    const user = await services.identity.actorByName(responderUserOf(party));
    if (!user?.id) continue;
    const poc = await as(pocOf(party));
    let cursor: string | undefined;
    do {
      const page = await services.responders.list(poc, { party, limit: 500, ...(cursor ? { cursor } : {}) });
      for (const r of page.items as Responder[]) if (r.userId) linkedUsers.add(r.userId);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    for (const member of released.filter((m) => m.party === party)) {
      candidates.push({ member, userId: user.id, poc });
    }
  }
  for (const { member, userId, poc } of candidates) {
    const responder = (await services.responders.get(poc, member.responderId)) as Responder;
    if (responder.userId === userId) return say(responderUserOf(member.party), member, 'already linked');
  }
  for (const { member, userId, poc } of candidates) {
    if (linkedUsers.has(userId)) continue;
    const responder = (await services.responders.get(poc, member.responderId)) as Responder;
    if (responder.userId) continue;
    await services.responders.update(poc, responder.id, { userId }, responder.version);
    return say(responderUserOf(member.party), member, 'linked now');
  }
  return '  responder pass: no demo user left to link (each is linked to another responder already)';
}
