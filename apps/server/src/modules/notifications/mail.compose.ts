import type { NotificationKind } from '@vytis/contracts';
import { KINDS } from './inbox.kinds.ts';

export interface ComposedMail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/**
 * The e-mail for one notification: its kind in words and the link, nothing of the object itself.
 *
 * Why so little: mail leaves the node's control for relays, mailbox providers and phones, and
 * cannot be recalled when a label is narrowed or a person loses access. The objects are labelled
 * under TLP 2.0, and TLP:AMBER and TLP:RED content may not go where its audience is not enforced,
 * so not even a request's or a case's title is put in the mail (a title can itself carry AMBER
 * words). The reader follows the link and logs in, where the access policy decides what they see.
 */
export function composeMail(
  kind: NotificationKind,
  href: string,
  options: { publicUrl: string | null; exercise: boolean },
): ComposedMail {
  const words = KINDS[kind].subject;
  const subject = `${options.exercise ? '[EXERCISE] ' : ''}Vytis: ${words}`;
  const link = options.publicUrl ? `${options.publicUrl.replace(/\/+$/, '')}${href}` : null;
  const where = link ?? `${href} on your Vytis node`;
  const text = [
    options.exercise ? 'EXERCISE - this concerns an exercise, not a real incident.\n' : '',
    `${words}.`,
    '',
    'Log in to Vytis to see it:',
    where,
    '',
    `Kind: ${kind}`,
    'This message says only what happened, not what it is about: the details stay in Vytis,',
    'under their TLP label. You choose what you receive on the Notifications page.',
  ]
    .filter((line, i) => i > 0 || line !== '')
    .join('\n');
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif">',
    options.exercise
      ? '<p><strong>EXERCISE</strong> – this concerns an exercise, not a real incident.</p>'
      : '',
    `<p>${escapeHtml(words)}.</p>`,
    link
      ? `<p><a href="${escapeHtml(link)}">Log in to Vytis to see it</a></p>`
      : `<p>Log in to Vytis to see it: ${escapeHtml(where)}</p>`,
    `<p style="color: #555">Kind: ${escapeHtml(kind)}. This message says only what happened, not what it is about: the details stay in Vytis, under their TLP label. You choose what you receive on the Notifications page.</p>`,
    '</body></html>',
  ].join('');
  return { subject, text, html };
}
