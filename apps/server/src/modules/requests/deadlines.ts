import crypto from 'node:crypto';
import type { Deadline, DeadlineKind, DeadlineState, FrameworkRules } from '@vytis/contracts';
import type { Insertable, Selectable } from 'kysely';
import { DateTime, IANAZone } from 'luxon';
import type { DeadlinesTable } from '../../platform/db/schema.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * The force's own clocks: they stop mattering when the request is withdrawn or closed. The NIS2
 * clocks are the entity's duties and never stop with the request.
 */
export const FORCE_CLOCKS: readonly DeadlineKind[] = ['decision', 'answer', 'response', 'post_action_report'];

/**
 * Warn when a fifth of the time is left, but never less than an hour nor more than three days
 * ahead: a 24 h clock warns at 19 h12, a month-long one three days before.
 */
export function warnAt(start: Date, due: Date): Date {
  const lead = Math.min(Math.max((due.getTime() - start.getTime()) / 5, HOUR), 3 * DAY);
  return new Date(due.getTime() - lead);
}

function clock(
  requestId: string,
  kind: DeadlineKind,
  start: Date,
  dueMs: number,
): Insertable<DeadlinesTable> {
  const due = new Date(dueMs);
  return {
    id: crypto.randomUUID(),
    request_id: requestId,
    kind,
    due_at: due,
    warn_at: warnAt(start, due),
    state: 'running',
  };
}

/**
 * Clocks that start when a request is submitted: the council's, and the two NIS2 reports that run
 * from the entity's awareness (Directive (EU) 2022/2555, art. 23(4)(a) and (b)). The final report
 * runs from the incident notification's filing, so it starts only then (finalReportClock).
 */
export function submissionClocks(
  requestId: string,
  submittedAt: Date,
  awareAt: Date,
  clocks: FrameworkRules['clocks'],
): Insertable<DeadlinesTable>[] {
  const s = submittedAt.getTime();
  const a = awareAt.getTime();
  return [
    clock(requestId, 'decision', submittedAt, s + clocks.decisionHours * HOUR),
    clock(requestId, 'answer', submittedAt, s + clocks.answerHours * HOUR),
    clock(requestId, 'response', submittedAt, s + clocks.responseHours * HOUR),
    clock(requestId, 'nis2_early_warning', awareAt, a + clocks.nis2EarlyWarningHours * HOUR),
    clock(requestId, 'nis2_notification', awareAt, a + clocks.nis2NotificationHours * HOUR),
  ];
}

/**
 * NIS2's final report: "not later than one month after the submission of the incident
 * notification" (art. 23(4)(d)). A calendar month on the entity's own wall clock: the same local
 * time on the same day of the next month, the month's last day when it has no such day (31 January
 * → 28 or 29 February), and across a daylight-saving change the local hour holds, not the UTC one.
 */
export function finalReportClock(
  requestId: string,
  notifiedAt: Date,
  timeZone: string,
  clocks: FrameworkRules['clocks'],
) {
  const due = DateTime.fromJSDate(notifiedAt, { zone: timeZone }).plus({
    months: clocks.nis2FinalReportMonths,
  });
  return clock(requestId, 'nis2_final_report', notifiedAt, due.toMillis());
}

/** An IANA zone that this runtime knows (not a fixed offset: those have no daylight saving). */
export function isIanaZone(zone: string): boolean {
  return zone.includes('/') && IANAZone.isValidZone(zone);
}

/**
 * The zone of each state's capital, for counting NIS2's month when the PoC names none: where the
 * entity's CSIRT or authority receives its reports. A state spread over several zones (Spain,
 * Portugal, France) is counted at its capital unless the PoC says otherwise.
 */
const CAPITAL_ZONES: Readonly<Record<string, string>> = {
  AD: 'Europe/Andorra',
  AL: 'Europe/Tirane',
  AM: 'Asia/Yerevan',
  AT: 'Europe/Vienna',
  AZ: 'Asia/Baku',
  BA: 'Europe/Sarajevo',
  BE: 'Europe/Brussels',
  BG: 'Europe/Sofia',
  CH: 'Europe/Zurich',
  CY: 'Asia/Nicosia',
  CZ: 'Europe/Prague',
  DE: 'Europe/Berlin',
  DK: 'Europe/Copenhagen',
  EE: 'Europe/Tallinn',
  ES: 'Europe/Madrid',
  EU: 'Europe/Brussels',
  FI: 'Europe/Helsinki',
  FR: 'Europe/Paris',
  GB: 'Europe/London',
  GE: 'Asia/Tbilisi',
  GR: 'Europe/Athens',
  HR: 'Europe/Zagreb',
  HU: 'Europe/Budapest',
  IE: 'Europe/Dublin',
  IS: 'Atlantic/Reykjavik',
  IT: 'Europe/Rome',
  LI: 'Europe/Vaduz',
  LT: 'Europe/Vilnius',
  LU: 'Europe/Luxembourg',
  LV: 'Europe/Riga',
  MC: 'Europe/Monaco',
  MD: 'Europe/Chisinau',
  ME: 'Europe/Podgorica',
  MK: 'Europe/Skopje',
  MT: 'Europe/Malta',
  NL: 'Europe/Amsterdam',
  NO: 'Europe/Oslo',
  PL: 'Europe/Warsaw',
  PT: 'Europe/Lisbon',
  RO: 'Europe/Bucharest',
  RS: 'Europe/Belgrade',
  SE: 'Europe/Stockholm',
  SI: 'Europe/Ljubljana',
  SK: 'Europe/Bratislava',
  SM: 'Europe/San_Marino',
  TR: 'Europe/Istanbul',
  UA: 'Europe/Kyiv',
  VA: 'Europe/Vatican',
  XK: 'Europe/Belgrade',
};

export function capitalZone(country: string): string | undefined {
  return CAPITAL_ZONES[country];
}

export function reportClock(requestId: string, stoodDownAt: Date, clocks: FrameworkRules['clocks']) {
  return clock(
    requestId,
    'post_action_report',
    stoodDownAt,
    stoodDownAt.getTime() + clocks.postActionReportDays * DAY,
  );
}

export function presentDeadline(row: Selectable<DeadlinesTable>): Deadline {
  return {
    kind: row.kind as DeadlineKind,
    dueAt: row.due_at.toISOString(),
    warnAt: row.warn_at.toISOString(),
    state: row.state as DeadlineState,
    warnedAt: row.warned_at?.toISOString() ?? null,
    escalatedAt: row.escalated_at?.toISOString() ?? null,
    metAt: row.met_at?.toISOString() ?? null,
    late: row.met_at !== null && row.met_at > row.due_at,
  };
}
