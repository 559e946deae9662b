// What a serious act on a deployment does and to whom, in the sentence its confirmation shows.
import type { Deployment } from '@vytis/contracts';
import type { DeploymentMember } from '../../api/deployments.ts';
import { fmtDate, humanize } from '../../components/format.ts';

const nameOf = (m: DeploymentMember) => m.name ?? `a responder of ${m.party}`;
const windowOf = (d: Deployment) => `from ${fmtDate(d.window.from)} to ${fmtDate(d.window.to)}`;

export const releaseSentence = (d: Deployment, m: DeploymentMember) =>
  `${m.party} releases ${nameOf(m)} to work on ${d.hostParty}'s incident ${windowOf(d)}; ` +
  `${d.hostParty} must then accept the team.`;

export const declineSentence = (d: Deployment, m: DeploymentMember) =>
  `${m.party} declines to send ${nameOf(m)} to ${d.hostParty}'s incident ${windowOf(d)}. ` +
  'The team is solved again without them, and their place goes to someone else. Your reason is recorded in the request’s timeline and the audit log.';

export const acceptSentence = (d: Deployment) => {
  const team = d.members.filter((m) => m.status === 'released');
  return (
    `${d.hostParty} accepts the team of ${team.length} (${team.map(nameOf).join(', ')}) on its territory ` +
    `${windowOf(d)}. The request is then deployed, its response clock is met, and each member gets a signed pass.`
  );
};

export const moveSentence = (d: Deployment, to: string) =>
  `The team to ${d.hostParty} goes ${humanize(to).toLowerCase()}; everyone following the request sees it.`;

export const standDownSentence = (d: Deployment) =>
  `The team to ${d.hostParty} stands down: the mission ends, the request is stood down (its post-action report clock starts) ` +
  `and every pass of the team (${d.members.filter((m) => m.passId).length}) is revoked.`;

export const revokeSentence = (d: Deployment, m: DeploymentMember) =>
  `The pass of ${nameOf(m)} (${m.party}) for ${d.hostParty} is revoked: hosts checking it from now on see it as revoked. ` +
  'Your reason is recorded in the request’s timeline and the audit log.';

export { nameOf };
