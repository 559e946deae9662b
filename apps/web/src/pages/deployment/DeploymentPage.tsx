import { Anchor, Badge, Group, Stack, Text, Title } from '@mantine/core';
import { Link, useParams } from 'react-router';
import { useDeployment } from '../../api/deployments.ts';
import { ExerciseBadge } from '../../components/badges.tsx';
import { CopyNotice } from '../../components/CopyNotice.tsx';
import { humanize } from '../../components/format.ts';
import { Loading, Problem } from '../../components/Problem.tsx';
import { Time } from '../../components/Time.tsx';
import { Acceptance } from './Acceptance.tsx';
import { useRefreshOnLiveEvents } from './live.ts';
import { Members } from './Members.tsx';
import { Moves } from './Moves.tsx';

/** A deployment: its team and their release, the host's acceptance, its moves; actions from `can`. */
export function DeploymentPage() {
  const { id = '' } = useParams();
  const deployment = useDeployment(id);
  useRefreshOnLiveEvents(id, deployment.data?.requestId);

  if (deployment.isPending) return <Loading />;
  if (deployment.error)
    return <Problem error={deployment.error} title="This deployment cannot be shown" page />;
  const d = deployment.data;
  return (
    <Stack>
      <div>
        <Text size="sm" c="dimmed">
          Deployment to {d.hostParty} · {humanize(d.mode)} · <Time at={d.window.from} /> –{' '}
          <Time at={d.window.to} />
        </Text>
        <Group gap="sm">
          <Title order={1} size="h2">
            Team deployment
          </Title>
          <Badge size="lg" data-testid="deployment-status">
            {humanize(d.status)}
          </Badge>
          <ExerciseBadge exercise={d.exercise} />
        </Group>
        <Anchor component={Link} to={`/requests/${d.requestId}`} size="sm">
          The request
        </Anchor>
      </div>
      <CopyNotice
        origin={d.mirroredFrom}
        what="deployment"
        actions="Releases, declines, the host's acceptance and other actions"
        forwarded={d.forwarded}
      />
      <Members d={d} />
      <Acceptance d={d} />
      <Moves d={d} />
    </Stack>
  );
}
