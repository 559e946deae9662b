import { Alert, Anchor, Badge, Button, Card, Group, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { Deployment } from '@vytis/contracts';
import { Link } from 'react-router';
import { api } from '../api/client.ts';
import { useMe } from '../auth.tsx';
import { ExerciseBadge } from '../components/badges.tsx';
import { fmtTime, humanize } from '../components/format.ts';
import { Loading, Problem } from '../components/Problem.tsx';
import { PASS_STATUSES, useOwnMembers } from './Deployment.tsx';

/** A responder's own deployments (`GET /deployments?mine=true`), each with their pass one click away. */
export function MyDeploymentsPage() {
  const me = useMe();
  const mine = useQuery({
    queryKey: ['deployments', 'mine'],
    queryFn: () => api<{ items: Deployment[] }>('/deployments', { query: { mine: true } }),
  });
  const items = mine.data?.items ?? [];
  const { own, pending, error } = useOwnMembers(items);

  return (
    <Stack>
      <div>
        <Title order={1} size="h2">
          My deployments
        </Title>
        <Text size="sm" c="dimmed">
          The deployments you are on as a responder of {me.party}, newest first, with your pass.
        </Text>
      </div>
      <Problem error={mine.error ?? error} title="Your deployments cannot be shown" />
      {mine.isPending ? <Loading /> : null}
      {mine.isSuccess && items.length === 0 ? (
        <Alert color="gray" title="No deployment has you on its team">
          You see your deployments here once {me.party}'s PoC links you to your responder record (on the
          roster) and you are on a team.
        </Alert>
      ) : null}
      {items.map((d) => {
        const member = d.members.find((m) => own.has(m.responderId));
        const passReady = member?.status === 'released' && PASS_STATUSES.includes(d.status);
        return (
          <Card withBorder key={d.id} data-testid="my-deployment">
            <Group justify="space-between" align="flex-start" wrap="wrap">
              <div>
                <Group gap="xs">
                  <Title order={2} size="h4">
                    Deployment to {d.hostParty}
                  </Title>
                  <Badge>{humanize(d.status)}</Badge>
                  <ExerciseBadge exercise={d.exercise} />
                </Group>
                <Text size="sm" c="dimmed">
                  {humanize(d.mode)} · {fmtTime(d.window.from)} – {fmtTime(d.window.to)} ·{' '}
                  {d.members.filter((m) => m.status !== 'replaced').length} members
                </Text>
                {member ? (
                  <Text size="sm" mt={4}>
                    You: <b>{member.name}</b> ({member.party}) ·{' '}
                    {member.status === 'pending' ? `${member.party} has not released you yet` : member.status}
                  </Text>
                ) : pending ? null : (
                  <Text size="sm" c="dimmed" mt={4}>
                    Your place on this team could not be read.
                  </Text>
                )}
                {member && !passReady ? (
                  <Text size="sm" c="dimmed">
                    {['stood_down', 'cancelled'].includes(d.status)
                      ? 'The deployment is over: no pass.'
                      : 'Your pass is issued once you are released and the host accepts the team.'}
                  </Text>
                ) : null}
              </div>
              <Group gap="xs">
                {member && passReady ? (
                  <Button component={Link} to={`/deployments/${d.id}/passes/${member.responderId}`}>
                    Open my pass
                  </Button>
                ) : null}
                <Anchor component={Link} to={`/deployments/${d.id}`} size="sm">
                  The deployment
                </Anchor>
              </Group>
            </Group>
          </Card>
        );
      })}
    </Stack>
  );
}
