import { Alert, Anchor, Badge, Grid, Group, List, Stack, Text, Title } from '@mantine/core';
import type { AssistanceRequest } from '@vytis/contracts';
import { Link, useParams } from 'react-router';
import { useRequest } from '../../api/requests.ts';
import { ExerciseBadge, PapBadge, SeverityBadge, StatusBadge, TlpBadge } from '../../components/badges.tsx';
import { CopyNotice } from '../../components/CopyNotice.tsx';
import { Loading, Problem } from '../../components/Problem.tsx';
import { Time } from '../../components/Time.tsx';
import { RequestActions } from './Actions.tsx';
import { RequestAssessment } from './Assessment.tsx';
import { RequestCases } from './Cases.tsx';
import { RequestCouncil } from './Council.tsx';
import { RequestDeadlines } from './Deadlines.tsx';
import { RequestFacts } from './Facts.tsx';
import { RequestReports } from './Reports.tsx';
import { RequestTeam } from './Team.tsx';
import { RequestTimeline } from './Timeline.tsx';

export function RequestPage() {
  const { id = '' } = useParams();
  const request = useRequest(id);
  if (request.isPending) return <Loading />;
  if (request.error) return <Problem error={request.error} title="This request cannot be shown" page />;
  return <RequestView r={request.data} />;
}

/** One request: what it asks, who decides, the team, the cases, the clocks; acts from `r.can` only. */
function RequestView({ r }: { r: AssistanceRequest }) {
  return (
    <Stack>
      <Group justify="space-between" align="flex-start" wrap="wrap">
        <div style={{ minWidth: 0, flex: 1 }}>
          <Text size="sm" c="dimmed">
            Request from {r.party} · filed <Time at={r.createdAt} /> by {r.createdBy}
          </Text>
          <Title order={1} size="h2" className="wrap-anywhere" data-testid="request-title">
            {r.title}
          </Title>
          <Group gap="xs" mt={4}>
            <StatusBadge status={r.status} />
            <SeverityBadge severity={r.severity} />
            <TlpBadge tlp={r.tlp} />
            <PapBadge pap={r.pap} />
            <ExerciseBadge exercise={r.exercise} />
            <Badge variant="outline">Priority {r.priority.score}</Badge>
          </Group>
        </div>
        <RequestActions r={r} />
      </Group>
      <CopyNotice
        origin={r.mirroredFrom}
        what="request"
        actions="Votes and other actions"
        forwarded={r.forwarded}
      />
      {r.status === 'draft' && r.missingForSubmission.length > 0 ? (
        <Alert color="orange" title="Not ready to submit" data-testid="missing-for-submission">
          <Text size="sm">
            The Cyber Solidarity Act's template still needs
            {r.can.edit ? (
              <>
                {' '}
                (
                <Anchor component={Link} to={`/requests/${r.id}/edit`} size="sm">
                  edit the draft
                </Anchor>{' '}
                to fill them in; it can be submitted then)
              </>
            ) : null}
            :
          </Text>
          <List size="sm">
            {r.missingForSubmission.map((p) => (
              <List.Item key={p.field}>
                {p.field.replace(/^\/?body\//, '')}: {p.message}
              </List.Item>
            ))}
          </List>
        </Alert>
      ) : null}
      <Grid>
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Stack>
            <RequestFacts r={r} />
            <RequestCouncil r={r} />
            <RequestTeam r={r} />
            <RequestCases r={r} />
            <RequestTimeline id={r.id} />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <Stack>
            <RequestDeadlines r={r} />
            <RequestReports r={r} />
            <RequestAssessment r={r} />
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
