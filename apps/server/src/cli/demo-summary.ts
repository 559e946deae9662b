import { PARTY_STATUSES } from '@vytis/contracts';
import { sql } from 'kysely';
import { CLI_ACTOR } from '../context.ts';
import type { Services } from '../http/services.ts';

/** Everything the demo marks is titled `[demo]`; its users and responders are known by name. */
const DEMO_TITLE = '[demo]%';

export interface DemoCounts {
  users: number;
  responders: number;
  rotations: number;
  requests: number;
  cases: number;
  indicators: number;
  deployments: number;
  passes: number;
}

/**
 * What the demo holds, read back from the database after loading (not what the loaders meant to
 * do): the summary stays true on a second run, and when a step found data there and added none.
 * A read-only look at the tables, for the command line only.
 */
export async function demoHoldings(services: Services, userNames: readonly string[]) {
  const { db } = services.database;
  const count = sql<number>`count(*)::int`;
  const [parties, users, responders, rotations, requests, cases] = await Promise.all([
    services.parties.list({ actor: CLI_ACTOR, requestId: null }, {}),
    db
      .selectFrom('users')
      .select(['name', 'roles'])
      .where('name', 'in', [...userNames])
      .execute(),
    db
      .selectFrom('responders')
      .select(['party_code', count.as('n')])
      .where('name', 'like', '% (__-___)')
      .groupBy('party_code')
      .orderBy('party_code')
      .execute(),
    db
      .selectFrom('duty_rotations')
      .select(['party_code', 'responder_ids'])
      .where('name', 'like', DEMO_TITLE)
      .orderBy('party_code')
      .orderBy('name')
      .execute(),
    db
      .selectFrom('requests')
      .select(['id', 'party_code', 'status', 'exercise', 'title'])
      .where('title', 'like', DEMO_TITLE)
      // Loaded in one instant on a test clock: party and title give one order everywhere.
      .orderBy('party_code')
      .orderBy('title')
      .execute(),
    db
      .selectFrom('cases')
      .select(['id', 'owner_party', 'tlp', 'exercise'])
      .where('title', 'like', DEMO_TITLE)
      .orderBy('owner_party')
      .orderBy('title')
      .execute(),
  ]);
  const caseIds = cases.map((c) => c.id);
  const requestIds = requests.map((r) => r.id);
  const none = ['00000000-0000-0000-0000-000000000000'];
  const [indicators, tasks, timeline, notes, correlated, deployments] = await Promise.all([
    db
      .selectFrom('observables')
      .select(count.as('n'))
      .where('case_id', 'in', caseIds.length ? caseIds : none)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('case_tasks')
      .select(['status', count.as('n')])
      .where('case_id', 'in', caseIds.length ? caseIds : none)
      .groupBy('status')
      .execute(),
    db
      .selectFrom('case_timeline')
      .select(count.as('n'))
      .where('case_id', 'in', caseIds.length ? caseIds : none)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('case_notes')
      .select(count.as('n'))
      .where('case_id', 'in', caseIds.length ? caseIds : none)
      .executeTakeFirstOrThrow(),
    // An indicator met in more than one demo case: the correlation the demo is there to show.
    db
      .selectFrom('observables as o')
      .innerJoin('cases as c', 'c.id', 'o.case_id')
      .select([
        'o.value',
        sql<string[]>`array_agg(distinct c.owner_party order by c.owner_party)`.as('parties'),
        sql<number>`count(distinct o.case_id)::int`.as('n'),
      ])
      .where('o.case_id', 'in', caseIds.length ? caseIds : none)
      .groupBy('o.value')
      .having(sql`count(distinct o.case_id)`, '>', 1)
      .orderBy('o.value')
      .execute(),
    db
      .selectFrom('deployments as d')
      .innerJoin('requests as r', 'r.id', 'd.request_id')
      .select(['d.id', 'd.status', 'd.mode', 'r.title'])
      .where('d.request_id', 'in', requestIds.length ? requestIds : none)
      .orderBy('d.created_at')
      .execute(),
  ]);
  const deploymentIds = deployments.map((d) => d.id);
  const members = await db
    .selectFrom('deployment_members as m')
    .leftJoin('pass_revocations as v', 'v.pass_id', 'm.pass_id')
    .select(['m.deployment_id', 'm.status', 'm.pass_id', 'v.pass_id as revoked'])
    .where('m.deployment_id', 'in', deploymentIds.length ? deploymentIds : none)
    .execute();

  const roles = new Map<string, number>();
  for (const user of users) for (const role of user.roles) roles.set(role, (roles.get(role) ?? 0) + 1);
  const tasksTotal = tasks.reduce((sum, t) => sum + t.n, 0);
  const tasksDone = tasks.find((t) => t.status === 'done')?.n ?? 0;
  const respondersTotal = responders.reduce((sum, r) => sum + r.n, 0);
  const passesIssued = members.filter((m) => m.pass_id).length;
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

  const lines = [
    `  parties: ${parties.items.length} (${PARTY_STATUSES.map((s) => `${parties.items.filter((p) => p.status === s).length} ${s}`).join(', ')})`,
    `  users: ${users.length} (${[...roles].map(([role, n]) => `${n} ${role}`).join(', ')}; the <party>.analyst users are responders too)`,
    `  responders: ${respondersTotal} (${responders.map((r) => `${r.party_code} ${r.n}`).join(', ')})`,
    `  duty rotations: ${rotations.length} weekly standby (${rotations.map((r) => `${r.party_code} ${(r.responder_ids as string[]).length} responders`).join(', ')})`,
    `  requests: ${requests.length} (${requests.map((r) => `${r.party_code} ${r.status}${r.exercise ? ' (exercise)' : ''}`).join(', ')})`,
    `  cases: ${cases.length} (${cases.map((c) => `${c.owner_party} ${c.tlp.toUpperCase()}${c.exercise ? ' (exercise)' : ''}`).join(', ')}): ` +
      `${plural(indicators.n, 'indicator')}, ${plural(tasksTotal, 'task')} (${tasksDone} done), ` +
      `${plural(timeline.n, 'timeline entry', 'timeline entries')}, ${plural(notes.n, 'note')}`,
    `  correlations: ${
      correlated.length === 0
        ? 'none'
        : correlated.map((c) => `${c.value} in ${c.n} cases (${c.parties.join(', ')})`).join('; ')
    }`,
    `  deployments: ${deployments.length}${deployments
      .map((d) => {
        const own = members.filter((m) => m.deployment_id === d.id);
        const released = own.filter((m) => m.status === 'released').length;
        const issued = own.filter((m) => m.pass_id);
        const revoked = issued.filter((m) => m.revoked).length;
        return ` (${d.status}, a ${d.mode} mission, for "${d.title}": ${plural(released, 'responder')} released, ${plural(issued.length, 'pass', 'passes')} issued, ${revoked} revoked; open it at /deployments/${d.id})`;
      })
      .join(',')}`,
  ];
  const counts: DemoCounts = {
    users: users.length,
    responders: respondersTotal,
    rotations: rotations.length,
    requests: requests.length,
    cases: cases.length,
    indicators: indicators.n,
    deployments: deployments.length,
    passes: passesIssued,
  };
  return { lines, counts };
}

/** `26 users, 120 responders, …` of what grew between two counts; `nothing` when none did. */
export function describeAdded(before: DemoCounts, after: DemoCounts): string {
  const names: Record<keyof DemoCounts, [string, string]> = {
    users: ['user', 'users'],
    responders: ['responder', 'responders'],
    rotations: ['duty rotation', 'duty rotations'],
    requests: ['request', 'requests'],
    cases: ['case', 'cases'],
    indicators: ['indicator', 'indicators'],
    deployments: ['deployment', 'deployments'],
    passes: ['pass', 'passes'],
  };
  const added = (Object.keys(names) as (keyof DemoCounts)[])
    .map((key) => [after[key] - before[key], names[key]] as const)
    .filter(([n]) => n > 0)
    .map(([n, [one, many]]) => `${n} ${n === 1 ? one : many}`);
  return added.length ? added.join(', ') : 'nothing (it was all there)';
}
