import type { NewRequest, VoteChoice } from '@vytis/contracts';
import { CLI_ACTOR, type Ctx } from '../context.ts';
import type { Services } from '../http/services.ts';

const HOUR = 3_600_000;

interface DemoRequest {
  by: string;
  body: Omit<NewRequest, 'window' | 'awareAt'>;
  /** Hours before now the entity became aware. */
  awareHoursAgo: number;
  submit: boolean;
  votes?: Array<[string, VoteChoice, string?]>;
  afterwards?: Array<'assemble'>;
}

const common = {
  pap: 'amber' as const,
  mode: 'hybrid' as const,
  languages: ['en'],
  clearance: 'restricted' as const,
  legalInstrument: 'crrt-mou' as const,
};

/** Requests in several states, from parties of every kind, one of them an exercise. */
const DEMO_REQUESTS: DemoRequest[] = [
  {
    by: 'lt.poc',
    awareHoursAgo: 5,
    submit: true,
    votes: [
      ['lt.council', 'activate'],
      ['ee.council', 'activate', 'EE can send two forensic analysts'],
      ['pl.council', 'partial', 'remote support only this week'],
    ],
    body: {
      ...common,
      title: '[demo] Ransomware at the national electricity transmission operator',
      affectedEntity: { name: 'Transmission system operator', sector: 'energy', essential: true },
      incidentClass: 'rsit:malicious-code="infected-system"',
      severity: 'critical',
      tlp: 'amber',
      location: { country: 'LT', city: 'Vilnius' },
      needs: [
        { skill: 'digital-forensics', count: 2, minLevel: 2 },
        { skill: 'ot-ics', count: 1, minLevel: 3 },
        { skill: 'malware-analysis', count: 1, minLevel: 2 },
      ],
      impact: 'SCADA servers of two substations encrypted; grid still balanced manually.',
      impactLevel: 'severe',
      crossBorder: { risk: 'possible', countries: ['LV', 'PL'] },
      helpNeeded: 'Forensic triage of the SCADA network and recovery planning.',
      measuresTaken: 'Affected segments isolated; national CSIRT on site; backups verified offline.',
      otherHelp: 'Vendor support contract (response in 5 days).',
      exercise: false,
    },
  },
  {
    by: 'fi.poc',
    awareHoursAgo: 30,
    submit: true,
    votes: [
      ['lt.council', 'activate'],
      ['ee.council', 'activate'],
      ['nl.council', 'activate'],
      ['ro.council', 'activate'],
    ],
    afterwards: ['assemble'],
    body: {
      ...common,
      mode: 'remote',
      title: '[demo] DDoS against public e-services',
      affectedEntity: { name: 'State e-services portal', sector: 'public-administration', essential: true },
      incidentClass: 'rsit:availability="ddos"',
      severity: 'high',
      tlp: 'green',
      location: { country: 'FI', city: 'Helsinki' },
      needs: [{ skill: 'network-forensics', count: 2, minLevel: 2 }],
      impact: 'Tax, health and identity e-services unreachable for hours at a time.',
      impactLevel: 'significant',
      crossBorder: { risk: 'likely', countries: ['EE'] },
      helpNeeded: 'Traffic analysis and mitigation tuning with the upstream providers.',
      measuresTaken: 'Upstream scrubbing enabled; geo-blocking in place.',
      otherHelp: 'Scrubbing contract with the national ISP; no insurance.',
      exercise: false,
    },
  },
  {
    by: 'ua.poc',
    awareHoursAgo: 10,
    submit: true,
    votes: [
      ['lt.council', 'activate'],
      ['pl.council', 'activate'],
      ['ro.council', 'activate'],
    ],
    body: {
      ...common,
      title: '[demo] Wiper at a regional energy distributor',
      affectedEntity: { name: 'Regional distribution company', sector: 'energy', essential: true },
      incidentClass: 'rsit:information-content-security="data-loss"',
      severity: 'critical',
      tlp: 'amber',
      location: { country: 'UA', city: 'Lviv' },
      needs: [
        { skill: 'malware-analysis', count: 2, minLevel: 3 },
        { skill: 'incident-coordination', count: 1, minLevel: 2 },
      ],
      languages: ['en', 'uk'],
      impact: 'Billing and dispatch systems wiped; 200 000 customers served manually.',
      impactLevel: 'severe',
      crossBorder: { risk: 'possible', countries: ['PL', 'MD'] },
      helpNeeded: 'Malware analysis of the wiper and coordination of the recovery.',
      measuresTaken: 'Domain controllers rebuilt from clean media.',
      otherHelp: 'None available in time.',
      exercise: false,
    },
  },
  {
    by: 'cert-eu.poc',
    awareHoursAgo: 2,
    submit: false,
    body: {
      ...common,
      mode: 'remote',
      title: '[demo] Spear-phishing campaign against EU agencies',
      affectedEntity: { name: 'EU agencies', sector: 'public-administration', essential: false },
      incidentClass: 'rsit:fraud="phishing"',
      severity: 'medium',
      tlp: 'green',
      location: { country: 'BE', city: 'Brussels' },
      needs: [{ skill: 'threat-intelligence', count: 1, minLevel: 2 }],
      exercise: false,
    },
  },
  {
    by: 'ee.poc',
    awareHoursAgo: 3,
    submit: true,
    votes: [['ee.council', 'activate']],
    body: {
      ...common,
      title: '[demo] EXERCISE — OT compromise at a water utility (Locked Shields scenario)',
      affectedEntity: { name: 'Tallinn water utility', sector: 'drinking-water', essential: true },
      incidentClass: 'rsit:intrusions="system-compromise"',
      severity: 'high',
      tlp: 'green',
      location: { country: 'EE', city: 'Tallinn' },
      needs: [{ skill: 'ot-ics', count: 2, minLevel: 2 }],
      impact: 'Scenario: dosing controllers manipulated at one treatment plant.',
      impactLevel: 'significant',
      helpNeeded: 'Scenario: OT forensics at the plant.',
      measuresTaken: 'Scenario: plant switched to manual control.',
      otherHelp: 'Scenario: none.',
      exercise: true,
    },
  },
];

/** Loads the demo requests unless some requests exist already; returns a summary line. */
export async function loadDemoRequests(services: Services): Promise<string> {
  const existing = await services.requests.list({ actor: CLI_ACTOR, requestId: null }, { limit: 1 });
  if (existing.total > 0) return `  requests: ${existing.total} already there, none added`;
  const now = services.clock.now().getTime();
  const as = async (name: string): Promise<Ctx> => {
    const actor = await services.identity.actorByName(name);
    if (!actor) throw new Error(`demo user ${name} is missing`);
    return { actor, requestId: null };
  };
  const statuses: string[] = [];
  for (const demo of DEMO_REQUESTS) {
    const ctx = await as(demo.by);
    let request = await services.requests.create(ctx, {
      ...demo.body,
      awareAt: new Date(now - demo.awareHoursAgo * HOUR).toISOString(),
      window: {
        from: new Date(now + 12 * HOUR).toISOString(),
        to: new Date(now + 12 * HOUR + 10 * 24 * HOUR).toISOString(),
      },
    });
    if (demo.submit) request = await services.requests.submit(ctx, request.id, undefined);
    for (const [voter, choice, comment] of demo.votes ?? []) {
      request = await services.council.vote(await as(voter), request.id, {
        vote: choice,
        ...(comment ? { comment } : {}),
      });
    }
    for (const step of demo.afterwards ?? []) {
      request = await services.requests.transition(await as('duty.officer'), request.id, step, {}, undefined);
    }
    statuses.push(`${request.party} ${request.status}${request.exercise ? ' (exercise)' : ''}`);
  }
  return `  requests: ${statuses.length} (${statuses.join(', ')})`;
}
