import { Alert, Anchor, Badge, Button, Card, Group, List, Stack, Table, Text, Title } from '@mantine/core';
import type { AssistanceRequest, TeamProposal } from '@vytis/contracts';
import { Link, useNavigate } from 'react-router';
import { useAdoptTeam, useProposeTeam, useRequestDeployments, useTeamProposals } from '../../api/requests.ts';
import { humanize } from '../../components/format.ts';
import { Problem } from '../../components/Problem.tsx';
import { Time } from '../../components/Time.tsx';

/** The team: the deployment once adopted; for whom `can.proposeTeam`, the explained proposal to adopt. */
export function RequestTeam({ r }: { r: AssistanceRequest }) {
  const navigate = useNavigate();
  const proposals = useTeamProposals(r);
  const deployments = useRequestDeployments(r);
  const [current, ...earlier] = deployments.data?.items ?? [];
  const propose = useProposeTeam(r);
  const adopt = useAdoptTeam(r);
  const latest = r.can.proposeTeam ? proposals.data?.items[0] : undefined;
  if (!current && !r.can.proposeTeam) return null;
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          Team
        </Title>
        <Group gap="xs">
          {current ? (
            <Button component={Link} to={`/deployments/${current.id}`} variant="light">
              Open the deployment
            </Button>
          ) : null}
          {r.can.proposeTeam ? (
            <Button
              onClick={() => propose.mutate()}
              loading={propose.isPending}
              variant={latest ? 'default' : 'filled'}
            >
              {latest ? 'Solve again' : 'Propose a team'}
            </Button>
          ) : null}
        </Group>
      </Group>
      <Problem error={propose.error ?? adopt.error ?? proposals.error ?? deployments.error} />
      {current ? (
        <Text size="sm" data-testid="request-deployment">
          Deployment to {current.hostParty}: {humanize(current.status)} ·{' '}
          {current.members.filter((m) => m.status !== 'replaced').length} members · {humanize(current.mode)}
        </Text>
      ) : null}
      {earlier.length ? (
        <Text size="sm" c="dimmed">
          Earlier:{' '}
          {earlier.map((d, i) => (
            <span key={d.id}>
              {i ? ', ' : ''}
              <Anchor component={Link} to={`/deployments/${d.id}`}>
                {humanize(d.status)}, <Time at={d.createdAt} />
              </Anchor>
            </span>
          ))}
        </Text>
      ) : null}
      {latest ? (
        <ProposalView
          p={latest}
          onAdopt={
            latest.status === 'proposed' && latest.feasible
              ? () =>
                  adopt.mutate(latest.id, {
                    onSuccess: (deployment) => navigate(`/deployments/${deployment.id}`),
                  })
              : undefined
          }
          adopting={adopt.isPending}
        />
      ) : null}
      {r.can.proposeTeam && !latest && !proposals.isPending ? (
        <Text c="dimmed">No team proposed yet.</Text>
      ) : null}
    </Card>
  );
}

export function ProposalView({
  p,
  onAdopt,
  adopting,
}: {
  p: TeamProposal;
  onAdopt?: (() => void) | undefined;
  adopting?: boolean;
}) {
  return (
    <Stack gap="sm" data-testid="proposal">
      <Group gap="xs">
        <Badge color={p.feasible ? 'teal' : 'red'}>
          {p.feasible ? 'covers every need' : 'cannot cover every need'}
        </Badge>
        <Badge variant="outline">{p.status}</Badge>
        <Text size="sm" c="dimmed">
          {p.objective.size} people, all can start within {p.objective.startHours.toFixed(1)} h ·{' '}
          {p.stats.candidates} candidates · solved in {Math.round(p.stats.solveMs)} ms ·{' '}
          <Time at={p.createdAt} />
        </Text>
      </Group>
      {p.unmet.length ? (
        <Alert color="orange" title="Unmet needs">
          {p.unmet.map((u) => `${u.skill} (level ≥ ${u.minLevel}): ${u.covered} of ${u.needed}`).join('; ')}
        </Alert>
      ) : null}
      <Table>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Member</Table.Th>
            <Table.Th>Party</Table.Th>
            <Table.Th>Covers</Table.Th>
            <Table.Th>Why</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {p.members.map((m) => (
            <Table.Tr key={m.responderId}>
              <Table.Td>{m.name}</Table.Td>
              <Table.Td>{m.party}</Table.Td>
              <Table.Td>{m.covers.join(', ')}</Table.Td>
              <Table.Td>
                <List size="xs">
                  {m.reasons.map((reason) => (
                    <List.Item key={reason}>{reason}</List.Item>
                  ))}
                </List>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {p.excluded.length ? (
        <div>
          <Text fw={600} size="sm">
            Nearest not chosen
          </Text>
          <List size="sm">
            {p.excluded.map((x) => (
              <List.Item key={x.responderId}>
                {x.name}: {x.reason}
              </List.Item>
            ))}
          </List>
        </div>
      ) : null}
      {onAdopt ? (
        <Button w="fit-content" onClick={onAdopt} loading={adopting ?? false}>
          Adopt this team
        </Button>
      ) : null}
    </Stack>
  );
}
