import { Anchor, Card, Group, Stack, Text, Title } from '@mantine/core';
import type { AssistanceRequest, Nis2ReportKind, Report } from '@vytis/contracts';
import { Link } from 'react-router';
import { useNis2Reports, usePostActionReport } from '../../api/reports.ts';
import {
  ClockLine,
  isNis2,
  NIS2_ORDER,
  NIS2_WHEN,
  ReportState,
  reportName,
  reportPagePath,
} from '../report/shared.tsx';

function ReportRow({ report, yours = false }: { report: Report; yours?: boolean }) {
  return (
    <Stack gap={2} data-testid={`report-row-${report.kind}`}>
      <Group gap="xs" wrap="wrap" justify="space-between">
        <Group gap="xs" wrap="wrap">
          <Anchor component={Link} to={reportPagePath(report.requestId, report.kind)} fw={600}>
            {reportName(report.kind)}
          </Anchor>
          {yours && report.status === 'draft' ? (
            <Text size="xs" c="dimmed" span>
              yours to complete
            </Text>
          ) : null}
        </Group>
        <ReportState report={report} />
      </Group>
      <ClockLine
        clock={report.clock}
        none={isNis2(report.kind) ? `Owed ${NIS2_WHEN[report.kind as Nis2ReportKind]}` : 'No clock runs yet'}
      />
    </Stack>
  );
}

/**
 * The reports drafted from the request's record: the force's post-action report (once the request
 * was submitted) and, for whoever may read them (`can.readNis2`), the entity's NIS2 reports.
 */
export function RequestReports({ r }: { r: AssistanceRequest }) {
  // A mission to report on exists once the council activated the request.
  const activated = r.decision !== null && r.decision.outcome !== 'declined';
  const postAction = usePostActionReport(r.id, activated);
  const nis2 = useNis2Reports(r.id, r.can.readNis2);
  const reports = NIS2_ORDER.flatMap((kind) => nis2.data?.items.filter((x) => x.kind === kind) ?? []);
  if (!postAction.data && reports.length === 0) return null;
  return (
    <Card withBorder data-testid="request-reports">
      <Title order={2} size="h4" mb="xs">
        Reports
      </Title>
      <Stack gap="sm">
        {postAction.data ? <ReportRow report={postAction.data} yours={r.can.editReport} /> : null}
        {reports.length > 0 ? (
          <Stack gap="xs">
            <Group justify="space-between" gap="xs">
              <Text fw={600} size="sm">
                NIS2 reports of the entity
              </Text>
              <Anchor component={Link} to={`/requests/${r.id}/nis2`} size="sm">
                All NIS2 reports
              </Anchor>
            </Group>
            {reports.map((report) => (
              <ReportRow key={report.kind} report={report} />
            ))}
          </Stack>
        ) : null}
      </Stack>
    </Card>
  );
}
