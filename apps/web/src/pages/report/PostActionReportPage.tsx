// The force's post-action report on a request (Cyber Solidarity Act): drafted from the record,
// edited by a coordinator, submitted once (signed, frozen).
import { Anchor, Stack, Text, Title } from '@mantine/core';
import { Link, useParams } from 'react-router';
import { usePostActionReport } from '../../api/reports.ts';
import { useRequest } from '../../api/requests.ts';
import { Loading, Problem } from '../../components/Problem.tsx';
import { ReportEditor } from './ReportEditor.tsx';

export function PostActionReportPage() {
  const { id = '' } = useParams();
  const report = usePostActionReport(id);
  const request = useRequest(id);
  if (report.isPending) return <Loading label="Drafting the report" />;
  if (report.isError) return <Problem error={report.error} title="This report cannot be shown" page />;
  return (
    <Stack>
      <div>
        <Anchor component={Link} to={`/requests/${id}`} size="sm" className="wrap-anywhere">
          ← {request.data?.title ?? 'The request'}
        </Anchor>
        <Title order={1} size="h2" className="wrap-anywhere" data-testid="report-title">
          {report.data.title}
        </Title>
        <Text size="sm" c="dimmed">
          The force's report on the mission, for the affected party and the participating states. Drafted from
          the request's record; a coordinator completes it and submits it once.
        </Text>
      </div>
      <ReportEditor report={report.data} />
    </Stack>
  );
}
