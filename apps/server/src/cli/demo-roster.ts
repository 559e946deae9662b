import type { NewResponder, Skill } from '@vytis/contracts';
import { CLI_ACTOR, type Ctx } from '../context.ts';
import type { Services } from '../http/services.ts';
import { CAPITALS } from '../platform/geo.ts';

const MEMBERS = ['LT', 'EE', 'HR', 'PL', 'NL', 'RO'] as const;
const LANGUAGE: Record<string, string> = { LT: 'lt', EE: 'et', HR: 'hr', PL: 'pl', NL: 'nl', RO: 'ro' };
const ZONE: Record<string, string> = {
  LT: 'Europe/Vilnius',
  EE: 'Europe/Tallinn',
  HR: 'Europe/Zagreb',
  PL: 'Europe/Warsaw',
  NL: 'Europe/Amsterdam',
  RO: 'Europe/Bucharest',
};
const SKILL_CYCLE: Skill[] = [
  'digital-forensics',
  'malware-analysis',
  'network-forensics',
  'incident-coordination',
  'threat-intelligence',
  'ot-ics',
  'cloud-security',
  'vulnerability-assessment',
  'legal',
  'crisis-communication',
  'penetration-testing',
];
const GIVEN = [
  'Ana',
  'Jonas',
  'Marta',
  'Ivo',
  'Kasia',
  'Pieter',
  'Ioana',
  'Tomas',
  'Eva',
  'Luka',
  'Sanne',
  'Mihai',
];
const FAMILY = [
  'Kazlauskas',
  'Tamm',
  'Horvat',
  'Nowak',
  'de Vries',
  'Popescu',
  'Petraitis',
  'Kask',
  'Kovač',
  'Wiśniewska',
];

/**
 * A deterministic standby roster over the six members: varied skills and levels, readiness,
 * clearances and affiliations, based in each member's capital. For the demo and the tests.
 */
export function sampleRoster(count: number): (NewResponder & { party: string })[] {
  return Array.from({ length: count }, (_, i) => {
    const party = MEMBERS[i % MEMBERS.length]!;
    const capital = CAPITALS[party]!;
    const main = SKILL_CYCLE[i % 7]!;
    const second = SKILL_CYCLE[(i * 3 + 1) % SKILL_CYCLE.length]!;
    return {
      party,
      name: `${GIVEN[i % GIVEN.length]} ${FAMILY[(i * 7) % FAMILY.length]} (${party}-${String(i).padStart(3, '0')})`,
      affiliation: i % 4 === 0 ? 'military' : 'civilian',
      skills: [
        { skill: main, level: ((i % 3) + 1) as 1 | 2 | 3 },
        ...(second !== main ? [{ skill: second, level: 1 as const }] : []),
      ],
      languages: ['en', LANGUAGE[party]!],
      clearance: i % 5 === 0 ? 'none' : 'confidential',
      base: {
        city: capital.city,
        country: party,
        lat: capital.lat,
        lon: capital.lon,
        timeZone: ZONE[party]!,
      },
      readiness: { remoteHours: 1 + (i % 12), onsiteHours: 12 + (i % 24) },
      travelDocumentsUntil: '2030-01-01',
    };
  });
}

/** Registers the demo roster unless responders exist already; returns a summary line. */
export async function loadDemoRoster(services: Services): Promise<string> {
  const cli: Ctx = { actor: CLI_ACTOR, requestId: null };
  const existing = await services.responders.list(cli, { limit: 1 });
  if (existing.total > 0) return `  responders: ${existing.total} already there, none added`;
  const people = sampleRoster(120);
  for (const person of people) await services.responders.create(cli, person);
  return `  responders: ${people.length} over ${MEMBERS.join(', ')}`;
}
