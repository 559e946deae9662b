import type { Eligibility, Framework, PartyStatus } from '@vytis/contracts';

/**
 * Who may ask the force for help, decided once, at submission, from the requester's status on that
 * UTC day and the framework version then in force. Stored with the request: a later status change
 * or a new framework version does not rewrite it.
 */
export function assessEligibility(
  party: string,
  status: PartyStatus | null,
  day: string,
  framework: Framework,
): Eligibility {
  const { eligibility, council } = framework.rules;
  const base = { partyStatus: status, day, frameworkVersion: framework.version };
  const rulesRef = `framework version ${framework.version}`;
  if (status === null) {
    return {
      ...base,
      eligible: false,
      requires: null,
      reasons: [`${party} has no status with the force on ${day}`],
    };
  }
  const statusOn = `${party} is ${article(status)} ${label(status)} on ${day}`;
  if (eligibility.eligible.includes(status)) {
    return {
      ...base,
      eligible: true,
      requires: council.defaultRule,
      reasons: [
        statusOn,
        `under ${rulesRef}, ${label(status)}s may request assistance`,
        `the council decides by ${council.defaultRule}`,
      ],
    };
  }
  if (eligibility.unanimousCouncilRequired.includes(status)) {
    return {
      ...base,
      eligible: true,
      requires: council.partnerRule,
      reasons: [
        statusOn,
        `under ${rulesRef}, ${label(status)}s may be helped only by a ${council.partnerRule === 'unanimity' ? 'unanimous' : 'majority'} council decision`,
      ],
    };
  }
  return {
    ...base,
    eligible: false,
    requires: null,
    reasons: [
      statusOn,
      `under ${rulesRef}, ${label(status)}s are not eligible for assistance from the force`,
    ],
  };
}

const label = (status: PartyStatus) =>
  status === 'eu_institution' ? 'EU institution' : status === 'external' ? 'external state' : status;
const article = (status: PartyStatus) => (/^[aeiou]/i.test(label(status)) ? 'an' : 'a');
