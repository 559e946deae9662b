import {
  Anchor,
  Badge,
  Button,
  Card,
  FileInput,
  Grid,
  Group,
  List,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import type { VoteChoice, WorkItem, WorkKind } from '@vytis/contracts';
import { useState } from 'react';
import { Link } from 'react-router';
import { useLive } from '../api/live.tsx';
import { useParties } from '../api/queries.ts';
import { useOpenRequests, useRequestStats } from '../api/requests.ts';
import { useMyWork, useWorkAct } from '../api/work.ts';
import { ExerciseBadge, StatusBadge } from '../components/badges.tsx';
import { ConfirmAction } from '../components/Confirm.tsx';
import { Countdown } from '../components/Countdown.tsx';
import { EuropeMap, type MapMarker } from '../components/EuropeMap.tsx';
import { humanize, viewerZone } from '../components/format.ts';
import { Problem } from '../components/Problem.tsx';
import { Time } from '../components/Time.tsx';

export function HomePage() {
  const parties = useParties();
  const open = useOpenRequests();
  const stats = useRequestStats();
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
          My work
        </Title>
        <Text size="sm" c="dimmed">
          Times in your zone, {viewerZone()}
        </Text>
      </Group>
      <MyWork />
      <Title order={2} size="h3" mt="md">
        Situation
      </Title>
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
        <Text size="sm" c="grape">
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
              <Title order={3} size="h4" mb="xs">
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
              <Title order={3} size="h4" mb="xs">
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
                <Title order={3} size="h4">
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
                        <Time at={e.at} />
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
      <Text fz={28} fw={700} c={alert && value ? 'red' : undefined}>
        {value ?? '…'}
      </Text>
    </Paper>
  );
}

const KIND_LABELS: Record<WorkKind, string> = {
  vote: 'Vote',
  release: 'Release',
  accept: 'Acceptance',
  task: 'Task',
  clock: 'Clock',
  report: 'Report',
  draft: 'Draft',
  team: 'Team',
  pass: 'Pass',
};

const KIND_PLURALS: Record<WorkKind, [string, string]> = {
  vote: ['vote to cast', 'votes to cast'],
  release: ['release to decide', 'releases to decide'],
  accept: ['team to accept', 'teams to accept'],
  task: ['task', 'tasks'],
  clock: ['clock running out', 'clocks running out'],
  report: ['report to write', 'reports to write'],
  draft: ['draft to submit', 'drafts to submit'],
  team: ['team to propose', 'teams to propose'],
  pass: ['pass to collect', 'passes to collect'],
};

/** What waits for the signed-in person, oldest deadline first, with the act itself where it is one click. */
function MyWork() {
  const work = useMyWork();
  const list = work.data;
  if (work.error) return <Problem error={work.error} />;
  if (!list) return <Text c="dimmed">Looking for what waits for you…</Text>;
  if (list.items.length === 0) {
    return (
      <Paper withBorder p="md" data-testid="my-work-empty">
        <Text>Nothing waits for you.</Text>
      </Paper>
    );
  }
  const summary = (Object.entries(list.counts) as [WorkKind, number][])
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${KIND_PLURALS[kind][n === 1 ? 0 : 1]}`)
    .join(', ');
  return (
    <Stack gap="sm">
      <Text size="sm" data-testid="my-work-summary">
        {summary}
        {list.total > list.items.length ? ` (the first ${list.items.length} of ${list.total} shown)` : ''}.
      </Text>
      <Stack gap="sm" component="ul" p={0} m={0} style={{ listStyle: 'none' }} aria-label="My work">
        {list.items.map((item) => (
          <WorkCard key={item.id} item={item} />
        ))}
      </Stack>
    </Stack>
  );
}

function WorkCard({ item }: { item: WorkItem }) {
  return (
    <Card withBorder component="li" data-testid="work-item" data-kind={item.kind} data-item={item.id}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
            <Badge variant="outline" style={{ flexShrink: 0 }}>
              {KIND_LABELS[item.kind]}
            </Badge>
            <Anchor component={Link} to={item.href} fw={600} className="wrap-anywhere">
              {item.title}
            </Anchor>
            <ExerciseBadge exercise={item.exercise} />
          </Group>
          <Text size="sm">
            {item.dueAt ? (
              <>
                Due <Countdown dueAt={item.dueAt} />
              </>
            ) : (
              <Text span c="dimmed" size="sm">
                Since <Time at={item.since} />
              </Text>
            )}
          </Text>
        </Group>
        <Text size="sm" className="wrap-anywhere">
          {item.detail}
        </Text>
        <WorkAct item={item} />
      </Stack>
    </Card>
  );
}

function WorkAct({ item }: { item: WorkItem }) {
  switch (item.kind) {
    case 'vote':
      return <VoteActs item={item} />;
    case 'release':
      return <ReleaseActs item={item} />;
    case 'accept':
      return <AcceptAct item={item} />;
    default:
      return null;
  }
}

const VOTE_ACTS: { vote: VoteChoice; label: string; effect: string; danger?: boolean }[] = [
  { vote: 'activate', label: 'Activate', effect: 'to activate the force' },
  { vote: 'partial', label: 'Partially activate', effect: 'to activate the force in part' },
  { vote: 'decline', label: 'Decline', effect: 'to decline the request', danger: true },
  { vote: 'abstain', label: 'Abstain', effect: 'to abstain' },
];

function VoteActs({ item }: { item: WorkItem }) {
  const act = useWorkAct(item);
  return (
    <Group gap="xs">
      {VOTE_ACTS.map((choice) => (
        <ConfirmAction
          key={choice.vote}
          label={choice.label}
          title={`${choice.label}: cast your party's vote?`}
          consequence={`Your party's vote ${choice.effect} on “${item.title}” of ${item.party} is cast now and counts toward the council's decision. It is recorded in the request's timeline and the audit log.`}
          confirmLabel={`Vote: ${choice.label.toLowerCase()}`}
          reason="optional"
          reasonLabel="Comment"
          danger={choice.danger ?? false}
          buttonProps={{
            size: 'xs',
            variant: choice.danger ? 'light' : 'default',
            'aria-label': `${choice.label}: ${item.title}`,
          }}
          onConfirm={(comment) =>
            act.mutateAsync({ kind: 'vote', vote: { vote: choice.vote, ...(comment ? { comment } : {}) } })
          }
        />
      ))}
    </Group>
  );
}

function ReleaseActs({ item }: { item: WorkItem }) {
  const act = useWorkAct(item);
  const decide = (decision: 'release' | 'decline') => (reason: string | undefined) =>
    act.mutateAsync({ kind: 'release', release: { decision, ...(reason ? { reason } : {}) } });
  return (
    <Group gap="xs">
      <ConfirmAction
        label="Release"
        title="Release this responder for the mission?"
        consequence={`${item.title}: your state releases this responder to the team. The host accepts the team once every member is released.`}
        reason="optional"
        buttonProps={{ size: 'xs', 'aria-label': `Release: ${item.title}` }}
        onConfirm={decide('release')}
      />
      <ConfirmAction
        label="Decline"
        title="Decline to release this responder?"
        consequence={`${item.title}: your state does not release this responder; the team is solved again without them. Say why: the reason stays with the deployment and the audit log.`}
        reason="required"
        danger
        buttonProps={{ size: 'xs', 'aria-label': `Decline: ${item.title}` }}
        onConfirm={decide('decline')}
      />
    </Group>
  );
}

async function sha256Hex(file: File): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The host's acceptance needs what the law asks for (status, access, the liability agreement's hash), then a confirmation. */
function AcceptAct({ item }: { item: WorkItem }) {
  const act = useWorkAct(item);
  const [open, setOpen] = useState(false);
  const [personnelStatus, setPersonnelStatus] = useState(
    'Under the CRRT MoU, Art. 7: officials of the sending state',
  );
  const [access, setAccess] = useState('');
  const [hash, setHash] = useState('');
  const hashValid = /^[0-9a-f]{64}$/.test(hash);
  const ready = personnelStatus.trim() !== '' && access.trim() !== '' && hashValid;
  if (!open) {
    return (
      <Group>
        <Button size="xs" onClick={() => setOpen(true)} aria-label={`Accept the team… for ${item.title}`}>
          Accept the team…
        </Button>
      </Group>
    );
  }
  return (
    <Stack gap="xs" maw={640}>
      <Textarea
        label="Status of the personnel"
        required
        autosize
        minRows={1}
        value={personnelStatus}
        onChange={(e) => setPersonnelStatus(e.currentTarget.value)}
      />
      <Textarea
        label="System and premises access granted"
        required
        autosize
        minRows={1}
        value={access}
        onChange={(e) => setAccess(e.currentTarget.value)}
      />
      <FileInput
        label="Signed liability agreement"
        description="Only its SHA-256 is recorded; the file stays with you"
        placeholder="Choose the signed PDF"
        clearable
        onChange={(file) => {
          if (file) void sha256Hex(file).then(setHash);
        }}
      />
      <TextInput
        label="SHA-256 of the liability agreement"
        required
        value={hash}
        onChange={(e) => setHash(e.currentTarget.value.trim().toLowerCase())}
        error={hash !== '' && !hashValid ? 'must be 64 hexadecimal characters (a SHA-256)' : undefined}
        classNames={{ input: 'mono' }}
      />
      <Group gap="xs">
        <ConfirmAction
          label="Accept the team"
          title="Accept the team on your territory?"
          consequence={`The team for “${item.title}” is accepted on ${item.party}'s territory: the request is deployed, the responders' passes can be issued and the response clock is met. Recorded in the timeline and the audit log.`}
          reason="optional"
          reasonLabel="Note"
          disabled={!ready}
          buttonProps={{ size: 'xs', 'aria-label': `Accept the team: ${item.title}` }}
          onConfirm={(note) =>
            act.mutateAsync({
              kind: 'accept',
              acceptance: {
                personnelStatus,
                access,
                liabilityAgreementSha256: hash,
                ...(note ? { note } : {}),
              },
            })
          }
        />
        <Button size="xs" variant="default" onClick={() => setOpen(false)}>
          Not now
        </Button>
      </Group>
    </Stack>
  );
}
