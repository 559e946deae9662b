// What the report pages and the request page's Reports section share: each report's name and when
// it is due, its state, and its clock in the viewer's zone.
import { Badge, Group, Text } from '@mantine/core';
import { type Deadline, type Nis2ReportKind, type Report, TLPS, type Tlp } from '@vytis/contracts';
import { Countdown } from '../../components/Countdown.tsx';
import { Time } from '../../components/Time.tsx';

/** NIS2 art. 23(4): the three reports every significant incident owes first, then the two on occasion. */
export const NIS2_ORDER: Nis2ReportKind[] = [
  'nis2_early_warning',
  'nis2_notification',
  'nis2_final_report',
  'nis2_intermediate',
  'nis2_progress',
];

export const NIS2_NAMES: Record<Nis2ReportKind, string> = {
  nis2_early_warning: 'Early warning',
  nis2_notification: 'Incident notification',
  nis2_final_report: 'Final report',
  nis2_intermediate: 'Intermediate report',
  nis2_progress: 'Progress report',
};

/** When each is owed, in NIS2's words. */
export const NIS2_WHEN: Record<Nis2ReportKind, string> = {
  nis2_early_warning: 'within 24 hours of becoming aware',
  nis2_notification: 'within 72 hours of becoming aware',
  nis2_final_report: 'within one month of the incident notification',
  nis2_intermediate: 'when the CSIRT or authority asks',
  nis2_progress: 'if the incident is still ongoing when the final report is due',
};

export const isNis2 = (kind: Report['kind']): kind is Nis2ReportKind => kind !== 'post_action';

export const reportName = (kind: Report['kind']) => (isNis2(kind) ? NIS2_NAMES[kind] : 'Post-action report');

/** The request's page of the report: the NIS2 page opens on the report's own tab. */
export const reportPagePath = (requestId: string, kind: Report['kind']) =>
  isNis2(kind) ? `/requests/${requestId}/nis2?kind=${kind}` : `/requests/${requestId}/report`;

/** TLP labels from the widest sharing to the narrowest. */
export const tlpRank = (tlp: Tlp) => TLPS.indexOf(tlp);

/** Draft, or submitted (filed, for NIS2) and when. */
export function ReportState({ report }: { report: Report }) {
  if (report.status === 'draft')
    return (
      <Badge color="gray" variant="light" data-testid="report-state">
        Draft
      </Badge>
    );
  const at = isNis2(report.kind)
    ? (report.filedAt ?? report.signature?.submittedAt)
    : report.signature?.submittedAt;
  return (
    <Group gap={6} wrap="wrap">
      <Badge color="teal" variant="light" data-testid="report-state">
        Submitted
      </Badge>
      <Text size="sm" span>
        <Time at={at ?? report.updatedAt} />
        {report.submittedTo ? <> to {report.submittedTo}</> : null}
      </Text>
    </Group>
  );
}

const STATE_COLOURS: Record<Deadline['state'], string> = {
  running: 'blue',
  warned: 'orange',
  overdue: 'red',
  met: 'teal',
  cancelled: 'gray',
};

/** The report's clock: due when, and how it stands (met, late, overdue, time left). */
export function ClockLine({ clock, none }: { clock: Deadline | null; none?: string }) {
  if (!clock)
    return (
      <Text size="sm" c="dimmed">
        {none ?? 'No clock'}
      </Text>
    );
  const done = clock.state === 'met' || clock.state === 'cancelled';
  return (
    <Group gap={6} wrap="wrap" data-testid="report-clock">
      <Text size="sm" span>
        Due <Time at={clock.dueAt} />
      </Text>
      {clock.state === 'running' ? null : (
        <Badge color={clock.late ? 'orange' : STATE_COLOURS[clock.state]} variant="light">
          {clock.state === 'met' ? (clock.late ? 'met late' : 'met') : clock.state}
        </Badge>
      )}
      {done ? (
        clock.metAt ? (
          <Text size="xs" c="dimmed" span>
            at <Time at={clock.metAt} />
          </Text>
        ) : null
      ) : (
        <Text size="sm" span>
          <Countdown dueAt={clock.dueAt} />
        </Text>
      )}
    </Group>
  );
}
