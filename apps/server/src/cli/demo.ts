import type { Role } from '@vytis/contracts';
import type { Ctx } from '../context.ts';
import type { Services } from '../http/services.ts';
import { hashPassword } from '../platform/secrets.ts';
import { loadDemoCases } from './demo-cases.ts';
import { loadDemoDeployments } from './demo-deployments.ts';
import { loadDemoRequests } from './demo-requests.ts';
import { loadDemoRoster } from './demo-roster.ts';
import { demoHoldings, describeAdded } from './demo-summary.ts';

export const DEMO_PASSWORD = 'vytis-demo-2026';

/** A step of loading the demo as it starts: `done` steps of `total` are behind it. */
export type DemoProgress = (step: { done: number; total: number; what: string }) => void;

const STEPS = [
  'people for every role',
  'responders and duty rotations',
  'requests at every stage',
  'cases and indicators',
  'a deployment and its passes',
] as const;

const MEMBERS = ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'];

/**
 * A demo world on top of the seeded parties: the people who run the force, requests in several
 * states and cases with shared indicators, marked `[demo]`. Idempotent: what already exists is left as it is.
 */
export async function loadDemo(
  services: Services,
  ctx: Ctx,
  onProgress: DemoProgress = () => {},
): Promise<string> {
  const step = (what: (typeof STEPS)[number]) =>
    onProgress({ done: STEPS.indexOf(what), total: STEPS.length, what });
  const people: Array<{ name: string; party: string; roles: Role[] }> = [
    { name: 'admin', party: 'LT', roles: ['admin'] },
    { name: 'duty.officer', party: 'LT', roles: ['coordinator'] },
    { name: 'auditor', party: 'EU', roles: ['auditor'] },
    { name: 'cert-eu.poc', party: 'EU', roles: ['poc'] },
    { name: 'ua.poc', party: 'UA', roles: ['poc'] },
    { name: 'fi.poc', party: 'FI', roles: ['poc'] },
    { name: 'fi.analyst', party: 'FI', roles: ['analyst'] },
    { name: 'eu.analyst', party: 'EU', roles: ['analyst'] },
    ...MEMBERS.flatMap((code) => [
      { name: `${code.toLowerCase()}.poc`, party: code, roles: ['poc'] as Role[] },
      { name: `${code.toLowerCase()}.council`, party: code, roles: ['council'] as Role[] },
      { name: `${code.toLowerCase()}.analyst`, party: code, roles: ['analyst', 'responder'] as Role[] },
    ]),
  ];
  step('people for every role');
  const names = people.map((p) => p.name);
  const before = (await demoHoldings(services, names)).counts;
  const existing = new Set(
    (await services.database.db.selectFrom('users').select('name').where('name', 'in', names).execute()).map(
      (row) => row.name,
    ),
  );
  const missing = people.filter((person) => !existing.has(person.name));
  // The demo password is published: its people may share one salted hash of it.
  const demoHash = missing.length > 0 ? { passwordHash: await hashPassword(DEMO_PASSWORD) } : undefined;
  for (const person of missing) {
    try {
      await services.identity.createUser(ctx, { ...person, password: DEMO_PASSWORD }, demoHash);
    } catch (error) {
      if ((error as { code?: string }).code !== 'conflict') throw error;
    }
  }
  // Each loader adds its part unless it finds that part there already; their own lines are
  // replaced by what the database holds afterwards, which stays true on every run.
  step('responders and duty rotations');
  await loadDemoRoster(services);
  step('requests at every stage');
  await loadDemoRequests(services);
  step('cases and indicators');
  await loadDemoCases(services);
  step('a deployment and its passes');
  const deployed = await loadDemoDeployments(services);
  const holdings = await demoHoldings(services, names);
  const responderPass = deployed.split('\n').filter((line) => line.startsWith('  responder pass:'));
  return [
    `demo world loaded: added ${describeAdded(before, holdings.counts)}`,
    'the demo holds:',
    ...holdings.lines,
    ...responderPass,
    `  every demo user's password: ${DEMO_PASSWORD} (e.g. admin, duty.officer, lt.council, pl.poc, auditor)`,
    '',
  ].join('\n');
}
