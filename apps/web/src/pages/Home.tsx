import {
  Anchor,
  Badge,
  Card,
  Grid,
  Group,
  List,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api } from '../api/client.ts';
import { useLive } from '../api/live.tsx';
import { OPEN_STATUSES, type RequestList, useParties } from '../api/queries.ts';
import { ExerciseBadge, StatusBadge } from '../components/badges.tsx';
import { Countdown } from '../components/Countdown.tsx';
import { EuropeMap, type MapMarker } from '../components/EuropeMap.tsx';
import { fmtTime, humanize, viewerZone } from '../components/format.ts';
import { Problem } from '../components/Problem.tsx';

interface Stats {
  real: { total: number; byStatus: Record<string, number>; overdueDeadlines: number };
  exercise: { total: number; byStatus: Record<string, number>; overdueDeadlines: number };
}

export function HomePage() {
  const parties = useParties();
  const open = useQuery({
    queryKey: ['requests', 'open'],
    queryFn: () => api<RequestList>('/requests', { query: { status: OPEN_STATUSES, limit: 200 } }),
  });
  const stats = useQuery({ queryKey: ['stats'], queryFn: () => api<Stats>('/requests/stats') });
  const live = useLive();

  const markers: MapMarker[] = (open.data?.items ?? [])
    .filter((r) => r.status !== 'stood_down')
    .map((r) => ({
      id: r.id,
      party: r.party,
      label: r.title,
      kind: r.status === 'deployed' || r.status === 'assembling' ? 'deployment' : 'request',
      href: `/requests/${r.id}`,
    }));
  const clocks = (open.data?.items ?? [])
    .filter((r) => r.nextDeadline)
    .sort((a, b) => a.nextDeadline!.dueAt.localeCompare(b.nextDeadline!.dueAt))
    .slice(0, 8);

  const real = stats.data?.real;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1} size="h2">
          Situation
        </Title>
        <Text size="sm" c="dimmed">
          Times in your zone, {viewerZone()}
        </Text>
      </Group>
      <Problem error={parties.error ?? open.error ?? stats.error} />
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <Figure label="Open requests" value={open.data?.total} />
        <Figure
          label="Awaiting the council"
          value={(real?.byStatus.voting ?? 0) + (real?.byStatus.submitted ?? 0)}
        />
        <Figure label="Deployed" value={real ? (real.byStatus.deployed ?? 0) : undefined} />
        <Figure label="Overdue clocks" value={real?.overdueDeadlines} alert />
      </SimpleGrid>
      {stats.data && stats.data.exercise.total > 0 ? (
        <Text size="sm" c="grape.8">
          Exercises are counted apart: {stats.data.exercise.total} exercise request(s).
        </Text>
      ) : null}
      <Grid>
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Stack>
            <Paper withBorder p="sm">
              <EuropeMap parties={parties.data?.items ?? []} markers={markers} />
            </Paper>
            <Card withBorder>
              <Title order={2} size="h4" mb="xs">
                Open requests
              </Title>
              <Table>
                <Table.Tbody>
                  {(open.data?.items ?? []).map((r) => (
                    <Table.Tr key={r.id}>
                      <Table.Td w={60}>{r.priority}</Table.Td>
                      <Table.Td className="wrap-anywhere">
                        <Anchor component={Link} to={`/requests/${r.id}`}>
                          {r.title}
                        </Anchor>{' '}
                        <ExerciseBadge exercise={r.exercise} />
                      </Table.Td>
                      <Table.Td>{r.party}</Table.Td>
                      <Table.Td>
                        <StatusBadge status={r.status} />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              {open.data?.items.length === 0 ? <Text c="dimmed">No open request.</Text> : null}
            </Card>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <Stack>
            <Card withBorder>
              <Title order={2} size="h4" mb="xs">
                Clocks that run out next
              </Title>
              {clocks.length === 0 ? (
                <Text c="dimmed">No clock is running.</Text>
              ) : (
                <Table striped>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Request</Table.Th>
                      <Table.Th>Clock</Table.Th>
                      <Table.Th>Due</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {clocks.map((r) => (
                      <Table.Tr key={r.id}>
                        <Table.Td className="wrap-anywhere">
                          <Anchor component={Link} to={`/requests/${r.id}`}>
                            {r.title}
                          </Anchor>{' '}
                          <ExerciseBadge exercise={r.exercise} />
                        </Table.Td>
                        <Table.Td>{humanize(r.nextDeadline!.kind)}</Table.Td>
                        <Table.Td>
                          <Countdown dueAt={r.nextDeadline!.dueAt} />
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
            </Card>
            <Card withBorder>
              <Group justify="space-between" mb="xs">
                <Title order={2} size="h4">
                  Recent changes
                </Title>
                <Badge color={live.connected ? 'green' : 'gray'} variant="dot">
                  {live.connected ? 'live' : 'connecting'}
                </Badge>
              </Group>
              {live.events.length === 0 ? (
                <Text c="dimmed">
                  Nothing yet since you opened Vytis; changes appear here as they happen.
                </Text>
              ) : (
                <List spacing={4} size="sm" aria-live="polite" data-testid="recent-changes">
                  {live.events.slice(0, 12).map((e) => (
                    <List.Item key={e.seq} className="wrap-anywhere">
                      <Text span size="xs" c="dimmed">
                        {fmtTime(e.at)}
                      </Text>{' '}
                      <b>{humanize(e.type.replace(/^request\./, ''))}</b>
                      {typeof e.data.title === 'string' && e.requestId ? (
                        <>
                          {' — '}
                          <Anchor component={Link} to={`/requests/${e.requestId}`}>
                            {e.data.title}
                          </Anchor>
                        </>
                      ) : null}
                      {e.exercise ? ' (exercise)' : ''}
                    </List.Item>
                  ))}
                </List>
              )}
            </Card>
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}

function Figure({ label, value, alert }: { label: string; value: number | undefined; alert?: boolean }) {
  return (
    <Paper withBorder p="sm">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fz={28} fw={700} c={alert && value ? 'red.8' : undefined}>
        {value ?? '…'}
      </Text>
    </Paper>
  );
}
