import { NOTIFICATION_KINDS, type NotificationKind, type Role } from '@vytis/contracts';

interface KindInfo {
  /** The kind in words, for the settings. */
  label: string;
  /** E-mailed unless the person says otherwise: only acts with a clock, and clocks run out. */
  emailByDefault: boolean;
  /** The mail's subject: the kind in words, never the object's own words (see mail.compose.ts). */
  subject: string;
  /** Whom it can be addressed to (the dispatcher's rules): the settings show a person these only. */
  roles: readonly Role[] | 'anyone';
}

export const KINDS: Record<NotificationKind, KindInfo> = {
  'vote.opened': {
    label: "A council vote for your party's seat opens",
    emailByDefault: true,
    subject: 'A council vote waits for your party',
    roles: ['council'],
  },
  'release.asked': {
    label: 'Your party is asked to release its responders',
    emailByDefault: true,
    subject: 'A release of your responders is asked',
    roles: ['poc'],
  },
  'acceptance.asked': {
    label: 'Your party is asked to accept a team as host',
    emailByDefault: true,
    subject: 'A team waits for your acceptance as host',
    roles: ['poc'],
  },
  'decision.made': {
    label: "The council decided on your party's request",
    emailByDefault: false,
    subject: "The council decided on your party's request",
    roles: ['poc'],
  },
  'request.submitted': {
    label: 'A request was submitted for triage',
    emailByDefault: false,
    subject: 'A request was submitted for triage',
    roles: ['coordinator'],
  },
  'clock.warning': {
    label: 'A clock on something you act on is about to run out',
    emailByDefault: false,
    subject: 'A clock is about to run out',
    roles: ['council', 'poc', 'coordinator'],
  },
  'clock.overdue': {
    label: 'A clock on something you act on ran out',
    emailByDefault: true,
    subject: 'A clock ran out',
    roles: ['council', 'poc', 'coordinator'],
  },
  'task.assigned': {
    label: 'A case task is assigned to you',
    emailByDefault: false,
    subject: 'A case task is assigned to you',
    roles: 'anyone',
  },
  'pass.issued': {
    label: 'A responder pass is issued to you',
    emailByDefault: false,
    subject: 'A responder pass is issued to you',
    roles: ['responder'],
  },
};

export const isKind = (kind: string): kind is NotificationKind =>
  (NOTIFICATION_KINDS as readonly string[]).includes(kind);

/** Everything addressed to a person shows in the app unless they say otherwise. */
export const defaultSetting = (kind: NotificationKind) => ({
  inApp: true,
  email: KINDS[kind].emailByDefault,
});

/** Words for a clock's kind (`deadlines.kind`). */
export function clockWords(kind: unknown): string {
  const words: Record<string, string> = {
    decision: 'council decision',
    answer: 'answer',
    response: 'response',
    post_action_report: 'post-action report',
    nis2_early_warning: 'NIS2 early warning',
    nis2_notification: 'NIS2 notification',
    nis2_final_report: 'NIS2 final report',
  };
  return typeof kind === 'string' ? (words[kind] ?? kind.replaceAll('_', ' ')) : 'a';
}

/** The kinds that can be addressed to someone with these roles. */
export const kindsFor = (roles: readonly Role[]) =>
  NOTIFICATION_KINDS.filter((kind) => {
    const addressed = KINDS[kind].roles;
    return addressed === 'anyone' || addressed.some((role) => roles.includes(role));
  });
