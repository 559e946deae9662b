import type { FrameworkRules } from '@vytis/contracts';

/** Version 1 of the mandate's rules, loaded on a node's first start. */
export const DEFAULT_FRAMEWORK_RULES: FrameworkRules = {
  name: 'PESCO Cyber Rapid Response Teams — Memorandum of Understanding (operational rules)',
  leadParticipant: 'LT',
  rotatingParticipants: {
    '2024': 'EE',
    '2025': 'NL',
    '2026': 'PL',
    '2027': 'RO',
    '2028': 'HR',
    '2029': 'EE',
    '2030': 'NL',
  },
  eligibility: {
    eligible: ['member', 'observer', 'eu_institution'],
    unanimousCouncilRequired: ['partner'],
    notEligible: ['external'],
  },
  council: { voters: ['member'], defaultRule: 'majority', partnerRule: 'unanimity' },
  clocks: {
    decisionHours: 24,
    answerHours: 48,
    responseHours: 72,
    postActionReportDays: 30,
    nis2EarlyWarningHours: 24,
    nis2NotificationHours: 72,
    nis2FinalReportMonths: 1,
  },
  deployments: { minTeamSize: 2, maxTeamSize: 12, maxPerParty: 4 },
  restrictions: {
    HR: { noMilitaryTo: ['partner', 'external'] },
    RO: { maxPerMission: 2 },
  },
};

export const DEFAULT_FRAMEWORK_EFFECTIVE_FROM = '2018-03-06T00:00:00.000Z';
