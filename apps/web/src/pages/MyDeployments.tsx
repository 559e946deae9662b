import { Alert, Anchor, Badge, Button, Card, Group, List, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { useMyDeployments } from '../api/deployments.ts';
import { useMe } from '../auth.tsx';
import { ExerciseBadge } from '../components/badges.tsx';
import { CopyTag } from '../components/CopyNotice.tsx';
import { humanize } from '../components/format.ts';
import { Loading, Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';

/**
 * A responder's own deployments (`GET /deployments?mine=true`): first the passes to collect (the
 * node says which member is them, `you`, and whether they may open the pass, `can.pass`), then each
 * deployment with their place on it.
 */
export function MyDeploymentsPage() {
  const me = useMe();
  const mine = useMyDeployments();
  const items = mine.data?.items ?? [];
  const toCollect = items.flatMap((d) => d.members.filter((m) => m.you && m.can.pass).map((m) => ({ d, m })));

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
      <Problem error={mine.error} title="Your deployments cannot be shown" />
      {mine.isPending ? <Loading /> : null}
      {toCollect.length > 0 ? (
        <Card withBorder data-testid="passes-to-collect">
          <Title order={2} size="h4" mb="xs">
            Passes to collect ({toCollect.length})
          </Title>
          <Text size="sm" mb="xs">
            Open your pass, print it or keep it on your phone: the host checks it at the door.
          </Text>
          <List spacing="xs">
            {toCollect.map(({ d, m }) => (
              <List.Item key={`${d.id}-${m.responderId}`}>
                <Anchor component={Link} to={`/deployments/${d.id}/passes/${m.responderId}`}>
                  Your pass for {d.hostParty}
                </Anchor>{' '}
                <Text span size="sm" c="dimmed">
                  valid <Time at={d.window.from} /> – <Time at={d.window.to} />
                </Text>
              </List.Item>
            ))}
          </List>
        </Card>
      ) : null}
      {mine.isSuccess && items.length === 0 ? (
        <Alert color="gray" title="No deployment has you on its team">
          You see your deployments here once {me.party}'s PoC links you to your responder record (on the
          roster) and you are on a team.
        </Alert>
      ) : null}
      {items.map((d) => {
        const member = d.members.find((m) => m.you);
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
                  <CopyTag origin={d.mirroredFrom} />
                </Group>
                <Text size="sm" c="dimmed">
                  {humanize(d.mode)} · <Time at={d.window.from} /> – <Time at={d.window.to} /> ·{' '}
                  {d.members.filter((m) => m.status !== 'replaced').length} members
                </Text>
                {member ? (
                  <Text size="sm" mt={4}>
                    You: <b>{member.name}</b> ({member.party}) ·{' '}
                    {member.status === 'pending' ? `${member.party} has not released you yet` : member.status}
                  </Text>
                ) : (
                  <Text size="sm" c="dimmed" mt={4}>
                    Your place on this team could not be read.
                  </Text>
                )}
                {member && !member.can.pass ? (
                  <Text size="sm" c="dimmed">
                    {['stood_down', 'cancelled'].includes(d.status)
                      ? 'The deployment is over: no pass.'
                      : 'Your pass is issued once you are released and the host accepts the team.'}
                  </Text>
                ) : null}
              </div>
              <Group gap="xs">
                {member?.can.pass ? (
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
