/**
 * A minimal iCalendar (RFC 5545) writer for duty feeds: one VCALENDAR of VEVENTs. Hand-written
 * because it needs only four things a library would add weight for: CRLF line ends, TEXT escaping
 * (§3.3.11), folding lines longer than 75 octets (§3.1), and times. Times are written in UTC
 * (`DTSTART:20270328T050000Z`, §3.3.5 form #2), which every calendar shows in its user's own zone
 * and which is exact across daylight-saving changes without shipping VTIMEZONE rules; the local
 * time in the rotation's zone is given in the description.
 */
export interface CalendarEvent {
  uid: string;
  /** When this version of the event was made (RFC 5545 DTSTAMP). */
  stamp: Date;
  start: Date;
  end: Date;
  summary: string;
  description?: string;
  categories?: string[];
  /** CONFIRMED or TENTATIVE */
  status?: 'CONFIRMED' | 'TENTATIVE';
}

export interface Calendar {
  name: string;
  events: readonly CalendarEvent[];
}

/** TEXT value escaping: backslash, semicolon, comma and line breaks. */
export function escapeText(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n');
}

/** `20270328T050000Z` */
export function utcStamp(at: Date): string {
  return at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** Folds a content line into lines of at most 75 octets, never splitting a UTF-8 character. */
export function fold(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char, 'utf8');
    // Continuation lines start with a space, which counts towards their 75 octets.
    const limit = parts.length === 0 ? 75 : 74;
    if (octets + size > limit) {
      parts.push(current);
      current = '';
      octets = 0;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

export function renderCalendar(calendar: Calendar): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Vytis//Duty roster//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${escapeText(calendar.name)}`,
  ];
  for (const event of calendar.events) {
    lines.push(
      'BEGIN:VEVENT',
      `UID:${escapeText(event.uid)}`,
      `DTSTAMP:${utcStamp(event.stamp)}`,
      `DTSTART:${utcStamp(event.start)}`,
      `DTEND:${utcStamp(event.end)}`,
      `SUMMARY:${escapeText(event.summary)}`,
    );
    if (event.description) lines.push(`DESCRIPTION:${escapeText(event.description)}`);
    if (event.categories?.length) lines.push(`CATEGORIES:${event.categories.map(escapeText).join(',')}`);
    if (event.status) lines.push(`STATUS:${event.status}`);
    lines.push('TRANSP:OPAQUE', 'END:VEVENT');
  }
  lines.push('END:VCALENDAR');
  return `${lines.map(fold).join('\r\n')}\r\n`;
}
