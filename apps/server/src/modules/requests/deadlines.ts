import crypto from 'node:crypto';
import type { Deadline, DeadlineKind, DeadlineState, FrameworkRules } from '@vytis/contracts';
import type { Insertable, Selectable } from 'kysely';
import type { DeadlinesTable } from '../../platform/db/schema.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The force's own clocks: they stop mattering when the request is withdrawn or declined. */
export const FORCE_CLOCKS: readonly DeadlineKind[] = ['decision', 'answer', 'response', 'post_action_report'];
export const NIS2_CLOCKS: readonly DeadlineKind[] = [
  'nis2_early_warning',
  'nis2_notification',
  'nis2_final_report',
];

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

/** Clocks that start when a request is submitted: the council's, and the entity's NIS2 reports. */
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
    clock(requestId, 'nis2_final_report', awareAt, a + clocks.nis2FinalReportDays * DAY),
  ];
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
